import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeRflinkCapture,
  decodeSeeedCapture,
  formatHex,
  HexParseError,
  parseHex,
  type SeeedDecodeRecord,
} from '../../../gateway/installer/decode.js';
import { REPO_ROOT } from '../../../tools/child-processes.js';
import { concat, fromHex, REPORT_FRAMES } from '../../fixtures/protocols/seeed-frames.js';

const CAPTURES = join(REPO_ROOT, 'test/fixtures/captures');
const fallCapture = () => readFileSync(join(CAPTURES, 'mr60fda1-fall.hex'), 'utf8');
const rflinkSession = () => readFileSync(join(CAPTURES, 'rflink-session.txt'), 'latin1');

/** `[reason or report type, offset]` per record: the shape of a decoded stream at a glance. */
function outline(records: SeeedDecodeRecord[]): [string, number][] {
  return records.map((r) => [r.ok ? r.report.type : r.reason, r.offset]);
}

describe('parseHex', () => {
  it('reads the forms installers paste', () => {
    const heart72 = [0x53, 0x59, 0x85, 0x02];
    expect([...parseHex('53 59 85 02')]).toEqual(heart72);
    expect([...parseHex('53598502')]).toEqual(heart72);
    expect([...parseHex('0x53,0x59,0x85,0x02')]).toEqual(heart72);
    expect([...parseHex('0x53, 0x59,\n0x85, 0x02,')]).toEqual(heart72);
    expect([...parseHex('53:59:85:02')]).toEqual(heart72);
    expect([...parseHex('  53 59\r\n85\t02\r\n')]).toEqual(heart72);
    expect([...parseHex('5359 8502')]).toEqual(heart72);
    expect([...parseHex('53 59 # header\n85 02 # heart rate')]).toEqual(heart72);
    expect([...parseHex('0X53 0x5 ab CD')]).toEqual([0x53, 0x05, 0xab, 0xcd]);
    expect([...parseHex('')]).toEqual([]);
    expect([...parseHex('# only a comment\n\n')]).toEqual([]);
  });

  it('refuses odd digit counts and non-hex, saying where', () => {
    expect(() => parseHex('53 59 8')).toThrow(HexParseError);
    expect(() => parseHex('53 59 8')).toThrow('odd number of hex digits at line 1, column 7: "8" (1 digit;');
    expect(() => parseHex('53 59\n535 02')).toThrow('at line 2, column 1: "535" (3 digits;');
    expect(() => parseHex('53 zz')).toThrow('not hex at line 1, column 4: "zz"');
    expect(() => parseHex('0x')).toThrow('not hex');
    expect(() => parseHex('0x123')).toThrow('odd number');
    expect(() => parseHex('53 59 SY')).toThrow(HexParseError);
  });

  it('formatHex writes what parseHex reads', () => {
    const bytes = Uint8Array.of(0x00, 0x0f, 0x53, 0xff);
    expect(formatHex(bytes)).toBe('00 0F 53 FF');
    expect(parseHex(formatHex(bytes))).toEqual(bytes);
  });
});

