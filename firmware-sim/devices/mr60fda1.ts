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
import { type RandomFn, randomInt, seededRandom } from '../random.js';
import type { Motion } from './mr60bha1.js';

/**
 * How often the MR60FDA1 reports on its own. Zero turns a periodic report off.
 */
export interface Mr60fda1ReportIntervals {
  bodyMovementMs: number;
  moduleHeartbeatMs: number;
}

/**
 * The MR60FDA1's own reporting schedule:
 *
 * - body-movement parameter (80 03) every 1 s — Seeed wiki "Radar_MR60FDA1", Arduino library
 *   section, `HumanExis_Func()`: "bodysign_val — … This value is reported once per second";
 * - presence (80 01) and motion (80 02) only when they change — same page: "Human movement
 *   information is reported only when changes occur";
 * - fall state (83 01) and stationary residency (83 05) only when they change — same page,
 *   `Fall_Detection()`: "Fall information is reported only when changes occur", and Demo3: "there is
 *   content output only when the sensor detects a change in the state of the fall";
 * - module heartbeat (01 01) every 60 s — not stated for the MR60FDA1; taken from the interface
 *   manual of its sibling MR60BHA1 (same frame protocol): "Heartbeat packet … the default time interval
 *   is 1 minute". The gateway's 90 s radar supervision only needs *some* frame, and the 1 s body
 *   movement provides that anyway.
 */
export const MR60FDA1_REPORT_INTERVALS: Readonly<Mr60fda1ReportIntervals> = Object.freeze({
  bodyMovementMs: 1_000,
  moduleHeartbeatMs: 60_000,
});

/** Product model string the emulator returns to `02 A1 0F`. */
export const MR60FDA1_DEFAULT_MODEL = 'MR60FDA1';
/**
 * Firmware string a shipped module returns to `02 A4 0F`: the Seeed wiki (Radar_MR60FDA1, "Update
 * firmware via UART") shows `G60FD1SYv010104` as the reply, `010104` being the version.
 */
export const MR60FDA1_DEFAULT_FIRMWARE = 'G60FD1SYv010104';

/**
 * Time a fallen person must stay still before the module reports stationary residency (83 05 = 1).
 * The module makes it configurable (83 0A, "residency time"); 200 s is what DFRobot's example for the
 * C1001, a module speaking the same 53 59 protocol, sets (`dmFallConfig(eResidenceTime, 200)`,
 * DFRobot_HumanDetection examples/fall/fall.ino). Demos shorten it.
 */
export const MR60FDA1_DEFAULT_RESIDENCY_DELAY_MS = 200_000;

/** Whether someone is in the room when the emulator starts. */
export interface Mr60fda1Initial {
  /** Someone in the detection area; default true. */
  present: boolean;
  /** Their motion while present; default `active` (up and about). */
  motion: Exclude<Motion, 'none'>;
}

export interface Mr60fda1Options {
  /** The device end of the serial link. */
  link: ByteLink;
  clock: Clock;
  /** Reply to the product-model query; default {@link MR60FDA1_DEFAULT_MODEL}. */
  model?: string;
  /** Reply to the firmware-version query; default {@link MR60FDA1_DEFAULT_FIRMWARE}. */
  firmware?: string;
  /** Stillness after a fall before residency is reported; default {@link MR60FDA1_DEFAULT_RESIDENCY_DELAY_MS}. */
  residencyDelayMs?: number;
  /** Who is in the room at start; default someone present and active. */
  initial?: Partial<Mr60fda1Initial>;
  /** Reporting periods; unset fields take {@link MR60FDA1_REPORT_INTERVALS}. */
  intervals?: Partial<Mr60fda1ReportIntervals>;
  /** Uniform [0, 1) source for the body-movement values; default a PRNG seeded with 1. */
  random?: RandomFn;
  logger?: Logger;
}

