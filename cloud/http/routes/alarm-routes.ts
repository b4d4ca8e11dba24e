import type { IncomingMessage, ServerResponse } from 'node:http';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  RawServerDefault,
} from 'fastify';
import { z } from 'zod';
import { RESOLUTION_OUTCOMES } from '../../../contract/index.js';
import type { AlarmEvent } from '../../alarms/alarm-events.js';
import type { AlarmLifecycle } from '../../alarms/alarm-lifecycle.js';
import type { AlarmStore, LifecycleRefusal, StoredAlarm } from '../../alarms/alarm-store.js';
import type { EscalationTimer } from '../../escalation/escalation-store.js';
import type { DeliveryRecord } from '../../notifications/delivery-store.js';
import { alarmScope, canAnswerAlarms, canSeeAlarm } from '../../people/access.js';
import type { AuditLog } from '../../people/audit-log.js';
import type { Principal } from '../../people/model.js';
import { parseOr400, sendError } from '../api-errors.js';
import { allow } from '../request-principal.js';

export interface AlarmRouteDependencies {
  alarms: AlarmStore;
  lifecycle: AlarmLifecycle;
  timeline: { forAlarm(alarmId: string): Promise<AlarmEvent[]> };
  escalations: { forAlarm(alarmId: string): Promise<EscalationTimer[]> };
  deliveries: { list(filter: { alarmId: string; limit?: number }): Promise<DeliveryRecord[]> };
  /** The organisation an alarm belongs to (its gateway's); null for a gateway not yet on a bed. */
  organisationOf: (alarm: StoredAlarm) => Promise<string | null>;
  audit: AuditLog;
}

const listQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    gatewayId: z.string().min(1).max(64).optional(),
    bedId: z.string().min(1).max(64).optional(),
    /** Only raised alarms nobody has resolved yet (the staff queue). */
    open: z.enum(['true', 'false']).optional(),
    /** Only alarms received before this time (paging backwards). */
    before: z.iso.datetime().optional(),
  })
  .strict();
const idParamsSchema = z.object({ id: z.string().min(1).max(64) });
const acknowledgeBodySchema = z.object({}).strict();
const resolveBodySchema = z
  .object({ outcome: z.enum(RESOLUTION_OUTCOMES), notes: z.string().trim().max(4000).optional() })
  .strict();

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

/**
 * What family sees of a timeline step: that people were told, not who or
 * why a delivery failed (other contacts' names and numbers are not theirs).
 */
export function forFamily<E extends AlarmEvent>(event: E): E {
  if (event.kind !== 'notified' && event.kind !== 'notification_failed') return event;
  const { recipient: _recipient, reason: _reason, deliveryId: _deliveryId, ...detail } = event.detail;
  return { ...event, detail };
}

/**
 * Alarms over HTTP: the queue, one alarm with its whole timeline,
 * escalation steps and notifications, and the two things a person does to
 * an alarm (acknowledge, resolve). Who did it is the logged-in user, never
 * a field of the body.
 */
