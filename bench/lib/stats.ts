/**
 * Summaries of measured samples. Percentiles use the nearest-rank method (the
 * value at rank ⌈p·n⌉ of the sorted samples): every figure reported is a value
 * that was actually measured, never an interpolation between two.
 */

export interface Summary {
  /** How many samples. */
  n: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** The nearest-rank `p` percentile (0 < p ≤ 100) of already sorted samples. */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of no samples');
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile ${p} is not in (0, 100]`);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/** Summary of `samples` (any order; not modified). Throws on an empty list or a non-finite sample. */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new RangeError('summary of no samples');
  for (const s of samples)
    if (!Number.isFinite(s)) throw new RangeError(`sample ${s} is not a finite number`);
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    min: sorted[0] as number,
    p50: percentileOfSorted(sorted, 50),
    p90: percentileOfSorted(sorted, 90),
    p99: percentileOfSorted(sorted, 99),
    max: sorted[sorted.length - 1] as number,
    mean: sum / sorted.length,
  };
}

/** Round to `digits` decimals for reporting (the JSON keeps what a reader can use, not float noise). */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** A summary with every figure rounded (milliseconds to 0.01 ms by default). */
export function roundSummary(summary: Summary, digits = 2): Summary {
  return {
    n: summary.n,
    min: round(summary.min, digits),
    p50: round(summary.p50, digits),
    p90: round(summary.p90, digits),
    p99: round(summary.p99, digits),
    max: round(summary.max, digits),
    mean: round(summary.mean, digits),
  };
}
