import type { ByteLink } from '../../../firmware-sim/links/link.js';

/**
 * An in-memory {@link ByteLink} for unit tests: records what the device
 * writes, and `hostWrite()` plays the host sending bytes to the device.
 */
export class MemoryLink implements ByteLink {
  /** Every chunk the device wrote, in order. */
  readonly written: Uint8Array[] = [];
  private readonly listeners = new Set<(bytes: Uint8Array) => void>();

  write(bytes: Uint8Array): void {
    this.written.push(Uint8Array.from(bytes));
  }

  onData(cb: (bytes: Uint8Array) => void): void {
    this.listeners.add(cb);
  }

  offData(cb: (bytes: Uint8Array) => void): void {
    this.listeners.delete(cb);
  }

  /** Number of device-side listeners (a stopped emulator must leave none). */
  listenerCount(): number {
    return this.listeners.size;
  }

  /** Deliver bytes from the host to the device. */
  hostWrite(bytes: Uint8Array | string): void {
    const chunk = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    for (const cb of this.listeners) cb(chunk);
  }

  /** Everything written so far as one buffer. */
  bytes(): Uint8Array {
    return Buffer.concat(this.written);
  }

  /** Everything written so far as Latin-1 text. */
  text(): string {
    return Buffer.concat(this.written).toString('latin1');
  }

  clear(): void {
    this.written.length = 0;
  }
}
