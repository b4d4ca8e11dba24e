import type { Clock, TimerHandle } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';
import {
  type EncodableSeeedReport,
  encodeFrame,
  encodeReport,
  isQuery,
  type SeeedFrame,
  SeeedFramer,
} from '../../gateway/devices/protocols/seeed/index.js';
import type { ByteLink } from '../links/link.js';
import { type RandomFn, seededRandom } from '../random.js';

/** Sleep state as the module reports it (84 02); `none` out of bed. */
export type SleepState = 'deep' | 'light' | 'awake' | 'none';
/** Motion state (80 02): nobody, someone still, someone moving. */
export type Motion = 'none' | 'stationary' | 'active';
/** Breathing assessment (81 01); `none` while nothing is measured (out of bed, or during set-up). */
export type BreathStatus = 'normal' | 'too_fast' | 'too_slow' | 'none';

/** The person the radar is looking at, as the emulator's baseline. */
export interface Mr60bha1Vitals {
  /** Resting heart rate the reports vary around; default 68 /min. */
  heartRateBpm: number;
  /** Breathing rate the reports vary around; default 15 /min. */
  breathRatePerMin: number;
  /** Lying in bed; default true. Being in bed implies being present. */
  inBed: boolean;
  /** Someone in the room (in bed or not); default true. */
  present: boolean;
  /** Sleep state while in bed; default `awake`. Out of bed the module reports `none`. */
  sleepState: SleepState;
  /** Reported heart rates stay within baseline ± this; default 3 /min. */
  heartRateVariationBpm: number;
  /** Reported breath rates stay within baseline ± this; default 1 /min. */
  breathRateVariationPerMin: number;
}

/**
 * How often the module reports on its own. Defaults are the vendor's figures;
 * see {@link MR60BHA1_REPORT_INTERVALS}. Zero turns a periodic report off.
 */
export interface Mr60bha1ReportIntervals {
  heartRateMs: number;
  breathRateMs: number;
  bodyMovementMs: number;
  moduleHeartbeatMs: number;
  stateRefreshMs: number;
  /** After someone lies down (or the module starts), no vital signs are output for this long. */
  observationSetupMs: number;
}

/**
 * The MR60BHA1's own reporting schedule, from Seeed's documentation:
 *
 * - heart rate (85 02) every 3 s and breath rate (81 02) every 3 s — Seeed wiki
 *   "Radar_MR60BHA1", Arduino library section: "heart_rate — Reported every 3 seconds",
 *   "breath_rate — Reported every 3 seconds";
 * - body-movement parameter (80 03) every 1 s — same page: "This value is reported once per second";
 * - presence (80 01) and motion (80 02) when they change — same page: "Human movement
 *   information is reported only when changes occur";
 * - module heartbeat (01 01) every 60 s — MR60BHA1 radar interface protocol manual, terms:
 *   "Heartbeat packet … the default time interval is 1 minute";
 * - bed and sleep state (84 01 / 84 02) on change, and refreshed every 10 min — the wiki
 *   documents the sleep composite report (84 0C: presence, sleep state, averages) "every
 *   ten minutes"; the shared codec has no 84 0C, so the emulator repeats its parts
 *   (presence, motion, bed state, sleep state, breath status) at that period instead;
 * - no vital signs for 20 s after someone settles — wiki specification table,
 *   "Observation set-up time: typical 20 S".
 */
export const MR60BHA1_REPORT_INTERVALS: Readonly<Mr60bha1ReportIntervals> = Object.freeze({
  heartRateMs: 3_000,
  breathRateMs: 3_000,
  bodyMovementMs: 1_000,
  moduleHeartbeatMs: 60_000,
  stateRefreshMs: 600_000,
  observationSetupMs: 20_000,
});

/** Product model string the real module returns to `02 A1 0F`. */
export const MR60BHA1_DEFAULT_MODEL = 'MR60BHA1';
/**
 * Firmware string a shipped module returns to `02 A4 0F`; the Seeed wiki shows
 * `G60SM1SYv010009` as the reply of a module that supports UART upgrades.
 */
export const MR60BHA1_DEFAULT_FIRMWARE = 'G60SM1SYv010009';

export const DEFAULT_MR60BHA1_VITALS: Readonly<Mr60bha1Vitals> = Object.freeze({
  heartRateBpm: 68,
  breathRatePerMin: 15,
  inBed: true,
  present: true,
  sleepState: 'awake',
  heartRateVariationBpm: 3,
  breathRateVariationPerMin: 1,
});

