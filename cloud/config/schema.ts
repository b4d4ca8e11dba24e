import { z } from 'zod';
import {
  httpUrlSchema,
  logConfigSchema,
  mqttUrlSchema,
  portSchema,
} from '../../common/config/shared-schemas.js';
import { escalationConfigSchema } from '../escalation/policy.js';
import { livenessConfigSchema } from '../gateways/liveness.js';
import { notificationsConfigSchema } from '../notifications/config.js';
import { authConfigSchema } from '../people/config.js';

/**
 * An MQTT broker run by someone else (Mosquitto, EMQX, …) that gateways connect to instead of the
 * relay's embedded aedes. The broker authenticates the gateways and its ACL must keep each gateway
 * to its own prefix: the relay takes the gateway id from the topic (docs/contract.md, "External broker").
 */
export const externalBrokerSchema = z
  .object({
    url: mqttUrlSchema.describe(
      'The broker the relay consumes gateways through, e.g. mqtt://mosquitto.internal:1883. When set, the embedded broker is not started.',
    ),
    username: z.string().min(1).optional().describe('The relay’s user name at the broker.'),
    password: z.string().min(1).optional().describe('The relay’s password at the broker. Never logged.'),
    clientId: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe(
        'Fixed MQTT client id, so the persistent session (and its unacknowledged messages) survives a restart; default `homebed-relay-<hostname>`. Every relay instance needs its own.',
      ),
    shareGroup: z
      .string()
      .regex(/^[^/+#]+$/, 'must not contain "/", "+" or "#"')
      .default('homebed-relay')
      .describe(
        'Shared-subscription group (`$share/<group>/…`): relay instances in one group each get a share of the gateways’ messages, each message going to one of them.',
      ),
    keepaliveS: z.number().int().min(5).max(600).default(30).describe('MQTT keepalive towards the broker.'),
    connectTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(10_000)
      .describe(
        'Give up one connection attempt after this; start-up also waits at most this long for the first connection before going on without it.',
      ),
    reconnectPeriodMs: z
      .number()
      .int()
      .positive()
      .default(1_000)
      .describe(
        'First wait before reconnecting; doubles after each failure up to reconnectMaxMs (±20 % jitter).',
      ),
    reconnectMaxMs: z
      .number()
      .int()
      .positive()
      .default(30_000)
      .describe('Longest wait between reconnection attempts.'),
    sessionExpiryS: z
      .number()
      .int()
      .min(1)
      .max(0xffffffff)
      .default(86_400)
      .describe(
        'How long the broker keeps the relay’s session (subscriptions, queued and unacknowledged messages) while it is away (MQTT 5 session expiry).',
      ),
  })
  .describe(
    'Consume the gateways through an external MQTT 5 broker instead of the embedded one (which is then not started).',
  );

export type ExternalBrokerConfig = z.output<typeof externalBrokerSchema>;

/**
 * The cloud relay's configuration: one schema with its defaults (and the
 * descriptions docs/configuration.md is generated from); loaded from
 * YAML/JSON plus `HOMEBED_CLOUD__…` environment overrides.
 */
export const cloudConfigSchema = z
  .object({
    dataDir: z.string().min(1).default('./var/cloud').describe('Where the SQLite database lives.'),
    mqtt: z
      .object({
        host: z
          .string()
          .min(1)
          .default('127.0.0.1')
          .describe('Interface the gateways’ MQTT broker (aedes) listens on; unused with `mqtt.external`.'),
        port: portSchema
          .default(1884)
          .describe('MQTT port for gateways (0: any free port); unused with `mqtt.external`.'),
        plain: z
          .boolean()
          .default(true)
          .describe(
            'Also accept plain (unencrypted) MQTT on `mqtt.port`. Set to false once every gateway uses `mqtt.tls`; needs `mqtt.tls`.',
          ),
        tls: z
          .object({
            port: portSchema.default(8883).describe('MQTT-over-TLS port for gateways (0: any free port).'),
            certFile: z
              .string()
              .min(1)
              .describe(
                'PEM certificate of the relay, issued for the host name (or IP address) gateways connect to (subjectAltName); may be followed by its intermediates. Read at start.',
              ),
            keyFile: z.string().min(1).describe('PEM private key of that certificate. Read at start.'),
            caFile: z
              .string()
              .min(1)
              .optional()
              .describe(
                'PEM intermediate CA certificates sent along with the relay’s certificate, when they are not in `certFile`.',
              ),
            minVersion: z
              .enum(['TLSv1.2', 'TLSv1.3'])
              .default('TLSv1.2')
              .describe('Oldest TLS version accepted.'),
          })
          .optional()
          .describe(
            'Also serve gateways over MQTT over TLS (`mqtts://`) on its own port; plain TCP stays on `mqtt.port` unless `mqtt.plain` is false. Unused with `mqtt.external`.',
          ),
        external: externalBrokerSchema.optional(),
      })
      .superRefine((mqtt, ctx) => {
        if (!mqtt.plain && !mqtt.tls && !mqtt.external) {
          ctx.addIssue({
            code: 'custom',
            path: ['plain'],
            message:
              'plain TCP can be turned off only when `mqtt.tls` is set (gateways would have no way in)',
          });
        }
      })
      .prefault({})
      .describe('The embedded MQTT broker that gateways connect to, or the external one (`mqtt.external`).'),
    store: z
      .object({
        postgres: z
          .object({
            url: z
              .string()
              .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// connection string')
              .describe('Connection string, e.g. postgres://relay@db.internal:5432/homebed.'),
            schema: z
              .string()
              .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'lower-case letters, digits and _')
              .optional()
              .describe('Schema for the tables (created if missing); default the user’s search_path.'),
          })
          .optional()
          .describe(
            'PostgreSQL instead of SQLite: needed when several relay processes share the work (mqtt.external with a shared subscription).',
          ),
      })
      .prefault({})
      .describe(
        'Where the relay keeps alarms, gateways and people: SQLite in dataDir unless PostgreSQL is set.',
      ),
    http: z
      .object({
        host: z
          .string()
          .min(1)
          .default('127.0.0.1')
          .describe('Interface the HTTP API and console listen on.'),
        port: portSchema.default(8080).describe('HTTP port (0: any free port).'),
        trustProxy: z
          .boolean()
          .default(false)
          .describe(
            'Behind a reverse proxy (nginx, a load balancer): take the client address and protocol from X-Forwarded-For/-Proto, so the login limit counts real clients and the session cookie is marked Secure. Never set it when clients reach the relay directly (they could then forge their address).',
          ),
      })
      .prefault({})
      .describe('HTTP API and console.'),
    metrics: z
      .object({
        enabled: z
          .boolean()
          .default(true)
          .describe(
            'Serve `GET /metrics` (Prometheus text format) on the HTTP port, without a session; docs/metrics.md.',
          ),
        token: z
          .string()
          .min(16, 'must be at least 16 characters')
          .optional()
          .describe(
            'Require `Authorization: Bearer <token>` on `GET /metrics` (401 without it); set it when the HTTP port is reachable beyond the monitoring network. Never logged.',
          ),
      })
      .prefault({})
      .describe('Prometheus metrics of the relay (counts and timings only, no personal data).'),
    influx: z
      .object({
        url: httpUrlSchema.describe('InfluxDB 1.x HTTP API, e.g. http://127.0.0.1:8086.'),
        database: z
          .string()
          .min(1)
          .describe('The database the gateways write their readings to (their `influx.database`).'),
      })
      .optional()
      .describe(
        'Where the relay reads the beds’ readings for the vital-sign charts and the in-bed state (docs/telemetry.md). Without it `GET /api/beds/:id/vitals` answers 503 and the status uses the gateways’ bed exit/return events only.',
      ),
    auth: authConfigSchema,
    escalation: escalationConfigSchema,
    liveness: livenessConfigSchema,
    notifications: notificationsConfigSchema,
    log: logConfigSchema,
  })
  .superRefine((config, ctx) => {
    // An escalation step naming a tier nobody is in would bring in no one: refuse it at start, not during an alarm.
    for (const [severity, steps] of Object.entries(config.escalation.steps)) {
      for (const [i, step] of steps.entries()) {
        if (!Object.hasOwn(config.notifications.policy.tiers, step.tier)) {
          ctx.addIssue({
            code: 'custom',
            path: ['escalation', 'steps', severity, i, 'tier'],
            message: `no tier ${JSON.stringify(step.tier)} in notifications.policy.tiers`,
          });
        }
      }
    }
  });

export type CloudConfig = z.output<typeof cloudConfigSchema>;

export const CLOUD_ENV_PREFIX = 'HOMEBED_CLOUD';
