import { stat } from 'node:fs/promises';
import { SerialPort } from 'serialport';
import { errorMessage } from '../../common/errors.js';
import {
  formatRflinkCommand,
  LineFramer,
  parseRflinkLine,
  type RflinkMessage,
} from '../devices/protocols/rflink/index.js';
import {
  decodeReport,
  encodeFrame,
  isQuery,
  queryFirmwareVersion,
  queryProductModel,
  SeeedFramer,
} from '../devices/protocols/seeed/index.js';

/**
 * Finds out what is on a serial port, for an installer who has a row of USB adapters and no labels: a
 * Seeed 60 GHz radar (115200 baud, answers the product-model and firmware queries) or an RFLink 433 MHz
 * receiver (57600 baud, answers `10;VERSION;` and `10;PING;`, prints a banner at boot).
 */

/** Line speed of the Seeed 60 GHz radars. */
export const SEEED_BAUD_RATE = 115200;
/** Line speed of the RFLink gateway. */
export const RFLINK_BAUD_RATE = 57600;
/** Default of {@link ProbeOptions.timeoutMs}. */
export const DEFAULT_PROBE_TIMEOUT_MS = 3000;

/** What {@link probeSerialPort} found on a port. */
export type ProbeResult =
  /** A Seeed 60 GHz radar: it answered a query or sent any valid frame. */
  | { path: string; kind: 'seeed'; baudRate: typeof SEEED_BAUD_RATE; model?: string; firmware?: string }
  /** An RFLink gateway: it answered `10;VERSION;` or `10;PING;`, or printed its banner. */
  | {
      path: string;
      kind: 'rflink';
      baudRate: typeof RFLINK_BAUD_RATE;
      version?: string;
      revision?: string;
      build?: string;
      banner?: string;
    }
  /** The port opened but nothing recognisable came back at any of the `tried` baud rates. */
  | { path: string; kind: 'unknown'; tried: number[]; bytesSeen: number }
  /** The port could not be used (missing, not a serial device, locked by another program…). */
  | { path: string; kind: 'error'; error: string };

/** Options of {@link probeSerialPort}. */
export interface ProbeOptions {
  /**
   * Budget of the whole probe, opening and closing included; default 3000 ms. About 40 % goes to the
   * radar's queries (a module answers within milliseconds), the rest to the RFLink, whose Arduino Mega
   * reboots when the port is opened and needs a second or two before it answers.
   */
  timeoutMs?: number;
}

/** Share of the budget (from the start) after which the Seeed phase gives up. */
const SEEED_SHARE = 0.4;
/** Time kept at the end of the budget for closing the port. */
const CLOSE_RESERVE_MAX_MS = 250;
/** How often the RFLink commands are repeated while nothing answers (the Mega may still be booting). */
const RFLINK_RESEND_MS = 700;
/** After a PONG or a banner, how long to wait for the VERSION reply that carries more detail. */
const RFLINK_VERSION_GRACE_MS = 400;
/** Upper bound of one wait step when no data wakes it, so deadlines are met without busy waiting. */
const MAX_WAIT_STEP_MS = 50;

/**
 * Probes one serial port. Opens it at 115200 baud and sends the Seeed product-model and firmware queries;
 * if nothing Seeed-like comes back within its share of the budget, switches the open port to 57600 baud
 * and sends a bare CR LF (so the RFLink drops whatever the queries left in its line buffer), `10;VERSION;`
 * and `10;PING;`, repeated while nothing answers. Our own queries echoed back (a loopback plug) do not
 * count as a radar.
 *
 * The baud rate is changed on the open port rather than by closing and reopening it: every open pulses
 * DTR, which reboots an Arduino-based RFLink, so a reopen would restart its boot just when it is asked
 * to answer.
 *
 * Never throws: a port that cannot be used is `{kind: 'error'}`. Resolves within `timeoutMs` (plus the
 * scheduling delay of the event loop); a port whose close hangs is left to close in the background.
 */
