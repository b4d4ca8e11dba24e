import { join } from 'node:path';
import { openSqlite, type SqliteDatabase } from '../../common/sqlite.js';

/** Schema history of the cloud's SQLite store; append only. */
const MIGRATIONS = [
  `
  CREATE TABLE gateways (
    id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT,
    status TEXT,
    last_heartbeat TEXT
  );
  CREATE TABLE alarms (
    id TEXT PRIMARY KEY,
    gateway_id TEXT NOT NULL,
    bed_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    severity TEXT NOT NULL,
    state TEXT NOT NULL,
    at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    device_id TEXT,
    refers_to TEXT,
    message TEXT,
    evidence TEXT NOT NULL,
    deliveries INTEGER NOT NULL DEFAULT 1
  );
  CREATE INDEX alarms_received ON alarms (received_at DESC, id DESC);
  CREATE INDEX alarms_gateway_seq ON alarms (gateway_id, seq);
  `,
  `
  ALTER TABLE alarms ADD COLUMN acknowledged_at TEXT;
  ALTER TABLE alarms ADD COLUMN acknowledged_by TEXT;
  ALTER TABLE alarms ADD COLUMN resolved_at TEXT;
  ALTER TABLE alarms ADD COLUMN resolved_by TEXT;
  ALTER TABLE alarms ADD COLUMN outcome TEXT;
  ALTER TABLE alarms ADD COLUMN notes TEXT;
  CREATE INDEX alarms_gateway_handled ON alarms (gateway_id, acknowledged_at);
  `,
];

export function openCloudDb(dataDir: string): SqliteDatabase {
  return openSqlite(dataDir === ':memory:' ? ':memory:' : join(dataDir, 'cloud.sqlite'), MIGRATIONS);
}
