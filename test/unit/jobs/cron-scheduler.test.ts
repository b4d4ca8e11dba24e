import { describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../../../common/clock.js';
import { Counters } from '../../../common/counters.js';
import { localDateTime } from '../../../common/local-time.js';
import { silentLogger } from '../../../common/logger.js';
import { CronExpressionError } from '../../../gateway/jobs/cron-expression.js';
import {
  ClockCronScheduler,
  createCronScheduler,
  NodeCronScheduler,
} from '../../../gateway/jobs/cron-scheduler.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function local(ms: number, zone: string): string {
  const t = localDateTime(ms, zone);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${t.year}-${p(t.month)}-${p(t.day)} ${p(t.hour)}:${p(t.minute)}`;
}

function setup(startIso: string) {
  const clock = new ManualClock(Date.parse(startIso));
  const counters = new Counters();
  const scheduler = new ClockCronScheduler(clock, silentLogger(), counters);
  return { clock, counters, scheduler };
}

describe('ClockCronScheduler', () => {
  it('fires a simulated week of jobs at their local times (Asia/Shanghai)', () => {
    // Monday 2026-01-05 08:00 in Shanghai.
    const { clock, scheduler } = setup('2026-01-05T00:00:00Z');
    const fired: string[] = [];
    const zone = 'Asia/Shanghai';
    scheduler.schedule('daily', '0 12 * * *', zone, (ms) => {
      expect(ms).toBe(clock.now());
      fired.push(`daily ${local(ms, zone)}`);
    });
    scheduler.schedule('weekly', '0 10 * * 1', zone, (ms) => {
      fired.push(`weekly ${local(ms, zone)}`);
    });
    clock.advance(7 * DAY);
    expect(fired).toEqual([
      'weekly 2026-01-05 10:00',
      'daily 2026-01-05 12:00',
      'daily 2026-01-06 12:00',
      'daily 2026-01-07 12:00',
      'daily 2026-01-08 12:00',
      'daily 2026-01-09 12:00',
      'daily 2026-01-10 12:00',
      'daily 2026-01-11 12:00',
    ]);
    scheduler.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('keeps local noon across the spring DST change (Europe/Berlin)', () => {
    const { clock, scheduler } = setup('2026-03-26T00:00:00Z');
    const fired: string[] = [];
    scheduler.schedule('daily', '0 12 * * *', 'Europe/Berlin', (ms) => {
      fired.push(new Date(ms).toISOString());
    });
    clock.advance(5 * DAY);
    expect(fired).toEqual([
      '2026-03-26T11:00:00.000Z',
      '2026-03-27T11:00:00.000Z',
      '2026-03-28T11:00:00.000Z',
      '2026-03-29T10:00:00.000Z',
      '2026-03-30T10:00:00.000Z',
    ]);
    scheduler.stop();
  });

  it('counts a job that throws or rejects and still runs it next time', async () => {
    const { clock, counters, scheduler } = setup('2026-01-05T00:00:00Z');
    let calls = 0;
    scheduler.schedule('sync-throw', '0 * * * *', 'UTC', () => {
      calls++;
      throw new Error('boom');
    });
    scheduler.schedule('async-reject', '0 * * * *', 'UTC', async () => {
      throw new Error('later boom');
    });
    // Hour by hour: an async job is busy until its promise settles, which needs the event loop.
    for (let h = 0; h < 3; h++) {
      clock.advance(HOUR);
      await flush();
    }
    expect(calls).toBe(3);
    expect(counters.get('cron_job_failures', { job: 'sync-throw' })).toBe(3);
    expect(counters.get('cron_job_failures', { job: 'async-reject' })).toBe(3);
    expect(counters.get('cron_job_runs', { job: 'sync-throw' })).toBe(0);
    scheduler.stop();
  });

  it('skips (and counts) a run while the previous one is still going', async () => {
    const { clock, counters, scheduler } = setup('2026-01-05T00:00:00Z');
    let release: () => void = () => {};
    let starts = 0;
    scheduler.schedule('slow', '0 * * * *', 'UTC', () => {
      starts++;
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    });
    clock.advance(2 * HOUR);
    expect(starts).toBe(1);
    expect(counters.get('cron_job_overlaps', { job: 'slow' })).toBe(1);
    release();
    await flush();
    expect(counters.get('cron_job_runs', { job: 'slow' })).toBe(1);
    clock.advance(HOUR);
    expect(starts).toBe(2);
    scheduler.stop();
  });

  it('waits months in steps without firing early', () => {
    const { clock, scheduler } = setup('2026-01-02T00:00:00Z');
    const fired: number[] = [];
    scheduler.schedule('yearly', '0 0 1 1 *', 'Asia/Shanghai', (ms) => {
      fired.push(ms);
    });
    expect(scheduler.nextRuns()).toEqual({ yearly: Date.parse('2026-12-31T16:00:00Z') });
    clock.advance(363 * DAY);
    expect(fired).toEqual([]);
    clock.advance(2 * DAY);
    expect(fired).toEqual([Date.parse('2026-12-31T16:00:00Z')]);
    scheduler.stop();
  });

  it('cancels one job, rejects bad expressions and zones', () => {
    const { clock, scheduler } = setup('2026-01-05T00:00:00Z');
    let a = 0;
    let b = 0;
    const handle = scheduler.schedule('a', '0 * * * *', 'UTC', () => {
      a++;
    });
    scheduler.schedule('b', '0 * * * *', 'UTC', () => {
      b++;
    });
    handle.cancel();
    handle.cancel();
    clock.advance(2 * HOUR);
    expect([a, b]).toEqual([0, 2]);
    expect(() => scheduler.schedule('bad', '0 12 * *', 'UTC', () => {})).toThrow(CronExpressionError);
    expect(() => scheduler.schedule('bad', '0 12 * * *', 'Nowhere/Town', () => {})).toThrow(/time zone/);
    scheduler.stop();
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('createCronScheduler', () => {
  it('uses node-cron for the system clock and the clock scheduler otherwise', () => {
    const counters = new Counters();
    const real = createCronScheduler(systemClock, silentLogger(), counters);
    const manual = createCronScheduler(new ManualClock(), silentLogger(), counters);
    expect(real).toBeInstanceOf(NodeCronScheduler);
    expect(manual).toBeInstanceOf(ClockCronScheduler);
    real.stop();
    manual.stop();
  });
});