describe('decodeSeeedCapture', () => {
  it('decodes every golden frame to its report', () => {
    for (const golden of REPORT_FRAMES) {
      expect(decodeSeeedCapture(fromHex(golden.hex)), golden.name).toEqual([
        {
          ok: true,
          offset: 0,
          hex: golden.hex,
          control: golden.hex.slice(6, 8),
          command: golden.hex.slice(9, 11),
          report: golden.report,
        },
      ]);
    }
  });

  it('decodes the MR60FDA1 fall capture: frames, noise, a bad checksum and a cut-off frame, in order', () => {
    const bytes = parseHex(fallCapture());
    const records = decodeSeeedCapture(bytes);
    expect(outline(records)).toEqual([
      ['noise', 0],
      ['product_model', 4],
      ['firmware_version', 21],
      ['presence', 45],
      ['motion', 55],
      ['body_movement', 65],
      ['body_movement', 75],
      ['checksum', 85],
      ['fall', 95],
      ['motion', 105],
      ['body_movement', 115],
      ['stationary_residency', 125],
      ['noise', 135],
      ['heartbeat', 137],
      ['timeout', 147],
    ]);
    expect(records[0]).toEqual({ ok: false, offset: 0, reason: 'noise', hex: '00 FF 0A E0' });
    expect(records[1]).toMatchObject({ control: '02', command: 'A1', report: { model: 'MR60FDA1' } });
    expect(records[2]).toMatchObject({ report: { type: 'firmware_version', version: 'G60FD1SYv010104' } });
    expect(records[7]).toEqual({
      ok: false,
      offset: 85,
      reason: 'checksum',
      hex: '53 59 80 03 00 01 3C 6D 54 43',
    });
    expect(records[8]).toMatchObject({ ok: true, report: { type: 'fall', fallen: true } });
    expect(records[11]).toMatchObject({ report: { type: 'stationary_residency', present: true } });
    expect(records[14]).toEqual({ ok: false, offset: 147, reason: 'timeout', hex: '53 59 80 03 00' });
  });

  it('every record points at its own bytes and survives JSON', () => {
    const bytes = parseHex(fallCapture());
    for (const record of decodeSeeedCapture(bytes)) {
      const length = record.hex.split(' ').length;
      expect(formatHex(bytes.subarray(record.offset, record.offset + length))).toBe(record.hex);
      expect(JSON.parse(JSON.stringify(record))).toEqual(record);
    }
  });

  it('reports a false header as a 6-byte length drop and the bytes after it as noise', () => {
    // 53 59 in noise announcing 0x4142 data bytes (above the 128-byte bound), then a real frame.
    const bytes = concat(fromHex('53 59 01 02 41 42 43 44'), fromHex(REPORT_FRAMES[0]?.hex ?? ''));
    expect(decodeSeeedCapture(bytes)).toEqual([
      { ok: false, offset: 0, reason: 'length', hex: '53 59 01 02 41 42' },
      { ok: false, offset: 6, reason: 'noise', hex: '43 44' },
      expect.objectContaining({ ok: true, offset: 8, report: { type: 'heart_rate', bpm: 72 } }),
    ]);
  });

  it('finds a good frame inside a bad one (the framer resynchronises after the bad header)', () => {
    // A header whose span (4 data bytes) swallows the start of a real frame: its tail is wrong.
    expect(outline(decodeSeeedCapture(fromHex('53 59 80 01 00 04 53 59 85 02 00 01 48 7C 54 43')))).toEqual([
      ['tail', 0],
      ['heart_rate', 6],
    ]);
    // A header announcing 32 data bytes that never come: the valid frame inside proves it wrong at once.
    const heldBack = decodeSeeedCapture(fromHex('53 59 80 01 00 20 53 59 85 02 00 01 48 7C 54 43'));
    expect(heldBack).toEqual([
      { ok: false, offset: 0, reason: 'length', hex: '53 59 80 01 00 20' },
      expect.objectContaining({ ok: true, offset: 6, report: { type: 'heart_rate', bpm: 72 } }),
    ]);
  });

  it('renders the data of an unknown report as hex', () => {
    const bytes = fromHex('53 59 07 09 00 02 AB CD 36 54 43');
    expect(decodeSeeedCapture(bytes)).toEqual([
      {
        ok: true,
        offset: 0,
        hex: '53 59 07 09 00 02 AB CD 36 54 43',
        control: '07',
        command: '09',
        report: { type: 'unknown', control: 7, command: 9, data: 'AB CD' },
      },
    ]);
  });

  it('keeps an invalid report of a valid frame as a frame record', () => {
    const [record] = decodeSeeedCapture(fromHex('53 59 80 01 00 01 02 30 54 43'));
    expect(record).toMatchObject({ ok: true, report: { type: 'invalid', reason: 'value 2 is not 0 or 1' } });
  });

  it('handles empty input, pure noise and a lone trailing header byte', () => {
    expect(decodeSeeedCapture(new Uint8Array(0))).toEqual([]);
    expect(decodeSeeedCapture(fromHex('01 02 03'))).toEqual([
      { ok: false, offset: 0, reason: 'noise', hex: '01 02 03' },
    ]);
    expect(outline(decodeSeeedCapture(fromHex(`${REPORT_FRAMES[0]?.hex} 53`)))).toEqual([
      ['heart_rate', 0],
      ['noise', 10],
    ]);
  });
});

