import { describe, expect, it } from 'vitest';
import {
  type CoverageInput,
  coverage,
  deviceReportingIntervals,
  gatewayOnlineIntervals,
} from '../../../../cloud/stats/coverage.js';

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;
const DAY = 24 * H;

/** An instant given as local time with an explicit offset, e.g. `local('2026-03-05T10:00', 8)`. */
function local(wallClock: string, offsetH: number): number {
  const sign = offsetH >= 0 ? '+' : '-';
  const ms = Date.parse(`${wallClock}:00${sign}${String(Math.abs(offsetH)).padStart(2, '0')}:00`);
  if (Number.isNaN(ms)) throw new Error(`bad time ${wallClock}`);
  return ms;
}
/** Shanghai wall-clock time (UTC+8, no DST). */
const cst = (wallClock: string) => local(wallClock, 8);
const iso = (t: number) => new Date(t).toISOString();

/** `first`, `first + step`, … up to and including `last`. */
function every(first: number, last: number, step: number): number[] {
  const out: number[] = [];
  for (let t = first; t <= last; t += step) out.push(t);
  return out;
}

describe('gateway online time', () => {
  // Times in ms from 0; heartbeat interval 60 s, so a gateway counts as gone 180 s after its last sign of life.
  const base = { heartbeatIntervalMs: 60 * S };

  it('heartbeats alone: online until 3 intervals after the last', () => {
    // Beats at 0, 60, 120 s: [0,180) ∪ [60,240) ∪ [120,300) = [0, 300 s).
    expect(gatewayOnlineIntervals({ ...base, statuses: [], heartbeats: [0, 60 * S, 120 * S] })).toEqual([
      [0, 300 * S],
    ]);
    // A silence longer than 3 intervals is a gap: beats at 0 and 600 s → [0,180) and [600,780).
    expect(gatewayOnlineIntervals({ ...base, statuses: [], heartbeats: [0, 600 * S] })).toEqual([
      [0, 180 * S],
      [600 * S, 780 * S],
    ]);
  });

  it('an offline status ends it early; a heartbeat or online status after it starts it again', () => {
    expect(
      gatewayOnlineIntervals({
        ...base,
        statuses: [{ at: 200 * S, state: 'offline' }],
        // 0, 60, 120 s then, after the offline status, a heartbeat at 1000 s.
        heartbeats: [0, 60 * S, 120 * S, 1000 * S],
      }),
      // [0, min(offline 200, 120+180=300)) = [0, 200); [1000, 1180).
    ).toEqual([
      [0, 200 * S],
      [1000 * S, 1180 * S],
    ]);
  });

  it('an online status counts as a sign of life, expiring like a heartbeat', () => {
    // Online at 0 and nothing else: [0, 180 s). An offline at the same millisecond does not end it.
    expect(
      gatewayOnlineIntervals({ ...base, statuses: [{ at: 0, state: 'online' }], heartbeats: [] }),
    ).toEqual([[0, 180 * S]]);
    expect(
      gatewayOnlineIntervals({
        ...base,
        statuses: [
          { at: 0, state: 'offline' },
          { at: 0, state: 'online' },
          { at: 50 * S, state: 'offline' },
        ],
        heartbeats: [],
      }),
    ).toEqual([[0, 50 * S]]);
  });

  it('uses each heartbeat’s own interval when it carries one, and the missed-heartbeat count', () => {
    // A 10-minute interval set by command: online for 30 min after that beat.
    expect(
      gatewayOnlineIntervals({
        ...base,
        statuses: [],
        heartbeats: [{ at: '1970-01-01T00:00:00Z', intervalMs: 10 * MIN }],
      }),
    ).toEqual([[0, 30 * MIN]]);
    expect(gatewayOnlineIntervals({ ...base, missedHeartbeats: 2, statuses: [], heartbeats: [0] })).toEqual([
      [0, 120 * S],
    ]);
    expect(() => gatewayOnlineIntervals({ heartbeatIntervalMs: 0, statuses: [], heartbeats: [] })).toThrow(
      RangeError,
    );
  });
});

