import type { SeeedFrame } from './frame.js';

/**
 * Meaning of the Seeed 60 GHz frames the gateway uses: decoding a frame into a typed report, and the
 * reverse for the device simulator. Sources: the project's protocol note (design/protocols/seeed-60ghz.md),
 * the vendor's Arduino libraries for the MR60BHA1 and MR60FDA1 (`60ghzbreathheart.h`,
 * `60ghzfalldetection.h`) and the MR60BHA1 wiki page.
 *
 * Decoding never throws: a frame with a known control/command but a wrong data length or a value outside
 * the documented set becomes `{type: 'invalid'}` with a reason, anything else `{type: 'unknown'}`.
 */

/** Sleep state as numbered by the vendor's MR60BHA1 library: 0 deep, 1 light, 2 awake, 3 none. */
export type SeeedSleepState = 'deep' | 'light' | 'awake' | 'none';

/** A decoded Seeed radar report; `type` tells which. */
export type SeeedReport =
  /** 01/01 — the module's periodic "I am alive" (observed about once a minute, data `0F`). */
  | { type: 'heartbeat' }
  /** 80/01 — someone in the detection area. */
  | { type: 'presence'; present: boolean }
  /** 80/02 — motion state of the person. */
  | { type: 'motion'; motion: 'none' | 'stationary' | 'active' }
  /** 80/03 — body-movement parameter 0–100 (MR60BHA1 reports it about once a second). */
  | { type: 'body_movement'; value: number }
  /** 81/01 — breathing assessment of the MR60BHA1. */
  | { type: 'breath_status'; status: 'normal' | 'too_fast' | 'too_slow' | 'none' }
  /** 81/02 — breaths per minute (MR60BHA1, about every 3 s). */
  | { type: 'breath_rate'; perMin: number }
  /** 85/02 — heart beats per minute (MR60BHA1, about every 3 s). */
  | { type: 'heart_rate'; bpm: number }
  /** 84/01 — MR60BHA1 bed state; `none` in real-time mode. */
  | { type: 'bed_state'; state: 'out_of_bed' | 'in_bed' | 'none' }
  /** 84/02 — MR60BHA1 sleep state; `none` in real-time mode. */
  | { type: 'sleep_state'; state: SeeedSleepState }
  /** 83/01 — MR60FDA1 fall state, sent when it changes. */
  | { type: 'fall'; fallen: boolean }
  /** 83/05 — MR60FDA1 "stationary residency": someone stays still in place. */
  | { type: 'stationary_residency'; present: boolean }
  /** 02/A1 reply — product model string. */
  | { type: 'product_model'; model: string }
  /** 02/A4 reply — firmware version string, e.g. `G60FD1SYv010104`. */
  | { type: 'firmware_version'; version: string }
  // The members below are MR60BHA1 reports confirmed in the vendor's Arduino library header and wiki
  // (60ghzbreathheart.h, wiki.seeedstudio.com/Radar_MR60BHA1), beyond the project's protocol note.
  /** 80/04 — distance to the person in centimetres (2 bytes big-endian; about every 2 s). */
  | { type: 'distance'; cm: number }
  /** 84/03, 84/04, 84/05 — minutes spent awake / in light sleep / in deep sleep (2 bytes big-endian). */
  | { type: 'sleep_duration'; phase: 'awake' | 'light' | 'deep'; minutes: number }
  /** 84/06 — sleep quality score, at the end of a sleep session. */
  | { type: 'sleep_score'; score: number }
  /**
   * 84/0C — sleep summary of the last ten minutes (sleep mode only): presence, sleep state, average
   * breath and heart rate, number of turnovers, share of large and small movements (%), apnea count.
   */
  | {
      type: 'sleep_summary';
      present: boolean;
      state: SeeedSleepState;
      breathPerMin: number;
      heartBpm: number;
      turnovers: number;
      largeMovementPct: number;
      smallMovementPct: number;
      apneaCount: number;
    }
  /** 84/0D — whole-session sleep quality, when the module judges the sleep session over. */
  | {
      type: 'sleep_quality';
      score: number;
      totalSleepMinutes: number;
      awakePct: number;
      lightSleepPct: number;
      deepSleepPct: number;
      outOfBedMinutes: number;
      outOfBedCount: number;
      turnovers: number;
      breathPerMin: number;
      heartBpm: number;
      apneaCount: number;
    }
  /** 84/0E — abnormal sleep: slept under 4 h, over 12 h, nobody there for a long time, or none. */
  | { type: 'sleep_anomaly'; anomaly: 'under_4h' | 'over_12h' | 'long_absence' | 'none' }
  /** Any other control/command, data passed through. */
  | { type: 'unknown'; control: number; command: number; data: Uint8Array }
  /** A known control/command with a wrong data length or an undocumented value. */
  | { type: 'invalid'; control: number; command: number; reason: string };

