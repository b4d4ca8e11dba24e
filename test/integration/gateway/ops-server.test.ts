import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../../cloud/relay.js';
import { systemClock } from '../../../common/clock.js';
import { silentLogger } from '../../../common/logger.js';
import { createPtyPair, type PtyPair } from '../../../firmware-sim/links/pty.js';
import { SerialPortLink } from '../../../firmware-sim/links/serial-port-link.js';
import { gatewayConfigSchema } from '../../../gateway/config/schema.js';
import { encodeFrame, encodeReport } from '../../../gateway/devices/protocols/seeed/index.js';
import { Gateway } from '../../../gateway/gateway.js';
import { runStatusCommand } from '../../../gateway/installer/status-command.js';
import type { GatewayStatus } from '../../../gateway/ops/gateway-status.js';
import { OpsServer } from '../../../gateway/ops/ops-server.js';
import { createTestDatabase, queryInflux, testInfluxUrl } from '../../support/influx.js';
import { parseExposition, scrape } from '../../support/prometheus.js';
import { startTestRelay, waitFor } from '../../support/relay.js';

const G = 'homebed_gateway_';

/**
 * The gateway's ops server on real parts: a radar and an RFLink receiver on
 * PTYs (written byte by byte by the test, so a bad checksum is exactly one),
 * a real relay, a real InfluxDB. `/metrics` is scraped and parsed as
 * Prometheus would; `/status` is read as the installer's `status` command does.
 */
