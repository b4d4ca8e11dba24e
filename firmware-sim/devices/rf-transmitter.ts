import type { Clock } from '../../common/clock.js';
import { HomebedError } from '../../common/errors.js';
import { BatteryDrain } from '../faults.js';

/**
 * 433 MHz transmitters as an RFLink receiver prints them. What real units print:
 *
 * - **EV1527 sensors** (buttons, door contacts, PIRs, water and gas detectors): RFLink prints
 *   `EV1527;ID=<20-bit address, hex>;SWITCH=<4-bit data code, 2 hex digits>;CMD=ON;` and *always*
 *   `CMD=ON`: the chip sends an address and a data code, nothing more. A PIR prints
 *   `20;06;EV1527;ID=045a42;SWITCH=06;CMD=ON;` on every trigger and never OFF (Home Assistant
 *   core PR #4547, log of an EV1527 motion sensor); door/window contacts print e.g.
 *   `20;49;EV1527;ID=000373;SWITCH=0a;CMD=ON;` (RFLink32-For-Sonoff-RF-Bridge issue #12). A
 *   contact that also reports closing sends a *second data code* with `CMD=ON` — the same way two
 *   buttons of one EV1527 remote show up as `SWITCH=0b;CMD=ON` and `SWITCH=03;CMD=ON`
 *   (home-assistant/core issue #6249) — and many cheap contacts send nothing at all on closing.
 *   No EV1527 line ever carries `BAT=`: the 24-bit frame has no battery bit.
 * - **Chinese alarm PIRs/contacts** decoded by RFLink's plugin 061 are printed as
 *   `X10;ID=…;SWITCH=01;CMD=ON;`, Chuango ones (plugin 062) as `Chuango;ID=…;SWITCH=02;CMD=ON;`,
 *   both "reports movement only" (RFLink32 `Plugin_061.c`, `Plugin_062.c`).
 * - **`PIR=ON`** is printed by RFLink's `Pir` protocol: `20;12;Pir;ID=aa66;PIR=ON;` (the sample data
 *   of "RFLink Protocol Reference.txt").
 * - **Smoke detectors** print `SMOKEALERT=ON`: the Flamingo FA20RF as
 *   `20;0D;FA20RF;ID=97e3b2;SMOKEALERT=ON;` (RFLink32 `Plugin_080.c`), and the protocol reference's
 *   sample `20;63;SmokeAlert;ID=123456;SMOKEALERT=ON;`.
 * - **`BAT=OK|LOW`** appears on the weather-sensor protocols (Oregon, UPM/Esic, Auriol…, protocol
 *   reference sample data) and on KeeLoq remotes, whose HCS200/300 code word carries a battery-low
 *   bit (Microchip DS40138C; rtl_433 `hcs200.c`): `20;1B;Keeloq;ID=e311;SWITCH=0A;CMD=ON;BAT=OK;`
 *   (as quoted in the README of an RFLink-to-MQTT bridge). So a transmitter whose battery the gateway
 *   can see is emulated as a KeeLoq one; on other protocols `batteryField: 'always'` forces the field
 *   in, knowing that real RFLink output would not carry it.
 *
 * PT2262/ARC door contacts (KAKU and the like) do print `CMD=OFF`; a `contact` without
 * `closeSwitch` closes with `CMD=OFF` on its own code, which is what the gateway's rf_contact expects.
 */

/** What kind of transmitter. */
export type RfKind = 'button' | 'contact' | 'pir' | 'smoke' | 'water' | 'gas';
/** What happened to it. */
export type RfAction = 'press' | 'open' | 'close' | 'motion' | 'alarm';

/** The actions each kind can do. */
export const RF_ACTIONS: Readonly<Record<RfKind, readonly RfAction[]>> = Object.freeze({
  button: ['press'],
  contact: ['open', 'close'],
  pir: ['motion'],
  smoke: ['alarm'],
  water: ['alarm'],
  gas: ['alarm'],
});

