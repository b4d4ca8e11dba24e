import { randomBytes } from 'node:crypto';

let lastMs = -1;
let lastRand: Buffer = Buffer.alloc(10);

/**
 * A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits. Ids made
 * in the same millisecond by this process stay ordered by incrementing the
 * random part, so sorting ids sorts alarms by creation time.
 */
export function uuidv7(nowMs: number = Date.now()): string {
  let rand: Buffer;
  if (nowMs <= lastMs) {
    nowMs = lastMs;
    rand = Buffer.from(lastRand);
    for (let i = rand.length - 1; i >= 0; i--) {
      rand[i] = (rand[i]! + 1) & 0xff;
      if (rand[i] !== 0) break;
    }
  } else {
    rand = randomBytes(10);
  }
  lastMs = nowMs;
  lastRand = rand;
  const bytes = Buffer.alloc(16);
  bytes.writeUIntBE(nowMs, 0, 6);
  rand.copy(bytes, 6);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The creation time (Unix ms) of a UUIDv7; null for anything else. */
export function uuidv7Time(id: string): number | null {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(id)) return null;
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
