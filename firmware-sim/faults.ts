import type { Clock, TimerHandle } from '../common/clock.js';
import type { Logger } from '../common/logger.js';
import type { ByteLink } from './links/link.js';
import { type RandomFn, randomInt } from './random.js';

/**
 * Fault injection for the emulated devices, kept out of the emulators: a
 * {@link FaultyLink} sits between an emulator and its serial port and damages
 * what goes through it, and a {@link BatteryDrain} runs a battery down for the
 * battery-powered emulators (RF transmitters, zigbee and native devices).
 * All randomness comes from an injected seeded PRNG, so a test sees the same
 * damage on every run.
 */

/** How the bytes of a device are cut into units: one Seeed frame, or one text line ending in CR LF. */
export type Framing = 'seeed' | 'lines';

/** Faults of a serial device; each can change while the simulator runs. */
export interface SerialFaults {
  /** Probability (0–1) that a burst of garbage bytes goes out before each frame or line; 0 = off. */
  noise: number;
  /** Share (0–1) of Seeed frames sent with a wrong checksum; line devices (RFLink) have no checksum and ignore it. */
  badChecksums: number;
  /** Share (0–1) of frames or lines cut short. */
  truncated: number;
  /** The device transmits nothing at all; the port (and the PTY) stay as they are. */
  silent: boolean;
}

/** Every fault off. */
export const NO_SERIAL_FAULTS: Readonly<SerialFaults> = Object.freeze({
  noise: 0,
  badChecksums: 0,
  truncated: 0,
  silent: false,
});

/** What a {@link FaultyLink} did so far. A "unit" is one `write()` of the emulator: one frame or one line. */
export interface FaultStats {
  /** Units written to the port (damaged or not). */
  unitsSent: number;
  /** Units swallowed because the device was silent. */
  unitsSilenced: number;
  /** Units dropped because no port was attached (the device was unplugged). */
  unitsUnplugged: number;
  noiseBursts: number;
  noiseBytes: number;
  checksumsCorrupted: number;
  unitsTruncated: number;
}

export interface FaultyLinkOptions {
  /** How to recognise the units the emulator writes. */
  framing: Framing;
  /** Source of every random decision (use a seeded one). */
  random: RandomFn;
  /** Longest noise burst in bytes; default 8. */
  noiseMaxBytes?: number;
  /** Faults active from the start; default none. */
  faults?: Partial<SerialFaults>;
  logger?: Logger;
}

const DEFAULT_NOISE_MAX_BYTES = 8;
const CR = 0x0d;
const LF = 0x0a;

/**
 * A {@link ByteLink} for an emulator that forwards to the real port (the
 * device end of a PTY) and injects the configured faults on the way out.
 * The port can be swapped while running ({@link attach}), which is how an
 * unplugged device is re-plugged without the emulator noticing.
 *
 * Each `write()` of the emulator is taken as one unit (the emulators write
 * one frame or one line per call):
 * - noise: with probability `noise`, 1–`noiseMaxBytes` random bytes go out first
 *   (for line devices a garbage line ending in CR LF, so it sits *between* lines);
 * - badChecksums: with probability `badChecksums`, a Seeed frame's checksum byte is changed;
 * - truncated: with probability `truncated`, only a random prefix of the unit goes out
 *   (a line keeps its CR LF, so the host sees a short line, not two lines run together);
 * - silent: nothing goes out.
 *
 * Bytes from the host always reach the emulator, so a silent device still
 * "hears" queries; its answers are what gets lost.
 */
export class FaultyLink implements ByteLink {
  private inner: ByteLink | null = null;
  private current: SerialFaults;
  private readonly listeners = new Set<(bytes: Uint8Array) => void>();
  private readonly forward = (bytes: Uint8Array): void => {
    for (const cb of this.listeners) cb(bytes);
  };
  private readonly counts: FaultStats = {
    unitsSent: 0,
    unitsSilenced: 0,
    unitsUnplugged: 0,
    noiseBursts: 0,
    noiseBytes: 0,
    checksumsCorrupted: 0,
    unitsTruncated: 0,
  };

  constructor(private readonly options: FaultyLinkOptions) {
    this.current = normaliseFaults({ ...NO_SERIAL_FAULTS, ...options.faults });
  }

  /** Forward to `link` from now on (null: drop everything, as for an unplugged device). */
  attach(link: ByteLink | null): void {
    if (this.inner === link) return;
    this.inner?.offData?.(this.forward);
    this.inner = link;
    link?.onData(this.forward);
  }

  /** True while a port is attached. */
  get attached(): boolean {
    return this.inner !== null;
  }

  /** Change some faults; returns all of them as they now are. Rates are clamped to 0–1. */
  setFaults(patch: Partial<SerialFaults>): SerialFaults {
    this.current = normaliseFaults({ ...this.current, ...definedOnly(patch) });
    this.options.logger?.info({ faults: this.current }, 'serial faults changed');
    return this.faults();
  }

  /** The faults now active (a copy). */
  faults(): SerialFaults {
    return { ...this.current };
  }

  /** Counters (a copy). */
  stats(): FaultStats {
    return { ...this.counts };
  }

