import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import {
  MR60FDA1_REPORT_INTERVALS,
  Mr60fda1Emulator,
  type Mr60fda1Options,
} from '../../../firmware-sim/devices/mr60fda1.js';
import { seededRandom } from '../../../firmware-sim/random.js';
import {
  decodeReport,
  encodeFrame,
  queryFirmwareVersion,
  queryProductModel,
  resetModule,
  SeeedFramer,
  type SeeedReport,
} from '../../../gateway/devices/protocols/seeed/index.js';
import { MemoryLink } from './memory-link.js';

function setup(overrides: Partial<Mr60fda1Options> = {}) {
  const clock = new ManualClock();
  const link = new MemoryLink();
  const radar = new Mr60fda1Emulator({
    link,
    clock,
    random: seededRandom(7),
    residencyDelayMs: 30_000,
    ...overrides,
  });
  const framer = new SeeedFramer();
  let seen = 0;
  /** Reports written since the last call, decoded with the gateway's real codec. */
  const reports = (): SeeedReport[] => {
    const chunks = link.written.slice(seen);
    seen = link.written.length;
    return chunks.flatMap((c) => framer.push(c)).map(decodeReport);
  };
  return { clock, link, radar, reports, framer };
}

const ofType = <T extends SeeedReport['type']>(reports: SeeedReport[], type: T) =>
  reports.filter((r): r is Extract<SeeedReport, { type: T }> => r.type === type);
/** The reports that are not the once-a-second body movement. */
const events = (reports: SeeedReport[]) => reports.filter((r) => r.type !== 'body_movement');

