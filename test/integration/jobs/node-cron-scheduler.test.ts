import { afterEach, describe, expect, it } from 'vitest';
import { Counters } from '../../../common/counters.js';
import { silentLogger } from '../../../common/logger.js';
import { NodeCronScheduler } from '../../../gateway/jobs/cron-scheduler.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(20);
  }
}

describe('NodeCronScheduler (real node-cron, real time)', () => {
  const schedulers: NodeCronScheduler[] = [];
  afterEach(() => {
    for (const s of schedulers.splice(0)) s.stop();
  });

  it('fires an every-second job in a real time zone within about 2 s, and not after stop', async () => {
    const counters = new Counters();
    const scheduler = new NodeCronScheduler(silentLogger(), counters);
    schedulers.push(scheduler);
    const fired: { scheduledAtMs: number; nowMs: number }[] = [];
    const started = Date.now();
    scheduler.schedule('tick', '* * * * * *', 'Asia/Shanghai', (scheduledAtMs) => {
      fired.push({ scheduledAtMs, nowMs: Date.now() });
    });
    await waitFor(() => fired.length >= 1, 2_200);
    expect(Date.now() - started).toBeLessThan(2_200);
    const [first] = fired;
    expect((first?.scheduledAtMs ?? 1) % 1000).toBe(0);
    expect(Math.abs((first?.nowMs ?? 0) - (first?.scheduledAtMs ?? 0))).toBeLessThan(1_000);
    await waitFor(() => counters.get('cron_job_runs', { job: 'tick' }) >= 1, 1_000);
    scheduler.stop();
    const count = fired.length;
    await sleep(1_300);
    expect(fired.length).toBe(count);
  });

  it('counts a failing job and keeps running it', async () => {
    const counters = new Counters();
    const scheduler = new NodeCronScheduler(silentLogger(), counters);
    schedulers.push(scheduler);
    let calls = 0;
    scheduler.schedule('boom', '* * * * * *', 'Europe/Berlin', () => {
      calls++;
      throw new Error('boom');
    });
    await waitFor(() => counters.get('cron_job_failures', { job: 'boom' }) >= 2, 3_500);
    expect(calls).toBeGreaterThanOrEqual(2);
  });
});
