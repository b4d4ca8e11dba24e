import { describe, expect, it } from 'vitest';
import {
  type AlarmForStats,
  byPeriod,
  percentile,
  responseTimes,
  responseTimesBy,
  responseTimesByPeriod,
} from '../../../../cloud/stats/response-times.js';

/** The report is as of 12:00 on 5 March 2026 in Shanghai. */
const NOW = '2026-03-05T04:00:00.000Z';
const NOW_MS = Date.parse(NOW);
const iso = (t: number) => new Date(t).toISOString();
/** An instant `s` seconds after `base`. */
const plus = (base: string, s: number) => iso(Date.parse(base) + s * 1000);
/** An instant `s` seconds before `NOW`. */
const ago = (s: number) => iso(NOW_MS - s * 1000);

let nextId = 1;
function alarm(fields: Partial<AlarmForStats> & Pick<AlarmForStats, 'receivedAt'>): AlarmForStats {
  return {
    id: `a${nextId++}`,
    bedId: 'bed-1',
    type: 'sos_button',
    severity: 'critical',
    state: 'raised',
    ...fields,
  };
}

/** Acknowledged `ackS` seconds after receipt (and resolved `resolveS` after receipt, with an outcome). */
function answered(
  receivedAt: string,
  ackS: number | null,
  resolve: { s: number; outcome: AlarmForStats['outcome'] } | null,
  fields: Partial<AlarmForStats> = {},
): AlarmForStats {
  return alarm({
    receivedAt,
    ...(ackS === null ? {} : { acknowledgedAt: plus(receivedAt, ackS) }),
    ...(resolve ? { resolvedAt: plus(receivedAt, resolve.s), outcome: resolve.outcome } : {}),
    ...fields,
  });
}

describe('nearest-rank percentile', () => {
  it('takes the value at rank ceil(p/100 × n) of the sorted values', () => {
    const values = [50, 15, 40, 20, 35]; // sorted: 15 20 35 40 50
    expect(percentile(values, 30)).toBe(20); // ceil(1.5) = 2 → 20
    expect(percentile(values, 40)).toBe(20); // ceil(2.0) = 2 → 20 (exact rank: no rounding up)
    expect(percentile(values, 50)).toBe(35); // ceil(2.5) = 3 → 35
    expect(percentile(values, 90)).toBe(50); // ceil(4.5) = 5 → 50
    expect(percentile(values, 100)).toBe(50); // the maximum
    expect(percentile(values, 0)).toBe(15); // rank 1: the minimum
  });

  it('is always one of the values (no interpolation); p99 of fewer than 100 values is the maximum', () => {
    const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(ten, 90)).toBe(9); // ceil(9) = 9 exactly
    expect(percentile(ten, 91)).toBe(10); // ceil(9.1) = 10
    expect(percentile(ten, 99)).toBe(10);
    expect(percentile([1, 2], 50)).toBe(1); // ceil(1) = 1, not 1.5
  });

  it('handles ties, empty input and rank arithmetic without float creep', () => {
    expect(percentile([5, 5, 5, 10], 50)).toBe(5); // ceil(2) = 2 → 5
    expect(percentile([5, 5, 5, 10], 75)).toBe(5); // ceil(3) = 3 → 5
    expect(percentile([5, 5, 5, 10], 76)).toBe(10); // ceil(3.04) = 4 → 10
    expect(percentile([], 50)).toBeNull();
    // 16.1 × 1000 / 100 is 161.00000000000003 in floating point; the rank is still 161, not 162.
    const thousand = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(percentile(thousand, 16.1)).toBe(161);
    expect(percentile(thousand, 99.9)).toBe(999);
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], -1)).toThrow(RangeError);
  });
});