/**
 * Breathing outside this range is reported as too slow / too fast. The vendor
 * does not publish its thresholds; these are the usual adult resting limits.
 */
const BREATH_SLOW_BELOW_PER_MIN = 10;
const BREATH_FAST_ABOVE_PER_MIN = 24;

export interface Mr60bha1Options {
  /** The device end of the serial link. */
  link: ByteLink;
  clock: Clock;
  /** Reply to the product-model query; default {@link MR60BHA1_DEFAULT_MODEL}. */
  model?: string;
  /** Reply to the firmware-version query; default {@link MR60BHA1_DEFAULT_FIRMWARE}. */
  firmware?: string;
  /** Baseline person; unset fields take {@link DEFAULT_MR60BHA1_VITALS}. */
  vitals?: Partial<Mr60bha1Vitals>;
  /** Reporting periods; unset fields take {@link MR60BHA1_REPORT_INTERVALS}. */
  intervals?: Partial<Mr60bha1ReportIntervals>;
  /** Uniform [0, 1) source for the variation of vitals; default a PRNG seeded with 1. */
  random?: RandomFn;
  logger?: Logger;
}

/** What the emulator is currently telling the host, for the control API. */
export interface Mr60bha1State {
  running: boolean;
  model: string;
  firmware: string;
  present: boolean;
  inBed: boolean;
  motion: Motion;
  sleepState: SleepState;
  breathStatus: BreathStatus;
  /** True while vital signs are being output (in bed and past the observation set-up time). */
  vitalsValid: boolean;
  heartRateBpm: number;
  breathRatePerMin: number;
  lastHeartRateBpm: number | null;
  lastBreathRatePerMin: number | null;
  framesSent: number;
}

interface Observable {
  present: boolean;
  motion: Motion;
  bedState: 'in_bed' | 'out_of_bed';
  sleepState: SleepState;
  breathStatus: BreathStatus;
}

/**
 * Emulates a Seeed MR60BHA1 60 GHz breathing-and-heartbeat radar on a byte
 * link, writing the vendor's frames (encoded by the shared Seeed codec).
 *
 * Reports on its own at the module's documented rates (see
 * {@link MR60BHA1_REPORT_INTERVALS}): heart rate and breath rate every 3 s,
 * body movement every 1 s, a module heartbeat every 60 s, presence / motion /
 * bed state / sleep state / breath status at once when they change and again
 * every 10 min. Answers the host's product-model (`02 A1 0F`) and
 * firmware-version (`02 A4 0F`) queries with string replies.
 *
 * Out of bed it sends no heart-rate or breath-rate frames at all (breath
 * status goes to `none`): the module stops outputting vital signs when it has
 * no chest to measure, rather than sending zeros. After someone lies down it
 * waits the observation set-up time (20 s) before the first vital sign.
 *
 * Reported vitals wander (a bounded random walk driven by the injected
 * `random`) within baseline ± the configured variation. The vendor caps heart
 * rate at 100 and breathing at 25; the emulator does not, so scenarios can
 * drive the gateway's high-rate rules.
 */
export class Mr60bha1Emulator {
  private timers: TimerHandle[] = [];
  private framer: SeeedFramer | undefined;
  private running = false;
  private readonly vitals: Mr60bha1Vitals;
  private readonly intervals: Mr60bha1ReportIntervals;
  private readonly random: RandomFn;
  private heartOffset = 0;
  private breathOffset = 0;
  private lastHeartRateBpm: number | null = null;
  private lastBreathRatePerMin: number | null = null;
  /** Clock time from which vital signs may be output (end of the observation set-up). */
  private vitalsFromMs = 0;
  private setupTimer: TimerHandle | undefined;
  private framesSent = 0;
  private readonly handleData = (chunk: Uint8Array): void => this.onHostBytes(chunk);

  constructor(private readonly options: Mr60bha1Options) {
    this.vitals = { ...DEFAULT_MR60BHA1_VITALS, ...definedOnly(options.vitals) };
    this.intervals = { ...MR60BHA1_REPORT_INTERVALS, ...definedOnly(options.intervals) };
    this.random = options.random ?? seededRandom(1);
  }

  get model(): string {
    return this.options.model ?? MR60BHA1_DEFAULT_MODEL;
  }

  get firmware(): string {
    return this.options.firmware ?? MR60BHA1_DEFAULT_FIRMWARE;
  }