/** Protocols printed as `ID=…;SWITCH=…;CMD=…`. */
export const RF_SWITCH_PROTOCOLS = ['EV1527', 'PT2262', 'X10', 'Chuango', 'Keeloq'] as const;
/** RFLink's PIR protocol, printed as `ID=…;PIR=ON`. */
export const RF_PIR_PROTOCOLS = ['Pir'] as const;
/** Smoke-detector protocols, printed as `ID=…;SMOKEALERT=ON`. */
export const RF_SMOKE_PROTOCOLS = ['FA20RF', 'SmokeAlert'] as const;
/** Protocols whose RFLink lines carry `BAT=OK|LOW` (of those emulated here). */
export const RF_BATTERY_PROTOCOLS: ReadonlySet<string> = new Set(['Keeloq']);

export type RfProtocol =
  | (typeof RF_SWITCH_PROTOCOLS)[number]
  | (typeof RF_PIR_PROTOCOLS)[number]
  | (typeof RF_SMOKE_PROTOCOLS)[number];

/** One transmitter, as configured (see `config.ts`). */
export interface RfTransmitterSpec {
  /** Name used by the control API (`POST /rf/:name`). */
  name: string;
  kind: RfKind;
  protocol: RfProtocol;
  /** Address as RFLink prints it (hex for EV1527, e.g. `0d3e4`). */
  id: string;
  /** `SWITCH=` value: the data code of the event (open, for a contact); switch protocols only. */
  switch?: string;
  /** Buttons: the `CMD=` they send; default `ON`. */
  cmd?: 'ON' | 'OFF';
  /** Contacts: data code of closing (two-code EV1527 contacts); unset = `CMD=OFF` on `switch`. */
  closeSwitch?: string;
  /** Contacts: false for single-code contacts that send nothing when the door closes; default true. */
  sendsClose?: boolean;
  /** Identical lines per event. */
  repeats: number;
  /** `BAT=` field: `auto` = only where the protocol prints it ({@link RF_BATTERY_PROTOCOLS}). */
  batteryField: 'auto' | 'always' | 'never';
  /** Battery low at start. */
  batteryLow: boolean;
}

/** An action a transmitter of that kind cannot do. */
export class RfActionError extends HomebedError {
  constructor(message: string) {
    super('HB_SIM_RF_ACTION', message);
  }
}

/**
 * The fields of the RFLink line for `action` (after `20;XX;`), or null when
 * the transmitter sends nothing for it (a single-code contact closing).
 *
 * @throws RfActionError when the kind has no such action.
 */
export function rfPacketParts(
  spec: RfTransmitterSpec,
  action: RfAction,
  batteryLow: boolean,
): string[] | null {
  const allowed = RF_ACTIONS[spec.kind];
  if (!allowed.includes(action)) {
    throw new RfActionError(`a ${spec.kind} cannot ${action}; ${spec.name} accepts: ${allowed.join(', ')}`);
  }
  const parts: string[] = [spec.protocol, `ID=${spec.id}`];
  if ((RF_PIR_PROTOCOLS as readonly string[]).includes(spec.protocol)) {
    parts.push('PIR=ON');
  } else if ((RF_SMOKE_PROTOCOLS as readonly string[]).includes(spec.protocol)) {
    parts.push('SMOKEALERT=ON');
  } else {
    let sw = spec.switch ?? '01';
    let cmd: 'ON' | 'OFF' = spec.kind === 'button' ? (spec.cmd ?? 'ON') : 'ON';
    if (action === 'close') {
      if (spec.sendsClose === false) return null;
      if (spec.closeSwitch !== undefined) sw = spec.closeSwitch;
      else cmd = 'OFF';
    }
    parts.push(`SWITCH=${sw}`, `CMD=${cmd}`);
  }
  if (reportsBattery(spec)) parts.push(`BAT=${batteryLow ? 'LOW' : 'OK'}`);
  return parts;
}