describe('device reporting time', () => {
  it('each time heard counts until it plus the supervision timeout, united with given intervals', () => {
    // Heard at 0 and 60 s, timeout 90 s: [0,90) ∪ [60,150) = [0,150). Plus a known span [400, 500) s.
    expect(
      deviceReportingIntervals({
        id: 'radar',
        seenAt: [0, 60 * S],
        supervisionTimeoutMs: 90 * S,
        reporting: [['1970-01-01T00:06:40Z', '1970-01-01T00:08:20Z']],
      }),
    ).toEqual([
      [0, 150 * S],
      [400 * S, 500 * S],
    ]);
    expect(() => deviceReportingIntervals({ id: 'radar', seenAt: [0] })).toThrow(/supervisionTimeoutMs/);
  });
});

describe('coverage', () => {
  /**
   * 5 March 2026 in Shanghai, local midnight to local midnight. The gateway beats every 60 s, goes offline
   * (last will) 10:00–12:00; the bed radar (reports every 30 s, timeout 90 s) is silent 11:30–12:30; the SOS
   * button (a supervision message daily, timeout 25 h) was heard at 08:00 on both days: it counts from
   * 4 March 08:00 until 5 March 08:00 + 25 h = 6 March 09:00, so all day.
   */
  function scriptedDay(): CoverageInput {
    const lead = cst('2026-03-04T23:00'); // an hour of history before the period
    const tail = cst('2026-03-06T01:00');
    return {
      from: cst('2026-03-05T00:00'),
      to: cst('2026-03-06T00:00'),
      timeZone: 'Asia/Shanghai',
      gateway: {
        heartbeatIntervalMs: MIN,
        statuses: [
          { at: lead, state: 'online' },
          { at: iso(cst('2026-03-05T10:00')), state: 'offline' },
          { at: iso(cst('2026-03-05T12:00')), state: 'online' },
        ],
        heartbeats: [
          ...every(lead, cst('2026-03-05T09:59'), MIN),
          ...every(cst('2026-03-05T12:00'), tail, MIN),
        ],
      },
      devices: [
        // Listed out of order on purpose: causes come out sorted by id.
        {
          id: 'sos-button',
          seenAt: ['2026-03-04T08:00:00+08:00', '2026-03-05T08:00:00+08:00'],
          supervisionTimeoutMs: 25 * H,
        },
        {
          id: 'bed-radar',
          supervisionTimeoutMs: 90 * S,
          // Last heard 11:28:30 → reporting until 11:28:30 + 90 s = 11:30:00; heard again from 12:30:00.
          seenAt: [
            ...every(lead, cst('2026-03-05T11:28') + 30 * S, 30 * S),
            ...every(cst('2026-03-05T12:30'), tail, 30 * S),
          ],
        },
      ],
    };
  }

  it('gateway offline 2 h and a device silent 1 h, overlapping by 30 min: 2.5 h unwatched, share 21.5/24', () => {
    const report = coverage(scriptedDay());
    // Unwatched = [10:00, 12:00) ∪ [11:30, 12:30) = [10:00, 12:30) = 2.5 h; watched 24 − 2.5 = 21.5 h.
    expect(report.days).toEqual([
      {
        date: '2026-03-05',
        from: '2026-03-04T16:00:00.000Z', // local midnight = 16:00 UTC the day before
        to: '2026-03-05T16:00:00.000Z',
        periodMs: DAY,
        watchedMs: 21.5 * H,
        unwatchedMs: 2.5 * H,
        share: 21.5 / 24,
        gatewayOfflineMs: 2 * H,
        deviceSilentMs: { 'bed-radar': 1 * H, 'sos-button': 0 },
      },
    ]);
    expect([report.periodMs, report.watchedMs, report.unwatchedMs, report.share]).toEqual([
      DAY,
      21.5 * H,
      2.5 * H,
      21.5 / 24,
    ]);
    // The gaps, split where the set of causes changes: 1.5 h gateway only, 30 min both, 30 min radar only.
    expect(report.gaps.map((g) => [g.from, g.to, g.durationMs, g.causes])).toEqual([
      ['2026-03-05T02:00:00.000Z', '2026-03-05T03:30:00.000Z', 1.5 * H, ['gateway_offline']],
      [
        '2026-03-05T03:30:00.000Z',
        '2026-03-05T04:00:00.000Z',
        0.5 * H,
        ['gateway_offline', 'device_silent:bed-radar'],
      ],
      ['2026-03-05T04:00:00.000Z', '2026-03-05T04:30:00.000Z', 0.5 * H, ['device_silent:bed-radar']],
    ]);
    expect(report.watched).toEqual([
      [cst('2026-03-05T00:00'), cst('2026-03-05T10:00')],
      [cst('2026-03-05T12:30'), cst('2026-03-06T00:00')],
    ]);
  });

  it('heartbeats that stop without an offline status: offline 3 intervals after the last one', () => {
    const input = scriptedDay();
    // Drop the offline status (a power cut before the broker publishes the last will).
    input.gateway = {
      ...input.gateway,
      statuses: input.gateway.statuses.filter((s) => s.state === 'online'),
    };
    const report = coverage(input);
    // Last beat 09:59 → online until 10:02; offline 10:02–12:00 = 1 h 58 min.
    expect(report.days[0]!.gatewayOfflineMs).toBe(2 * H - 2 * MIN);
    // Unwatched [10:02, 12:30) = 2 h 28 min.
    expect(report.days[0]!.unwatchedMs).toBe(2.5 * H - 2 * MIN);
  });

  it('splits at local midnight: a period from 18:00 to 06:00 with the gateway offline 23:00–01:00', () => {
    const from = cst('2026-03-05T18:00');
    const to = cst('2026-03-06T06:00');
    const report = coverage({
      from,
      to,
      gateway: {
        heartbeatIntervalMs: MIN,
        statuses: [{ at: cst('2026-03-05T23:00'), state: 'offline' }],
        heartbeats: [
          ...every(from - 5 * MIN, cst('2026-03-05T22:59'), MIN),
          ...every(cst('2026-03-06T01:00'), to, MIN),
        ],
      },
      devices: [], // no required device: watched = gateway online
    });
    // Each local day holds 6 h of the period and 1 h of the outage: 5/6 watched.
    expect(
      report.days.map((d) => [d.date, d.from, d.to, d.periodMs, d.watchedMs, d.share, d.gatewayOfflineMs]),
    ).toEqual([
      ['2026-03-05', '2026-03-05T10:00:00.000Z', '2026-03-05T16:00:00.000Z', 6 * H, 5 * H, 5 / 6, H],
      ['2026-03-06', '2026-03-05T16:00:00.000Z', '2026-03-05T22:00:00.000Z', 6 * H, 5 * H, 5 / 6, H],
    ]);
    // The gap itself is one span across midnight.
    expect(report.gaps.map((g) => [g.from, g.to, g.causes])).toEqual([
      ['2026-03-05T15:00:00.000Z', '2026-03-05T17:00:00.000Z', ['gateway_offline']],
    ]);
    expect(report.share).toBe(10 / 12);
  });

  it('counts the start of the period as unwatched when the timeline holds nothing before it', () => {
    const from = cst('2026-03-05T00:00');
    const report = coverage({
      from,
      to: from + H,
      gateway: { heartbeatIntervalMs: MIN, statuses: [], heartbeats: every(from + 5 * MIN, from + H, MIN) },
      devices: [],
    });
    expect(report.gaps.map((g) => [g.startMs - from, g.endMs - from, g.causes])).toEqual([
      [0, 5 * MIN, ['gateway_offline']],
    ]);
    expect(report.days[0]!.periodMs).toBe(H);
  });

  it('two devices silent together make one gap with both causes', () => {
    const from = cst('2026-03-05T00:00');
    const report = coverage({
      from,
      to: from + H,
      gateway: { heartbeatIntervalMs: MIN, statuses: [], heartbeats: every(from - MIN, from + H, MIN) },
      devices: [
        {
          id: 'b',
          reporting: [
            [from - H, from + 10 * MIN],
            [from + 20 * MIN, from + 2 * H],
          ],
        },
        {
          id: 'a',
          reporting: [
            [from - H, from + 10 * MIN],
            [from + 20 * MIN, from + 2 * H],
          ],
        },
      ],
    });
    expect(report.gaps.map((g) => [g.startMs - from, g.endMs - from, g.causes])).toEqual([
      [10 * MIN, 20 * MIN, ['device_silent:a', 'device_silent:b']],
    ]);
    expect(report.watchedMs).toBe(50 * MIN);
  });

  it('a gateway never heard: the whole period is one gap', () => {
    const from = cst('2026-03-05T00:00');
    const report = coverage({
      from,
      to: from + DAY,
      gateway: { heartbeatIntervalMs: MIN, statuses: [], heartbeats: [] },
      devices: [{ id: 'bed-radar', seenAt: [], supervisionTimeoutMs: 90 * S }],
    });
    expect(report.share).toBe(0);
    expect(report.gaps).toEqual([
      {
        from: iso(from),
        to: iso(from + DAY),
        startMs: from,
        endMs: from + DAY,
        durationMs: DAY,
        causes: ['gateway_offline', 'device_silent:bed-radar'],
      },
    ]);
  });

  describe('Europe/Berlin (DST)', () => {
    /** Heartbeats every minute over [first, last], gateway online throughout. */
    const alwaysOnline = (first: number, last: number) => ({
      heartbeatIntervalMs: MIN,
      statuses: [],
      heartbeats: every(first, last, MIN),
    });

    it('the spring day lasts 23 h: 1.5 h offline across the clock change leaves 21.5/23', () => {
      // 29 March 2026: local 00:00 CET = 28 March 23:00Z; next local midnight (CEST) = 29 March 22:00Z.
      const from = local('2026-03-29T00:00', 1);
      const to = local('2026-03-30T00:00', 2);
      expect(to - from).toBe(23 * H);
      // Offline from 01:30 CET (00:30Z) to 04:00 CEST (02:00Z): 2.5 h on the wall clock, 1.5 h in fact.
      const report = coverage({
        from,
        to,
        timeZone: 'Europe/Berlin',
        gateway: {
          heartbeatIntervalMs: MIN,
          statuses: [{ at: '2026-03-29T00:30:00Z', state: 'offline' }],
          heartbeats: [
            ...every(from - 5 * MIN, Date.parse('2026-03-29T00:29:00Z'), MIN),
            ...every(Date.parse('2026-03-29T02:00:00Z'), to, MIN),
          ],
        },
        devices: [],
      });
      expect(report.days.map((d) => [d.date, d.from, d.to, d.periodMs, d.watchedMs, d.share])).toEqual([
        ['2026-03-29', '2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z', 23 * H, 21.5 * H, 21.5 / 23],
      ]);
    });

    it('days around the changes last 24, 23, 24 h in spring and 25 h in autumn', () => {
      const from = local('2026-03-28T00:00', 1);
      const to = local('2026-03-31T00:00', 2);
      const spring = coverage({
        from,
        to,
        timeZone: 'Europe/Berlin',
        gateway: alwaysOnline(from - MIN, to),
        devices: [],
      });
      expect(spring.days.map((d) => [d.date, d.periodMs / H, d.share])).toEqual([
        ['2026-03-28', 24, 1],
        ['2026-03-29', 23, 1],
        ['2026-03-30', 24, 1],
      ]);
      expect(spring.periodMs).toBe(71 * H);
      const autumnFrom = local('2026-10-25T00:00', 2);
      const autumnTo = local('2026-10-26T00:00', 1);
      const autumn = coverage({
        from: autumnFrom,
        to: autumnTo,
        timeZone: 'Europe/Berlin',
        gateway: alwaysOnline(autumnFrom - MIN, autumnTo),
        devices: [],
      });
      expect(autumn.days.map((d) => [d.date, d.periodMs / H, d.watchedMs / H])).toEqual([
        ['2026-10-25', 25, 25],
      ]);
    });
  });

  it('refuses an empty period, repeated device ids and an unknown zone', () => {
    const gateway = { heartbeatIntervalMs: MIN, statuses: [], heartbeats: [] };
    expect(() => coverage({ from: 10, to: 10, gateway, devices: [] })).toThrow(RangeError);
    expect(() =>
      coverage({
        from: 0,
        to: H,
        gateway,
        devices: [
          { id: 'x', reporting: [] },
          { id: 'x', reporting: [] },
        ],
      }),
    ).toThrow(/repeat/);
    expect(() => coverage({ from: 0, to: H, timeZone: 'Nowhere/Else', gateway, devices: [] })).toThrow(
      RangeError,
    );
  });
});