  write(bytes: Uint8Array): void {
    const faults = this.current;
    if (faults.silent) {
      this.counts.unitsSilenced++;
      return;
    }
    const inner = this.inner;
    if (!inner) {
      this.counts.unitsUnplugged++;
      return;
    }
    const { random, framing } = this.options;
    if (faults.noise > 0 && random() < faults.noise) {
      const burst = this.noiseBurst();
      this.counts.noiseBursts++;
      this.counts.noiseBytes += burst.length;
      inner.write(burst);
    }
    let unit: Uint8Array = Uint8Array.from(bytes);
    if (
      framing === 'seeed' &&
      faults.badChecksums > 0 &&
      looksLikeSeeedFrame(unit) &&
      random() < faults.badChecksums
    ) {
      const at = unit.length - 3;
      // Add 1–255 so the byte always changes.
      unit[at] = ((unit[at] as number) + randomInt(random, 1, 255)) & 0xff;
      this.counts.checksumsCorrupted++;
    }
    if (faults.truncated > 0 && random() < faults.truncated) {
      const cut = truncate(unit, framing, random);
      if (cut) {
        unit = cut;
        this.counts.unitsTruncated++;
      }
    }
    this.counts.unitsSent++;
    inner.write(unit);
  }

  onData(cb: (bytes: Uint8Array) => void): void {
    this.listeners.add(cb);
  }

  offData(cb: (bytes: Uint8Array) => void): void {
    this.listeners.delete(cb);
  }

  private noiseBurst(): Uint8Array {
    const { random, framing } = this.options;
    const length = randomInt(random, 1, this.options.noiseMaxBytes ?? DEFAULT_NOISE_MAX_BYTES);
    if (framing === 'seeed') {
      return Uint8Array.from({ length }, () => randomInt(random, 0, 255));
    }
    // A line of garbage: any byte but CR and LF, then CR LF, so it stays a line of its own.
    const out = new Uint8Array(length + 2);
    for (let i = 0; i < length; i++) {
      let b = randomInt(random, 0, 253);
      if (b >= LF) b++;
      if (b >= CR) b++;
      out[i] = b;
    }
    out[length] = CR;
    out[length + 1] = LF;
    return out;
  }
}

/** `53 59 … 54 43` with a length field matching the size: a whole frame, so its checksum can be damaged. */
function looksLikeSeeedFrame(unit: Uint8Array): boolean {
  if (unit.length < 9 || unit[0] !== 0x53 || unit[1] !== 0x59) return false;
  if (unit[unit.length - 2] !== 0x54 || unit[unit.length - 1] !== 0x43) return false;
  const length = ((unit[4] as number) << 8) | (unit[5] as number);
  return length + 9 === unit.length;
}

function truncate(unit: Uint8Array, framing: Framing, random: RandomFn): Uint8Array | null {
  if (framing === 'seeed') {
    if (unit.length < 2) return null;
    return unit.slice(0, randomInt(random, 1, unit.length - 1));
  }
  let end = unit.length;
  if (end > 0 && unit[end - 1] === LF) end--;
  if (end > 0 && unit[end - 1] === CR) end--;
  if (end < 2) return null;
  const keep = randomInt(random, 1, end - 1);
  const out = new Uint8Array(keep + 2);
  out.set(unit.subarray(0, keep), 0);
  out[keep] = CR;
  out[keep + 1] = LF;
  return out;
}

function normaliseFaults(f: SerialFaults): SerialFaults {
  return {
    noise: clampRate(f.noise),
    badChecksums: clampRate(f.badChecksums),
    truncated: clampRate(f.truncated),
    silent: f.silent,
  };
}

function clampRate(n: number): number {
  return Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 0;
}

function definedOnly<T extends object>(partial: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * A rate given as `true` (use the default), `false` (off) or a number (0–1) becomes a number.
 * `undefined` stays undefined (leave the fault as it is).
 */
export function resolveRate(value: boolean | number | undefined, defaultRate: number): number | undefined {
  if (value === undefined) return undefined;
  if (value === true) return defaultRate;
  if (value === false) return 0;
  return clampRate(value);
}

export interface BatteryDrainOptions {
  clock: Clock;
  /** Battery level to start from, in percent. */
  fromPercent: number;
  /** How fast the battery falls, in percent per minute of the clock. */
  percentPerMinute: number;
  /** How often the level is updated; default 10 s. */
  tickMs?: number;
  /** The level never goes below this; default 1 % (a flat battery that still sends a last word). */
  floorPercent?: number;
  /** Called on every tick with the new level (not rounded). */
  onLevel: (percent: number) => void;
}

const DEFAULT_BATTERY_TICK_MS = 10_000;

/**
 * Runs a battery down on the clock (the `dyingBattery` fault): every tick the
 * level drops by `percentPerMinute × tick`, down to the floor, and the device
 * is told. What a device makes of its level (a zigbee `battery` report, an
 * RFLink `BAT=LOW`) is the device's business.
 */
export class BatteryDrain {
  private timer: TimerHandle | undefined;
  private level: number;

  constructor(private readonly options: BatteryDrainOptions) {
    this.level = options.fromPercent;
  }

  /** The level now, in percent. */
  get percent(): number {
    return this.level;
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    if (this.timer) return;
    const tickMs = this.options.tickMs ?? DEFAULT_BATTERY_TICK_MS;
    const floor = this.options.floorPercent ?? 1;
    const step = (this.options.percentPerMinute * tickMs) / 60_000;
    this.timer = this.options.clock.setInterval(() => {
      const next = Math.max(floor, this.level - step);
      if (next === this.level) return;
      this.level = next;
      this.options.onLevel(next);
    }, tickMs);
  }

  /** Cancel the timer. Idempotent. */
  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}
