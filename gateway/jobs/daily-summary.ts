import { z } from 'zod';
import type { Clock, TimerHandle } from '../../common/clock.js';
import type { Counters } from '../../common/counters.js';
import { errorMessage } from '../../common/errors.js';
import {
  type DailyWindow,
  formatLocalDate,
  localDateTime,
  windowOccurrences,
} from '../../common/local-time.js';
import type { Logger } from '../../common/logger.js';
import type { SqliteDatabase } from '../../common/sqlite.js';
import type { TypedEmitter } from '../../common/typed-emitter.js';
import type { AlarmMessage, DailySummaryEvent } from '../../contract/index.js';
import type { DeviceConfig } from '../config/schema.js';
import type { AvailabilityChange, GatewayEvents } from '../devices/device-event.js';
import { DEVICE_KINDS } from '../devices/device-kinds.js';
import type { DAILY_SUMMARY_METRICS, Reading } from '../telemetry/reading.js';
import { nextCronFire } from './cron-expression.js';
import type { CronJobHandle, CronScheduler } from './cron-scheduler.js';

/** A bed sensor the summary follows, and how long its last report stays believable. */
export interface BedSensor {
  id: string;
  /**
   * After this long without any reading from the sensor its in/out-of-bed
   * state is unknown (not counted as either); its supervision limit
   * (MR60BHA1: 90 s, it reports every second; zigbee/native: 25 h).
   */
  offlineAfterMs: number;
}

/** The bed sensors of a home: devices with role `bed_radar`, with their kind's (or own) silence limit. */
export function bedSensorsOf(devices: readonly DeviceConfig[]): BedSensor[] {
  return devices
    .filter((d) => d.role === 'bed_radar')
    .map((d) => ({
      id: d.id,
      offlineAfterMs: (d.offlineAfterS ?? DEVICE_KINDS[d.kind].offlineAfterS) * 1000,
    }));
}

export interface DailySummaryOptions {
  gatewayId: string;
  bedId: string;
  /** The home's time zone (`timeZone`): the summary time and the night window are local. */
  timeZone: string;
  /** When to summarise; default `0 12 * * *`. The period is the time since the previous summary. */
  cron: string;
  /** `rules.nightWindow`: exits in it are night exits; time out of bed in it is "longest out of bed". */
  nightWindow: DailyWindow;
  bedSensors: readonly BedSensor[];
  /** How often running totals are saved when nothing notable happened; default 60 s. */
  checkpointIntervalMs?: number;
}

export interface DailySummaryDeps {
  db: SqliteDatabase;
  bus: TypedEmitter<GatewayEvents>;
  scheduler: CronScheduler;
  clock: Clock;
  logger: Logger;
  counters: Counters;
  /**
   * Receives each summary (one per bed sensor), e.g. to write
   * {@link summaryToReadings} to InfluxDB and to queue the cloud event. Called
   * inside the SQLite transaction that starts the next period, so an
   * `EventOutbox.enqueue` on the same database commits atomically with it.
   * It should not throw; if it does, the error is logged and counted
   * (`daily_summary_failures`) and the period still rolls over.
   */
  onSummary: (summary: DailySummaryEvent) => void;
}

const accumulatorSchema = z.object({
  /** The sensor's last in/out-of-bed report, null while unknown. */
  state: z.enum(['in', 'out']).nullable(),
  /** Time is accounted up to here. */
  markMs: z.number(),
  /** The state is believable until here (last reading + the sensor's silence limit). */
  knownUntilMs: z.number(),
  /** Start of the current continuous, known out-of-bed stretch. */
  outSinceMs: z.number().nullable(),
  inBedMs: z.number(),
  observedMs: z.number(),
  bedExits: z.number(),
  nightBedExits: z.number(),
  longestOutNightMs: z.number(),
  heartRateSum: z.number(),
  heartRateCount: z.number(),
  breathRateSum: z.number(),
  breathRateCount: z.number(),
});
type Accumulator = z.infer<typeof accumulatorSchema>;

const stateSchema = z.object({
  v: z.literal(1),
  periodStartMs: z.number(),
  alarms: z.record(z.string(), z.number()),
  sensors: z.record(z.string(), accumulatorSchema),
});
type SummaryState = z.infer<typeof stateSchema>;