export function registerAlarmRoutes<Log extends FastifyBaseLogger>(
  // Generic in the logger: the relay's app carries its own pino logger type.
  app: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Log>,
  deps: AlarmRouteDependencies,
): void {
  const api = app;

  api.get('/api/alarms', async (req, reply) => {
    const who = allow(req, reply, ['operator', 'staff', 'family']);
    if (!who) return reply;
    const query = parseOr400(reply, listQuerySchema, req.query);
    if (!query) return reply;
    const scope = alarmScope(who);
    if (scope === 'none') return { alarms: [] };
    const alarms = await deps.alarms.list({
      limit: query.limit,
      ...scope,
      ...(query.gatewayId ? { gatewayId: query.gatewayId } : {}),
      ...(query.bedId ? { bedId: query.bedId } : {}),
      ...(query.open === 'true' ? { open: true } : {}),
      ...(query.before ? { before: query.before } : {}),
    });
    return { alarms };
  });

  /** The alarm if `who` may see it; otherwise the 404 is sent (existence is not revealed) and null returned. */
  const visible = async (
    who: Principal,
    id: string,
    reply: FastifyReply,
  ): Promise<{ alarm: StoredAlarm; organisationId: string | null } | null> => {
    const alarm = await deps.alarms.get(id);
    const organisationId = alarm ? await deps.organisationOf(alarm) : null;
    if (!alarm || !canSeeAlarm(who, { bedId: alarm.bedId, organisationId })) {
      sendError(reply, 404, REFUSALS.not_found.error, REFUSALS.not_found.message);
      return null;
    }
    return { alarm, organisationId };
  };

  api.get('/api/alarms/:id', async (req, reply) => {
    const who = allow(req, reply, ['operator', 'staff', 'family']);
    if (!who) return reply;
    const params = parseOr400(reply, idParamsSchema, req.params);
    if (!params) return reply;
    const found = await visible(who, params.id, reply);
    if (!found) return reply;
    const [timeline, escalations, deliveries] = await Promise.all([
      deps.timeline.forAlarm(found.alarm.id),
      deps.escalations.forAlarm(found.alarm.id),
      // Family sees that people were told, not who or at which number.
      who.role === 'family'
        ? Promise.resolve([])
        : deps.deliveries.list({ alarmId: found.alarm.id, limit: 100 }),
    ]);
    return {
      alarm: found.alarm,
      timeline: who.role === 'family' ? timeline.map(forFamily) : timeline,
      escalations,
      notifications: deliveries.map((d) => ({
        id: d.notification.id,
        kind: d.notification.kind,
        recipient: d.notification.recipient.name,
        channel: d.notification.recipient.channel,
        state: d.state,
        attempts: d.attemptCount,
        lastAttemptAt: d.lastAttemptAt,
        lastDetail: d.lastDetail,
      })),
    };
  });

  const answer = async (req: FastifyRequest, reply: FastifyReply, action: 'acknowledge' | 'resolve') => {
    const who = allow(req, reply, ['operator', 'staff']);
    if (!who) return reply;
    const params = parseOr400(reply, idParamsSchema, req.params);
    if (!params) return reply;
    const body =
      action === 'resolve'
        ? parseOr400(reply, resolveBodySchema, req.body)
        : parseOr400(reply, acknowledgeBodySchema, req.body);
    if (!body) return reply;
    const found = await visible(who, params.id, reply);
    if (!found) return reply;
    if (!canAnswerAlarms(who, found.organisationId ?? undefined)) {
      return sendError(reply, 403, 'HB_FORBIDDEN', `a ${who.role} may not answer this alarm`);
    }
    const resolveBody = body as z.output<typeof resolveBodySchema>;
    const result =
      action === 'acknowledge'
        ? await deps.lifecycle.acknowledge(found.alarm.id, who.displayName)
        : await deps.lifecycle.resolve(
            found.alarm.id,
            who.displayName,
            resolveBody.outcome,
            resolveBody.notes,
          );
    if (!result.ok) {
      const refusal = REFUSALS[result.reason];
      return sendError(reply, refusal.status, refusal.error, refusal.message);
    }
    if (result.changed) {
      await deps.audit.record({
        actor: who,
        action: `alarm.${action}`,
        targetType: 'alarm',
        targetId: found.alarm.id,
        bedId: found.alarm.bedId,
        ...(action === 'resolve' ? { detail: { outcome: resolveBody.outcome } } : {}),
      });
    }
    return reply.code(200).send({ alarm: result.alarm, changed: result.changed });
  };

  api.post('/api/alarms/:id/acknowledge', (req, reply) => answer(req, reply, 'acknowledge'));
  api.post('/api/alarms/:id/resolve', (req, reply) => answer(req, reply, 'resolve'));
}
