import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../common/clock.js';
import { silentLogger } from '../../../common/logger.js';
import { createPtyPair, type PtyPair } from '../../../firmware-sim/links/pty.js';
import { SerialPortLink } from '../../../firmware-sim/links/serial-port-link.js';
import { gatewayConfigSchema } from '../../../gateway/config/schema.js';
import { encodeFrame, encodeReport } from '../../../gateway/devices/protocols/seeed/index.js';
import { Gateway } from '../../../gateway/gateway.js';
import type { Reading } from '../../../gateway/telemetry/reading.js';
import { waitFor } from '../../support/relay.js';

/**
 * Unplugging a USB serial device, for real: socat is killed, so the PTY and
 * its stable path vanish under the open port; later a new socat recreates
 * them at the same path, as a replugged device reappears under /dev/serial/by-id.
 */
describe('serial unplug and replug through real PTYs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homebed-unplug-'));
  const devicePath = join(dir, 'sim-radar');
  const hostPath = join(dir, 'by-id-radar');
  let pty: PtyPair | null = null;
  let device: SerialPortLink | null = null;
  let gateway: Gateway;
  const readings: Reading[] = [];

  const plugIn = async () => {
    pty = await createPtyPair({ devicePath, hostPath });
    device = new SerialPortLink({ path: pty.devicePath, baudRate: 115200 });
    await device.open();
  };
  const unplug = async () => {
    await device?.close();
    await pty?.close();
    device = null;
    pty = null;
  };

  beforeAll(async () => {
    await plugIn();
    gateway = new Gateway({
      config: gatewayConfigSchema.parse({
        gatewayId: 'gw-u',
        bedId: 'bed-u',
        dataDir: join(dir, 'gw'),
        cloud: { url: 'mqtt://127.0.0.1:9', secret: 'irrelevant-secret' },
        influx: { url: 'http://127.0.0.1:9', flushIntervalMs: 60_000 },
        serialPorts: [
          {
            id: 'radar-port',
            path: hostPath,
            protocol: 'seeed',
            reconnectInitialMs: 100,
            reconnectMaxMs: 400,
          },
        ],
        devices: [{ id: 'bed-radar', kind: 'mr60bha1', role: 'bed_radar', link: 'radar-port' }],
        // Shorter than the 5 s default so the test runs quickly; the rule is the same.
        supervision: { linkLostAfterMs: 1_500 },
      }),
      clock: systemClock,
      logger: silentLogger(),
    });
    gateway.bus.on('reading', (r) => readings.push(r));
    await gateway.start();
    await waitFor(() => gateway.linkStates()['radar-port'] === 'open', 5_000, 'port open');
  });

  afterAll(async () => {
    await gateway?.stop();
    await unplug();
    rmSync(dir, { recursive: true, force: true });
  });

  const sendHeartRate = (bpm: number) =>
    device?.write(encodeFrame(encodeReport({ type: 'heart_rate', bpm })));

  it('keeps running through an unplug, raises serial_link_lost, and clears it and reads again after replug', async () => {
    sendHeartRate(61);
    await waitFor(() => readings.some((r) => r.value === 61), 5_000, 'reading before unplug');

    await unplug();
    await waitFor(
      () => gateway.linkStates()['radar-port'] === 'closed',
      5_000,
      'gateway sees the port close',
    );
    await waitFor(
      () => gateway.activeAlarms().includes('serial_link_lost:radar-port'),
      5_000,
      'link lost alarm',
    );

    await plugIn();
    await waitFor(() => gateway.linkStates()['radar-port'] === 'open', 10_000, 'gateway reopens the port');
    await waitFor(
      () => !gateway.activeAlarms().includes('serial_link_lost:radar-port'),
      5_000,
      'alarm cleared',
    );
    sendHeartRate(62);
    await waitFor(() => readings.some((r) => r.value === 62), 5_000, 'reading after replug');
    expect(gateway.outboxDepth()).toBe(2); // raised + cleared, waiting for a cloud that is not there
  });
});
