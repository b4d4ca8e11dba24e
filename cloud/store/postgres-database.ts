import pg from 'pg';
import type { SqlDatabase, SqlExecutor, SqlValue } from './sql-database.js';

/** `?` placeholders → `$1, $2, …` (our SQL never has a `?` inside a literal). */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;
/** BIGINT (epoch ms, counts) fits a double exactly up to 2^53: parse it as a number, like SQLite does. */
const types = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID || oid === NUMERIC_OID
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format ?? 'text'),
} as pg.CustomTypesConfig;

function executor(client: pg.Pool | pg.PoolClient): SqlExecutor {
  return {
    all: async <T>(sql: string, params: readonly SqlValue[] = []) =>
      (await client.query(numberPlaceholders(sql), params as SqlValue[])).rows as T[],
    get: async <T>(sql: string, params: readonly SqlValue[] = []) =>
      (await client.query(numberPlaceholders(sql), params as SqlValue[])).rows[0] as T | undefined,
    run: async (sql: string, params: readonly SqlValue[] = []) => ({
      changes: (await client.query(numberPlaceholders(sql), params as SqlValue[])).rowCount ?? 0,
    }),
  };
}

/**
 * PostgreSQL for several relay processes sharing one store. Transactions
 * run on one pooled connection at READ COMMITTED; the repositories claim
 * work with conditional updates (`… WHERE fired_at IS NULL`) so two
 * processes never both act on the same row.
 */
export class PostgresSqlDatabase implements SqlDatabase {
  readonly dialect = 'postgres' as const;
  private readonly direct: SqlExecutor;

  private constructor(readonly pool: pg.Pool) {
    this.direct = executor(pool);
  }

  /**
   * Connect, and apply the migrations once (an advisory lock keeps two
   * processes starting together from both migrating).
   */
  static async open(
    connectionString: string,
    migrations: readonly string[],
    options: { schema?: string; max?: number } = {},
  ): Promise<PostgresSqlDatabase> {
    const pool = new pg.Pool({
      connectionString,
      max: options.max ?? 10,
      types,
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    });
    // An idle client's error (server restart) must not crash the relay; the next query reconnects.
    pool.on('error', () => undefined);
    const db = new PostgresSqlDatabase(pool);
    try {
      if (options.schema)
        await pool.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema.replace(/"/g, '')}"`);
      await db.migrate(migrations);
    } catch (err) {
      await pool.end();
      throw err;
    }
    return db;
  }

  private async migrate(migrations: readonly string[]): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock(7262001)');
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)',
      );
      const done = await client.query('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations');
      for (let v = Number(done.rows[0]?.v ?? 0); v < migrations.length; v++) {
        await client.query('BEGIN');
        try {
          await client.query(migrations[v]!);
          await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [
            v + 1,
            new Date().toISOString(),
          ]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw err;
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock(7262001)').catch(() => undefined);
      client.release();
    }
  }

  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.direct.all<T>(sql, params);
  }

  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return this.direct.get<T>(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    return this.direct.run(sql, params);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(executor(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
