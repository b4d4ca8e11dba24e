import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openCloudStore } from '../../cloud/store/cloud-db.js';
import type { SqlDatabase } from '../../cloud/store/sql-database.js';

/** The PostgreSQL running on this machine (trust auth, database `test`); override with HOMEBED_TEST_POSTGRES_URL. */
export const TEST_POSTGRES_URL =
  process.env.HOMEBED_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** One store of each kind, so a suite runs once per backend. */
export interface StoreFactory {
  name: 'sqlite' | 'postgres';
  /**
   * A fresh, empty, migrated store. For PostgreSQL each call gets its own
   * schema (dropped by `cleanup`), so test files never see each other's rows;
   * `connectAgain` opens a second pool on the same schema, like a second relay process.
   */
  open(): Promise<{
    db: SqlDatabase;
    connectAgain: () => Promise<SqlDatabase>;
    cleanup: () => Promise<void>;
  }>;
}

export const STORE_FACTORIES: readonly StoreFactory[] = [
  {
    name: 'sqlite',
    async open() {
      const db = await openCloudStore({ dataDir: ':memory:' });
      return {
        db,
        connectAgain: async () => {
          throw new Error('SQLite serves one relay process; use PostgreSQL for two');
        },
        cleanup: () => db.close(),
      };
    },
  },
  {
    name: 'postgres',
    async open() {
      const schema = `hb_test_${randomBytes(6).toString('hex')}`;
      const extra: SqlDatabase[] = [];
      const db = await openCloudStore({
        dataDir: ':unused:',
        postgresUrl: TEST_POSTGRES_URL,
        postgresSchema: schema,
      });
      return {
        db,
        connectAgain: async () => {
          const again = await openCloudStore({
            dataDir: ':unused:',
            postgresUrl: TEST_POSTGRES_URL,
            postgresSchema: schema,
          });
          extra.push(again);
          return again;
        },
        cleanup: async () => {
          for (const e of extra) await e.close();
          await db.close();
          const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
          await admin.connect();
          try {
            await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          } finally {
            await admin.end();
          }
        },
      };
    },
  },
];