export async function probeSerialPort(path: string, options: ProbeOptions = {}): Promise<ProbeResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    return { path, kind: 'error', error: `timeoutMs must be a positive number, got ${timeoutMs}` };
  }
  const startedAt = Date.now();
  const closeReserveMs = Math.min(CLOSE_RESERVE_MAX_MS, timeoutMs * 0.1);
  const seeedUntil = startedAt + timeoutMs * SEEED_SHARE;
  const rflinkUntil = startedAt + timeoutMs - closeReserveMs;

  const missing = await checkPath(path);
  if (missing !== null) return { path, kind: 'error', error: missing };

  let port: ProbePort;
  try {
    port = await ProbePort.open(path, SEEED_BAUD_RATE, rflinkUntil);
  } catch (err) {
    return { path, kind: 'error', error: errorMessage(err) };
  }
  try {
    const seeed = await seeedPhase(port, seeedUntil);
    if (seeed !== null) return { path, kind: 'seeed', baudRate: SEEED_BAUD_RATE, ...seeed };
    await port.setBaudRate(RFLINK_BAUD_RATE);
    const rflink = await rflinkPhase(port, rflinkUntil);
    if (rflink !== null) return { path, kind: 'rflink', baudRate: RFLINK_BAUD_RATE, ...rflink };
    return { path, kind: 'unknown', tried: [SEEED_BAUD_RATE, RFLINK_BAUD_RATE], bytesSeen: port.bytesSeen };
  } catch (err) {
    return { path, kind: 'error', error: errorMessage(err) };
  } finally {
    await port.close(Math.max(closeReserveMs, startedAt + timeoutMs - Date.now()));
  }
}

/** Listens at 115200 baud; null when nothing Seeed-like came back. */
async function seeedPhase(
  port: ProbePort,
  until: number,
): Promise<{ model?: string; firmware?: string } | null> {
  const framer = new SeeedFramer();
  const lines = new LineFramer();
  let frameSeen = false;
  let rflinkSeen = false;
  let model: string | undefined;
  let firmware: string | undefined;
  port.consume((chunk) => {
    for (const frame of framer.push(chunk)) {
      if (isQuery(frame) !== null) continue;
      frameSeen = true;
      const report = decodeReport(frame);
      if (report.type === 'product_model') model = report.model;
      else if (report.type === 'firmware_version') firmware = report.version;
    }
    // RFLink text readable at this speed (a PTY ignores baud rates) shows it is not a radar: move on.
    for (const line of lines.push(chunk)) if (parseRflink(line) !== null) rflinkSeen = true;
  });
  const done = () => (model !== undefined && firmware !== undefined) || (rflinkSeen && !frameSeen);
  const queries = (): void => {
    port.write(encodeFrame(queryProductModel()));
    port.write(encodeFrame(queryFirmwareVersion()));
  };
  queries();
  // Ask once more halfway, in case the module was mid-frame or still starting when the first came.
  const halfway = Date.now() + (until - Date.now()) / 2;
  if (!(await port.waitUntil(done, halfway)) && !frameSeen) queries();
  await port.waitUntil(done, until);
  if (!frameSeen) return null;
  return { ...(model === undefined ? {} : { model }), ...(firmware === undefined ? {} : { firmware }) };
}

type RflinkFound = { version?: string; revision?: string; build?: string; banner?: string };

/** Listens at 57600 baud; null when no RFLink answered. */
async function rflinkPhase(port: ProbePort, until: number): Promise<RflinkFound | null> {
  const lines = new LineFramer();
  const found: RflinkFound = {};
  let identifiedAt: number | null = null;
  port.consume((chunk) => {
    for (const line of lines.push(chunk)) {
      const message = parseRflink(line);
      if (message === null) continue;
      if (message.kind === 'version') {
        found.version = message.version;
        found.revision = message.revision;
        found.build = message.build;
      } else if (message.kind === 'banner') {
        found.banner = message.text;
      } else if (message.kind !== 'pong') {
        continue;
      }
      identifiedAt ??= Date.now();
    }
  });
  // The leading CR LF ends the line the radar queries started in the RFLink's input buffer; without it
  // the first command would be glued to them and ignored.
  const commands = `\r\n${formatRflinkCommand('VERSION')}${formatRflinkCommand('PING')}`;
  const versionOrGrace = () =>
    found.version !== undefined ||
    (identifiedAt !== null && Date.now() >= identifiedAt + RFLINK_VERSION_GRACE_MS);
  while (Date.now() < until && !versionOrGrace()) {
    if (identifiedAt === null) port.write(Buffer.from(commands, 'latin1'));
    await port.waitUntil(versionOrGrace, Math.min(until, Date.now() + RFLINK_RESEND_MS));
  }
  return identifiedAt === null ? null : found;
}