describe('response times', () => {
  it('computes every figure on a scripted morning (hand-computed)', () => {
    const morning = '2026-03-05T02:00:00.000Z'; // 10:00 local
    const alarms: AlarmForStats[] = [
      // Calls for help (critical / warning), acknowledged:
      answered(morning, 12, { s: 300, outcome: 'resident_fine_by_phone' }),
      answered(plus(morning, 600), 30, { s: 600, outcome: 'ambulance_called' }, { type: 'fall_confirmed' }),
      answered(
        plus(morning, 1200),
        60,
        { s: 900, outcome: 'false_alarm' },
        { type: 'heart_rate_high', severity: 'warning' },
      ),
      answered(plus(morning, 1800), 61, null, { type: 'bed_exit_no_return', severity: 'warning' }),
      answered(plus(morning, 2400), 180, { s: 1200, outcome: 'staff_visited' }),
      // Resolved without a separate acknowledgement: resolving is the acknowledgement (400 s).
      answered(
        plus(morning, 3000),
        null,
        { s: 400, outcome: 'family_visited' },
        {
          type: 'door_open_at_night',
          severity: 'warning',
        },
      ),
      // Unacknowledged at NOW, by age:
      alarm({ receivedAt: ago(100) }), // older than 60 s, younger than 180 s
      alarm({ receivedAt: ago(30), type: 'fall_suspected' }), // younger than both
      alarm({ receivedAt: ago(60) }), // exactly 60 s: not older, still answerable in time
      alarm({ receivedAt: ago(3600), type: 'smoke' }), // older than both
      // Acknowledged 5 s after NOW: as of NOW it is unacknowledged and 300 s old.
      alarm({ receivedAt: ago(300), acknowledgedAt: plus(NOW, 5) }),
      // Technical: reported separately.
      answered(
        '2026-03-05T00:00:00.000Z',
        5000,
        { s: 5000, outcome: 'other' },
        {
          type: 'device_offline',
          severity: 'technical',
        },
      ),
      alarm({ receivedAt: '2026-03-04T20:00:00.000Z', type: 'device_battery_low', severity: 'technical' }),
      // Not counted at all: edge follow-ups, and an alarm received after NOW.
      alarm({ receivedAt: ago(500), state: 'cleared' }),
      alarm({ receivedAt: ago(500), state: 'cancelled', type: 'fall_suspected' }),
      alarm({ receivedAt: plus(NOW, 10) }),
    ];
    const report = responseTimes(alarms, { now: NOW });
    expect(report.separateSeverities).toEqual(['technical', 'info']);

    // Calls: 11 raised alarms up to NOW; 6 acknowledged (the first six), 5 not.
    const calls = report.calls;
    expect([calls.count, calls.acknowledged, calls.unacknowledged]).toEqual([11, 6, 5]);
    // Times to acknowledge, sorted: 12 30 60 61 180 400 (n = 6).
    //   p50: rank ceil(3)    = 3 → 60;  p90: ceil(5.4) = 6 → 400;  p99: ceil(5.94) = 6 → 400;  max 400.
    expect(calls.timeToAcknowledgeS).toEqual({ p50: 60, p90: 400, p99: 400, max: 400 });
    // Within 60 s: 12, 30 and 60 (exactly 60 counts) = 3. Denominator: 6 acknowledged + the unacknowledged
    //   older than 60 s (100 s, 3600 s, 300 s) = 9; the 30 s and exactly-60 s ones are left out. 3/9.
    // Within 180 s: 12 30 60 61 180 = 5. Denominator: 6 + older than 180 s (3600 s, 300 s) = 8. 5/8.
    expect(calls.acknowledgedWithin).toEqual([
      { thresholdS: 60, within: 3, eligible: 9, share: 3 / 9 },
      { thresholdS: 180, within: 5, eligible: 8, share: 0.625 },
    ]);
    // Resolved: 300 400 600 900 1200 s after receipt (n = 5): p50 ceil(2.5) = 3 → 600; p90 ceil(4.5) = 5 → 1200.
    expect(calls.resolved).toBe(5);
    expect(calls.timeToResolveS).toEqual({ p50: 600, p90: 1200 });
    expect(calls.byOutcome).toEqual({
      false_alarm: 1,
      resident_fine_by_phone: 1,
      family_visited: 1,
      staff_visited: 1,
      ambulance_called: 1,
      other: 0,
    });
    // sos_button: the 1st, 5th, the 100 s, the 60 s and the 300 s ones = 5.
    expect(Object.fromEntries(Object.entries(calls.byType).filter(([, n]) => n > 0))).toEqual({
      sos_button: 5,
      fall_confirmed: 1,
      heart_rate_high: 1,
      bed_exit_no_return: 1,
      door_open_at_night: 1,
      fall_suspected: 1,
      smoke: 1,
    });
    expect(calls.byType.gas).toBe(0);

    // Technical: 2 alarms, one acknowledged after 5000 s, one open for 8 h.
    const separate = report.separate;
    expect([separate.count, separate.acknowledged, separate.unacknowledged]).toEqual([2, 1, 1]);
    expect(separate.timeToAcknowledgeS).toEqual({ p50: 5000, p90: 5000, p99: 5000, max: 5000 });
    // Neither answered in time: 0 of 2 (the open one is older than both thresholds).
    expect(separate.acknowledgedWithin.map((w) => [w.within, w.eligible, w.share])).toEqual([
      [0, 2, 0],
      [0, 2, 0],
    ]);
    expect(separate.byOutcome.other).toBe(1);
    expect(separate.byType.device_offline + separate.byType.device_battery_low).toBe(2);
  });

  it('reports no alarms as zero counts and null figures', () => {
    const report = responseTimes([], { now: NOW });
    for (const stats of [report.calls, report.separate]) {
      expect([stats.count, stats.acknowledged, stats.unacknowledged, stats.resolved]).toEqual([0, 0, 0, 0]);
      expect(stats.timeToAcknowledgeS).toEqual({ p50: null, p90: null, p99: null, max: null });
      expect(stats.timeToResolveS).toEqual({ p50: null, p90: null });
      // 0 of 0 is not 100 %, nor 0 %: no figure.
      expect(stats.acknowledgedWithin).toEqual([
        { thresholdS: 60, within: 0, eligible: 0, share: null },
        { thresholdS: 180, within: 0, eligible: 0, share: null },
      ]);
      expect(Object.values(stats.byType).every((n) => n === 0)).toBe(true);
    }
  });

  it('all unacknowledged: only those past a threshold count, as misses', () => {
    const report = responseTimes(
      [alarm({ receivedAt: ago(30) }), alarm({ receivedAt: ago(90) }), alarm({ receivedAt: ago(200) })],
      {
        now: NOW,
      },
    );
    expect([report.calls.count, report.calls.acknowledged, report.calls.unacknowledged]).toEqual([3, 0, 3]);
    expect(report.calls.timeToAcknowledgeS.p50).toBeNull();
    // 60 s: the 90 s and 200 s ones are misses, the 30 s one is undecided: 0 of 2.
    // 180 s: only the 200 s one is a miss: 0 of 1.
    expect(report.calls.acknowledgedWithin).toEqual([
      { thresholdS: 60, within: 0, eligible: 2, share: 0 },
      { thresholdS: 180, within: 0, eligible: 1, share: 0 },
    ]);
  });

  it('an acknowledgement exactly at 60 s is within; one millisecond later is not', () => {
    const t = '2026-03-05T03:00:00.000Z';
    const onTime = responseTimes([alarm({ receivedAt: t, acknowledgedAt: plus(t, 60) })], { now: NOW });
    expect(onTime.calls.acknowledgedWithin[0]).toEqual({ thresholdS: 60, within: 1, eligible: 1, share: 1 });
    const late = responseTimes([alarm({ receivedAt: t, acknowledgedAt: plus(t, 60.001) })], { now: NOW });
    expect(late.calls.acknowledgedWithin[0]).toEqual({ thresholdS: 60, within: 0, eligible: 1, share: 0 });
    expect(late.calls.timeToAcknowledgeS.max).toBe(60.001);
  });

  it('ties: equal times give equal percentiles', () => {
    const t = '2026-03-05T03:00:00.000Z';
    const alarms = [0, 1, 2, 3].map((i) => answered(plus(t, i * 60), 45, { s: 120, outcome: 'false_alarm' }));
    const stats = responseTimes(alarms, { now: NOW }).calls;
    expect(stats.timeToAcknowledgeS).toEqual({ p50: 45, p90: 45, p99: 45, max: 45 });
    expect(stats.timeToResolveS).toEqual({ p50: 120, p90: 120 });
    expect(stats.byOutcome.false_alarm).toBe(4);
  });

  it('takes the separately reported severities and the thresholds as parameters', () => {
    const t = '2026-03-05T03:00:00.000Z';
    const alarms = [
      answered(t, 20, null, { severity: 'technical', type: 'device_offline' }),
      answered(t, 40, null, { severity: 'info', type: 'test_alarm' }),
      answered(t, 50, null),
    ];
    // Nothing separate: all three are calls.
    expect(responseTimes(alarms, { now: NOW, separateSeverities: [] }).calls.count).toBe(3);
    const both = responseTimes(alarms, {
      now: NOW,
      separateSeverities: ['technical', 'info'],
      thresholdsS: [30],
    });
    expect([both.calls.count, both.separate.count]).toEqual([1, 2]);
    // Separate: 20 s and 40 s; within 30 s: 1 of 2.
    expect(both.separate.acknowledgedWithin).toEqual([
      { thresholdS: 30, within: 1, eligible: 2, share: 0.5 },
    ]);
    expect(() => responseTimes(alarms, { now: NOW, thresholdsS: [-1] })).toThrow(RangeError);
    expect(() => responseTimes(alarms, { now: 'soon' })).toThrow(/now/);
  });

  it('an acknowledgement or resolution recorded before receipt (clock step) counts as 0 s', () => {
    const t = '2026-03-05T03:00:00.000Z';
    const stats = responseTimes([answered(t, -2, { s: -1, outcome: 'other' })], { now: NOW }).calls;
    expect(stats.timeToAcknowledgeS.max).toBe(0);
    expect(stats.timeToResolveS.p50).toBe(0);
  });
});

