import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import {
  MR60BHA1_REPORT_INTERVALS,
  Mr60bha1Emulator,
  type Mr60bha1Options,
} from '../../../firmware-sim/devices/mr60bha1.js';
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

function setup(overrides: Partial<Mr60bha1Options> = {}) {
  const clock = new ManualClock();
  const link = new MemoryLink();
  const radar = new Mr60bha1Emulator({ link, clock, random: seededRandom(42), ...overrides });
  const framer = new SeeedFramer();
  let seen = 0;
  /** Reports written since the last call, decoded with the gateway's real codec. */
  const reports = (): SeeedReport[] => {
    const chunks = link.written.slice(seen);
    seen = link.written.length;
    return chunks.flatMap((c) => framer.push(c)).map(decodeReport);
  };
  return { clock, link, radar, reports };
}

const ofType = <T extends SeeedReport['type']>(reports: SeeedReport[], type: T) =>
  reports.filter((r): r is Extract<SeeedReport, { type: T }> => r.type === type);

describe('Mr60bha1Emulator', () => {
  it('reports its current state at once on start', () => {
    const { radar, reports } = setup();
    radar.start();
    expect(reports()).toEqual([
      { type: 'presence', present: true },
      { type: 'motion', motion: 'stationary' },
      { type: 'bed_state', state: 'in_bed' },
      { type: 'sleep_state', state: 'awake' },
      // Vital signs are still being acquired (observation set-up).
      { type: 'breath_status', status: 'none' },
    ]);
    radar.stop();
  });

  it('reports heart and breath rate every 3 s, body movement every 1 s, a heartbeat every 60 s', () => {
    const { clock, radar, reports } = setup({ intervals: { observationSetupMs: 0 } });
    radar.start();
    reports();
    clock.advance(60_000);
    const out = reports();
    expect(MR60BHA1_REPORT_INTERVALS.heartRateMs).toBe(3_000);
    expect(ofType(out, 'heart_rate')).toHaveLength(20);
    expect(ofType(out, 'breath_rate')).toHaveLength(20);
    expect(ofType(out, 'body_movement')).toHaveLength(60);
    expect(ofType(out, 'heartbeat')).toHaveLength(1);
    // Nothing changed, so no state frames within the 10-minute refresh period.
    expect(ofType(out, 'bed_state')).toHaveLength(0);
    expect(out.filter((r) => r.type === 'invalid' || r.type === 'unknown')).toEqual([]);
    radar.stop();
  });

  it('keeps vitals within baseline ± variation, varying from report to report', () => {
    const { clock, radar, reports } = setup({
      vitals: {
        heartRateBpm: 72,
        breathRatePerMin: 16,
        heartRateVariationBpm: 3,
        breathRateVariationPerMin: 1,
      },
      intervals: { observationSetupMs: 0 },
    });
    radar.start();
    clock.advance(10 * 60_000);
    const out = reports();
    const hearts = ofType(out, 'heart_rate').map((r) => r.bpm);
    const breaths = ofType(out, 'breath_rate').map((r) => r.perMin);
    expect(hearts).toHaveLength(200);
    for (const bpm of hearts) expect(Math.abs(bpm - 72)).toBeLessThanOrEqual(3);
    for (const perMin of breaths) expect(Math.abs(perMin - 16)).toBeLessThanOrEqual(1);
    expect(new Set(hearts).size).toBeGreaterThan(2);
    expect(new Set(breaths).size).toBeGreaterThan(1);
    radar.stop();
  });

  it('is deterministic for a given seed', () => {
    const run = (seed: number) => {
      const { clock, link, radar } = setup({
        random: seededRandom(seed),
        intervals: { observationSetupMs: 0 },
      });
      radar.start();
      clock.advance(30_000);
      radar.stop();
      return Buffer.from(link.bytes()).toString('hex');
    };
    expect(run(7)).toBe(run(7));
    expect(run(7)).not.toBe(run(8));
  });

  it('withholds vitals for the observation set-up time after someone lies down', () => {
    const { clock, radar, reports } = setup({ vitals: { inBed: false } });
    radar.start();
    reports();
    clock.advance(30_000);
    expect(ofType(reports(), 'heart_rate')).toHaveLength(0);

    radar.setInBed(true);
    expect(reports()).toEqual([
      { type: 'motion', motion: 'stationary' },
      { type: 'bed_state', state: 'in_bed' },
      { type: 'sleep_state', state: 'awake' },
    ]);
    clock.advance(19_999);
    expect(ofType(reports(), 'heart_rate')).toHaveLength(0);
    clock.advance(1);
    expect(reports()).toContainEqual({ type: 'breath_status', status: 'normal' });
    clock.advance(3_000);
    expect(ofType(reports(), 'heart_rate')).toHaveLength(1);
    radar.stop();
  });

  it('reports leaving the bed at once and then sends no heart or breath rate', () => {
    const { clock, radar, reports } = setup({ intervals: { observationSetupMs: 0 } });
    radar.start();
    clock.advance(10_000);
    reports();

    radar.setInBed(false);
    // No clock advance: the change goes out immediately.
    expect(reports()).toEqual([
      { type: 'motion', motion: 'active' },
      { type: 'bed_state', state: 'out_of_bed' },
      { type: 'sleep_state', state: 'none' },
      { type: 'breath_status', status: 'none' },
    ]);
    clock.advance(60_000);
    const out = reports();
    expect(ofType(out, 'heart_rate')).toHaveLength(0);
    expect(ofType(out, 'breath_rate')).toHaveLength(0);
    for (const r of ofType(out, 'body_movement')) expect(r.value).toBeGreaterThanOrEqual(20);
    expect(radar.state()).toMatchObject({ inBed: false, present: true, vitalsValid: false });

    radar.setPresent(false);
    expect(reports()).toEqual([
      { type: 'presence', present: false },
      { type: 'motion', motion: 'none' },
    ]);
    clock.advance(5_000);
    for (const r of ofType(reports(), 'body_movement')) expect(r.value).toBe(0);
    radar.stop();
  });

  it('re-sends bed and sleep state every 10 minutes, and sleep state changes at once', () => {
    const { clock, radar, reports } = setup({ intervals: { observationSetupMs: 0 } });
    radar.start();
    reports();
    radar.setSleepState('deep');
    expect(reports()).toEqual([{ type: 'sleep_state', state: 'deep' }]);
    clock.advance(10 * 60_000);
    const out = reports();
    expect(ofType(out, 'bed_state')).toEqual([{ type: 'bed_state', state: 'in_bed' }]);
    expect(ofType(out, 'sleep_state')).toEqual([{ type: 'sleep_state', state: 'deep' }]);
    expect(ofType(out, 'heartbeat')).toHaveLength(10);
    radar.stop();
  });

  it('follows a new heart-rate baseline on the next reports', () => {
    const { clock, radar, reports } = setup({ intervals: { observationSetupMs: 0 } });
    radar.start();
    radar.setHeartRate(120);
    clock.advance(30_000);
    const hearts = ofType(reports(), 'heart_rate').map((r) => r.bpm);
    expect(hearts).toHaveLength(10);
    for (const bpm of hearts) expect(Math.abs(bpm - 120)).toBeLessThanOrEqual(3);
    radar.setBreathRate(30);
    expect(reports()).toContainEqual({ type: 'breath_status', status: 'too_fast' });
    radar.stop();
  });

  it('answers the product-model and firmware-version queries, even split across reads', () => {
    const { radar, link, reports } = setup();
    radar.start();
    reports();
    link.hostWrite(encodeFrame(queryProductModel()));
    expect(reports()).toEqual([{ type: 'product_model', model: 'MR60BHA1' }]);

    const query = encodeFrame(queryFirmwareVersion());
    link.hostWrite(Uint8Array.of(0x00, 0xff, ...query.subarray(0, 4)));
    expect(reports()).toEqual([]);
    link.hostWrite(query.subarray(4));
    expect(reports()).toEqual([{ type: 'firmware_version', version: 'G60SM1SYv010009' }]);

    // Other commands (here a reset) get no reply.
    link.hostWrite(encodeFrame(resetModule()));
    expect(reports()).toEqual([]);
    radar.stop();
  });

  it('replies with the configured model and firmware strings', () => {
    const { radar, link, reports } = setup({ model: 'MR60BHA1-X', firmware: 'G60SM1SYv010204' });
    radar.start();
    reports();
    link.hostWrite(Buffer.concat([encodeFrame(queryFirmwareVersion()), encodeFrame(queryProductModel())]));
    expect(reports()).toEqual([
      { type: 'firmware_version', version: 'G60SM1SYv010204' },
      { type: 'product_model', model: 'MR60BHA1-X' },
    ]);
    radar.stop();
  });

  it('leaves no timer or listener behind after stop()', () => {
    const { clock, link, radar, reports } = setup();
    radar.start();
    expect(clock.pendingTimers()).toBeGreaterThan(0);
    clock.advance(5_000);
    radar.stop();
    expect(clock.pendingTimers()).toBe(0);
    expect(link.listenerCount()).toBe(0);
    reports();
    clock.advance(60_000);
    link.hostWrite(encodeFrame(queryProductModel()));
    expect(reports()).toEqual([]);
    radar.stop();

    // A restart works and stops cleanly again.
    radar.start();
    expect(reports().length).toBeGreaterThan(0);
    radar.stop();
    expect(clock.pendingTimers()).toBe(0);
  });
});
