import { createHash, randomBytes } from 'node:crypto';
import { type Clock, systemClock } from '../../common/clock.js';
import { HomebedError } from '../../common/errors.js';
import type { SqlDatabase } from '../store/sql-database.js';
import type { AuthConfig } from './config.js';
import type { Principal, Role } from './model.js';

const HOUR_MS = 3_600_000;
/** Sliding expiry moves at most this often, so a busy console does not write once per request. */
export const SESSION_TOUCH_INTERVAL_MS = 60_000;
/** Expired and revoked sessions are kept this long (for investigating), then pruned. */
const PRUNE_AFTER_MS = 24 * HOUR_MS;
/** What create() hands out: 32 random bytes, base64url. Anything else is not looked up. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface SessionOptions extends Partial<Pick<AuthConfig, 'sessionIdleHours' | 'sessionMaxDays'>> {
  clock?: Clock;
}

export interface NewSession {
  /** The bearer token; shown to the client once, stored only as its SHA-256. */
  token: string;
  /** When it expires if unused (pushed out by use). */
  expiresAt: string;
  /** When it ends however busy it is. */
  endsAt: string;
  /** Seconds from now to `endsAt`: the cookie's Max-Age. */
  maxAgeS: number;
}

interface SessionRow {
  user_id: string;
  created_at: string;
  expires_at: string;
  last_used_at: string;
  revoked_at: string | null;
  username: string;
  display_name: string;
  role: string;
  organisation_id: string | null;
  disabled: number;
}

/** The database holds only the token's digest: a leaked table or backup logs nobody in. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Console sessions in the `sessions` table, so every relay process honours
 * a login and a logout. A session expires after `sessionIdleHours` without
 * use (sliding) and `sessionMaxDays` after its login at the latest.
 */
export class SessionStore {
  private readonly clock: Clock;
  private readonly idleMs: number;
  private readonly maxMs: number;

  constructor(
    private readonly db: SqlDatabase,
    options: SessionOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.idleMs = (options.sessionIdleHours ?? 12) * HOUR_MS;
    this.maxMs = (options.sessionMaxDays ?? 7) * 24 * HOUR_MS;
  }

  async create(userId: string): Promise<NewSession> {
    const user = await this.db.get<{ disabled: number }>(`SELECT disabled FROM users WHERE id = ?`, [userId]);
    if (!user) throw new HomebedError('HB_USER_NOT_FOUND', `no user ${userId}`);
    if (Number(user.disabled)) throw new HomebedError('HB_USER_DISABLED', 'a disabled user gets no session');
    const token = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const endsAt = now + this.maxMs;
    const expiresAt = Math.min(now + this.idleMs, endsAt);
    await this.db.run(
      `INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_used_at) VALUES (?, ?, ?, ?, ?)`,
      [tokenHash(token), userId, iso(now), iso(expiresAt), iso(now)],
    );
    return { token, expiresAt: iso(expiresAt), endsAt: iso(endsAt), maxAgeS: Math.floor(this.maxMs / 1000) };
  }

  /**
   * The principal a token stands for, or null when it is unknown, expired,
   * revoked or its user is disabled. Using it pushes the idle expiry out.
   */
  async resolve(token: string): Promise<Principal | null> {
    if (!TOKEN_PATTERN.test(token)) return null;
    const hash = tokenHash(token);
    const row = await this.db.get<SessionRow>(
      `SELECT s.user_id, s.created_at, s.expires_at, s.last_used_at, s.revoked_at,
              u.username, u.display_name, u.role, u.organisation_id, u.disabled
       FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.token_hash = ?`,
      [hash],
    );
    const now = this.clock.now();
    if (!row || row.revoked_at !== null || Number(row.disabled)) return null;
    const endsAt = Date.parse(row.created_at) + this.maxMs;
    if (now >= Date.parse(row.expires_at) || now >= endsAt) return null;
    if (now - Date.parse(row.last_used_at) >= SESSION_TOUCH_INTERVAL_MS) {
      await this.db.run(
        `UPDATE sessions SET last_used_at = ?, expires_at = ? WHERE token_hash = ? AND revoked_at IS NULL`,
        [iso(now), iso(Math.min(now + this.idleMs, endsAt)), hash],
      );
    }
    const role = row.role as Role;
    const bedIds =
      role === 'family'
        ? (
            await this.db.all<{ bed_id: string }>(
              `SELECT bed_id FROM user_beds WHERE user_id = ? ORDER BY bed_id`,
              [row.user_id],
            )
          ).map((r) => r.bed_id)
        : [];
    return {
      id: row.user_id,
      username: row.username,
      displayName: row.display_name,
      role,
      organisationId: row.organisation_id,
      bedIds,
    };
  }

  /** End one session (logout); false when the token was unknown or already ended. */
  async revoke(token: string): Promise<boolean> {
    const result = await this.db.run(
      `UPDATE sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL`,
      [iso(this.clock.now()), tokenHash(token)],
    );
    return result.changes > 0;
  }

  /** End every session of a user (disabled, password reset, "log out everywhere"); returns how many. */
  async revokeAllFor(userId: string): Promise<number> {
    const result = await this.db.run(
      `UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`,
      [iso(this.clock.now()), userId],
    );
    return result.changes;
  }

  /** Delete sessions that expired or were revoked more than a day ago; returns how many. */
  async prune(): Promise<number> {
    const cutoff = iso(this.clock.now() - PRUNE_AFTER_MS);
    const result = await this.db.run(`DELETE FROM sessions WHERE expires_at < ? OR revoked_at < ?`, [
      cutoff,
      cutoff,
    ]);
    return result.changes;
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
