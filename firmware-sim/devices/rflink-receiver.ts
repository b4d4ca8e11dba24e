import type { Clock, TimerHandle } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';
import {
  formatRflinkLine,
  LineFramer,
  parseRflinkCommand,
} from '../../gateway/devices/protocols/rflink/index.js';
import type { ByteLink } from '../links/link.js';

/** A 433 MHz transmitter as RFLink identifies it: protocol + ID + SWITCH. */
export interface RflinkButton {
  protocol: 'EV1527' | 'PT2262';
  /** Transmitter address as RFLink prints it (hex for EV1527, e.g. `0d3e4`). */
  id: string;
  /** Button / channel on the transmitter, e.g. `01`. */
  switch: string;
  /** Command field; default `ON` (what a panic button sends). */
  cmd?: 'ON' | 'OFF';
}

export interface RflinkEmulatorOptions {
  /** The device end of the serial link. */
  link: ByteLink;
  clock: Clock;
  /**
   * Gap between the repeated lines of one press; default 50 ms. A transmitter
   * repeats its code for as long as the key is held and RFLink prints a line
   * for each copy it decodes, so one press reads as a burst well under a second.
   */
  repeatGapMs?: number;
  logger?: Logger;
}

/** The banner of RFLink firmware R48, printed at boot with counter 00. */
export const RFLINK_BANNER = 'Nodo RadioFrequencyLink - RFLink Gateway V1.1 - R48';
/** Fields of the reply to `10;VERSION;` from the same firmware. */
export const RFLINK_VERSION_FIELDS: readonly string[] = ['VER=1.1', 'REV=48', 'BUILD=04'];
const DEFAULT_REPEAT_GAP_MS = 50;
/** Debug switches RFLink accepts and echoes back, e.g. `10;RFDEBUG=ON;` → `20;xx;RFDEBUG=ON;`. */
const ECHOED_SETTING = /^(RFDEBUG|RFUDEBUG|QRFDEBUG)=(ON|OFF)$/;

/**
 * Emulates an RFLink 433 MHz gateway (Arduino Mega + receiver, 57600 baud) on a
 * byte link: the boot banner, answers to `10;PING;`, `10;VERSION;`,
 * `10;REBOOT;` and the debug switches (`CMD UNKNOWN` otherwise), and packet
 * lines for button presses. Every line carries the next value of a rolling
 * two-hex-digit counter, which restarts at `00` with the banner.
 */
export class RflinkEmulator {
  private counter = 0;
  private running = false;
  private framer: LineFramer | undefined;
  private readonly pending = new Set<TimerHandle>();
  private linesSent = 0;
  private pressesSent = 0;
  private packetsReceived = 0;
  private readonly handleData = (chunk: Uint8Array): void => this.onHostBytes(chunk);

  constructor(private readonly options: RflinkEmulatorOptions) {}

  /** Print the banner and begin answering commands. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.framer = new LineFramer();
    this.options.link.onData(this.handleData);
    this.boot();
  }

  /** Cancel repeats still pending and stop listening. Idempotent. */
  stop(): void {
    for (const t of this.pending) t.cancel();
    this.pending.clear();
    if (this.running) this.options.link.offData?.(this.handleData);
    this.running = false;
    this.framer = undefined;
  }

  /**
   * Press a button: `repeats` identical packet lines, the first at once and
   * the rest `repeatGapMs` apart on the clock, each with the next counter.
   * Returns how many lines were scheduled (0 when stopped).
   */
  press(button: RflinkButton, repeats = 3): number {
    const parts = [
      button.protocol,
      `ID=${button.id}`,
      `SWITCH=${button.switch}`,
      `CMD=${button.cmd ?? 'ON'}`,
    ];
    const count = this.transmit(parts, repeats);
    if (count > 0) this.pressesSent++;
    return count;
  }

  /**
   * Receive one RF packet: the line `20;XX;<parts…>;` written `repeats` times,
   * the first at once and the rest `repeatGapMs` apart, each with the next
   * counter (a transmitter repeats its code and RFLink prints each copy it
   * decodes). `parts` are the fields after the counter, e.g.
   * `['EV1527', 'ID=0d3e4', 'SWITCH=01', 'CMD=ON']` (see rf-transmitter.ts).
   * Returns how many lines were scheduled (0 when stopped).
   */
  transmit(parts: readonly string[], repeats = 1): number {
    if (!this.running) return 0;
    const count = Math.max(1, Math.floor(repeats));
    const line = [...parts];
    const gapMs = this.options.repeatGapMs ?? DEFAULT_REPEAT_GAP_MS;
    this.packetsReceived++;
    this.options.logger?.debug({ parts: line, repeats: count }, 'rf packet');
    this.sendLine(line);
    for (let i = 1; i < count; i++) {
      const handle = this.options.clock.setTimeout(() => {
        this.pending.delete(handle);
        if (this.running) this.sendLine(line);
      }, gapMs * i);
      this.pending.add(handle);
    }
    return count;
  }

  /** Write `line` exactly as given (no counter, no CR LF added): for noise and malformed-input tests. */
  sendRaw(line: string | Uint8Array): void {
    this.options.link.write(typeof line === 'string' ? Buffer.from(line, 'latin1') : line);
  }

  /** Counters for the control API. */
  state(): {
    running: boolean;
    nextCounter: number;
    linesSent: number;
    pressesSent: number;
    packetsReceived: number;
  } {
    return {
      running: this.running,
      nextCounter: this.counter,
      linesSent: this.linesSent,
      pressesSent: this.pressesSent,
      packetsReceived: this.packetsReceived,
    };
  }

  private boot(): void {
    this.counter = 0;
    this.sendLine([RFLINK_BANNER]);
  }

  private onHostBytes(chunk: Uint8Array): void {
    const framer = this.framer;
    if (!framer) return;
    for (const line of framer.push(chunk)) this.onHostLine(line);
  }

  private onHostLine(line: string): void {
    const command = parseRflinkCommand(line);
    if (command === null) {
      // The firmware ignores lines that do not start with `10;`.
      this.options.logger?.debug({ line }, 'host line ignored');
      return;
    }
    // RFLink matches commands case-insensitively (`10;version;` works on a real unit).
    const upper = command.toUpperCase();
    if (upper === 'PING') this.sendLine(['PONG']);
    else if (upper === 'VERSION') this.sendLine(RFLINK_VERSION_FIELDS);
    else if (upper === 'REBOOT') this.boot();
    else if (ECHOED_SETTING.test(upper)) this.sendLine([upper]);
    else this.sendLine(['CMD UNKNOWN']);
  }

  private sendLine(parts: readonly string[]): void {
    const line = formatRflinkLine(this.counter, parts);
    this.counter = (this.counter + 1) & 0xff;
    this.linesSent++;
    this.options.logger?.trace({ line: line.trimEnd() }, 'rflink line');
    this.options.link.write(Buffer.from(line, 'latin1'));
  }
}
