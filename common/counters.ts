/**
 * Named counters with optional labels, e.g. `frames_dropped{reason="checksum"}`.
 * Every rejected input increments one, so bad input is visible, never silent.
 */
export class Counters {
  private values = new Map<string, number>();

  inc(name: string, labels?: Record<string, string>, by = 1): void {
    const key = Counters.key(name, labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  get(name: string, labels?: Record<string, string>): number {
    return this.values.get(Counters.key(name, labels)) ?? 0;
  }

  /** Sum over every label set of `name`. */
  total(name: string): number {
    let sum = 0;
    for (const [key, value] of this.values) {
      if (key === name || key.startsWith(`${name}{`)) sum += value;
    }
    return sum;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.values].sort(([a], [b]) => a.localeCompare(b)));
  }

  private static key(name: string, labels?: Record<string, string>): string {
    if (!labels) return name;
    const parts = Object.keys(labels)
      .sort()
      .map((k) => `${k}="${labels[k]}"`);
    return parts.length ? `${name}{${parts.join(',')}}` : name;
  }
}