/** What the emulator is telling the host, for the control API. */
export interface Mr60fda1State {
  running: boolean;
  model: string;
  firmware: string;
  present: boolean;
  motion: Motion;
  fallen: boolean;
  stationaryResidency: boolean;
  /** Clock time (ms) at which residency will be reported, while a fall waits for it. */
  residencyDueAtMs: number | null;
  lastBodyMovement: number | null;
  framesSent: number;
}

interface Observable {
  present: boolean;
  motion: Motion;
  fallen: boolean;
  residency: boolean;
}

/**
 * Emulates a Seeed MR60FDA1 60 GHz fall-detection radar on a byte link, in the
 * vendor's frames (encoded by the shared Seeed codec).
 *
 * On start it reports its whole state (presence, motion, fall, residency);
 * after that presence, motion, fall (83 01) and stationary residency (83 05)
 * go out only when they change, the body-movement parameter every second and
 * a module heartbeat every minute (see {@link MR60FDA1_REPORT_INTERVALS}). It
 * answers the product-model and firmware-version queries with strings.
 *
 * Scenario controls: {@link fall} (fall = 1, the person lies still; unless
 * they get up, residency = 1 follows after the residency delay),
 * {@link getUp}, {@link leave}, {@link enter}.
 */
export class Mr60fda1Emulator {
  private timers: TimerHandle[] = [];
  private residencyTimer: TimerHandle | undefined;
  private residencyDueAtMs: number | null = null;
  private framer: SeeedFramer | undefined;
  private running = false;
  private readonly random: RandomFn;
  private readonly intervals: Mr60fda1ReportIntervals;
  private state: Observable;
  private lastBodyMovement: number | null = null;
  private framesSent = 0;
  private readonly handleData = (chunk: Uint8Array): void => this.onHostBytes(chunk);

  constructor(private readonly options: Mr60fda1Options) {
    this.random = options.random ?? seededRandom(1);
    this.intervals = {
      bodyMovementMs: options.intervals?.bodyMovementMs ?? MR60FDA1_REPORT_INTERVALS.bodyMovementMs,
      moduleHeartbeatMs: options.intervals?.moduleHeartbeatMs ?? MR60FDA1_REPORT_INTERVALS.moduleHeartbeatMs,
    };
    const present = options.initial?.present ?? true;
    this.state = {
      present,
      motion: present ? (options.initial?.motion ?? 'active') : 'none',
      fallen: false,
      residency: false,
    };
  }

  get model(): string {
    return this.options.model ?? MR60FDA1_DEFAULT_MODEL;
  }

  get firmware(): string {
    return this.options.firmware ?? MR60FDA1_DEFAULT_FIRMWARE;
  }

  get residencyDelayMs(): number {
    return this.options.residencyDelayMs ?? MR60FDA1_DEFAULT_RESIDENCY_DELAY_MS;
  }

  /** Begin listening to the host and reporting: the whole state at once, then on schedule. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.framer = new SeeedFramer();
    this.options.link.onData(this.handleData);
    this.sendObservable(this.state, null);
    // A fall that was waiting for residency when the module was stopped (unplugged) waits again.
    if (this.state.fallen && !this.state.residency) this.armResidency();
    const { clock } = this.options;
    const every = (ms: number, fn: () => void): void => {
      if (ms > 0) this.timers.push(clock.setInterval(fn, ms));
    };
    every(this.intervals.bodyMovementMs, () => this.reportBodyMovement());
    every(this.intervals.moduleHeartbeatMs, () => this.send({ type: 'heartbeat' }));
    this.options.logger?.debug({ intervals: this.intervals }, 'mr60fda1 emulator started');
  }

  /** Cancel every timer and stop listening to the host. Idempotent; the scenario state is kept. */
  stop(): void {
    for (const t of this.timers) t.cancel();
    this.timers = [];
    this.cancelResidency();
    if (this.running) this.options.link.offData?.(this.handleData);
    this.running = false;
    this.framer = undefined;
  }

  /**
   * The person falls: fall = 1 at once, motion becomes stationary (lying on the floor), and unless
   * they get up (or leave) within the residency delay, stationary residency = 1 follows. Falling
   * implies being there. A second fall while down changes nothing.
   */
  fall(): Mr60fda1State {
    if (this.state.fallen) return this.snapshot();
    this.change({ present: true, motion: 'stationary', fallen: true, residency: false });
    if (this.running) this.armResidency();
    return this.snapshot();
  }

