import { describe, expect, it } from 'vitest';
import {
  encodeFrame,
  type SeeedDropReason,
  type SeeedFrame,
  SeeedFramer,
} from '../../../gateway/devices/protocols/seeed/index.js';
import { concat, fromHex, REPORT_FRAMES, toHex } from '../../fixtures/protocols/seeed-frames.js';

const HEART_72 = fromHex('53 59 85 02 00 01 48 7C 54 43');
const IN_BED = fromHex('53 59 84 01 00 01 01 33 54 43');
const FALL = fromHex('53 59 83 01 00 01 01 32 54 43');
const FIRMWARE = fromHex('53 59 02 A4 00 0F 47 36 30 46 44 31 53 59 76 30 31 30 31 30 34 11 54 43');

const heart72: SeeedFrame = { control: 0x85, command: 0x02, data: Uint8Array.of(0x48) };
const inBed: SeeedFrame = { control: 0x84, command: 0x01, data: Uint8Array.of(0x01) };
const fall: SeeedFrame = { control: 0x83, command: 0x01, data: Uint8Array.of(0x01) };

/** A framer that also records what it reported through onDrop. */
function recordingFramer(maxDataLength?: number) {
  const drops: { reason: SeeedDropReason; hex: string }[] = [];
  const framer = new SeeedFramer({
    ...(maxDataLength === undefined ? {} : { maxDataLength }),
    onDrop: (reason, bytes) => drops.push({ reason, hex: toHex(bytes) }),
  });
  return { framer, drops };
}

function pushEach(framer: SeeedFramer, chunks: Uint8Array[]): SeeedFrame[] {
  return chunks.flatMap((chunk) => framer.push(chunk));
}

