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
  // 3: the monitoring centre's domain (issue 6). JSON columns are TEXT; booleans INTEGER 0/1.
  `
  CREATE TABLE organisations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE beds (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    resident_name TEXT NOT NULL,
    address TEXT NOT NULL,
    contacts TEXT NOT NULL,
    risk_tags TEXT NOT NULL,
    install_date TEXT,
    state TEXT NOT NULL,
    notes TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX beds_organisation ON beds (organisation_id, id);
  CREATE INDEX alarms_bed ON alarms (bed_id, received_at);
  ALTER TABLE gateways ADD COLUMN organisation_id TEXT;
  ALTER TABLE gateways ADD COLUMN bed_id TEXT;
  ALTER TABLE gateways ADD COLUMN offline_alarm_id TEXT;
  ALTER TABLE gateways ADD COLUMN heartbeat_interval_ms BIGINT;
  CREATE INDEX gateways_bed ON gateways (bed_id);
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    organisation_id TEXT REFERENCES organisations (id),
    password_hash TEXT NOT NULL,
    phone TEXT,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE TABLE user_beds (
    user_id TEXT NOT NULL REFERENCES users (id),
    bed_id TEXT NOT NULL REFERENCES beds (id),
    relation TEXT,
    PRIMARY KEY (user_id, bed_id)
  );
  CREATE INDEX user_beds_bed ON user_beds (bed_id);
  CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    last_used_at TEXT NOT NULL,
    revoked_at TEXT
  );
  CREATE INDEX sessions_user ON sessions (user_id);
  CREATE TABLE login_failures (
    key TEXT NOT NULL,
    at TEXT NOT NULL
  );
  CREATE INDEX login_failures_key ON login_failures (key, at);
  CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT,
    bed_id TEXT,
    detail TEXT NOT NULL
  );
  CREATE INDEX audit_log_at ON audit_log (at, id);
  CREATE INDEX audit_log_bed ON audit_log (bed_id, at);
  CREATE TABLE alarm_events (
    id TEXT PRIMARY KEY,
    alarm_id TEXT NOT NULL,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT,
    detail TEXT NOT NULL
  );
  CREATE INDEX alarm_events_alarm ON alarm_events (alarm_id, at, id);
  CREATE INDEX alarm_events_at ON alarm_events (at, id);
  CREATE TABLE escalations (
    alarm_id TEXT NOT NULL,
    step INTEGER NOT NULL,
    due_at TEXT NOT NULL,
    fired_at TEXT,
    fired_by TEXT,
    cancelled_at TEXT,
    PRIMARY KEY (alarm_id, step)
  );
  CREATE INDEX escalations_due ON escalations (fired_at, cancelled_at, due_at);
  CREATE TABLE gateway_status_history (
    id TEXT PRIMARY KEY,
    gateway_id TEXT NOT NULL,
    state TEXT NOT NULL,
    at TEXT NOT NULL,
    reason TEXT NOT NULL
  );
  CREATE INDEX gateway_status_history_gateway ON gateway_status_history (gateway_id, at);
  CREATE TABLE gateway_heartbeats (
    gateway_id TEXT NOT NULL,
    at TEXT NOT NULL,
    interval_ms BIGINT NOT NULL,
    devices TEXT NOT NULL,
    PRIMARY KEY (gateway_id, at)
  );
  CREATE TABLE notification_deliveries (
    id TEXT PRIMARY KEY,
    alarm_id TEXT,
    bed_id TEXT,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    notification TEXT NOT NULL,
    state TEXT NOT NULL,
    first_attempt_at TEXT NOT NULL,
    next_attempt_at TEXT,
    attempt_count INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,
    last_detail TEXT,
    lease_owner TEXT
  );
  CREATE INDEX notification_deliveries_due ON notification_deliveries (state, next_attempt_at);
  CREATE INDEX notification_deliveries_alarm ON notification_deliveries (alarm_id, first_attempt_at);
  CREATE TABLE notification_attempts (
    delivery_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    at TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT NOT NULL,
    http_status INTEGER,
    PRIMARY KEY (delivery_id, n)
  );
  `,
  // 4: the gateways' non-alarm events (daily summaries, bed exits and returns, SOS test reminders),
  // kept for the bed pages. The id is derived from the event's natural key, so a repeat is one row.
  `
  CREATE TABLE gateway_events (
    id TEXT PRIMARY KEY,
    gateway_id TEXT NOT NULL,
    bed_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    detail TEXT NOT NULL
  );
  CREATE INDEX gateway_events_bed ON gateway_events (bed_id, at);
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
