import { HomebedError } from '../../../../common/errors.js';

/**
 * Codec for the RFLink gateway's serial text protocol (433 MHz receiver, 57600 baud). Lines from the
 * gateway look like `20;2D;EV1527;ID=0d3e4;SWITCH=01;CMD=ON;`: node `20`, a two-hex-digit rolling
 * counter, then the protocol name and `KEY=VALUE` fields, each followed by `;`. Commands to the gateway
 * start with `10;`. Reference: "RFLink Gateway Commands and Data fields" (the protocol reference shipped
 * with the python `rflink` package) and the project's design/protocols/rflink-and-zigbee2mqtt.md.
 */

/** A line received from the RFLink gateway, classified. */
export type RflinkMessage =
  /** Start-up banner, e.g. `20;00;Nodo RadioFrequencyLink - RFLink Gateway V1.1 - R48;`. */
  | { kind: 'banner'; counter: number; text: string }
  /** Answer to `10;PING;`. */
  | { kind: 'pong'; counter: number }
  /** Answer to `10;VERSION;`: `20;99;VER=1.1;REV=48;BUILD=04;`. */
  | { kind: 'version'; counter: number; version: string; revision: string; build: string }
  /**
   * A received RF packet: protocol name and its fields, keys as sent (upper case). `id`, `switch` and
   * `cmd` repeat `fields.ID`, `fields.SWITCH`, `fields.CMD` when present.
   */
  | {
      kind: 'packet';
      counter: number;
      protocol: string;
      fields: Readonly<Record<string, string>>;
      id?: string;
      switch?: string;
      cmd?: string;
    }
  /**
   * Anything else the gateway says: `OK`, `CMD UNKNOWN`, `RFDEBUG=ON`, `STATUS;…`, `DEBUG;Pulses=…`.
   * `text` is the line after the counter, without the final `;`.
   */
  | { kind: 'other'; counter: number; text: string };

/**
 * Why a line is not RFLink output:
 * - `prefix`: does not start with `20;`;
 * - `charset`: holds a character outside printable ASCII (line noise, wrong baud rate);
 * - `terminator`: does not end with `;`;
 * - `counter`: the counter is not two hex digits followed by `;`;
 * - `empty`: nothing after the counter, or an empty protocol name;
 * - `field`: a packet field that is not `KEY=VALUE` with a non-empty key.
 */
export type RflinkParseReason = 'prefix' | 'charset' | 'terminator' | 'counter' | 'empty' | 'field';

/** A line that is not RFLink gateway output. Never retriable: the same line will always fail. */
export class RflinkParseError extends HomebedError {
  /** Stable short code saying what is wrong, for counters and logs. */
  readonly reason: RflinkParseReason;
  /** The offending line, truncated to 120 characters so a flood of noise cannot bloat logs. */
  readonly line: string;

  constructor(reason: RflinkParseReason, line: string, detail: string) {
    super('HB_RFLINK_PARSE', `RFLink line rejected (${reason}): ${detail}`);
    this.reason = reason;
    this.line = line.slice(0, 120);
  }
}

const GATEWAY_PREFIX = '20;';
const COMMAND_PREFIX = '10;';
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const HEX_COUNTER = /^[0-9A-Fa-f]{2}$/;
/** Control replies that carry `KEY=VALUE` parts but are not RF packets. */
const NON_PACKET_NAMES = new Set(['DEBUG', 'STATUS']);

/**
 * Parses one line of gateway output (without its CR LF; trailing spaces are tolerated).
 *
 * @throws RflinkParseError when the line is not RFLink output; see {@link RflinkParseReason}.
 */
