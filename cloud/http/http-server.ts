import Fastify, { LogController } from 'fastify';
import { z } from 'zod';
import type { Counters } from '../../common/counters.js';
import type { Logger } from '../../common/logger.js';
import { RESOLUTION_OUTCOMES } from '../../contract/index.js';
import type { AlarmLifecycle } from '../alarms/alarm-lifecycle.js';
import type { AlarmStore, LifecycleRefusal, LifecycleResult } from '../alarms/alarm-store.js';
import type { GatewayRegistry } from '../gateways/gateway-registry.js';
import { renderConsolePage } from './console-page.js';

export interface HttpServerOptions {
  host: string;
  port: number;
}

export interface HttpDependencies {
  alarms: AlarmStore;
  lifecycle: AlarmLifecycle;
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

const personSchema = z.string().trim().min(1).max(200);
const acknowledgeBodySchema = z.object({ by: personSchema }).strict();
const resolveBodySchema = z
  .object({ by: personSchema, outcome: z.enum(RESOLUTION_OUTCOMES), notes: z.string().max(4000).optional() })
  .strict();
const alarmParamsSchema = z.object({ id: z.string().min(1).max(64) });

/** Stable error codes and HTTP statuses of a refused lifecycle step. */
const REFUSALS: Record<LifecycleRefusal, { status: number; error: string; message: string }> = {
  not_found: { status: 404, error: 'HB_ALARM_NOT_FOUND', message: 'no alarm with this id' },
  not_raised: {
    status: 409,
    error: 'HB_ALARM_NOT_RAISED',
    message: 'only a raised alarm is acknowledged or resolved (this one is a clear or a cancel)',
  },
  already_resolved: {
    status: 409,
    error: 'HB_ALARM_ALREADY_RESOLVED',
    message: 'the alarm is already resolved',
  },
};

function problems(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
}

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
    return { alarms: await deps.alarms.list(query.data) };
  });

  const lifecycleReply = (
    reply: { code: (status: number) => { send: (body: unknown) => unknown } },
    result: LifecycleResult,
  ) => {
    if (result.ok) return reply.code(200).send({ alarm: result.alarm, changed: result.changed });
    const refusal = REFUSALS[result.reason];
    return reply.code(refusal.status).send({ error: refusal.error, message: refusal.message });
  };

  app.post('/api/alarms/:id/acknowledge', async (req, reply) => {
    const params = alarmParamsSchema.safeParse(req.params);
    const body = acknowledgeBodySchema.safeParse(req.body ?? {});
    if (!params.success || !body.success) {
      return reply.code(400).send({
        error: 'HB_BAD_REQUEST',
        message: problems((params.error ?? body.error) as z.ZodError),
      });
    }
    return lifecycleReply(reply, await deps.lifecycle.acknowledge(params.data.id, body.data.by));
  });

  app.post('/api/alarms/:id/resolve', async (req, reply) => {
    const params = alarmParamsSchema.safeParse(req.params);
    const body = resolveBodySchema.safeParse(req.body ?? {});
    if (!params.success || !body.success) {
      return reply.code(400).send({
        error: 'HB_BAD_REQUEST',
        message: problems((params.error ?? body.error) as z.ZodError),
      });
    }
    const { by, outcome, notes } = body.data;
    return lifecycleReply(reply, await deps.lifecycle.resolve(params.data.id, by, outcome, notes));
  });

  app.get('/api/gateways', async () => ({
    gateways: (await deps.gateways.list()).map((g) => ({
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
      .send(renderConsolePage(await deps.alarms.list({ limit: 50 }), await deps.gateways.list())),
  );

  app.setNotFoundHandler((_req, reply) =>
    reply.code(404).send({ error: 'HB_NOT_FOUND', message: 'no such route' }),
  );
  return app;
}
