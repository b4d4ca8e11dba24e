import { HomebedError } from '../../common/errors.js';
import {
  LineFramer,
  parseRflinkLine,
  type RflinkMessage,
  RflinkParseError,
  type RflinkParseReason,
} from '../devices/protocols/rflink/index.js';
import {
  decodeReport,
  encodeFrame,
  type SeeedDropReason,
  type SeeedFrame,
  SeeedFramer,
  type SeeedReport,
} from '../devices/protocols/seeed/index.js';

/**
 * Offline decoding of what an installer captured from a serial port (a hex dump of a radar, a terminal
 * log of an RFLink): one JSON-serialisable record per frame or line and one per problem, in stream order,
 * so a capture can be read line by line (`homebed-gateway decode …` prints them as JSON Lines).
 *
 * Pure: no I/O. It runs the gateway's own framers and codecs, so it sees exactly what the gateway would.
 */

/** A Seeed report as JSON: {@link SeeedReport}, with the `unknown` report's data bytes as a hex string. */
export type JsonSeeedReport =
  | Exclude<SeeedReport, { type: 'unknown' }>
  | { type: 'unknown'; control: number; command: number; data: string };

/** One complete Seeed frame with a valid tail and checksum, and what it means. */
export interface SeeedFrameRecord {
  ok: true;
  /** Index in the capture of the frame's first byte (the `53` of its header). */
  offset: number;
  /** The whole frame, header to tail, as upper-case hex pairs separated by spaces. */
  hex: string;
  /** Control word as two upper-case hex digits (`85`), as the protocol note writes it. */
  control: string;
  /** Command word as two upper-case hex digits (`02`). */
  command: string;
  report: JsonSeeedReport;
}

/**
 * Bytes the Seeed framer threw away.
 * - `checksum`, `tail`: a complete frame (all of it in `hex`) with a wrong checksum / tail;
 * - `length`: a header whose length field is above the framer's bound, or proved wrong by a valid frame
 *   inside its span; `hex` holds only its 6-byte prefix (header, control, command, length);
 * - `timeout`: a frame still incomplete at the end of the capture (what the gateway drops after an idle
 *   gap);
 * - `noise`: a run of bytes outside any frame or dropped frame (consecutive noise bytes are one record).
 */
export interface SeeedErrorRecord {
  ok: false;
  /** Index in the capture of the first byte in `hex`. */
  offset: number;
  reason: SeeedDropReason | 'noise';
  hex: string;
}

/** What {@link decodeSeeedCapture} returns, one per frame or problem. */
export type SeeedDecodeRecord = SeeedFrameRecord | SeeedErrorRecord;

/** One RFLink line that parsed. */
export interface RflinkLineRecord {
  ok: true;
  /** 1-based line number in the text. */
  line: number;
  message: RflinkMessage;
}

/**
 * One line that is not RFLink output: a {@link RflinkParseReason}, or `overlong` for a line longer than the
 * gateway's line framer accepts (512 characters), which the gateway drops without parsing.
 */
export interface RflinkErrorRecord {
  ok: false;
  line: number;
  reason: RflinkParseReason | 'overlong';
  /**
   * The offending line, cut to 120 characters, with every character outside printable ASCII written as
   * `\xNN` (line noise holds control characters that would garble a terminal).
   */
  text: string;
}

/** What {@link decodeRflinkCapture} returns, one per non-empty line. */
export type RflinkDecodeRecord = RflinkLineRecord | RflinkErrorRecord;

/** Any record of the installer's decoders. */
export type DecodeRecord = SeeedDecodeRecord | RflinkDecodeRecord;

/** Pasted hex that cannot be read as bytes; never retriable. */
export class HexParseError extends HomebedError {
  constructor(message: string) {
    super('HB_HEX_INVALID', message);
  }
}

const HEADER_0 = 0x53;
const HEADER_1 = 0x59;
/** Longest line text kept in an error record, as RflinkParseError does. */
const MAX_ERROR_TEXT = 120;

