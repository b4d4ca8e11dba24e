import cron, { type ScheduledTask } from 'node-cron';
import { type Clock, systemClock, type TimerHandle } from '../../common/clock.js';
import type { Counters } from '../../common/counters.js';
import { errorMessage } from '../../common/errors.js';
import { isValidTimeZone } from '../../common/local-time.js';
import type { Logger } from '../../common/logger.js';
import { CronExpressionError, cronExpressionProblem, nextCronFire } from './cron-expression.js';

/**
 * A job: called with the instant it was scheduled for (ms since the epoch;
 * a job that needs "the period that just ended" should use it rather than
 * the clock, which may already be a few ms later).
 */
export type CronJob = (scheduledAtMs: number) => void | Promise<void>;

/** Cancels one scheduled job; idempotent. */
export interface CronJobHandle {
  cancel(): void;
}

/**
 * Runs jobs at the times of cron expressions in a given IANA time zone.
 * A job that throws or rejects is logged and counted
 * (`cron_job_failures{job}`) and runs again at its next time; a run that
 * is still going when the next one is due is skipped
 * (`cron_job_overlaps{job}`). Completed runs count `cron_job_runs{job}`.
 */
export interface CronScheduler {
  /**
   * Schedule `run` at every time `expression` matches in `timeZone`.
   *
   * @throws CronExpressionError for an invalid expression or time zone (a configuration error).
   */
  schedule(name: string, expression: string, timeZone: string, run: CronJob): CronJobHandle;
  /** Cancel every job of this scheduler. */
  stop(): void;
}

function validate(expression: string, timeZone: string): void {
  const problem = cronExpressionProblem(expression);
  if (problem)
    throw new CronExpressionError(`invalid cron expression ${JSON.stringify(expression)}: ${problem}`);
  if (!isValidTimeZone(timeZone))
    throw new CronExpressionError(`unknown time zone ${JSON.stringify(timeZone)}`);
}

/** Calls a job with the failure and overlap rules shared by both schedulers; never rejects. */
class JobRunner {
  private running = false;

  constructor(
    private readonly name: string,
    private readonly run: CronJob,
    private readonly logger: Logger,
    private readonly counters: Counters,
  ) {}

  /**
   * Run the job. A synchronous job completes before this returns (so a
   * simulated clock can fire it many times in one `advance`); an async one
   * holds the job busy until it settles.
   */
  fire(scheduledAtMs: number): Promise<void> {
    if (this.running) {
      this.counters.inc('cron_job_overlaps', { job: this.name });
      this.logger.warn({ job: this.name }, 'job still running at its next time; this run is skipped');
      return Promise.resolve();
    }
    let result: void | Promise<void>;
    try {
      result = this.run(scheduledAtMs);
    } catch (err) {
      this.failed(err, scheduledAtMs);
      return Promise.resolve();
    }
    if (!(result instanceof Promise)) {
      this.counters.inc('cron_job_runs', { job: this.name });
      return Promise.resolve();
    }
    this.running = true;
    return result.then(
      () => {
        this.running = false;
        this.counters.inc('cron_job_runs', { job: this.name });
      },
      (err: unknown) => {
        this.running = false;
        this.failed(err, scheduledAtMs);
      },
    );
  }

  private failed(err: unknown, scheduledAtMs: number): void {
    this.counters.inc('cron_job_failures', { job: this.name });
    this.logger.error(
      { job: this.name, err: errorMessage(err), scheduledAt: new Date(scheduledAtMs).toISOString() },
      'scheduled job failed; it runs again at its next time',
    );
  }
}

/**
 * Production scheduler: node-cron 4 (`cron.schedule(expr, fn, { timezone, name })`).
 * node-cron's own logger is routed to ours so its "missed execution" warnings
 * land in the gateway log rather than on the console.
 */
export class NodeCronScheduler implements CronScheduler {
  private readonly tasks = new Set<ScheduledTask>();

  constructor(
    private readonly logger: Logger,
    private readonly counters: Counters,
  ) {}

