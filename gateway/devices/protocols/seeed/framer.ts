import { SEEED_FRAME_OVERHEAD, SEEED_HEADER, SEEED_TAIL, type SeeedFrame, seeedChecksum } from './frame.js';

/**
 * Why the framer threw bytes away:
 * - `checksum`: a complete frame whose checksum byte does not match;
 * - `tail`: a complete frame that does not end with `54 43` (usually a corrupted length field);
 * - `length`: a header whose length field exceeds `maxDataLength` (noise that looks like a header);
 * - `timeout`: a partial frame dropped by {@link SeeedFramer.discardPartial} after an idle gap.
 */
export type SeeedDropReason = 'checksum' | 'tail' | 'length' | 'timeout';

/** Options of {@link SeeedFramer}. */
export interface SeeedFramerOptions {
  /**
   * Largest data length accepted from the length field; a header announcing more is treated as noise.
   * Default 128: the longest documented report (MR60BHA1 sleep-quality summary, 12 bytes) and the
   * product/firmware strings (about 15 bytes) are far below it, and a false header found in noise can
   * hold back the frames behind it by at most 137 bytes before its checksum gives it away.
   */
  maxDataLength?: number;
  /**
   * Called for every drop with the offending bytes (a copy), so the caller can log them. Must not throw:
   * the framer is in the middle of a push when it calls this.
   */
  onDrop?: (reason: SeeedDropReason, bytes: Uint8Array) => void;
}

const DEFAULT_MAX_DATA_LENGTH = 128;
/** Header 2 + control 1 + command 1 + length 2: what is needed before the frame's size is known. */
const PREFIX_LENGTH = 6;
const HEADER_0 = SEEED_HEADER[0];
const HEADER_1 = SEEED_HEADER[1];

/**
 * Stream framer for the Seeed 60 GHz protocol: feed it whatever the serial port delivered, get back the
 * complete frames with a valid checksum and tail.
 *
 * It finds the header anywhere (bytes skipped to get there are counted in {@link noiseBytes}), keeps a
 * partial frame across pushes, never trusts a length field above `maxDataLength`, and drops a bad frame
 * with a counted reason. After a drop it resynchronises on the next header *after the bad frame's
 * header*, not after the bad frame's claimed end, so a good frame that starts inside the garbage is not
 * lost. For the same reason a header found in noise cannot hold back real frames: while a frame is
 * incomplete, a complete valid frame found inside its claimed span proves its length field wrong, and it
 * is dropped as `length` at once instead of waiting for bytes that a quiet module may never send.
 *
 * Pure: no timers. The transport decides what an idle gap is and calls {@link discardPartial}.
 */
export class SeeedFramer {
  readonly #maxDataLength: number;
  readonly #onDrop: ((reason: SeeedDropReason, bytes: Uint8Array) => void) | undefined;
  /** Unconsumed bytes; after each push it is empty, a lone `0x53`, or starts with a header. */
  #buffer: Uint8Array = new Uint8Array(0);
  /** Bytes before this index belong to a frame already counted as dropped, so they are not noise. */
  #droppedUntil = 0;
  readonly #dropped: Record<SeeedDropReason, number> = { checksum: 0, tail: 0, length: 0, timeout: 0 };
  #noiseBytes = 0;
  #framesDecoded = 0;

  constructor(options: SeeedFramerOptions = {}) {
    const max = options.maxDataLength ?? DEFAULT_MAX_DATA_LENGTH;
    if (!Number.isInteger(max) || max < 0 || max > 0xffff) {
      throw new RangeError(`maxDataLength must be an integer 0-65535, got ${max}`);
    }
    this.#maxDataLength = max;
    this.#onDrop = options.onDrop;
  }