/**
 * Reads hex bytes in the forms installers paste: `53 59 85 02`, `5359850200`, `0x53,0x59`, `53:59`,
 * spread over lines, upper or lower case. Tokens are separated by whitespace, `,`, `;` or `:`; a token
 * without `0x` must have an even number of digits (a run of bytes), a token with `0x` may also have one
 * digit (`0x5` as C arrays write it). `#` starts a comment to the end of the line, so a capture file can
 * say where it came from.
 *
 * @throws HexParseError naming the line, column and token when a token is not hex or has an odd number
 *   of digits (a lost nibble would shift every byte after it).
 */
export function parseHex(text: string): Uint8Array {
  const bytes: number[] = [];
  const lines = text.split(/\r?\n|\r/);
  for (let lineIndex = 0; lineIndex < lines.length; lineIndex++) {
    const raw = lines[lineIndex] as string;
    const hash = raw.indexOf('#');
    const content = hash === -1 ? raw : raw.slice(0, hash);
    for (const match of content.matchAll(/[^\s,;:]+/g)) {
      const token = match[0];
      const where = `line ${lineIndex + 1}, column ${(match.index ?? 0) + 1}`;
      const prefixed = /^0x/i.test(token);
      const digits = prefixed ? token.slice(2) : token;
      if (!/^[0-9a-fA-F]+$/.test(digits)) {
        throw new HexParseError(`not hex at ${where}: ${JSON.stringify(token)}`);
      }
      if (prefixed && digits.length === 1) {
        bytes.push(Number.parseInt(digits, 16));
        continue;
      }
      if (digits.length % 2 !== 0) {
        throw new HexParseError(
          `odd number of hex digits at ${where}: ${JSON.stringify(token)} (${digits.length} digit${digits.length === 1 ? '' : 's'}; write each byte as two)`,
        );
      }
      for (let i = 0; i < digits.length; i += 2) bytes.push(Number.parseInt(digits.slice(i, i + 2), 16));
    }
  }
  return Uint8Array.from(bytes);
}

/** Bytes as upper-case hex pairs separated by spaces (`53 59 85 02`), the protocol note's notation. */
export function formatHex(bytes: Uint8Array): string {
  return Array.from(bytes, hex2).join(' ');
}

/**
 * Decodes a capture of a Seeed 60 GHz radar's serial output: every valid frame with its report, every
 * frame the gateway's framer would drop (with the framer's reason) and every run of noise, in stream order
 * (sorted by `offset`; a dropped frame's span may contain the records that follow it, since the framer
 * resynchronises just after a bad frame's header). The capture is taken as ending with an idle gap, so a
 * trailing partial frame is reported as `timeout`.
 *
 * The framer reports drops through `onDrop` with their bytes but not their position, so the offsets are
 * reconstructed: the capture is pushed one byte at a time, which puts frames and drops in their true
 * order (a frame is returned by the push of its last byte, after the drops of that push), and each event
 * starts at the first header at or after the framer's scan position, which advances by a frame's length
 * after a frame and by the 2 header bytes after a drop. Noise is then what no frame or drop covers, which
 * is exactly what the framer counts in `noiseBytes`.
 */
