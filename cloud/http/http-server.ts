import Fastify, { LogController } from 'fastify';
import { z } from 'zod';
import type { Counters } from '../../common/counters.js';
import type { Logger } from '../../common/logger.js';
import type { AlarmStore } from '../alarms/alarm-store.js';
import type { GatewayRegistry } from '../gateways/gateway-registry.js';
import { renderConsolePage } from './console-page.js';

export interface HttpServerOptions {
  host: string;
  port: number;
}

export interface HttpDependencies {
  alarms: AlarmStore;
  gateways: GatewayRegistry;
  counters: Counters;
  logger: Logger;
  /** Liveness of the parts the relay cannot work without. */
  health: () => {
    mqtt: boolean;
    /** `embedded` (aedes in the relay) or `external` (a broker the relay subscribes to). */
    mqttMode: 'embedded' | 'external';
    /** Embedded mode only: an external broker does not tell. */
    connectedGateways?: number;
    /** External mode: the broker's URL without credentials. */
    broker?: string;
  };
}

const alarmsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  gatewayId: z.string().min(1).max(64).optional(),
});

/** The relay's HTTP API (JSON) and, for now, a minimal read-only console page. */
export function buildHttpServer(deps: HttpDependencies) {
  // Request lines would drown the alarm lines (the console page polls); errors are still logged.
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'http' }),
    logController: new LogController({ disableRequestLogging: true }),
  });

  app.get('/healthz', async (_req, reply) => {
    const health = deps.health();
    return reply.code(health.mqtt ? 200 : 503).send({ status: health.mqtt ? 'ok' : 'degraded', ...health });
  });

  app.get('/api/alarms', async (req, reply) => {
    const query = alarmsQuerySchema.safeParse(req.query);
    if (!query.success) {
      deps.counters.inc('http_requests_rejected', { reason: 'query' });
      return reply.code(400).send({
        error: 'HB_BAD_QUERY',
        message: query.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      });
    }
    return { alarms: deps.alarms.list(query.data) };
  });

  app.get('/api/gateways', async () => ({
    gateways: deps.gateways.list().map((g) => ({
      id: g.id,
      status: g.status,
      lastSeenAt: g.lastSeenAt,
      createdAt: g.createdAt,
      lastHeartbeat: g.lastHeartbeat,
    })),
  }));

  app.get('/api/stats', async () => ({ counters: deps.counters.snapshot() }));

  app.get('/', async (_req, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .send(renderConsolePage(deps.alarms.list({ limit: 50 }), deps.gateways.list())),
  );

  app.setNotFoundHandler((_req, reply) =>
    reply.code(404).send({ error: 'HB_NOT_FOUND', message: 'no such route' }),
  );
  return app;
}