/** Every report except `invalid`, i.e. what {@link encodeReport} can produce. */
export type EncodableSeeedReport = Exclude<SeeedReport, { type: 'invalid' }>;

/** Data byte of a query sent to the module (and of the module's heartbeat). */
const QUERY_BYTE = 0x0f;

const MOTION = ['none', 'stationary', 'active'] as const;
// Breath status is numbered from 1.
const BREATH_STATUS = [undefined, 'normal', 'too_fast', 'too_slow', 'none'] as const;
const BED_STATE = ['out_of_bed', 'in_bed', 'none'] as const;
const SLEEP_STATE = ['deep', 'light', 'awake', 'none'] as const;
const SLEEP_ANOMALY = ['under_4h', 'over_12h', 'long_absence', 'none'] as const;
const SLEEP_PHASE_COMMAND = { awake: 0x03, light: 0x04, deep: 0x05 } as const;

/** Body-movement parameter range documented by the vendor. */
const BODY_MOVEMENT_MAX = 100;

type Decoder = (data: Uint8Array, fail: (reason: string) => SeeedReport) => SeeedReport;

/** Decoders by `control << 8 | command`. */
const DECODERS: ReadonlyMap<number, Decoder> = new Map<number, Decoder>([
  [key(0x01, 0x01), (d, fail) => (d.length === 1 ? { type: 'heartbeat' } : fail(lengthReason(1, d)))],
  [key(0x80, 0x01), (d, fail) => decodeFlag(d, fail, (present) => ({ type: 'presence', present }))],
  [key(0x80, 0x02), (d, fail) => decodeEnum(d, fail, MOTION, (motion) => ({ type: 'motion', motion }))],
  [
    key(0x80, 0x03),
    (d, fail) =>
      decodeByte(d, fail, (value) =>
        value <= BODY_MOVEMENT_MAX
          ? { type: 'body_movement', value }
          : fail(`body movement ${value} is above ${BODY_MOVEMENT_MAX}`),
      ),
  ],
  [
    key(0x80, 0x04),
    (d, fail) => (d.length === 2 ? { type: 'distance', cm: readU16(d, 0) } : fail(lengthReason(2, d))),
  ],
  [
    key(0x81, 0x01),
    (d, fail) => decodeEnum(d, fail, BREATH_STATUS, (status) => ({ type: 'breath_status', status })),
  ],
  // Heart and breath rates take any byte: the vendor caps them (heart ≤ 100, breath ≤ 25 on current
  // firmware) but deciding what is plausible belongs to the device layer, not to the codec.
  [key(0x81, 0x02), (d, fail) => decodeByte(d, fail, (perMin) => ({ type: 'breath_rate', perMin }))],
  [key(0x85, 0x02), (d, fail) => decodeByte(d, fail, (bpm) => ({ type: 'heart_rate', bpm }))],
  [key(0x83, 0x01), (d, fail) => decodeFlag(d, fail, (fallen) => ({ type: 'fall', fallen }))],
  [
    key(0x83, 0x05),
    (d, fail) => decodeFlag(d, fail, (present) => ({ type: 'stationary_residency', present })),
  ],
  [key(0x84, 0x01), (d, fail) => decodeEnum(d, fail, BED_STATE, (state) => ({ type: 'bed_state', state }))],
  [
    key(0x84, 0x02),
    (d, fail) => decodeEnum(d, fail, SLEEP_STATE, (state) => ({ type: 'sleep_state', state })),
  ],
  ...(Object.entries(SLEEP_PHASE_COMMAND) as [keyof typeof SLEEP_PHASE_COMMAND, number][]).map(
    ([phase, command]): [number, Decoder] => [
      key(0x84, command),
      (d, fail) =>
        d.length === 2 ? { type: 'sleep_duration', phase, minutes: readU16(d, 0) } : fail(lengthReason(2, d)),
    ],
  ),
  [key(0x84, 0x06), (d, fail) => decodeByte(d, fail, (score) => ({ type: 'sleep_score', score }))],
  [key(0x84, 0x0c), decodeSleepSummary],
  [key(0x84, 0x0d), decodeSleepQuality],
  [
    key(0x84, 0x0e),
    (d, fail) => decodeEnum(d, fail, SLEEP_ANOMALY, (anomaly) => ({ type: 'sleep_anomaly', anomaly })),
  ],
  [key(0x02, 0xa1), (d, fail) => decodeString(d, fail, (model) => ({ type: 'product_model', model }))],
  [key(0x02, 0xa4), (d, fail) => decodeString(d, fail, (version) => ({ type: 'firmware_version', version }))],
]);

