import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import {
  BatteryDrain,
  FaultyLink,
  type FaultyLinkOptions,
  resolveRate,
  type SerialFaults,
} from '../../../firmware-sim/faults.js';
import { seededRandom } from '../../../firmware-sim/random.js';
import {
  formatRflinkLine,
  LineFramer,
  parseRflinkLine,
} from '../../../gateway/devices/protocols/rflink/index.js';
import {
  decodeReport,
  encodeFrame,
  encodeReport,
  SeeedFramer,
  type SeeedReport,
} from '../../../gateway/devices/protocols/seeed/index.js';
import { MemoryLink } from './memory-link.js';

const FRAMES: Uint8Array[] = Array.from({ length: 50 }, (_, i) =>
  encodeFrame(encodeReport({ type: 'body_movement', value: i % 100 })),
);
const LINES: string[] = Array.from({ length: 30 }, (_, i) =>
  formatRflinkLine(i, ['EV1527', 'ID=0d3e4', 'SWITCH=01', 'CMD=ON']),
);

function faulty(framing: FaultyLinkOptions['framing'], faults: Partial<SerialFaults>, seed = 11) {
  const port = new MemoryLink();
  const link = new FaultyLink({ framing, random: seededRandom(seed), noiseMaxBytes: 6, faults });
  link.attach(port);
  return { port, link };
}

/** Write every frame through a faulty link; decode what reached the port with the gateway's framer. */
function throughSeeed(faults: Partial<SerialFaults>, seed = 11) {
  const { port, link } = faulty('seeed', faults, seed);
  for (const f of FRAMES) link.write(f);
  const framer = new SeeedFramer();
  const reports: SeeedReport[] = framer.push(port.bytes()).map(decodeReport);
  return { port, link, framer, reports };
}

function throughLines(faults: Partial<SerialFaults>, seed = 11) {
  const { port, link } = faulty('lines', faults, seed);
  for (const l of LINES) link.write(Buffer.from(l, 'latin1'));
  return { port, link, lines: new LineFramer().push(port.bytes()) };
}

