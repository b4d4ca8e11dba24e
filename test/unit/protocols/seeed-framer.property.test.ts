import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeFrame,
  SEEED_FRAME_OVERHEAD,
  type SeeedFrame,
  SeeedFramer,
  seeedChecksum,
} from '../../../gateway/devices/protocols/seeed/index.js';

/** The framer's default bound on the length field. */
const MAX_DATA_LENGTH = 128;
const RUNS = { numRuns: 300 };

/** Bytes, with the ones that make frames (header 53 59, tail 54 43) drawn far more often than by chance. */
const byteArb = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 0xff }) },
  { weight: 1, arbitrary: fc.constantFrom(0x53, 0x59, 0x54, 0x43, 0x00) },
);

/**
 * A frame with any control, command and data up to the framer's bound (data may hold `53 59`, as the
 * MR60FDA1 firmware string does). Excluded: a frame whose own bytes, after its header, hold a complete
 * valid frame — real frames are never nested, and the framer rightly takes such an inner frame as proof
 * that the outer header is noise while the outer frame is still arriving. Random data forms one with a
 * probability of about 2^-40, so this filter almost never rejects anything; it makes the property exact.
 */
const frameArb: fc.Arbitrary<SeeedFrame> = fc
  .record({
    control: fc.integer({ min: 0, max: 0xff }),
    command: fc.integer({ min: 0, max: 0xff }),
    data: fc.oneof(
      { weight: 4, arbitrary: fc.uint8Array({ maxLength: 16 }) },
      { weight: 2, arbitrary: fc.array(byteArb, { maxLength: 24 }).map((a) => Uint8Array.from(a)) },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 100, maxLength: MAX_DATA_LENGTH }) },
    ),
  })
  .filter((frame) => new SeeedFramer().push(encodeFrame(frame).subarray(2)).length === 0);

/** Random bytes in which `53 59` never occurs (a 59 right after a 53 becomes 58): they cannot start a frame. */
const headerFreeGarbageArb = fc.array(byteArb, { maxLength: 20 }).map((bytes) => {
  const out = Uint8Array.from(bytes);
  for (let i = 1; i < out.length; i++) if (out[i - 1] === 0x53 && out[i] === 0x59) out[i] = 0x58;
  return out;
});

const randomGarbageArb = fc.array(byteArb, { maxLength: 40 }).map((a) => Uint8Array.from(a));

/** Sizes the stream is cut into, used in turn (and repeated) until the stream is consumed. */
const chunkSizesArb = fc.array(fc.integer({ min: 1, max: 48 }), { minLength: 1, maxLength: 20 });

interface Stream {
  bytes: Uint8Array;
  frames: SeeedFrame[];
  /** Where each frame starts in `bytes`. */
  starts: number[];
  garbageBytes: number;
}

/** garbage, frame, garbage, frame, …, garbage. */
function interleave(frames: SeeedFrame[], garbage: Uint8Array[]): Stream {
  const parts: Uint8Array[] = [];
  const starts: number[] = [];
  let at = 0;
  let garbageBytes = 0;
  frames.forEach((frame, i) => {
    const g = garbage[i % garbage.length] ?? new Uint8Array(0);
    parts.push(g);
    at += g.length;
    garbageBytes += g.length;
    starts.push(at);
    const bytes = encodeFrame(frame);
    parts.push(bytes);
    at += bytes.length;
  });
  const tail = garbage[frames.length % Math.max(1, garbage.length)] ?? new Uint8Array(0);
  parts.push(tail);
  garbageBytes += tail.length;
  const bytes = new Uint8Array(at + tail.length);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return { bytes, frames, starts, garbageBytes };
}

function chunksOf(bytes: Uint8Array, sizes: number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length] ?? 1;
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

function pushAll(framer: SeeedFramer, chunks: Uint8Array[]): SeeedFrame[] {
  return chunks.flatMap((chunk) => framer.push(chunk));
}

