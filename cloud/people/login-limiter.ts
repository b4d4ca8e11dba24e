import { type Clock, systemClock } from '../../common/clock.js';
import type { SqlDatabase } from '../store/sql-database.js';
import type { AuthConfig } from './config.js';

/** Old rows are deleted at most this often per process (on the next failure). */
const PRUNE_INTERVAL_MS = 60_000;

export interface LoginLimiterOptions
  extends Partial<
    Pick<AuthConfig, 'loginMaxFailuresPerUser' | 'loginMaxFailuresPerIp' | 'loginWindowMinutes'>
  > {
  clock?: Clock;
}

export type LoginVerdict = { allowed: true } | { allowed: false; retryAfterS: number };

/**
 * Failed logins counted per username (guessing one account's password) and
 * per client address (trying many accounts), in a sliding window. The
 * counts live in `login_failures`, so every relay process behind a load
 * balancer sees the same ones. A refused attempt is not verified at all.
 *
 * The per-username limit lets someone lock an account out for one window by
 * failing on purpose; that is the accepted price of stopping password
 * guessing, and an admin can still reset the password.
 */
export class LoginLimiter {
  private readonly clock: Clock;
  private readonly maxPerUser: number;
  private readonly maxPerIp: number;
  private readonly windowMs: number;
  private lastPruneMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly db: SqlDatabase,
    options: LoginLimiterOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.maxPerUser = options.loginMaxFailuresPerUser ?? 5;
    this.maxPerIp = options.loginMaxFailuresPerIp ?? 30;
    this.windowMs = (options.loginWindowMinutes ?? 15) * 60_000;
  }

  /** Whether a login for `username` from `ip` may be tried now. */
  async check(username: string, ip: string): Promise<LoginVerdict> {
    const waits = await Promise.all([
      this.wait(userKey(username), this.maxPerUser),
      this.wait(ipKey(ip), this.maxPerIp),
    ]);
    const retryAfterMs = Math.max(...waits);
    return retryAfterMs > 0
      ? { allowed: false, retryAfterS: Math.ceil(retryAfterMs / 1000) }
      : { allowed: true };
  }

  async recordFailure(username: string, ip: string): Promise<void> {
    const now = this.clock.now();
    const at = new Date(now).toISOString();
    await this.db.run(`INSERT INTO login_failures (key, at) VALUES (?, ?), (?, ?)`, [
      userKey(username),
      at,
      ipKey(ip),
      at,
    ]);
    if (now - this.lastPruneMs >= PRUNE_INTERVAL_MS) {
      this.lastPruneMs = now;
      await this.prune();
    }
  }

  /** A successful login clears that username's failures (not the address's: one success must not reset a spray). */
  async recordSuccess(username: string): Promise<void> {
    await this.db.run(`DELETE FROM login_failures WHERE key = ?`, [userKey(username)]);
  }

  /** Delete failures older than the window; returns how many. */
  async prune(): Promise<number> {
    const cutoff = new Date(this.clock.now() - this.windowMs).toISOString();
    return (await this.db.run(`DELETE FROM login_failures WHERE at <= ?`, [cutoff])).changes;
  }

  /**
   * Milliseconds until `key` has fewer than `max` failures in the window (0:
   * it has already). The max-th newest failure is the one whose ageing out
   * brings the count below the limit.
   */
  private async wait(key: string, max: number): Promise<number> {
    const now = this.clock.now();
    const row = await this.db.get<{ at: string }>(
      `SELECT at FROM login_failures WHERE key = ? AND at > ? ORDER BY at DESC LIMIT 1 OFFSET ?`,
      [key, new Date(now - this.windowMs).toISOString(), max - 1],
    );
    return row ? Math.max(0, Date.parse(row.at) + this.windowMs - now) : 0;
  }
}

function userKey(username: string): string {
  return `user:${username.trim().toLowerCase()}`;
}

function ipKey(ip: string): string {
  return `ip:${ip}`;
}
