import { describe, expect, it } from 'vitest';
import { HomebedError } from '../../../common/errors.js';
import {
  formatRflinkCommand,
  formatRflinkLine,
  parseRflinkCommand,
  parseRflinkLine,
  RflinkParseError,
  type RflinkParseReason,
  rflinkDeviceKey,
} from '../../../gateway/devices/protocols/rflink/index.js';

function reasonOf(line: string): RflinkParseReason | 'no error' {
  try {
    parseRflinkLine(line);
    return 'no error';
  } catch (err) {
    if (err instanceof RflinkParseError) return err.reason;
    throw err;
  }
}

describe('parseRflinkLine: gateway messages', () => {
  it('parses the start-up banner', () => {
    expect(parseRflinkLine('20;00;Nodo RadioFrequencyLink - RFLink Gateway V1.1 - R48;')).toEqual({
      kind: 'banner',
      counter: 0,
      text: 'Nodo RadioFrequencyLink - RFLink Gateway V1.1 - R48',
    });
  });

  it('parses PONG', () => {
    expect(parseRflinkLine('20;99;PONG;')).toEqual({ kind: 'pong', counter: 0x99 });
  });

  it('parses the VERSION answer', () => {
    expect(parseRflinkLine('20;99;VER=1.1;REV=48;BUILD=04;')).toEqual({
      kind: 'version',
      counter: 0x99,
      version: '1.1',
      revision: '48',
      build: '04',
    });
  });

  it('keeps a version line missing a part as other', () => {
    expect(parseRflinkLine('20;05;VER=1.1;REV=48;')).toEqual({
      kind: 'other',
      counter: 5,
      text: 'VER=1.1;REV=48',
    });
  });

  it.each([
    ['20;01;OK;', 'OK'],
    ['20;0A;CMD UNKNOWN;', 'CMD UNKNOWN'],
    ['20;99;RFDEBUG=ON;', 'RFDEBUG=ON'],
    ['20;01;MySensors=OFF;NO NRF24L01;', 'MySensors=OFF;NO NRF24L01'],
    ['20;B5;STATUS;setRF433=ON;NodoNRF=OFF;', 'STATUS;setRF433=ON;NodoNRF=OFF'],
    ['20;DB;DEBUG;Pulses=50;Pulses(uSec)=425,1050,250;', 'DEBUG;Pulses=50;Pulses(uSec)=425,1050,250'],
  ])('classifies %s as other', (line, text) => {
    expect(parseRflinkLine(line)).toEqual({
      kind: 'other',
      counter: Number.parseInt(line.slice(3, 5), 16),
      text,
    });
  });
});

