/**
 * Exponential backoff with ±20 % jitter, for everything that retries a
 * connection: a fleet reconnecting after an outage must not stampede.
 */

export interface BackoffOptions {
  /** Delay before the first retry. */
  initialMs: number;
  /** Cap of the doubling. */
  maxMs: number;
  /** Source of jitter in [0, 1); default Math.random. */
  random?: () => number;
}

/**
 * Delay before retry number `attempt` (0 for the first): `initialMs · 2^attempt`, capped at `maxMs`, then
 * scaled by a random factor in [0.8, 1.2).
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions): number {
  const base = Math.min(options.maxMs, options.initialMs * 2 ** attempt);
  return Math.round(base * (0.8 + 0.4 * (options.random ?? Math.random)()));
}

/** Counts failed attempts and hands out the next delay; `reset()` after a success. */
export class Backoff {
  private attempts = 0;

  constructor(private readonly options: BackoffOptions) {}

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    return backoffDelayMs(this.attempts++, this.options);
  }

  reset(): void {
    this.attempts = 0;
  }

  /** Failures counted since the last reset. */
  get failures(): number {
    return this.attempts;
  }
}
