import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { type Clock, systemClock } from '../../common/clock.js';
import { HomebedError } from '../../common/errors.js';
import { uuidv7 } from '../../common/ids.js';
import { hashSecret, verifySecret } from '../../common/secrets.js';
import type { SqlDatabase, SqlExecutor } from '../store/sql-database.js';
import { phoneSchema } from './beds.js';
import { ROLES, type Role, type User } from './model.js';
import { organisationIdSchema } from './organisations.js';
import { forUpdate } from './sql-helpers.js';
import { parseInput } from './validation.js';

export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{2,31}$/;

/** Usernames are compared lowercased, so `Wang.Li` and `wang.li` are one account. */
export const usernameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(USERNAME_PATTERN, 'must be 3-32 lowercase letters, digits, "_", "." or "-"');

/** The upper bound only keeps a huge body from becoming a huge scrypt input. */
export const passwordSchema = z.string().min(10, 'must be at least 10 characters').max(1024);

const displayNameSchema = z.string().trim().min(1).max(100);

export const userInputSchema = z
  .object({
    username: usernameSchema,
    displayName: displayNameSchema,
    role: z.enum(ROLES),
    organisationId: organisationIdSchema.optional(),
    password: passwordSchema,
    phone: phoneSchema.optional(),
  })
  .strict()
  .refine((u) => u.role === 'admin' || u.organisationId !== undefined, {
    message: 'required unless the role is admin (an admin without one is a platform admin)',
    path: ['organisationId'],
  });

export type UserInput = z.input<typeof userInputSchema>;

export const userUpdateSchema = z
  .object({
    displayName: displayNameSchema,
    role: z.enum(ROLES),
    disabled: z.boolean(),
    phone: phoneSchema.nullable(),
  })
  .partial()
  .strict();

export type UserUpdate = z.input<typeof userUpdateSchema>;
export type UserField = keyof z.output<typeof userUpdateSchema>;

/** A family user's link to a bed. */
export interface BedLink {
  bedId: string;
  /** 女儿, 儿子 … (free text). */
  relation: string | null;
}

interface UserRow {
  id: string;
  username: string;
  display_name: string;
  role: string;
  organisation_id: string | null;
  password_hash: string;
  phone: string | null;
  disabled: number;
  created_at: string;
  updated_at: string;
}

/**
 * Checked against when the username is unknown, so a wrong username costs
 * the same scrypt as a wrong password and timing does not reveal which
 * usernames exist. Made once per process with the current parameters.
 */
let dummyHash: Promise<string> | null = null;
function unknownUserHash(): Promise<string> {
  dummyHash ??= hashSecret(randomBytes(32).toString('base64url'));
  return dummyHash;
}

/** People who log in to the console; passwords stored only as scrypt hashes. */
export class UserRepository {
  constructor(
    private readonly db: SqlDatabase,
    private readonly clock: Clock = systemClock,
  ) {
    // Ready before the first login with an unknown name, which would otherwise also pay for making it.
    unknownUserHash().catch(() => undefined);
  }

  async add(input: UserInput): Promise<User> {
    const data = parseInput(userInputSchema, input, 'HB_USER_INVALID');
    const now = this.now();
    const user: User = {
      id: uuidv7(this.clock.now()),
      username: data.username,
      displayName: data.displayName,
      role: data.role,
      organisationId: data.organisationId ?? null,
      phone: data.phone ?? null,
      disabled: false,
      createdAt: now,
      updatedAt: now,
    };
    const passwordHash = await hashSecret(data.password);
    return this.db.transaction(async (tx) => {
      if (user.organisationId !== null) {
        const org = await tx.get(`SELECT id FROM organisations WHERE id = ?`, [user.organisationId]);
        if (!org)
          throw new HomebedError('HB_ORGANISATION_NOT_FOUND', `no organisation ${user.organisationId}`);
      }
      const result = await tx.run(
        `INSERT INTO users
           (id, username, display_name, role, organisation_id, password_hash, phone, disabled, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)
         ON CONFLICT (username) DO NOTHING`,
        [
          user.id,
          user.username,
          user.displayName,
          user.role,
          user.organisationId,
          passwordHash,
          user.phone,
          user.createdAt,
          user.updatedAt,
        ],
      );
      if (result.changes === 0)
        throw new HomebedError('HB_USER_EXISTS', `user ${user.username} already exists`);
      return user;
    });
  }

  async get(id: string): Promise<User | null> {
    const row = await this.db.get<UserRow>(`SELECT * FROM users WHERE id = ?`, [id]);
    return row ? toUser(row) : null;
  }

  async getByUsername(username: string): Promise<User | null> {
    const row = await this.db.get<UserRow>(`SELECT * FROM users WHERE username = ?`, [
      username.trim().toLowerCase(),
    ]);
    return row ? toUser(row) : null;
  }

  async list(query: { organisationId?: string } = {}): Promise<User[]> {
    const rows =
      query.organisationId !== undefined
        ? await this.db.all<UserRow>(`SELECT * FROM users WHERE organisation_id = ? ORDER BY username`, [
            query.organisationId,
          ])
        : await this.db.all<UserRow>(`SELECT * FROM users ORDER BY username`);
    return rows.map(toUser);
  }

