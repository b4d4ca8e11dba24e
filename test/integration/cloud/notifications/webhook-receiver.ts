import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** What the receiver answered (0 while it has not answered). */
  status: number;
}

/** Answers a request; return without ending `res` to leave it hanging. */
export type Responder = (req: ReceivedRequest, res: ServerResponse, index: number) => void;

/**
 * A real HTTP receiver on 127.0.0.1 (free port) that keeps every request with its raw body, answering
 * with `responder` (200 by default). `acceptedById` counts 2xx answers per `x-homebed-id`: how often a
 * notification was delivered.
 */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  responder: Responder = (_req, res) => res.writeHead(200).end('ok');
  private server: Server | null = null;
  private port = 0;

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const received: ReceivedRequest = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          rawBody: Buffer.concat(chunks).toString('utf8'),
          status: 0,
        };
        const index = this.requests.push(received) - 1;
        res.on('finish', () => {
          received.status = res.statusCode;
        });
        this.responder(received, res, index);
        if (res.headersSent) received.status = res.statusCode;
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  acceptedById(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const r of this.requests) {
      if (r.status < 200 || r.status >= 300) continue;
      const id = String(r.headers['x-homebed-id']);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A port on 127.0.0.1 where nothing listens (connections are refused). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
