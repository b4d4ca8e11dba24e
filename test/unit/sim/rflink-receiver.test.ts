import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import { RflinkEmulator, type RflinkEmulatorOptions } from '../../../firmware-sim/devices/rflink-receiver.js';
import { LineFramer, parseRflinkLine } from '../../../gateway/devices/protocols/rflink/index.js';
import { MemoryLink } from './memory-link.js';

const BANNER = '20;00;Nodo RadioFrequencyLink - RFLink Gateway V1.1 - R48;\r\n';
const SOS = { protocol: 'EV1527', id: '0d3e4', switch: '01' } as const;

function setup(overrides: Partial<RflinkEmulatorOptions> = {}) {
  const clock = new ManualClock();
  const link = new MemoryLink();
  const rflink = new RflinkEmulator({ link, clock, ...overrides });
  const framer = new LineFramer();
  let seen = 0;
  /** Lines written since the last call, as the gateway's framer splits them. */
  const lines = (): string[] => {
    const chunks = link.written.slice(seen);
    seen = link.written.length;
    return chunks.flatMap((c) => framer.push(c));
  };
  return { clock, link, rflink, lines };
}

describe('RflinkEmulator', () => {
  it('prints the R48 banner with counter 00 on start', () => {
    const { link, rflink } = setup();
    rflink.start();
    expect(link.text()).toBe(BANNER);
    rflink.stop();
  });

  it('answers PING and VERSION with the next counter values', () => {
    const { link, rflink, lines } = setup();
    rflink.start();
    lines();
    link.hostWrite('10;PING;\r\n');
    link.hostWrite('10;VERS');
    link.hostWrite('ION;\r\n');
    expect(lines()).toEqual(['20;01;PONG;', '20;02;VER=1.1;REV=48;BUILD=04;']);
    // Real units accept lower case too.
    link.hostWrite('10;version;\n');
    expect(lines()).toEqual(['20;03;VER=1.1;REV=48;BUILD=04;']);
    expect(parseRflinkLine('20;01;PONG;')).toEqual({ kind: 'pong', counter: 1 });
    rflink.stop();
  });

  it('answers unknown commands with CMD UNKNOWN, echoes debug switches, reboots on REBOOT', () => {
    const { link, rflink, lines } = setup();
    rflink.start();
    lines();
    link.hostWrite('10;FOO;\r\n10;rfdebug=on;\r\nnot a command\r\n');
    expect(lines()).toEqual(['20;01;CMD UNKNOWN;', '20;02;RFDEBUG=ON;']);
    link.hostWrite('10;REBOOT;\r\n');
    expect(lines()).toEqual([BANNER.trimEnd()]);
    rflink.stop();
  });

  it('writes a press as N identical packet lines, a few tens of ms apart, with consecutive counters', () => {
    const { clock, rflink, lines } = setup();
    rflink.start();
    lines();
    expect(rflink.press(SOS, 3)).toBe(3);
    // The first copy goes out at once, the repeats on the clock.
    expect(lines()).toEqual(['20;01;EV1527;ID=0d3e4;SWITCH=01;CMD=ON;']);
    clock.advance(49);
    expect(lines()).toEqual([]);
    clock.advance(1);
    expect(lines()).toEqual(['20;02;EV1527;ID=0d3e4;SWITCH=01;CMD=ON;']);
    clock.advance(50);
    const third = lines();
    expect(third).toEqual(['20;03;EV1527;ID=0d3e4;SWITCH=01;CMD=ON;']);
    expect(parseRflinkLine(third[0]!)).toMatchObject({
      kind: 'packet',
      counter: 3,
      protocol: 'EV1527',
      id: '0d3e4',
      switch: '01',
      cmd: 'ON',
    });
    expect(clock.pendingTimers()).toBe(0);

    rflink.press({ protocol: 'PT2262', id: '1a2b', switch: '02', cmd: 'OFF' }, 5);
    clock.advance(1_000);
    const burst = lines();
    expect(burst).toHaveLength(5);
    expect(burst.map((l) => l.slice(6))).toEqual(Array(5).fill('PT2262;ID=1a2b;SWITCH=02;CMD=OFF;'));
    expect(burst.map((l) => l.slice(3, 5))).toEqual(['04', '05', '06', '07', '08']);
    rflink.stop();
  });

  it('honours repeatGapMs', () => {
    const { clock, rflink, lines } = setup({ repeatGapMs: 120 });
    rflink.start();
    lines();
    rflink.press(SOS, 2);
    clock.advance(119);
    expect(lines()).toHaveLength(1);
    clock.advance(1);
    expect(lines()).toHaveLength(1);
    rflink.stop();
  });

  it('rolls the counter over from FF to 00', () => {
    const { link, rflink, lines } = setup();
    rflink.start();
    for (let i = 0; i < 254; i++) link.hostWrite('10;PING;\n');
    const out = lines();
    expect(out.at(-1)).toBe('20;FE;PONG;');
    link.hostWrite('10;PING;\n10;PING;\n');
    expect(lines()).toEqual(['20;FF;PONG;', '20;00;PONG;']);
    rflink.stop();
  });

  it('sendRaw writes bytes verbatim', () => {
    const { link, rflink } = setup();
    rflink.start();
    link.clear();
    rflink.sendRaw('20;ZZ;garbage\r\n');
    rflink.sendRaw(Uint8Array.of(0xff, 0x00));
    expect(link.text()).toBe('20;ZZ;garbage\r\n\xff\x00');
    expect(rflink.state().nextCounter).toBe(1);
    rflink.stop();
  });

  it('cancels pending repeats and stops listening on stop()', () => {
    const { clock, link, rflink, lines } = setup();
    rflink.start();
    lines();
    rflink.press(SOS, 3);
    expect(clock.pendingTimers()).toBe(2);
    rflink.stop();
    expect(clock.pendingTimers()).toBe(0);
    expect(link.listenerCount()).toBe(0);
    lines();
    clock.advance(1_000);
    link.hostWrite('10;PING;\r\n');
    expect(lines()).toEqual([]);
    expect(rflink.press(SOS)).toBe(0);
  });
});