/** SQLite table holding the running totals (one row, JSON), created by this component. */
export const DAILY_SUMMARY_TABLE = 'daily_summary_state';

function freshAccumulator(nowMs: number): Accumulator {
  return {
    state: null,
    markMs: nowMs,
    knownUntilMs: nowMs,
    outSinceMs: null,
    inBedMs: 0,
    observedMs: 0,
    bedExits: 0,
    nightBedExits: 0,
    longestOutNightMs: 0,
    heartRateSum: 0,
    heartRateCount: 0,
    breathRateSum: 0,
    breathRateCount: 0,
  };
}

function resetTotals(acc: Accumulator): void {
  Object.assign(acc, {
    inBedMs: 0,
    observedMs: 0,
    bedExits: 0,
    nightBedExits: 0,
    longestOutNightMs: 0,
    heartRateSum: 0,
    heartRateCount: 0,
    breathRateSum: 0,
    breathRateCount: 0,
  });
}

/** A restart quicker than this keeps the last bed state; after a longer one it is unknown until reported. */
const RESUME_WITHIN_MS = 5 * 60_000;

const minutes = (ms: number) => Math.round(ms / 60_000);
const oneDecimal = (x: number) => Math.round(x * 10) / 10;

/**
 * The daily summary of each bed sensor: time in bed, bed exits, the longest
 * time out of bed at night, average heart and breath rate in bed, and the
 * alarms raised, sent at the summary time (default 12:00 local).
 *
 * **The day.** A summary covers the time since the previous one: with the
 * default noon schedule, the 24 h from yesterday 12:00 to today 12:00 local,
 * so one night (22:00–06:00) is never split at midnight. `day` is the local
 * date of the period's end (the morning the night ended). The first period
 * after installation starts when the gateway first starts.
 *
 * **The numbers.** In/out of bed comes from the sensor's `in_bed` readings;
 * a state is believed until the sensor has been silent for its supervision
 * limit, after which the time is unknown (`observedMin` says how much was
 * known). A bed exit is an in-bed → out-of-bed change (`nightBedExits`: those
 * starting in `rules.nightWindow`). `longestOutOfBedMin` is the longest
 * continuous known out-of-bed stretch inside the night window, when the
 * person is expected in bed (a 23:30–01:00 walk counts 90 min; getting up at
 * 05:30 for good counts 30 min; not in bed until 23:00 counts 60 min).
 * Vitals average the heart- and breath-rate readings above zero taken while
 * in bed. Alarms count `raised` alarms of the whole bed by type.
 *
 * **Restarts.** The running totals live in SQLite ({@link DAILY_SUMMARY_TABLE}):
 * saved at once on every bed change and alarm, and every minute otherwise.
 * After a restart within 5 min the last bed state is kept (the restart itself
 * counts as unknown time); after a longer one the state is unknown until the
 * sensor reports it again. A summary time missed while the gateway was off is
 * caught up at start (that period ends at the missed time); further missed
 * days, with nothing observed, are skipped.
 */
export class DailySummary {
  private state: SummaryState | null = null;
  private offs: (() => void)[] = [];
  private job: CronJobHandle | null = null;
  private checkpoint: TimerHandle | null = null;
  private catchUpTimer: TimerHandle | null = null;
  private dirty = false;
  private readonly sensors: Map<string, BedSensor>;

  constructor(
    private readonly deps: DailySummaryDeps,
    private readonly options: DailySummaryOptions,
  ) {
    this.sensors = new Map(options.bedSensors.map((s) => [s.id, s]));
  }

  start(): void {
    const { bus, clock, scheduler, logger } = this.deps;
    if (this.sensors.size === 0) {
      logger.warn('no bed sensor (role bed_radar) configured: no daily summary');
      return;
    }
    this.state = this.load();
    this.offs.push(
      bus.on('reading', (r) => this.onReading(r)),
      bus.on('availability', (a) => this.onAvailability(a)),
      bus.on('alarmCommitted', (a) => this.onAlarm(a)),
    );
    this.job = scheduler.schedule('daily-summary', this.options.cron, this.options.timeZone, (atMs) =>
      this.summarise(atMs),
    );
    this.checkpoint = clock.setInterval(() => {
      if (this.dirty) this.save();
    }, this.options.checkpointIntervalMs ?? 60_000);
    // After start, so the sinks the summary goes to are running too.
    this.catchUpTimer = clock.setTimeout(() => {
      this.catchUpTimer = null;
      this.catchUp();
    }, 0);
  }

