import { openSqlite, type SqliteDatabase } from '../../common/sqlite.js';
import type { SqlDatabase, SqlExecutor, SqlValue } from './sql-database.js';

/**
 * SQLite behind the async interface. better-sqlite3 is synchronous, so a
 * statement never interleaves with another; a transaction spans awaits,
 * though, so transactions (and statements arriving meanwhile) take turns
 * through a queue. WAL with `synchronous=FULL` (common/sqlite.ts): committed
 * means on disk.
 */
export class SqliteSqlDatabase implements SqlDatabase {
  readonly dialect = 'sqlite' as const;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly direct: SqlExecutor;

  constructor(private readonly db: SqliteDatabase) {
    this.direct = {
      all: async <T>(sql: string, params: readonly SqlValue[] = []) => db.prepare(sql).all(...params) as T[],
      get: async <T>(sql: string, params: readonly SqlValue[] = []) =>
        db.prepare(sql).get(...params) as T | undefined,
      run: async (sql: string, params: readonly SqlValue[] = []) => ({
        changes: db.prepare(sql).run(...params).changes,
      }),
    };
  }

  /** Open (creating folders) and apply the migrations. */
  static open(path: string, migrations: readonly string[]): SqliteSqlDatabase {
    return new SqliteSqlDatabase(openSqlite(path, migrations));
  }

  private turn<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work, work);
    this.queue = result.catch(() => undefined);
    return result;
  }

  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.turn(() => this.direct.all<T>(sql, params));
  }

  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return this.turn(() => this.direct.get<T>(sql, params));
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    return this.turn(() => this.direct.run(sql, params));
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.turn(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.direct);
        this.db.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    await this.queue;
    this.db.close();
  }
}