describe('gateway ops server: GET /metrics and GET /status', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homebed-ops-'));
  const influxUrl = testInfluxUrl();
  let database: string;
  let relay: Relay;
  let stopRelay: () => Promise<void>;
  let radarPty: PtyPair;
  let rflinkPty: PtyPair;
  let radar: SerialPortLink;
  let rflink: SerialPortLink;
  let gateway: Gateway;
  let ops: string;

  beforeAll(async () => {
    database = await createTestDatabase(influxUrl, 'ops');
    ({ relay, stop: stopRelay } = await startTestRelay());
    const { secret } = await relay.gateways.add('gw-ops');
    [radarPty, rflinkPty] = await Promise.all([
      createPtyPair({ devicePath: join(dir, 'sim-radar'), hostPath: join(dir, 'radar') }),
      createPtyPair({ devicePath: join(dir, 'sim-rflink'), hostPath: join(dir, 'rflink') }),
    ]);
    gateway = new Gateway({
      config: gatewayConfigSchema.parse({
        gatewayId: 'gw-ops',
        bedId: 'bed-ops',
        dataDir: join(dir, 'gw'),
        cloud: { url: `mqtt://127.0.0.1:${relay.mqttPort}`, secret, reconnectPeriodMs: 200 },
        influx: { url: influxUrl, database, flushIntervalMs: 100 },
        ops: { port: 0 },
        serialPorts: [
          { id: 'radar-port', path: join(dir, 'radar'), protocol: 'seeed' },
          { id: 'rflink-port', path: join(dir, 'rflink'), protocol: 'rflink' },
        ],
        devices: [
          { id: 'bed-radar', kind: 'mr60bha1', role: 'bed_radar', room: 'bedroom', link: 'radar-port' },
          {
            id: 'sos',
            kind: 'rf_button',
            role: 'sos_button',
            link: 'rflink-port',
            address: 'EV1527:0d3e4:01',
          },
        ],
        rules: { sos: { repeatWindowMs: 500 } },
      }),
      clock: systemClock,
      logger: silentLogger(),
    });
    await gateway.start();
    ops = gateway.opsUrl ?? '';
    radar = new SerialPortLink({ path: radarPty.devicePath, baudRate: 115200 });
    rflink = new SerialPortLink({ path: rflinkPty.devicePath, baudRate: 57600 });
    await Promise.all([radar.open(), rflink.open()]);
    await waitFor(
      () => gateway.linkStates()['radar-port'] === 'open' && gateway.linkStates()['rflink-port'] === 'open',
      5_000,
      'both ports open',
    );
    await waitFor(() => gateway.cloudConnected, 5_000, 'cloud connected');

    // One frame with a bad checksum, then a good heart-rate frame; an SOS press on the RFLink.
    const good = encodeFrame(encodeReport({ type: 'heart_rate', bpm: 71 }));
    const bad = Uint8Array.from(good);
    bad[bad.length - 3] = (bad[bad.length - 3]! + 1) & 0xff;
    radar.write(Buffer.concat([bad, good]));
    rflink.write(Buffer.from('20;01;EV1527;ID=0d3e4;SWITCH=01;CMD=ON;\r\n'));
    await waitFor(
      () => gateway.alarmLog().length === 1 && gateway.outboxDepth() === 0,
      10_000,
      'SOS alarm stored by the relay',
    );
    // The heart rate and the press (`action`) are in InfluxDB.
    await waitFor(() => gateway.counters.get('readings_written') >= 2, 10_000, 'readings written');
  });

  afterAll(async () => {
    await gateway?.stop();
    await Promise.all([radar?.close(), rflink?.close()]);
    await Promise.all([radarPty?.close(), rflinkPty?.close()]);
    await stopRelay?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves valid Prometheus text: frames by port and reason, readings written, alarms, gauges, process metrics', async () => {
    expect(ops).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const m = await scrape(`${ops}/metrics`);
    expect(
      m.value(`${G}frames_dropped_total`, { link: 'radar-port', protocol: 'seeed', reason: 'checksum' }),
    ).toBe(1);
    expect(m.value(`${G}frames_decoded_total`, { link: 'radar-port', protocol: 'seeed' })).toBe(1);
    expect(m.value(`${G}frames_decoded_total`, { link: 'rflink-port', protocol: 'rflink' })).toBeGreaterThan(
      0,
    );
    expect(m.types.get(`${G}frames_dropped_total`)).toBe('counter');

    // What the counter says was written is what InfluxDB has.
    const written = m.value(`${G}readings_written_total`) ?? 0;
    expect(written).toBe(gateway.counters.get('readings_written'));
    const [heart] = await queryInflux(influxUrl, database, 'SELECT count(value) FROM heart_rate');
    const [action] = await queryInflux(influxUrl, database, 'SELECT count(value) FROM action');
    expect([heart?.count, action?.count]).toEqual([1, 1]);
    expect(written).toBeGreaterThanOrEqual(2);
    expect(m.value(`${G}telemetry_write_failures_total`)).toBe(0);

    expect(m.value(`${G}alarms_committed_total`, { type: 'sos_button', state: 'raised' })).toBe(1);
    expect(m.value(`${G}alarm_outbox_depth`, { stage: 'unsent' })).toBe(0);
    expect(m.value(`${G}alarm_outbox_depth`, { stage: 'unacked' })).toBe(0);
    expect(m.value(`${G}cloud_connected`)).toBe(1);
    expect(m.value(`${G}serial_link_open`, { link: 'radar-port' })).toBe(1);
    expect(m.value(`${G}serial_link_open`, { link: 'rflink-port' })).toBe(1);
    expect(m.value(`${G}device_online`, { device: 'bed-radar', kind: 'mr60bha1', role: 'bed_radar' })).toBe(
      1,
    );
    expect(m.value(`${G}device_online`, { device: 'sos' })).toBe(1);
    expect(m.value(`${G}device_last_seen_timestamp_seconds`, { device: 'bed-radar' })).toBeCloseTo(
      Date.now() / 1000,
      -2,
    );
    expect(m.value(`${G}telemetry_write_ok`)).toBe(1);
    expect(m.value(`${G}telemetry_spool_readings`)).toBe(0);
    expect(m.types.get(`${G}telemetry_buffered_readings`)).toBe('gauge');
    expect(m.value(`${G}info`, { gateway: 'gw-ops', bed: 'bed-ops' })).toBe(1);
    // prom-client's process metrics, once per process.
    expect(m.types.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(m.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(m.types.get('nodejs_heap_size_used_bytes')).toBe('gauge');
  });

  it('docs/metrics.md describes every homebed metric the gateway exports', async () => {
    const m = await scrape(`${ops}/metrics`);
    const doc = readFileSync(join(import.meta.dirname, '../../../docs/metrics.md'), 'utf8');
    const names = [...m.types.keys()].filter((n) => n.startsWith(G));
    expect(names.length).toBeGreaterThan(40);
    expect(names.filter((n) => !doc.includes(`\`${n}\``))).toEqual([]);
  });

  it('GET /status shows the gateway, its cloud link, ports, devices, queues, InfluxDB and counters', async () => {
    const res = await fetch(`${ops}/status`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    const s = (await res.json()) as GatewayStatus;
    expect(s).toMatchObject({
      gatewayId: 'gw-ops',
      bedId: 'bed-ops',
      cloud: { url: `mqtt://127.0.0.1:${relay.mqttPort}`, connected: true },
      links: [
        { id: 'radar-port', protocol: 'seeed', state: 'open' },
        { id: 'rflink-port', protocol: 'rflink', state: 'open' },
      ],
      alarms: { outbox: { unsent: 0, unacked: 0 } },
      telemetry: { influx: { url: influxUrl, version: '1', state: 'ok', consecutiveFailures: 0 } },
      localBroker: { enabled: false },
    });
    expect(s.uptimeS).toBeGreaterThanOrEqual(0);
    expect(Date.parse(s.cloud.lastConnectedAt ?? '')).toBeGreaterThan(Date.now() - 60_000);
    expect(s.telemetry.influx.lastWriteAt).not.toBeNull();
    expect(s.devices).toEqual([
      expect.objectContaining({
        id: 'bed-radar',
        kind: 'mr60bha1',
        role: 'bed_radar',
        room: 'bedroom',
        link: 'radar-port',
        online: true,
        lastSeenAt: expect.any(String),
      }),
      expect.objectContaining({ id: 'sos', kind: 'rf_button', role: 'sos_button', online: true }),
    ]);
    expect(s.counters['frames_dropped{link="radar-port",reason="checksum"}']).toBe(1);
    expect(s.counters['alarms_committed{state="raised",type="sos_button"}']).toBe(1);
  });

  it('the installer’s status command reads it and sums it up for a person', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const status = await runStatusCommand(
      { url: ops },
      { stdout: (t) => out.push(t), stderr: (t) => err.push(t) },
      {},
    );
    expect(status.gatewayId).toBe('gw-ops');
    expect(JSON.parse(out.join(''))).toMatchObject({ gatewayId: 'gw-ops' });
    const summary = err.join('');
    expect(summary).toContain('gateway gw-ops (bed bed-ops)');
    expect(summary).toContain(`cloud mqtt://127.0.0.1:${relay.mqttPort}: connected`);
    expect(summary).toContain('port radar-port (seeed');
    expect(summary).toMatch(/device bed-radar \(mr60bha1, bed_radar\): online, last seen \d+ s ago/);
    expect(summary).toContain('alarms not yet stored by the cloud: 0 unsent, 0 awaiting ack');
    // Nothing listening: a clear error, exit 1 from the CLI.
    await expect(
      runStatusCommand({ url: 'http://127.0.0.1:9' }, { stdout: () => {}, stderr: () => {} }, {}),
    ).rejects.toMatchObject({ code: 'HB_GATEWAY_UNREACHABLE' });
  });

  it('with ops.token: 401 without the bearer token; 404 and 405 for what it does not serve', async () => {
    const guarded = new OpsServer(
      { host: '127.0.0.1', port: 0, token: 'ops-token-0123456789' },
      { metrics: () => gateway.metrics.render(), status: () => gateway.status() },
      silentLogger(),
    );
    await guarded.start();
    try {
      const none = await fetch(`${guarded.url}/metrics`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer');
      expect(
        (await fetch(`${guarded.url}/status`, { headers: { authorization: 'Bearer wrong-token-000000000' } }))
          .status,
      ).toBe(401);
      const ok = await fetch(`${guarded.url}/metrics`, {
        headers: { authorization: 'Bearer ops-token-0123456789' },
      });
      expect(ok.status).toBe(200);
      expect(parseExposition(await ok.text()).value(`${G}cloud_connected`)).toBe(1);
      const auth = { authorization: 'Bearer ops-token-0123456789' };
      expect((await fetch(`${guarded.url}/nothing`, { headers: auth })).status).toBe(404);
      expect((await fetch(`${guarded.url}/status`, { method: 'POST', headers: auth })).status).toBe(405);
    } finally {
      await guarded.stop();
    }
  });

  it('a port already in use does not stop a gateway: it runs on without its ops server', async () => {
    const port = Number(new URL(ops).port);
    const second = new Gateway({
      config: gatewayConfigSchema.parse({
        gatewayId: 'gw-ops-2',
        bedId: 'bed-ops-2',
        dataDir: join(dir, 'gw2'),
        cloud: { url: 'mqtt://127.0.0.1:9', secret: 'irrelevant-secret' },
        influx: { url: 'http://127.0.0.1:9', flushIntervalMs: 60_000 },
        ops: { port },
      }),
      clock: systemClock,
      logger: silentLogger(),
    });
    await second.start();
    try {
      expect(second.opsUrl).toBeNull();
      // The first gateway still answers on its port.
      expect(((await (await fetch(`${ops}/status`)).json()) as GatewayStatus).gatewayId).toBe('gw-ops');
    } finally {
      await second.stop();
    }
  });
});
