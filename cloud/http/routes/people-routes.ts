import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, RawServerDefault } from 'fastify';
import { z } from 'zod';
import { HomebedError } from '../../../common/errors.js';
import { bedScope, canManageBeds, canManageUsers, canReadBed, isPlatformAdmin } from '../../people/access.js';
import type { AuditLog } from '../../people/audit-log.js';
import { type BedRepository, bedIdSchema, bedInputSchema, bedUpdateSchema } from '../../people/beds.js';
import { BED_STATES, type Bed, type Principal, type User } from '../../people/model.js';
import {
  type OrganisationRepository,
  organisationIdSchema,
  organisationInputSchema,
} from '../../people/organisations.js';
import {
  passwordSchema,
  type UserRepository,
  userInputSchema,
  userUpdateSchema,
} from '../../people/users.js';
import { parseOr400, sendError } from '../api-errors.js';
import { allow } from '../request-principal.js';

export interface PeopleRouteDeps {
  organisations: OrganisationRepository;
  beds: BedRepository;
  users: UserRepository;
  audit: AuditLog;
}

/** HTTP status of each refusal the people repositories throw (their codes are the API's codes). */
const STATUS_OF_CODE: Record<string, number> = {
  HB_BED_NOT_FOUND: 404,
  HB_USER_NOT_FOUND: 404,
  HB_ORGANISATION_NOT_FOUND: 404,
  HB_GATEWAY_UNKNOWN: 404,
  HB_ORGANISATION_EXISTS: 409,
  HB_BED_EXISTS: 409,
  HB_USER_EXISTS: 409,
  HB_BED_STATE_INVALID: 409,
  HB_BED_CLOSED: 409,
  HB_BED_HAS_GATEWAY: 409,
  HB_GATEWAY_HAS_BED: 409,
  HB_USER_NOT_FAMILY: 409,
  HB_ORGANISATION_MISMATCH: 409,
  HB_USER_ORGANISATION_REQUIRED: 409,
  HB_ORGANISATION_INVALID: 400,
  HB_BED_INVALID: 400,
  HB_USER_INVALID: 400,
};

/** Run a repository call; its known refusals become their API error, anything else stays a 500. */
async function orRefusal<T>(reply: FastifyReply, work: () => Promise<T>): Promise<T | null> {
  try {
    return await work();
  } catch (err) {
    const status = err instanceof HomebedError ? STATUS_OF_CODE[err.code] : undefined;
    if (status === undefined || !(err instanceof HomebedError)) throw err;
    sendError(reply, status, err.code, err.message);
    return null;
  }
}

const bedNotFound = (reply: FastifyReply) => sendError(reply, 404, 'HB_BED_NOT_FOUND', 'no bed with this id');
const userNotFound = (reply: FastifyReply) =>
  sendError(reply, 404, 'HB_USER_NOT_FOUND', 'no user with this id');
const forbidden = (reply: FastifyReply, message: string) => sendError(reply, 403, 'HB_FORBIDDEN', message);

const idParamsSchema = z.object({ id: z.string().min(1).max(64) });
const bedParamsSchema = z.object({ id: bedIdSchema });
const userBedParamsSchema = z.object({ id: z.string().min(1).max(64), bedId: bedIdSchema });
const usersQuerySchema = z.object({ organisationId: organisationIdSchema.optional() });
const bedsQuerySchema = z.object({
  organisationId: organisationIdSchema.optional(),
  state: z.enum(BED_STATES).optional(),
});
const userPatchSchema = userUpdateSchema.extend({ password: passwordSchema.optional() });
const linkBedBodySchema = z
  .object({ bedId: bedIdSchema, relation: z.string().trim().max(50).nullable().optional() })
  .strict();