describe('parseRflinkLine: packets', () => {
  it('parses an EV1527 button with ID, SWITCH and CMD lifted out', () => {
    expect(parseRflinkLine('20;2D;EV1527;ID=0d3e4;SWITCH=01;CMD=ON;')).toEqual({
      kind: 'packet',
      counter: 0x2d,
      protocol: 'EV1527',
      fields: { ID: '0d3e4', SWITCH: '01', CMD: 'ON' },
      id: '0d3e4',
      switch: '01',
      cmd: 'ON',
    });
  });

  it('parses a PT2262 remote as RFLink prints it (2-digit id, decimal switch)', () => {
    expect(parseRflinkLine('20;1C;PT2262;ID=41;SWITCH=1;CMD=OFF;')).toEqual({
      kind: 'packet',
      counter: 0x1c,
      protocol: 'PT2262',
      fields: { ID: '41', SWITCH: '1', CMD: 'OFF' },
      id: '41',
      switch: '1',
      cmd: 'OFF',
    });
  });

  it('keeps BAT=LOW as a field', () => {
    const msg = parseRflinkLine('20;A2;Auriol V2;ID=008f;TEMP=00a3;BAT=LOW;');
    expect(msg).toEqual({
      kind: 'packet',
      counter: 0xa2,
      protocol: 'Auriol V2',
      fields: { ID: '008f', TEMP: '00a3', BAT: 'LOW' },
      id: '008f',
    });
  });

  it('parses a PIR sensor (PIR=ON, no switch or command)', () => {
    expect(parseRflinkLine('20;12;Pir;ID=aa66;PIR=ON;')).toEqual({
      kind: 'packet',
      counter: 0x12,
      protocol: 'Pir',
      fields: { ID: 'aa66', PIR: 'ON' },
      id: 'aa66',
    });
  });

  it('parses a smoke alarm (SMOKEALERT=ON)', () => {
    expect(parseRflinkLine('20;63;SmokeAlert;ID=123456;SMOKEALERT=ON;')).toEqual({
      kind: 'packet',
      counter: 0x63,
      protocol: 'SmokeAlert',
      fields: { ID: '123456', SMOKEALERT: 'ON' },
      id: '123456',
    });
  });

  it('splits a field on its first "=" only (dimmer levels)', () => {
    const msg = parseRflinkLine('20;04;NewKaku;ID=000007;SWITCH=2;CMD=SET_LEVEL=14;');
    expect(msg).toMatchObject({ kind: 'packet', cmd: 'SET_LEVEL=14', fields: { CMD: 'SET_LEVEL=14' } });
  });

  it('reads lower-case counters and tolerates trailing spaces', () => {
    expect(parseRflinkLine('20;b3;Oregon TempHygro;ID=1a2d;TEMP=00dd;HUM=43;BAT=OK; ')).toMatchObject({
      kind: 'packet',
      counter: 0xb3,
      protocol: 'Oregon TempHygro',
      fields: { HUM: '43', BAT: 'OK' },
    });
  });

  it('freezes the fields and keeps "__proto__" an ordinary key', () => {
    const msg = parseRflinkLine('20;01;Evil;__proto__=x;ID=1;');
    if (msg.kind !== 'packet') throw new Error('expected a packet');
    expect(Object.isFrozen(msg.fields)).toBe(true);
    expect(Object.keys(msg.fields)).toEqual(['__proto__', 'ID']);
    expect(Object.getPrototypeOf(msg.fields)).toBe(Object.prototype);
  });
});