export function decodeSeeedCapture(bytes: Uint8Array): SeeedDecodeRecord[] {
  type Event =
    | { kind: 'frame'; frame: SeeedFrame }
    | { kind: 'drop'; reason: SeeedDropReason; bytes: Uint8Array };
  const events: Event[] = [];
  const framer = new SeeedFramer({
    onDrop: (reason, dropped) => events.push({ kind: 'drop', reason, bytes: dropped }),
  });
  for (let i = 0; i < bytes.length; i++) {
    for (const frame of framer.push(bytes.subarray(i, i + 1))) events.push({ kind: 'frame', frame });
  }
  framer.discardPartial();

  const records: SeeedDecodeRecord[] = [];
  /** Per byte: covered by a frame or a dropped frame (so it is not noise). */
  const covered = new Uint8Array(bytes.length);
  let scan = 0;
  for (const event of events) {
    const offset = findHeader(bytes, scan);
    const span = event.kind === 'frame' ? encodeFrame(event.frame) : event.bytes;
    if (offset === -1 || !matchesAt(bytes, offset, span)) {
      // Cannot happen while the framer works as documented; say so rather than print a wrong offset.
      throw new Error(`decodeSeeedCapture: lost track of the framer's position near byte ${scan}`);
    }
    covered.fill(1, offset, offset + span.length);
    if (event.kind === 'frame') {
      records.push(frameRecord(offset, span, event.frame));
      scan = offset + span.length;
    } else {
      records.push({ ok: false, offset, reason: event.reason, hex: formatHex(span) });
      scan = offset + 2;
    }
  }
  for (let start = 0; start < bytes.length; ) {
    if (covered[start] === 1) {
      start++;
      continue;
    }
    let end = start;
    while (end < bytes.length && covered[end] === 0) end++;
    records.push({ ok: false, offset: start, reason: 'noise', hex: formatHex(bytes.subarray(start, end)) });
    start = end;
  }
  // Stable: a drop and the noise right after its 6-byte prefix keep the order they have in the stream.
  return records.sort((a, b) => a.offset - b.offset);
}

/**
 * Decodes an RFLink gateway's serial output (a terminal log): one record per non-empty line, the parsed
 * message or the reason the gateway would reject it. Lines end with LF or CR LF (a lone CR also ends a
 * line, as terminals show it); `line` numbers count every line of `text`, empty ones included, so they
 * match an editor's. Lines go through the gateway's own line framer, so its length limit applies.
 */
export function decodeRflinkCapture(text: string): RflinkDecodeRecord[] {
  const records: RflinkDecodeRecord[] = [];
  const framer = new LineFramer();
  const lines = text.split(/\r?\n|\r/);
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index] as string;
    const line = index + 1;
    const overlongBefore = framer.dropped.overlong;
    const framed = framer.push(`${raw}\n`);
    if (framer.dropped.overlong !== overlongBefore) {
      records.push({ ok: false, line, reason: 'overlong', text: printable(raw.slice(0, MAX_ERROR_TEXT)) });
      continue;
    }
    for (const piece of framed) {
      // Whitespace-only lines (a terminal's trailing blanks) are not gateway output and not errors either.
      if (piece.trim().length === 0) continue;
      try {
        records.push({ ok: true, line, message: toJsonMessage(parseRflinkLine(piece)) });
      } catch (err) {
        if (!(err instanceof RflinkParseError)) throw err;
        records.push({ ok: false, line, reason: err.reason, text: printable(err.line) });
      }
    }
  }
  return records;
}

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${hex2(code)}` : `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
  });
}

function frameRecord(offset: number, span: Uint8Array, frame: SeeedFrame): SeeedFrameRecord {
  const report = decodeReport(frame);
  return {
    ok: true,
    offset,
    hex: formatHex(span),
    control: hex2(frame.control),
    command: hex2(frame.command),
    report: report.type === 'unknown' ? { ...report, data: formatHex(report.data) } : report,
  };
}

/** The parser freezes `fields`; a plain copy serialises the same and can be compared and extended. */
function toJsonMessage(message: RflinkMessage): RflinkMessage {
  return message.kind === 'packet' ? { ...message, fields: { ...message.fields } } : message;
}

function findHeader(bytes: Uint8Array, from: number): number {
  for (let i = from; i + 1 < bytes.length; i++) {
    if (bytes[i] === HEADER_0 && bytes[i + 1] === HEADER_1) return i;
  }
  return -1;
}

function matchesAt(bytes: Uint8Array, offset: number, span: Uint8Array): boolean {
  if (offset + span.length > bytes.length) return false;
  for (let i = 0; i < span.length; i++) if (bytes[offset + i] !== span[i]) return false;
  return true;
}

function hex2(byte: number): string {
  return byte.toString(16).toUpperCase().padStart(2, '0');
}