const linkGatewayBodySchema = z.object({ gatewayId: z.string().min(1).max(64) }).strict();
const auditQuerySchema = z.object({
  bedId: bedIdSchema.optional(),
  actorId: z.string().min(1).max(64).optional(),
  organisationId: organisationIdSchema.optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** What a bed list shows: enough to find a resident; address and contacts only in the (audited) detail view. */
function bedSummary(bed: Bed) {
  return {
    id: bed.id,
    organisationId: bed.organisationId,
    residentName: bed.residentName,
    riskTags: bed.riskTags,
    installDate: bed.installDate,
    state: bed.state,
  };
}

/** The organisation whose people/beds `who` works on: their own, or the one a platform admin names. */
function targetOrganisation(who: Principal, named: string | undefined): string | undefined {
  return isPlatformAdmin(who) ? named : (who.organisationId ?? undefined);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Organisations, users, beds (with their gateway) and the audit log. Who
 * may do what is cloud/people/access.ts; a bed or user outside the
 * caller's reach answers 404, as if it did not exist.
 */
export function registerPeopleRoutes<Log extends FastifyBaseLogger>(
  // Generic in the logger: the relay's app carries its own pino logger type.
  app: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Log>,
  deps: PeopleRouteDeps,
): void {
  const { organisations, beds, users, audit } = deps;

  /** The user, when `who` may manage them; otherwise the 404 is sent. */
  async function manageableUser(who: Principal, reply: FastifyReply, id: string): Promise<User | null> {
    const user = await users.get(id);
    // A platform admin (no organisation) is managed by platform admins only.
    const inReach = user
      ? user.organisationId === null
        ? isPlatformAdmin(who)
        : canManageUsers(who, user.organisationId)
      : false;
    if (!user || !inReach) {
      userNotFound(reply);
      return null;
    }
    return user;
  }

  /** The bed, when `who` may manage it; otherwise the 404 is sent. */
  async function manageableBed(who: Principal, reply: FastifyReply, id: string): Promise<Bed | null> {
    const bed = await beds.get(id);
    if (!bed || !canManageBeds(who, bed.organisationId)) {
      bedNotFound(reply);
      return null;
    }
    return bed;
  }

  // ── organisations ──────────────────────────────────────────────────────

  app.get('/api/organisations', async (req, reply) => {
    const who = allow(req, reply, ['admin']);
    if (!who) return reply;
    if (isPlatformAdmin(who)) return { organisations: await organisations.list() };
    const own = who.organisationId ? await organisations.get(who.organisationId) : null;
    return { organisations: own ? [own] : [] };
  });

  app.post('/api/organisations', async (req, reply) => {
    const who = allow(req, reply, ['admin']);
    if (!who) return reply;
    if (!isPlatformAdmin(who)) return forbidden(reply, 'only a platform admin adds organisations');
    const body = parseOr400(reply, organisationInputSchema, req.body);
    if (!body) return reply;
    const organisation = await orRefusal(reply, () => organisations.add(body));
    if (!organisation) return reply;
    await audit.record({
      actor: who,
      action: 'organisation.add',
      targetType: 'organisation',
      targetId: organisation.id,
      detail: { name: organisation.name, timeZone: organisation.timeZone },
    });
    return reply.code(201).send({ organisation });
  });

  // ── users ──────────────────────────────────────────────────────────────

  app.get('/api/users', async (req, reply) => {
    const who = allow(req, reply, ['admin']);
    if (!who) return reply;
    const query = parseOr400(reply, usersQuerySchema, req.query);
    if (!query) return reply;
    if (query.organisationId && !canManageUsers(who, query.organisationId)) {
      return forbidden(reply, 'not your organisation');
    }
    const organisationId = targetOrganisation(who, query.organisationId);
    return { users: await users.list(organisationId ? { organisationId } : {}) };
  });

  app.get('/api/users/:id', async (req, reply) => {
    const who = allow(req, reply, ['admin']);
    if (!who) return reply;
    const params = parseOr400(reply, idParamsSchema, req.params);
    if (!params) return reply;
    const user = await manageableUser(who, reply, params.id);
    if (!user) return reply;
    return { user, beds: user.role === 'family' ? await users.bedsOf(user.id) : [] };
  });

  app.post('/api/users', async (req, reply) => {
    const who = allow(req, reply, ['admin']);
    if (!who) return reply;
    // An organisation's admin adds users to their own organisation unless told otherwise.
    const raw = isRecord(req.body) ? req.body : {};
    const withOrganisation =
      raw.organisationId === undefined && who.organisationId
        ? { ...raw, organisationId: who.organisationId }
        : raw;
    const body = parseOr400(reply, userInputSchema, withOrganisation);
    if (!body) return reply;
    if (
      body.organisationId === undefined ? !isPlatformAdmin(who) : !canManageUsers(who, body.organisationId)
    ) {
      return forbidden(reply, 'users are added to your own organisation only');
    }
    const user = await orRefusal(reply, () => users.add(body));
    if (!user) return reply;
    await audit.record({
      actor: who,
      action: 'user.add',
      targetType: 'user',
      targetId: user.id,
      detail: { username: user.username, role: user.role, organisationId: user.organisationId },
    });
    return reply.code(201).send({ user });
  });

  app.patch('/api/users/:id', async (req, reply) => {
    const who = allow(req, reply, ['admin']);
    if (!who) return reply;
    const params = parseOr400(reply, idParamsSchema, req.params);
    if (!params) return reply;
    const body = parseOr400(reply, userPatchSchema, req.body);
    if (!body) return reply;
    const target = await manageableUser(who, reply, params.id);
    if (!target) return reply;
    if (target.id === who.id && (body.disabled === true || (body.role && body.role !== 'admin'))) {
      return sendError(
        reply,
        409,
        'HB_USER_SELF_LOCKOUT',
        'an admin cannot disable or demote themself; ask another admin',
      );
    }
    const { password, ...fields } = body;
    const result = await orRefusal(reply, () => users.update(target.id, fields));
    if (!result) return reply;
    if (result.changed.length > 0) {
      const disabling = result.changed.includes('disabled') && result.user.disabled;
      await audit.record({
        actor: who,
        action: disabling ? 'user.disable' : 'user.update',
        targetType: 'user',
        targetId: target.id,
        detail: {
          changed: result.changed,
          ...(result.changed.includes('role') ? { role: { from: target.role, to: result.user.role } } : {}),
        },
      });
    }
    if (password !== undefined) {
      await users.setPassword(target.id, password);
      await audit.record({
        actor: who,
        action: 'user.set_password',
        targetType: 'user',
        targetId: target.id,
      });
    }
    return {
      user: result.user,
      changed: [...result.changed, ...(password !== undefined ? ['password'] : [])],
    };
  });

  app.post('/api/users/:id/beds', async (req, reply) => {
    const who = allow(req, reply, ['admin']);
    if (!who) return reply;
    const params = parseOr400(reply, idParamsSchema, req.params);
    if (!params) return reply;
    const body = parseOr400(reply, linkBedBodySchema, req.body);
    if (!body) return reply;
    const target = await manageableUser(who, reply, params.id);
    if (!target) return reply;
    const bed = await beds.get(body.bedId);
    if (!bed || !canManageUsers(who, bed.organisationId)) return bedNotFound(reply);
    const link = await orRefusal(reply, () => users.linkBed(target.id, bed.id, body.relation ?? null));
    if (!link) return reply;
    await audit.record({
      actor: who,
      action: 'user.link_bed',
      targetType: 'user',
      targetId: target.id,
      bedId: bed.id,
      detail: { relation: link.relation },
    });
    return reply.code(201).send({ link });
  });

  app.delete('/api/users/:id/beds/:bedId', async (req, reply) => {
    const who = allow(req, reply, ['admin']);
    if (!who) return reply;
    const params = parseOr400(reply, userBedParamsSchema, req.params);
    if (!params) return reply;
    const target = await manageableUser(who, reply, params.id);
    if (!target) return reply;
    const removed = await orRefusal(reply, () => users.unlinkBed(target.id, params.bedId));
    if (removed === null) return reply;
    if (!removed) return sendError(reply, 404, 'HB_BED_NOT_FOUND', 'this user has no such bed');
    await audit.record({
      actor: who,
      action: 'user.unlink_bed',
      targetType: 'user',
      targetId: target.id,
      bedId: params.bedId,
    });
    return reply.code(204).send();
  });

  // ── beds ───────────────────────────────────────────────────────────────

  app.get('/api/beds', async (req, reply) => {
    // A regulator sees statistics only, never who lives where.
    const who = allow(req, reply, ['operator', 'staff', 'family']);
    if (!who) return reply;
    const query = parseOr400(reply, bedsQuerySchema, req.query);
    if (!query) return reply;
    const scope = bedScope(who);
    if (scope === 'none') return forbidden(reply, 'no resident data for this account');
    if (query.organisationId && scope.organisationId && query.organisationId !== scope.organisationId) {
      return { beds: [] };
    }
    const organisationId = scope.organisationId ?? query.organisationId;
    const list = await beds.list({
      ...(organisationId ? { organisationId } : {}),
      ...(scope.bedIds ? { ids: scope.bedIds } : {}),
      ...(query.state ? { state: query.state } : {}),
    });
    return { beds: list.map(bedSummary) };
  });

  app.get('/api/beds/:id', async (req, reply) => {
    const who = allow(req, reply, ['operator', 'staff', 'family']);
    if (!who) return reply;
    const params = parseOr400(reply, bedParamsSchema, req.params);
    if (!params) return reply;
    const bed = await beds.get(params.id);
    // Someone else's bed looks exactly like a missing one.
    if (!bed || !canReadBed(who, bed)) return bedNotFound(reply);
    await audit.record({
      actor: who,
      action: 'bed.view',
      targetType: 'bed',
      targetId: bed.id,
      bedId: bed.id,
    });
    return { bed, gatewayId: await beds.gatewayOf(bed.id) };
  });

  app.post('/api/beds', async (req, reply) => {
    const who = allow(req, reply, ['operator']);
    if (!who) return reply;
    const raw = isRecord(req.body) ? req.body : {};
    const withOrganisation =
      raw.organisationId === undefined && who.organisationId
        ? { ...raw, organisationId: who.organisationId }
        : raw;
    const body = parseOr400(reply, bedInputSchema, withOrganisation);
    if (!body) return reply;
    if (!canManageBeds(who, body.organisationId))
      return forbidden(reply, 'beds are added to your own organisation only');
    const bed = await orRefusal(reply, () => beds.add(body));
    if (!bed) return reply;
    await audit.record({
      actor: who,
      action: 'bed.add',
      targetType: 'bed',
      targetId: bed.id,
      bedId: bed.id,
      detail: { organisationId: bed.organisationId, state: bed.state },
    });
    return reply.code(201).send({ bed });
  });

  app.patch('/api/beds/:id', async (req, reply) => {
    const who = allow(req, reply, ['operator']);
    if (!who) return reply;
    const params = parseOr400(reply, bedParamsSchema, req.params);
    if (!params) return reply;
    const body = parseOr400(reply, bedUpdateSchema, req.body);
    if (!body) return reply;
    const before = await manageableBed(who, reply, params.id);
    if (!before) return reply;
    const result = await orRefusal(reply, () => beds.update(before.id, body));
    if (!result) return reply;
    if (result.changed.length > 0) {
      await audit.record({
        actor: who,
        action: 'bed.update',
        targetType: 'bed',
        targetId: before.id,
        bedId: before.id,
        // Which fields, not their values: the log must not become a second copy of resident data.
        detail: {
          changed: result.changed,
          ...(result.changed.includes('state')
            ? { state: { from: before.state, to: result.bed.state } }
            : {}),
        },
      });
    }
    return { bed: result.bed, changed: result.changed };
  });

  app.post('/api/beds/:id/gateway', async (req, reply) => {
    const who = allow(req, reply, ['operator']);
    if (!who) return reply;
    const params = parseOr400(reply, bedParamsSchema, req.params);
    if (!params) return reply;
    const body = parseOr400(reply, linkGatewayBodySchema, req.body);
    if (!body) return reply;
    const bed = await manageableBed(who, reply, params.id);
    if (!bed) return reply;
    // A gateway already in another organisation's fleet is not this caller's to take.
    const gateway = await beds.gatewayLink(body.gatewayId);
    if (!gateway || (gateway.organisationId !== null && !canManageBeds(who, gateway.organisationId))) {
      return sendError(reply, 404, 'HB_GATEWAY_UNKNOWN', 'no gateway with this id');
    }
    const link = await orRefusal(reply, () => beds.linkGateway(body.gatewayId, bed.id));
    if (!link) return reply;
    if (gateway.bedId !== bed.id) {
      await audit.record({
        actor: who,
        action: 'bed.link_gateway',
        targetType: 'gateway',
        targetId: link.gatewayId,
        bedId: bed.id,
      });
    }
    return { link };
  });

  app.delete('/api/beds/:id/gateway', async (req, reply) => {
    const who = allow(req, reply, ['operator']);
    if (!who) return reply;
    const params = parseOr400(reply, bedParamsSchema, req.params);
    if (!params) return reply;
    const bed = await manageableBed(who, reply, params.id);
    if (!bed) return reply;
    const gatewayId = await beds.gatewayOf(bed.id);
    if (!gatewayId) return sendError(reply, 404, 'HB_GATEWAY_UNKNOWN', 'no gateway watches this bed');
    await beds.unlinkGateway(gatewayId);
    await audit.record({
      actor: who,
      action: 'bed.unlink_gateway',
      targetType: 'gateway',
      targetId: gatewayId,
      bedId: bed.id,
    });
    return reply.code(204).send();
  });

  // ── audit log ──────────────────────────────────────────────────────────

  app.get('/api/audit', async (req, reply) => {
    const who = allow(req, reply, ['operator']);
    if (!who) return reply;
    const query = parseOr400(reply, auditQuerySchema, req.query);
    if (!query) return reply;
    if (query.organisationId && !canManageBeds(who, query.organisationId)) {
      return forbidden(reply, 'not your organisation');
    }
    const organisationId = targetOrganisation(who, query.organisationId);
    if (!organisationId && !isPlatformAdmin(who)) return forbidden(reply, 'no organisation');
    const entries = await audit.list({
      ...(query.bedId ? { bedId: query.bedId } : {}),
      ...(query.actorId ? { actorId: query.actorId } : {}),
      ...(query.since ? { since: new Date(query.since).toISOString() } : {}),
      ...(organisationId ? { organisationId } : {}),
      limit: query.limit,
    });
    return { entries };
  });
}