  /** Frames dropped so far, by reason (a snapshot). */
  get dropped(): Readonly<Record<SeeedDropReason, number>> {
    return { ...this.#dropped };
  }

  /** Bytes skipped while looking for a header that were not part of a dropped frame. */
  get noiseBytes(): number {
    return this.#noiseBytes;
  }

  /** Valid frames returned so far. */
  get framesDecoded(): number {
    return this.#framesDecoded;
  }

  /** Adds bytes from the stream and returns every frame completed by them (zero or more, in order). */
  push(chunk: Uint8Array): SeeedFrame[] {
    if (chunk.length === 0) return [];
    const merged = new Uint8Array(this.#buffer.length + chunk.length);
    merged.set(this.#buffer, 0);
    merged.set(chunk, this.#buffer.length);
    this.#buffer = merged;
    return this.#scan();
  }

  /** Whether a frame has started (its header was seen) but is not complete yet. */
  hasPartial(): boolean {
    return this.#buffer.length >= 2 && this.#buffer[0] === HEADER_0 && this.#buffer[1] === HEADER_1;
  }

  /**
   * Drops the partial frame, counted as `timeout`; the transport calls this after an idle gap, since the
   * module sends each frame in one go and a frame still incomplete after a pause will not be completed.
   * Returns whether there was a partial frame. Nothing valid is lost: a complete frame behind the partial
   * one would already have been returned by {@link push}. A lone trailing `0x53` (half a header) is not a
   * frame: it is counted as noise and `false` is returned.
   */
  discardPartial(): boolean {
    const partial = this.hasPartial();
    if (partial) {
      this.#drop('timeout', 0, this.#buffer.length);
    } else {
      this.#countNoise(0, this.#buffer.length);
    }
    this.#buffer = new Uint8Array(0);
    this.#droppedUntil = 0;
    return partial;
  }

  /** Extracts the complete frames from the buffer, then keeps only what may still become a frame. */
  #scan(): SeeedFrame[] {
    const out: SeeedFrame[] = [];
    const buf = this.#buffer;
    let pos = 0;
    for (;;) {
      const header = findHeader(buf, pos);
      if (header === -1) {
        // Keep a trailing 0x53: its 0x59 may be in the next chunk.
        const keepFrom = buf.length > pos && buf[buf.length - 1] === HEADER_0 ? buf.length - 1 : buf.length;
        this.#countNoise(pos, keepFrom);
        pos = keepFrom;
        break;
      }
      this.#countNoise(pos, header);
      pos = header;
      if (buf.length - pos < PREFIX_LENGTH) break;
      const dataLength = readLength(buf, pos);
      if (dataLength > this.#maxDataLength) {
        this.#drop('length', pos, pos + PREFIX_LENGTH);
        pos += SEEED_HEADER.length;
        continue;
      }
      const total = dataLength + SEEED_FRAME_OVERHEAD;
      if (buf.length - pos < total) {
        if (!this.#containsValidFrame(pos + SEEED_HEADER.length, pos + total)) break;
        this.#drop('length', pos, pos + PREFIX_LENGTH);
        pos += SEEED_HEADER.length;
        continue;
      }
      const checksumAt = pos + PREFIX_LENGTH + dataLength;
      // Tail first: a wrong tail usually means the length field itself was corrupted, which is the
      // more useful diagnosis when both are wrong.
      if (!tailMatches(buf, pos, dataLength)) {
        this.#drop('tail', pos, pos + total);
        pos += SEEED_HEADER.length;
        continue;
      }
      if (!checksumMatches(buf, pos, dataLength)) {
        this.#drop('checksum', pos, pos + total);
        pos += SEEED_HEADER.length;
        continue;
      }
      out.push({
        control: buf[pos + 2] as number,
        command: buf[pos + 3] as number,
        data: buf.slice(pos + PREFIX_LENGTH, checksumAt),
      });
      this.#framesDecoded += 1;
      pos += total;
    }
    this.#buffer = buf.slice(pos);
    this.#droppedUntil = Math.max(0, this.#droppedUntil - pos);
    return out;
  }

  /**
   * Whether a complete frame with a valid tail and checksum starts in [from, before) of the buffer.
   * Real frames are sent back to back, never nested, so one found there means the header that claimed
   * the span was noise.
   */
  #containsValidFrame(from: number, before: number): boolean {
    const buf = this.#buffer;
    for (let at = findHeader(buf, from); at !== -1 && at < before; at = findHeader(buf, at + 1)) {
      if (buf.length - at < PREFIX_LENGTH) return false;
      const dataLength = readLength(buf, at);
      if (dataLength > this.#maxDataLength || buf.length - at < dataLength + SEEED_FRAME_OVERHEAD) continue;
      if (tailMatches(buf, at, dataLength) && checksumMatches(buf, at, dataLength)) return true;
    }
    return false;
  }

  #drop(reason: SeeedDropReason, start: number, end: number): void {
    this.#dropped[reason] += 1;
    this.#droppedUntil = Math.max(this.#droppedUntil, end);
    this.#onDrop?.(reason, this.#buffer.slice(start, end));
  }

  #countNoise(start: number, end: number): void {
    const from = Math.max(start, this.#droppedUntil);
    if (end > from) this.#noiseBytes += end - from;
  }
}

function findHeader(buf: Uint8Array, from: number): number {
  for (let i = from; i + 1 < buf.length; i++) {
    if (buf[i] === HEADER_0 && buf[i + 1] === HEADER_1) return i;
  }
  return -1;
}

function readLength(buf: Uint8Array, pos: number): number {
  return ((buf[pos + 4] as number) << 8) | (buf[pos + 5] as number);
}

function tailMatches(buf: Uint8Array, pos: number, dataLength: number): boolean {
  const at = pos + PREFIX_LENGTH + dataLength + 1;
  return buf[at] === SEEED_TAIL[0] && buf[at + 1] === SEEED_TAIL[1];
}

function checksumMatches(buf: Uint8Array, pos: number, dataLength: number): boolean {
  const at = pos + PREFIX_LENGTH + dataLength;
  return buf[at] === seeedChecksum(buf.subarray(pos, at));
}
