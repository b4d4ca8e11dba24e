import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, RawServerDefault } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../../../common/clock.js';
import { HomebedError } from '../../../common/errors.js';
import type { Principal } from '../../people/model.js';
import {
  coverageDayTable,
  coverageGapTable,
  type ExportTable,
  responseTimeTable,
  toCsv,
  toJson,
} from '../../stats/export.js';
import { PERIOD_KINDS } from '../../stats/periods.js';
import { isRangeBound, rangeProblem } from '../../stats/range.js';
import type { StatsReport, StatsScope, StatsSource } from '../../stats/stats-source.js';
import { parseOr400, sendError } from '../api-errors.js';
import { allow } from '../request-principal.js';

export interface StatsRouteDeps {
  stats: StatsSource;
  /** Reports are as of this clock's now. */
  clock: Pick<Clock, 'now'>;
}

export const EXPORT_TABLES = ['response_times', 'coverage_days', 'coverage_gaps'] as const;
export type ExportTableName = (typeof EXPORT_TABLES)[number];

const bound = z.string().refine(isRangeBound, 'a local date YYYY-MM-DD or an ISO 8601 instant with offset');
const id = z.string().min(1).max(64);
/** `bedId=a&bedId=b` arrives as a list, `bedId=a` as a string. */
const bedIds = z.union([id, z.array(id).min(1).max(200)]).transform((v) => (typeof v === 'string' ? [v] : v));

const rangeFields = {
  from: bound,
  to: bound,
  period: z.enum(PERIOD_KINDS).default('day'),
  organisationId: id.optional(),
  bedId: bedIds.optional(),
};

function checkRange(q: { from: string; to: string }, ctx: z.RefinementCtx): void {
  // The bounds' own problems are already reported.
  if (!isRangeBound(q.from) || !isRangeBound(q.to)) return;
  const problem = rangeProblem(q.from, q.to);
  if (problem) ctx.addIssue({ code: 'custom', path: ['to'], message: problem });
}

const statsQuerySchema = z.strictObject(rangeFields).superRefine(checkRange);
const exportQuerySchema = z
  .strictObject({
    ...rangeFields,
    format: z.enum(['csv', 'json']).default('csv'),
    table: z.enum(EXPORT_TABLES),
    /** response_times only: one group per bed (default) or per organisation, each per period. */
    by: z.enum(['bed', 'organisation']).default('bed'),
  })
  .superRefine(checkRange);

/**
 * Which organisations the caller may read. A principal with an organisation
 * reads only it; a regulator or admin without one reads all (or the one
 * asked for); an operator without one is misconfigured and reads nothing.
 */
function scopeOf(who: Principal, asked: string | undefined, reply: FastifyReply): StatsScope | null {
  const own = who.organisationId;
  if (own === null) {
    if (who.role === 'admin' || who.role === 'regulator')
      return asked === undefined ? {} : { organisationId: asked };
  } else if (asked === undefined || asked === own) {
    return { organisationId: own };
  }
  sendError(reply, 403, 'HB_FORBIDDEN', 'you may read the statistics of your own organisation only');
  return null;
}

function exportTable(report: StatsReport, table: ExportTableName, by: 'bed' | 'organisation'): ExportTable {
  const orgs = report.organisations;
  if (table === 'response_times') {
    // Bed ids are unique across organisations, so the bed id alone names the group.
    return responseTimeTable(
      by === 'organisation'
        ? orgs.flatMap((o) => o.periods.map((g) => ({ ...g, key: o.organisationId })))
        : orgs.flatMap((o) => o.beds.flatMap((b) => b.periods.map((g) => ({ ...g, key: b.bedId })))),
    );
  }
  const beds = orgs.flatMap((o) =>
    o.beds.flatMap((b) => (b.coverage ? [{ bedId: b.bedId, report: b.coverage }] : [])),
  );
  return table === 'coverage_days' ? coverageDayTable(beds) : coverageGapTable(beds);
}

/** A file name without characters Windows refuses (an instant's colons). */
function fileName(parts: readonly string[], extension: string): string {
  return `${parts.map((p) => p.replace(/[^A-Za-z0-9_-]+/g, '-')).join('_')}.${extension}`;
}

/**
 * `GET /api/statistics`: response times and coverage per organisation and
 * bed, as JSON. `GET /api/statistics/export`: one flat table as CSV (with a
 * BOM, for Excel) or JSON, as a download. Operators and regulators (and
 * admins) only; ids only, never a resident's name (docs/statistics.md).
 */
export function registerStatsRoutes<Log extends FastifyBaseLogger>(
  // Generic in the logger: the relay's app carries its own pino logger type.
  app: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Log>,
  deps: StatsRouteDeps,
): void {
  app.get('/api/statistics', async (req, reply) => {
    const who = allow(req, reply, ['operator', 'regulator']);
    if (!who) return reply;
    const q = parseOr400(reply, statsQuerySchema, req.query);
    if (!q) return reply;
    const scope = scopeOf(who, q.organisationId, reply);
    if (!scope) return reply;
    const report = await deps.stats.report({
      scope: { ...scope, ...(q.bedId ? { bedIds: q.bedId } : {}) },
      from: q.from,
      to: q.to,
      period: q.period,
      now: deps.clock.now(),
    });
    return reply.send(report);
  });

  app.get('/api/statistics/export', async (req, reply) => {
    const who = allow(req, reply, ['operator', 'regulator']);
    if (!who) return reply;
    const q = parseOr400(reply, exportQuerySchema, req.query);
    if (!q) return reply;
    const scope = scopeOf(who, q.organisationId, reply);
    if (!scope) return reply;
    const report = await deps.stats.report({
      scope: { ...scope, ...(q.bedId ? { bedIds: q.bedId } : {}) },
      from: q.from,
      to: q.to,
      period: q.period,
      now: deps.clock.now(),
    });
    let body: string;
    try {
      const table = exportTable(report, q.table, q.by);
      body = q.format === 'csv' ? toCsv(table, { bom: true }) : toJson(table);
    } catch (err) {
      // A personal field reached an export table: a bug, and nothing of it may leave.
      if (err instanceof HomebedError && err.code === 'HB_EXPORT_PERSONAL_DATA') {
        req.log.error({ err }, 'statistics export refused');
        return sendError(reply, 500, err.code, 'the export was refused: it would contain personal data');
      }
      throw err;
    }
    return reply
      .header(
        'Content-Type',
        q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
      )
      .header(
        'Content-Disposition',
        `attachment; filename="${fileName(['homebed', q.table, q.from, q.to], q.format)}"`,
      )
      .send(body);
  });
}