describe('grouping', () => {
  const t = '2026-03-05T03:00:00.000Z';
  const alarms = [
    answered(t, 30, null, { bedId: 'bed-2' }),
    answered(t, 90, null, { bedId: 'bed-1' }),
    answered(t, 10, null, { bedId: 'bed-3' }),
    answered(t, 200, null, { bedId: 'bed-1', state: 'cleared' }),
  ];

  it('by a key the caller gives (bed, organisation), sorted by key', () => {
    const byBed = responseTimesBy(alarms, (a) => a.bedId, { now: NOW });
    expect(byBed.map((g) => [g.key, g.calls.count, g.calls.timeToAcknowledgeS.max])).toEqual([
      ['bed-1', 1, 90], // the cleared follow-up is not counted
      ['bed-2', 1, 30],
      ['bed-3', 1, 10],
    ]);
    const organisation: Record<string, string> = { 'bed-1': 'org-b', 'bed-2': 'org-a', 'bed-3': 'org-a' };
    const byOrg = responseTimesBy(alarms, (a) => organisation[a.bedId] ?? 'unknown', { now: NOW });
    // org-a: 30 s and 10 s → within 60 s 2 of 2; org-b: 90 s → 0 of 1.
    expect(byOrg.map((g) => [g.key, g.calls.count, g.calls.acknowledgedWithin[0]!.share])).toEqual([
      ['org-a', 2, 1],
      ['org-b', 1, 0],
    ]);
  });

  it('by local day, week or month of receipt, Asia/Shanghai by default', () => {
    const late = [
      // 23:59:59 on 4 March and 00:00:00 on 5 March, Shanghai time.
      answered('2026-03-04T15:59:59.000Z', 20, null),
      answered('2026-03-04T16:00:00.000Z', 70, null),
      answered('2026-03-05T03:00:00.000Z', 40, null),
    ];
    const days = responseTimesByPeriod(late, 'day', { now: NOW });
    expect(days.map((g) => [g.key, g.from, g.to, g.calls.count])).toEqual([
      ['2026-03-04', '2026-03-03T16:00:00.000Z', '2026-03-04T16:00:00.000Z', 1],
      ['2026-03-05', '2026-03-04T16:00:00.000Z', '2026-03-05T16:00:00.000Z', 2],
    ]);
    // 5 March: 70 s and 40 s → p50 rank ceil(1) = 1 → 40.
    expect(days[1]!.calls.timeToAcknowledgeS.p50).toBe(40);
    // In UTC the first two are both on 4 March (15:59:59Z and 16:00Z), the third on the 5th.
    expect(
      responseTimesByPeriod(late, 'day', { now: NOW, timeZone: 'UTC' }).map((g) => [g.key, g.calls.count]),
    ).toEqual([
      ['2026-03-04', 2],
      ['2026-03-05', 1],
    ]);
    expect(responseTimesByPeriod(late, 'week', { now: NOW }).map((g) => [g.key, g.calls.count])).toEqual([
      ['2026-W10', 3],
    ]);
    expect(responseTimesByPeriod(late, 'month', { now: NOW }).map((g) => [g.key, g.from])).toEqual([
      ['2026-03', '2026-02-28T16:00:00.000Z'],
    ]);
    // The key function composes with others: organisation and day.
    expect(late.map(byPeriod('day'))).toEqual(['2026-03-04', '2026-03-05', '2026-03-05']);
  });
});
