export interface CounterEntry {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Named counters with optional labels, e.g. `frames_dropped{reason="checksum"}`.
 * Every rejected input increments one, so bad input is visible, never silent.
 * Prometheus reads them at scrape time (common/metrics.ts).
 */
export class Counters {
  private values = new Map<string, CounterEntry>();

  inc(name: string, labels?: Record<string, string>, by = 1): void {
    const key = Counters.key(name, labels);
    const entry = this.values.get(key);
    if (entry) entry.value += by;
    else this.values.set(key, { name, labels: { ...labels }, value: by });
  }

  get(name: string, labels?: Record<string, string>): number {
    return this.values.get(Counters.key(name, labels))?.value ?? 0;
  }

  /** Sum over every label set of `name`. */
  total(name: string): number {
    let sum = 0;
    for (const entry of this.values.values()) {
      if (entry.name === name) sum += entry.value;
    }
    return sum;
  }

  /** Every counter with its labels kept apart (for the Prometheus exposition). */
  entries(): readonly Readonly<CounterEntry>[] {
    return [...this.values.values()];
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(
      [...this.values].map(([key, e]) => [key, e.value] as const).sort(([a], [b]) => a.localeCompare(b)),
    );
  }

  private static key(name: string, labels?: Record<string, string>): string {
    if (!labels) return name;
    const parts = Object.keys(labels)
      .sort()
      .map((k) => `${k}="${labels[k]}"`);
    return parts.length ? `${name}{${parts.join(',')}}` : name;
  }
}
