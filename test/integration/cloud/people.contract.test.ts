import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayRegistry } from '../../../cloud/gateways/gateway-registry.js';
import { ANONYMOUS_ACTOR, AuditLog } from '../../../cloud/people/audit-log.js';
import { BedRepository } from '../../../cloud/people/beds.js';
import { LoginLimiter } from '../../../cloud/people/login-limiter.js';
import { CLI_PRINCIPAL, type Principal } from '../../../cloud/people/model.js';
import { OrganisationRepository } from '../../../cloud/people/organisations.js';
import { SESSION_TOUCH_INTERVAL_MS, SessionStore, tokenHash } from '../../../cloud/people/sessions.js';
import { UserRepository } from '../../../cloud/people/users.js';
import type { SqlDatabase } from '../../../cloud/store/sql-database.js';
import { ManualClock } from '../../../common/clock.js';
import { STORE_FACTORIES } from '../../support/cloud-stores.js';

const HOUR = 3_600_000;
const PASSWORD = 'correct horse battery';

const contact = { name: '王芳', relation: '女儿', phone: '+8613800138000', notify: true };

/** People, sessions, the login limit and the audit log, whichever database is under them. */
describe.each(STORE_FACTORIES)('people store contract: $name', (factory) => {
  let db: SqlDatabase;
  let connectAgain: () => Promise<SqlDatabase>;
  let cleanup: () => Promise<void>;
  let clock: ManualClock;
  let orgs: OrganisationRepository;
  let beds: BedRepository;
  let users: UserRepository;

  beforeEach(async () => {
    ({ db, connectAgain, cleanup } = await factory.open());
    clock = new ManualClock(Date.UTC(2026, 10, 23, 2, 0, 0));
    orgs = new OrganisationRepository(db, clock);
    beds = new BedRepository(db, clock);
    users = new UserRepository(db, clock);
    await orgs.add({ id: 'org-a', name: '黄浦养老服务中心' });
    await orgs.add({ id: 'org-b', name: '静安社区', timeZone: 'Asia/Urumqi' });
  });
  afterEach(async () => {
    await cleanup();
  });

  function addBed(id: string, organisationId = 'org-a') {
    return beds.add({
      id,
      organisationId,
      residentName: '李秀英',
      address: '上海市黄浦区中山南路 1 号 3 室',
      contacts: [contact],
      riskTags: ['独居', '高龄'],
      installDate: '2026-11-01',
    });
  }

  describe('organisations', () => {
    it('adds with a slug or a generated id, a default time zone; refuses duplicates and bad zones', async () => {
      const generated = await orgs.add({ name: '徐汇' });
      expect(generated.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(generated.timeZone).toBe('Asia/Shanghai');
      expect(await orgs.get('org-b')).toMatchObject({ name: '静安社区', timeZone: 'Asia/Urumqi' });
      expect(await orgs.get('nope')).toBeNull();
      expect((await orgs.list()).map((o) => o.id).sort()).toEqual(['org-a', 'org-b', generated.id].sort());
      await expect(orgs.add({ id: 'org-a', name: 'again' })).rejects.toMatchObject({
        code: 'HB_ORGANISATION_EXISTS',
      });
      await expect(orgs.add({ name: 'x', timeZone: 'Mars/Olympus' })).rejects.toMatchObject({
        code: 'HB_ORGANISATION_INVALID',
      });
    });
  });

  describe('beds', () => {
    it('adds with validation and defaults, gets, lists by organisation and ids', async () => {
      const bed = await addBed('bed-1');
      expect(bed).toMatchObject({ state: 'installed', notes: null, contacts: [contact] });
      await addBed('bed-2');
      await addBed('bed-9', 'org-b');
      expect(await beds.get('bed-1')).toEqual(bed);
      expect(await beds.get('bed-x')).toBeNull();
      expect((await beds.list()).map((b) => b.id)).toEqual(['bed-1', 'bed-2', 'bed-9']);
      expect((await beds.list({ organisationId: 'org-a' })).map((b) => b.id)).toEqual(['bed-1', 'bed-2']);
      expect((await beds.list({ ids: ['bed-2', 'bed-9'] })).map((b) => b.id)).toEqual(['bed-2', 'bed-9']);
      expect(await beds.list({ ids: [] })).toEqual([]);
      expect(
        (await beds.list({ organisationId: 'org-a', ids: ['bed-2', 'bed-9'] })).map((b) => b.id),
      ).toEqual(['bed-2']);

      await expect(addBed('bed-1')).rejects.toMatchObject({ code: 'HB_BED_EXISTS' });
      await expect(addBed('bed-3', 'org-zz')).rejects.toMatchObject({ code: 'HB_ORGANISATION_NOT_FOUND' });
      const invalid = [
        { id: '-bad' },
        { contacts: [{ ...contact, phone: '13800138000' }] },
        { contacts: Array.from({ length: 11 }, () => contact) },
        { riskTags: Array.from({ length: 11 }, (_, i) => `t${i}`) },
        { installDate: '2026-02-30' },
        { state: 'sleeping' },
      ];
      for (const overrides of invalid) {
        await expect(
          beds.add({
            id: 'bed-5',
            organisationId: 'org-a',
            residentName: 'x',
            address: 'y',
            ...(overrides as object),
          }),
        ).rejects.toMatchObject({ code: 'HB_BED_INVALID' });
      }
    });

    it('updates some fields, reports which changed, and follows the state machine', async () => {
      await addBed('bed-1');
      clock.advance(1000);
      const { bed, changed } = await beds.update('bed-1', {
        address: '新地址',
        riskTags: ['独居', '高龄'],
        state: 'active',
      });
      expect(changed).toEqual(['address', 'state']);
      expect(bed).toMatchObject({
        address: '新地址',
        state: 'active',
        updatedAt: '2026-11-23T02:00:01.000Z',
      });
      expect(await beds.get('bed-1')).toEqual(bed);
      expect((await beds.update('bed-1', { address: '新地址' })).changed).toEqual([]);

      await beds.update('bed-1', { state: 'suspended' });
      await beds.update('bed-1', { state: 'active' });
      await expect(beds.update('bed-1', { state: 'installed' })).rejects.toMatchObject({
        code: 'HB_BED_STATE_INVALID',
      });
      await beds.update('bed-1', { state: 'closed' });
      for (const state of ['active', 'suspended', 'installed'] as const) {
        await expect(beds.update('bed-1', { state })).rejects.toMatchObject({ code: 'HB_BED_STATE_INVALID' });
      }
      await addBed('bed-2');
      await expect(beds.update('bed-2', { state: 'suspended' })).rejects.toMatchObject({
        code: 'HB_BED_STATE_INVALID',
      });
      expect((await beds.update('bed-2', { state: 'closed' })).bed.state).toBe('closed');
      await expect(beds.update('bed-x', { notes: 'x' })).rejects.toMatchObject({ code: 'HB_BED_NOT_FOUND' });
      await expect(beds.update('bed-2', { id: 'other' } as never)).rejects.toMatchObject({
        code: 'HB_BED_INVALID',
      });
    });

    it('links one gateway per bed and one bed per gateway; the gateway joins the bed organisation', async () => {
      const registry = new GatewayRegistry(db);
      await registry.add('gw-1', 'secret-one-1');
      await registry.add('gw-2', 'secret-two-2');
      await addBed('bed-1');
      await addBed('bed-9', 'org-b');

      expect(await beds.gatewayOf('bed-1')).toBeNull();
      expect(await beds.linkGateway('gw-1', 'bed-1')).toEqual({
        gatewayId: 'gw-1',
        bedId: 'bed-1',
        organisationId: 'org-a',
      });
      expect(await beds.linkGateway('gw-1', 'bed-1')).toMatchObject({ bedId: 'bed-1' });
      expect(await beds.gatewayOf('bed-1')).toBe('gw-1');
      expect(await beds.bedOfGateway('gw-1')).toBe('bed-1');
      expect(await beds.bedOfGateway('gw-2')).toBeNull();
      expect(await beds.bedOfGateway('gw-x')).toBeNull();

      await expect(beds.linkGateway('gw-2', 'bed-1')).rejects.toMatchObject({ code: 'HB_BED_HAS_GATEWAY' });
      await expect(beds.linkGateway('gw-1', 'bed-9')).rejects.toMatchObject({ code: 'HB_GATEWAY_HAS_BED' });
      await expect(beds.linkGateway('gw-x', 'bed-1')).rejects.toMatchObject({ code: 'HB_GATEWAY_UNKNOWN' });
      await expect(beds.linkGateway('gw-2', 'bed-x')).rejects.toMatchObject({ code: 'HB_BED_NOT_FOUND' });

      expect(await beds.unlinkGateway('gw-1')).toBe('bed-1');
      expect(await beds.unlinkGateway('gw-1')).toBeNull();
      expect(await beds.gatewayLink('gw-1')).toEqual({
        gatewayId: 'gw-1',
        bedId: null,
        organisationId: 'org-a',
      });
      await beds.linkGateway('gw-2', 'bed-1');
      await beds.linkGateway('gw-1', 'bed-9');
      expect(await beds.gatewayLink('gw-1')).toEqual({
        gatewayId: 'gw-1',
        bedId: 'bed-9',
        organisationId: 'org-b',
      });
      expect(await beds.gatewayOf('bed-1')).toBe('gw-2');

      await beds.update('bed-9', { state: 'closed' });
      await beds.unlinkGateway('gw-1');
      await expect(beds.linkGateway('gw-1', 'bed-9')).rejects.toMatchObject({ code: 'HB_BED_CLOSED' });
      // The registry still knows its gateways (the link columns are beside its own).
      expect(await registry.verify('gw-1', 'secret-one-1')).toBe(true);
    });
  });

  describe('users', () => {
    it('adds with a hashed password, verifies it, and refuses duplicates and bad input', async () => {
      const user = await users.add({
        username: 'Wang.Li',
        displayName: '王丽',
        role: 'staff',
        organisationId: 'org-a',
        password: PASSWORD,
        phone: '+8613900139000',
      });
      expect(user).toMatchObject({
        username: 'wang.li',
        role: 'staff',
        disabled: false,
        organisationId: 'org-a',
      });
      const stored = await db.get<{ password_hash: string }>(`SELECT password_hash FROM users WHERE id = ?`, [
        user.id,
      ]);
      expect(stored?.password_hash).toMatch(/^scrypt\$/);
      expect(stored?.password_hash).not.toContain(PASSWORD);

      expect(await users.get(user.id)).toEqual(user);
      expect(await users.getByUsername('WANG.LI')).toEqual(user);
      expect(await users.verifyPassword('wang.li', PASSWORD)).toEqual(user);
      expect(await users.verifyPassword('wang.li', 'wrong password!')).toBeNull();
      expect(await users.verifyPassword('nobody', PASSWORD)).toBeNull();

      await expect(
        users.add({
          username: 'wang.li',
          displayName: 'x',
          role: 'staff',
          organisationId: 'org-a',
          password: PASSWORD,
        }),
      ).rejects.toMatchObject({ code: 'HB_USER_EXISTS' });
      await expect(
        users.add({
          username: 'zhao',
          displayName: 'x',
          role: 'staff',
          organisationId: 'org-zz',
          password: PASSWORD,
        }),
      ).rejects.toMatchObject({ code: 'HB_ORGANISATION_NOT_FOUND' });
      for (const bad of [
        { username: 'ab' },
        { password: 'short' },
        { organisationId: undefined },
        { role: 'root' },
        { phone: '123' },
      ]) {
        await expect(
          users.add({
            username: 'zhao',
            displayName: 'x',
            role: 'staff',
            organisationId: 'org-a',
            password: PASSWORD,
            ...(bad as object),
          }),
        ).rejects.toMatchObject({ code: 'HB_USER_INVALID' });
      }
      // A platform admin has no organisation.
      expect(
        await users.add({ username: 'root', displayName: '平台', role: 'admin', password: PASSWORD }),
      ).toMatchObject({ organisationId: null });
      expect((await users.list({ organisationId: 'org-a' })).map((u) => u.username)).toEqual(['wang.li']);
      expect((await users.list()).map((u) => u.username)).toEqual(['root', 'wang.li']);
    });

    it('updates, disables (no login), changes passwords', async () => {
      const user = await users.add({
        username: 'zhang',
        displayName: '张',
        role: 'staff',
        organisationId: 'org-a',
        password: PASSWORD,
      });
      const { user: updated, changed } = await users.update(user.id, {
        role: 'operator',
        displayName: '张',
        phone: '+8613900139000',
      });
      expect(changed).toEqual(['role', 'phone']);
      expect(updated).toMatchObject({ role: 'operator', phone: '+8613900139000' });

      await users.update(user.id, { disabled: true });
      expect(await users.verifyPassword('zhang', PASSWORD)).toBeNull();
      await users.update(user.id, { disabled: false });
      expect(await users.verifyPassword('zhang', PASSWORD)).toMatchObject({ id: user.id });

      await users.setPassword(user.id, 'another long password');
      expect(await users.verifyPassword('zhang', PASSWORD)).toBeNull();
      expect(await users.verifyPassword('zhang', 'another long password')).toMatchObject({ id: user.id });
      await expect(users.setPassword(user.id, 'short')).rejects.toMatchObject({ code: 'HB_USER_INVALID' });
      await expect(users.setPassword('nobody', 'long enough password')).rejects.toMatchObject({
        code: 'HB_USER_NOT_FOUND',
      });

      const root = await users.add({ username: 'root', displayName: 'r', role: 'admin', password: PASSWORD });
      await expect(users.update(root.id, { role: 'staff' })).rejects.toMatchObject({
        code: 'HB_USER_ORGANISATION_REQUIRED',
      });
    });

    it('links beds to family users only, within their organisation', async () => {
      await addBed('bed-1');
      await addBed('bed-2');
      await addBed('bed-9', 'org-b');
      const daughter = await users.add({
        username: 'wangfang',
        displayName: '王芳',
        role: 'family',
        organisationId: 'org-a',
        password: PASSWORD,
      });
      const staff = await users.add({
        username: 'nurse',
        displayName: '护士',
        role: 'staff',
        organisationId: 'org-a',
        password: PASSWORD,
      });
      expect(await users.linkBed(daughter.id, 'bed-1', ' 女儿 ')).toEqual({
        bedId: 'bed-1',
        relation: '女儿',
      });
      await users.linkBed(daughter.id, 'bed-2');
      await users.linkBed(daughter.id, 'bed-2', '外孙女');
      expect(await users.bedsOf(daughter.id)).toEqual([
        { bedId: 'bed-1', relation: '女儿' },
        { bedId: 'bed-2', relation: '外孙女' },
      ]);
      expect(await users.unlinkBed(daughter.id, 'bed-2')).toBe(true);
      expect(await users.unlinkBed(daughter.id, 'bed-2')).toBe(false);

      await expect(users.linkBed(staff.id, 'bed-1')).rejects.toMatchObject({ code: 'HB_USER_NOT_FAMILY' });
      await expect(users.bedsOf(staff.id)).rejects.toMatchObject({ code: 'HB_USER_NOT_FAMILY' });
      await expect(users.unlinkBed(staff.id, 'bed-1')).rejects.toMatchObject({ code: 'HB_USER_NOT_FAMILY' });
      await expect(users.linkBed(daughter.id, 'bed-9')).rejects.toMatchObject({
        code: 'HB_ORGANISATION_MISMATCH',
      });
      await expect(users.linkBed(daughter.id, 'bed-x')).rejects.toMatchObject({ code: 'HB_BED_NOT_FOUND' });
      await expect(users.linkBed('nobody', 'bed-1')).rejects.toMatchObject({ code: 'HB_USER_NOT_FOUND' });

      // Leaving the family role drops the links, so they cannot come back with the role.
      await users.update(daughter.id, { role: 'staff' });
      await users.update(daughter.id, { role: 'family' });
      expect(await users.bedsOf(daughter.id)).toEqual([]);
    });
  });

  describe('sessions', () => {
    let sessions: SessionStore;
    let userId: string;

    beforeEach(async () => {
      sessions = new SessionStore(db, { clock, sessionIdleHours: 12, sessionMaxDays: 7 });
      await addBed('bed-1');
      const user = await users.add({
        username: 'wangfang',
        displayName: '王芳',
        role: 'family',
        organisationId: 'org-a',
        password: PASSWORD,
      });
      await users.linkBed(user.id, 'bed-1', '女儿');
      userId = user.id;
    });

    it('stores only the token digest and resolves to the principal with the family beds', async () => {
      const session = await sessions.create(userId);
      expect(session.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(session.expiresAt).toBe('2026-11-23T14:00:00.000Z');
      expect(session.endsAt).toBe('2026-11-30T02:00:00.000Z');
      expect(session.maxAgeS).toBe(7 * 24 * 3600);
      const rows = await db.all<{ token_hash: string }>(`SELECT token_hash FROM sessions`);
      expect(rows).toEqual([{ token_hash: tokenHash(session.token) }]);
      expect(rows[0]?.token_hash).not.toContain(session.token);

      expect(await sessions.resolve(session.token)).toEqual({
        id: userId,
        username: 'wangfang',
        displayName: '王芳',
        role: 'family',
        organisationId: 'org-a',
        bedIds: ['bed-1'],
      } satisfies Principal);
      expect(await sessions.resolve('x'.repeat(43))).toBeNull();
      expect(await sessions.resolve('not a token')).toBeNull();
      await expect(sessions.create('nobody')).rejects.toMatchObject({ code: 'HB_USER_NOT_FOUND' });
    });

    it('expires after the idle time, slides with use, and ends at the absolute limit', async () => {
      const idle = await sessions.create(userId);
      const busy = await sessions.create(userId);
      clock.advance(11 * HOUR);
      expect(await sessions.resolve(busy.token)).not.toBeNull();
      clock.advance(2 * HOUR);
      expect(await sessions.resolve(idle.token)).toBeNull();
      expect(await sessions.resolve(busy.token)).not.toBeNull();

      // Used every 11 hours, the busy one lives until its 7 days are up, then no longer.
      for (let elapsed = 13 * HOUR; elapsed + 11 * HOUR < 7 * 24 * HOUR; elapsed += 11 * HOUR) {
        clock.advance(11 * HOUR);
        expect(await sessions.resolve(busy.token)).not.toBeNull();
      }
      const created = Date.UTC(2026, 10, 23, 2, 0, 0);
      clock.advance(created + 7 * 24 * HOUR - clock.now());
      expect(await sessions.resolve(busy.token)).toBeNull();
    });

    it('writes the last use at most once a minute', async () => {
      const session = await sessions.create(userId);
      const lastUsed = async () =>
        (await db.get<{ last_used_at: string }>(`SELECT last_used_at FROM sessions`))?.last_used_at;
      clock.advance(SESSION_TOUCH_INTERVAL_MS - 1000);
      await sessions.resolve(session.token);
      expect(await lastUsed()).toBe('2026-11-23T02:00:00.000Z');
      clock.advance(1000);
      await sessions.resolve(session.token);
      expect(await lastUsed()).toBe('2026-11-23T02:01:00.000Z');
    });

    it('revokes one, all of a user, and ends sessions when the user is disabled or the password reset', async () => {
      const a = await sessions.create(userId);
      const b = await sessions.create(userId);
      expect(await sessions.revoke(a.token)).toBe(true);
      expect(await sessions.revoke(a.token)).toBe(false);
      expect(await sessions.resolve(a.token)).toBeNull();
      expect(await sessions.resolve(b.token)).not.toBeNull();
      expect(await sessions.revokeAllFor(userId)).toBe(1);
      expect(await sessions.resolve(b.token)).toBeNull();

      const c = await sessions.create(userId);
      await users.update(userId, { disabled: true });
      await users.update(userId, { disabled: false });
      expect(await sessions.resolve(c.token)).toBeNull();
      const d = await sessions.create(userId);
      await users.setPassword(userId, 'a brand new password');
      expect(await sessions.resolve(d.token)).toBeNull();

      await users.update(userId, { disabled: true });
      await expect(sessions.create(userId)).rejects.toMatchObject({ code: 'HB_USER_DISABLED' });
    });

    it('prunes sessions a day after they ended', async () => {
      const a = await sessions.create(userId);
      await sessions.create(userId);
      clock.advance(11 * HOUR);
      await sessions.revoke(a.token);
      // Now 11 h: one was revoked now, the other expires at 12 h; a day later neither is gone yet.
      clock.advance(24 * HOUR);
      expect(await sessions.prune()).toBe(0);
      clock.advance(2 * HOUR);
      expect(await sessions.prune()).toBe(2);
    });
  });

  describe('login limiter', () => {
    it('refuses after the per-user limit within the window; a success clears the user', async () => {
      const limiter = new LoginLimiter(db, { clock, loginMaxFailuresPerUser: 3, loginWindowMinutes: 15 });
      for (let i = 0; i < 3; i++) {
        expect(await limiter.check('wang', '10.0.0.1')).toEqual({ allowed: true });
        await limiter.recordFailure('wang', '10.0.0.1');
        clock.advance(60_000);
      }
      // Failures at 0, 1 and 2 minutes; now 3 minutes: the first ages out at 15.
      expect(await limiter.check('Wang', '10.0.0.2')).toEqual({ allowed: false, retryAfterS: 12 * 60 });
      expect(await limiter.check('li', '10.0.0.1')).toEqual({ allowed: true });
      clock.advance(12 * 60_000);
      expect(await limiter.check('wang', '10.0.0.1')).toEqual({ allowed: true });
      await limiter.recordFailure('wang', '10.0.0.1');
      expect((await limiter.check('wang', '10.0.0.1')).allowed).toBe(false);
      await limiter.recordSuccess('wang');
      expect(await limiter.check('wang', '10.0.0.1')).toEqual({ allowed: true });
    });

    it('refuses an address that fails across many usernames', async () => {
      const limiter = new LoginLimiter(db, { clock, loginMaxFailuresPerIp: 4 });
      for (let i = 0; i < 4; i++) await limiter.recordFailure(`user${i}`, '10.0.0.9');
      expect(await limiter.check('someone', '10.0.0.9')).toEqual({ allowed: false, retryAfterS: 15 * 60 });
      expect(await limiter.check('someone', '10.0.0.8')).toEqual({ allowed: true });
      // A success clears the username, not the address.
      await limiter.recordSuccess('user0');
      expect((await limiter.check('someone', '10.0.0.9')).allowed).toBe(false);
    });

    it('prunes failures older than the window', async () => {
      const limiter = new LoginLimiter(db, { clock });
      await limiter.recordFailure('wang', '10.0.0.1');
      clock.advance(15 * 60_000);
      expect(await limiter.prune()).toBe(2);
      expect(await db.all(`SELECT * FROM login_failures`)).toEqual([]);
    });

    // Two processes share a store only on PostgreSQL (SQLite serves one relay process), so this runs there.
    if (factory.name === 'postgres') {
      it('counts failures from two relay processes together', async () => {
        const other = await connectAgain();
        const here = new LoginLimiter(db, { clock, loginMaxFailuresPerUser: 5 });
        const there = new LoginLimiter(other, { clock, loginMaxFailuresPerUser: 5 });
        for (let i = 0; i < 5; i++) await (i % 2 ? here : there).recordFailure('wang', `10.0.0.${i}`);
        expect((await here.check('wang', '10.0.0.99')).allowed).toBe(false);
        expect((await there.check('wang', '10.0.0.99')).allowed).toBe(false);
        await here.recordSuccess('wang');
        expect(await there.check('wang', '10.0.0.99')).toEqual({ allowed: true });
      });
    }
  });

  describe('audit log', () => {
    it('records entries without secrets and lists them newest first, filtered', async () => {
      const audit = new AuditLog(db, clock);
      await addBed('bed-1');
      await addBed('bed-9', 'org-b');
      const staff = await users.add({
        username: 'nurse',
        displayName: '护士',
        role: 'staff',
        organisationId: 'org-a',
        password: PASSWORD,
      });
      const who: Principal = { ...CLI_PRINCIPAL, id: staff.id, role: 'staff', organisationId: 'org-a' };
      const first = await audit.record({
        actor: CLI_PRINCIPAL,
        action: 'user.add',
        targetType: 'user',
        targetId: staff.id,
        detail: { username: 'nurse', password: PASSWORD, nested: { token: 'abc', kept: 1 } },
      });
      expect(first.detail).toEqual({ username: 'nurse', nested: { kept: 1 } });
      clock.advance(1000);
      await audit.record({
        actor: who,
        action: 'bed.view',
        targetType: 'bed',
        targetId: 'bed-1',
        bedId: 'bed-1',
      });
      clock.advance(1000);
      await audit.record({ actor: CLI_PRINCIPAL, action: 'bed.update', targetType: 'bed', bedId: 'bed-9' });
      clock.advance(1000);
      await audit.record({
        actor: ANONYMOUS_ACTOR,
        action: 'login.failed',
        targetType: 'user',
        targetId: staff.id,
        detail: { username: 'nurse' },
      });

      const all = await audit.list();
      expect(all.map((e) => e.action)).toEqual(['login.failed', 'bed.update', 'bed.view', 'user.add']);
      expect(JSON.stringify(all)).not.toContain(PASSWORD);
      expect(all[2]).toMatchObject({
        actorId: staff.id,
        actorRole: 'staff',
        targetId: 'bed-1',
        bedId: 'bed-1',
      });
      expect((await audit.list({ bedId: 'bed-1' })).map((e) => e.action)).toEqual(['bed.view']);
      expect((await audit.list({ actorId: 'cli' })).map((e) => e.action)).toEqual(['bed.update', 'user.add']);
      expect((await audit.list({ since: '2026-11-23T02:00:02.000Z' })).map((e) => e.action)).toEqual([
        'login.failed',
        'bed.update',
      ]);
      expect((await audit.list({ limit: 1 })).map((e) => e.action)).toEqual(['login.failed']);
      expect((await audit.list({ organisationId: 'org-a' })).map((e) => e.action)).toEqual([
        'login.failed',
        'bed.view',
        'user.add',
      ]);
      expect((await audit.list({ organisationId: 'org-b' })).map((e) => e.action)).toEqual(['bed.update']);
    });
  });
});
