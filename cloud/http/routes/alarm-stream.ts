import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, RawServerDefault } from 'fastify';
import type { Counters } from '../../../common/counters.js';
import { uuidv7Time } from '../../../common/ids.js';
import type { Logger } from '../../../common/logger.js';
import type { AlarmChange } from '../../alarms/alarm-events.js';
import type { TimelineScope } from '../../alarms/alarm-timeline.js';
import type { ChangeFeed } from '../../events/change-feed.js';
import { alarmScope, canSeeAlarm } from '../../people/access.js';
import type { Principal } from '../../people/model.js';
import { allow } from '../request-principal.js';
import { forFamily } from './alarm-routes.js';

export interface AlarmStreamDependencies {
  feed: ChangeFeed;
  /** Committed changes after `afterIso`, oldest first (AlarmTimeline.since). */
  since: (afterIso: string, limit: number, scope: TimelineScope) => Promise<AlarmChange[]>;
  counters: Counters;
  logger: Logger;
  /** The request's principal as the store has it now (null once the session ended). */
  revalidate: (req: FastifyRequest) => Promise<Principal | null>;
  /** Comment lines sent this often keep proxies and the browser from closing an idle stream. */
  keepAliveMs?: number;
  /** Each stream re-reads the timeline this often, for changes the feed did not bring. */
  sweepMs?: number;
}

/** How far before the last seen change a catch-up reads (ids of two processes interleave within this). */
const CATCH_UP_OVERLAP_MS = 5_000;
const CATCH_UP_LIMIT = 1_000;
/** A client this far behind is cut off; it reconnects with Last-Event-ID and catches up from the table. */
const MAX_BUFFERED_BYTES = 1_000_000;
/** Ids sent lately, so a catch-up does not repeat what the client already has. */
const RECENT_IDS = 2_000;

/**
 * `GET /api/alarms/stream`: server-sent events of every committed alarm
 * change the caller may see (`event: alarm`, `id` = the timeline event id).
 * With `Last-Event-ID` (the browser sends it when it reconnects) the stream
 * first replays what was missed; delivery is at least once, so clients
 * drop ids they already have.
 */
export function registerAlarmStream<Log extends FastifyBaseLogger>(
  app: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Log>,
  deps: AlarmStreamDependencies,
): { clients: () => number } {
  const keepAliveMs = deps.keepAliveMs ?? 15_000;
  const sweepMs = deps.sweepMs ?? 30_000;
  const streams = new Set<ServerResponse>();

  app.get('/api/alarms/stream', async (req, reply) => {
    const who = allow(req, reply, ['operator', 'staff', 'family']);
    if (!who) return reply;
    const lastEventId = String(
      req.headers['last-event-id'] ?? (req.query as { lastEventId?: string }).lastEventId ?? '',
    );
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    streams.add(res);
    deps.counters.inc('sse_connections');

    const recent = new Set<string>();
    let lastAt: string | null = null;
    let closed = false;
    // Live changes wait here while a catch-up reads the table, then follow it in order.
    let pending: AlarmChange[] | null = [];

    const send = (change: AlarmChange) => {
      if (closed || recent.has(change.id) || !canSeeAlarm(who, change)) return;
      recent.add(change.id);
      if (recent.size > RECENT_IDS) recent.delete(recent.values().next().value as string);
      if (!lastAt || change.at > lastAt) lastAt = change.at;
      const shown = who.role === 'family' ? forFamily(change) : change;
      res.write(`id: ${change.id}\nevent: alarm\ndata: ${JSON.stringify(shown)}\n\n`);
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        deps.counters.inc('sse_slow_clients_dropped');
        deps.logger.warn(
          { user: who.username },
          'event stream client too slow; closing it (it will catch up)',
        );
        res.end();
      }
    };

    const catchUp = async (fromIso: string | null) => {
      pending ??= [];
      try {
        if (fromIso) {
          const from = new Date(Date.parse(fromIso) - CATCH_UP_OVERLAP_MS).toISOString();
          // The query keeps to what the caller may see (so its 1000 are theirs); canSeeAlarm still decides.
          const scope = alarmScope(who);
          if (scope !== 'none') {
            for (const change of await deps.since(from, CATCH_UP_LIMIT, {
              ...scope,
              includeUnlinked: true,
            })) {
              send(change);
            }
          }
        }
      } catch (err) {
        deps.logger.error({ err: (err as Error).message }, 'event stream catch-up failed');
      } finally {
        const queued = pending ?? [];
        pending = null;
        for (const change of queued) send(change);
      }
    };

    const offChange = deps.feed.subscribe((change) => {
      if (pending) pending.push(change);
      else send(change);
    });
    const openedAt = new Date().toISOString();
    const offResync = deps.feed.onResync(() => {
      void catchUp(lastAt ?? openedAt);
    });
    // A safety net under the feed: a change committed by a process that died before announcing it,
    // or a notification lost on the way, still reaches this console within one sweep.
    const sweep = setInterval(() => {
      if (!pending) void catchUp(lastAt ?? openedAt);
    }, sweepMs);
    // A session ended meanwhile (logout, account disabled, beds changed) ends the stream at the next beat;
    // a reconnect then starts from the principal as it is now.
    const keepAlive = setInterval(() => {
      deps
        .revalidate(req)
        .then((now) => {
          if (closed) return;
          if (!now || now.role !== who.role || now.bedIds.join() !== who.bedIds.join()) {
            deps.counters.inc('sse_sessions_ended');
            res.end();
            return;
          }
          res.write(': keep-alive\n\n');
        })
        .catch(() => res.write(': keep-alive\n\n'));
    }, keepAliveMs);
    const close = () => {
      if (closed) return;
      closed = true;
      streams.delete(res);
      clearInterval(keepAlive);
      clearInterval(sweep);
      offChange();
      offResync();
    };
    res.on('close', close);
    res.on('error', close);

    // Event ids are UUIDv7: the id itself says when the client's last event was made.
    const lastMs = lastEventId ? uuidv7Time(lastEventId) : null;
    await catchUp(lastMs === null ? null : new Date(lastMs).toISOString());
    return reply;
  });

  // Streams never end on their own: end them, or closing the server would wait for them forever.
  app.addHook('preClose', async () => {
    for (const res of streams) res.end();
  });
  return { clients: () => streams.size };
}
