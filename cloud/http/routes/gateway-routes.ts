import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify';
import { z } from 'zod';
import { HomebedError } from '../../../common/errors.js';
import { GATEWAY_ID_PATTERN } from '../../../contract/index.js';
import type { GatewayRecord, GatewayRegistry } from '../../gateways/gateway-registry.js';
import { canManageBeds, isPlatformAdmin } from '../../people/access.js';
import type { AuditLog } from '../../people/audit-log.js';
import type { BedRepository } from '../../people/beds.js';
import type { Principal } from '../../people/model.js';
import { parseOr400, sendError } from '../api-errors.js';
import { allow } from '../request-principal.js';

export interface GatewayRouteDependencies {
  gateways: GatewayRegistry;
  beds: BedRepository;
  audit: AuditLog;
}

const addBodySchema = z
  .object({
    id: z.string().regex(GATEWAY_ID_PATTERN, 'letters, digits, "_", "." or "-", at most 64'),
    bedId: z.string().min(1).max(64).optional(),
  })
  .strict();
/** Refusals that are about the current state (retrying the same request will not help until it changes). */
const CONFLICTS = new Set(['HB_GATEWAY_EXISTS', 'HB_BED_HAS_GATEWAY', 'HB_GATEWAY_HAS_BED', 'HB_BED_CLOSED']);
const idParamsSchema = z.object({ id: z.string().regex(GATEWAY_ID_PATTERN) });

/** Operators and staff see their organisation's gateways and those on no bed yet (to be installed). */
function visible(who: Principal, g: Pick<GatewayRecord, 'organisationId'>): boolean {
  return isPlatformAdmin(who) || g.organisationId === null || g.organisationId === who.organisationId;
}

/** The fleet view of a gateway: no secret, no resident data. */
function summary(g: GatewayRecord) {
  return {
    id: g.id,
    bedId: g.bedId,
    organisationId: g.organisationId,
    status: g.status,
    lastSeenAt: g.lastSeenAt,
    createdAt: g.createdAt,
    heartbeatIntervalMs: g.heartbeatIntervalMs,
    offlineAlarmId: g.offlineAlarmId,
    lastHeartbeat: g.lastHeartbeat,
  };
}

/**
 * Gateways over HTTP: the fleet list and provisioning. A new gateway's
 * secret is generated here, returned once, and stored only as a hash.
 */
export function registerGatewayRoutes<Log extends FastifyBaseLogger>(
  app: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Log>,
  deps: GatewayRouteDependencies,
): void {
  app.get('/api/gateways', async (req, reply) => {
    const who = allow(req, reply, ['operator', 'staff']);
    if (!who) return reply;
    return { gateways: (await deps.gateways.list()).filter((g) => visible(who, g)).map(summary) };
  });

  app.post('/api/gateways', async (req, reply) => {
    const who = allow(req, reply, ['operator']);
    if (!who) return reply;
    const body = parseOr400(reply, addBodySchema, req.body);
    if (!body) return reply;
    if (body.bedId) {
      const bed = await deps.beds.get(body.bedId);
      if (!bed || !canManageBeds(who, bed.organisationId)) {
        return sendError(reply, 404, 'HB_BED_NOT_FOUND', `no bed ${body.bedId}`);
      }
      // Checked before the gateway exists: a refused link must not leave a gateway whose secret nobody saw.
      if (bed.state === 'closed') return sendError(reply, 409, 'HB_BED_CLOSED', `bed ${bed.id} is closed`);
      const current = await deps.beds.gatewayOf(bed.id);
      if (current) {
        return sendError(reply, 409, 'HB_BED_HAS_GATEWAY', `bed ${bed.id} already has gateway ${current}`);
      }
    }
    try {
      const { id, secret } = await deps.gateways.add(body.id, undefined, who.organisationId);
      if (body.bedId) await deps.beds.linkGateway(id, body.bedId);
      await deps.audit.record({
        actor: who,
        action: 'gateway.add',
        targetType: 'gateway',
        targetId: id,
        ...(body.bedId ? { bedId: body.bedId } : {}),
      });
      // The only time the secret leaves the relay: the installer puts it in the gateway's cloud.secret.
      return reply.code(201).send({ id, secret, bedId: body.bedId ?? null });
    } catch (err) {
      if (err instanceof HomebedError) {
        const status = CONFLICTS.has(err.code) ? 409 : 400;
        return sendError(reply, status, err.code, err.message);
      }
      throw err;
    }
  });

  app.post('/api/gateways/:id/rotate-secret', async (req, reply) => {
    const who = allow(req, reply, ['operator']);
    if (!who) return reply;
    const params = parseOr400(reply, idParamsSchema, req.params);
    if (!params) return reply;
    // One row, not the whole fleet: the link says whether the gateway exists and whose it is.
    const link = await deps.gateways.link(params.id);
    if (!link || !visible(who, link)) {
      return sendError(reply, 404, 'HB_GATEWAY_UNKNOWN', `no gateway ${params.id}`);
    }
    const { secret } = await deps.gateways.rotate(params.id);
    await deps.audit.record({
      actor: who,
      action: 'gateway.rotate_secret',
      targetType: 'gateway',
      targetId: params.id,
    });
    return { id: params.id, secret };
  });
}
