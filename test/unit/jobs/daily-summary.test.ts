import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import { Counters } from '../../../common/counters.js';
import { silentLogger } from '../../../common/logger.js';
import { openSqlite, type SqliteDatabase } from '../../../common/sqlite.js';
import { TypedEmitter } from '../../../common/typed-emitter.js';
import {
  type AlarmMessage,
  type DailySummaryEvent,
  type GatewayEventMessage,
  gatewayEventSchema,
} from '../../../contract/index.js';
import type { DeviceConfig } from '../../../gateway/config/schema.js';
import type { GatewayEvents } from '../../../gateway/devices/device-event.js';
import { ClockCronScheduler } from '../../../gateway/jobs/cron-scheduler.js';
import {
  bedSensorsOf,
  DAILY_SUMMARY_TABLE,
  DailySummary,
  summaryToReadings,
} from '../../../gateway/jobs/daily-summary.js';
import { DAILY_SUMMARY_METRICS, type MetricName } from '../../../gateway/telemetry/reading.js';

const ZONE = 'Asia/Shanghai';
const MIN = 60_000;
/** Local time in Shanghai on day `d` after Monday 2026-01-05. */
const local = (d: number, hhmm: string) =>
  Date.parse(`2026-01-${String(5 + d).padStart(2, '0')}T${hhmm}:00+08:00`);

/** A home: a clock, a bus, a summary; a restart replaces the summary (a crash also the clock and bus). */
class Home {
  clock: ManualClock;
  bus = new TypedEmitter<GatewayEvents>();
  scheduler: ClockCronScheduler;
  summary: DailySummary;
  readonly sent: DailySummaryEvent[] = [];
  readonly counters = new Counters();
  inBed = false;
  silent = false;
  private alarmSeq = 0;

  constructor(
    readonly db: SqliteDatabase,
    startMs: number,
  ) {
    this.clock = new ManualClock(startMs);
    this.scheduler = new ClockCronScheduler(this.clock, silentLogger(), this.counters);
    this.summary = this.create();
  }

  create(): DailySummary {
    return new DailySummary(
      {
        db: this.db,
        bus: this.bus,
        scheduler: this.scheduler,
        clock: this.clock,
        logger: silentLogger(),
        counters: this.counters,
        onSummary: (s) => {
          this.sent.push(s);
        },
      },
      {
        gatewayId: 'gw-test',
        bedId: 'bed-1',
        timeZone: ZONE,
        cron: '0 12 * * *',
        nightWindow: { start: '22:00', end: '06:00' },
        bedSensors: [{ id: 'bed-radar', offlineAfterMs: 2 * MIN }],
      },
    );
  }

  /** Clean restart: stop, then a new instance on the same database. */
  restart(): void {
    this.summary.stop();
    this.summary = this.create();
    this.summary.start();
    this.clock.advance(0);
  }

  /** Crash: the old instance is abandoned mid-flight (its clock never moves again, its bus is dead). */
  crashAndRestart(): void {
    this.clock = new ManualClock(this.clock.now());
    this.bus = new TypedEmitter<GatewayEvents>();
    this.scheduler = new ClockCronScheduler(this.clock, silentLogger(), this.counters);
    this.summary = this.create();
    this.summary.start();
    this.clock.advance(0);
  }

  reading(metric: MetricName, value: number | boolean): void {
    this.bus.emit('reading', { deviceId: 'bed-radar', metric, value, atMs: this.clock.now() });
  }

  /** What the MR60BHA1 sends each minute (really each second): movement, and vitals while in bed. */
  private tick(minute: number): void {
    this.reading('body_movement', 10);
    if (this.inBed) {
      this.reading('heart_rate', 64);
      this.reading('breath_rate', 15);
    }
    // The module repeats its bed state every 10 min.
    if (minute % 10 === 0) this.reading('in_bed', this.inBed);
  }

  until(targetMs: number): void {
    while (this.clock.now() < targetMs) {
      this.clock.advance(Math.min(MIN, targetMs - this.clock.now()));
      if (!this.silent) this.tick(Math.round(this.clock.now() / MIN));
    }
  }

  bed(inBed: boolean): void {
    this.inBed = inBed;
    this.reading('in_bed', inBed);
  }

  alarm(type: AlarmMessage['type'], state: AlarmMessage['state'] = 'raised'): void {
    this.alarmSeq++;
    this.bus.emit('alarmCommitted', {
      v: 1,
      id: `0190a0b0-0000-7000-8000-${String(this.alarmSeq).padStart(12, '0')}`,
      gatewayId: 'gw-test',
      bedId: 'bed-1',
      seq: this.alarmSeq,
      type,
      severity: 'critical',
      state,
      at: new Date(this.clock.now()).toISOString(),
      evidence: [],
    });
  }
}

