/** Options of {@link LineFramer}. */
export interface LineFramerOptions {
  /**
   * Longest line accepted, in characters, not counting the CR LF. Default 512: RFLink's longest normal
   * lines (weather stations with a dozen fields) are well under 200 characters, and its debug pulse
   * dumps under 512; anything longer is a stuck or wrongly-bauded stream.
   */
  maxLineLength?: number;
}

const DEFAULT_MAX_LINE_LENGTH = 512;
const LF = '\n';
const CR = '\r';

/**
 * Splits a serial byte stream into text lines (RFLink gateway output): lines end with LF, a CR before it
 * is stripped (so CR LF and bare LF both work), empty lines are skipped, and a partial line is kept
 * across pushes. A line longer than `maxLineLength` is dropped, counted in {@link dropped}, and the
 * framer resynchronises at the next LF. Pure: no timers; the transport calls {@link discardPartial}
 * after an idle gap.
 *
 * Bytes are decoded as Latin-1: RFLink output is ASCII, and a one-byte-per-character decoding keeps
 * line noise visible to the parser (which rejects it) instead of folding it into U+FFFD, and cannot
 * split a character across chunks.
 */
export class LineFramer {
  readonly #maxLineLength: number;
  #partial = '';
  /** True while the rest of an over-long line is being skipped up to its LF. */
  #skipping = false;
  #overlong = 0;

  constructor(options: LineFramerOptions = {}) {
    const max = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`maxLineLength must be a positive integer, got ${max}`);
    }
    this.#maxLineLength = max;
  }

  /** Lines dropped so far, by reason (a snapshot). */
  get dropped(): { readonly overlong: number } {
    return { overlong: this.#overlong };
  }

  /** Adds a chunk of the stream and returns the complete, non-empty lines in it (without CR/LF). */
  push(chunk: Uint8Array | string): string[] {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1');
    const lines: string[] = [];
    let start = 0;
    for (let lf = text.indexOf(LF); lf !== -1; lf = text.indexOf(LF, start)) {
      const piece = text.slice(start, lf);
      start = lf + 1;
      if (this.#skipping) {
        // The tail of an over-long line, already counted.
        this.#skipping = false;
        this.#partial = '';
        continue;
      }
      let line = this.#partial + piece;
      this.#partial = '';
      if (line.endsWith(CR)) line = line.slice(0, -1);
      if (line.length > this.#maxLineLength) {
        this.#overlong += 1;
        continue;
      }
      if (line.length > 0) lines.push(line);
    }
    if (!this.#skipping) {
      this.#partial += text.slice(start);
      // One more than the limit may still be a line of exactly the limit followed by its CR.
      if (this.#partial.length > this.#maxLineLength + 1) {
        this.#overlong += 1;
        this.#partial = '';
        this.#skipping = true;
      }
    }
    return lines;
  }

  /** Whether a line has started but not ended. */
  hasPartial(): boolean {
    return this.#partial.length > 0 || this.#skipping;
  }

  /**
   * Drops the partial line (the transport calls this after an idle gap, so that a line cut off by a
   * gateway reset is not glued to the next one). Returns whether there was one, including the rest of an
   * over-long line being skipped.
   */
  discardPartial(): boolean {
    const had = this.hasPartial();
    this.#partial = '';
    this.#skipping = false;
    return had;
  }
}
