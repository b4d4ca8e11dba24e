import { describe, expect, it } from 'vitest';
import { percentileOfSorted, roundSummary, summarize } from '../../../bench/lib/stats.js';

describe('bench stats (nearest-rank percentiles)', () => {
  it('reports measured values only: p50 of 1..10 is 5, p90 is 9, p99 is 10', () => {
    const s = summarize([10, 1, 9, 2, 8, 3, 7, 4, 6, 5]);
    expect(s).toEqual({ n: 10, min: 1, p50: 5, p90: 9, p99: 10, max: 10, mean: 5.5 });
  });

  it('on 1000 samples p99 is the 990th smallest, so the ten slowest are above it', () => {
    const samples = Array.from({ length: 1000 }, (_, i) => i + 1).reverse();
    const s = summarize(samples);
    expect(s.p99).toBe(990);
    expect(s.p50).toBe(500);
  });

  it('one sample is every percentile', () => {
    expect(summarize([42])).toMatchObject({ min: 42, p50: 42, p99: 42, max: 42 });
  });

  it('does not reorder the caller’s array', () => {
    const samples = [3, 1, 2];
    summarize(samples);
    expect(samples).toEqual([3, 1, 2]);
  });

  it('refuses no samples, NaN and percentiles outside (0, 100]', () => {
    expect(() => summarize([])).toThrow(/no samples/);
    expect(() => summarize([1, Number.NaN])).toThrow(/not a finite/);
    expect(() => percentileOfSorted([1], 0)).toThrow(/not in/);
    expect(() => percentileOfSorted([1], 101)).toThrow(/not in/);
  });

  it('rounds a summary for the report', () => {
    expect(roundSummary(summarize([1.234, 5.678]), 1)).toMatchObject({ min: 1.2, max: 5.7, mean: 3.5 });
  });
});
