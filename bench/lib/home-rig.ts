/**
 * What the latency and backfill benchmarks share: one home and its
 * monitoring centre as separate processes (cloud relay, gateway, optionally
 * the simulator's bed radar), an RFLink receiver whose PTY the bench writes
 * itself — so the moment a button is "pressed" is known to the microsecond —
 * and the instruments that turn presses into latencies: the programs' own
 * log lines (JSON, pino `time` = the wall clock when the line was logged), a
 * staff member's event stream, and a tracker that matches every press to
 * exactly one alarm.
 *
 * Also here, because they run in processes of their own: the background
 * fleet of contract gateways (`runFleet`, started by {@link startFleet}) and
 * the stand-alone aedes broker of the MQTT floor.
 */
import { closeSync, constants, mkdirSync, openSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { createPtyPair, type PtyPair } from '../../firmware-sim/links/pty.js';
import { type ApiClient, loginOverHttp } from '../../tools/api-client.js';
import { type ManagedChild, REPO_ROOT, startChild, waitForLine } from '../../tools/child-processes.js';
import { freePort } from '../../tools/free-port.js';
import { runCommand, startProgram } from './programs.js';
import { round, roundSummary, type Summary, summarize } from './stats.js';

/**
 * The bench's clock: wall-clock milliseconds with sub-millisecond resolution. The
 * programs stamp their log lines with `Date.now()` (the same wall clock, whole
 * milliseconds), so times from both can be subtracted; {@link ClockCheck} records how
 * far the two drift apart during a run.
 */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

/** `Date.now()` minus {@link wallNow}, sampled at the start and end: a slewing clock would show here. */
export class ClockCheck {
  private readonly startOffset = ClockCheck.offset();

  private static offset(): number {
    // Date.now() has whole milliseconds: take the median of a few samples to see past the truncation.
    const samples = Array.from({ length: 21 }, () => Date.now() - wallNow()).sort((a, b) => a - b);
    return samples[10] as number;
  }

  /** Change of the offset since construction, ms (0 when both clocks ran at the same rate). */
  driftMs(): number {
    return round(ClockCheck.offset() - this.startOffset, 3);
  }
}

/** A summary in milliseconds rounded to 0.01 ms, or null when there are no samples (never silently 0). */
export function msSummary(samples: readonly number[]): Summary | null {
  return samples.length ? roundSummary(summarize(samples)) : null;
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll `check` every `everyMs` until it is true or `timeoutMs` passes; returns whether it came true. */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await delay(everyMs);
  }
}

/**
 * Run `step(i)` for i = 0 … count-1 on a fixed schedule, one every `intervalMs` (open
 * loop: a slow alarm never delays the next press, as a real resident would not wait).
 * `offsetMs` shifts the whole schedule. Returns how late the worst slot started.
 */
export async function paced(
  count: number,
  intervalMs: number,
  step: (i: number) => void | Promise<void>,
  offsetMs = 0,
): Promise<{ maxLateMs: number }> {
  const start = wallNow() + offsetMs;
  let maxLateMs = 0;
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = start + i * intervalMs;
    const wait = due - wallNow();
    if (wait > 0) await delay(wait);
    maxLateMs = Math.max(maxLateMs, wallNow() - due);
    const done = step(i);
    if (done) pending.push(done);
  }
  await Promise.all(pending);
  return { maxLateMs: round(maxLateMs, 2) };
}

/** Undo steps, run in reverse order; every step runs even when an earlier one fails. */
export class Cleanup {
  private readonly steps: { label: string; run: () => Promise<unknown> | unknown }[] = [];

  add(label: string, run: () => Promise<unknown> | unknown): void {
    this.steps.push({ label, run });
  }

  /** Run every step; returns the failures (the caller decides whether they fail the benchmark). */
  async runAll(): Promise<string[]> {
    const failures: string[] = [];
    for (const step of this.steps.reverse()) {
      try {
        await step.run();
      } catch (error) {
        failures.push(`${step.label}: ${(error as Error).message}`);
      }
    }
    this.steps.length = 0;
    return failures;
  }
}

// ---------------------------------------------------------------------------------------------
// Program log lines

/** One pino JSON line: `time` is `Date.now()` when it was logged, `msg` the message. */
export interface LogLine {
  time: number;
  msg: string;
  [key: string]: unknown;
}

