import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AlarmMessage, HeartbeatMessage } from '../../contract/index.js';
import { type ApiClient, loginOverHttp } from '../api-client.js';
import { type ManagedChild, REPO_ROOT, startChild, TSX_BIN, waitForLine } from '../child-processes.js';
import { freePort } from '../free-port.js';

const run = promisify(execFile);

const RIG_USER = 'chaos-rig';
const RIG_PASSWORD = 'chaos rig password';

/** A native device for the simulator's `native.devices` list. */
export interface SimNativeDevice {
  id: string;
  state?: Record<string, unknown>;
  stateIntervalMs?: number;
  sequenceIn?: 'heart_rate' | 'breath_rate';
}

/** What the simulator's `GET /state` says of a native device (the fields the chaos cases read). */
export interface NativeDeviceState {
  id: string;
  connected: boolean;
  eventsSent: number;
  eventsDelivered: number;
  statesDelivered: number;
}

export interface StoredAlarm extends AlarmMessage {
  receivedAt: string;
}

/**
 * The programs of one home and its monitoring centre as separate processes
 * (cloud relay, gateway, simulator), each started by its CLI the way an
 * operator would, on fixed ports so that a killed program can be started
 * again in its place with its data. Kills are SIGKILL to the whole process
 * group: no shutdown code runs.
 */
export class ChaosRig {
  private readonly running = new Map<string, ManagedChild>();
  private readonly cloudEnvExtra: Record<string, string> = {};
  cloudHttpPort = 0;
  cloudMqttPort = 0;
  localBrokerPort = 0;
  simControlPort = 0;
  readonly gatewayId = 'gw-chaos';
  readonly secret = 'chaos-secret-0123456789';
  private gatewayConfigFile = '';
  private apiClient: ApiClient | null = null;
  private gatewayEnv: Record<string, string> = {};
  private simEnv: Record<string, string> = {};

  constructor(
    readonly dir: string,
    private readonly onLine?: (program: string, line: string) => void,
  ) {}