/**
 * Gives a frame its meaning. Never throws: see {@link SeeedReport} `unknown` and `invalid`.
 * The returned `unknown.data` is a copy, so the report stays valid whatever happens to the frame.
 */
export function decodeReport(frame: SeeedFrame): SeeedReport {
  const { control, command, data } = frame;
  const decoder = DECODERS.get(key(control, command));
  if (decoder === undefined) return { type: 'unknown', control, command, data: data.slice() };
  return decoder(data, (reason) => ({ type: 'invalid', control, command, reason }));
}

/**
 * Builds the frame the module would send for a report (the simulator's side of {@link decodeReport}):
 * `decodeReport(encodeReport(r))` equals `r` for every representable report.
 *
 * @throws RangeError for a value that the wire format cannot carry (a number that is not an integer in
 *   the field's range, an enum value outside the documented set, an empty or non-ASCII string). These
 *   are bugs in the caller; to produce deliberately broken frames, build a {@link SeeedFrame} by hand.
 */
export function encodeReport(report: EncodableSeeedReport): SeeedFrame {
  switch (report.type) {
    case 'heartbeat':
      return frame(0x01, 0x01, [QUERY_BYTE]);
    case 'presence':
      return frame(0x80, 0x01, [report.present ? 1 : 0]);
    case 'motion':
      return frame(0x80, 0x02, [indexOf(MOTION, report.motion, 'motion')]);
    case 'body_movement':
      return frame(0x80, 0x03, [u8(report.value, 'body movement', BODY_MOVEMENT_MAX)]);
    case 'distance':
      return frame(0x80, 0x04, u16(report.cm, 'distance'));
    case 'breath_status':
      return frame(0x81, 0x01, [indexOf(BREATH_STATUS, report.status, 'breath status')]);
    case 'breath_rate':
      return frame(0x81, 0x02, [u8(report.perMin, 'breath rate')]);
    case 'heart_rate':
      return frame(0x85, 0x02, [u8(report.bpm, 'heart rate')]);
    case 'fall':
      return frame(0x83, 0x01, [report.fallen ? 1 : 0]);
    case 'stationary_residency':
      return frame(0x83, 0x05, [report.present ? 1 : 0]);
    case 'bed_state':
      return frame(0x84, 0x01, [indexOf(BED_STATE, report.state, 'bed state')]);
    case 'sleep_state':
      return frame(0x84, 0x02, [indexOf(SLEEP_STATE, report.state, 'sleep state')]);
    case 'sleep_duration':
      return frame(0x84, SLEEP_PHASE_COMMAND[report.phase], u16(report.minutes, 'sleep duration'));
    case 'sleep_score':
      return frame(0x84, 0x06, [u8(report.score, 'sleep score')]);
    case 'sleep_summary':
      return frame(0x84, 0x0c, [
        report.present ? 1 : 0,
        indexOf(SLEEP_STATE, report.state, 'sleep state'),
        u8(report.breathPerMin, 'breath rate'),
        u8(report.heartBpm, 'heart rate'),
        u8(report.turnovers, 'turnovers'),
        u8(report.largeMovementPct, 'large movement %'),
        u8(report.smallMovementPct, 'small movement %'),
        u8(report.apneaCount, 'apnea count'),
      ]);
    case 'sleep_quality':
      return frame(0x84, 0x0d, [
        u8(report.score, 'sleep score'),
        ...u16(report.totalSleepMinutes, 'total sleep minutes'),
        u8(report.awakePct, 'awake %'),
        u8(report.lightSleepPct, 'light sleep %'),
        u8(report.deepSleepPct, 'deep sleep %'),
        u8(report.outOfBedMinutes, 'out-of-bed minutes'),
        u8(report.outOfBedCount, 'out-of-bed count'),
        u8(report.turnovers, 'turnovers'),
        u8(report.breathPerMin, 'breath rate'),
        u8(report.heartBpm, 'heart rate'),
        u8(report.apneaCount, 'apnea count'),
      ]);
    case 'sleep_anomaly':
      return frame(0x84, 0x0e, [indexOf(SLEEP_ANOMALY, report.anomaly, 'sleep anomaly')]);
    case 'product_model':
      return frame(0x02, 0xa1, ascii(report.model, 'product model'));
    case 'firmware_version':
      return frame(0x02, 0xa4, ascii(report.version, 'firmware version'));
    case 'unknown':
      return { control: report.control, command: report.command, data: report.data.slice() };
  }
}