/** Parse a pino JSON line; null for anything else (a stack trace, a pretty line). */
export function parseLogLine(line: string): LogLine | null {
  if (!line.startsWith('{')) return null;
  try {
    const value = JSON.parse(line) as LogLine;
    return typeof value.time === 'number' && typeof value.msg === 'string' ? value : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// RFLink receiver on a PTY the bench writes itself

/** An EV1527 SOS button as the gateway's config and the RFLink receiver name it. */
export interface RfButton {
  deviceId: string;
  /** 20-bit EV1527 address as RFLink prints it (5 hex digits). */
  rfId: string;
  address: string;
}

/** `count` SOS buttons with distinct addresses (many buttons, so the SOS repeat window never merges presses). */
export function rfButtons(count: number): RfButton[] {
  return Array.from({ length: count }, (_, i) => {
    const rfId = (0x1a000 + i).toString(16);
    return { deviceId: `sos-${String(i).padStart(2, '0')}`, rfId, address: `EV1527:${rfId}:01` };
  });
}

/**
 * The device end of an RFLink receiver's serial port: a socat PTY pair whose host end
 * the gateway opens. `press()` writes the line the receiver prints for an EV1527 button
 * (`20;XX;EV1527;ID=…;SWITCH=01;CMD=ON;`) with one synchronous write(2), so the time taken
 * just before it is when the first byte entered the kernel. The receiver's answers to
 * the gateway's `10;VERSION;` and `10;PING;` are sent as a real RFLink would.
 */
export class RflinkPty {
  private counter = 0;
  private readonly poll: NodeJS.Timeout;
  private pending = '';
  /** Lines the gateway sent to the receiver (VERSION, PING, feedback commands). */
  readonly received: string[] = [];

  private constructor(
    private readonly pair: PtyPair,
    private readonly fd: number,
  ) {
    this.poll = setInterval(() => this.readCommands(), 200);
    this.poll.unref();
  }

  static async create(dir: string): Promise<RflinkPty> {
    mkdirSync(dir, { recursive: true });
    const pair = await createPtyPair({
      devicePath: join(dir, 'rflink-receiver'),
      hostPath: join(dir, 'rflink'),
    });
    // Non-blocking, so polling for the gateway's commands never stalls the bench's event loop.
    const fd = openSync(pair.devicePath, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
    return new RflinkPty(pair, fd);
  }

  /** The path the gateway's `serialPorts[].path` opens. */
  get hostPath(): string {
    return this.pair.hostPath;
  }

  private send(fields: string): void {
    const seq = (this.counter++ % 256).toString(16).toUpperCase().padStart(2, '0');
    writeSync(this.fd, `20;${seq};${fields}\r\n`);
  }

  /** Press `button` once; returns the bench time taken just before the bytes were written. */
  press(button: RfButton): number {
    const seq = (this.counter++ % 256).toString(16).toUpperCase().padStart(2, '0');
    const line = Buffer.from(`20;${seq};EV1527;ID=${button.rfId};SWITCH=01;CMD=ON;\r\n`);
    const t0 = wallNow();
    writeSync(this.fd, line);
    return t0;
  }

  private readCommands(): void {
    const buffer = Buffer.alloc(4096);
    for (;;) {
      let n = 0;
      try {
        n = readSync(this.fd, buffer, 0, buffer.length, null);
      } catch {
        return; // EAGAIN: nothing waiting
      }
      if (n <= 0) return;
      this.pending += buffer.subarray(0, n).toString('latin1');
      const lines = this.pending.split(/\r?\n/);
      this.pending = lines.pop() ?? '';
      for (const line of lines) {
        this.received.push(line);
        const command = line.replace(/^10;/, '').replace(/;$/, '').toUpperCase();
        if (command === 'PING') this.send('PONG;');
        else if (command === 'VERSION') this.send('VER=1.1;REV=48;BUILD=04;');
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.poll);
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    await this.pair.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The monitoring centre and the home

export const ORG_ID = 'bench';
export const STAFF_USER = 'bench-staff';
export const STAFF_PASSWORD = 'bench staff password';
export const OPERATOR_USER = 'bench-operator';
export const OPERATOR_PASSWORD = 'bench operator password';

export interface CentreOptions {
  dir: string;
  gatewayId: string;
  bedId: string;
  secret: string;
  /** Also add an operator (who may provision gateways over the API). */
  operator?: boolean;
  /** Fed the relay's alarm log lines (`alarm stored`…): the commit times of the presses. */
  tracker: AlarmTracker;
  verbose: boolean;
  say: (line: string) => void;
}

/** The cloud relay, started the way an operator would: provisioned with its CLI first, then `run`. */
export class Centre {
  private constructor(
    readonly child: ManagedChild,
    readonly httpUrl: string,
    readonly mqttUrl: string,
    readonly env: Record<string, string>,
    private readonly seen: { gatewayOnline: boolean },
  ) {}

  /** Resolves once the relay has logged the benchmark's gateway online; throws after `timeoutMs`. */
  async gatewayOnline(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.seen.gatewayOnline) {
      if (Date.now() > deadline)
        throw new Error(`the gateway did not come online at the relay within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  static async start(o: CentreOptions): Promise<Centre> {
    const httpPort = await freePort();
    const mqttPort = await freePort();
    const env = {
      HOMEBED_CLOUD__DATA_DIR: join(o.dir, 'cloud'),
      HOMEBED_CLOUD__HTTP__PORT: String(httpPort),
      HOMEBED_CLOUD__MQTT__PORT: String(mqttPort),
      HOMEBED_CLOUD__LOG__LEVEL: 'info',
      HOMEBED_CLOUD__LOG__PRETTY: 'false',
    };
    const cli = (...args: string[]) => runCommand('cloud', args, env);
    await cli('org', 'add', 'Bench 服务中心', '--id', ORG_ID);
    await cli('bed', 'add', o.bedId, '--org', ORG_ID, '--resident', '测试', '--address', '基准路 1 号');
    await cli('gateway', 'add', o.gatewayId, '--bed', o.bedId, '--secret', o.secret);
    // The staff member whose console (event stream) the alarm must reach.
    await cli(
      'user',
      'add',
      STAFF_USER,
      '--role',
      'staff',
      '--name',
      '值班员',
      '--org',
      ORG_ID,
      '--password',
      STAFF_PASSWORD,
    );
    if (o.operator) {
      await cli(
        'user',
        'add',
        OPERATOR_USER,
        '--role',
        'operator',
        '--name',
        '运营',
        '--org',
        ORG_ID,
        '--password',
        OPERATOR_PASSWORD,
      );
    }
    const seen = { gatewayOnline: false };
    const child = await startProgram('cloud', ['run'], {
      env,
      onLine: (line) => {
        if (o.verbose) o.say(`[cloud] ${line}`);
        const parsed = parseLogLine(line);
        if (!parsed) return;
        o.tracker.onCloudLog(parsed);
        if (parsed.msg === 'gateway status' && parsed.gatewayId === o.gatewayId && parsed.state === 'online')
          seen.gatewayOnline = true;
      },
    });
    return new Centre(child, `http://127.0.0.1:${httpPort}`, `mqtt://127.0.0.1:${mqttPort}`, env, seen);
  }

  staff(): Promise<ApiClient> {
    return loginOverHttp(this.httpUrl, STAFF_USER, STAFF_PASSWORD);
  }

  operator(): Promise<ApiClient> {
    return loginOverHttp(this.httpUrl, OPERATOR_USER, OPERATOR_PASSWORD);
  }
}

/** The gateway's config (written as JSON, which its YAML loader reads), from the parts a benchmark varies. */
export interface GatewaySetup {
  dir: string;
  gatewayId: string;
  bedId: string;
  secret: string;
  cloudUrl: string;
  influx: Record<string, unknown>;
  serialPorts: Record<string, unknown>[];
  devices: Record<string, unknown>[];
  cloud?: Record<string, unknown>;
  localBrokerPort?: number;
  rules?: Record<string, unknown>;
}

export function writeGatewayConfig(s: GatewaySetup): string {
  const config = {
    gatewayId: s.gatewayId,
    bedId: s.bedId,
    timeZone: 'Asia/Shanghai',
    dataDir: join(s.dir, 'gateway'),
    cloud: { url: s.cloudUrl, secret: s.secret, ...s.cloud },
    influx: s.influx,
    localBroker:
      s.localBrokerPort === undefined
        ? { enabled: false }
        : { enabled: true, host: '127.0.0.1', port: s.localBrokerPort },
    serialPorts: s.serialPorts,
    devices: s.devices,
    ...(s.rules ? { rules: s.rules } : {}),
    log: { level: 'info', pretty: false },
  };
  const file = join(s.dir, 'gateway.yaml');
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}

/** The gateway as a deployment runs it; every line goes to `onLine` (parsed when JSON). */
export function startGateway(
  configFile: string,
  onLine: (line: string, parsed: LogLine | null) => void,
  verbose: boolean,
  say: (line: string) => void,
): Promise<ManagedChild> {
  return startProgram('gateway', ['run', '--config', configFile], {
    onLine: (line) => {
      if (verbose) say(`[gateway] ${line}`);
      onLine(line, parseLogLine(line));
    },
  });
}

/**
 * The simulator playing the home's Seeed MR60BHA1 bed radar on its own PTY pair
 * (presence, in bed, heart and breath rate at the module's report rates, answering the
 * gateway's model/firmware queries). Returns the path the gateway opens.
 */
export async function startBedRadar(
  dir: string,
  verbose: boolean,
  say: (line: string) => void,
): Promise<{ child: ManagedChild; hostPath: string }> {
  const hostPath = join(dir, 'dev', 'bed-radar');
  mkdirSync(join(dir, 'dev'), { recursive: true });
  const child = await startProgram('sim', ['run'], {
    env: {
      HOMEBED_SIM__CONTROL__PORT: '0',
      HOMEBED_SIM__DEVICES: JSON.stringify([
        {
          id: 'bed-radar',
          kind: 'mr60bha1',
          devicePath: join(dir, 'dev', 'sim-bed-radar'),
          hostPath,
          // Vitals from the start: the vendor's 20 s settling time would only delay the run.
          observationSetupMs: 0,
        },
      ]),
    },
    onLine: verbose ? (line) => say(`[sim] ${line}`) : undefined,
  });
  return { child, hostPath };
}

// ---------------------------------------------------------------------------------------------
// A staff member's event stream

/** One alarm change as the stream carries it (docs/api.md, AlarmChange). */
export interface StreamChange {
  id: string;
  alarmId: string;
  at: string;
  kind: string;
  detail: Record<string, unknown>;
  gatewayId: string;
}

/**
 * `GET /api/alarms/stream` read with node:http (no extra stream machinery between the
 * socket and the parser): each event is stamped with the bench time at which the chunk
 * that completed it arrived.
 */
export class SseStream {
  private buffer = '';
  private readonly request: ReturnType<typeof request>;
  status = 0;
  events = 0;
  readonly opened: Promise<void>;
  private ended = false;

  constructor(
    url: string,
    token: string,
    private readonly onChange: (change: StreamChange, arrivedAt: number) => void,
  ) {
    let opened!: () => void;
    let failed!: (error: Error) => void;
    this.opened = new Promise((resolve, reject) => {
      opened = resolve;
      failed = reject;
    });
    this.request = request(
      `${url}/api/alarms/stream`,
      { headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` }, agent: false },
      (res) => {
        this.status = res.statusCode ?? 0;
        if (this.status !== 200) {
          failed(new Error(`GET /api/alarms/stream answered ${this.status}`));
          res.resume();
          return;
        }
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => this.onChunk(chunk, wallNow()));
        res.on('end', () => {
          this.ended = true;
        });
        opened();
      },
    );
    this.request.on('error', (error) => {
      this.ended = true;
      failed(error);
    });
    this.request.end();
  }

  /** Whether the relay closed the stream (it must stay open for the whole run). */
  get closedByServer(): boolean {
    return this.ended;
  }

  private onChunk(chunk: string, arrivedAt: number): void {
    this.buffer += chunk;
    let end = this.buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (event === 'alarm' && data.length) {
        this.events++;
        this.onChange(JSON.parse(data.join('\n')) as StreamChange, arrivedAt);
      }
      end = this.buffer.indexOf('\n\n');
    }
  }

  close(): void {
    this.request.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Matching presses to alarms

export interface Press {
  phase: string;
  deviceId: string;
  /** Bench time just before the line was written to the PTY. */
  t0: number;
}

/** What is known of one SOS alarm, from whichever source said it first. */
interface AlarmSeen {
  alarmId: string;
  deviceId?: string;
  /** The gateway's time of the press (alarm `at`): when it read the line. */
  atMs?: number;
  /** Gateway log `alarm committed to outbox`: committed to its SQLite outbox. */
  outboxMs?: number;
  /** Relay: when the message reached the ingress (`receivedAt`, also the timeline's `stored` time). */
  receivedAtMs?: number;
  /** Relay log `alarm stored`: logged right after the commit transaction returned. */
  commitMs?: number;
  /** First change of this alarm on the staff member's event stream. */
  sseMs?: number;
}

export interface PressOutcome extends Press {
  alarmId: string | null;
  /** button → committed in the relay */
  commitMs: number | null;
  /** button → on the staff member's event stream */
  sseMs: number | null;
  gatewayReadMs: number | null;
  outboxMs: number | null;
  ingressMs: number | null;
}

/**
 * Every press, and every SOS alarm the programs report, matched one to one: an alarm
 * belongs to the press of the same button whose write time is nearest its `at` (the
 * gateway's clock when it read the line), within [t0 − 5 ms, t0 + 3 s). Presses of one
 * button are seconds apart, so the match is never ambiguous.
 */
export class AlarmTracker {
  readonly presses: Press[] = [];
  private readonly alarms = new Map<string, AlarmSeen>();
  /** SOS alarms the programs reported that match no press (must stay empty). */
  unmatched: string[] = [];

  constructor(private readonly gatewayId: string) {}

  private seen(alarmId: string): AlarmSeen {
    let a = this.alarms.get(alarmId);
    if (!a) {
      a = { alarmId };
      this.alarms.set(alarmId, a);
    }
    return a;
  }

  press(phase: string, deviceId: string, t0: number): void {
    this.presses.push({ phase, deviceId, t0 });
  }

  onGatewayLog(line: LogLine): void {
    if (line.msg !== 'alarm committed to outbox' || line.type !== 'sos_button' || line.state !== 'raised')
      return;
    const a = this.seen(String(line.alarmId));
    a.outboxMs = line.time;
    a.deviceId = String(line.deviceId);
  }

  onCloudLog(line: LogLine): void {
    if (line.msg !== 'alarm stored' || line.gatewayId !== this.gatewayId) return;
    if (line.type !== 'sos_button' || line.state !== 'raised') return;
    this.seen(String(line.alarmId)).commitMs = line.time;
  }

  /** Changes of every alarm arrive (the staff member sees them all); only SOS raises are tracked. */
  onStream(change: StreamChange, arrivedAt: number): void {
    if (change.gatewayId !== this.gatewayId) return;
    if (change.kind === 'raised') {
      if (change.detail.type !== 'sos_button') return;
      const a = this.seen(change.alarmId);
      a.deviceId = String(change.detail.deviceId);
      a.atMs = Date.parse(change.at);
      a.sseMs ??= arrivedAt;
    } else if (change.kind === 'stored') {
      const a = this.alarms.get(change.alarmId);
      // A `stored` change arrives with its `raised` (one commit), so the alarm is known by now.
      if (!a) return;
      a.receivedAtMs = Date.parse(change.at);
      a.sseMs ??= arrivedAt;
    }
  }

  /** Alarms known from a log line but not (yet) from the stream: their `at` and device come from the API. */
  async fillFromApi(api: ApiClient): Promise<void> {
    for (const a of this.alarms.values()) {
      if (a.atMs !== undefined && a.receivedAtMs !== undefined) continue;
      const res = await api.get<{ alarm: { deviceId?: string; at: string; receivedAt: string } }>(
        `/api/alarms/${encodeURIComponent(a.alarmId)}`,
      );
      if (res.status !== 200) continue;
      a.deviceId ??= res.body.alarm.deviceId;
      a.atMs ??= Date.parse(res.body.alarm.at);
      a.receivedAtMs ??= Date.parse(res.body.alarm.receivedAt);
    }
  }

  /** Match every press to its alarm as known now (a leg not yet seen is null). */
  outcomes(): PressOutcome[] {
    const byDevice = new Map<string, AlarmSeen[]>();
    for (const a of this.alarms.values()) {
      if (a.deviceId === undefined || a.atMs === undefined) continue;
      byDevice.set(a.deviceId, [...(byDevice.get(a.deviceId) ?? []), a]);
    }
    const used = new Set<string>();
    const outcomes = this.presses.map((p): PressOutcome => {
      let best: AlarmSeen | undefined;
      for (const a of byDevice.get(p.deviceId) ?? []) {
        const d = (a.atMs as number) - p.t0;
        if (d < -5 || d >= 3000 || used.has(a.alarmId)) continue;
        if (!best || Math.abs(d) < Math.abs((best.atMs as number) - p.t0)) best = a;
      }
      if (best) used.add(best.alarmId);
      const leg = (t: number | undefined) => (best && t !== undefined ? round(t - p.t0, 3) : null);
      return {
        ...p,
        alarmId: best?.alarmId ?? null,
        commitMs: leg(best?.commitMs),
        sseMs: leg(best?.sseMs),
        gatewayReadMs: leg(best?.atMs),
        outboxMs: leg(best?.outboxMs),
        ingressMs: leg(best?.receivedAtMs),
      };
    });
    this.unmatched = [...this.alarms.values()]
      .filter((a) => !used.has(a.alarmId))
      .map((a) => `${a.alarmId} (${a.deviceId ?? 'device unknown'})`);
    return outcomes;
  }

  /** Wait until every press has its alarm committed (and on the stream when `needSse`), or `timeoutMs`. */
  async settle(timeoutMs: number, needSse: boolean): Promise<boolean> {
    return until(
      () =>
        this.outcomes().every((o) => o.commitMs !== null && (!needSse || o.sseMs !== null)) &&
        this.unmatched.length === 0,
      timeoutMs,
      200,
    );
  }
}

/** Latency summaries of a group of presses, and how many of them are missing each leg. */
export function latencyFigures(outcomes: readonly PressOutcome[], withSse: boolean) {
  const values = (pick: (o: PressOutcome) => number | null) =>
    outcomes.map(pick).filter((v): v is number => v !== null);
  return {
    pressed: outcomes.length,
    committed: values((o) => o.commitMs).length,
    missingCommit: outcomes.filter((o) => o.commitMs === null).length,
    ...(withSse
      ? {
          onStream: values((o) => o.sseMs).length,
          missingOnStream: outcomes.filter((o) => o.sseMs === null).length,
        }
      : {}),
    buttonToCommitMs: msSummary(values((o) => o.commitMs)),
    ...(withSse ? { buttonToSseMs: msSummary(values((o) => o.sseMs)) } : {}),
    stages: {
      buttonToGatewayReadMs: msSummary(values((o) => o.gatewayReadMs)),
      buttonToGatewayOutboxMs: msSummary(values((o) => o.outboxMs)),
      buttonToRelayIngressMs: msSummary(values((o) => o.ingressMs)),
      // The uplink hop: outbox commit → MQTT → the relay's ingress (one QoS 1 publish plus queueing).
      gatewayOutboxToRelayIngressMs: msSummary(
        outcomes
          .filter((o) => o.outboxMs !== null && o.ingressMs !== null)
          .map((o) => (o.ingressMs as number) - (o.outboxMs as number)),
      ),
      ...(withSse
        ? {
            commitToSseMs: msSummary(
              outcomes
                .filter((o) => o.commitMs !== null && o.sseMs !== null)
                .map((o) => (o.sseMs as number) - (o.commitMs as number)),
            ),
          }
        : {}),
    },
  };
}

/**
 * The staff member answers every alarm: resolves it (which acknowledges it too) once it
 * is on their stream, as a monitoring centre would — otherwise a thousand open critical
 * alarms would start escalating after 60 s, a load no real centre carries.
 */
export class Resolver {
  private queue: string[] = [];
  private running = 0;
  resolved = 0;
  failures: string[] = [];
  private readonly idle: (() => void)[] = [];

  constructor(
    private readonly api: ApiClient,
    private readonly concurrency = 2,
  ) {}

  add(alarmId: string): void {
    this.queue.push(alarmId);
    this.next();
  }

  private next(): void {
    while (this.running < this.concurrency && this.queue.length) {
      const id = this.queue.shift() as string;
      this.running++;
      void this.api
        .post(`/api/alarms/${encodeURIComponent(id)}/resolve`, { outcome: 'false_alarm' })
        .then(
          (res) => {
            if (res.status === 200) this.resolved++;
            else this.failures.push(`${id}: ${res.status}`);
          },
          (error: Error) => this.failures.push(`${id}: ${error.message}`),
        )
        .finally(() => {
          this.running--;
          this.next();
        });
    }
    if (this.running === 0 && !this.queue.length) for (const done of this.idle.splice(0)) done();
  }

  /** Resolves when every queued resolution has answered. */
  drained(): Promise<void> {
    if (this.running === 0 && !this.queue.length) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }
}

// ---------------------------------------------------------------------------------------------
// The MQTT floor: one QoS 1 publish through a stand-alone aedes to a subscriber

/**
 * aedes alone in a plain-node process (the same aedes package and the same
 * `listenAedes` the gateway and the relay use, compiled in dist/): the broker software
 * of the alarm path with nothing else in its process.
 */
export async function startFloorBroker(
  verbose: boolean,
  say: (line: string) => void,
): Promise<{ child: ManagedChild; url: string }> {
  const code = [
    "import { Aedes } from 'aedes';",
    "import { listenAedes } from './dist/common/aedes-server.js';",
    'const broker = await Aedes.createBroker();',
    "const { port } = await listenAedes(broker, '127.0.0.1', 0);",
    "console.log('floor broker listening ' + port);",
    "process.on('SIGTERM', () => process.exit(0));",
  ].join('\n');
  const child = startChild('floor-aedes', process.execPath, ['--input-type=module', '-e', code], {
    cwd: REPO_ROOT,
    onLine: verbose ? (line) => say(`[floor] ${line}`) : undefined,
  });
  const match = await waitForLine(child, /floor broker listening (\d+)/, 15_000);
  return { child, url: `mqtt://127.0.0.1:${match[1]}` };
}

/** A payload about the size of an alarm message (about 600 bytes), so both carry the same bytes. */
const FLOOR_PADDING = 'x'.repeat(560);

/**
 * Publisher and subscriber (mqtt.js, as the gateway uses) on one broker: `probe()`
 * publishes at QoS 1 to a topic the subscriber holds at QoS 1 and resolves with the time
 * from the publish call to the subscriber's `message` event.
 */
export class FloorProbe {
  private seq = 0;
  private readonly waiting = new Map<number, { t0: number; done: (ms: number | null) => void }>();

  private constructor(
    private readonly pub: MqttClient,
    private readonly sub: MqttClient,
  ) {
    sub.on('message', (_topic, payload) => {
      const arrived = wallNow();
      const seq = Number(JSON.parse(payload.toString('utf8')).seq);
      const w = this.waiting.get(seq);
      if (!w) return;
      this.waiting.delete(seq);
      w.done(arrived - w.t0);
    });
  }

  static async connect(url: string): Promise<FloorProbe> {
    const sub = await mqtt.connectAsync(url, {
      clientId: 'bench-floor-sub',
      clean: true,
      reconnectPeriod: 0,
    });
    await sub.subscribeAsync('bench/floor', { qos: 1 });
    const pub = await mqtt.connectAsync(url, {
      clientId: 'bench-floor-pub',
      clean: true,
      reconnectPeriod: 0,
    });
    return new FloorProbe(pub, sub);
  }

  /** One round; null when nothing arrived within `timeoutMs` (counted, never dropped silently). */
  probe(timeoutMs = 5_000): Promise<number | null> {
    const seq = ++this.seq;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(seq);
        resolve(null);
      }, timeoutMs);
      const t0 = wallNow();
      this.waiting.set(seq, {
        t0,
        done: (ms) => {
          clearTimeout(timer);
          resolve(ms);
        },
      });
      this.pub.publish('bench/floor', JSON.stringify({ seq, pad: FLOOR_PADDING }), { qos: 1 });
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.pub.endAsync(), this.sub.endAsync()]);
  }
}

// ---------------------------------------------------------------------------------------------
// Background homes: contract gateways on the relay, their vitals in InfluxDB

export interface FleetSpec {
  mqttUrl: string;
  influxUrl: string;
  database: string;
  homes: { gatewayId: string; secret: string }[];
  heartbeatIntervalS: number;
  /** Each home writes heart_rate, breath_rate and in_bed this often (one line-protocol POST). */
  vitalsIntervalMs: number;
}

export interface FleetStats {
  connected: number;
  heartbeats: number;
  vitalsPoints: number;
  vitalsWriteErrors: number;
  mqttErrors: number;
}

/**
 * Start the background homes in a process of their own, so their 100 MQTT sessions and
 * 100 InfluxDB writes a second do not share the bench's event loop (which timestamps
 * the stream). Resolves once every home is connected to the relay.
 */
export async function startFleet(
  spec: FleetSpec,
  verbose: boolean,
  say: (line: string) => void,
): Promise<{ child: ManagedChild; stats: () => FleetStats | null }> {
  let last: FleetStats | null = null;
  const child = startChild(
    'fleet',
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'bench', 'lib', 'home-rig.ts'), '--fleet'],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, HOMEBED_BENCH_FLEET: JSON.stringify(spec) },
      onLine: (line) => {
        if (verbose) say(`[fleet] ${line}`);
        const m = /^fleet stats (.*)$/.exec(line);
        if (m) last = JSON.parse(m[1] as string) as FleetStats;
      },
    },
  );
  await waitForLine(child, /^fleet ready/, 60_000);
  return { child, stats: () => last };
}

function postLines(agent: Agent, url: URL, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The fleet process: runs until SIGTERM, printing `fleet stats {json}` every 2 s and at the end. */
async function runFleet(spec: FleetSpec): Promise<void> {
  const { encodePayload, gatewayTopic, heartbeatMessageSchema, statusMessageSchema } = await import(
    '../../contract/index.js'
  );
  const stats: FleetStats = {
    connected: 0,
    heartbeats: 0,
    vitalsPoints: 0,
    vitalsWriteErrors: 0,
    mqttErrors: 0,
  };
  const print = () => process.stdout.write(`fleet stats ${JSON.stringify(stats)}\n`);
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const base = new URL(spec.influxUrl);
  const create = new URL('/query', base);
  create.searchParams.set('q', `CREATE DATABASE "${spec.database}"`);
  await postLines(agent, create, '');
  const write = new URL('/write', base);
  write.searchParams.set('db', spec.database);
  write.searchParams.set('precision', 'ms');
  const started = Date.now();
  const timers: NodeJS.Timeout[] = [];
  const clients: { gatewayId: string; client: MqttClient }[] = [];
  const offline = JSON.stringify({ v: 1, state: 'offline' });

  await Promise.all(
    spec.homes.map(async ({ gatewayId, secret }, i) => {
      const client = await mqtt.connectAsync(spec.mqttUrl, {
        clientId: gatewayId,
        username: gatewayId,
        password: secret,
        clean: false,
        protocolVersion: 4,
        keepalive: 30,
        reconnectPeriod: 1_000,
        connectTimeout: 30_000,
        will: {
          topic: gatewayTopic(gatewayId, 'status'),
          payload: Buffer.from(offline),
          qos: 1,
          retain: true,
        },
      });
      clients.push({ gatewayId, client });
      client.on('error', () => stats.mqttErrors++);
      await client.subscribeAsync([gatewayTopic(gatewayId, 'ack'), gatewayTopic(gatewayId, 'cmd')], {
        qos: 1,
      });
      await client.publishAsync(
        gatewayTopic(gatewayId, 'status'),
        encodePayload(statusMessageSchema, { v: 1, state: 'online', at: new Date().toISOString() }),
        { qos: 1, retain: true },
      );
      stats.connected++;
      const heartbeat = () => {
        const now = new Date();
        const payload = encodePayload(heartbeatMessageSchema, {
          v: 1,
          gatewayId,
          at: now.toISOString(),
          uptimeS: Math.round((now.getTime() - started) / 1000),
          intervalS: spec.heartbeatIntervalS,
          outboxDepth: 0,
          spoolDepth: 0,
          readingsDropped: 0,
          devices: [
            { id: 'bed-radar', kind: 'mr60bha1', online: true, lastSeenAt: now.toISOString() },
            { id: 'sos-button', kind: 'rf_button', online: true, lastSeenAt: now.toISOString() },
          ],
          unpaired: [],
          links: { 'bed-radar-port': 'open', 'rflink-port': 'open' },
          software: 'homebed-bench-fleet',
        });
        client.publish(gatewayTopic(gatewayId, 'heartbeat'), payload, { qos: 1 }, (err) => {
          if (err) stats.mqttErrors++;
          else stats.heartbeats++;
        });
      };
      heartbeat();
      // Spread the homes over the interval, as real gateways that started at different times are.
      const phase = (i / spec.homes.length) * spec.heartbeatIntervalS * 1000;
      timers.push(
        setTimeout(() => timers.push(setInterval(heartbeat, spec.heartbeatIntervalS * 1000)), phase),
      );
      const tags = `bed=bed-${gatewayId},device=bed-radar,gateway=${gatewayId}`;
      let n = 0;
      const vitals = () => {
        const t = Date.now();
        n++;
        const body = [
          `heart_rate,${tags} value=${62 + (n % 15)}i ${t}`,
          `breath_rate,${tags} value=${13 + (n % 5)}i ${t}`,
          `in_bed,${tags} value=true ${t}`,
        ].join('\n');
        postLines(agent, write, body).then(
          (status) => {
            if (status === 204) stats.vitalsPoints += 3;
            else stats.vitalsWriteErrors++;
          },
          () => stats.vitalsWriteErrors++,
        );
      };
      const vitalsPhase = (i / spec.homes.length) * spec.vitalsIntervalMs;
      timers.push(setTimeout(() => timers.push(setInterval(vitals, spec.vitalsIntervalMs)), vitalsPhase));
    }),
  );
  process.stdout.write('fleet ready\n');
  const statsTimer = setInterval(print, 2_000);
  process.once('SIGTERM', () => {
    clearInterval(statsTimer);
    for (const t of timers) clearTimeout(t);
    print();
    // A clean stop says `offline` itself, as the gateway does.
    void Promise.all(
      clients.map(async ({ gatewayId, client }) => {
        await client.publishAsync(gatewayTopic(gatewayId, 'status'), offline, { qos: 1, retain: true });
        await client.endAsync();
      }),
    ).finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 3_000).unref();
  });
}

const entry = process.argv[1];
if (process.argv[2] === '--fleet' && entry && import.meta.url === pathToFileURL(entry).href) {
  runFleet(JSON.parse(process.env.HOMEBED_BENCH_FLEET ?? '{}') as FleetSpec).catch((error: Error) => {
    process.stderr.write(`fleet failed: ${error.stack ?? error.message}\n`);
    process.exit(1);
  });
}
