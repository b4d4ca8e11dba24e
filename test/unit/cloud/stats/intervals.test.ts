import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  clip,
  complement,
  type Interval,
  intersect,
  intersectAll,
  normalize,
  subtract,
  total,
  union,
} from '../../../../cloud/stats/intervals.js';

describe('intervals', () => {
  it('normalises: sorts, drops empty and reversed intervals, merges overlapping and touching ones', () => {
    expect(
      normalize([
        [20, 30],
        [5, 5], // empty
        [9, 3], // reversed = empty
        [0, 10],
        [10, 12], // touches [0, 10): merged (half-open intervals tile)
        [25, 28], // inside [20, 30)
        [40, 50],
      ]),
    ).toEqual([
      [0, 12],
      [20, 30],
      [40, 50],
    ]);
    expect(normalize([])).toEqual([]);
  });

  it('unites lists', () => {
    expect(
      union(
        [
          [0, 10],
          [30, 40],
        ],
        [[5, 20]],
        [],
      ),
    ).toEqual([
      [0, 20],
      [30, 40],
    ]);
  });

  it('intersects; touching intervals share no instant', () => {
    expect(
      intersect(
        [
          [0, 10],
          [20, 30],
        ],
        [[5, 25]],
      ),
    ).toEqual([
      [5, 10],
      [20, 25],
    ]);
    expect(intersect([[0, 10]], [[10, 20]])).toEqual([]);
    expect(intersect([[0, 10]], [])).toEqual([]);
    // One long interval against many short ones: each short one survives whole.
    expect(
      intersect(
        [[0, 100]],
        [
          [1, 2],
          [3, 4],
          [99, 120],
        ],
      ),
    ).toEqual([
      [1, 2],
      [3, 4],
      [99, 100],
    ]);
  });

  it('intersects several lists; no list at all is nothing', () => {
    expect(
      intersectAll([
        [[0, 100]],
        [[10, 90]],
        [
          [0, 20],
          [80, 200],
        ],
      ]),
    ).toEqual([
      [10, 20],
      [80, 90],
    ]);
    expect(
      intersectAll([
        [
          [3, 4],
          [0, 2],
        ],
      ]),
    ).toEqual([
      [0, 2],
      [3, 4],
    ]);
    expect(intersectAll([])).toEqual([]);
  });

  it('clips to a span', () => {
    expect(
      clip(
        [
          [-5, 5],
          [8, 9],
          [12, 20],
        ],
        0,
        15,
      ),
    ).toEqual([
      [0, 5],
      [8, 9],
      [12, 15],
    ]);
  });

  it('complements within a span (the gaps)', () => {
    expect(
      complement(
        [
          [2, 4],
          [6, 8],
        ],
        0,
        10,
      ),
    ).toEqual([
      [0, 2],
      [4, 6],
      [8, 10],
    ]);
    expect(complement([], 0, 10)).toEqual([[0, 10]]);
    expect(complement([[-1, 11]], 0, 10)).toEqual([]);
    // Intervals reaching past the span are clipped first.
    expect(complement([[5, 50]], 0, 10)).toEqual([[0, 5]]);
  });

  it('subtracts', () => {
    expect(
      subtract(
        [[0, 10]],
        [
          [2, 3],
          [8, 12],
        ],
      ),
    ).toEqual([
      [0, 2],
      [3, 8],
    ]);
    expect(subtract([], [[0, 1]])).toEqual([]);
  });

  it('totals, counting overlaps once', () => {
    // [0,10) ∪ [5,15) = [0,15): 15, not 20.
    expect(
      total([
        [0, 10],
        [5, 15],
        [20, 21],
      ]),
    ).toBe(16);
    expect(total([])).toBe(0);
  });

  describe('agree with counting instants one by one (integers 0..40)', () => {
    const intervalArb = fc
      .tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 12 }))
      .map(([a, len]): Interval => [a, a + len]);
    const listArb = fc.array(intervalArb, { maxLength: 6 });
    /** The integer instants 0..59 a list covers. */
    const points = (list: readonly Interval[]) =>
      Array.from({ length: 60 }, (_, t) => t).filter((t) => list.some(([a, b]) => a <= t && t < b));

    it('union, intersection, complement, subtraction and total', () => {
      fc.assert(
        fc.property(
          listArb,
          listArb,
          fc.integer({ min: 0, max: 30 }),
          fc.integer({ min: 0, max: 30 }),
          (a, b, x, w) => {
            const pa = new Set(points(a));
            const pb = new Set(points(b));
            expect(points(union(a, b))).toEqual([...new Set([...pa, ...pb])].sort((p, q) => p - q));
            expect(points(intersect(a, b))).toEqual([...pa].filter((t) => pb.has(t)).sort((p, q) => p - q));
            expect(points(subtract(a, b))).toEqual([...pa].filter((t) => !pb.has(t)).sort((p, q) => p - q));
            const lo = x;
            const hi = x + w;
            const gaps = points(complement(a, lo, hi));
            for (let t = lo; t < hi; t++) expect(gaps.includes(t)).toBe(!pa.has(t));
            expect(total(a)).toBe(pa.size);
            // Normalised output: sorted, non-empty, neither overlapping nor touching.
            const n = normalize(a);
            for (let i = 0; i < n.length; i++) {
              expect(n[i]![1]).toBeGreaterThan(n[i]![0]);
              if (i > 0) expect(n[i]![0]).toBeGreaterThan(n[i - 1]![1]);
            }
          },
        ),
        { numRuns: 300 },
      );
    });
  });
});