  stop(): void {
    for (const off of this.offs) off();
    this.offs = [];
    this.job?.cancel();
    this.job = null;
    this.checkpoint?.cancel();
    this.checkpoint = null;
    this.catchUpTimer?.cancel();
    this.catchUpTimer = null;
    const state = this.state;
    if (!state) return;
    const now = this.deps.clock.now();
    for (const acc of Object.values(state.sensors)) this.accrue(acc, now, state.periodStartMs);
    this.save();
    this.state = null;
  }

  /** The summaries of the period so far, as they would be sent now (status output, tests). */
  preview(atMs = this.deps.clock.now()): DailySummaryEvent[] {
    if (!this.state) return [];
    const copy = structuredClone(this.state);
    return Object.entries(copy.sensors).map(([id, acc]) => this.close(copy, id, acc, atMs));
  }

  private onReading(r: Reading): void {
    const state = this.state;
    const sensor = this.sensors.get(r.deviceId);
    if (!state || !sensor) return;
    const acc = state.sensors[r.deviceId];
    if (!acc) return;
    const t = Math.max(r.atMs, acc.markMs);
    this.accrue(acc, t, state.periodStartMs);
    acc.knownUntilMs = Math.max(acc.knownUntilMs, t + sensor.offlineAfterMs);
    this.dirty = true;
    if (r.metric === 'in_bed' && typeof r.value === 'boolean') {
      this.onBedState(acc, r.value ? 'in' : 'out', t, state.periodStartMs);
    } else if (acc.state === 'in' && typeof r.value === 'number' && r.value > 0) {
      if (r.metric === 'heart_rate') {
        acc.heartRateSum += r.value;
        acc.heartRateCount++;
      } else if (r.metric === 'breath_rate') {
        acc.breathRateSum += r.value;
        acc.breathRateCount++;
      }
    }
  }

  private onBedState(acc: Accumulator, next: 'in' | 'out', t: number, periodStartMs: number): void {
    const before = acc.state;
    if (before === next) return;
    if (before === 'in' && next === 'out') {
      acc.bedExits++;
      if (this.inNight(t)) acc.nightBedExits++;
    }
    if (next === 'out') acc.outSinceMs = t;
    else this.closeOutOfBed(acc, t, periodStartMs);
    acc.state = next;
    this.save();
  }

  /** A zigbee or native sensor that says it is offline: its state is unknown from now on. */
  private onAvailability(a: AvailabilityChange): void {
    const state = this.state;
    const acc = state?.sensors[a.deviceId];
    if (!state || !acc || a.online) return;
    const t = Math.max(a.atMs, acc.markMs);
    this.accrue(acc, t, state.periodStartMs);
    acc.knownUntilMs = Math.min(acc.knownUntilMs, t);
    this.save();
  }

  private onAlarm(alarm: AlarmMessage): void {
    const state = this.state;
    if (!state || alarm.state !== 'raised') return;
    state.alarms[alarm.type] = (state.alarms[alarm.type] ?? 0) + 1;
    this.save();
  }

  /**
   * Account the time from the mark to `t` to the current state, as far as the
   * state is known; past that the sensor was silent: the state becomes unknown
   * and an out-of-bed stretch ends where knowledge ended.
   */
  private accrue(acc: Accumulator, t: number, periodStartMs: number): void {
    if (t <= acc.markMs) return;
    if (acc.state !== null) {
      const end = Math.min(t, acc.knownUntilMs);
      if (end > acc.markMs) {
        acc.observedMs += end - acc.markMs;
        if (acc.state === 'in') acc.inBedMs += end - acc.markMs;
      }
      if (t > acc.knownUntilMs) {
        if (acc.state === 'out') this.closeOutOfBed(acc, acc.knownUntilMs, periodStartMs);
        acc.state = null;
      }
    }
    acc.markMs = t;
  }

  private closeOutOfBed(acc: Accumulator, endMs: number, periodStartMs: number): void {
    if (acc.outSinceMs !== null) {
      acc.longestOutNightMs = Math.max(
        acc.longestOutNightMs,
        this.longestNightPart(Math.max(acc.outSinceMs, periodStartMs), endMs),
      );
    }
    acc.outSinceMs = null;
  }

