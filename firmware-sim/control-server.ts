import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { HomebedError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { controlUrl } from './config.js';
import { nativeStatePatchSchema } from './devices/native-device.js';

/** Body of `POST /radar/:id`: any subset of the radar's state, at least one field. */
export const radarPatchSchema = z
  .strictObject({
    inBed: z.boolean().optional(),
    present: z.boolean().optional(),
    heartRateBpm: z.number().int().min(0).max(255).optional(),
    breathRatePerMin: z.number().int().min(0).max(255).optional(),
    sleepState: z.enum(['deep', 'light', 'awake', 'none']).optional(),
  })
  .refine((patch) => Object.values(patch).some((v) => v !== undefined), {
    message: 'give at least one of inBed, present, heartRateBpm, breathRatePerMin, sleepState',
  });

export type RadarPatch = z.output<typeof radarPatchSchema>;

/** Body of `POST /rf/:name`. */
export const rfActionSchema = z.strictObject({
  action: z.enum(['press', 'open', 'close', 'motion', 'alarm']),
});
/** Body of `POST /rf/:name/battery`. */
export const rfBatterySchema = z.strictObject({ state: z.enum(['ok', 'low']) });
/** Body of `POST /fall-radar/:id`. */
export const fallRadarActionSchema = z.strictObject({ action: z.enum(['fall', 'get_up', 'leave', 'enter']) });
export type FallRadarAction = z.output<typeof fallRadarActionSchema>['action'];

/** Body of `POST /zigbee/:name`: an action, an availability, a battery level, or several of them. */
export const zigbeeRequestSchema = z
  .strictObject({
    action: z.enum(['press', 'sos', 'motion', 'open', 'close', 'alarm', 'clear']).optional(),
    available: z.boolean().optional(),
    battery: z.number().min(0).max(100).optional(),
  })
  .refine((b) => b.action !== undefined || b.available !== undefined || b.battery !== undefined, {
    message: 'give at least one of action, available, battery',
  });
export type ZigbeeRequest = z.output<typeof zigbeeRequestSchema>;

/** Body of `POST /native/:id`: state properties (contract names), an event, an availability. */
export const nativeRequestSchema = z
  .strictObject({
    state: nativeStatePatchSchema.optional(),
    event: z.enum(['sos', 'cancel', 'press']).optional(),
    availability: z.enum(['online', 'offline']).optional(),
  })
  .refine((b) => b.state !== undefined || b.event !== undefined || b.availability !== undefined, {
    message: 'give at least one of state, event, availability',
  });
export type NativeRequest = z.output<typeof nativeRequestSchema>;

const rate = z.union([z.boolean(), z.number().min(0).max(1)]);
/** Body of `POST /faults/:id`: rates are `true` (the configured default), `false` (off) or 0–1. */
export const faultPatchSchema = z
  .strictObject({
    noise: rate.optional(),
    badChecksums: rate.optional(),
    truncated: rate.optional(),
    silent: z.boolean().optional(),
    /** `true` (the configured drain), `false` (off) or percent per minute. */
    dyingBattery: z.union([z.boolean(), z.number().min(0).max(100)]).optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), {
    message: 'give at least one of noise, badChecksums, truncated, silent, dyingBattery',
  });
export type FaultPatch = z.output<typeof faultPatchSchema>;

/** What a request names: used in 404 messages ("known: …"). */
export type TargetKind = 'button' | 'rf' | 'radar' | 'fall-radar' | 'zigbee' | 'native' | 'fault' | 'serial';

/**
 * A request the target understood but cannot carry out: a 400 (bad value for this device, e.g. an
 * action its kind does not have) or a 409 (the emulator is not running).
 */
export class ControlRequestError extends HomebedError {
  constructor(
    readonly status: 400 | 409,
    readonly error: string,
    message: string,
  ) {
    super('HB_SIM_CONTROL_REQUEST', message);
  }
}

/** What the control API drives; the {@link Simulator} implements it. Methods return null for an unknown name. */
export interface ControlTarget {
  /** Press a named button; null when there is no such button. */
  press(button: string): { pressed: string; lines: number } | null;
  /** Change a radar's state; returns its new state, or null when there is no such radar. */
  updateRadar(id: string, patch: RadarPatch): unknown;
  /** Everything worth showing: devices, paths, current states, active faults. */
  state(): unknown;
  /** Names accepted by `press` (for 404 messages). */
  buttonNames(): string[];
  /** Names of a kind, for 404 messages. */
  names(kind: TargetKind): string[];
  /** Something happens to an RF transmitter. */
  rf(name: string, action: z.output<typeof rfActionSchema>['action']): unknown;
  /** A transmitter's battery. */
  rfBattery(name: string, state: 'ok' | 'low'): unknown;
  /** Drive a fall radar's scenario. */
  fallRadar(id: string, action: FallRadarAction): unknown;
  /** Drive a zigbee device. */
  zigbee(name: string, request: ZigbeeRequest): unknown;
  /** Drive a native device. */
  native(id: string, request: NativeRequest): unknown;
  /** Switch faults on or off. */
  setFaults(deviceId: string, patch: FaultPatch): unknown;
  /** Pull the USB plug of a serial device (its PTY disappears). */
  unplug(deviceId: string): Promise<unknown>;
  /** Plug it back in (the PTY is recreated at the same paths). */
  replug(deviceId: string): Promise<unknown>;
}

export interface ControlServerOptions {
  /** Interface to listen on; default 127.0.0.1 (the API has no authentication). */
  host: string;
  /** Port; 0 picks a free one (see `port` after `start()`). */
  port: number;
  target: ControlTarget;
  logger?: Logger;
}

const MAX_BODY_BYTES = 16 * 1024;

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.message ?? body.error));
  }
}

