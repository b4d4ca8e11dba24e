/**
 * Half-open time intervals `[start, end)` in epoch milliseconds, and the few
 * set operations the statistics need. Half-open so that adjacent intervals
 * (`[a, b)` and `[b, c)`) tile a span without overlap and lengths simply add.
 *
 * Every function returns a *normalised* list: sorted by start, no empty
 * intervals, no two intervals overlapping or touching (touching ones are
 * merged). Inputs need not be normalised unless a parameter says so.
 */

/** `[start, end)` in epoch ms; empty when `end <= start`. */
export type Interval = readonly [start: number, end: number];

/** Sort, drop empty intervals, merge overlapping and touching ones. */
export function normalize(intervals: readonly Interval[]): Interval[] {
  const sorted = intervals.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const out: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) {
      if (b > last[1]) last[1] = b;
    } else {
      out.push([a, b]);
    }
  }
  return out;
}

/** Every instant that lies in at least one interval of any list. */
export function union(...lists: readonly (readonly Interval[])[]): Interval[] {
  return normalize(lists.flat());
}

/** Every instant that lies in both `a` and `b`. */
export function intersect(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const x = normalize(a);
  const y = normalize(b);
  const out: Interval[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    const [a0, a1] = x[i]!;
    const [b0, b1] = y[j]!;
    const lo = Math.max(a0, b0);
    const hi = Math.min(a1, b1);
    if (hi > lo) out.push([lo, hi]);
    // Drop whichever ends first: it cannot meet anything later in the other list.
    if (a1 < b1) i++;
    else j++;
  }
  return out;
}

/** Every instant that lies in all the lists; with no list at all, nothing (there is no universe). */
export function intersectAll(lists: readonly (readonly Interval[])[]): Interval[] {
  const [first, ...rest] = lists;
  if (!first) return [];
  return rest.reduce<Interval[]>((acc, list) => intersect(acc, list), normalize(first));
}

/** The parts of `intervals` inside `[from, to)`. */
export function clip(intervals: readonly Interval[], from: number, to: number): Interval[] {
  return intersect(intervals, [[from, to]]);
}

/** The parts of `[from, to)` covered by no interval of the list (the gaps). */
export function complement(intervals: readonly Interval[], from: number, to: number): Interval[] {
  const out: Interval[] = [];
  let cursor = from;
  for (const [a, b] of clip(intervals, from, to)) {
    if (a > cursor) out.push([cursor, a]);
    cursor = b;
  }
  if (to > cursor) out.push([cursor, to]);
  return out;
}

/** The parts of `a` not in `b`. */
export function subtract(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const x = normalize(a);
  if (x.length === 0) return [];
  const from = x[0]![0];
  const to = x[x.length - 1]![1];
  return intersect(x, complement(b, from, to));
}

/** Total length in ms; overlapping intervals are counted once. */
export function total(intervals: readonly Interval[]): number {
  return normalize(intervals).reduce((sum, [a, b]) => sum + (b - a), 0);
}