describe('FaultyLink', () => {
  it('passes bytes through untouched when no fault is on', () => {
    const { port, link, reports } = throughSeeed({});
    expect(port.bytes()).toEqual(Buffer.concat(FRAMES));
    expect(reports).toHaveLength(50);
    expect(link.stats()).toMatchObject({
      unitsSent: 50,
      noiseBursts: 0,
      checksumsCorrupted: 0,
      unitsTruncated: 0,
    });
  });

  it('noise: garbage bursts between frames; the framer skips them and every frame still decodes', () => {
    const { link, framer, reports } = throughSeeed({ noise: 1 });
    const stats = link.stats();
    expect(stats.noiseBursts).toBe(50);
    expect(stats.noiseBytes).toBeGreaterThanOrEqual(50);
    expect(stats.noiseBytes).toBeLessThanOrEqual(300);
    expect(reports.map((r) => (r.type === 'body_movement' ? r.value : -1))).toEqual(
      Array.from({ length: 50 }, (_, i) => i),
    );
    expect(framer.noiseBytes).toBe(stats.noiseBytes);
  });

  it('noise at a rate hits about that share of frames, the same ones for the same seed', () => {
    const a = throughSeeed({ noise: 0.3 }, 5);
    const b = throughSeeed({ noise: 0.3 }, 5);
    const c = throughSeeed({ noise: 0.3 }, 6);
    expect(a.port.bytes()).toEqual(b.port.bytes());
    expect(a.port.bytes()).not.toEqual(c.port.bytes());
    expect(a.link.stats().noiseBursts).toBeGreaterThan(5);
    expect(a.link.stats().noiseBursts).toBeLessThan(25);
  });

  it('noise on a line device: garbage lines of their own that the RFLink parser rejects; real lines intact', () => {
    const { link, lines } = throughLines({ noise: 1 });
    expect(link.stats().noiseBursts).toBe(30);
    const good = lines.filter((l) => LINES.includes(`${l}\r\n`));
    expect(good).toEqual(LINES.map((l) => l.trimEnd()));
    const garbage = lines.filter((l) => !LINES.includes(`${l}\r\n`));
    expect(garbage).toHaveLength(30);
    for (const g of garbage) expect(() => parseRflinkLine(g)).toThrow();
  });

  it('badChecksums: that share of Seeed frames is dropped by the framer for its checksum', () => {
    const all = throughSeeed({ badChecksums: 1 });
    expect(all.reports).toEqual([]);
    expect(all.framer.dropped.checksum).toBe(50);
    expect(all.link.stats().checksumsCorrupted).toBe(50);

    const some = throughSeeed({ badChecksums: 0.5 }, 3);
    const corrupted = some.link.stats().checksumsCorrupted;
    expect(corrupted).toBeGreaterThan(10);
    expect(corrupted).toBeLessThan(40);
    expect(some.framer.dropped.checksum).toBe(corrupted);
    expect(some.reports).toHaveLength(50 - corrupted);
    // Only the checksum byte differs: the frame is otherwise the vendor's.
    const sent = some.port.written;
    const damaged = sent.filter((chunk, i) => Buffer.compare(chunk, FRAMES[i] as Uint8Array) !== 0);
    for (const d of damaged) {
      const i = sent.indexOf(d);
      expect(Buffer.from(d.subarray(0, -3))).toEqual(Buffer.from((FRAMES[i] as Uint8Array).subarray(0, -3)));
      expect(d.subarray(-2)).toEqual(Uint8Array.of(0x54, 0x43));
    }
  });

  it('badChecksums does nothing to RFLink lines (they have no checksum)', () => {
    const { port } = throughLines({ badChecksums: 1 });
    expect(port.text()).toBe(LINES.join(''));
  });

  it('truncated: frames cut short never decode; lines come out as shorter lines', () => {
    const frames = throughSeeed({ truncated: 1 });
    expect(frames.link.stats().unitsTruncated).toBe(50);
    expect(frames.reports).toEqual([]);
    frames.port.written.forEach((chunk, i) => {
      const whole = FRAMES[i] as Uint8Array;
      expect(chunk.length).toBeLessThan(whole.length);
      expect(Buffer.from(chunk)).toEqual(Buffer.from(whole.subarray(0, chunk.length)));
    });

    const { link, lines } = throughLines({ truncated: 1 });
    expect(link.stats().unitsTruncated).toBe(30);
    expect(lines).toHaveLength(30);
    lines.forEach((line, i) => {
      const whole = (LINES[i] as string).trimEnd();
      expect(line.length).toBeLessThan(whole.length);
      expect(whole.startsWith(line)).toBe(true);
    });
  });

  it('silent: nothing reaches the port, but the host is still heard', () => {
    const { port, link } = faulty('seeed', { silent: true });
    const heard: Uint8Array[] = [];
    link.onData((b) => heard.push(b));
    for (const f of FRAMES) link.write(f);
    expect(port.written).toEqual([]);
    expect(link.stats().unitsSilenced).toBe(50);
    port.hostWrite('10;PING;\r\n');
    expect(Buffer.concat(heard).toString()).toBe('10;PING;\r\n');
    link.setFaults({ silent: false });
    link.write(FRAMES[0] as Uint8Array);
    expect(port.written).toHaveLength(1);
  });

  it('attach(null) drops writes (unplugged); attaching another port moves the host listener to it', () => {
    const { port, link } = faulty('lines', {});
    const heard: string[] = [];
    link.onData((b) => heard.push(Buffer.from(b).toString()));
    link.attach(null);
    expect(link.attached).toBe(false);
    expect(port.listenerCount()).toBe(0);
    link.write(Buffer.from('x\r\n'));
    expect(link.stats().unitsUnplugged).toBe(1);
    const second = new MemoryLink();
    link.attach(second);
    link.write(Buffer.from('y\r\n'));
    second.hostWrite('10;PING;');
    port.hostWrite('lost');
    expect(second.text()).toBe('y\r\n');
    expect(heard).toEqual(['10;PING;']);
  });

  it('setFaults changes some faults, clamps rates, and reports them all', () => {
    const { link } = faulty('seeed', { noise: 0.5 });
    expect(link.setFaults({ badChecksums: 3, truncated: -1 })).toEqual({
      noise: 0.5,
      badChecksums: 1,
      truncated: 0,
      silent: false,
    });
    expect(resolveRate(true, 0.2)).toBe(0.2);
    expect(resolveRate(false, 0.2)).toBe(0);
    expect(resolveRate(0.7, 0.2)).toBe(0.7);
    expect(resolveRate(undefined, 0.2)).toBeUndefined();
  });
});

describe('BatteryDrain', () => {
  it('drops by the rate each tick down to the floor, and stop() leaves no timer', () => {
    const clock = new ManualClock();
    const levels: number[] = [];
    const drain = new BatteryDrain({
      clock,
      fromPercent: 50,
      percentPerMinute: 60,
      tickMs: 10_000,
      floorPercent: 5,
      onLevel: (p) => levels.push(p),
    });
    drain.start();
    drain.start();
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(60_000);
    expect(levels).toEqual([40, 30, 20, 10, 5]);
    expect(drain.percent).toBe(5);
    drain.stop();
    expect(drain.running).toBe(false);
    expect(clock.pendingTimers()).toBe(0);
  });
});