export function parseRflinkLine(line: string): RflinkMessage {
  const text = line.trimEnd();
  if (!text.startsWith(GATEWAY_PREFIX)) {
    throw new RflinkParseError('prefix', line, `does not start with "${GATEWAY_PREFIX}"`);
  }
  if (!PRINTABLE_ASCII.test(text)) {
    throw new RflinkParseError('charset', line, 'holds characters outside printable ASCII');
  }
  if (!text.endsWith(';')) throw new RflinkParseError('terminator', line, 'does not end with ";"');
  const counterText = text.slice(GATEWAY_PREFIX.length, GATEWAY_PREFIX.length + 2);
  if (!HEX_COUNTER.test(counterText) || text[GATEWAY_PREFIX.length + 2] !== ';') {
    throw new RflinkParseError('counter', line, 'counter is not two hex digits');
  }
  const counter = Number.parseInt(counterText, 16);
  // Everything between "20;XX;" and the final ";".
  const body = text.slice(GATEWAY_PREFIX.length + 3, -1);
  if (body.length === 0) throw new RflinkParseError('empty', line, 'nothing after the counter');
  const parts = body.split(';');
  const name = parts[0] as string;
  if (name.length === 0) throw new RflinkParseError('empty', line, 'empty protocol name');

  if (parts.length === 1) {
    if (name === 'PONG') return { kind: 'pong', counter };
    if (/RadioFrequencyLink|RFLink Gateway/i.test(name)) return { kind: 'banner', counter, text: name };
    return { kind: 'other', counter, text: body };
  }
  if (name.startsWith('VER=')) return parseVersion(counter, parts, body);
  // A first part with "=" is a setting echo (`RFDEBUG=ON`, `MySensors=OFF;NO NRF24L01`), not a protocol.
  if (name.includes('=') || NON_PACKET_NAMES.has(name)) return { kind: 'other', counter, text: body };

  const entries: [string, string][] = [];
  for (const part of parts.slice(1)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new RflinkParseError('field', line, `field "${part}" is not KEY=VALUE`);
    // Split on the first "=" only: NewKaku dimmers send CMD=SET_LEVEL=14.
    entries.push([part.slice(0, eq), part.slice(eq + 1)]);
  }
  // fromEntries defines own properties, so a key like "__proto__" cannot reach the prototype.
  const fields: Readonly<Record<string, string>> = Object.freeze(Object.fromEntries(entries));
  const message: Extract<RflinkMessage, { kind: 'packet' }> = {
    kind: 'packet',
    counter,
    protocol: name,
    fields,
  };
  if (fields.ID !== undefined) message.id = fields.ID;
  if (fields.SWITCH !== undefined) message.switch = fields.SWITCH;
  if (fields.CMD !== undefined) message.cmd = fields.CMD;
  return message;
}

function parseVersion(counter: number, parts: readonly string[], body: string): RflinkMessage {
  const values = new Map<string, string>();
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq > 0) values.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const version = values.get('VER');
  const revision = values.get('REV');
  const build = values.get('BUILD');
  // A firmware that leaves a part out is still RFLink talking: keep the line, unclassified.
  if (version === undefined || revision === undefined || build === undefined) {
    return { kind: 'other', counter, text: body };
  }
  return { kind: 'version', counter, version, revision, build };
}

/**
 * The line that sends `command` to the gateway: `'10;' + command + ';\r\n'`, e.g. `PING` →
 * `10;PING;\r\n`, `NewKaku;00c142;1;ON` → `10;NewKaku;00c142;1;ON;\r\n`.
 *
 * @throws RangeError if the command is empty or holds CR, LF or other non-printable characters, which
 *   would let one command smuggle in another line.
 */
export function formatRflinkCommand(command: string): string {
  if (command.length === 0 || !PRINTABLE_ASCII.test(command)) {
    throw new RangeError(`RFLink command must be non-empty printable ASCII, got ${JSON.stringify(command)}`);
  }
  return `${COMMAND_PREFIX}${command};\r\n`;
}

/**
 * Reads a line the host sent to the gateway (the simulator's side of {@link formatRflinkCommand}):
 * `10;PING;` → `PING`, `10;NewKaku;00c142;1;ON;` → `NewKaku;00c142;1;ON`. Surrounding whitespace and
 * CR/LF are ignored. Returns null when the line is not a command (no `10;` prefix, no final `;`, or
 * nothing in between).
 */
export function parseRflinkCommand(line: string): string | null {
  const text = line.trim();
  if (!text.startsWith(COMMAND_PREFIX) || !text.endsWith(';')) return null;
  const command = text.slice(COMMAND_PREFIX.length, -1);
  return command.length > 0 ? command : null;
}

/**
 * A line as the gateway sends it (the simulator's side of {@link parseRflinkLine}): `20;`, the counter
 * mod 256 as two upper-case hex digits, each part followed by `;`, then CR LF. For example
 * `formatRflinkLine(0x2d, ['EV1527', 'ID=0d3e4', 'SWITCH=01', 'CMD=ON'])` is
 * `'20;2D;EV1527;ID=0d3e4;SWITCH=01;CMD=ON;\r\n'`.
 *
 * @throws RangeError if the counter is not an integer.
 */
export function formatRflinkLine(counter: number, parts: readonly string[]): string {
  if (!Number.isInteger(counter)) throw new RangeError(`RFLink counter must be an integer, got ${counter}`);
  const wrapped = ((counter % 256) + 256) % 256;
  const hex = wrapped.toString(16).toUpperCase().padStart(2, '0');
  return `${GATEWAY_PREFIX}${hex};${parts.map((part) => `${part};`).join('')}\r\n`;
}

/**
 * The key that identifies one transmitter (and button): `protocol:id:switch`, e.g. `EV1527:0d3e4:01`.
 * The protocol is kept as given, the id is lower-cased (RFLink prints hex ids in either case depending
 * on the protocol plugin), and a missing switch gives an empty last part (`EV1527:0d3e4:`).
 * Returns null without an id, since such a packet cannot be told apart from another transmitter's.
 */
export function rflinkDeviceKey(msg: { protocol: string; id?: string; switch?: string }): string | null {
  if (msg.id === undefined || msg.id.length === 0) return null;
  return `${msg.protocol}:${msg.id.toLowerCase()}:${msg.switch ?? ''}`;
}
