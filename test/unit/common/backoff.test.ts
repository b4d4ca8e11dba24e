import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelayMs } from '../../../common/backoff.js';

describe('backoff', () => {
  it('doubles from the first delay up to the cap', () => {
    const options = { initialMs: 1_000, maxMs: 8_000, random: () => 0.5 };
    expect([0, 1, 2, 3, 4, 10].map((attempt) => backoffDelayMs(attempt, options))).toEqual([
      1_000, 2_000, 4_000, 8_000, 8_000, 8_000,
    ]);
  });

  it('jitters by ±20 %', () => {
    expect(backoffDelayMs(0, { initialMs: 1_000, maxMs: 8_000, random: () => 0 })).toBe(800);
    expect(backoffDelayMs(0, { initialMs: 1_000, maxMs: 8_000, random: () => 0.999999 })).toBe(1_200);
    for (let i = 0; i < 100; i++) {
      const delay = backoffDelayMs(3, { initialMs: 100, maxMs: 60_000 });
      expect(delay).toBeGreaterThanOrEqual(640);
      expect(delay).toBeLessThanOrEqual(960);
    }
  });

  it('counts failures until reset', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0.5 });
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([100, 200, 400]);
    expect(backoff.failures).toBe(3);
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });
});
