import type { Counters } from '../../common/counters.js';
import type { SqliteDatabase } from '../../common/sqlite.js';
import type { Reading } from './reading.js';

export interface SpooledReading {
  seq: number;
  reading: Reading;
}

/**
 * The durable overflow of the telemetry path: readings InfluxDB could not
 * take wait here in SQLite, in arrival order with their original
 * timestamps, until it can. Bounded: beyond `maxPoints` the oldest readings
 * are dropped, counted (`readings_dropped{reason="spool_full"}`) and
 * reported in the heartbeat — newest data is worth more to the staff.
 * Readings InfluxDB rejects for good are moved to a quarantine table with
 * the error, for an engineer to look at; they are never retried.
 */
export class TelemetrySpool {
  private count: number;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly maxPoints: number,
    private readonly counters: Counters,
  ) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS telemetry_spool (seq INTEGER PRIMARY KEY AUTOINCREMENT, reading TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS telemetry_quarantine (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, reading TEXT NOT NULL, error TEXT NOT NULL, at_ms INTEGER NOT NULL
      );
    `);
    this.count = (db.prepare(`SELECT COUNT(*) AS n FROM telemetry_spool`).get() as { n: number }).n;
  }

  get depth(): number {
    return this.count;
  }

  /** Append readings; drops the oldest beyond the bound and returns how many were dropped. */
  append(readings: readonly Reading[]): number {
    if (!readings.length) return 0;
    return this.db.transaction(() => {
      const insert = this.db.prepare(`INSERT INTO telemetry_spool (reading) VALUES (?)`);
      for (const r of readings) insert.run(JSON.stringify(r));
      this.count += readings.length;
      const excess = this.count - this.maxPoints;
      if (excess <= 0) return 0;
      this.db
        .prepare(
          `DELETE FROM telemetry_spool WHERE seq IN (SELECT seq FROM telemetry_spool ORDER BY seq LIMIT ?)`,
        )
        .run(excess);
      this.count -= excess;
      this.counters.inc('readings_dropped', { reason: 'spool_full' }, excess);
      return excess;
    })();
  }

  /** The oldest `limit` readings, in order. */
  peek(limit: number): SpooledReading[] {
    const rows = this.db
      .prepare(`SELECT seq, reading FROM telemetry_spool ORDER BY seq LIMIT ?`)
      .all(limit) as { seq: number; reading: string }[];
    return rows.map((r) => ({ seq: r.seq, reading: JSON.parse(r.reading) as Reading }));
  }

  /** Remove readings that were written (or quarantined). */
  remove(items: readonly SpooledReading[]): void {
    if (!items.length) return;
    const last = items[items.length - 1]!.seq;
    const first = items[0]!.seq;
    const removed = this.db
      .prepare(`DELETE FROM telemetry_spool WHERE seq BETWEEN ? AND ?`)
      .run(first, last).changes;
    this.count -= removed;
  }

  quarantine(readings: readonly Reading[], error: string, atMs: number): void {
    const insert = this.db.prepare(
      `INSERT INTO telemetry_quarantine (reading, error, at_ms) VALUES (?, ?, ?)`,
    );
    this.db.transaction(() => {
      for (const r of readings) insert.run(JSON.stringify(r), error.slice(0, 1000), atMs);
    })();
    this.counters.inc('readings_quarantined', undefined, readings.length);
  }

  quarantined(): number {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM telemetry_quarantine`).get() as { n: number }).n;
  }
}