/** Deterministic PRNG (mulberry32) so the stream test is reproducible. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('SeeedFramer: whole and split frames', () => {
  it('returns a frame pushed whole', () => {
    const framer = new SeeedFramer();
    expect(framer.push(HEART_72)).toEqual([heart72]);
    expect(framer.framesDecoded).toBe(1);
    expect(framer.hasPartial()).toBe(false);
  });

  it('returns a frame split in two at every possible point, exactly once', () => {
    for (let cut = 1; cut < HEART_72.length; cut++) {
      const framer = new SeeedFramer();
      expect(framer.push(HEART_72.subarray(0, cut)), `cut ${cut}`).toEqual([]);
      expect(framer.push(HEART_72.subarray(cut)), `cut ${cut}`).toEqual([heart72]);
      expect(framer.noiseBytes).toBe(0);
    }
  });

  it('assembles frames pushed one byte at a time, each on its last byte', () => {
    const framer = new SeeedFramer();
    const stream = concat(HEART_72, FIRMWARE, IN_BED);
    const completedAt: number[] = [];
    const frames: SeeedFrame[] = [];
    stream.forEach((byte, i) => {
      const out = framer.push(Uint8Array.of(byte));
      if (out.length > 0) completedAt.push(i);
      frames.push(...out);
    });
    expect(completedAt).toEqual([9, 9 + 24, 9 + 24 + 10]);
    expect(frames).toEqual([
      heart72,
      { control: 0x02, command: 0xa4, data: new TextEncoder().encode('G60FD1SYv010104') },
      inBed,
    ]);
    expect(framer.dropped).toEqual({ checksum: 0, tail: 0, length: 0, timeout: 0 });
  });

  it('returns several frames from one chunk, in order', () => {
    const framer = new SeeedFramer();
    expect(framer.push(concat(FALL, HEART_72, IN_BED))).toEqual([fall, heart72, inBed]);
    expect(framer.framesDecoded).toBe(3);
  });

  it('handles every golden frame, including a checksum byte equal to 0x53', () => {
    const framer = new SeeedFramer();
    const frames = framer.push(concat(...REPORT_FRAMES.map((f) => fromHex(f.hex))));
    expect(frames.map((f) => toHex(encodeFrame(f)))).toEqual(REPORT_FRAMES.map((f) => f.hex));
    expect(framer.hasPartial()).toBe(false);
  });

  it('hands out data that later pushes cannot change', () => {
    const framer = new SeeedFramer();
    const chunk = HEART_72.slice();
    const [frame] = framer.push(chunk);
    chunk.fill(0);
    framer.push(IN_BED);
    expect(frame?.data).toEqual(Uint8Array.of(0x48));
  });
});

describe('SeeedFramer: noise', () => {
  it('skips and counts noise before the header', () => {
    const framer = new SeeedFramer();
    expect(framer.push(concat(fromHex('00 FF 12 54 43'), HEART_72))).toEqual([heart72]);
    expect(framer.noiseBytes).toBe(5);
  });

  it('skips a stray 0x53 that is not followed by 0x59', () => {
    const framer = new SeeedFramer();
    expect(framer.push(concat(fromHex('53 00 53 53'), HEART_72))).toEqual([heart72]);
    expect(framer.noiseBytes).toBe(4);
  });

  it('keeps a 0x53 at the end of a chunk until the next chunk says whether it starts a header', () => {
    const framer = new SeeedFramer();
    expect(framer.push(fromHex('AA 53'))).toEqual([]);
    expect(framer.noiseBytes).toBe(1);
    expect(framer.hasPartial()).toBe(false);
    expect(framer.push(HEART_72.subarray(1))).toEqual([heart72]);

    const other = new SeeedFramer();
    other.push(fromHex('53'));
    expect(other.push(concat(fromHex('41'), IN_BED))).toEqual([inBed]);
    expect(other.noiseBytes).toBe(2);
  });

  it('counts noise that never reaches a header', () => {
    const framer = new SeeedFramer();
    expect(framer.push(fromHex('01 02 03 04'))).toEqual([]);
    expect(framer.noiseBytes).toBe(4);
    expect(framer.hasPartial()).toBe(false);
  });
});

describe('SeeedFramer: bad frames', () => {
  it('drops a frame with a bad checksum and returns the good frame after it', () => {
    const { framer, drops } = recordingFramer();
    const bad = fromHex('53 59 85 02 00 01 48 7D 54 43');
    expect(framer.push(concat(bad, IN_BED))).toEqual([inBed]);
    expect(framer.dropped).toEqual({ checksum: 1, tail: 0, length: 0, timeout: 0 });
    expect(drops).toEqual([{ reason: 'checksum', hex: '53 59 85 02 00 01 48 7D 54 43' }]);
    // The bad frame's bytes are accounted as dropped, not as noise.
    expect(framer.noiseBytes).toBe(0);
    expect(framer.framesDecoded).toBe(1);
  });

  it('drops a frame with a bad tail and returns the good frame after it', () => {
    const { framer, drops } = recordingFramer();
    const bad = fromHex('53 59 85 02 00 01 48 7C 54 44');
    expect(framer.push(concat(bad, HEART_72))).toEqual([heart72]);
    expect(framer.dropped).toEqual({ checksum: 0, tail: 1, length: 0, timeout: 0 });
    expect(drops).toEqual([{ reason: 'tail', hex: '53 59 85 02 00 01 48 7C 54 44' }]);
  });

  it('drops an absurd length (0xFFFF) at once and returns the good frame after it', () => {
    const { framer, drops } = recordingFramer();
    expect(framer.push(concat(fromHex('53 59 80 01 FF FF'), FALL))).toEqual([fall]);
    expect(framer.dropped).toEqual({ checksum: 0, tail: 0, length: 1, timeout: 0 });
    expect(drops).toEqual([{ reason: 'length', hex: '53 59 80 01 FF FF' }]);
    expect(framer.hasPartial()).toBe(false);
  });

  it('drops an absurd length even when the good frame arrives in a later push', () => {
    const framer = new SeeedFramer();
    expect(framer.push(fromHex('53 59 80 01 FF FF 01 02'))).toEqual([]);
    expect(framer.push(FALL)).toEqual([fall]);
    expect(framer.dropped.length).toBe(1);
    expect(framer.noiseBytes).toBe(2);
  });

  it('honours a smaller maxDataLength', () => {
    const { framer, drops } = recordingFramer(8);
    expect(framer.push(concat(FIRMWARE, HEART_72))).toEqual([heart72]);
    // The 15-byte reply is over the bound; so is the "SYv0" header inside it (length 0x7630).
    expect(drops.map((d) => d.reason)).toEqual(['length', 'length']);
    expect(drops[0]?.hex).toBe('53 59 02 A4 00 0F');
  });

  it('does not let a false header with a plausible length swallow the good frame behind it', () => {
    // 53 59 from noise announcing 0x40 data bytes; a quiet fall radar may send nothing for minutes after
    // the fall frame, so the framer must not wait for those 73 bytes.
    const { framer, drops } = recordingFramer();
    expect(framer.push(concat(fromHex('53 59 00 00 00 40 07'), FALL))).toEqual([fall]);
    expect(drops).toEqual([{ reason: 'length', hex: '53 59 00 00 00 40' }]);
    expect(framer.noiseBytes).toBe(1);
    expect(framer.hasPartial()).toBe(false);
  });

  it('finds a good frame that starts inside a bad frame', () => {
    // A corrupted frame claims 12 data bytes; a complete good frame sits inside the claimed span.
    const garbage = concat(fromHex('53 59 80 01 00 0C'), HEART_72, fromHex('AA BB 00 00 00'));
    const framer = new SeeedFramer();
    expect(framer.push(concat(garbage, IN_BED))).toEqual([heart72, inBed]);
    expect(framer.dropped).toEqual({ checksum: 0, tail: 1, length: 0, timeout: 0 });
  });

  it('recovers after a bad firmware reply whose data holds a header', () => {
    const corrupted = FIRMWARE.slice();
    corrupted[10] = 0x00; // a data byte changed in transit
    const { framer, drops } = recordingFramer();
    expect(framer.push(concat(corrupted, IN_BED))).toEqual([inBed]);
    // The bad reply, then the "SY" + "v0" inside it read as a header with length 0x7630.
    expect(drops.map((d) => d.reason)).toEqual(['checksum', 'length']);
  });

  it('returns every frame of a noisy stream cut into random chunks', () => {
    const random = prng(20_240_601);
    const golden = REPORT_FRAMES.map((f) => fromHex(f.hex));
    const expected: string[] = [];
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) {
      const noise = Uint8Array.from({ length: Math.floor(random() * 6) }, () =>
        random() < 0.3 ? 0x53 : Math.floor(random() * 256),
      );
      const frame = golden[Math.floor(random() * golden.length)] as Uint8Array;
      parts.push(noise, frame);
      expected.push(toHex(frame));
    }
    const stream = concat(...parts);
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < stream.length; ) {
      const size = 1 + Math.floor(random() * 40);
      chunks.push(stream.subarray(at, at + size));
      at += size;
    }
    const framer = new SeeedFramer();
    const frames = pushEach(framer, chunks);
    expect(frames.map((f) => toHex(encodeFrame(f)))).toEqual(expected);
    expect(framer.framesDecoded).toBe(300);
  });
});

describe('SeeedFramer: discardPartial', () => {
  it('drops a partial frame after an idle gap and counts it as timeout', () => {
    const { framer, drops } = recordingFramer();
    expect(framer.push(HEART_72.subarray(0, 5))).toEqual([]);
    expect(framer.hasPartial()).toBe(true);
    expect(framer.discardPartial()).toBe(true);
    expect(framer.hasPartial()).toBe(false);
    expect(framer.dropped).toEqual({ checksum: 0, tail: 0, length: 0, timeout: 1 });
    expect(drops).toEqual([{ reason: 'timeout', hex: '53 59 85 02 00' }]);
    // The rest of the cut frame is now noise, and it is not glued onto the next frame.
    expect(framer.push(HEART_72.subarray(5))).toEqual([]);
    expect(framer.noiseBytes).toBe(5);
    expect(framer.push(IN_BED)).toEqual([inBed]);
  });

  it('reports false when nothing is pending', () => {
    const framer = new SeeedFramer();
    expect(framer.discardPartial()).toBe(false);
    framer.push(HEART_72);
    expect(framer.discardPartial()).toBe(false);
    expect(framer.dropped.timeout).toBe(0);
  });

  it('treats a lone 0x53 as noise, not as a partial frame', () => {
    const framer = new SeeedFramer();
    framer.push(fromHex('53'));
    expect(framer.hasPartial()).toBe(false);
    expect(framer.discardPartial()).toBe(false);
    expect(framer.noiseBytes).toBe(1);
    expect(framer.dropped.timeout).toBe(0);
    expect(framer.push(HEART_72.subarray(1))).toEqual([]);
  });

  it('counts a header without its length bytes as a partial frame', () => {
    const framer = new SeeedFramer();
    framer.push(fromHex('53 59'));
    expect(framer.hasPartial()).toBe(true);
    expect(framer.discardPartial()).toBe(true);
    expect(framer.dropped.timeout).toBe(1);
  });
});

describe('SeeedFramer: options', () => {
  it('rejects a maxDataLength outside 0-65535', () => {
    expect(() => new SeeedFramer({ maxDataLength: -1 })).toThrow(RangeError);
    expect(() => new SeeedFramer({ maxDataLength: 0x10000 })).toThrow(RangeError);
    expect(() => new SeeedFramer({ maxDataLength: 2.5 })).toThrow(RangeError);
  });

  it('returns a snapshot of the counters, not the live object', () => {
    const framer = new SeeedFramer();
    const before = framer.dropped;
    framer.push(fromHex('53 59 80 01 FF FF'));
    expect(before.length).toBe(0);
    expect(framer.dropped.length).toBe(1);
  });
});