  /** Begin listening to the host and reporting: the current state at once, then on schedule. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.framer = new SeeedFramer();
    this.options.link.onData(this.handleData);
    this.beginObservation();
    this.sendObservable(this.observable(), null);

    const { clock } = this.options;
    const every = (ms: number, fn: () => void): void => {
      if (ms > 0) this.timers.push(clock.setInterval(fn, ms));
    };
    every(this.intervals.heartRateMs, () => this.reportHeartRate());
    every(this.intervals.breathRateMs, () => this.reportBreathRate());
    every(this.intervals.bodyMovementMs, () => this.reportBodyMovement());
    every(this.intervals.moduleHeartbeatMs, () => this.send({ type: 'heartbeat' }));
    every(this.intervals.stateRefreshMs, () => this.sendObservable(this.observable(), null));
    this.options.logger?.debug({ intervals: this.intervals }, 'mr60bha1 emulator started');
  }

  /** Cancel every timer and stop listening to the host. Idempotent. */
  stop(): void {
    for (const t of this.timers) t.cancel();
    this.timers = [];
    this.setupTimer?.cancel();
    this.setupTimer = undefined;
    if (this.running) this.options.link.offData?.(this.handleData);
    this.running = false;
    this.framer = undefined;
  }

  /** Lie down (true) or get up (false). Lying down implies presence; changes are reported at once. */
  setInBed(inBed: boolean): void {
    this.change(() => {
      if (inBed && !this.vitals.inBed) this.beginObservation();
      this.vitals.inBed = inBed;
      if (inBed) this.vitals.present = true;
    });
  }

  /** Someone in the room or not. Leaving the room also means leaving the bed. */
  setPresent(present: boolean): void {
    this.change(() => {
      this.vitals.present = present;
      if (!present) this.vitals.inBed = false;
    });
  }

  /** New heart-rate baseline; the module reports it on its next 3 s tick, not at once. */
  setHeartRate(bpm: number): void {
    this.vitals.heartRateBpm = clampByte(bpm);
    this.heartOffset = 0;
  }

  /** New breath-rate baseline; reported on the next tick. Breath status follows at once if it changes. */
  setBreathRate(perMin: number): void {
    this.change(() => {
      this.vitals.breathRatePerMin = clampByte(perMin);
      this.breathOffset = 0;
    });
  }

  /** Sleep state while in bed (out of bed the module reports `none` regardless). */
  setSleepState(state: SleepState): void {
    this.change(() => {
      this.vitals.sleepState = state;
    });
  }

  /** A snapshot for the control API and tests. */
  state(): Mr60bha1State {
    const o = this.observable();
    return {
      running: this.running,
      model: this.model,
      firmware: this.firmware,
      present: o.present,
      inBed: this.vitals.inBed,
      motion: o.motion,
      sleepState: o.sleepState,
      breathStatus: o.breathStatus,
      vitalsValid: this.vitalsValid(),
      heartRateBpm: this.vitals.heartRateBpm,
      breathRatePerMin: this.vitals.breathRatePerMin,
      lastHeartRateBpm: this.lastHeartRateBpm,
      lastBreathRatePerMin: this.lastBreathRatePerMin,
      framesSent: this.framesSent,
    };
  }

  private change(mutate: () => void): void {
    const before = this.observable();
    mutate();
    if (!this.vitals.inBed) {
      this.setupTimer?.cancel();
      this.setupTimer = undefined;
    }
    if (this.running) this.sendObservable(this.observable(), before);
  }

  /** Start (or restart) the observation set-up: vitals are withheld until it ends. */
  private beginObservation(): void {
    const setupMs = this.intervals.observationSetupMs;
    this.vitalsFromMs = this.options.clock.now() + setupMs;
    this.setupTimer?.cancel();
    this.setupTimer = undefined;
    if (!this.running || setupMs <= 0) return;
    // During set-up breath status is `none` (detecting); it changes when set-up ends, not on the next tick.
    this.setupTimer = this.options.clock.setTimeout(() => {
      this.setupTimer = undefined;
      const status = this.observable().breathStatus;
      if (this.running && status !== 'none') this.send({ type: 'breath_status', status });
    }, setupMs);
  }

  private vitalsValid(): boolean {
    return this.vitals.inBed && this.options.clock.now() >= this.vitalsFromMs;
  }

