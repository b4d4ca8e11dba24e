import type { SqliteDatabase } from '../../common/sqlite.js';
import type { MetricName, MetricValue } from '../telemetry/reading.js';

/** Metrics whose last value the rules need after a restart (they are reported only when they change). */
export const REMEMBERED_METRICS: ReadonlySet<MetricName> = new Set<MetricName>([
  'in_bed',
  'contact_open',
  'fall',
  'stationary_residency',
  'presence',
  'smoke',
  'gas',
  'water_leak',
]);

/**
 * The last known value of state-like metrics per device, kept in SQLite so a
 * restarted gateway still knows the resident is out of bed or the door is
 * open. Only values that change are written (a few writes a day).
 */
export class LatestState {
  private readonly cache = new Map<string, { value: MetricValue; atMs: number }>();
  private readonly before = new Map<string, MetricValue | undefined>();

  constructor(private readonly db: SqliteDatabase) {
    const rows = db.prepare(`SELECT device_id, metric, value, at_ms FROM latest_state`).all() as {
      device_id: string;
      metric: string;
      value: string;
      at_ms: number;
    }[];
    for (const r of rows)
      this.cache.set(`${r.device_id}\0${r.metric}`, { value: JSON.parse(r.value), atMs: r.at_ms });
  }

  update(deviceId: string, metric: MetricName, value: MetricValue, atMs: number): boolean {
    if (!REMEMBERED_METRICS.has(metric)) return false;
    const key = `${deviceId}\0${metric}`;
    const known = this.cache.get(key);
    if (known && known.value === value) return false;
    this.before.set(key, known?.value);
    this.cache.set(key, { value, atMs });
    this.db
      .prepare(
        `INSERT INTO latest_state (device_id, metric, value, at_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT(device_id, metric) DO UPDATE SET value = excluded.value, at_ms = excluded.at_ms`,
      )
      .run(deviceId, metric, JSON.stringify(value), atMs);
    return true;
  }

  /** The value before the last change (undefined if the last change was the first value known). */
  previous(deviceId: string, metric: MetricName): MetricValue | undefined {
    return this.before.get(`${deviceId}\0${metric}`);
  }

  get(deviceId: string, metric: MetricName): { value: MetricValue; atMs: number } | undefined {
    return this.cache.get(`${deviceId}\0${metric}`);
  }
}
