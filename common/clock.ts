/**
 * Time is injected everywhere so tests can run a whole day in seconds.
 * Production code never calls `Date.now()` or `setTimeout` directly for
 * anything a rule or a deadline depends on; it asks its Clock.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Wall-clock milliseconds since the epoch. */
  now(): number;
  /** Run `fn` once after `delayMs` of this clock's time. */
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  /** Run `fn` every `intervalMs` of this clock's time. */
  setInterval(fn: () => void, intervalMs: number): TimerHandle;
}

/** The real clock: wall time and Node timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, delayMs) {
    const t = setTimeout(fn, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(t) };
  },
  setInterval(fn, intervalMs) {
    const t = setInterval(fn, Math.max(1, intervalMs));
    return { cancel: () => clearInterval(t) };
  },
};

interface ScheduledTimer {
  id: number;
  dueMs: number;
  intervalMs: number | null;
  fn: () => void;
}

/**
 * A manual clock for tests: time only moves when `advance` is called, and
 * every timer due in the advanced span fires in deadline order.
 */
export class ManualClock implements Clock {
  private current: number;
  private nextId = 1;
  private timers = new Map<number, ScheduledTimer>();

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    return this.schedule(fn, Math.max(0, delayMs), null);
  }

  setInterval(fn: () => void, intervalMs: number): TimerHandle {
    return this.schedule(fn, Math.max(1, intervalMs), Math.max(1, intervalMs));
  }

  /** Number of timers still scheduled (a stopped service must leave none). */
  pendingTimers(): number {
    return this.timers.size;
  }

  /** Move time forward by `ms`, firing due timers in order. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let next: ScheduledTimer | undefined;
      for (const t of this.timers.values()) {
        if (
          t.dueMs <= target &&
          (!next || t.dueMs < next.dueMs || (t.dueMs === next.dueMs && t.id < next.id))
        ) {
          next = t;
        }
      }
      if (!next) break;
      this.current = Math.max(this.current, next.dueMs);
      if (next.intervalMs === null) this.timers.delete(next.id);
      else next.dueMs += next.intervalMs;
      next.fn();
    }
    this.current = target;
  }

  private schedule(fn: () => void, delayMs: number, intervalMs: number | null): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { id, dueMs: this.current + delayMs, intervalMs, fn });
    return { cancel: () => this.timers.delete(id) };
  }
}
