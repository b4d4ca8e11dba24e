import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHAOS_CASES } from '../../tools/chaos/cases.js';
import { QUICK_PROFILE } from '../../tools/chaos/profile.js';

/**
 * `npm run chaos`, shorter: the same cases with the quick profile. Each case
 * runs real programs (cloud, gateway, simulator, Mosquitto, InfluxDB) and
 * compares what was sent with what was stored, item by item.
 */
describe('chaos (quick profile)', () => {
  const root = mkdtempSync(join(tmpdir(), 'homebed-chaos-test-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it.each(CHAOS_CASES.map((c) => [c.name, c] as const))('%s loses nothing', async (name, chaosCase) => {
    const lines: string[] = [];
    const result = await chaosCase.run({
      dir: join(root, name),
      profile: QUICK_PROFILE,
      seed: 20261123,
      say: (line) => lines.push(line),
    });
    const report = [JSON.stringify(result), ...lines].join('\n');
    expect(result.sent, report).toBeGreaterThan(0);
    expect(result.lost, report).toBe(0);
    expect(result.extra, report).toBe(0);
    if (name === 'spool-bound') {
      expect(result.dropped, report).toBeGreaterThan(0);
      expect(result.stored + (result.dropped ?? 0), report).toBe(result.sent);
    } else {
      expect(result.stored, report).toBe(result.sent);
    }
    expect(result.ok, report).toBe(true);
  });
});
