import type { SqlDatabase } from '../store/sql-database.js';

/** `?, ?, ?` for an `IN (…)` list of `n` values (n ≥ 1). */
export function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

/**
 * ` FOR UPDATE` on PostgreSQL, where two relay processes may change the same
 * row at once; nothing on SQLite, whose transactions already exclude each other.
 */
export function forUpdate(dialect: SqlDatabase['dialect']): string {
  return dialect === 'postgres' ? ' FOR UPDATE' : '';
}
