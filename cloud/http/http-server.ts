import Fastify, { LogController } from 'fastify';
import type { Clock } from '../../common/clock.js';
import type { Counters } from '../../common/counters.js';
import type { Logger } from '../../common/logger.js';
import { bearerTokenMatches, METRICS_CONTENT_TYPE } from '../../common/metrics.js';
import type { AlarmLifecycle } from '../alarms/alarm-lifecycle.js';
import type { CloudConfig } from '../config/schema.js';
import type { ChangeFeed } from '../events/change-feed.js';
import type { RelayMetrics } from '../relay-metrics.js';
import type { CloudServices } from '../services.js';
import { sendError } from './api-errors.js';
import { registerAuthentication, requestToken } from './auth.js';
import { allow } from './request-principal.js';
import { registerAlarmRoutes } from './routes/alarm-routes.js';
import { registerAlarmStream } from './routes/alarm-stream.js';
import { registerAuthRoutes } from './routes/auth-routes.js';
import { registerBedActivityRoutes } from './routes/bed-activity-routes.js';
import { registerGatewayRoutes } from './routes/gateway-routes.js';
import { registerPeopleRoutes } from './routes/people-routes.js';
import { registerStatsRoutes } from './routes/stats-routes.js';
import { registerWebRoutes } from './routes/web-routes.js';

export interface HttpServerOptions {
  host: string;
  port: number;
}

export interface HttpDependencies {
  services: CloudServices;
  lifecycle: AlarmLifecycle;
  feed: ChangeFeed;
  clock: Clock;
  counters: Counters;
  logger: Logger;
  /** Behind a reverse proxy: take the client address and protocol from X-Forwarded-* (login limit, Secure cookie). */
  trustProxy: boolean;
  /** Prometheus metrics (`GET /metrics` unless `metrics.enabled` is false). */
  metrics: RelayMetrics;
  metricsConfig: CloudConfig['metrics'];
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

/**
 * The relay's HTTP API (JSON; docs/api.md). Every route but `/healthz`,
 * `/metrics` (its own bearer token, when set), the login and the console's
 * page needs a session, and each route checks the caller's role and
 * organisation itself.
 */
export function buildHttpServer(deps: HttpDependencies) {
  const { services } = deps;
  // Request lines would drown the alarm lines; errors are still logged.
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'http' }),
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: deps.trustProxy,
  });

  registerAuthentication(app, { sessions: services.sessions });
  app.addHook('onResponse', async (req, reply) => {
    deps.metrics.countHttpRequest(req.method, req.routeOptions.url, reply.statusCode);
  });

  if (deps.metricsConfig.enabled) {
    const token = deps.metricsConfig.token;
    app.get('/metrics', async (req, reply) => {
      if (token && !bearerTokenMatches(req.headers.authorization, token)) {
        reply.header('www-authenticate', 'Bearer');
        return sendError(reply, 401, 'HB_UNAUTHENTICATED', 'GET /metrics needs the metrics bearer token');
      }
      return reply
        .type(METRICS_CONTENT_TYPE)
        .header('cache-control', 'no-store')
        .send(await deps.metrics.render());
    });
  }

  app.get('/healthz', async (_req, reply) => {
    const health = deps.health();
    return reply.code(health.mqtt ? 200 : 503).send({ status: health.mqtt ? 'ok' : 'degraded', ...health });
  });

  registerAuthRoutes(app, {
    users: services.users,
    sessions: services.sessions,
    limiter: services.limiter,
    audit: services.audit,
  });
  registerPeopleRoutes(app, {
    organisations: services.organisations,
    beds: services.beds,
    users: services.users,
    audit: services.audit,
  });
  registerGatewayRoutes(app, { gateways: services.gateways, beds: services.beds, audit: services.audit });
  registerBedActivityRoutes(app, {
    beds: services.beds,
    events: services.bedEvents,
    status: services.bedStatus,
    vitals: services.vitals,
    audit: services.audit,
    clock: deps.clock,
  });
  const stream = registerAlarmStream(app, {
    feed: deps.feed,
    since: (afterIso, limit, scope) => services.timeline.since(afterIso, limit, scope),
    revalidate: async (req) => {
      const token = requestToken(req);
      return token ? services.sessions.resolve(token) : null;
    },
    counters: deps.counters,
    logger: deps.logger.child({ component: 'sse' }),
  });
  deps.metrics.countSseClientsWith(stream.clients);
  registerAlarmRoutes(app, {
    alarms: services.alarms,
    lifecycle: deps.lifecycle,
    timeline: services.timeline,
    escalations: services.escalations,
    deliveries: services.deliveries,
    organisationOf: async (alarm) => (await services.gateways.link(alarm.gatewayId))?.organisationId ?? null,
    audit: services.audit,
  });
  registerStatsRoutes(app, { stats: services.stats, clock: deps.clock });

  /** The relay's own counters (operators diagnosing a relay). */
  app.get('/api/counters', async (req, reply) => {
    if (!allow(req, reply, ['operator'])) return reply;
    return { counters: deps.counters.snapshot() };
  });

  registerWebRoutes(app);

  app.setNotFoundHandler((_req, reply) => sendError(reply, 404, 'HB_NOT_FOUND', 'no such route'));
  return app;
}