/**
 * A tiny HTTP API over `node:http` to drive a running simulator:
 *
 * - `POST /press/:button` → 200 `{"pressed":"sos","lines":3}`, 404 for an unknown button;
 * - `POST /radar/:id` with `{inBed?, present?, heartRateBpm?, breathRatePerMin?, sleepState?}`
 *   → 200 `{"id":…,"state":{…}}`, 400 for a bad body, 404 for an unknown radar;
 * - `POST /rf/:name` `{action: press|open|close|motion|alarm}` and `POST /rf/:name/battery`
 *   `{state: ok|low}` (RF transmitters on an RFLink receiver);
 * - `POST /fall-radar/:id` `{action: fall|get_up|leave|enter}` (MR60FDA1);
 * - `POST /zigbee/:name` `{action?, available?, battery?}` (zigbee2mqtt emulator);
 * - `POST /native/:id` `{state?, event?: sos|cancel|press, availability?: online|offline}`;
 * - `POST /faults/:id` `{noise?, badChecksums?, truncated?, silent?, dyingBattery?}`;
 * - `POST /unplug/:id`, `POST /replug/:id` (serial devices: the PTY disappears and comes back);
 * - `GET /state` → 200 the simulator's state; `GET /healthz` → 200 `{"status":"ok"}`.
 *
 * Bodies are validated (400 `invalid_body` naming each problem); unknown names give 404 with the
 * known ones; an action a device cannot do gives 400, an emulator that is not running 409.
 * Errors are JSON `{error, message}`.
 */
export class ControlServer {
  private server: Server | undefined;
  private boundPort: number | undefined;

  constructor(private readonly options: ControlServerOptions) {}

  /** The port actually bound (differs from the option when it was 0). */
  get port(): number {
    if (this.boundPort === undefined) throw new Error('control server not started');
    return this.boundPort;
  }

  /** `http://host:port` of the running server. */
  get url(): string {
    return controlUrl(this.options.host, this.port);
  }

