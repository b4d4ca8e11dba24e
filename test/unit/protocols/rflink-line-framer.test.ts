import { describe, expect, it } from 'vitest';
import { LineFramer, parseRflinkLine } from '../../../gateway/devices/protocols/rflink/index.js';

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('LineFramer', () => {
  it('splits on CR LF and on bare LF, stripping the CR', () => {
    const framer = new LineFramer();
    expect(framer.push('20;01;PONG;\r\n20;02;OK;\n20;03;PONG;\r\n')).toEqual([
      '20;01;PONG;',
      '20;02;OK;',
      '20;03;PONG;',
    ]);
    expect(framer.hasPartial()).toBe(false);
  });

  it('accepts bytes as well as strings', () => {
    const framer = new LineFramer();
    expect(framer.push(ascii('20;2D;EV1527;ID=0d3e4;SWITCH=01;CMD=ON;\r\n'))).toEqual([
      '20;2D;EV1527;ID=0d3e4;SWITCH=01;CMD=ON;',
    ]);
  });

  it('keeps a line split across pushes, including between CR and LF', () => {
    const framer = new LineFramer();
    expect(framer.push(ascii('20;2D;EV15'))).toEqual([]);
    expect(framer.hasPartial()).toBe(true);
    expect(framer.push(ascii('27;ID=0d3e4;SWITCH=01;CMD=ON;\r'))).toEqual([]);
    expect(framer.push(ascii('\n20;2E;PO'))).toEqual(['20;2D;EV1527;ID=0d3e4;SWITCH=01;CMD=ON;']);
    expect(framer.push(ascii('NG;\r\n'))).toEqual(['20;2E;PONG;']);
  });

  it('delivers a line pushed one byte at a time only when its LF arrives', () => {
    const framer = new LineFramer();
    const text = '20;00;Nodo RadioFrequencyLink - RFLink Gateway V1.1 - R48;\r\n';
    const out: string[][] = [];
    for (const byte of ascii(text)) out.push(framer.push(Uint8Array.of(byte)));
    expect(out.slice(0, -1).every((lines) => lines.length === 0)).toBe(true);
    expect(out.at(-1)).toEqual(['20;00;Nodo RadioFrequencyLink - RFLink Gateway V1.1 - R48;']);
  });

  it('skips empty lines', () => {
    const framer = new LineFramer();
    expect(framer.push('\r\n\n\r\n20;01;OK;\r\n\r\n')).toEqual(['20;01;OK;']);
  });

  it('drops an over-long line, counts it, and parses the next good line', () => {
    const framer = new LineFramer({ maxLineLength: 40 });
    const long = `20;10;DEBUG;Pulses=511;Pulses(uSec)=${'1200,'.repeat(20)};`;
    const lines = framer.push(`${long}\r\n20;2D;EV1527;ID=0d3e4;SWITCH=01;CMD=ON;\r\n`);
    expect(lines).toEqual(['20;2D;EV1527;ID=0d3e4;SWITCH=01;CMD=ON;']);
    expect(framer.dropped).toEqual({ overlong: 1 });
    expect(parseRflinkLine(lines[0] as string)).toMatchObject({ kind: 'packet', id: '0d3e4' });
  });

  it('drops an over-long line spread over many pushes once, and resyncs at the next LF', () => {
    const framer = new LineFramer({ maxLineLength: 16 });
    for (let i = 0; i < 10; i++) expect(framer.push('xxxxxxxxxx')).toEqual([]);
    expect(framer.dropped.overlong).toBe(1);
    expect(framer.push('tail of the long one\r\n20;01;PONG;\r\n')).toEqual(['20;01;PONG;']);
    expect(framer.dropped.overlong).toBe(1);
  });

  it('accepts a line of exactly the maximum length even when its CR arrives alone', () => {
    const framer = new LineFramer({ maxLineLength: 11 });
    expect(framer.push('20;01;PONG;')).toEqual([]);
    expect(framer.push('\r')).toEqual([]);
    expect(framer.push('\n')).toEqual(['20;01;PONG;']);
    expect(framer.push('20;01;PONGG;\r\n')).toEqual([]);
    expect(framer.dropped.overlong).toBe(1);
  });

  it('discardPartial drops a cut line so it is not glued to the next one', () => {
    const framer = new LineFramer();
    framer.push('20;2D;EV1527;ID=0d');
    expect(framer.discardPartial()).toBe(true);
    expect(framer.hasPartial()).toBe(false);
    expect(framer.push('20;2E;PONG;\r\n')).toEqual(['20;2E;PONG;']);
    expect(framer.discardPartial()).toBe(false);
  });

  it('discardPartial also ends the skipping of an over-long line', () => {
    const framer = new LineFramer({ maxLineLength: 8 });
    framer.push('0123456789ABCDEF');
    expect(framer.discardPartial()).toBe(true);
    expect(framer.push('20;01;OK;\n')).toEqual([]); // 9 characters: over the limit of 8
    expect(framer.push('20;02;O;\n')).toEqual(['20;02;O;']);
    expect(framer.dropped.overlong).toBe(2);
  });

  it('maps every byte to one character, so line noise reaches the parser intact', () => {
    const framer = new LineFramer();
    const [line] = framer.push(Uint8Array.of(0xff, 0x32, 0x30, 0x3b, 0x0a));
    expect(line).toBe('\u00ff20;');
  });

  it('rejects a maxLineLength below 1', () => {
    expect(() => new LineFramer({ maxLineLength: 0 })).toThrow(RangeError);
  });
});
