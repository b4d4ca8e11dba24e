import { describe, expect, it } from 'vitest';
import {
  encodeFrame,
  SEEED_HEADER,
  SEEED_TAIL,
  seeedChecksum,
} from '../../../gateway/devices/protocols/seeed/index.js';
import { COMMAND_FRAMES, fromHex, toHex } from '../../fixtures/protocols/seeed-frames.js';

describe('seeedChecksum', () => {
  it('is the low 8 bits of the byte sum', () => {
    // 53+59+02+A1+00+01+0F = 0x15F, the vendor's own worked example.
    expect(seeedChecksum(fromHex('53 59 02 A1 00 01 0F'))).toBe(0x5f);
    expect(seeedChecksum(fromHex('FF FF FF'))).toBe(0xfd);
    expect(seeedChecksum(new Uint8Array(0))).toBe(0);
  });
});

describe('encodeFrame', () => {
  it('frames header, words, big-endian length, data, checksum and tail', () => {
    const bytes = encodeFrame({ control: 0x85, command: 0x02, data: Uint8Array.of(0x48) });
    expect(toHex(bytes)).toBe('53 59 85 02 00 01 48 7C 54 43');
    expect([bytes[0], bytes[1]]).toEqual([...SEEED_HEADER]);
    expect([bytes[8], bytes[9]]).toEqual([...SEEED_TAIL]);
  });

  it('reproduces the vendor-published command frames', () => {
    expect(toHex(encodeFrame({ control: 0x84, command: 0x0f, data: Uint8Array.of(0x00) }))).toBe(
      COMMAND_FRAMES.realtimeMode,
    );
    expect(toHex(encodeFrame({ control: 0x01, command: 0x02, data: Uint8Array.of(0x0f) }))).toBe(
      COMMAND_FRAMES.reset,
    );
  });

  it('writes a length above 255 in two bytes, high byte first', () => {
    const bytes = encodeFrame({ control: 0x01, command: 0x01, data: new Uint8Array(0x0102) });
    expect(bytes.length).toBe(0x0102 + 9);
    expect([bytes[4], bytes[5]]).toEqual([0x01, 0x02]);
  });

  it('encodes an empty data field', () => {
    expect(toHex(encodeFrame({ control: 0x01, command: 0x01, data: new Uint8Array(0) }))).toBe(
      '53 59 01 01 00 00 AE 54 43',
    );
  });

  it('rejects words that are not bytes and data the length field cannot carry', () => {
    expect(() => encodeFrame({ control: 256, command: 1, data: new Uint8Array(0) })).toThrow(RangeError);
    expect(() => encodeFrame({ control: 1, command: -1, data: new Uint8Array(0) })).toThrow(RangeError);
    expect(() => encodeFrame({ control: 1.5, command: 1, data: new Uint8Array(0) })).toThrow(RangeError);
    expect(() => encodeFrame({ control: 1, command: 1, data: new Uint8Array(0x10000) })).toThrow(RangeError);
  });
});
