import type { Clock, TimerHandle } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';
import type { SqliteDatabase } from '../../common/sqlite.js';

export type DeadlineHandler = (key: string, payload: unknown, dueAtMs: number) => void;

interface DeadlineRow {
  key: string;
  kind: string;
  due_at_ms: number;
  payload: string | null;
}

/**
 * Rule timers as deadlines in the gateway's SQLite store (care-rules.md:
 * general home-automation timers lose their alarm on a power cut; these do
 * not). A deadline fires at its original time, or at once after a restart
 * if that time has passed; the row is deleted in the same transaction as
 * whatever the handler commits, so it fires exactly once.
 */
export class DeadlineScheduler {
  private readonly handlers = new Map<string, DeadlineHandler>();
  private readonly timers = new Map<string, TimerHandle>();
  /**
   * Keys that have a row, once started: cancel() of a key without one (most readings cancel a
   * deadline that was never set) then costs no DELETE and no fsync. A key stays here after a handler's
   * rollback, since its row does.
   */
  private readonly stored = new Set<string>();
  private started = false;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Called when a handler failed and its transaction rolled back (caches built on the store resync). */
    private readonly onRollback: () => void = () => {},
  ) {}

  /** Register the handler for one kind of deadline (before start). */
  on(kind: string, handler: DeadlineHandler): void {
    this.handlers.set(kind, handler);
  }

  /** Arm every stored deadline: those already due fire now, in due order. */
  start(): void {
    this.started = true;
    const rows = this.db.prepare(`SELECT * FROM deadlines ORDER BY due_at_ms, key`).all() as DeadlineRow[];
    for (const row of rows) {
      this.stored.add(row.key);
      this.arm(row.key, row.due_at_ms);
    }
    if (rows.length) this.logger.info({ deadlines: rows.length }, 'restored rule deadlines');
  }

  stop(): void {
    this.started = false;
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }

  /** Set (or move) the deadline under `key`. */
  schedule(key: string, kind: string, dueAtMs: number, payload?: unknown): void {
    this.db
      .prepare(
        `INSERT INTO deadlines (key, kind, due_at_ms, payload) VALUES (?, ?, ?, ?)
         ON CONFLICT(key) DO UPDATE SET kind = excluded.kind, due_at_ms = excluded.due_at_ms, payload = excluded.payload`,
      )
      .run(key, kind, dueAtMs, payload === undefined ? null : JSON.stringify(payload));
    this.stored.add(key);
    if (this.started) this.arm(key, dueAtMs);
  }

  cancel(key: string): boolean {
    this.timers.get(key)?.cancel();
    this.timers.delete(key);
    if (this.started && !this.stored.has(key)) return false;
    this.stored.delete(key);
    return this.db.prepare(`DELETE FROM deadlines WHERE key = ?`).run(key).changes > 0;
  }

  dueAt(key: string): number | null {
    const row = this.db.prepare(`SELECT due_at_ms FROM deadlines WHERE key = ?`).get(key) as
      | { due_at_ms: number }
      | undefined;
    return row?.due_at_ms ?? null;
  }

  pending(): { key: string; kind: string; dueAtMs: number }[] {
    return (
      this.db.prepare(`SELECT key, kind, due_at_ms FROM deadlines ORDER BY due_at_ms`).all() as DeadlineRow[]
    ).map((r) => ({ key: r.key, kind: r.kind, dueAtMs: r.due_at_ms }));
  }

  private arm(key: string, dueAtMs: number): void {
    this.timers.get(key)?.cancel();
    this.timers.set(
      key,
      this.clock.setTimeout(() => this.fire(key), Math.max(0, dueAtMs - this.clock.now())),
    );
  }

  private fire(key: string): void {
    this.timers.delete(key);
    try {
      this.db.transaction(() => {
        const row = this.db.prepare(`SELECT * FROM deadlines WHERE key = ?`).get(key) as
          | DeadlineRow
          | undefined;
        if (!row) return;
        this.db.prepare(`DELETE FROM deadlines WHERE key = ?`).run(key);
        const handler = this.handlers.get(row.kind);
        if (!handler) {
          this.logger.error({ key, kind: row.kind }, 'deadline without a handler dropped');
          return;
        }
        handler(key, row.payload === null ? undefined : JSON.parse(row.payload), row.due_at_ms);
      })();
      // Committed: the row is gone (unless the handler scheduled the key again).
      if (!this.timers.has(key)) this.stored.delete(key);
    } catch (err) {
      // The transaction rolled back: the deadline is still stored and fires again after a restart.
      this.logger.error({ err, key }, 'deadline handler failed');
      this.onRollback();
    }
  }
}
