import { join } from 'node:path';
import { openSqlite, type SqliteDatabase } from '../../common/sqlite.js';

/** Schema history of the gateway's store; append only. */
const MIGRATIONS = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms INTEGER NOT NULL,
    stored_at_ms INTEGER,
    acknowledged_at_ms INTEGER,
    resolved_at_ms INTEGER
  );
  CREATE INDEX outbox_pending ON outbox (stored_at_ms, seq);
  `,
  `
  CREATE TABLE active_alarms (
    key TEXT PRIMARY KEY,
    alarm_id TEXT NOT NULL,
    type TEXT NOT NULL,
    severity TEXT NOT NULL,
    device_id TEXT,
    raised_at_ms INTEGER NOT NULL
  );
  CREATE TABLE alarm_history (key TEXT PRIMARY KEY, last_raised_at_ms INTEGER NOT NULL);
  `,
  `
  CREATE TABLE deadlines (key TEXT PRIMARY KEY, kind TEXT NOT NULL, due_at_ms INTEGER NOT NULL, payload TEXT);
  CREATE TABLE latest_state (
    device_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    value TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    PRIMARY KEY (device_id, metric)
  );
  `,
];

export function openGatewayDb(dataDir: string): SqliteDatabase {
  return openSqlite(dataDir === ':memory:' ? ':memory:' : join(dataDir, 'gateway.sqlite'), MIGRATIONS);
}