/** Whether this transmitter's lines carry `BAT=`. */
export function reportsBattery(spec: Pick<RfTransmitterSpec, 'batteryField' | 'protocol'>): boolean {
  if (spec.batteryField === 'always') return true;
  if (spec.batteryField === 'never') return false;
  return RF_BATTERY_PROTOCOLS.has(spec.protocol);
}

export interface RfTransmitterDeps {
  clock: Clock;
  /** At or below this level a draining battery reports low; default 20 %. */
  batteryLowPercent?: number;
}

/** State of one transmitter, for the control API. */
export interface RfTransmitterState {
  name: string;
  kind: RfKind;
  protocol: RfProtocol;
  address: string;
  actions: readonly RfAction[];
  battery: 'ok' | 'low';
  /** Whether the battery state shows in its lines (`BAT=`). */
  reportsBattery: boolean;
  batteryPercent: number;
  dyingBattery: boolean;
  events: number;
}

const DEFAULT_LOW_PERCENT = 20;
/** Level a battery is given when set to `low` by hand. */
const LOW_LEVEL_PERCENT = 10;

/**
 * One transmitter with its battery. It knows what it would transmit
 * ({@link packet}); the RFLink receiver it is heard by does the sending.
 */
export class RfTransmitter {
  private batteryPercent: number;
  private low: boolean;
  private drain: BatteryDrain | undefined;
  private drainRate = 0;
  private drainTickMs: number | undefined;
  private events = 0;

  constructor(
    readonly spec: RfTransmitterSpec,
    private readonly deps: RfTransmitterDeps,
  ) {
    this.low = spec.batteryLow;
    this.batteryPercent = spec.batteryLow ? LOW_LEVEL_PERCENT : 100;
  }

  get name(): string {
    return this.spec.name;
  }

  /** The fields of the line this transmitter sends for `action` (null: it sends nothing). */
  packet(action: RfAction): string[] | null {
    const parts = rfPacketParts(this.spec, action, this.low);
    if (parts) this.events++;
    return parts;
  }

  /** A new battery (`ok`, 100 %) or a flat one (`low`). */
  setBattery(state: 'ok' | 'low'): RfTransmitterState {
    this.low = state === 'low';
    this.batteryPercent = this.low ? LOW_LEVEL_PERCENT : 100;
    if (this.drain) this.restartDrain(this.drainRate);
    return this.state();
  }

  /** Start (rate > 0) or stop (0) running the battery down, in percent per minute. */
  setDyingBattery(percentPerMinute: number, tickMs?: number): void {
    this.drainRate = percentPerMinute;
    this.drainTickMs = tickMs;
    this.restartDrain(percentPerMinute);
  }

  /** Stop the drain timer. */
  stop(): void {
    this.drain?.stop();
    this.drain = undefined;
  }

  state(): RfTransmitterState {
    const { spec } = this;
    return {
      name: spec.name,
      kind: spec.kind,
      protocol: spec.protocol,
      address: `${spec.protocol}:${spec.id}:${spec.switch ?? ''}`,
      actions: RF_ACTIONS[spec.kind],
      battery: this.low ? 'low' : 'ok',
      reportsBattery: reportsBattery(spec),
      batteryPercent: Math.round(this.batteryPercent),
      dyingBattery: this.drain !== undefined,
      events: this.events,
    };
  }

  private restartDrain(percentPerMinute: number): void {
    this.drain?.stop();
    this.drain = undefined;
    if (percentPerMinute <= 0) return;
    const lowAt = this.deps.batteryLowPercent ?? DEFAULT_LOW_PERCENT;
    const drain = new BatteryDrain({
      clock: this.deps.clock,
      fromPercent: this.batteryPercent,
      percentPerMinute,
      tickMs: this.drainTickMs,
      onLevel: (percent) => {
        this.batteryPercent = percent;
        if (percent <= lowAt) this.low = true;
      },
    });
    this.drain = drain;
    drain.start();
  }
}
