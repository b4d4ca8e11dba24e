import { describe, expect, it } from 'vitest';
import {
  type Comparison,
  compareAlarms,
  type ExpectedAlarm,
  formatDifferences,
  type ObservedAlarm,
} from '../../../firmware-sim/scenarios/compare.js';

const T0 = Date.UTC(2026, 10, 23, 18, 0); // 2026-11-24 02:00 in Shanghai
const s = (seconds: number) => T0 + seconds * 1000;

const alarm = (
  type: ObservedAlarm['type'],
  at: number,
  extra: Partial<ObservedAlarm> = {},
): ObservedAlarm => ({
  type,
  state: 'raised',
  severity: 'warning',
  atMs: s(at),
  deviceId: 'front-door',
  ...extra,
});
const want = (
  type: ExpectedAlarm['type'],
  from: number,
  to: number,
  extra: Partial<ExpectedAlarm> = {},
): ExpectedAlarm => ({
  type,
  state: 'raised',
  fromMs: s(from),
  toMs: s(to),
  ...extra,
});
const kinds = (c: Comparison) => c.differences.map((d) => d.kind);

describe('compareAlarms', () => {
  it.each<[string, ObservedAlarm[], ExpectedAlarm[], string[]]>([
    ['nothing expected, nothing came', [], [], []],
    ['an exact match', [alarm('door_open_at_night', 0)], [want('door_open_at_night', 0, 1)], []],
    [
      'both window ends are included',
      [alarm('smoke', 0), alarm('smoke', 5)],
      [want('smoke', 0, 0), want('smoke', 5, 5)],
      [],
    ],
    ['a missing alarm', [], [want('smoke', 0, 1)], ['missing']],
    ['an unexpected alarm', [alarm('smoke', 0)], [], ['unexpected']],
    [
      'one too many of the same',
      [alarm('smoke', 0), alarm('smoke', 1)],
      [want('smoke', 0, 5)],
      ['unexpected'],
    ],
    ['late', [alarm('smoke', 10)], [want('smoke', 0, 5)], ['outside_window']],
    ['early', [alarm('smoke', -3)], [want('smoke', 0, 5)], ['outside_window']],
    [
      'another state is another alarm',
      [alarm('smoke', 0, { state: 'cleared' })],
      [want('smoke', 0, 1)],
      ['missing', 'unexpected'],
    ],
    [
      'another device is another alarm',
      [alarm('smoke', 0, { deviceId: 'x' })],
      [want('smoke', 0, 1, { deviceId: 'y' })],
      ['missing', 'unexpected'],
    ],
    ['any device when none is expected', [alarm('smoke', 0, { deviceId: 'x' })], [want('smoke', 0, 1)], []],
    [
      'a wrong severity',
      [alarm('heart_rate_high', 0, { severity: 'warning' })],
      [want('heart_rate_high', 0, 1, { severity: 'critical' })],
      ['wrong_severity'],
    ],
    [
      'severity not judged unless given',
      [alarm('heart_rate_high', 0, { severity: 'critical' })],
      [want('heart_rate_high', 0, 1)],
      [],
    ],
  ])('%s', (_what, actual, expected, differences) => {
    const c = compareAlarms(actual, expected);
    expect(kinds(c).sort()).toEqual([...differences].sort());
    expect(c.ok).toBe(differences.length === 0);
  });

  it('pairs overlapping windows so that both are served', () => {
    // A greedy "first window takes the first alarm" would give the 3 s alarm to the wide window and
    // leave the narrow one empty.
    const c = compareAlarms(
      [alarm('smoke', 3), alarm('smoke', 8)],
      [want('smoke', 0, 10), want('smoke', 2, 4)],
    );
    expect(c.ok).toBe(true);
    expect(c.matched.map((m) => [m.actual.atMs, m.expected.toMs])).toEqual([
      [s(3), s(4)],
      [s(8), s(10)],
    ]);
  });

  it('pairs an alarm outside its window with the nearest expectation and says by how much', () => {
    const c = compareAlarms([alarm('smoke', 70)], [want('smoke', 0, 10), want('smoke', 60, 65)]);
    const outside = c.differences.find((d) => d.kind === 'outside_window');
    expect(outside).toMatchObject({ kind: 'outside_window', offsetMs: 5_000, expected: { fromMs: s(60) } });
    expect(kinds(c).sort()).toEqual(['missing', 'outside_window']);
  });

  it('leaves ignored types out, and reports them apart', () => {
    const c = compareAlarms([alarm('device_offline', 0), alarm('smoke', 1)], [want('smoke', 0, 2)], {
      ignore: ['device_offline'],
    });
    expect(c.ok).toBe(true);
    expect(c.ignored.map((a) => a.type)).toEqual(['device_offline']);
  });

  it('lists differences in time order', () => {
    const c = compareAlarms([alarm('smoke', 50), alarm('gas', 10)], [want('water_leak', 30, 40)]);
    expect(c.differences.map((d) => (d.kind === 'missing' ? d.expected.type : d.actual.type))).toEqual([
      'gas',
      'water_leak',
      'smoke',
    ]);
  });

  it('formats each difference with local times', () => {
    const c = compareAlarms(
      [
        alarm('smoke', 10, { deviceId: 'kitchen' }),
        alarm('gas', 0, { severity: 'critical' }),
        alarm('fall_suspected', 3, { severity: 'warning' }),
      ],
      [
        want('smoke', 0, 5, { deviceId: 'kitchen' }),
        want('water_leak', 0, 60),
        want('fall_suspected', 0, 5, { severity: 'critical' }),
      ],
    );
    expect(formatDifferences(c, 'Asia/Shanghai')).toEqual([
      'missing     water_leak raised: expected 2026-11-24 02:00:00 … 02:01:00, none came',
      'unexpected  gas raised (front-door, critical) at 2026-11-24 02:00:00',
      'severity    fall_suspected raised (critical) at 2026-11-24 02:00:03 came as warning',
      'late        smoke raised (kitchen) at 2026-11-24 02:00:10 (+5s after the window 2026-11-24 02:00:00 … 02:00:05)',
    ]);
  });
});
