import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export type SqliteDatabase = Database.Database;

/**
 * Open a SQLite file for durable state. WAL with `synchronous=FULL`: a
 * committed alarm survives a power cut, which is the whole point of the
 * outbox; the cost is one fsync per commit, fine for alarm rates.
 */
export function openSqlite(path: string, migrations: readonly string[]): SqliteDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, migrations);
  cacheStatements(db);
  return db;
}

/**
 * Keep each prepared statement by its SQL text: the stores prepare at the point of use, and
 * better-sqlite3's prepare() compiles the SQL every time (a CPU profile of the gateway at 10k readings/s
 * found it among the top costs). Statements are reusable; none of our code iterates one while running
 * it again (no `.iterate()`), which is the one case a shared statement would refuse.
 */
const MAX_CACHED_STATEMENTS = 500;

function cacheStatements(db: SqliteDatabase): void {
  const prepare = db.prepare.bind(db);
  const cache = new Map<string, ReturnType<typeof prepare>>();
  db.prepare = ((source: string) => {
    let statement = cache.get(source);
    if (!statement) {
      statement = prepare(source);
      // SQL built per call (an IN list of varying length) must not grow the cache without end.
      if (cache.size >= MAX_CACHED_STATEMENTS) cache.clear();
      cache.set(source, statement);
    }
    return statement;
  }) as typeof db.prepare;
}

/** Apply numbered migrations once each, in order, recorded in `user_version`. */
function migrate(db: SqliteDatabase, migrations: readonly string[]): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