  private observable(): Observable {
    const { present, inBed, sleepState, breathRatePerMin } = this.vitals;
    const isPresent = present || inBed;
    let breathStatus: BreathStatus = 'none';
    if (this.vitalsValid()) {
      if (breathRatePerMin < BREATH_SLOW_BELOW_PER_MIN) breathStatus = 'too_slow';
      else if (breathRatePerMin > BREATH_FAST_ABOVE_PER_MIN) breathStatus = 'too_fast';
      else breathStatus = 'normal';
    }
    return {
      present: isPresent,
      // Lying in bed reads as "stationary"; up and about in the room as "active".
      motion: !isPresent ? 'none' : inBed ? 'stationary' : 'active',
      bedState: inBed ? 'in_bed' : 'out_of_bed',
      sleepState: inBed ? sleepState : 'none',
      breathStatus,
    };
  }

  /** Send every field that differs from `before` (all of them when `before` is null). */
  private sendObservable(now: Observable, before: Observable | null): void {
    if (!before || now.present !== before.present) this.send({ type: 'presence', present: now.present });
    if (!before || now.motion !== before.motion) this.send({ type: 'motion', motion: now.motion });
    if (!before || now.bedState !== before.bedState) this.send({ type: 'bed_state', state: now.bedState });
    if (!before || now.sleepState !== before.sleepState)
      this.send({ type: 'sleep_state', state: now.sleepState });
    if (!before || now.breathStatus !== before.breathStatus) {
      this.send({ type: 'breath_status', status: now.breathStatus });
    }
  }

  private reportHeartRate(): void {
    if (!this.vitalsValid()) return;
    const variation = this.vitals.heartRateVariationBpm;
    this.heartOffset = this.walk(this.heartOffset, variation);
    const bpm = clampByte(Math.round(this.vitals.heartRateBpm + this.heartOffset));
    this.lastHeartRateBpm = bpm;
    this.send({ type: 'heart_rate', bpm });
  }

  private reportBreathRate(): void {
    if (!this.vitalsValid()) return;
    // Breathing that has stopped does not wander: a baseline of 0 reads 0, not 0–1 (apnoea scenarios).
    const variation = this.vitals.breathRatePerMin === 0 ? 0 : this.vitals.breathRateVariationPerMin;
    this.breathOffset = this.walk(this.breathOffset, variation);
    const perMin = clampByte(Math.round(this.vitals.breathRatePerMin + this.breathOffset));
    this.lastBreathRatePerMin = perMin;
    this.send({ type: 'breath_rate', perMin });
  }

  private reportBodyMovement(): void {
    // 0 = nobody, small values = someone still (breathing), larger = moving about.
    const motion = this.observable().motion;
    let value = 0;
    if (motion === 'stationary') value = 1 + Math.floor(this.random() * 5);
    else if (motion === 'active') value = 20 + Math.floor(this.random() * 41);
    this.send({ type: 'body_movement', value });
  }

  /** One step of a random walk kept within ±limit, so values drift like real readings instead of jumping. */
  private walk(offset: number, limit: number): number {
    if (limit <= 0) return 0;
    const step = Math.max(0.5, limit / 2);
    const next = offset + (this.random() * 2 - 1) * step;
    return Math.min(limit, Math.max(-limit, next));
  }

  private onHostBytes(chunk: Uint8Array): void {
    const framer = this.framer;
    if (!framer) return;
    for (const frame of framer.push(chunk)) this.onHostFrame(frame);
  }

  private onHostFrame(frame: SeeedFrame): void {
    const query = isQuery(frame);
    if (query === 'product_model') {
      this.send({ type: 'product_model', model: this.model });
    } else if (query === 'firmware_version') {
      this.send({ type: 'firmware_version', version: this.firmware });
    } else {
      // Reset (01 02 0F), mode switches and the rest are accepted silently, as far as the gateway can tell.
      this.options.logger?.debug(
        { control: hex(frame.control), command: hex(frame.command), length: frame.data.length },
        'host frame ignored',
      );
    }
  }

  private send(report: EncodableSeeedReport): void {
    const bytes = encodeFrame(encodeReport(report));
    this.framesSent++;
    this.options.logger?.trace({ report }, 'radar report');
    this.options.link.write(bytes);
  }
}

/** Drop `undefined` fields so they do not overwrite defaults when spread. */
function definedOnly<T extends object>(partial: Partial<T> | undefined): Partial<T> {
  if (!partial) return {};
  return Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function clampByte(n: number): number {
  if (!Number.isFinite(n)) return 0;
  return Math.min(255, Math.max(0, Math.round(n)));
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