  /** The person gets up: fall = 0, residency = 0 (when it was set), motion active. */
  getUp(): Mr60fda1State {
    this.cancelResidency();
    this.change({ present: true, motion: 'active', fallen: false, residency: false });
    return this.snapshot();
  }

  /** The person leaves the room: nobody there, so no fall and no residency either. */
  leave(): Mr60fda1State {
    this.cancelResidency();
    this.change({ present: false, motion: 'none', fallen: false, residency: false });
    return this.snapshot();
  }

  /** Someone comes in, moving. A fallen person stays fallen. */
  enter(): Mr60fda1State {
    if (this.state.present) return this.snapshot();
    this.change({ ...this.state, present: true, motion: 'active' });
    return this.snapshot();
  }

  /** A snapshot for the control API and tests. */
  snapshot(): Mr60fda1State {
    return {
      running: this.running,
      model: this.model,
      firmware: this.firmware,
      present: this.state.present,
      motion: this.state.motion,
      fallen: this.state.fallen,
      stationaryResidency: this.state.residency,
      residencyDueAtMs: this.residencyDueAtMs,
      lastBodyMovement: this.lastBodyMovement,
      framesSent: this.framesSent,
    };
  }

  private change(next: Observable): void {
    const before = this.state;
    this.state = next;
    if (this.running) this.sendObservable(next, before);
  }

  private armResidency(): void {
    this.cancelResidency();
    const delay = this.residencyDelayMs;
    this.residencyDueAtMs = this.options.clock.now() + delay;
    this.residencyTimer = this.options.clock.setTimeout(() => {
      this.residencyTimer = undefined;
      this.residencyDueAtMs = null;
      if (this.state.fallen) this.change({ ...this.state, residency: true });
    }, delay);
  }

  private cancelResidency(): void {
    this.residencyTimer?.cancel();
    this.residencyTimer = undefined;
    this.residencyDueAtMs = null;
  }

  /** Send every field that differs from `before` (all of them when `before` is null). */
  private sendObservable(now: Observable, before: Observable | null): void {
    if (!before || now.present !== before.present) this.send({ type: 'presence', present: now.present });
    if (!before || now.motion !== before.motion) this.send({ type: 'motion', motion: now.motion });
    if (!before || now.fallen !== before.fallen) this.send({ type: 'fall', fallen: now.fallen });
    if (!before || now.residency !== before.residency) {
      this.send({ type: 'stationary_residency', present: now.residency });
    }
  }

  private reportBodyMovement(): void {
    // 0 = nobody; a still person (lying after a fall) gives small values; moving about, larger ones.
    const { motion } = this.state;
    let value = 0;
    if (motion === 'stationary') value = randomInt(this.random, 1, 5);
    else if (motion === 'active') value = randomInt(this.random, 20, 60);
    this.lastBodyMovement = value;
    this.send({ type: 'body_movement', value });
  }

  private onHostBytes(chunk: Uint8Array): void {
    const framer = this.framer;
    if (!framer) return;
    for (const frame of framer.push(chunk)) this.onHostFrame(frame);
  }

  private onHostFrame(frame: SeeedFrame): void {
    const query = isQuery(frame);
    if (query === 'product_model') this.send({ type: 'product_model', model: this.model });
    else if (query === 'firmware_version') this.send({ type: 'firmware_version', version: this.firmware });
    else {
      // Reset, installation-height and sensitivity settings are accepted silently, as far as the host can tell.
      this.options.logger?.debug(
        { control: frame.control, command: frame.command, length: frame.data.length },
        'host frame ignored',
      );
    }
  }

  private send(report: EncodableSeeedReport): void {
    this.framesSent++;
    this.options.logger?.trace({ report }, 'fall radar report');
    this.options.link.write(encodeFrame(encodeReport(report)));
  }
}
