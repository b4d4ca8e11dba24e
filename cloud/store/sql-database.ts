/**
 * The relay's storage seam: one async SQL interface that SQLite (the
 * default, one process) and PostgreSQL (scale-out, several relay
 * processes) both implement, so every repository is written once and one
 * contract suite runs against both.
 *
 * SQL is written once, in the subset both dialects share: `?` placeholders
 * (the PostgreSQL driver numbers them), `INSERT … ON CONFLICT … DO NOTHING`,
 * `RETURNING`, TEXT/BIGINT/DOUBLE PRECISION columns, ISO-8601 UTC text for
 * times (sorts like time in both).
 */
export type SqlValue = string | number | null;

export interface SqlExecutor {
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** A statement without rows; `changes` is the number of rows it inserted, updated or deleted. */
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
}

export interface SqlDatabase extends SqlExecutor {
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * Run `fn` in one transaction: committed when it resolves, rolled back when
   * it throws. Inside, use only `tx`: on SQLite other callers wait until the
   * transaction ends, so calling the outer database from `fn` would deadlock.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Numbers come back as numbers from both drivers (PostgreSQL's BIGINT and COUNT are parsed). */
export function num(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}
