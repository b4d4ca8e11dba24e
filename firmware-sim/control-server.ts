import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { Logger } from '../common/logger.js';
import { controlUrl } from './config.js';

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

/** What the control API drives; the {@link Simulator} implements it. */
export interface ControlTarget {
  /** Press a named button; null when there is no such button. */
  press(button: string): { pressed: string; lines: number } | null;
  /** Change a radar's state; returns its new state, or null when there is no such radar. */
  updateRadar(id: string, patch: RadarPatch): unknown;
  /** Everything worth showing: devices, paths, current states. */
  state(): unknown;
  /** Names accepted by `press` (for 404 messages). */
  buttonNames(): string[];
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
 * - `GET /state` → 200 the simulator's state; `GET /healthz` → 200 `{"status":"ok"}`.
 *
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
      const [first, second, ...rest] = segments;
      if (first === 'healthz' && second === undefined) {
        allow(method, 'GET');
        sendJson(res, 200, { status: 'ok' });
      } else if (first === 'state' && second === undefined) {
        allow(method, 'GET');
        sendJson(res, 200, this.options.target.state());
      } else if (first === 'press' && second !== undefined && rest.length === 0) {
        allow(method, 'POST');
        await drain(req);
        const result = this.options.target.press(second);
        if (!result) {
          const known = this.options.target.buttonNames();
          throw new HttpProblem(404, {
            error: 'unknown_button',
            message: `no button named ${JSON.stringify(second)}; known: ${known.join(', ') || '(none)'}`,
          });
        }
        this.options.logger?.info(result, 'button pressed via control API');
        sendJson(res, 200, result);
      } else if (first === 'radar' && second !== undefined && rest.length === 0) {
        allow(method, 'POST');
        const parsed = radarPatchSchema.safeParse(await readJson(req));
        if (!parsed.success) {
          const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
          throw new HttpProblem(400, { error: 'invalid_body', message: problems.join('; '), problems });
        }
        const state = this.options.target.updateRadar(second, parsed.data);
        if (state === null) {
          throw new HttpProblem(404, {
            error: 'unknown_radar',
            message: `no radar with id ${JSON.stringify(second)}`,
          });
        }
        this.options.logger?.info({ id: second, patch: parsed.data }, 'radar updated via control API');
        sendJson(res, 200, { id: second, state });
      } else {
        throw new HttpProblem(404, { error: 'not_found', message: `no route for ${method} ${path}` });
      }
    } catch (err) {
      if (!(err instanceof HttpProblem)) throw err;
      if (err.status === 405) res.setHeader('allow', String(err.body.allow));
      sendJson(res, err.status, err.body);
    }
  }
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