/**
 * One scripted day, 12:00 to 12:00 local: a nap 13:00-14:00; in bed 22:30; up 01:00-01:45 and
 * 03:00-03:10; up for good 06:30; alarms at 08:00; the radar silent 09:00-10:00.
 * `interrupt` is called at 02:00.
 */
function scriptedDay(home: Home, interrupt: () => void = () => {}): void {
  home.bed(false);
  home.reading('heart_rate', 90); // out of bed: not a vital sign of sleep
  home.until(local(0, '13:00'));
  home.bed(true);
  home.until(local(0, '14:00'));
  home.bed(false);
  home.until(local(0, '22:30'));
  home.bed(true);
  home.reading('heart_rate', 0); // no measurement: ignored
  home.until(local(1, '01:00'));
  home.bed(false);
  home.until(local(1, '01:45'));
  home.bed(true);
  home.until(local(1, '02:00'));
  interrupt();
  home.until(local(1, '03:00'));
  home.bed(false);
  home.until(local(1, '03:10'));
  home.bed(true);
  home.until(local(1, '06:30'));
  home.bed(false);
  home.until(local(1, '08:00'));
  home.alarm('sos_button');
  home.alarm('sos_button');
  home.alarm('device_offline');
  home.alarm('device_offline', 'cleared');
  home.until(local(1, '09:00'));
  home.silent = true;
  home.until(local(1, '10:00'));
  home.silent = false;
  home.bed(false);
  home.until(local(1, '12:00'));
}

const EXPECTED = {
  v: 1,
  kind: 'daily_summary',
  gatewayId: 'gw-test',
  bedId: 'bed-1',
  deviceId: 'bed-radar',
  day: '2026-01-06',
  timeZone: ZONE,
  period: { from: '2026-01-05T04:00:00.000Z', to: '2026-01-06T04:00:00.000Z' },
  // 60 (nap) + 150 (22:30-01:00) + 75 (01:45-03:00) + 200 (03:10-06:30)
  timeInBedMin: 485,
  // the radar was silent 09:00-10:00; its last report is believed for 2 min
  observedMin: 1440 - 58,
  bedExits: 4,
  nightBedExits: 2,
  // 22:00-22:30 (not yet in bed), 01:00-01:45, 03:00-03:10; after 06:00 is not night
  longestOutOfBedMin: 45,
  heartRateAvg: 64,
  breathRateAvg: 15,
  alarms: { sos_button: 2, device_offline: 1 },
};

function freshHome(): Home {
  const home = new Home(openSqlite(':memory:', []), local(0, '12:00'));
  home.summary.start();
  home.clock.advance(0);
  return home;
}

describe('DailySummary', () => {
  it('summarises a scripted night exactly, at 12:00 local', () => {
    const home = freshHome();
    scriptedDay(home);
    expect(home.sent).toHaveLength(1);
    const [summary] = home.sent;
    expect(summary).toMatchObject(EXPECTED);
    expect(summary?.at).toBe('2026-01-06T04:00:00.000Z');
    expect(gatewayEventSchema.parse(summary)).toEqual(summary);
    expect(home.counters.get('daily_summaries')).toBe(1);
    // The next period starts empty, carrying only the bed state.
    home.until(local(2, '12:00'));
    expect(home.sent[1]).toMatchObject({
      period: { from: '2026-01-06T04:00:00.000Z', to: '2026-01-07T04:00:00.000Z' },
      timeInBedMin: 0,
      bedExits: 0,
      observedMin: 1440,
      alarms: {},
    });
    expect(home.sent[1]?.heartRateAvg).toBeUndefined();
    home.summary.stop();
    home.scheduler.stop();
    expect(home.clock.pendingTimers()).toBe(0);
    expect(home.bus.listenerCount()).toBe(0);
  });

  it('survives a restart in the middle of the night', () => {
    const home = freshHome();
    scriptedDay(home, () => home.restart());
    expect(home.sent).toEqual([expect.objectContaining(EXPECTED)]);
  });

  it('survives a crash (no orderly stop) between checkpoints', () => {
    const home = freshHome();
    scriptedDay(home, () => {
      home.clock.advance(30_000);
      home.crashAndRestart();
    });
    expect(home.sent).toEqual([expect.objectContaining(EXPECTED)]);
  });

  it('sends a summary missed while the gateway was off when it starts again', () => {
    const home = freshHome();
    home.bed(true);
    home.until(local(1, '06:00'));
    home.bed(false);
    home.until(local(1, '11:00'));
    home.summary.stop();
    home.scheduler.stop();
    // Off from 11:00 to 15:00 the next day: two summary times missed.
    home.clock.advance(28 * 60 * MIN);
    home.scheduler = new ClockCronScheduler(home.clock, silentLogger(), home.counters);
    home.summary = home.create();
    home.summary.start();
    home.clock.advance(0);
    expect(home.sent).toHaveLength(1);
    expect(home.sent[0]).toMatchObject({
      period: { from: '2026-01-05T04:00:00.000Z', to: '2026-01-06T04:00:00.000Z' },
      timeInBedMin: 18 * 60,
      bedExits: 1,
      // known until 11:00, and the last report is believed for 2 more minutes
      observedMin: 23 * 60 + 2,
    });
    // The current period starts at the last missed time (day 2, 12:00), not at the first.
    home.until(local(3, '12:00'));
    expect(home.sent).toHaveLength(2);
    expect(home.sent[1]?.period).toEqual({
      from: '2026-01-07T04:00:00.000Z',
      to: '2026-01-08T04:00:00.000Z',
    });
    home.summary.stop();
  });

  it('keeps its totals in its own table and previews the period so far', () => {
    const home = freshHome();
    home.bed(true);
    home.until(local(0, '14:00'));
    const [preview] = home.summary.preview();
    expect(preview).toMatchObject({ timeInBedMin: 120, bedExits: 0, heartRateAvg: 64 });
    home.summary.stop();
    const row = home.db.prepare(`SELECT state FROM ${DAILY_SUMMARY_TABLE}`).get() as { state: string };
    expect(JSON.parse(row.state)).toMatchObject({ v: 1, sensors: { 'bed-radar': { state: 'in' } } });
  });

  it('does nothing without a bed sensor', () => {
    const db = openSqlite(':memory:', []);
    const clock = new ManualClock(local(0, '12:00'));
    const bus = new TypedEmitter<GatewayEvents>();
    const scheduler = new ClockCronScheduler(clock, silentLogger(), new Counters());
    const sent: unknown[] = [];
    const summary = new DailySummary(
      {
        db,
        bus,
        scheduler,
        clock,
        logger: silentLogger(),
        counters: new Counters(),
        onSummary: (s) => sent.push(s),
      },
      {
        gatewayId: 'gw',
        bedId: 'bed',
        timeZone: ZONE,
        cron: '0 12 * * *',
        nightWindow: { start: '22:00', end: '06:00' },
        bedSensors: [],
      },
    );
    summary.start();
    clock.advance(2 * 24 * 60 * MIN);
    expect(sent).toEqual([]);
    expect(clock.pendingTimers()).toBe(0);
    summary.stop();
  });
});

