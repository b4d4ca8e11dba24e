import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, SeeedFramer } from '../../../gateway/devices/protocols/seeed/index.js';
import { decodeSeeedCapture, formatHex, parseHex } from '../../../gateway/installer/decode.js';

const byteArb = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 0xff }) },
  { weight: 1, arbitrary: fc.constantFrom(0x53, 0x59, 0x54, 0x43, 0x00) },
);
const frameBytesArb = fc
  .record({
    control: fc.integer({ min: 0, max: 0xff }),
    command: fc.integer({ min: 0, max: 0xff }),
    data: fc.array(byteArb, { maxLength: 30 }).map((a) => Uint8Array.from(a)),
  })
  .map((frame) => [...encodeFrame(frame)]);
/** Valid frames, cut-off frames and random bytes run together: everything a capture can hold. */
const captureArb = fc
  .array(
    fc.oneof(
      frameBytesArb,
      frameBytesArb.chain((bytes) => fc.nat({ max: bytes.length - 1 }).map((cut) => bytes.slice(0, cut))),
      fc.array(byteArb, { maxLength: 20 }),
    ),
    { maxLength: 10 },
  )
  .map((parts) => Uint8Array.from(parts.flat()));

describe('decodeSeeedCapture properties', () => {
  it('records are in offset order, point at their own bytes, cover every byte, and agree with the framer', () => {
    fc.assert(
      fc.property(captureArb, (bytes) => {
        const records = decodeSeeedCapture(bytes);
        const covered = new Uint8Array(bytes.length);
        let previous = -1;
        for (const record of records) {
          expect(record.offset).toBeGreaterThanOrEqual(previous);
          previous = record.offset;
          const span = parseHex(record.hex);
          expect(formatHex(bytes.subarray(record.offset, record.offset + span.length))).toBe(record.hex);
          covered.fill(1, record.offset, record.offset + span.length);
        }
        expect(covered.every((c) => c === 1)).toBe(true);

        // The same framer fed the same way (byte by byte) gives the same frames, drops and noise count.
        const drops: string[] = [];
        const framer = new SeeedFramer({ onDrop: (reason) => drops.push(reason) });
        const frames = Array.from(bytes).flatMap((b) => framer.push(Uint8Array.of(b)));
        framer.discardPartial();
        expect(records.flatMap((r) => (r.ok ? [r.hex] : []))).toEqual(
          frames.map((f) => formatHex(encodeFrame(f))),
        );
        expect(records.flatMap((r) => (!r.ok && r.reason !== 'noise' ? [r.reason] : []))).toEqual(drops);
        const noise = records.reduce(
          (n, r) => n + (!r.ok && r.reason === 'noise' ? parseHex(r.hex).length : 0),
          0,
        );
        expect(noise).toBe(framer.noiseBytes);
      }),
      { numRuns: 300 },
    );
  });

  it('parseHex reads back formatHex, and the packed and 0x forms, of any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(parseHex(formatHex(bytes))).toEqual(bytes);
        expect(parseHex(formatHex(bytes).replace(/ /g, ''))).toEqual(bytes);
        expect(parseHex(Array.from(bytes, (b) => `0x${b.toString(16)}`).join(', '))).toEqual(bytes);
      }),
      { numRuns: 300 },
    );
  });
});