/** Whether a complete frame with a valid tail and checksum starts at `at` (with the framer's bound). */
function validFrameAt(bytes: Uint8Array, at: number): boolean {
  if (bytes[at] !== 0x53 || bytes[at + 1] !== 0x59 || at + 6 > bytes.length) return false;
  const length = ((bytes[at + 4] as number) << 8) | (bytes[at + 5] as number);
  const end = at + length + SEEED_FRAME_OVERHEAD;
  if (length > MAX_DATA_LENGTH || end > bytes.length) return false;
  const checksumAt = end - 3;
  return (
    bytes[end - 2] === 0x54 &&
    bytes[end - 1] === 0x43 &&
    bytes[checksumAt] === seeedChecksum(bytes.subarray(at, checksumAt))
  );
}

function expectCountersSane(framer: SeeedFramer, framesOut: number): void {
  for (const count of [...Object.values(framer.dropped), framer.noiseBytes, framer.framesDecoded]) {
    expect(Number.isSafeInteger(count) && count >= 0, `counter ${count}`).toBe(true);
  }
  expect(framer.framesDecoded).toBe(framesOut);
}

describe('SeeedFramer properties', () => {
  it('yields exactly the valid frames, in order, from frames and header-free garbage cut anywhere', () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { maxLength: 8 }),
        fc.array(headerFreeGarbageArb, { minLength: 1, maxLength: 9 }),
        chunkSizesArb,
        (frames, garbage, sizes) => {
          const stream = interleave(frames, garbage);
          const framer = new SeeedFramer();
          expect(pushAll(framer, chunksOf(stream.bytes, sizes))).toEqual(frames);
          framer.discardPartial();
          expect(framer.dropped).toEqual({ checksum: 0, tail: 0, length: 0, timeout: 0 });
          // Every garbage byte is counted as noise once, and nothing else is.
          expect(framer.noiseBytes).toBe(stream.garbageBytes);
          expectCountersSane(framer, frames.length);
        },
      ),
      RUNS,
    );
  });

  it('with fully random garbage: frames out are stream substrings in order, and exactly the valid frames unless garbage forms a frame by chance', () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { maxLength: 8 }),
        fc.array(randomGarbageArb, { minLength: 1, maxLength: 9 }),
        chunkSizesArb,
        (frames, garbage, sizes) => {
          const stream = interleave(frames, garbage);
          const framer = new SeeedFramer();
          const out = pushAll(framer, chunksOf(stream.bytes, sizes));
          expectCountersSane(framer, out.length);

          // Always: each frame out is a valid frame of the stream, after the previous one, not overlapping.
          let from = 0;
          for (const frame of out) {
            const at = indexOf(stream.bytes, encodeFrame(frame), from);
            expect(at, 'frame out not found in order in the stream').toBeGreaterThanOrEqual(0);
            from = at + frame.data.length + SEEED_FRAME_OVERHEAD;
          }

          // Exactly the frames put in whenever no header other than theirs starts a valid frame. (A false
          // header can still claim bytes of a real frame; the framer must give them back after dropping it.)
          const starts = new Set(stream.starts);
          let accidental = false;
          for (let at = 0; at + 1 < stream.bytes.length && !accidental; at++) {
            accidental = !starts.has(at) && validFrameAt(stream.bytes, at);
          }
          if (!accidental) expect(out).toEqual(frames);
        },
      ),
      RUNS,
    );
  });

  it('never throws on random bytes in random chunks, and its counters stay non-negative integers', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        chunkSizesArb,
        fc.integer({ min: 0, max: 300 }),
        (bytes, sizes, maxDataLength) => {
          const dropped: Uint8Array[] = [];
          const framer = new SeeedFramer({ maxDataLength, onDrop: (_reason, b) => dropped.push(b) });
          const out = pushAll(framer, chunksOf(bytes, sizes));
          framer.discardPartial();
          expectCountersSane(framer, out.length);
          const drops = Object.values(framer.dropped).reduce((a, b) => a + b, 0);
          expect(dropped).toHaveLength(drops);
          for (const frame of out) expect(frame.data.length).toBeLessThanOrEqual(maxDataLength);
          expect(framer.hasPartial()).toBe(false);
        },
      ),
      RUNS,
    );
  });
});

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
