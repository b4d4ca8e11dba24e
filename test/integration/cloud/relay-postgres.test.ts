import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { cloudConfigSchema } from '../../../cloud/config/schema.js';
import { Relay } from '../../../cloud/relay.js';
import { systemClock } from '../../../common/clock.js';
import { uuidv7 } from '../../../common/ids.js';
import { silentLogger } from '../../../common/logger.js';
import { ackMessageSchema, gatewayTopic, parsePayload } from '../../../contract/index.js';
import { TEST_POSTGRES_URL } from '../../support/cloud-stores.js';
import { connectAsGateway, loginToRelay, nextMessage } from '../../support/relay.js';

/** The relay with `store.postgres`: an alarm over MQTT is committed to PostgreSQL before `stored`. */
describe('relay on PostgreSQL', () => {
  const schema = `hb_relay_${randomBytes(6).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'homebed-relay-pg-'));
  let relay: Relay | null = null;

  afterAll(async () => {
    await relay?.stop();
    const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stores an alarm in PostgreSQL and acknowledges it as stored', async () => {
    const config = cloudConfigSchema.parse({
      dataDir,
      store: { postgres: { url: TEST_POSTGRES_URL, schema } },
      mqtt: { port: 0 },
      http: { port: 0 },
    });
    relay = new Relay({ config, clock: systemClock, logger: silentLogger() });
    await relay.start();
    const { secret } = await relay.gateways.add('gw-pg');
    const gw = await connectAsGateway(relay.mqttPort, 'gw-pg', secret);
    // As the real gateway does: subscribe to acks before publishing anything.
    await gw.subscribeAsync(gatewayTopic('gw-pg', 'ack'), { qos: 1 });
    const at = new Date().toISOString();
    const id = uuidv7();
    const ack = nextMessage(gw, gatewayTopic('gw-pg', 'ack'));
    await gw.publishAsync(
      gatewayTopic('gw-pg', 'alarm'),
      JSON.stringify({
        v: 1,
        id,
        gatewayId: 'gw-pg',
        bedId: 'bed-pg',
        seq: 1,
        type: 'fall_confirmed',
        severity: 'critical',
        state: 'raised',
        at,
        evidence: [],
      }),
      { qos: 1 },
    );
    const parsed = parsePayload(ackMessageSchema, await ack);
    expect(parsed.ok && parsed.value).toMatchObject({ alarmId: id, status: 'stored' });
    await gw.endAsync();

    // Committed: another connection sees the row.
    const reader = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await reader.connect();
    const rows = await reader.query(`SELECT type, gateway_id FROM ${schema}.alarms WHERE id = $1`, [id]);
    await reader.end();
    expect(rows.rows).toEqual([{ type: 'fall_confirmed', gateway_id: 'gw-pg' }]);
    const api = await loginToRelay(relay);
    const { body } = await api.get<{ alarms: { id: string }[] }>('/api/alarms');
    expect(body.alarms.map((a) => a.id)).toEqual([id]);
  });
});