  async allocatePorts(): Promise<void> {
    this.cloudHttpPort = await freePort();
    this.cloudMqttPort = await freePort();
    this.localBrokerPort = await freePort();
    this.simControlPort = await freePort();
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.cloudHttpPort}`;
  }

  private cloudEnv(): Record<string, string> {
    return {
      HOMEBED_CLOUD__DATA_DIR: join(this.dir, 'cloud'),
      HOMEBED_CLOUD__HTTP__PORT: String(this.cloudHttpPort),
      HOMEBED_CLOUD__MQTT__PORT: String(this.cloudMqttPort),
      ...this.cloudEnvExtra,
    };
  }

  /** Extra `HOMEBED_CLOUD__…` overrides (e.g. an external broker). */
  setCloudEnv(env: Record<string, string>): void {
    Object.assign(this.cloudEnvExtra, env);
  }

  /** Lines seen so far matching each watched pattern, across restarts (see {@link watch}). */
  private readonly watched = new Map<RegExp, number>();

  /** Count the lines any program prints that match `pattern` from now on; returns a reader. */
  watch(pattern: RegExp): () => number {
    this.watched.set(pattern, 0);
    return () => this.watched.get(pattern) ?? 0;
  }

  private start(name: string, args: string[], env: Record<string, string>): ManagedChild {
    const child = startChild(name, process.execPath, [TSX_BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      onLine: (line) => {
        for (const [pattern, n] of this.watched) if (pattern.test(line)) this.watched.set(pattern, n + 1);
        this.onLine?.(name, line);
      },
    });
    this.running.set(name, child);
    return child;
  }

  /** Provision the gateway with a known secret through the cloud CLI (before the relay starts). */
  async provisionGateway(): Promise<void> {
    const cli = (...args: string[]) =>
      run(process.execPath, [TSX_BIN, 'cloud/cli.ts', ...args], {
        cwd: REPO_ROOT,
        env: { ...process.env, ...this.cloudEnv() },
      });
    await cli('gateway', 'add', this.gatewayId, '--secret', this.secret);
    // The rig reads alarms through the API like anyone else: as a platform admin.
    await cli('user', 'add', RIG_USER, '--role', 'admin', '--name', 'chaos rig', '--password', RIG_PASSWORD);
  }

  /** The API as the rig's admin; the session lives in the store, so it outlives relay restarts. */
  private async api(): Promise<ApiClient> {
    this.apiClient ??= await loginOverHttp(this.httpUrl, RIG_USER, RIG_PASSWORD);
    return this.apiClient;
  }

  async startCloud(): Promise<void> {
    await waitForLine(
      this.start('cloud', ['cloud/cli.ts', 'run'], this.cloudEnv()),
      /cloud relay started/,
      30_000,
    );
  }

  /** Write the gateway's config once; later starts reuse it (a restart is the same home). */
  configureGateway(configYaml: string, env: Record<string, string> = {}): void {
    this.gatewayConfigFile = join(this.dir, 'gateway.yaml');
    writeFileSync(this.gatewayConfigFile, configYaml);
    this.gatewayEnv = env;
  }

  /** Start the gateway and wait until it runs (not until the cloud answers: the cloud may be down). */
  async startGateway(): Promise<void> {
    if (!this.gatewayConfigFile) throw new Error('configureGateway() first');
    const gateway = this.start(
      'gateway',
      ['gateway/cli.ts', 'run', '--config', this.gatewayConfigFile],
      this.gatewayEnv,
    );
    await waitForLine(gateway, /gateway started/, 30_000);
  }

  async startSim(natives: SimNativeDevice[]): Promise<void> {
    this.simEnv = {
      HOMEBED_SIM__CONTROL__PORT: String(this.simControlPort),
      HOMEBED_SIM__MQTT__URL: `mqtt://127.0.0.1:${this.localBrokerPort}`,
      // A device retries quickly: the gateway restarts in a second or two.
      HOMEBED_SIM__MQTT__RECONNECT_PERIOD_MS: '200',
      HOMEBED_SIM__NATIVE__DEVICES: JSON.stringify(natives),
    };
    await waitForLine(
      this.start('sim', ['firmware-sim/cli.ts', 'run'], this.simEnv),
      /simulator ready/,
      30_000,
    );
  }

  /** SIGKILL a program (its whole process group) and wait until nothing of it is left. */
  async kill(name: string): Promise<void> {
    await this.running.get(name)?.stop('SIGKILL', 1_000);
  }

  /** Is the program still running (not exited on its own)? */
  async alive(name: string): Promise<boolean> {
    const child = this.running.get(name);
    if (!child) return false;
    const exited = await Promise.race([child.exited.then(() => true), delay(0).then(() => false)]);
    return !exited;
  }

  output(name: string): string {
    return this.running.get(name)?.output() ?? '';
  }

  async stopAll(): Promise<void> {
    for (const name of ['sim', 'gateway', 'cloud']) await this.running.get(name)?.stop('SIGTERM', 8_000);
    this.running.clear();
  }

  /** Every alarm the cloud has stored, oldest first. */
  async alarms(): Promise<StoredAlarm[]> {
    const res = await (await this.api()).get<{ alarms: StoredAlarm[] }>('/api/alarms?limit=1000');
    if (res.status !== 200) throw new Error(`GET /api/alarms: ${res.status}`);
    return res.body.alarms;
  }

  /** The gateway's last heartbeat as the cloud has it, or null. */
  async heartbeat(): Promise<(HeartbeatMessage & { receivedAt?: string }) | null> {
    const res = await (await this.api()).get<{
      gateways: { id: string; lastHeartbeat: HeartbeatMessage | null }[];
    }>('/api/gateways');
    if (res.status !== 200) return null;
    return res.body.gateways.find((g) => g.id === this.gatewayId)?.lastHeartbeat ?? null;
  }

  /** Drive a native device through the simulator's control API; returns the event's `at`, if one was sent. */
  async native(id: string, body: Record<string, unknown>): Promise<string | undefined> {
    const res = await fetch(`http://127.0.0.1:${this.simControlPort}/native/${id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`POST /native/${id}: ${res.status} ${await res.text()}`);
    const reply = (await res.json()) as { published: { topic: string; payload: { at?: string } }[] };
    return reply.published.find((p) => p.topic.endsWith('/event'))?.payload.at;
  }

  async nativeStates(): Promise<NativeDeviceState[]> {
    const res = await fetch(`http://127.0.0.1:${this.simControlPort}/state`);
    if (!res.ok) throw new Error(`GET /state: ${res.status}`);
    const body = (await res.json()) as { native?: NativeDeviceState[] };
    return body.native ?? [];
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll `check` until it returns true or `timeoutMs` passes; returns whether it came true. */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return true;
    } catch {
      // A program being restarted does not answer; keep polling.
    }
    if (Date.now() >= deadline) return false;
    await delay(200);
  }
}
