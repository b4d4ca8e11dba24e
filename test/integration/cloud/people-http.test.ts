import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayRegistry } from '../../../cloud/gateways/gateway-registry.js';
import { registerAuthentication } from '../../../cloud/http/auth.js';
import { registerAuthRoutes } from '../../../cloud/http/routes/auth-routes.js';
import { registerPeopleRoutes } from '../../../cloud/http/routes/people-routes.js';
import { AuditLog } from '../../../cloud/people/audit-log.js';
import { BedRepository } from '../../../cloud/people/beds.js';
import { LoginLimiter } from '../../../cloud/people/login-limiter.js';
import { OrganisationRepository } from '../../../cloud/people/organisations.js';
import { SessionStore } from '../../../cloud/people/sessions.js';
import { UserRepository } from '../../../cloud/people/users.js';
import { openCloudStore } from '../../../cloud/store/cloud-db.js';
import type { SqlDatabase } from '../../../cloud/store/sql-database.js';

const PASSWORD = 'a long enough password';

/** The people API on a bare Fastify app over SQLite: logins, roles, scopes and the audit trail. */
describe('people HTTP API', () => {
  let db: SqlDatabase;
  let app: FastifyInstance;
  let audit: AuditLog;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    db = await openCloudStore({ dataDir: ':memory:' });
    const organisations = new OrganisationRepository(db);
    const beds = new BedRepository(db);
    const users = new UserRepository(db);
    const sessions = new SessionStore(db);
    audit = new AuditLog(db);
    await organisations.add({ id: 'org-a', name: '黄浦养老服务中心' });
    await organisations.add({ id: 'org-b', name: '静安社区' });
    for (const [id, organisationId] of [
      ['bed-1', 'org-a'],
      ['bed-2', 'org-a'],
      ['bed-9', 'org-b'],
    ] as const) {
      await beds.add({
        id,
        organisationId,
        residentName: `住户 ${id}`,
        address: '上海市黄浦区中山南路 1 号',
        contacts: [{ name: '王芳', relation: '女儿', phone: '+8613800138000', notify: true }],
      });
    }
    await new GatewayRegistry(db).add('gw-1', 'gateway-secret-1');
    const people = [
      ['root', 'admin', undefined],
      ['admin-a', 'admin', 'org-a'],
      ['operator-a', 'operator', 'org-a'],
      ['staff-a', 'staff', 'org-a'],
      ['family-a', 'family', 'org-a'],
      ['regulator-a', 'regulator', 'org-a'],
      // Locked out by the rate-limit test; nobody else logs in as them.
      ['target-a', 'staff', 'org-a'],
    ] as const;
    for (const [username, role, organisationId] of people) {
      const user = await users.add({
        username,
        displayName: username,
        role,
        password: PASSWORD,
        ...(organisationId ? { organisationId } : {}),
      });
      ids[username] = user.id;
    }
    await users.linkBed(ids['family-a']!, 'bed-1', '女儿');

    app = Fastify();
    registerAuthentication(app, { sessions });
    registerAuthRoutes(app, { users, sessions, limiter: new LoginLimiter(db), audit });
    registerPeopleRoutes(app, { organisations, beds, users, audit });
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
    await db.close();
  });

  async function login(username: string, password = PASSWORD, ip = '10.0.0.1') {
    return app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username, password },
      remoteAddress: ip,
    });
  }

  async function tokenOf(username: string): Promise<string> {
    const res = await login(username);
    expect(res.statusCode).toBe(200);
    return res.json<{ token: string }>().token;
  }

  function as(token: string) {
    return { authorization: `Bearer ${token}` };
  }

  describe('login', () => {
    it('returns a token, the user and an HttpOnly SameSite=Strict cookie; the token works as bearer and cookie', async () => {
      const res = await login('staff-a');
      expect(res.statusCode).toBe(200);
      const body = res.json<{ token: string; expiresAt: string; user: Record<string, unknown> }>();
      expect(body.user).toMatchObject({ username: 'staff-a', role: 'staff', organisationId: 'org-a' });
      expect(JSON.stringify(body.user)).not.toMatch(/password|hash/i);
      const cookie = String(res.headers['set-cookie']);
      expect(cookie).toContain(`hb_session=${body.token}`);
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Strict/);
      expect(cookie).toMatch(/Path=\//);

      const viaBearer = await app.inject({ url: '/api/auth/me', headers: as(body.token) });
      expect(viaBearer.json()).toMatchObject({ principal: { username: 'staff-a', role: 'staff' } });
      const viaCookie = await app.inject({
        url: '/api/auth/me',
        headers: { cookie: `theme=dark; hb_session=${body.token}` },
      });
      expect(viaCookie.statusCode).toBe(200);

      const entries = await audit.list({ actorId: ids['staff-a']! });
      expect(entries[0]).toMatchObject({ action: 'login', targetId: ids['staff-a'] });
    });

    it('answers a wrong password and an unknown user alike, and refuses the 6th failure with 429', async () => {
      const ip = '10.0.0.66';
      const wrong = await login('target-a', 'not the password', ip);
      const unknown = await login('nobody-here', 'not the password', ip);
      for (const res of [wrong, unknown]) {
        expect(res.statusCode).toBe(401);
        expect(res.json()).toEqual({ error: 'HB_LOGIN_FAILED', message: 'wrong username or password' });
        expect(res.headers['set-cookie']).toBeUndefined();
      }
      for (let i = 0; i < 4; i++) expect((await login('target-a', 'still wrong!', ip)).statusCode).toBe(401);
      // Five failures for target-a: the sixth attempt is refused, even with the right password.
      const limited = await login('target-a', PASSWORD, ip);
      expect(limited.statusCode).toBe(429);
      expect(limited.json()).toMatchObject({ error: 'HB_LOGIN_RATE_LIMITED' });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(15 * 60);

      const failures = (await audit.list({ actorId: 'anonymous' })).filter(
        (e) => e.detail.username === 'target-a',
      );
      expect(failures.map((e) => e.detail.reason)).toEqual([
        'rate_limited',
        'credentials',
        'credentials',
        'credentials',
        'credentials',
        'credentials',
      ]);
      expect(failures[0]).toMatchObject({ action: 'login.failed', targetId: ids['target-a'] });
      expect(JSON.stringify(await audit.list({ limit: 1000 }))).not.toContain('still wrong!');
    });

    it('refuses a disabled user with the same 401', async () => {
      const root = await tokenOf('root');
      const added = await app.inject({
        method: 'POST',
        url: '/api/users',
        headers: as(root),
        payload: {
          username: 'leaver',
          displayName: '离职',
          role: 'staff',
          organisationId: 'org-a',
          password: PASSWORD,
        },
      });
      expect(added.statusCode).toBe(201);
      const leaver = added.json<{ user: { id: string } }>().user;
      const session = await tokenOf('leaver');
      const disabled = await app.inject({
        method: 'PATCH',
        url: `/api/users/${leaver.id}`,
        headers: as(root),
        payload: { disabled: true },
      });
      expect(disabled.json()).toMatchObject({ user: { disabled: true }, changed: ['disabled'] });
      expect((await app.inject({ url: '/api/auth/me', headers: as(session) })).statusCode).toBe(401);
      const res = await login('leaver');
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: 'HB_LOGIN_FAILED', message: 'wrong username or password' });
      expect((await audit.list({ actorId: ids.root! }))[0]).toMatchObject({ action: 'user.disable' });
    });

    it('logout revokes the token and clears the cookie', async () => {
      const token = await tokenOf('staff-a');
      const res = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: as(token) });
      expect(res.statusCode).toBe(204);
      expect(String(res.headers['set-cookie'])).toMatch(/hb_session=;.*Max-Age=0/);
      expect((await app.inject({ url: '/api/auth/me', headers: as(token) })).statusCode).toBe(401);
      expect((await app.inject({ url: '/api/beds', headers: as(token) })).statusCode).toBe(401);
    });
  });

  it('answers 401 without a token or with a bad one', async () => {
    for (const headers of [{}, { authorization: 'Bearer nonsense' }, { cookie: 'hb_session=x' }]) {
      for (const url of ['/api/auth/me', '/api/beds', '/api/beds/bed-1', '/api/users', '/api/audit']) {
        const res = await app.inject({ url, headers });
        expect(res.statusCode, url).toBe(401);
        expect(res.json()).toMatchObject({ error: 'HB_UNAUTHENTICATED' });
      }
    }
  });

  describe('beds', () => {
    it('a family user reads their bed (audited) and gets 404 for any other', async () => {
      const token = await tokenOf('family-a');
      const mine = await app.inject({ url: '/api/beds/bed-1', headers: as(token) });
      expect(mine.statusCode).toBe(200);
      expect(mine.json()).toMatchObject({ bed: { id: 'bed-1', residentName: '住户 bed-1' } });
      const views = await audit.list({ bedId: 'bed-1', actorId: ids['family-a']! });
      expect(views[0]).toMatchObject({ action: 'bed.view', targetType: 'bed', targetId: 'bed-1' });

      for (const other of ['bed-2', 'bed-9', 'bed-404']) {
        const res = await app.inject({ url: `/api/beds/${other}`, headers: as(token) });
        expect(res.statusCode).toBe(404);
        expect(res.json()).toEqual({ error: 'HB_BED_NOT_FOUND', message: 'no bed with this id' });
      }
      const list = await app.inject({ url: '/api/beds', headers: as(token) });
      expect(list.json<{ beds: { id: string }[] }>().beds.map((b) => b.id)).toEqual(['bed-1']);
    });

    it('staff see their organisation only; a regulator sees no resident data', async () => {
      const staff = await tokenOf('staff-a');
      const list = await app.inject({ url: '/api/beds', headers: as(staff) });
      expect(list.json<{ beds: { id: string }[] }>().beds.map((b) => b.id)).toEqual(['bed-1', 'bed-2']);
      expect((await app.inject({ url: '/api/beds/bed-9', headers: as(staff) })).statusCode).toBe(404);
      expect((await app.inject({ url: '/api/beds/bed-2', headers: as(staff) })).statusCode).toBe(200);

      const regulator = await tokenOf('regulator-a');
      for (const url of ['/api/beds', '/api/beds/bed-1']) {
        const res = await app.inject({ url, headers: as(regulator) });
        expect(res.statusCode, url).toBe(403);
        expect(res.json()).toMatchObject({ error: 'HB_FORBIDDEN' });
        expect(res.body).not.toContain('住户');
      }
    });

    it('an operator adds and updates beds of their organisation, audited with the changed fields', async () => {
      const operator = await tokenOf('operator-a');
      const added = await app.inject({
        method: 'POST',
        url: '/api/beds',
        headers: as(operator),
        payload: { id: 'bed-3', residentName: '赵大爷', address: '上海市', riskTags: ['独居'] },
      });
      expect(added.statusCode).toBe(201);
      expect(added.json()).toMatchObject({
        bed: { id: 'bed-3', organisationId: 'org-a', state: 'installed' },
      });
      const again = await app.inject({
        method: 'POST',
        url: '/api/beds',
        headers: as(operator),
        payload: { id: 'bed-3', residentName: '赵大爷', address: '上海市' },
      });
      expect(again.statusCode).toBe(409);
      expect(again.json()).toMatchObject({ error: 'HB_BED_EXISTS' });
      const elsewhere = await app.inject({
        method: 'POST',
        url: '/api/beds',
        headers: as(operator),
        payload: { id: 'bed-4', organisationId: 'org-b', residentName: 'x', address: 'y' },
      });
      expect(elsewhere.statusCode).toBe(403);

      const patched = await app.inject({
        method: 'PATCH',
        url: '/api/beds/bed-3',
        headers: as(operator),
        payload: { state: 'active', address: '上海市黄浦区' },
      });
      expect(patched.json()).toMatchObject({ bed: { state: 'active' }, changed: ['address', 'state'] });
      const entry = (await audit.list({ bedId: 'bed-3' }))[0];
      expect(entry).toMatchObject({
        action: 'bed.update',
        detail: { changed: ['address', 'state'], state: { from: 'installed', to: 'active' } },
      });
      expect(JSON.stringify(entry)).not.toContain('上海市黄浦区');

      const invalid = await app.inject({
        method: 'PATCH',
        url: '/api/beds/bed-3',
        headers: as(operator),
        payload: { state: 'installed' },
      });
      expect(invalid.statusCode).toBe(409);
      expect(invalid.json()).toMatchObject({ error: 'HB_BED_STATE_INVALID' });
      const bad = await app.inject({
        method: 'PATCH',
        url: '/api/beds/bed-3',
        headers: as(operator),
        payload: { contacts: [{ name: 'x', relation: 'y', phone: '12345' }] },
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ error: 'HB_BAD_REQUEST' });
      const foreign = await app.inject({
        method: 'PATCH',
        url: '/api/beds/bed-9',
        headers: as(operator),
        payload: { notes: 'x' },
      });
      expect(foreign.statusCode).toBe(404);

      const staff = await tokenOf('staff-a');
      const refused = await app.inject({
        method: 'PATCH',
        url: '/api/beds/bed-1',
        headers: as(staff),
        payload: { notes: 'x' },
      });
      expect(refused.statusCode).toBe(403);
    });

    it('links a gateway to a bed once', async () => {
      const operator = await tokenOf('operator-a');
      const link = await app.inject({
        method: 'POST',
        url: '/api/beds/bed-2/gateway',
        headers: as(operator),
        payload: { gatewayId: 'gw-1' },
      });
      expect(link.statusCode).toBe(200);
      expect(link.json()).toEqual({ link: { gatewayId: 'gw-1', bedId: 'bed-2', organisationId: 'org-a' } });
      const view = await app.inject({ url: '/api/beds/bed-2', headers: as(operator) });
      expect(view.json()).toMatchObject({ gatewayId: 'gw-1' });
      const second = await app.inject({
        method: 'POST',
        url: '/api/beds/bed-1/gateway',
        headers: as(operator),
        payload: { gatewayId: 'gw-1' },
      });
      expect(second.statusCode).toBe(409);
      expect(second.json()).toMatchObject({ error: 'HB_GATEWAY_HAS_BED' });
      const unknown = await app.inject({
        method: 'POST',
        url: '/api/beds/bed-1/gateway',
        headers: as(operator),
        payload: { gatewayId: 'gw-404' },
      });
      expect(unknown.statusCode).toBe(404);
      const unlink = await app.inject({
        method: 'DELETE',
        url: '/api/beds/bed-2/gateway',
        headers: as(operator),
      });
      expect(unlink.statusCode).toBe(204);
      expect((await audit.list({ bedId: 'bed-2' })).map((e) => e.action).slice(0, 2)).toEqual([
        'bed.unlink_gateway',
        'bed.view',
      ]);
    });
  });

  describe('users', () => {
    it('only admins manage users; staff get 403', async () => {
      const staff = await tokenOf('staff-a');
      const res = await app.inject({
        method: 'POST',
        url: '/api/users',
        headers: as(staff),
        payload: { username: 'newbie', displayName: 'x', role: 'staff', password: PASSWORD },
      });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ error: 'HB_FORBIDDEN' });
      for (const username of ['operator-a', 'family-a', 'regulator-a']) {
        const token = await tokenOf(username);
        expect((await app.inject({ url: '/api/users', headers: as(token) })).statusCode).toBe(403);
      }
    });

    it('an organisation admin adds users to their organisation, links family beds, and sees no other organisation', async () => {
      const admin = await tokenOf('admin-a');
      const added = await app.inject({
        method: 'POST',
        url: '/api/users',
        headers: as(admin),
        payload: { username: 'son-li', displayName: '李强', role: 'family', password: PASSWORD },
      });
      expect(added.statusCode).toBe(201);
      const son = added.json<{ user: { id: string; organisationId: string } }>().user;
      expect(son.organisationId).toBe('org-a');
      const entry = (await audit.list({ actorId: ids['admin-a']! }))[0];
      expect(entry).toMatchObject({ action: 'user.add', targetId: son.id });
      expect(JSON.stringify(entry)).not.toContain(PASSWORD);

      const duplicate = await app.inject({
        method: 'POST',
        url: '/api/users',
        headers: as(admin),
        payload: { username: 'son-li', displayName: '李强', role: 'family', password: PASSWORD },
      });
      expect(duplicate.statusCode).toBe(409);
      expect(duplicate.json()).toMatchObject({ error: 'HB_USER_EXISTS' });
      const elsewhere = await app.inject({
        method: 'POST',
        url: '/api/users',
        headers: as(admin),
        payload: {
          username: 'spy',
          displayName: 'x',
          role: 'staff',
          organisationId: 'org-b',
          password: PASSWORD,
        },
      });
      expect(elsewhere.statusCode).toBe(403);

      const link = await app.inject({
        method: 'POST',
        url: `/api/users/${son.id}/beds`,
        headers: as(admin),
        payload: { bedId: 'bed-2', relation: '儿子' },
      });
      expect(link.statusCode).toBe(201);
      const foreignBed = await app.inject({
        method: 'POST',
        url: `/api/users/${son.id}/beds`,
        headers: as(admin),
        payload: { bedId: 'bed-9' },
      });
      expect(foreignBed.statusCode).toBe(404);
      const notFamily = await app.inject({
        method: 'POST',
        url: `/api/users/${ids['staff-a']}/beds`,
        headers: as(admin),
        payload: { bedId: 'bed-2' },
      });
      expect(notFamily.statusCode).toBe(409);
      expect(notFamily.json()).toMatchObject({ error: 'HB_USER_NOT_FAMILY' });

      const sonToken = await tokenOf('son-li');
      expect((await app.inject({ url: '/api/beds/bed-2', headers: as(sonToken) })).statusCode).toBe(200);
      expect((await app.inject({ url: '/api/beds/bed-1', headers: as(sonToken) })).statusCode).toBe(404);

      const listed = await app.inject({ url: '/api/users', headers: as(admin) });
      const usernames = listed.json<{ users: { username: string }[] }>().users.map((u) => u.username);
      expect(usernames).toContain('son-li');
      expect(usernames).not.toContain('root');
      expect((await app.inject({ url: `/api/users/${ids.root}`, headers: as(admin) })).statusCode).toBe(404);
      const self = await app.inject({
        method: 'PATCH',
        url: `/api/users/${ids['admin-a']}`,
        headers: as(admin),
        payload: { disabled: true },
      });
      expect(self.statusCode).toBe(409);
    });

    it('only a platform admin adds organisations', async () => {
      const admin = await tokenOf('admin-a');
      const refused = await app.inject({
        method: 'POST',
        url: '/api/organisations',
        headers: as(admin),
        payload: { name: '徐汇' },
      });
      expect(refused.statusCode).toBe(403);
      const root = await tokenOf('root');
      const added = await app.inject({
        method: 'POST',
        url: '/api/organisations',
        headers: as(root),
        payload: { id: 'org-c', name: '徐汇' },
      });
      expect(added.statusCode).toBe(201);
      expect(added.json()).toMatchObject({ organisation: { id: 'org-c', timeZone: 'Asia/Shanghai' } });
      const own = await app.inject({ url: '/api/organisations', headers: as(admin) });
      expect(own.json<{ organisations: { id: string }[] }>().organisations.map((o) => o.id)).toEqual([
        'org-a',
      ]);
    });
  });

  it('the audit log is for admins and operators, of their own organisation', async () => {
    const operator = await tokenOf('operator-a');
    const res = await app.inject({ url: '/api/audit?limit=500', headers: as(operator) });
    expect(res.statusCode).toBe(200);
    const entries = res.json<{ entries: { bedId: string | null }[] }>().entries;
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.some((e) => e.bedId === 'bed-9')).toBe(false);
    for (const username of ['staff-a', 'family-a', 'regulator-a']) {
      const token = await tokenOf(username);
      expect((await app.inject({ url: '/api/audit', headers: as(token) })).statusCode).toBe(403);
    }
    const foreign = await app.inject({ url: '/api/audit?organisationId=org-b', headers: as(operator) });
    expect(foreign.statusCode).toBe(403);
  });
});