  /** Listen; resolves with the URL once bound, rejects (e.g. EADDRINUSE) otherwise. */
  async start(): Promise<string> {
    if (this.server) return this.url;
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.options.logger?.error({ err }, 'control request failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal', message: 'internal error' });
        else res.destroy();
      });
    });
    await new Promise<void>((resolveListen, rejectListen) => {
      server.once('error', rejectListen);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', rejectListen);
        resolveListen();
      });
    });
    this.server = server;
    this.boundPort = (server.address() as AddressInfo).port;
    return this.url;
  }

  /** Stop listening and drop open (keep-alive) connections. Idempotent. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolveClose) => server.close(() => resolveClose()));
    server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    try {
      const segments = path.split('/').filter(Boolean).map(decodeSegment);
      const [first, second, third, ...rest] = segments;
      const target = this.options.target;
      const log = this.options.logger;
      if (first === 'healthz' && second === undefined) {
        allow(method, 'GET');
        sendJson(res, 200, { status: 'ok' });
      } else if (first === 'state' && second === undefined) {
        allow(method, 'GET');
        sendJson(res, 200, target.state());
      } else if (first === 'press' && second !== undefined && third === undefined) {
        allow(method, 'POST');
        await drain(req);
        const result = target.press(second);
        if (!result) throw notFound('button', second, target.buttonNames(), 'unknown_button');
        log?.info(result, 'button pressed via control API');
        sendJson(res, 200, result);
      } else if (first === 'radar' && second !== undefined && third === undefined) {
        allow(method, 'POST');
        const patch = parseBody(radarPatchSchema, await readJson(req));
        const state = target.updateRadar(second, patch);
        if (state === null) {
          throw new HttpProblem(404, {
            error: 'unknown_radar',
            message: `no radar with id ${JSON.stringify(second)}`,
          });
        }
        log?.info({ id: second, patch }, 'radar updated via control API');
        sendJson(res, 200, { id: second, state });
      } else if (first === 'rf' && second !== undefined && third === undefined) {
        allow(method, 'POST');
        const { action } = parseBody(rfActionSchema, await readJson(req));
        const result = orNotFound(target.rf(second, action), 'rf', second, target);
        log?.info({ name: second, action }, 'rf transmitter via control API');
        sendJson(res, 200, result);
      } else if (first === 'rf' && second !== undefined && third === 'battery' && rest.length === 0) {
        allow(method, 'POST');
        const { state } = parseBody(rfBatterySchema, await readJson(req));
        sendJson(res, 200, orNotFound(target.rfBattery(second, state), 'rf', second, target));
      } else if (first === 'fall-radar' && second !== undefined && third === undefined) {
        allow(method, 'POST');
        const { action } = parseBody(fallRadarActionSchema, await readJson(req));
        const state = orNotFound(target.fallRadar(second, action), 'fall-radar', second, target);
        log?.info({ id: second, action }, 'fall radar via control API');
        sendJson(res, 200, { id: second, action, state });
      } else if (first === 'zigbee' && second !== undefined && third === undefined) {
        allow(method, 'POST');
        const request = parseBody(zigbeeRequestSchema, await readJson(req));
        const result = orNotFound(target.zigbee(second, request), 'zigbee', second, target);
        log?.info({ name: second, request }, 'zigbee device via control API');
        sendJson(res, 200, result);
      } else if (first === 'native' && second !== undefined && third === undefined) {
        allow(method, 'POST');
        const request = parseBody(nativeRequestSchema, await readJson(req));
        const result = orNotFound(target.native(second, request), 'native', second, target);
        log?.info({ id: second, request }, 'native device via control API');
        sendJson(res, 200, result);
      } else if (first === 'faults' && second !== undefined && third === undefined) {
        allow(method, 'POST');
        const patch = parseBody(faultPatchSchema, await readJson(req));
        const result = orNotFound(target.setFaults(second, patch), 'fault', second, target);
        log?.info({ id: second, patch }, 'faults changed via control API');
        sendJson(res, 200, result);
      } else if ((first === 'unplug' || first === 'replug') && second !== undefined && third === undefined) {
        allow(method, 'POST');
        await drain(req);
        const result = first === 'unplug' ? await target.unplug(second) : await target.replug(second);
        log?.info({ id: second }, `${first} via control API`);
        sendJson(res, 200, orNotFound(result, 'serial', second, target));
      } else {
        throw new HttpProblem(404, { error: 'not_found', message: `no route for ${method} ${path}` });
      }
    } catch (err) {
      if (err instanceof ControlRequestError) {
        sendJson(res, err.status, { error: err.error, message: err.message });
        return;
      }
      if (!(err instanceof HttpProblem)) throw err;
      if (err.status === 405) res.setHeader('allow', String(err.body.allow));
      sendJson(res, err.status, err.body);
    }
  }
}

const WHAT: Readonly<Record<TargetKind, string>> = {
  button: 'button',
  rf: 'RF transmitter',
  radar: 'radar',
  'fall-radar': 'fall radar',
  zigbee: 'zigbee device',
  native: 'native device',
  fault: 'device',
  serial: 'serial device',
};

function notFound(
  kind: TargetKind,
  name: string,
  known: string[],
  error = `unknown_${kind.replace('-', '_')}`,
): HttpProblem {
  return new HttpProblem(404, {
    error,
    message: `no ${WHAT[kind]} named ${JSON.stringify(name)}; known: ${known.join(', ') || '(none)'}`,
  });
}

function orNotFound<T>(
  result: T | null | undefined,
  kind: TargetKind,
  name: string,
  target: ControlTarget,
): T {
  if (result === null || result === undefined) throw notFound(kind, name, target.names(kind));
  return result;
}

function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
    throw new HttpProblem(400, { error: 'invalid_body', message: problems.join('; '), problems });
  }
  return parsed.data;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpProblem(400, {
      error: 'invalid_path',
      message: `bad percent-encoding in ${JSON.stringify(segment)}`,
    });
  }
}

function allow(method: string, expected: string): void {
  if (method !== expected) {
    throw new HttpProblem(405, { error: 'method_not_allowed', message: `use ${expected}`, allow: expected });
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) {
      throw new HttpProblem(413, { error: 'body_too_large', message: `body over ${MAX_BODY_BYTES} bytes` });
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Read and discard a body we do not use, so keep-alive connections stay in sync. */
async function drain(req: IncomingMessage): Promise<void> {
  await readBody(req);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  if (!text.trim()) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HttpProblem(400, {
      error: 'invalid_json',
      message: `body is not JSON: ${(err as Error).message}`,
    });
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