describe('Mr60fda1Emulator', () => {
  it('reports presence, motion, fall state and residency at once on start', () => {
    const { radar, reports } = setup();
    radar.start();
    expect(reports()).toEqual([
      { type: 'presence', present: true },
      { type: 'motion', motion: 'active' },
      { type: 'fall', fallen: false },
      { type: 'stationary_residency', present: false },
    ]);
    radar.stop();
  });

  it('starts with an empty room when configured so', () => {
    const { radar, reports } = setup({ initial: { present: false } });
    radar.start();
    expect(reports().slice(0, 2)).toEqual([
      { type: 'presence', present: false },
      { type: 'motion', motion: 'none' },
    ]);
    radar.stop();
  });

  it('sends body movement every 1 s and a heartbeat every 60 s, and state frames only on change', () => {
    const { clock, radar, reports } = setup();
    radar.start();
    reports();
    clock.advance(120_000);
    const out = reports();
    expect(MR60FDA1_REPORT_INTERVALS).toEqual({ bodyMovementMs: 1_000, moduleHeartbeatMs: 60_000 });
    const movements = ofType(out, 'body_movement');
    expect(movements).toHaveLength(120);
    // Someone moving about: the parameter stays in the "active" band of 0–100.
    for (const m of movements) expect(m.value).toBeGreaterThanOrEqual(20);
    for (const m of movements) expect(m.value).toBeLessThanOrEqual(60);
    expect(ofType(out, 'heartbeat')).toHaveLength(2);
    // Nothing changed, so no presence, motion, fall or residency frames.
    expect(out.filter((r) => r.type !== 'body_movement' && r.type !== 'heartbeat')).toEqual([]);
    expect(out.filter((r) => r.type === 'invalid' || r.type === 'unknown')).toEqual([]);
    radar.stop();
  });

  it('answers the product-model and firmware queries and ignores a reset', () => {
    const { link, radar, reports } = setup();
    radar.start();
    reports();
    link.hostWrite(encodeFrame(queryProductModel()));
    link.hostWrite(encodeFrame(resetModule()));
    const firmware = encodeFrame(queryFirmwareVersion());
    link.hostWrite(firmware.subarray(0, 4));
    link.hostWrite(firmware.subarray(4));
    expect(reports()).toEqual([
      { type: 'product_model', model: 'MR60FDA1' },
      { type: 'firmware_version', version: 'G60FD1SYv010104' },
    ]);
    // The wiki's known-good query frame, byte for byte.
    expect(Buffer.from(firmware).toString('hex')).toBe('535902a400010f625443');
    radar.stop();
  });

  it('fall: fall = 1 and motion stationary at once, stationary residency after the residency delay', () => {
    const { clock, radar, reports } = setup();
    radar.start();
    reports();
    const state = radar.fall();
    expect(state).toMatchObject({ fallen: true, stationaryResidency: false, motion: 'stationary' });
    expect(state.residencyDueAtMs).toBe(clock.now() + 30_000);
    expect(events(reports())).toEqual([
      { type: 'motion', motion: 'stationary' },
      { type: 'fall', fallen: true },
    ]);
    clock.advance(29_999);
    const lying = reports();
    expect(events(lying).filter((r) => r.type !== 'heartbeat')).toEqual([]);
    // Lying still: small body-movement values.
    for (const m of ofType(lying, 'body_movement')) expect(m.value).toBeLessThanOrEqual(5);
    clock.advance(1);
    expect(events(reports())).toEqual([{ type: 'stationary_residency', present: true }]);
    expect(radar.snapshot()).toMatchObject({
      fallen: true,
      stationaryResidency: true,
      residencyDueAtMs: null,
    });
    // A second fall while down changes nothing.
    radar.fall();
    expect(events(reports())).toEqual([]);
    radar.stop();
  });

  it('get up before the delay: fall = 0, motion active, and no residency ever', () => {
    const { clock, radar, reports } = setup();
    radar.start();
    radar.fall();
    reports();
    clock.advance(10_000);
    expect(radar.getUp()).toMatchObject({ fallen: false, stationaryResidency: false, motion: 'active' });
    expect(events(reports())).toEqual([
      { type: 'motion', motion: 'active' },
      { type: 'fall', fallen: false },
    ]);
    clock.advance(60_000);
    expect(ofType(reports(), 'stationary_residency')).toEqual([]);
    radar.stop();
  });

  it('get up after residency: fall = 0 and residency = 0', () => {
    const { clock, radar, reports } = setup();
    radar.start();
    radar.fall();
    clock.advance(30_000);
    reports();
    radar.getUp();
    expect(events(reports())).toEqual([
      { type: 'motion', motion: 'active' },
      { type: 'fall', fallen: false },
      { type: 'stationary_residency', present: false },
    ]);
    radar.stop();
  });

  it('leave and enter: presence and motion follow; leaving clears a fall', () => {
    const { clock, radar, reports } = setup();
    radar.start();
    reports();
    radar.leave();
    expect(events(reports())).toEqual([
      { type: 'presence', present: false },
      { type: 'motion', motion: 'none' },
    ]);
    clock.advance(3_000);
    expect(ofType(reports(), 'body_movement').map((m) => m.value)).toEqual([0, 0, 0]);
    radar.enter();
    expect(events(reports())).toEqual([
      { type: 'presence', present: true },
      { type: 'motion', motion: 'active' },
    ]);
    radar.fall();
    reports();
    radar.leave();
    expect(events(reports())).toEqual([
      { type: 'presence', present: false },
      { type: 'motion', motion: 'none' },
      { type: 'fall', fallen: false },
    ]);
    clock.advance(60_000);
    expect(ofType(reports(), 'stationary_residency')).toEqual([]);
    radar.stop();
  });

  it('stop() cancels every timer (including a pending residency) and listener; start() again reboots it', () => {
    const { clock, link, radar, reports } = setup();
    radar.start();
    radar.fall();
    expect(clock.pendingTimers()).toBe(3);
    radar.stop();
    expect(clock.pendingTimers()).toBe(0);
    expect(link.listenerCount()).toBe(0);
    reports();
    clock.advance(60_000);
    link.hostWrite(encodeFrame(queryProductModel()));
    expect(reports()).toEqual([]);
    // Power comes back (a replug): the whole state again, and the fall waits for residency again.
    radar.start();
    expect(reports()).toEqual([
      { type: 'presence', present: true },
      { type: 'motion', motion: 'stationary' },
      { type: 'fall', fallen: true },
      { type: 'stationary_residency', present: false },
    ]);
    clock.advance(30_000);
    expect(ofType(reports(), 'stationary_residency')).toEqual([
      { type: 'stationary_residency', present: true },
    ]);
    radar.stop();
    expect(clock.pendingTimers()).toBe(0);
  });
});
