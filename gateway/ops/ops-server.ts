import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../common/logger.js';
import { bearerTokenMatches, METRICS_CONTENT_TYPE } from '../../common/metrics.js';

export interface OpsServerOptions {
  host: string;
  port: number;
  /** Require `Authorization: Bearer <token>`. */
  token?: string | undefined;
}

export interface OpsHandlers {
  metrics(): Promise<string>;
  status(): unknown;
}

/**
 * The gateway's local operations server (node:http, no framework): `GET
 * /metrics` (Prometheus text), `GET /status` (JSON) and `GET /healthz`.
 * Read-only; it changes nothing in the gateway.
 */
export class OpsServer {
  private server: Server | null = null;

  constructor(
    private readonly options: OpsServerOptions,
    private readonly handlers: OpsHandlers,
    private readonly logger: Logger,
  ) {}

  /** Listen; rejects when the port cannot be bound (the caller decides whether to retry). */
  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.logger.error({ err, url: req.url }, 'ops request failed');
        if (!res.headersSent) send(res, 500, 'application/json', JSON.stringify({ error: 'internal error' }));
        else res.end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.logger.error({ err }, 'ops server error'));
    this.server = server;
    this.logger.info({ url: this.url }, 'ops server listening (GET /metrics, /status)');
  }

  get port(): number {
    const address = this.server?.address();
    return address && typeof address === 'object' ? (address as AddressInfo).port : 0;
  }

  get url(): string {
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    return `http://${host}:${this.port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://ops').pathname;
    const token = this.options.token;
    if (token && !bearerTokenMatches(req.headers.authorization, token)) {
      res.setHeader('www-authenticate', 'Bearer');
      send(res, 401, 'application/json', JSON.stringify({ error: 'bearer token required' }));
      return;
    }
    const routes: Record<string, () => Promise<void> | void> = {
      '/metrics': async () => send(res, 200, METRICS_CONTENT_TYPE, await this.handlers.metrics()),
      '/status': () =>
        send(res, 200, 'application/json; charset=utf-8', `${JSON.stringify(this.handlers.status())}\n`),
      '/healthz': () => send(res, 200, 'application/json', '{"status":"ok"}\n'),
    };
    const route = routes[path];
    if (!route) {
      send(res, 404, 'application/json', JSON.stringify({ error: 'no such route; try /status or /metrics' }));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      send(res, 405, 'application/json', JSON.stringify({ error: 'method not allowed' }));
      return;
    }
    await route();
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
