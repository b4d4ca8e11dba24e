import { timingSafeEqual } from 'node:crypto';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Counters } from './counters.js';

/**
 * Prometheus exposition shared by the gateway and the cloud relay
 * (docs/metrics.md). Each program instance has its own registry (tests
 * run several relays and gateways in one process, so prom-client's global
 * registry is never used); the process metrics (CPU, memory, event loop,
 * GC) belong to the process and live in one registry of their own, added
 * to every instance's scrape.
 */

export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

let processMetrics: Registry | null = null;

/**
 * The process's own metrics (`process_*`, `nodejs_*`), collected once per
 * process: prom-client's collector starts an event-loop monitor and a GC
 * observer that are never stopped, so one per relay or gateway would pile up.
 */
export function processMetricsRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

/** The text exposition of an instance's registry followed by the process metrics. */
export async function renderMetrics(registry: Registry): Promise<string> {
  const [own, proc] = await Promise.all([registry.metrics(), processMetricsRegistry().metrics()]);
  return `${own.trimEnd()}\n${proc.trimEnd()}\n`;
}

/** Where a Prometheus counter reads its value from: one named counter of {@link Counters}, plus fixed labels. */
export interface CounterSource {
  counter: string;
  labels?: Record<string, string>;
}

/** One Prometheus counter read from {@link Counters} at scrape time. */
export interface CounterMetricSpec {
  /** Without the program prefix and without `_total` (added here). */
  name: string;
  help: string;
  labelNames?: readonly string[];
  /** Default: the counter of the same name. */
  from?: readonly CounterSource[];
}

/**
 * Expose the program's {@link Counters} as Prometheus counters, read when
 * scraped (no second copy of the numbers to keep in step). Labels a
 * counter carries beyond a spec's `labelNames` are summed over; counters
 * no spec names go to `<prefix>other_counters_total{counter}`, so a new
 * counter is never invisible before it is catalogued.
 */
export function registerCounters(
  registry: Registry,
  counters: Counters,
  prefix: string,
  specs: readonly CounterMetricSpec[],
): void {
  const catalogued = new Set<string>();
  for (const spec of specs) {
    const sources = spec.from ?? [{ counter: spec.name }];
    for (const s of sources) catalogued.add(s.counter);
    const labelNames = [...(spec.labelNames ?? [])];
    new Counter({
      name: `${prefix}${spec.name}_total`,
      help: spec.help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const entry of counters.entries()) {
          const source = sources.find((s) => s.counter === entry.name);
          if (!source) continue;
          const all: Record<string, string | undefined> = { ...entry.labels, ...source.labels };
          const labels = Object.fromEntries(labelNames.map((l) => [l, String(all[l] ?? '')]));
          this.inc(labels, entry.value);
        }
      },
    });
  }
  new Counter({
    name: `${prefix}other_counters_total`,
    help: 'Counters not (yet) in the metrics catalogue, by counter name, summed over their labels (labels in /api/counters or /status).',
    labelNames: ['counter'],
    registers: [registry],
    collect() {
      this.reset();
      for (const entry of counters.entries()) {
        if (!catalogued.has(entry.name)) this.inc({ counter: entry.name }, entry.value);
      }
    },
  });
}

export interface GaugeSeries {
  labels?: Record<string, string>;
  value: number;
}

/**
 * A gauge whose values are read when scraped: `read` returns every series
 * (an empty list leaves a labelled gauge without series; one without labels then reads 0).
 */
export function registerGauge(
  registry: Registry,
  spec: {
    name: string;
    help: string;
    labelNames?: readonly string[];
    /** A read that fails leaves the gauge without series for this scrape (the rest of the scrape still works). */
    onError?: (err: unknown) => void;
  },
  read: () => readonly GaugeSeries[] | Promise<readonly GaugeSeries[]>,
): void {
  new Gauge({
    name: spec.name,
    help: spec.help,
    labelNames: [...(spec.labelNames ?? [])],
    registers: [registry],
    async collect() {
      let series: readonly GaugeSeries[] = [];
      try {
        series = await read();
      } catch (err) {
        if (!spec.onError) throw err;
        spec.onError(err);
      }
      this.reset();
      for (const s of series) {
        if (s.labels) this.set(s.labels, s.value);
        else this.set(s.value);
      }
    },
  });
}

/** Whether an `Authorization` header carries `Bearer <token>` (compared in constant time). */
export function bearerTokenMatches(authorization: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) return false;
  const given = Buffer.from(match[1]!);
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}