describe('summaryToReadings and bedSensorsOf', () => {
  it('turns a summary into readings of the proposed metrics', () => {
    const summary = { ...EXPECTED, at: '2026-01-06T04:00:00.000Z' } as GatewayEventMessage;
    if (summary.kind !== 'daily_summary') throw new Error('unreachable');
    const readings = summaryToReadings(summary);
    const atMs = Date.parse('2026-01-06T04:00:00.000Z');
    expect(readings).toEqual([
      { deviceId: 'bed-radar', metric: 'daily_time_in_bed', value: 485, atMs },
      { deviceId: 'bed-radar', metric: 'daily_observed', value: 1382, atMs },
      { deviceId: 'bed-radar', metric: 'daily_bed_exits', value: 4, atMs },
      { deviceId: 'bed-radar', metric: 'daily_night_bed_exits', value: 2, atMs },
      { deviceId: 'bed-radar', metric: 'daily_longest_out_of_bed', value: 45, atMs },
      { deviceId: 'bed-radar', metric: 'daily_heart_rate_avg', value: 64, atMs },
      { deviceId: 'bed-radar', metric: 'daily_breath_rate_avg', value: 15, atMs },
      { deviceId: 'bed-radar', metric: 'daily_alarms_total', value: 3, atMs },
      { deviceId: 'bed-radar', metric: 'daily_alarms', value: 2, atMs, tags: { type: 'sos_button' } },
      { deviceId: 'bed-radar', metric: 'daily_alarms', value: 1, atMs, tags: { type: 'device_offline' } },
    ]);
    // Each value fits the field type the catalogue declares (an integer metric never gets a fraction).
    for (const r of readings) {
      expect(Number.isInteger(r.value) || DAILY_SUMMARY_METRICS[r.metric].type === 'float').toBe(true);
    }
    expect(summaryToReadings(summary, 'other')[0]?.deviceId).toBe('other');
  });

  it('finds the bed sensors and their silence limits in the device list', () => {
    const devices = [
      { id: 'bed-radar', kind: 'mr60bha1', role: 'bed_radar', link: 'radar' },
      { id: 'mat', kind: 'zigbee', role: 'bed_radar', address: 'mat', offlineAfterS: 3600 },
      { id: 'sos', kind: 'rf_button', role: 'sos_button', link: 'rf', address: 'EV1527:1:01' },
    ] as DeviceConfig[];
    expect(bedSensorsOf(devices)).toEqual([
      { id: 'bed-radar', offlineAfterMs: 90_000 },
      { id: 'mat', offlineAfterMs: 3_600_000 },
    ]);
  });
});
