import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CLOUD_COUNTER_METRICS } from '../../../cloud/relay-metrics.js';
import { Counters } from '../../../common/counters.js';
import { bearerTokenMatches, type CounterMetricSpec, registerCounters } from '../../../common/metrics.js';
import { GATEWAY_COUNTER_METRICS, GatewayMetrics } from '../../../gateway/ops/gateway-metrics.js';
import type { GatewayStatus } from '../../../gateway/ops/gateway-status.js';
import { parseExposition } from '../../support/prometheus.js';

const ROOT = join(import.meta.dirname, '../../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** Every counter name a folder's code increments: the string literals in `counters.inc(<name>, …)`. */
function countersIncrementedIn(dir: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const file of sourceFiles(dir)) {
    const text = readFileSync(file, 'utf8');
    for (const call of text.matchAll(/counters\??\.inc\(\s*([^,)]+)/g)) {
      for (const literal of call[1]!.matchAll(/'([a-z0-9_]+)'/g))
        names.set(literal[1]!, relative(ROOT, file));
    }
  }
  return names;
}

const sourcesOf = (specs: readonly CounterMetricSpec[]) =>
  new Set(specs.flatMap((s) => (s.from ?? [{ counter: s.name }]).map((f) => f.counter)));

describe('metrics catalogues', () => {
  it.each([
    ['gateway', GATEWAY_COUNTER_METRICS],
    ['cloud', CLOUD_COUNTER_METRICS],
  ] as const)(
    'every counter the %s increments is exported under its own name, and none that it does not',
    (dir, specs) => {
      const used = countersIncrementedIn(dir);
      expect(used.size).toBeGreaterThan(30);
      const catalogued = sourcesOf(specs);
      expect([...used].filter(([name]) => !catalogued.has(name))).toEqual([]);
      expect([...catalogued].filter((name) => !used.has(name))).toEqual([]);
    },
  );
});

describe('registerCounters', () => {
  it('reads Counters at scrape time: fixed labels added, undeclared labels summed, unknown counters kept visible', async () => {
    const counters = new Counters();
    const registry = new Registry();
    registerCounters(registry, counters, 'x_', [
      {
        name: 'frames',
        help: 'frames',
        labelNames: ['link', 'protocol'],
        from: [
          { counter: 'frames', labels: { protocol: 'seeed' } },
          { counter: 'lines', labels: { protocol: 'rflink' } },
        ],
      },
      { name: 'plain', help: 'no labels' },
    ]);
    counters.inc('frames', { link: 'a', reason: 'checksum' });
    counters.inc('frames', { link: 'a', reason: 'tail' }, 2);
    counters.inc('lines', { link: 'b' }, 5);
    counters.inc('surprise', { k: 'v' }, 7);
    const m = parseExposition(await registry.metrics());
    expect(m.value('x_frames_total', { link: 'a', protocol: 'seeed' })).toBe(3);
    expect(m.value('x_frames_total', { link: 'b', protocol: 'rflink' })).toBe(5);
    expect(m.value('x_plain_total')).toBe(0);
    expect(m.value('x_other_counters_total', { counter: 'surprise' })).toBe(7);
    // Scraped again: the same numbers, not doubled.
    counters.inc('plain');
    const again = parseExposition(await registry.metrics());
    expect(again.value('x_frames_total', { link: 'a', protocol: 'seeed' })).toBe(3);
    expect(again.value('x_plain_total')).toBe(1);
  });

  it('Counters keeps labels apart, totals and snapshots as before', () => {
    const c = new Counters();
    c.inc('a', { z: '1', y: '2' });
    c.inc('a', { y: '2', z: '1' }, 2);
    c.inc('a');
    expect(c.get('a', { z: '1', y: '2' })).toBe(3);
    expect(c.total('a')).toBe(4);
    expect(c.snapshot()).toEqual({ a: 1, 'a{y="2",z="1"}': 3 });
    expect(c.entries()).toContainEqual({ name: 'a', labels: { y: '2', z: '1' }, value: 3 });
  });
});

