import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AlarmMessage } from '../../contract/index.js';
import { type ApiClient, loginOverHttp } from '../../tools/api-client.js';
import {
  type ManagedChild,
  REPO_ROOT,
  startChild,
  TSX_BIN,
  waitForLine,
} from '../../tools/child-processes.js';
import { freePort } from '../../tools/free-port.js';

const run = promisify(execFile);
const E2E_PASSWORD = 'e2e admin password';

/**
 * The three programs as separate processes, started the way an operator
 * would (CLIs, config files, environment overrides), for end-to-end tests.
 */
export class Programs {
  readonly children: ManagedChild[] = [];
  httpUrl = '';
  mqttPort = 0;
  controlUrl = '';
  private api: ApiClient | null = null;

  constructor(readonly dir: string) {}

  start(name: string, args: string[], env: Record<string, string>): ManagedChild {
    const child = startChild(name, process.execPath, [TSX_BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
    });
    this.children.push(child);
    return child;
  }

  private cloudEnv(): Record<string, string> {
    return {
      HOMEBED_CLOUD__DATA_DIR: join(this.dir, 'cloud'),
      HOMEBED_CLOUD__HTTP__PORT: String(new URL(this.httpUrl).port),
      HOMEBED_CLOUD__MQTT__PORT: String(this.mqttPort),
    };
  }

  /** Start the relay and provision a gateway through the cloud CLI; returns the secret. */
  async startCloud(gatewayId: string): Promise<string> {
    this.httpUrl = `http://127.0.0.1:${await freePort()}`;
    this.mqttPort = await freePort();
    const provision = await run(process.execPath, [TSX_BIN, 'cloud/cli.ts', 'gateway', 'add', gatewayId], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...this.cloudEnv() },
    });
    const secret = /secret: (\S+)/.exec(provision.stdout)?.[1];
    if (!secret) throw new Error(`no secret in: ${provision.stdout}`);
    // Tests read alarms through the API like anyone else: as a platform admin added with the CLI.
    await run(
      process.execPath,
      [
        TSX_BIN,
        'cloud/cli.ts',
        'user',
        'add',
        'e2e-admin',
        '--role',
        'admin',
        '--name',
        'e2e',
        '--password',
        E2E_PASSWORD,
      ],
      { cwd: REPO_ROOT, env: { ...process.env, ...this.cloudEnv() } },
    );
    await waitForLine(
      this.start('cloud', ['cloud/cli.ts', 'run'], this.cloudEnv()),
      /cloud relay started/,
      30_000,
    );
    this.api = await loginOverHttp(this.httpUrl, 'e2e-admin', E2E_PASSWORD);
    return secret;
  }

  /** Start the simulator with the given devices (sim config `devices` list). */
  async startSim(devices: unknown[], extra: Record<string, string> = {}): Promise<ManagedChild> {
    const port = await freePort();
    this.controlUrl = `http://127.0.0.1:${port}`;
    const sim = this.start('sim', ['firmware-sim/cli.ts', 'run'], {
      HOMEBED_SIM__CONTROL__PORT: String(port),
      HOMEBED_SIM__DEVICES: JSON.stringify(devices),
      ...extra,
    });
    await waitForLine(sim, /simulator ready/, 30_000);
    return sim;
  }

  /** Write a gateway config file and start the gateway with it. */
  async startGateway(name: string, configYaml: string, env: Record<string, string>): Promise<ManagedChild> {
    const file = join(this.dir, `${name}.yaml`);
    writeFileSync(file, configYaml);
    const gateway = this.start(name, ['gateway/cli.ts', 'run', '--config', file], {
      HOMEBED_GATEWAY__CLOUD__URL: `mqtt://127.0.0.1:${this.mqttPort}`,
      // Any free port for the ops server (GET /metrics, /status): e2e files may run several gateways.
      HOMEBED_GATEWAY__OPS__PORT: '0',
      ...env,
    });
    await waitForLine(gateway, /connected to cloud/, 30_000);
    return gateway;
  }

  async alarms(): Promise<(AlarmMessage & { receivedAt: string })[]> {
    if (!this.api) throw new Error('startCloud() first');
    const res = await this.api.get<{ alarms: (AlarmMessage & { receivedAt: string })[] }>(
      '/api/alarms?limit=1000',
    );
    return res.body.alarms;
  }

  async control(path: string, body: unknown): Promise<unknown> {
    const res = await fetch(`${this.controlUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json();
  }

  async stopAll(): Promise<void> {
    for (const child of [...this.children].reverse()) await child.stop('SIGTERM', 8_000);
  }
}
