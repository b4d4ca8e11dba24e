import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, RawServerDefault } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../../../common/clock.js';
import { HomebedError } from '../../../common/errors.js';
import type { BedEventRepository } from '../../beds/bed-events.js';
import type { BedStatusSource } from '../../beds/bed-status.js';
import { VITALS_RANGE_NAMES, type VitalsSource } from '../../beds/vitals-source.js';
import { canReadBed } from '../../people/access.js';
import type { AuditLog } from '../../people/audit-log.js';
import { type BedRepository, bedIdSchema } from '../../people/beds.js';
import type { Bed, Principal } from '../../people/model.js';
import { parseOr400, sendError } from '../api-errors.js';
import { allow } from '../request-principal.js';

export interface BedActivityRouteDeps {
  beds: Pick<BedRepository, 'get'>;
  events: Pick<BedEventRepository, 'list'>;
  status: Pick<BedStatusSource, 'status'>;
  /** Null when the relay has no `influx` configured: vitals answer 503. */
  vitals: Pick<VitalsSource, 'vitals'> | null;
  audit: AuditLog;
  clock: Clock;
}

const paramsSchema = z.object({ id: bedIdSchema });
const eventsQuerySchema = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict()
  .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), {
    message: '`to` must be after `from`',
    path: ['to'],
  });
const vitalsQuerySchema = z.object({ range: z.enum(VITALS_RANGE_NAMES).default('24h') }).strict();
const emptyQuerySchema = z.object({}).strict();

/**
 * What a bed's page shows besides its record: how the resident is now
 * (status), their vital signs (vitals) and what the gateway reported
 * (events). Same reach as `GET /api/beds/:id`: someone else's bed is a 404;
 * each answered request is one audit row.
 */
export function registerBedActivityRoutes<Log extends FastifyBaseLogger>(
  // Generic in the logger: the relay's app carries its own pino logger type.
  app: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Log>,
  deps: BedActivityRouteDeps,
): void {
  /** The bed when `who` may read it; otherwise the 404 is sent (exactly as for a missing bed). */
  async function readableBed(who: Principal, reply: FastifyReply, id: string): Promise<Bed | null> {
    const bed = await deps.beds.get(id);
    if (!bed || !canReadBed(who, bed)) {
      sendError(reply, 404, 'HB_BED_NOT_FOUND', 'no bed with this id');
      return null;
    }
    return bed;
  }

  const audited = (who: Principal, action: string, bed: Bed, detail?: Record<string, unknown>) =>
    deps.audit.record({
      actor: who,
      action,
      targetType: 'bed',
      targetId: bed.id,
      bedId: bed.id,
      ...(detail ? { detail } : {}),
    });

  app.get('/api/beds/:id/status', async (req, reply) => {
    const who = allow(req, reply, ['operator', 'staff', 'family']);
    if (!who) return reply;
    const params = parseOr400(reply, paramsSchema, req.params);
    if (!params) return reply;
    if (!parseOr400(reply, emptyQuerySchema, req.query)) return reply;
    const bed = await readableBed(who, reply, params.id);
    if (!bed) return reply;
    const status = await deps.status.status(bed.id);
    await audited(who, 'bed.view_status', bed);
    return status;
  });

  app.get('/api/beds/:id/vitals', async (req, reply) => {
    const who = allow(req, reply, ['operator', 'staff', 'family']);
    if (!who) return reply;
    const params = parseOr400(reply, paramsSchema, req.params);
    if (!params) return reply;
    const query = parseOr400(reply, vitalsQuerySchema, req.query);
    if (!query) return reply;
    const bed = await readableBed(who, reply, params.id);
    if (!bed) return reply;
    if (!deps.vitals) {
      return sendError(reply, 503, 'HB_VITALS_UNAVAILABLE', 'this relay reads no InfluxDB (config `influx`)');
    }
    let vitals: Awaited<ReturnType<VitalsSource['vitals']>>;
    try {
      vitals = await deps.vitals.vitals(bed.id, query.range, deps.clock.now());
    } catch (err) {
      if (err instanceof HomebedError && err.code === 'HB_VITALS_UNAVAILABLE') {
        req.log.warn({ bedId: bed.id, err: err.message }, 'vitals unavailable');
        return sendError(reply, 503, err.code, 'InfluxDB is not answering; try again shortly');
      }
      throw err;
    }
    await audited(who, 'bed.view_vitals', bed, { range: query.range });
    return vitals;
  });

  app.get('/api/beds/:id/events', async (req, reply) => {
    const who = allow(req, reply, ['operator', 'staff', 'family']);
    if (!who) return reply;
    const params = parseOr400(reply, paramsSchema, req.params);
    if (!params) return reply;
    const query = parseOr400(reply, eventsQuerySchema, req.query);
    if (!query) return reply;
    const bed = await readableBed(who, reply, params.id);
    if (!bed) return reply;
    const events = await deps.events.list(bed.id, {
      ...(query.from ? { from: query.from } : {}),
      ...(query.to ? { to: query.to } : {}),
      limit: query.limit,
    });
    await audited(who, 'bed.view_events', bed);
    return { events };
  });
}
