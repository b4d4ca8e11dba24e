import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import { Mr60bha1Emulator } from '../../../firmware-sim/devices/mr60bha1.js';
import { seededRandom } from '../../../firmware-sim/random.js';
import { ACCELERATED_REPORT_INTERVALS } from '../../../firmware-sim/scenarios/kit.js';
import {
  decodeReport,
  SeeedFramer,
  type SeeedReport,
} from '../../../gateway/devices/protocols/seeed/index.js';
import { MemoryLink } from '../sim/memory-link.js';

/** The two emulator hooks the scenario runner relies on. */
describe('MR60BHA1 emulator, as scenarios drive it', () => {
  function radarWith(intervals = ACCELERATED_REPORT_INTERVALS.mr60bha1) {
    const clock = new ManualClock();
    const link = new MemoryLink();
    const radar = new Mr60bha1Emulator({
      link,
      clock,
      random: seededRandom(7),
      vitals: { breathRateVariationPerMin: 1 },
      intervals: { ...intervals, observationSetupMs: 0 },
    });
    const framer = new SeeedFramer();
    let seen = 0;
    /** Reports written since the last call, decoded with the gateway's codec. */
    const reports = (): SeeedReport[] => {
      const chunks = link.written.slice(seen);
      seen = link.written.length;
      return chunks.flatMap((c) => framer.push(c)).map(decodeReport);
    };
    return { clock, link, radar, reports };
  }

  it('reports a breath rate of exactly 0 while breathing is absent (no wander around 0)', () => {
    const { clock, radar, reports } = radarWith();
    radar.start();
    radar.setBreathRate(0);
    clock.advance(10 * 60_000);
    const rates = reports().flatMap((r) => (r.type === 'breath_rate' ? [r.perMin] : []));
    expect(rates.length).toBeGreaterThanOrEqual(50);
    expect(new Set(rates)).toEqual(new Set([0]));
    radar.stop();
  });

  it('reports at the accelerated intervals: vitals every 10 s, state every minute', () => {
    const { clock, radar, reports } = radarWith();
    radar.start();
    reports();
    clock.advance(60_000);
    const types = reports().map((r) => r.type);
    const count = (t: string) => types.filter((x) => x === t).length;
    expect(count('heart_rate')).toBe(6);
    expect(count('breath_rate')).toBe(6);
    expect(count('body_movement')).toBe(2);
    expect(count('bed_state')).toBe(1);
    radar.stop();
  });
});