  private longestNightPart(fromMs: number, toMs: number): number {
    let longest = 0;
    for (const [a, b] of windowOccurrences(fromMs, toMs, this.options.nightWindow, this.options.timeZone)) {
      longest = Math.max(longest, b - a);
    }
    return longest;
  }

  private inNight(t: number): boolean {
    return windowOccurrences(t, t + 1, this.options.nightWindow, this.options.timeZone).length > 0;
  }

  /** End the period at `endMs` for one sensor: the summary, with the accumulator moved to the new period. */
  private close(state: SummaryState, deviceId: string, acc: Accumulator, endMs: number): DailySummaryEvent {
    this.accrue(acc, endMs, state.periodStartMs);
    let longestOutNightMs = acc.longestOutNightMs;
    if (acc.state === 'out' && acc.outSinceMs !== null) {
      // Still out at the end of the period: the stretch so far counts here, the rest in the next period.
      longestOutNightMs = Math.max(
        longestOutNightMs,
        this.longestNightPart(Math.max(acc.outSinceMs, state.periodStartMs), endMs),
      );
    }
    const { gatewayId, bedId, timeZone } = this.options;
    const alarms = Object.fromEntries(Object.entries(state.alarms).filter(([, n]) => n > 0));
    const summary: DailySummaryEvent = {
      v: 1,
      kind: 'daily_summary',
      gatewayId,
      bedId,
      deviceId,
      at: new Date(this.deps.clock.now()).toISOString(),
      day: formatLocalDate(localDateTime(endMs - 1, timeZone)),
      timeZone,
      period: { from: new Date(state.periodStartMs).toISOString(), to: new Date(endMs).toISOString() },
      timeInBedMin: minutes(acc.inBedMs),
      observedMin: minutes(acc.observedMs),
      bedExits: acc.bedExits,
      nightBedExits: acc.nightBedExits,
      longestOutOfBedMin: minutes(longestOutNightMs),
      ...(acc.heartRateCount > 0 ? { heartRateAvg: oneDecimal(acc.heartRateSum / acc.heartRateCount) } : {}),
      ...(acc.breathRateCount > 0
        ? { breathRateAvg: oneDecimal(acc.breathRateSum / acc.breathRateCount) }
        : {}),
      alarms: alarms as DailySummaryEvent['alarms'],
    };
    resetTotals(acc);
    return summary;
  }

  /** The scheduled job: close the period at its scheduled time and start the next. */
  private summarise(scheduledAtMs: number): void {
    const state = this.state;
    if (!state || scheduledAtMs <= state.periodStartMs) return;
    this.rollOver(state, scheduledAtMs);
  }

  private rollOver(state: SummaryState, endMs: number): void {
    const summaries = Object.entries(state.sensors).map(([id, acc]) => this.close(state, id, acc, endMs));
    state.alarms = {};
    state.periodStartMs = endMs;
    const { db, onSummary, counters, logger } = this.deps;
    db.transaction(() => {
      this.save();
      for (const summary of summaries) {
        try {
          onSummary(summary);
          counters.inc('daily_summaries');
        } catch (err) {
          counters.inc('daily_summary_failures');
          logger.error(
            { deviceId: summary.deviceId, err: errorMessage(err) },
            'daily summary could not be handed on',
          );
        }
      }
    })();
    for (const s of summaries) {
      logger.info(
        {
          deviceId: s.deviceId,
          day: s.day,
          timeInBedMin: s.timeInBedMin,
          bedExits: s.bedExits,
          longestOutOfBedMin: s.longestOutOfBedMin,
          alarms: s.alarms,
        },
        'daily summary',
      );
    }
  }

  /** A summary time that passed while the gateway was off is sent now; later missed ones are skipped. */
  private catchUp(): void {
    const state = this.state;
    if (!state) return;
    const { cron, timeZone } = this.options;
    const now = this.deps.clock.now();
    const missed = nextCronFire(cron, timeZone, state.periodStartMs);
    if (missed > now) return;
    this.deps.logger.info(
      { missedAt: new Date(missed).toISOString() },
      'sending a daily summary missed while off',
    );
    this.rollOver(state, missed);
    let latest = missed;
    for (let i = 0; i < 10_000; i++) {
      const next = nextCronFire(cron, timeZone, latest);
      if (next > now) break;
      latest = next;
    }
    if (latest === missed) return;
    // Whole periods with the gateway off: nothing was observed. The current period starts at its
    // scheduled start.
    for (const acc of Object.values(state.sensors)) {
      this.accrue(acc, latest, state.periodStartMs);
      resetTotals(acc);
    }
    state.periodStartMs = latest;
    this.save();
  }

