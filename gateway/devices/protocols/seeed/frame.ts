/**
 * Frame codec for the Seeed 60 GHz mmWave radars (MR60FDA1 fall detection, MR60BHA1 breathing and
 * heartbeat). Both speak the same framed binary protocol on their UART:
 *
 * | header `53 59` | control | command | length (2, big-endian) | data | checksum | tail `54 43` |
 *
 * The checksum is the low 8 bits of the sum of every byte from the header through the data.
 * This module is pure: it turns one frame into bytes and back. Finding frames in a byte stream is the
 * job of {@link SeeedFramer} in `framer.ts`; giving the frames a meaning is `reports.ts`.
 */

/** One frame of the Seeed 60 GHz protocol, without its framing bytes (header, length, checksum, tail). */
export interface SeeedFrame {
  /** Control word: the function group (e.g. `0x80` human presence, `0x85` heart rate). */
  control: number;
  /** Command word: the item inside the group. */
  command: number;
  /** The data field; its length is what the frame's length field carries. */
  data: Uint8Array;
}

/** The two bytes that start every frame (`'SY'`). */
export const SEEED_HEADER = [0x53, 0x59] as const;
/** The two bytes that end every frame (`'TC'`). */
export const SEEED_TAIL = [0x54, 0x43] as const;

/** Bytes a frame adds around its data: header 2 + control 1 + command 1 + length 2 + checksum 1 + tail 2. */
export const SEEED_FRAME_OVERHEAD = 9;

/** The largest data length the 2-byte length field can carry. */
const MAX_WIRE_DATA_LENGTH = 0xffff;

/**
 * The Seeed checksum: the low 8 bits of the sum of all bytes given.
 * Pass the bytes from the header through the data (not the checksum or tail).
 */
export function seeedChecksum(bytes: Uint8Array): number {
  let sum = 0;
  for (const byte of bytes) {
    sum = (sum + byte) & 0xff;
  }
  return sum;
}

/**
 * Serialises a frame: header, control, command, 2-byte big-endian length, data, checksum, tail.
 *
 * @throws RangeError if control or command is not a byte, or the data is longer than 65535 bytes —
 *   these are programming errors of the caller, never something read from a device.
 */
export function encodeFrame(frame: SeeedFrame): Uint8Array {
  assertByte('control', frame.control);
  assertByte('command', frame.command);
  const length = frame.data.length;
  if (length > MAX_WIRE_DATA_LENGTH) {
    throw new RangeError(`Seeed frame data is ${length} bytes, the length field holds at most 65535`);
  }
  const out = new Uint8Array(length + SEEED_FRAME_OVERHEAD);
  out[0] = SEEED_HEADER[0];
  out[1] = SEEED_HEADER[1];
  out[2] = frame.control;
  out[3] = frame.command;
  out[4] = length >> 8;
  out[5] = length & 0xff;
  out.set(frame.data, 6);
  out[6 + length] = seeedChecksum(out.subarray(0, 6 + length));
  out[7 + length] = SEEED_TAIL[0];
  out[8 + length] = SEEED_TAIL[1];
  return out;
}

function assertByte(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) {
    throw new RangeError(`Seeed frame ${name} must be an integer 0-255, got ${value}`);
  }
}
