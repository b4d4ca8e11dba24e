import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlarmChange } from '../../../cloud/alarms/alarm-events.js';
import { LocalChangeFeed } from '../../../cloud/events/change-feed.js';
import { changeChannel, PostgresChangeFeed } from '../../../cloud/events/postgres-change-feed.js';
import { uuidv7 } from '../../../common/ids.js';
import { silentLogger } from '../../../common/logger.js';
import { TEST_POSTGRES_URL } from '../../support/cloud-stores.js';
import { waitFor } from '../../support/relay.js';

function change(kind: AlarmChange['kind'], detail: AlarmChange['detail'] = {}): AlarmChange {
  return {
    id: uuidv7(),
    alarmId: uuidv7(),
    at: new Date().toISOString(),
    kind,
    actor: 'gateway:gw-1',
    detail,
    bedId: 'bed-1',
    gatewayId: 'gw-1',
    organisationId: 'org-1',
  };
}

describe('LocalChangeFeed', () => {
  it('delivers announced changes to every subscriber, after the announcing call returns', async () => {
    const feed = new LocalChangeFeed();
    const a: string[] = [];
    const b: string[] = [];
    feed.subscribe((c) => a.push(c.id));
    const off = feed.subscribe((c) => b.push(c.id));
    const first = change('stored');
    feed.announce([first]);
    expect(a).toEqual([]);
    await waitFor(() => a.length === 1);
    off();
    feed.announce([change('acknowledged')]);
    await waitFor(() => a.length === 2);
    expect(b).toEqual([first.id]);
  });
});

describe('PostgresChangeFeed (LISTEN/NOTIFY, two relay processes)', () => {
  const feeds: PostgresChangeFeed[] = [];
  afterEach(async () => {
    for (const f of feeds.splice(0)) await f.stop();
  });

  async function feed(schema: string): Promise<PostgresChangeFeed> {
    const f = new PostgresChangeFeed(TEST_POSTGRES_URL, schema, silentLogger());
    await f.start();
    feeds.push(f);
    return f;
  }

  it('a change announced by one process reaches both, and another store’s channel hears nothing', async () => {
    const schema = `hb_feed_${randomBytes(4).toString('hex')}`;
    const [one, two, stranger] = [await feed(schema), await feed(schema), await feed(`${schema}_x`)];
    const seen: Record<string, string[]> = { one: [], two: [], stranger: [] };
    one.subscribe((c) => seen.one!.push(c.id));
    two.subscribe((c) => seen.two!.push(c.id));
    stranger.subscribe((c) => seen.stranger!.push(c.id));
    const changes = [change('stored'), change('escalated', { step: 1, tier: 'second_tier' })];
    one.announce(changes);
    await waitFor(() => seen.one!.length === 2 && seen.two!.length === 2);
    expect(seen.two).toEqual(changes.map((c) => c.id));
    expect(seen.stranger).toEqual([]);
  });

  it('splits a large burst under the NOTIFY payload limit and loses none', async () => {
    const schema = `hb_feed_${randomBytes(4).toString('hex')}`;
    const [one, two] = [await feed(schema), await feed(schema)];
    const got: string[] = [];
    two.subscribe((c) => got.push(c.id));
    const burst = Array.from({ length: 300 }, () => change('stored', { note: 'x'.repeat(100) }));
    one.announce(burst);
    await waitFor(() => got.length === 300, 10_000);
    expect(got).toEqual(burst.map((c) => c.id));
  });

  it('reconnects after its LISTEN connection is killed, says resync, and hears later changes', async () => {
    const schema = `hb_feed_${randomBytes(4).toString('hex')}`;
    const [one, two] = [await feed(schema), await feed(schema)];
    let resyncs = 0;
    two.onResync(() => resyncs++);
    const got: string[] = [];
    two.subscribe((c) => got.push(c.id));
    const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    try {
      // Both feeds listen on the channel; kill every backend listening on it (both processes' listeners).
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE pid <> pg_backend_pid() AND query = $1`,
        [`LISTEN ${changeChannel(schema)}`],
      );
    } finally {
      await admin.end();
    }
    await waitFor(() => resyncs === 1, 15_000);
    const later = change('resolved');
    one.announce([later]);
    await waitFor(() => got.includes(later.id), 10_000);
  });
});