  private load(): SummaryState {
    const { db, clock, logger } = this.deps;
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${DAILY_SUMMARY_TABLE} (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL, updated_at_ms INTEGER NOT NULL)`,
    );
    const now = clock.now();
    const row = db.prepare(`SELECT state FROM ${DAILY_SUMMARY_TABLE} WHERE id = 1`).get() as
      | { state: string }
      | undefined;
    let state: SummaryState | null = null;
    if (row) {
      try {
        state = stateSchema.parse(JSON.parse(row.state));
      } catch (err) {
        logger.error(
          { err: errorMessage(err) },
          'saved daily-summary totals unreadable; starting a new period',
        );
      }
    }
    state ??= { v: 1, periodStartMs: now, alarms: {}, sensors: {} };
    // Follow the configuration: new sensors start now, removed ones are forgotten.
    const sensors: SummaryState['sensors'] = {};
    for (const [id, sensor] of this.sensors) {
      const acc = state.sensors[id] ?? freshAccumulator(now);
      sensors[id] = acc;
      if (acc.state !== null && now - acc.markMs <= RESUME_WITHIN_MS) {
        // A quick restart: keep the bed state rather than wait for the sensor to repeat it (the
        // MR60BHA1 does every 10 min, a zigbee mat only on change). What was known before the
        // restart counts; the restart itself does not.
        this.accrue(acc, Math.min(now, acc.knownUntilMs), state.periodStartMs);
        acc.markMs = Math.max(acc.markMs, now);
        acc.knownUntilMs = Math.max(acc.knownUntilMs, now + sensor.offlineAfterMs);
      }
    }
    state.sensors = sensors;
    return state;
  }

  private save(): void {
    const state = this.state;
    if (!state) return;
    this.deps.db
      .prepare(
        `INSERT INTO ${DAILY_SUMMARY_TABLE} (id, state, updated_at_ms) VALUES (1, ?, ?)
         ON CONFLICT(id) DO UPDATE SET state = excluded.state, updated_at_ms = excluded.updated_at_ms`,
      )
      .run(JSON.stringify(state), this.deps.clock.now());
    this.dirty = false;
  }
}

export type DailySummaryMetric = keyof typeof DAILY_SUMMARY_METRICS;

/** A reading of a daily summary (the shape of `Reading`, with a summary metric). */
export interface DailySummaryReading {
  deviceId: string;
  metric: DailySummaryMetric;
  value: number;
  atMs: number;
  tags?: Readonly<Record<string, string>>;
}

/**
 * A summary as readings for InfluxDB. Averages are absent when there were no
 * vitals in bed; `daily_alarms` has one point per alarm type raised.
 */
export function summaryToReadings(
  summary: DailySummaryEvent,
  bedDeviceId: string = summary.deviceId,
): DailySummaryReading[] {
  const atMs = Date.parse(summary.period.to);
  const r = (
    metric: DailySummaryMetric,
    value: number,
    tags?: Record<string, string>,
  ): DailySummaryReading => ({
    deviceId: bedDeviceId,
    metric,
    value,
    atMs,
    ...(tags ? { tags } : {}),
  });
  const alarms = Object.entries(summary.alarms) as [string, number][];
  return [
    r('daily_time_in_bed', summary.timeInBedMin),
    r('daily_observed', summary.observedMin),
    r('daily_bed_exits', summary.bedExits),
    r('daily_night_bed_exits', summary.nightBedExits),
    r('daily_longest_out_of_bed', summary.longestOutOfBedMin),
    ...(summary.heartRateAvg !== undefined ? [r('daily_heart_rate_avg', summary.heartRateAvg)] : []),
    ...(summary.breathRateAvg !== undefined ? [r('daily_breath_rate_avg', summary.breathRateAvg)] : []),
    r(
      'daily_alarms_total',
      alarms.reduce((sum, [, n]) => sum + n, 0),
    ),
    ...alarms.map(([type, n]) => r('daily_alarms', n, { type })),
  ];
}
