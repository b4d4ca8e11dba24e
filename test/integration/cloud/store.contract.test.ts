import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqlAlarmStore } from '../../../cloud/alarms/sql-alarm-store.js';
import { GatewayRegistry } from '../../../cloud/gateways/gateway-registry.js';
import { CLOUD_MIGRATIONS } from '../../../cloud/store/cloud-db.js';
import type { SqlDatabase } from '../../../cloud/store/sql-database.js';
import { uuidv7 } from '../../../common/ids.js';
import type { AlarmMessage, HeartbeatMessage } from '../../../contract/index.js';
import { STORE_FACTORIES } from '../../support/cloud-stores.js';

function alarm(seq: number, overrides: Partial<AlarmMessage> = {}): AlarmMessage {
  return {
    v: 1,
    id: uuidv7(),
    gatewayId: 'gw-1',
    bedId: 'bed-1',
    seq,
    type: 'sos_button',
    severity: 'critical',
    state: 'raised',
    at: '2026-11-23T02:00:00.000Z',
    deviceId: 'sos',
    evidence: [{ deviceId: 'sos', kind: 'button_press', at: '2026-11-23T02:00:00.000Z' }],
    ...overrides,
  };
}

/** The same behaviour from the relay's store, whichever database is under it. */
describe.each(STORE_FACTORIES)('cloud store contract: $name', (factory) => {
  let db: SqlDatabase;
  let connectAgain: () => Promise<SqlDatabase>;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    ({ db, connectAgain, cleanup } = await factory.open());
  });
  afterEach(async () => {
    await cleanup();
  });

  describe('alarms', () => {
    it('ingests once per id; a repeat counts a delivery and adds no row', async () => {
      const store = new SqlAlarmStore(db);
      const a = alarm(1);
      expect(await store.ingest(a, '2026-11-23T02:00:01.000Z')).toEqual({ inserted: true });
      expect(await store.ingest(a, '2026-11-23T02:00:04.000Z')).toEqual({ inserted: false });
      const stored = await store.get(a.id);
      expect(stored).toMatchObject({
        id: a.id,
        seq: 1,
        deliveries: 2,
        receivedAt: '2026-11-23T02:00:01.000Z',
      });
      expect(stored?.evidence).toEqual(a.evidence);
      expect(typeof stored?.seq).toBe('number');
      expect(await store.list()).toHaveLength(1);
      expect(await store.get(uuidv7())).toBeNull();
    });

    it('lists newest first, bounded, optionally for one gateway', async () => {
      const store = new SqlAlarmStore(db);
      const a = alarm(1);
      const b = alarm(2, { gatewayId: 'gw-2' });
      const c = alarm(3);
      await store.ingest(a, '2026-11-23T02:00:01.000Z');
      await store.ingest(b, '2026-11-23T02:00:02.000Z');
      await store.ingest(c, '2026-11-23T02:00:03.000Z');
      expect((await store.list()).map((x) => x.id)).toEqual([c.id, b.id, a.id]);
      expect((await store.list({ limit: 1 })).map((x) => x.id)).toEqual([c.id]);
      expect((await store.list({ gatewayId: 'gw-1' })).map((x) => x.id)).toEqual([c.id, a.id]);
    });

    it('acknowledges once, resolves once, refuses clears and unknown ids', async () => {
      const store = new SqlAlarmStore(db);
      const raised = alarm(1);
      const cleared = alarm(2, { state: 'cleared', refersTo: raised.id });
      await store.ingest(raised, '2026-11-23T02:00:01.000Z');
      await store.ingest(cleared, '2026-11-23T02:00:05.000Z');

      const first = await store.acknowledge(raised.id, 'op-1', '2026-11-23T02:00:30.000Z');
      expect(first).toMatchObject({ ok: true, changed: true, alarm: { acknowledgedBy: 'op-1' } });
      const second = await store.acknowledge(raised.id, 'op-2', '2026-11-23T02:00:31.000Z');
      expect(second).toMatchObject({
        ok: true,
        changed: false,
        alarm: { acknowledgedBy: 'op-1', acknowledgedAt: '2026-11-23T02:00:30.000Z' },
      });
      expect(await store.acknowledge(cleared.id, 'op-1', '2026-11-23T02:00:31.000Z')).toEqual({
        ok: false,
        reason: 'not_raised',
      });
      expect(await store.acknowledge(uuidv7(), 'op-1', '2026-11-23T02:00:31.000Z')).toEqual({
        ok: false,
        reason: 'not_found',
      });

      const resolved = await store.resolve(
        raised.id,
        'op-3',
        '2026-11-23T02:05:00.000Z',
        'family_visited',
        'daughter',
      );
      expect(resolved).toMatchObject({
        ok: true,
        alarm: { resolvedBy: 'op-3', outcome: 'family_visited', notes: 'daughter', acknowledgedBy: 'op-1' },
      });
      expect(await store.resolve(raised.id, 'op-3', '2026-11-23T02:06:00.000Z', 'other')).toEqual({
        ok: false,
        reason: 'already_resolved',
      });
      expect(await store.get(raised.id)).toMatchObject({ resolvedAt: '2026-11-23T02:05:00.000Z' });
    });

    it('finds what was handled since a moment, for replay to a reconnecting gateway', async () => {
      const store = new SqlAlarmStore(db);
      const old = alarm(1);
      const recent = alarm(2);
      const untouched = alarm(3);
      for (const a of [old, recent, untouched]) await store.ingest(a, '2026-11-23T02:00:01.000Z');
      await store.acknowledge(old.id, 'op', '2026-11-22T01:00:00.000Z');
      await store.resolve(recent.id, 'op', '2026-11-23T03:00:00.000Z', 'false_alarm');
      const handled = await store.handledSince('gw-1', '2026-11-23T00:00:00.000Z');
      expect(handled.map((a) => a.id)).toEqual([recent.id]);
      expect(await store.handledSince('gw-other', '2026-11-01T00:00:00.000Z')).toEqual([]);
    });

    it('rolls a failed transaction back', async () => {
      const store = new SqlAlarmStore(db);
      const a = alarm(1);
      await expect(
        db.transaction(async (tx) => {
          await tx.run(`UPDATE alarms SET deliveries = 99`);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      await store.ingest(a, '2026-11-23T02:00:01.000Z');
      expect((await store.get(a.id))?.deliveries).toBe(1);
    });
  });

  describe('gateways', () => {
    it('provisions, verifies, rotates and records heartbeats', async () => {
      const registry = new GatewayRegistry(db);
      const { secret } = await registry.add('gw-1');
      await expect(registry.add('gw-1')).rejects.toMatchObject({ code: 'HB_GATEWAY_EXISTS' });
      expect(await registry.verify('gw-1', secret)).toBe(true);
      expect(await registry.verify('gw-1', 'wrong-secret')).toBe(false);
      expect(await registry.verify('gw-none', secret)).toBe(false);
      const rotated = await registry.rotate('gw-1');
      expect(await registry.verify('gw-1', secret)).toBe(false);
      expect(await registry.verify('gw-1', rotated.secret)).toBe(true);

      const heartbeat: HeartbeatMessage = {
        v: 1,
        gatewayId: 'gw-1',
        at: '2026-11-23T02:00:00.000Z',
        uptimeS: 5,
        intervalS: 30,
        outboxDepth: 0,
        spoolDepth: 0,
        readingsDropped: 0,
        devices: [],
        unpaired: [],
        links: {},
      };
      await registry.recordStatus('gw-1', 'online', '2026-11-23T02:00:00.000Z');
      await registry.recordHeartbeat(heartbeat, '2026-11-23T02:00:01.000Z');
      expect(await registry.list()).toEqual([
        {
          id: 'gw-1',
          createdAt: expect.any(String),
          status: 'online',
          lastSeenAt: '2026-11-23T02:00:01.000Z',
          lastHeartbeat: heartbeat,
          bedId: null,
          organisationId: null,
          heartbeatIntervalMs: 30_000,
          offlineAlarmId: null,
        },
      ]);
    });
  });

  if (factory.name === 'postgres') {
    it('two relay processes acknowledging the same alarm at once: exactly one wins', async () => {
      const other = await connectAgain();
      const a = alarm(1);
      await new SqlAlarmStore(db).ingest(a, '2026-11-23T02:00:01.000Z');
      const results = await Promise.all([
        new SqlAlarmStore(db).acknowledge(a.id, 'op-A', '2026-11-23T02:00:10.000Z'),
        new SqlAlarmStore(other).acknowledge(a.id, 'op-B', '2026-11-23T02:00:10.000Z'),
      ]);
      expect(results.filter((r) => r.ok && r.changed)).toHaveLength(1);
    });

    it('two processes migrating at once leave one schema', async () => {
      const [x, y] = await Promise.all([connectAgain(), connectAgain()]);
      const versions = await x.all<{ version: number }>(
        `SELECT version FROM schema_migrations ORDER BY version`,
      );
      expect(versions.map((v) => v.version)).toEqual(CLOUD_MIGRATIONS.map((_, i) => i + 1));
      expect(await y.get(`SELECT COUNT(*) AS n FROM alarms`)).toEqual({ n: 0 });
    });
  }
});
