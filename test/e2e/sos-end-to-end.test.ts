import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmMessage } from '../../contract/index.js';
import {
  type ManagedChild,
  REPO_ROOT,
  startChild,
  TSX_BIN,
  waitForLine,
} from '../../tools/child-processes.js';
import { freePort } from '../../tools/free-port.js';
import { createTestDatabase, queryInflux, testInfluxUrl } from '../support/influx.js';
import { processesMentioning } from '../support/processes.js';
import { type ApiClient, loginOverHttp, waitFor } from '../support/relay.js';

const run = promisify(execFile);

/**
 * Cloud, simulator and gateway as three separate processes, started the
 * way an operator would, talking over real MQTT, real PTYs and a real
 * InfluxDB. Pressing the SOS button from a fourth process (the sim CLI)
 * must produce the alarm in the cloud's API, and vitals must land in InfluxDB.
 */
describe('SOS end to end, three processes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homebed-e2e-'));
  const children: ManagedChild[] = [];
  let httpUrl: string;
  let api: ApiClient;
  const staffPassword = 'e2e staff password';
  let controlUrl: string;
  let influxUrl: string;
  let database: string;

  const start = (name: string, args: string[], env: Record<string, string>) => {
    const child = startChild(name, process.execPath, [TSX_BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
    });
    children.push(child);
    return child;
  };

  beforeAll(async () => {
    influxUrl = testInfluxUrl();
    database = await createTestDatabase(influxUrl, 'e2e');
    const [httpPort, mqttPort, controlPort] = [await freePort(), await freePort(), await freePort()];
    httpUrl = `http://127.0.0.1:${httpPort}`;
    controlUrl = `http://127.0.0.1:${controlPort}`;
    const cloudEnv = {
      HOMEBED_CLOUD__DATA_DIR: join(dir, 'cloud'),
      HOMEBED_CLOUD__HTTP__PORT: String(httpPort),
      HOMEBED_CLOUD__MQTT__PORT: String(mqttPort),
    };
    // Set up the home exactly as an operator does, through the cloud CLI: organisation, bed, gateway, a staff login.
    const cloudCli = (...args: string[]) =>
      run(process.execPath, [TSX_BIN, 'cloud/cli.ts', ...args], {
        cwd: REPO_ROOT,
        env: { ...process.env, ...cloudEnv },
      });
    await cloudCli('org', 'add', 'E2E 服务中心', '--id', 'org-e2e');
    await cloudCli(
      'bed',
      'add',
      'bed-e2e',
      '--org',
      'org-e2e',
      '--resident',
      '张三',
      '--address',
      '测试路 1 号',
      '--contact',
      '张小三,儿子,+8613800138001,notify',
      '--tag',
      '独居',
    );
    const provision = await cloudCli('gateway', 'add', 'gw-e2e', '--bed', 'bed-e2e');
    const secret = /secret: (\S+)/.exec(provision.stdout)?.[1];
    expect(secret).toBeTruthy();
    expect(provision.stdout).toContain('on bed bed-e2e');
    await cloudCli(
      'user',
      'add',
      'duty1',
      '--role',
      'staff',
      '--name',
      '值班员一',
      '--org',
      'org-e2e',
      '--password',
      staffPassword,
    );

    const cloud = start('cloud', ['cloud/cli.ts', 'run'], cloudEnv);
    await waitForLine(cloud, /cloud relay started/, 30_000);
    api = await loginOverHttp(httpUrl, 'duty1', staffPassword);
    const sim = start('sim', ['firmware-sim/cli.ts', 'run'], {
      HOMEBED_SIM__CONTROL__PORT: String(controlPort),
      HOMEBED_SIM__DEVICES: JSON.stringify([
        {
          id: 'bed-radar',
          kind: 'mr60bha1',
          devicePath: join(dir, 'dev/sim-radar'),
          hostPath: join(dir, 'dev/radar'),
          observationSetupMs: 0,
        },
        {
          id: 'rflink',
          kind: 'rflink',
          devicePath: join(dir, 'dev/sim-rflink'),
          hostPath: join(dir, 'dev/rflink'),
        },
      ]),
    });
    await waitForLine(sim, /simulator ready/, 30_000);
    // The installer's config file for this home; secret and addresses come by environment, as in a deployment.
    const gatewayConfig = join(dir, 'gateway.yaml');
    writeFileSync(
      gatewayConfig,
      [
        'gatewayId: gw-e2e',
        'bedId: bed-e2e',
        'cloud:',
        '  secret: placeholder-overridden',
        'serialPorts:',
        `  - { id: bed-radar-port, path: ${join(dir, 'dev/radar')}, protocol: seeed }`,
        `  - { id: rflink-port, path: ${join(dir, 'dev/rflink')}, protocol: rflink }`,
        'devices:',
        '  - { id: bed-radar, kind: mr60bha1, role: bed_radar, room: bedroom, link: bed-radar-port }',
        '  - { id: sos-button, kind: rf_button, role: sos_button, room: bedroom, link: rflink-port, address: "EV1527:0d3e4:01" }',
        '',
      ].join('\n'),
    );
    const gateway = start('gateway', ['gateway/cli.ts', 'run', '--config', gatewayConfig], {
      HOMEBED_GATEWAY__DATA_DIR: join(dir, 'gateway'),
      HOMEBED_GATEWAY__CLOUD__SECRET: secret!,
      HOMEBED_GATEWAY__CLOUD__URL: `mqtt://127.0.0.1:${mqttPort}`,
      HOMEBED_GATEWAY__INFLUX__URL: influxUrl,
      HOMEBED_GATEWAY__INFLUX__DATABASE: database,
    });
    await waitForLine(gateway, /connected to cloud/, 30_000);
  });

  afterAll(async () => {
    for (const child of children.reverse()) await child.stop('SIGTERM', 8_000);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a press from the sim CLI appears in GET /api/alarms', async () => {
    const pressed = await run(
      process.execPath,
      [TSX_BIN, 'firmware-sim/cli.ts', 'press', 'sos', '--control-url', controlUrl],
      {
        cwd: REPO_ROOT,
      },
    );
    expect(pressed.stdout).toContain('pressed sos');
    const alarm = await waitFor(
      async () =>
        (await api.get<{ alarms: AlarmMessage[] }>('/api/alarms')).body.alarms.find(
          (a) => a.type === 'sos_button',
        ),
      10_000,
      'alarm in the API',
    );
    expect(alarm).toMatchObject({
      gatewayId: 'gw-e2e',
      bedId: 'bed-e2e',
      severity: 'critical',
      state: 'raised',
      seq: 1,
    });
  });

  it('vitals from the bed radar reach InfluxDB', async () => {
    const rows = await waitFor(
      async () => {
        const r = await queryInflux(influxUrl, database, 'SELECT value FROM heart_rate');
        return r.length ? r : null;
      },
      20_000,
      'heart rate in InfluxDB',
    );
    expect(typeof rows[0]?.value).toBe('number');
    expect(rows[0]?.value).toBeGreaterThan(30);
  });

  it('the gateway heartbeat reaches the cloud', async () => {
    const { gateways } = (
      await api.get<{
        gateways: {
          id: string;
          status: string;
          bedId: string;
          lastHeartbeat: { devices: unknown[] } | null;
        }[];
      }>('/api/gateways')
    ).body;
    expect(gateways).toEqual([expect.objectContaining({ id: 'gw-e2e', status: 'online', bedId: 'bed-e2e' })]);
    expect(gateways[0]?.lastHeartbeat?.devices).toHaveLength(2);
  });

  it('stopping the three programs leaves no process behind', async () => {
    for (const child of [...children].reverse()) await child.stop('SIGTERM', 8_000);
    expect(processesMentioning(dir)).toEqual([]);
  });
});