/** The query for the product model (02/A1, data `0F`); the module answers with a string. */
export function queryProductModel(): SeeedFrame {
  return frame(0x02, 0xa1, [QUERY_BYTE]);
}

/** The query for the firmware version (02/A4, data `0F`); the module answers with a string. */
export function queryFirmwareVersion(): SeeedFrame {
  return frame(0x02, 0xa4, [QUERY_BYTE]);
}

/** The command that resets the module (01/02, data `0F`). */
export function resetModule(): SeeedFrame {
  return frame(0x01, 0x02, [QUERY_BYTE]);
}

/**
 * Which query a frame sent to the module is, or null: lets the simulator answer
 * {@link queryProductModel} and {@link queryFirmwareVersion}.
 */
export function isQuery(frame: SeeedFrame): 'product_model' | 'firmware_version' | null {
  if (frame.control !== 0x02 || frame.data.length !== 1 || frame.data[0] !== QUERY_BYTE) return null;
  if (frame.command === 0xa1) return 'product_model';
  if (frame.command === 0xa4) return 'firmware_version';
  return null;
}

function key(control: number, command: number): number {
  return (control << 8) | command;
}

function frame(control: number, command: number, data: readonly number[]): SeeedFrame {
  return { control, command, data: Uint8Array.from(data) };
}

function lengthReason(expected: number, data: Uint8Array): string {
  return `expected ${expected} data byte${expected === 1 ? '' : 's'}, got ${data.length}`;
}

function readU16(data: Uint8Array, offset: number): number {
  return ((data[offset] as number) << 8) | (data[offset + 1] as number);
}

function decodeByte(
  data: Uint8Array,
  fail: (reason: string) => SeeedReport,
  make: (value: number) => SeeedReport,
): SeeedReport {
  const value = data[0];
  return data.length === 1 && value !== undefined ? make(value) : fail(lengthReason(1, data));
}

function decodeFlag(
  data: Uint8Array,
  fail: (reason: string) => SeeedReport,
  make: (flag: boolean) => SeeedReport,
): SeeedReport {
  return decodeByte(data, fail, (value) =>
    value <= 1 ? make(value === 1) : fail(`value ${value} is not 0 or 1`),
  );
}