describe('parseRflinkLine: garbage', () => {
  it.each<[string, RflinkParseReason]>([
    ['hello', 'prefix'],
    ['10;PING;', 'prefix'],
    [' 20;01;PONG;', 'prefix'],
    ['', 'prefix'],
    ['20;01;PO\u0000NG;', 'charset'],
    ['20;01;Caf\u00e9;ID=1;', 'charset'],
    ['20;2D;EV1527;ID=0d3e4;SWITCH=01;CMD=ON', 'terminator'],
    ['20;', 'counter'],
    ['20;XY;PONG;', 'counter'],
    ['20;1;PONG;', 'counter'],
    ['20;123;PONG;', 'counter'],
    ['20;01;', 'empty'],
    ['20;01;;ID=1;', 'empty'],
    ['20;2D;EV1527;ID=0d3e4;SWITCH;CMD=ON;', 'field'],
    ['20;2D;EV1527;=0d3e4;', 'field'],
    ['20;2D;EV1527;ID=1;;CMD=ON;', 'field'],
  ])('rejects %j with reason %s', (line, reason) => {
    expect(reasonOf(line)).toBe(reason);
  });

  it('throws a named, non-retriable error with a stable code and the line', () => {
    let caught: unknown;
    try {
      parseRflinkLine('garbage line');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(RflinkParseError);
    expect(caught).toBeInstanceOf(HomebedError);
    expect(caught).toBeInstanceOf(Error);
    const err = caught as RflinkParseError;
    expect(err.name).toBe('RflinkParseError');
    expect(err.code).toBe('HB_RFLINK_PARSE');
    expect(err.retriable).toBe(false);
    expect(err.reason).toBe('prefix');
    expect(err.line).toBe('garbage line');
  });

  it('truncates the line kept on the error', () => {
    const long = `x${'y'.repeat(500)}`;
    try {
      parseRflinkLine(long);
      expect.unreachable();
    } catch (err) {
      expect((err as RflinkParseError).line).toBe(long.slice(0, 120));
    }
  });
});

describe('commands', () => {
  it('formats commands with the 10; prefix and CR LF', () => {
    expect(formatRflinkCommand('PING')).toBe('10;PING;\r\n');
    expect(formatRflinkCommand('VERSION')).toBe('10;VERSION;\r\n');
    expect(formatRflinkCommand('NewKaku;00c142;1;ON')).toBe('10;NewKaku;00c142;1;ON;\r\n');
  });

  it('refuses commands that could smuggle in another line', () => {
    expect(() => formatRflinkCommand('PING;\r\n10;REBOOT')).toThrow(RangeError);
    expect(() => formatRflinkCommand('')).toThrow(RangeError);
  });

  it('reads back what the host sent', () => {
    expect(parseRflinkCommand('10;PING;')).toBe('PING');
    expect(parseRflinkCommand('10;VERSION;\r\n')).toBe('VERSION');
    expect(parseRflinkCommand(formatRflinkCommand('EV1527;000080;0;ON'))).toBe('EV1527;000080;0;ON');
  });

  it('returns null for lines that are not commands', () => {
    expect(parseRflinkCommand('20;01;PONG;')).toBeNull();
    expect(parseRflinkCommand('10;PING')).toBeNull();
    expect(parseRflinkCommand('10;;')).toBeNull();
    expect(parseRflinkCommand('')).toBeNull();
  });
});

describe('formatRflinkLine', () => {
  it('formats a gateway line with an upper-case 2-digit counter', () => {
    expect(formatRflinkLine(0x2d, ['EV1527', 'ID=0d3e4', 'SWITCH=01', 'CMD=ON'])).toBe(
      '20;2D;EV1527;ID=0d3e4;SWITCH=01;CMD=ON;\r\n',
    );
    expect(formatRflinkLine(5, ['PONG'])).toBe('20;05;PONG;\r\n');
  });

  it('wraps the counter modulo 256', () => {
    expect(formatRflinkLine(256, ['PONG'])).toBe('20;00;PONG;\r\n');
    expect(formatRflinkLine(0x1ff, ['OK'])).toBe('20;FF;OK;\r\n');
    expect(formatRflinkLine(-1, ['OK'])).toBe('20;FF;OK;\r\n');
    expect(() => formatRflinkLine(1.5, ['OK'])).toThrow(RangeError);
  });

  it('round-trips through parseRflinkLine', () => {
    const line = formatRflinkLine(0x1c, ['PT2262', 'ID=41', 'SWITCH=1', 'CMD=ON']);
    expect(parseRflinkLine(line.trimEnd())).toMatchObject({
      kind: 'packet',
      counter: 0x1c,
      protocol: 'PT2262',
      id: '41',
      switch: '1',
      cmd: 'ON',
    });
  });
});

describe('rflinkDeviceKey', () => {
  it('joins protocol, lower-cased id and switch', () => {
    expect(rflinkDeviceKey({ protocol: 'EV1527', id: '0D3E4', switch: '01' })).toBe('EV1527:0d3e4:01');
  });

  it('leaves the switch part empty when there is none', () => {
    expect(rflinkDeviceKey({ protocol: 'EV1527', id: '0d3e4' })).toBe('EV1527:0d3e4:');
  });

  it('is null without an id', () => {
    expect(rflinkDeviceKey({ protocol: 'EV1527' })).toBeNull();
    expect(rflinkDeviceKey({ protocol: 'EV1527', id: '' })).toBeNull();
  });

  it('works on a parsed packet directly', () => {
    const msg = parseRflinkLine('20;2D;EV1527;ID=0d3e4;SWITCH=01;CMD=ON;');
    if (msg.kind !== 'packet') throw new Error('expected a packet');
    expect(rflinkDeviceKey(msg)).toBe('EV1527:0d3e4:01');
  });
});
