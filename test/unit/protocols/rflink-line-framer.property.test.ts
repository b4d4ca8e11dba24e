import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatRflinkLine,
  LineFramer,
  parseRflinkLine,
  RflinkParseError,
} from '../../../gateway/devices/protocols/rflink/index.js';

const RUNS = { numRuns: 300 };
/** A small limit, so over-long lines are common in the generated streams. */
const MAX_LINE_LENGTH = 40;

/** Latin-1 characters other than CR and LF (what a line can hold; the framer decodes bytes as Latin-1). */
const lineCharArb = fc
  .integer({ min: 0, max: 0xff })
  .filter((code) => code !== 0x0a && code !== 0x0d)
  .map((code) => String.fromCharCode(code));
const lineArb = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: lineCharArb, minLength: 1, maxLength: MAX_LINE_LENGTH }) },
  // Around the limit, where the framer's "one more for the CR" rule lives.
  {
    weight: 2,
    arbitrary: fc.string({
      unit: lineCharArb,
      minLength: MAX_LINE_LENGTH - 1,
      maxLength: MAX_LINE_LENGTH + 2,
    }),
  },
  { weight: 1, arbitrary: fc.string({ unit: lineCharArb, minLength: MAX_LINE_LENGTH + 3, maxLength: 120 }) },
);
const terminatorArb = fc.constantFrom('\r\n', '\n');
const chunkSizesArb = fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 });

function chunksOf(bytes: Uint8Array, sizes: number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length] ?? 1;
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

/** Parses, letting only RflinkParseError through; anything else thrown fails the property. */
function parseOrReason(line: string): string {
  try {
    return parseRflinkLine(line).kind;
  } catch (err) {
    if (err instanceof RflinkParseError) return `error:${err.reason}`;
    throw err;
  }
}

describe('LineFramer properties', () => {
  it('yields exactly the lines within the limit, in order, however the stream is cut; counts the others', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(lineArb, terminatorArb), { maxLength: 12 }),
        fc.nat({ max: 3 }),
        chunkSizesArb,
        (lines, blankLines, sizes) => {
          const text = '\n'.repeat(blankLines) + lines.map(([line, end]) => line + end).join('');
          const framer = new LineFramer({ maxLineLength: MAX_LINE_LENGTH });
          const out = chunksOf(Buffer.from(text, 'latin1'), sizes).flatMap((chunk) => framer.push(chunk));
          expect(out).toEqual(lines.map(([line]) => line).filter((line) => line.length <= MAX_LINE_LENGTH));
          expect(framer.dropped.overlong).toBe(
            lines.filter(([line]) => line.length > MAX_LINE_LENGTH).length,
          );
          expect(framer.hasPartial()).toBe(false);
        },
      ),
      RUNS,
    );
  });

  it('never throws on random bytes in random chunks; lines out hold no LF and respect the limit', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        chunkSizesArb,
        fc.integer({ min: 1, max: 80 }),
        (bytes, sizes, maxLineLength) => {
          const framer = new LineFramer({ maxLineLength });
          const out = chunksOf(bytes, sizes).flatMap((chunk) => framer.push(chunk));
          for (const line of out) {
            expect(line.length).toBeGreaterThan(0);
            expect(line.length).toBeLessThanOrEqual(maxLineLength);
            expect(line).not.toContain('\n');
            // The parser may reject a line, but only with its own error.
            parseOrReason(line);
          }
          const { overlong } = framer.dropped;
          expect(Number.isSafeInteger(overlong) && overlong >= 0).toBe(true);
          framer.discardPartial();
          expect(framer.hasPartial()).toBe(false);
        },
      ),
      RUNS,
    );
  });
});

describe('parseRflinkLine properties', () => {
  const printableArb = fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength: 40,
  });

  it('throws nothing but RflinkParseError, whatever the line', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 80 }),
          fc.string({ unit: 'binary', maxLength: 80 }),
          printableArb.map((rest) => `20;${rest}`),
          fc
            .array(
              fc.oneof(printableArb, fc.constantFrom('', '=', 'ID=', 'VER=1.1', 'PONG', '20', 'A=B=C')),
              {
                maxLength: 6,
              },
            )
            .map((parts) => `20;${parts.join(';')};`),
        ),
        (line) => {
          parseOrReason(line);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reads back every packet line the gateway can print', () => {
    const tokenArb = fc.stringMatching(/^[A-Za-z0-9_.-]{1,10}$/);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xff }),
        tokenArb.filter((name) => !['DEBUG', 'STATUS'].includes(name)),
        fc.uniqueArray(fc.tuple(tokenArb, fc.stringMatching(/^[A-Za-z0-9_.=-]{0,10}$/)), {
          minLength: 1,
          maxLength: 6,
          selector: ([key]) => key,
        }),
        (counter, protocol, fields) => {
          const line = formatRflinkLine(counter, [protocol, ...fields.map(([k, v]) => `${k}=${v}`)]);
          const message = parseRflinkLine(line.replace(/\r\n$/, ''));
          expect(message).toMatchObject({
            kind: 'packet',
            counter,
            protocol,
            fields: Object.fromEntries(fields),
          });
        },
      ),
      RUNS,
    );
  });
});