describe('gateway gauges', () => {
  const status = (over: Partial<GatewayStatus> = {}): GatewayStatus => ({
    gatewayId: 'gw-1',
    bedId: 'bed-1',
    software: 'homebed-gateway/test',
    startedAt: '2026-11-23T00:00:00.000Z',
    now: '2026-11-23T00:01:00.000Z',
    uptimeS: 60,
    cloud: {
      url: 'mqtt://relay:1884',
      connected: false,
      lastConnectedAt: null,
      lastDisconnectedAt: null,
      lastHeartbeatAt: '2026-11-23T00:00:30.000Z',
      heartbeatIntervalS: 30,
    },
    links: [{ id: 'radar-port', path: '/dev/ttyUSB0', protocol: 'seeed', state: 'closed' }],
    devices: [
      { id: 'pendant', kind: 'native', role: 'sos_button', online: true, battery: 17, batteryLow: true },
      { id: 'bed-radar', kind: 'mr60bha1', role: 'bed_radar', online: false },
    ],
    unpaired: [],
    alarms: { outbox: { unsent: 2, unacked: 1 }, active: ['device_offline:bed-radar'] },
    telemetry: {
      buffered: 12,
      spooled: 3400,
      dropped: 0,
      influx: {
        url: 'http://influx:8086',
        version: '1',
        state: 'failing',
        failingSince: '2026-11-23T00:00:10.000Z',
        consecutiveFailures: 4,
        lastWriteAt: null,
      },
    },
    localBroker: { enabled: true, port: 1883 },
    counters: {},
    ...over,
  });

  it('are read from the status: battery only where reported, outbox by stage, InfluxDB failing', async () => {
    const metrics = new GatewayMetrics({ counters: new Counters(), status: () => status() });
    const m = parseExposition(await metrics.render());
    const g = 'homebed_gateway_';
    expect(m.value(`${g}device_battery_percent`, { device: 'pendant' })).toBe(17);
    expect(m.value(`${g}device_battery_percent`, { device: 'bed-radar' })).toBeUndefined();
    expect(m.value(`${g}device_online`, { device: 'bed-radar' })).toBe(0);
    expect(m.value(`${g}device_last_seen_timestamp_seconds`, { device: 'bed-radar' })).toBeUndefined();
    expect(m.value(`${g}serial_link_open`, { link: 'radar-port' })).toBe(0);
    expect(m.value(`${g}cloud_connected`)).toBe(0);
    expect(m.value(`${g}cloud_last_heartbeat_timestamp_seconds`)).toBe(
      Date.UTC(2026, 10, 23, 0, 0, 30) / 1000,
    );
    expect(m.value(`${g}alarm_outbox_depth`, { stage: 'unsent' })).toBe(2);
    expect(m.value(`${g}alarm_outbox_depth`, { stage: 'unacked' })).toBe(1);
    expect(m.value(`${g}condition_alarms_active`)).toBe(1);
    expect(m.value(`${g}telemetry_spool_readings`)).toBe(3400);
    expect(m.value(`${g}telemetry_buffered_readings`)).toBe(12);
    expect(m.value(`${g}telemetry_write_ok`)).toBe(0);
    expect(m.value(`${g}uptime_seconds`)).toBe(60);
  });
});

describe('bearerTokenMatches', () => {
  it('accepts exactly `Bearer <token>`', () => {
    expect(bearerTokenMatches('Bearer abc', 'abc')).toBe(true);
    expect(bearerTokenMatches('bearer abc ', 'abc')).toBe(true);
    expect(bearerTokenMatches('Bearer abcd', 'abc')).toBe(false);
    expect(bearerTokenMatches('Basic abc', 'abc')).toBe(false);
    expect(bearerTokenMatches(undefined, 'abc')).toBe(false);
  });
});