function decodeEnum<T extends string>(
  data: Uint8Array,
  fail: (reason: string) => SeeedReport,
  names: readonly (T | undefined)[],
  make: (name: T) => SeeedReport,
): SeeedReport {
  return decodeByte(data, fail, (value) => {
    const name = names[value];
    return name === undefined ? fail(`value ${value} is not a documented code`) : make(name);
  });
}

function decodeSleepSummary(data: Uint8Array, fail: (reason: string) => SeeedReport): SeeedReport {
  if (data.length !== 8) return fail(lengthReason(8, data));
  const b = (i: number): number => data[i] as number;
  const state = SLEEP_STATE[b(1)];
  if (b(0) > 1) return fail(`presence value ${b(0)} is not 0 or 1`);
  if (state === undefined) return fail(`sleep state ${b(1)} is not a documented code`);
  return {
    type: 'sleep_summary',
    present: b(0) === 1,
    state,
    breathPerMin: b(2),
    heartBpm: b(3),
    turnovers: b(4),
    largeMovementPct: b(5),
    smallMovementPct: b(6),
    apneaCount: b(7),
  };
}

function decodeSleepQuality(data: Uint8Array, fail: (reason: string) => SeeedReport): SeeedReport {
  if (data.length !== 12) return fail(lengthReason(12, data));
  const b = (i: number): number => data[i] as number;
  return {
    type: 'sleep_quality',
    score: b(0),
    totalSleepMinutes: readU16(data, 1),
    awakePct: b(3),
    lightSleepPct: b(4),
    deepSleepPct: b(5),
    outOfBedMinutes: b(6),
    outOfBedCount: b(7),
    turnovers: b(8),
    breathPerMin: b(9),
    heartBpm: b(10),
    apneaCount: b(11),
  };
}

/** Printable ASCII only; the module pads some replies with NULs, which are trimmed with whitespace. */
function decodeString(
  data: Uint8Array,
  fail: (reason: string) => SeeedReport,
  make: (text: string) => SeeedReport,
): SeeedReport {
  if (data.length === 1 && data[0] === QUERY_BYTE) return fail('query frame (data 0F), not a reply');
  let start = 0;
  let end = data.length;
  while (start < end && isPadding(data[start] as number)) start++;
  while (end > start && isPadding(data[end - 1] as number)) end--;
  if (start === end) return fail('empty string');
  let text = '';
  for (let i = start; i < end; i++) {
    const byte = data[i] as number;
    if (byte < 0x20 || byte > 0x7e) return fail(`byte 0x${hex2(byte)} at ${i} is not printable ASCII`);
    text += String.fromCharCode(byte);
  }
  return make(text);
}

function isPadding(byte: number): boolean {
  // NUL, tab, LF, VT, FF, CR, space.
  return byte === 0x00 || byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
}

function hex2(byte: number): string {
  return byte.toString(16).toUpperCase().padStart(2, '0');
}

function u8(value: number, name: string, max = 0xff): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${name} must be an integer 0-${max}, got ${value}`);
  }
  return value;
}

function u16(value: number, name: string): [number, number] {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new RangeError(`${name} must be an integer 0-65535, got ${value}`);
  }
  return [value >> 8, value & 0xff];
}

function indexOf<T extends string>(names: readonly (T | undefined)[], value: T, name: string): number {
  const index = names.indexOf(value);
  if (index < 0) throw new RangeError(`${name} ${JSON.stringify(value)} has no code`);
  return index;
}

function ascii(text: string, name: string): number[] {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code > 0x7e) {
      throw new RangeError(`${name} must be printable ASCII: ${JSON.stringify(text)}`);
    }
    bytes.push(code);
  }
  // Leading/trailing spaces would be trimmed by the decoder, breaking the round trip.
  if (bytes.length === 0 || text.trim() !== text) {
    throw new RangeError(`${name} must be non-empty without surrounding spaces: ${JSON.stringify(text)}`);
  }
  return bytes;
}