describe('decodeRflinkCapture', () => {
  it('decodes the RFLink session: banner, version, presses, contact, PIR, smoke, low battery, garbage', () => {
    const records = decodeRflinkCapture(rflinkSession());
    expect(records.map((r) => [r.line, r.ok ? r.message.kind : r.reason])).toEqual([
      [1, 'banner'],
      [2, 'version'],
      [3, 'pong'],
      [4, 'packet'],
      [5, 'packet'],
      [6, 'packet'],
      [7, 'packet'],
      [8, 'packet'],
      [9, 'packet'],
      [10, 'prefix'],
      [11, 'packet'],
      [12, 'packet'],
    ]);
    expect(records[1]).toEqual({
      ok: true,
      line: 2,
      message: { kind: 'version', counter: 1, version: '1.1', revision: '48', build: '04' },
    });
    expect(records[3]).toEqual({
      ok: true,
      line: 4,
      message: {
        kind: 'packet',
        counter: 3,
        protocol: 'EV1527',
        fields: { ID: '0d3e4', SWITCH: '01', CMD: 'ON' },
        id: '0d3e4',
        switch: '01',
        cmd: 'ON',
      },
    });
    const fields = (i: number) => {
      const r = records[i];
      return r?.ok && r.message.kind === 'packet' ? r.message.fields : undefined;
    };
    expect([fields(6)?.CMD, fields(7)?.CMD]).toEqual(['ON', 'OFF']);
    expect(fields(8)?.PIR).toBe('ON');
    expect(fields(10)?.SMOKEALERT).toBe('ON');
    expect(fields(11)?.BAT).toBe('LOW');
    // Line noise is shown escaped, so it cannot garble the installer's terminal.
    expect(records[9]).toEqual({
      ok: false,
      line: 10,
      reason: 'prefix',
      text: '\\xE0\\xFC\\x80\\x9E~x\\xF8',
    });
    for (const record of records) expect(JSON.parse(JSON.stringify(record))).toEqual(record);
  });

  it('numbers lines as an editor does, skipping blank ones, with LF, CR LF or CR endings', () => {
    const records = decodeRflinkCapture('\n20;01;PONG;\r\n  \r20;02;OK;\r20;03;PONG');
    expect(records).toEqual([
      { ok: true, line: 2, message: { kind: 'pong', counter: 1 } },
      { ok: true, line: 4, message: { kind: 'other', counter: 2, text: 'OK' } },
      { ok: false, line: 5, reason: 'terminator', text: '20;03;PONG' },
    ]);
  });

  it('reports each parse reason, and a line over the framer limit as overlong', () => {
    const overlong = `20;01;X;${'A=1;'.repeat(200)}`;
    const records = decodeRflinkCapture(
      ['hello', '20;0G;PONG;', '20;01;;', '20;01;EV1527;ID;', overlong, '20;02;PONG;'].join('\n'),
    );
    expect(records.map((r) => (r.ok ? r.message.kind : r.reason))).toEqual([
      'prefix',
      'counter',
      'empty',
      'field',
      'overlong',
      'pong',
    ]);
    expect(records[4]).toMatchObject({ line: 5, text: overlong.slice(0, 120) });
  });
});