  /**
   * Change role, name, phone or the disabled flag; returns the user and the
   * fields whose value changed. Disabling ends the user's sessions; leaving
   * the family role drops their bed links (they would grant nothing, and
   * must not come back if the role does).
   */
  async update(id: string, patch: UserUpdate): Promise<{ user: User; changed: UserField[] }> {
    const data = parseInput(userUpdateSchema, patch, 'HB_USER_INVALID');
    return this.db.transaction(async (tx) => {
      const before = await this.lock(tx, id);
      const changed = (Object.keys(data) as UserField[]).filter(
        (field) => data[field] !== undefined && data[field] !== before[field],
      );
      if (changed.length === 0) return { user: before, changed };
      const after: User = { ...before, updatedAt: this.now() };
      for (const field of changed) Object.assign(after, { [field]: data[field] });
      if (after.role !== 'admin' && after.organisationId === null) {
        throw new HomebedError(
          'HB_USER_ORGANISATION_REQUIRED',
          `a platform admin (no organisation) cannot become ${after.role}`,
        );
      }
      await tx.run(
        `UPDATE users SET display_name = ?, role = ?, disabled = ?, phone = ?, updated_at = ? WHERE id = ?`,
        [after.displayName, after.role, after.disabled ? 1 : 0, after.phone, after.updatedAt, id],
      );
      if (before.role === 'family' && after.role !== 'family') {
        await tx.run(`DELETE FROM user_beds WHERE user_id = ?`, [id]);
      }
      if (after.disabled && !before.disabled) await revokeSessions(tx, id, after.updatedAt);
      return { user: after, changed };
    });
  }

  /** Set a new password; the user's sessions end (a reset after a leak must lock the leaker out). */
  async setPassword(id: string, password: string): Promise<void> {
    const valid = parseInput(passwordSchema, password, 'HB_USER_INVALID');
    const hash = await hashSecret(valid);
    await this.db.transaction(async (tx) => {
      const now = this.now();
      const result = await tx.run(`UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`, [
        hash,
        now,
        id,
      ]);
      if (result.changes === 0) throw new HomebedError('HB_USER_NOT_FOUND', `no user ${id}`);
      await revokeSessions(tx, id, now);
    });
  }

  /** Give a family user a bed (same organisation); linking again updates the relation. */
  linkBed(userId: string, bedId: string, relation: string | null = null): Promise<BedLink> {
    return this.db.transaction(async (tx) => {
      const user = await this.lock(tx, userId);
      requireFamily(user);
      const bed = await tx.get<{ organisation_id: string }>(`SELECT organisation_id FROM beds WHERE id = ?`, [
        bedId,
      ]);
      if (!bed) throw new HomebedError('HB_BED_NOT_FOUND', `no bed ${bedId}`);
      if (bed.organisation_id !== user.organisationId) {
        throw new HomebedError(
          'HB_ORGANISATION_MISMATCH',
          `bed ${bedId} belongs to another organisation than user ${user.username}`,
        );
      }
      const trimmed = relation?.trim() || null;
      await tx.run(
        `INSERT INTO user_beds (user_id, bed_id, relation) VALUES (?, ?, ?)
         ON CONFLICT (user_id, bed_id) DO UPDATE SET relation = excluded.relation`,
        [userId, bedId, trimmed],
      );
      return { bedId, relation: trimmed };
    });
  }

  /** Take a bed from a family user; false when they did not have it. */
  async unlinkBed(userId: string, bedId: string): Promise<boolean> {
    requireFamily(await this.require(userId));
    const result = await this.db.run(`DELETE FROM user_beds WHERE user_id = ? AND bed_id = ?`, [
      userId,
      bedId,
    ]);
    return result.changes > 0;
  }

  async bedsOf(userId: string): Promise<BedLink[]> {
    requireFamily(await this.require(userId));
    const rows = await this.db.all<{ bed_id: string; relation: string | null }>(
      `SELECT bed_id, relation FROM user_beds WHERE user_id = ? ORDER BY bed_id`,
      [userId],
    );
    return rows.map((r) => ({ bedId: r.bed_id, relation: r.relation }));
  }

  /**
   * The user, when the password is theirs and they are not disabled; null
   * otherwise, whatever the reason (the caller says the same to everyone).
   */
  async verifyPassword(username: string, password: string): Promise<User | null> {
    const row = await this.db.get<UserRow>(`SELECT * FROM users WHERE username = ?`, [
      username.trim().toLowerCase(),
    ]);
    if (!row) {
      await verifySecret(password, await unknownUserHash());
      return null;
    }
    const ok = await verifySecret(password, row.password_hash);
    return ok && !row.disabled ? toUser(row) : null;
  }

  private async require(id: string): Promise<User> {
    const user = await this.get(id);
    if (!user) throw new HomebedError('HB_USER_NOT_FOUND', `no user ${id}`);
    return user;
  }

  private async lock(tx: SqlExecutor, id: string): Promise<User> {
    const row = await tx.get<UserRow>(`SELECT * FROM users WHERE id = ?${forUpdate(this.db.dialect)}`, [id]);
    if (!row) throw new HomebedError('HB_USER_NOT_FOUND', `no user ${id}`);
    return toUser(row);
  }

  private now(): string {
    return new Date(this.clock.now()).toISOString();
  }
}

function requireFamily(user: User): void {
  if (user.role !== 'family') {
    throw new HomebedError(
      'HB_USER_NOT_FAMILY',
      `beds are linked to family users only; ${user.username} is ${user.role}`,
    );
  }
}

function revokeSessions(tx: SqlExecutor, userId: string, at: string): Promise<{ changes: number }> {
  return tx.run(`UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, [at, userId]);
}

function toUser(r: UserRow): User {
  return {
    id: r.id,
    username: r.username,
    displayName: r.display_name,
    role: r.role as Role,
    organisationId: r.organisation_id,
    phone: r.phone,
    disabled: Number(r.disabled) !== 0,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
