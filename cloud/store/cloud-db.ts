import { join } from 'node:path';
import type { CloudConfig } from '../config/schema.js';
import { PostgresSqlDatabase } from './postgres-database.js';
import type { SqlDatabase } from './sql-database.js';
import { SqliteSqlDatabase } from './sqlite-database.js';

/**
 * Schema history of the relay's store; append only. Each entry runs on both
 * SQLite and PostgreSQL (see sql-database.ts for the shared subset).
 */
export const CLOUD_MIGRATIONS = [
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

export interface CloudStoreOptions {
  dataDir: string;
  /** PostgreSQL connection string; SQLite in `dataDir` when absent. */
  postgresUrl?: string;
  /** PostgreSQL schema (tests give each suite its own). */
  postgresSchema?: string;
}

/** Open the relay's store: SQLite in `dataDir` (`:memory:` for tests) or PostgreSQL. */
export async function openCloudStore(options: CloudStoreOptions): Promise<SqlDatabase> {
  if (options.postgresUrl) {
    return PostgresSqlDatabase.open(options.postgresUrl, CLOUD_MIGRATIONS, {
      ...(options.postgresSchema ? { schema: options.postgresSchema } : {}),
    });
  }
  const path = options.dataDir === ':memory:' ? ':memory:' : join(options.dataDir, 'cloud.sqlite');
  return SqliteSqlDatabase.open(path, CLOUD_MIGRATIONS);
}

/** The store a relay configuration names. */
export function openConfiguredStore(config: Pick<CloudConfig, 'dataDir' | 'store'>): Promise<SqlDatabase> {
  const postgres = config.store.postgres;
  return openCloudStore({
    dataDir: config.dataDir,
    ...(postgres ? { postgresUrl: postgres.url, postgresSchema: postgres.schema } : {}),
  });
}
