import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../common/clock.js';
import { silentLogger } from '../../common/logger.js';
import { simConfigSchema } from '../../firmware-sim/config.js';
import { Simulator } from '../../firmware-sim/simulator.js';
import { gatewayConfigSchema } from '../../gateway/config/schema.js';
import type { DeviceEvent } from '../../gateway/devices/device-event.js';
import { Gateway } from '../../gateway/gateway.js';
import type { Reading } from '../../gateway/telemetry/reading.js';
import { createTestDatabase, queryInflux, testInfluxUrl } from '../support/influx.js';
import { waitFor } from '../support/relay.js';

/**
 * One end-to-end case per device kind: the simulator speaks the device's
 * real bytes (PTY) or messages (MQTT to the gateway's broker), the gateway
 * turns them into an event on its bus and a point in InfluxDB.
 */
describe('every device kind, simulator → gateway → bus and InfluxDB', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homebed-kinds-'));
  const dev = (name: string) => join(dir, 'dev', name);
  let gateway: Gateway;
  let sim: Simulator;
  let influxUrl: string;
  let database: string;
  const readings: Reading[] = [];
  const events: DeviceEvent[] = [];

  beforeAll(async () => {
    influxUrl = testInfluxUrl();
    database = await createTestDatabase(influxUrl, 'kinds');
    const port = (id: string, protocol: 'seeed' | 'rflink') => ({
      id,
      path: dev(id),
      protocol,
      reconnectInitialMs: 100,
      reconnectMaxMs: 300,
    });
    gateway = new Gateway({
      config: gatewayConfigSchema.parse({
        gatewayId: 'gw-kinds',
        bedId: 'bed-kinds',
        dataDir: join(dir, 'gw'),
        cloud: { url: 'mqtt://127.0.0.1:9', secret: 'irrelevant-secret' },
        influx: { url: influxUrl, database, flushIntervalMs: 100 },
        localBroker: { port: 0 },
        serialPorts: [port('bed', 'seeed'), port('fall', 'seeed'), port('rf', 'rflink')],
        devices: [
          { id: 'bed-radar', kind: 'mr60bha1', role: 'bed_radar', link: 'bed' },
          // A short reporting time so the test can watch supervision work (the default is 90 s).
          { id: 'fall-radar', kind: 'mr60fda1', role: 'fall_radar', link: 'fall', offlineAfterS: 3 },
          { id: 'rf-sos', kind: 'rf_button', role: 'sos_button', link: 'rf', address: 'EV1527:0d3e4:01' },
          { id: 'rf-call', kind: 'rf_button', role: 'sos_button', link: 'rf', address: 'Keeloq:e311:0A' },
          {
            id: 'rf-door',
            kind: 'rf_contact',
            role: 'front_door',
            link: 'rf',
            address: 'EV1527:1a2b3:01',
            closeAddress: 'EV1527:1a2b3:0e',
          },
          { id: 'rf-pir', kind: 'rf_pir', role: 'pir', link: 'rf', address: 'EV1527:2b3c4:01' },
          { id: 'rf-smoke', kind: 'rf_smoke', role: 'smoke', link: 'rf', address: 'FA20RF:5e6f70:' },
          { id: 'rf-water', kind: 'rf_water', role: 'water', link: 'rf', address: 'EV1527:3c4d5:01' },
          { id: 'rf-gas', kind: 'rf_gas', role: 'gas', link: 'rf', address: 'EV1527:4d5e6:01' },
          { id: 'zb-sos', kind: 'zigbee', role: 'sos_button', address: 'bathroom_sos' },
          { id: 'zb-motion', kind: 'zigbee', role: 'pir', address: 'hall_motion' },
          { id: 'zb-door', kind: 'zigbee', role: 'door', address: 'balcony_door' },
          { id: 'zb-smoke', kind: 'zigbee', role: 'smoke', address: 'kitchen_smoke' },
          { id: 'zb-leak', kind: 'zigbee', role: 'water', address: 'bathroom_leak' },
          { id: 'pendant', kind: 'native', role: 'sos_button' },
        ],
        rules: { sos: { repeatWindowMs: 0 } },
        supervision: { checkIntervalS: 1 },
      }),
      clock: systemClock,
      logger: silentLogger(),
    });
    gateway.bus.on('reading', (r) => readings.push(r));
    gateway.bus.on('deviceEvent', (e) => events.push(e));
    await gateway.start();

    sim = new Simulator(
      simConfigSchema.parse({
        control: { port: 0 },
        log: { level: 'silent' },
        mqtt: { url: `mqtt://127.0.0.1:${gateway.localBrokerPort}`, reconnectPeriodMs: 200 },
        devices: [
          {
            id: 'bed-radar',
            kind: 'mr60bha1',
            devicePath: dev('sim-bed'),
            hostPath: dev('bed'),
            observationSetupMs: 0,
          },
          {
            id: 'fall-radar',
            kind: 'mr60fda1',
            devicePath: dev('sim-fall'),
            hostPath: dev('fall'),
            residencyDelayMs: 500,
          },
          {
            id: 'rflink',
            kind: 'rflink',
            devicePath: dev('sim-rf'),
            hostPath: dev('rf'),
            transmitters: [
              { name: 'sos', kind: 'button', protocol: 'EV1527', id: '0d3e4', switch: '01' },
              { name: 'call', kind: 'button', protocol: 'Keeloq', id: 'e311', switch: '0A' },
              {
                name: 'door',
                kind: 'contact',
                protocol: 'EV1527',
                id: '1a2b3',
                switch: '01',
                closeSwitch: '0e',
              },
              { name: 'pir', kind: 'pir', protocol: 'EV1527', id: '2b3c4', switch: '01' },
              { name: 'smoke', kind: 'smoke', protocol: 'FA20RF', id: '5e6f70' },
              { name: 'water', kind: 'water', protocol: 'EV1527', id: '3c4d5', switch: '01' },
              { name: 'gas', kind: 'gas', protocol: 'EV1527', id: '4d5e6', switch: '01' },
            ],
          },
        ],
        zigbee2mqtt: {
          devices: [
            { friendlyName: 'bathroom_sos', kind: 'sos_button' },
            { friendlyName: 'hall_motion', kind: 'motion' },
            { friendlyName: 'balcony_door', kind: 'contact', availability: 'legacy' },
            { friendlyName: 'kitchen_smoke', kind: 'smoke' },
            { friendlyName: 'bathroom_leak', kind: 'water_leak' },
          ],
        },
        native: { devices: [{ id: 'pendant', state: { battery: 90 } }] },
      }),
      { clock: systemClock, logger: silentLogger() },
    );
    await sim.start();
    await waitFor(
      () => Object.values(gateway.linkStates()).every((s) => s === 'open'),
      10_000,
      'serial links open',
    );
    await sim.zigbee2mqtt?.waitConnected(5_000);
    await sim.nativeDevice('pendant')?.waitConnected(5_000);
  });

  afterAll(async () => {
    await sim?.stop();
    await gateway?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Wait for a reading on the bus (unless it is an event's record), then for the same point in InfluxDB. */
  async function expectReading(deviceId: string, metric: Reading['metric'], value: Reading['value']) {
    if (metric !== 'action') {
      await waitFor(
        () => readings.some((r) => r.deviceId === deviceId && r.metric === metric && r.value === value),
        10_000,
        `${deviceId} ${metric}=${String(value)} on the bus`,
      );
    }
    const literal = typeof value === 'string' ? `'${value}'` : String(value);
    await waitFor(
      async () =>
        (
          await queryInflux(
            influxUrl,
            database,
            `SELECT value FROM ${metric} WHERE device = '${deviceId}' AND value = ${literal}`,
          )
        ).length > 0,
      10_000,
      `${deviceId} ${metric}=${String(value)} in InfluxDB`,
    );
  }

  async function expectEvent(deviceId: string, kind: DeviceEvent['kind']) {
    await waitFor(
      () => events.some((e) => e.deviceId === deviceId && e.kind === kind),
      10_000,
      `${deviceId} ${kind} event`,
    );
    await expectReading(deviceId, 'action', kind);
  }

  it('mr60bha1 bed radar: heart rate, breath rate, in/out of bed', async () => {
    await waitFor(
      () => readings.some((r) => r.deviceId === 'bed-radar' && r.metric === 'heart_rate'),
      10_000,
      'heart rate',
    );
    const bpm = readings.find((r) => r.deviceId === 'bed-radar' && r.metric === 'heart_rate')!.value;
    await expectReading('bed-radar', 'heart_rate', bpm);
    sim.updateRadar('bed-radar', { inBed: false });
    await expectReading('bed-radar', 'in_bed', false);
  });

  it('mr60fda1 fall radar: fall, then stationary residency', async () => {
    sim.fallRadar('fall-radar', 'fall');
    await expectReading('fall-radar', 'fall', true);
    await expectReading('fall-radar', 'stationary_residency', true);
  });

  it('rf_button (EV1527 and KeeLoq with BAT=LOW)', async () => {
    sim.rf('sos', 'press');
    await expectEvent('rf-sos', 'button_press');
    sim.rfBattery('call', 'low');
    sim.rf('call', 'press');
    await expectEvent('rf-call', 'button_press');
    await expectReading('rf-call', 'battery_low', true);
  });

  it('rf_contact with a second close code', async () => {
    sim.rf('door', 'open');
    await expectReading('rf-door', 'contact_open', true);
    sim.rf('door', 'close');
    await expectReading('rf-door', 'contact_open', false);
  });

  it('rf_pir, rf_smoke, rf_water, rf_gas', async () => {
    sim.rf('pir', 'motion');
    sim.rf('smoke', 'alarm');
    sim.rf('water', 'alarm');
    sim.rf('gas', 'alarm');
    await expectReading('rf-pir', 'occupancy', true);
    await expectReading('rf-smoke', 'smoke', true);
    await expectReading('rf-water', 'water_leak', true);
    await expectReading('rf-gas', 'gas', true);
  });

  it('zigbee SOS button, motion, contact, smoke, water leak', async () => {
    sim.zigbee('bathroom_sos', { action: 'sos' });
    sim.zigbee('hall_motion', { action: 'motion' });
    sim.zigbee('balcony_door', { action: 'open' });
    sim.zigbee('kitchen_smoke', { action: 'alarm' });
    sim.zigbee('bathroom_leak', { action: 'alarm' });
    await expectEvent('zb-sos', 'sos');
    await expectReading('zb-motion', 'occupancy', true);
    await expectReading('zb-door', 'contact_open', true);
    await expectReading('zb-smoke', 'smoke', true);
    await expectReading('zb-leak', 'water_leak', true);
    await expectReading('zb-sos', 'battery', 100);
  });

  it('native pendant: sos event and state', async () => {
    sim.native('pendant', { event: 'sos' });
    await expectEvent('pendant', 'sos');
    sim.native('pendant', { state: { battery: 42 } });
    await expectReading('pendant', 'battery', 42);
  });

  it('line noise and bad checksums from the simulator are dropped and counted; good frames keep coming', async () => {
    const before = readings.filter((r) => r.deviceId === 'bed-radar').length;
    sim.setFaults('bed-radar', { noise: 0.5, badChecksums: 0.3 });
    await waitFor(
      () => gateway.counters.get('frames_dropped', { link: 'bed', reason: 'checksum' }) > 0,
      15_000,
      'checksum drops',
    );
    await waitFor(
      () => readings.filter((r) => r.deviceId === 'bed-radar').length > before + 3,
      15_000,
      'readings continue',
    );
    sim.setFaults('bed-radar', { noise: false, badChecksums: false });
  });

  it('a device gone silent raises device_offline; its return clears it', async () => {
    sim.setFaults('fall-radar', { silent: true });
    await waitFor(
      () => gateway.activeAlarms().includes('device_offline:fall-radar'),
      10_000,
      'offline raised',
    );
    sim.setFaults('fall-radar', { silent: false });
    await waitFor(
      () => !gateway.activeAlarms().includes('device_offline:fall-radar'),
      10_000,
      'offline cleared',
    );
  });

  it('nothing was left unpaired along the way, and nothing dropped but what the faults caused', () => {
    expect(gateway.registry.unpairedDevices()).toEqual([]);
    expect(gateway.counters.total('lines_dropped')).toBe(0);
    expect(gateway.counters.total('zigbee_messages_rejected')).toBe(0);
    expect(gateway.counters.total('native_messages_rejected')).toBe(0);
    expect(gateway.counters.total('radar_model_mismatch')).toBe(0);
  });
});