function parseRflink(line: string): RflinkMessage | null {
  try {
    return parseRflinkLine(line);
  } catch {
    // Noise at the wrong speed, or the radar queries' bytes: not an answer.
    return null;
  }
}

/** A missing path or one that is not a character device gives a clearer error than the bindings do. */
async function checkPath(path: string): Promise<string | null> {
  try {
    const info = await stat(path);
    return info.isCharacterDevice() ? null : `${path} is not a serial device (not a character device)`;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === undefined ? errorMessage(err) : `${code}: ${errorMessage(err).replace(/^\w+: /, '')}`;
  }
}

/**
 * The probe's handle on the port: counts what arrives, hands it to the current phase, and lets a phase
 * wait for a condition until a deadline, woken by each chunk.
 */
class ProbePort {
  bytesSeen = 0;
  #consumer: (chunk: Uint8Array) => void = () => {};
  #wake: (() => void) | undefined;
  #failure: Error | undefined;

  private constructor(private readonly port: SerialPort) {
    port.on('data', (chunk: Buffer) => {
      this.bytesSeen += chunk.length;
      this.#consumer(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.#wake?.();
    });
    // Without a listener an 'error' event (e.g. a failed write) would crash the process.
    port.on('error', (err: Error) => {
      this.#failure ??= err;
      this.#wake?.();
    });
    port.on('close', (err: (Error & { disconnected?: boolean }) | null) => {
      if (err?.disconnected) this.#failure ??= new Error(`${port.path} was disconnected during the probe`);
      this.#wake?.();
    });
  }

  /** Opens `path`; rejects with a readable error, or when the open has not finished by `until`. */
  static async open(path: string, baudRate: number, until: number): Promise<ProbePort> {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`opening ${path} did not finish in time`)),
        Math.max(0, until - Date.now()),
      );
      port.open((err) => {
        clearTimeout(timer);
        if (!err) {
          resolve();
          return;
        }
        // "Cannot lock port" is the usual case of a gateway (or a terminal) already holding it.
        const hint = /lock/i.test(err.message) ? ' (is the gateway or a terminal program using it?)' : '';
        reject(new Error(`cannot open ${path}: ${err.message}${hint}`));
      });
    }).catch((err: unknown) => {
      // An open that completes after the timeout must not leave the port held.
      port.once('open', () => port.close());
      throw err;
    });
    return new ProbePort(port);
  }

  /** Routes the chunks from now on to `consumer` (one phase at a time). */
  consume(consumer: (chunk: Uint8Array) => void): void {
    this.#consumer = consumer;
  }

  write(bytes: Uint8Array): void {
    if (!this.port.isOpen) return;
    this.port.write(Buffer.from(bytes), (err) => {
      if (err) this.#failure ??= err;
    });
  }

  /** Changes the line speed of the open port. */
  async setBaudRate(baudRate: number): Promise<void> {
    this.#throwIfFailed();
    await new Promise<void>((resolve, reject) =>
      this.port.update({ baudRate }, (err) => (err ? reject(err) : resolve())),
    );
  }

  /**
   * Resolves true as soon as `check()` holds, false at `until`; rejects if the port failed (error event,
   * unplugged) meanwhile.
   */
  async waitUntil(check: () => boolean, until: number): Promise<boolean> {
    for (;;) {
      this.#throwIfFailed();
      if (check()) return true;
      const left = until - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, MAX_WAIT_STEP_MS));
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.#wake = done;
      });
      this.#wake = undefined;
    }
  }

  /** Closes the port, waiting at most `waitMs` (a close stuck on pending output is left to finish alone). */
  async close(waitMs: number): Promise<void> {
    this.#consumer = () => {};
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, waitMs));
      this.port.close(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }
}