  schedule(name: string, expression: string, timeZone: string, run: CronJob): CronJobHandle {
    validate(expression, timeZone);
    const runner = new JobRunner(name, run, this.logger, this.counters);
    const log = this.logger.child({ job: name, scheduler: 'node-cron' });
    const task = cron.schedule(expression, (ctx) => runner.fire(ctx.date.getTime()), {
      timezone: timeZone,
      name: `homebed:${name}`,
      logger: {
        info: (message) => log.debug(message),
        warn: (message) => log.warn(message),
        error: (message, err) => log.error({ err: errorMessage(err ?? message) }, String(message)),
        debug: (message) => log.debug(String(message)),
      },
    });
    this.tasks.add(task);
    this.logger.info({ job: name, cron: expression, timeZone }, 'job scheduled');
    return {
      cancel: () => {
        if (this.tasks.delete(task)) this.destroy(task);
      },
    };
  }

  stop(): void {
    for (const task of this.tasks) this.destroy(task);
    this.tasks.clear();
  }

  private destroy(task: ScheduledTask): void {
    // destroy() also removes the task from node-cron's global registry, so nothing keeps a timer.
    Promise.resolve(task.destroy()).catch((err: unknown) =>
      this.logger.warn({ err: errorMessage(err) }, 'node-cron task did not stop cleanly'),
    );
  }
}

/** Node timers overflow past 2^31 - 1 ms (24.8 days); long waits are taken in steps. */
const MAX_TIMER_MS = 24 * 3600_000;

interface ClockJob {
  name: string;
  expression: string;
  timeZone: string;
  runner: JobRunner;
  dueMs: number;
  timer: TimerHandle | null;
}

/**
 * A scheduler on an injected {@link Clock}: computes each next fire time with
 * {@link nextCronFire} (the same instants node-cron picks) and arms one
 * `clock.setTimeout`. On a ManualClock a simulated week fires every job at
 * its local times, DST included. Times missed while the process was not
 * running are not replayed (as with node-cron); jobs that must not lose a
 * period catch up themselves from their persisted state.
 */
export class ClockCronScheduler implements CronScheduler {
  private readonly jobs = new Set<ClockJob>();

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly counters: Counters,
  ) {}

  schedule(name: string, expression: string, timeZone: string, run: CronJob): CronJobHandle {
    validate(expression, timeZone);
    const job: ClockJob = {
      name,
      expression,
      timeZone,
      runner: new JobRunner(name, run, this.logger, this.counters),
      dueMs: 0,
      timer: null,
    };
    this.jobs.add(job);
    this.armAfter(job, this.clock.now());
    this.logger.info(
      { job: name, cron: expression, timeZone, next: new Date(job.dueMs).toISOString() },
      'job scheduled',
    );
    return { cancel: () => this.cancel(job) };
  }

  /** When each job runs next (for status output and tests). */
  nextRuns(): Record<string, number> {
    return Object.fromEntries([...this.jobs].map((j) => [j.name, j.dueMs]));
  }

  stop(): void {
    for (const job of [...this.jobs]) this.cancel(job);
  }

  private cancel(job: ClockJob): void {
    job.timer?.cancel();
    job.timer = null;
    this.jobs.delete(job);
  }

  private armAfter(job: ClockJob, afterMs: number): void {
    job.dueMs = nextCronFire(job.expression, job.timeZone, afterMs);
    this.armTimer(job);
  }

  private armTimer(job: ClockJob): void {
    const delay = Math.min(job.dueMs - this.clock.now(), MAX_TIMER_MS);
    job.timer = this.clock.setTimeout(() => this.onTimer(job), delay);
  }

  private onTimer(job: ClockJob): void {
    job.timer = null;
    if (!this.jobs.has(job)) return;
    const now = this.clock.now();
    // A step of a long wait (or a timer that woke a little early): keep waiting.
    if (now < job.dueMs) {
      this.armTimer(job);
      return;
    }
    const scheduledAtMs = job.dueMs;
    // Arm the next run first, so a job that throws synchronously (or hangs) cannot stop the schedule.
    this.armAfter(job, Math.max(now, scheduledAtMs));
    void job.runner.fire(scheduledAtMs);
  }
}

/**
 * node-cron for the real clock, the clock-driven scheduler for any other
 * (a ManualClock in tests and simulations).
 */
export function createCronScheduler(clock: Clock, logger: Logger, counters: Counters): CronScheduler {
  return clock === systemClock
    ? new NodeCronScheduler(logger, counters)
    : new ClockCronScheduler(clock, logger, counters);
}
