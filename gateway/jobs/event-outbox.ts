import type { Clock, TimerHandle } from '../../common/clock.js';
import type { Counters } from '../../common/counters.js';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { SqliteDatabase } from '../../common/sqlite.js';
import { encodePayload, type GatewayEventMessage, gatewayEventSchema } from '../../contract/index.js';

export interface EventOutboxOptions {
  /**
   * Events kept while the cloud is unreachable; the oldest are dropped
   * (`events_dropped`) beyond it. Default 1 000.
   */
  maxEvents: number;
  /** First wait after a failed publish; doubles up to the max. Default 5 000 ms. */
  retryInitialMs: number;
  /** Default 300 000 ms. */
  retryMaxMs: number;
}

export const DEFAULT_EVENT_OUTBOX_OPTIONS: EventOutboxOptions = {
  maxEvents: 1_000,
  retryInitialMs: 5_000,
  retryMaxMs: 300_000,
};

/**
 * A small durable queue for the cloud `event` topic, so a daily summary made
 * while the cloud link is down is sent when it is back rather than lost.
 * Events are not alarms: they go on their own lane (never in front of an
 * alarm), are published in order with QoS 1 and are done at the broker's
 * PUBACK. Kept in SQLite table `event_outbox`, bounded by `maxEvents`.
 * Counters: `events_published{kind}`, `events_publish_failures`, `events_dropped`.
 */
export class EventOutbox {
  private timer: TimerHandle | null = null;
  private draining = false;
  private failures = 0;
  private started = false;
  private tableReady = false;

  constructor(
    private readonly db: SqliteDatabase,
    /** Publishes one JSON payload on the `event` topic, e.g. `(p) => cloud.publish('event', p)`. */
    private readonly publish: (payload: string) => Promise<void>,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly counters: Counters,
    private readonly options: EventOutboxOptions = DEFAULT_EVENT_OUTBOX_OPTIONS,
  ) {}

  start(): void {
    this.ensureTable();
    this.started = true;
    this.soon(0);
  }

  stop(): void {
    this.started = false;
    this.timer?.cancel();
    this.timer = null;
  }

  /**
   * Validate and commit an event; it is sent as soon as the link allows.
   * Synchronous, so a caller inside a SQLite transaction on the same database
   * commits the event together with its own state.
   *
   * @throws ZodError when the event does not match the contract (a bug in the caller).
   */
  enqueue(event: GatewayEventMessage): void {
    const payload = encodePayload(gatewayEventSchema, event);
    this.ensureTable();
    this.db
      .prepare(`INSERT INTO event_outbox (kind, payload, created_at_ms) VALUES (?, ?, ?)`)
      .run(event.kind, payload, this.clock.now());
    const dropped = this.db
      .prepare(
        `DELETE FROM event_outbox WHERE seq IN (SELECT seq FROM event_outbox ORDER BY seq DESC LIMIT -1 OFFSET ?)`,
      )
      .run(this.options.maxEvents).changes;
    if (dropped > 0) {
      this.counters.inc('events_dropped', undefined, dropped);
      this.logger.warn({ dropped }, 'event outbox full: oldest events dropped');
    }
    if (this.started && !this.draining) this.soon(0);
  }

  /** Send now, forgetting any backoff (call it when the cloud link connects). */
  kick(): void {
    this.failures = 0;
    if (this.started && !this.draining) this.soon(0);
  }

  depth(): number {
    this.ensureTable();
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM event_outbox`).get() as { n: number }).n;
  }

  private ensureTable(): void {
    if (this.tableReady) return;
    this.db.exec(`CREATE TABLE IF NOT EXISTS event_outbox (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      kind TEXT NOT NULL,
      payload TEXT NOT NULL,
      created_at_ms INTEGER NOT NULL
    )`);
    this.tableReady = true;
  }

  private soon(delayMs: number): void {
    this.timer?.cancel();
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      void this.drain();
    }, delayMs);
  }

  private async drain(): Promise<void> {
    if (this.draining || !this.started) return;
    this.draining = true;
    try {
      for (;;) {
        if (!this.started) return;
        const row = this.db
          .prepare(`SELECT seq, kind, payload FROM event_outbox ORDER BY seq LIMIT 1`)
          .get() as { seq: number; kind: string; payload: string } | undefined;
        if (!row) return;
        try {
          await this.publish(row.payload);
        } catch (err) {
          this.failures++;
          this.counters.inc('events_publish_failures');
          const delay = Math.min(
            this.options.retryMaxMs,
            this.options.retryInitialMs * 2 ** Math.min(this.failures - 1, 20),
          );
          if (this.failures === 1) {
            this.logger.info(
              { err: errorMessage(err), retryMs: delay },
              'event not published yet; will retry',
            );
          }
          if (this.started) this.soon(delay);
          return;
        }
        this.failures = 0;
        this.db.prepare(`DELETE FROM event_outbox WHERE seq = ?`).run(row.seq);
        this.counters.inc('events_published', { kind: row.kind });
      }
    } finally {
      this.draining = false;
    }
  }
}
