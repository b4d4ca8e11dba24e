import { GatewayRegistry } from '../cloud/gateways/gateway-registry.js';
import { BedRepository } from '../cloud/people/beds.js';
import type { Role } from '../cloud/people/model.js';
import { OrganisationRepository } from '../cloud/people/organisations.js';
import { UserRepository } from '../cloud/people/users.js';
import type { SqlDatabase } from '../cloud/store/sql-database.js';
import { HomebedError } from '../common/errors.js';

export const DEMO_ORGANISATION_ID = 'demo-org';

/** One demo login, printed by `npm run demo`. */
export interface DemoLogin {
  username: string;
  password: string;
  role: Role;
  displayName: string;
}

/**
 * The demo's people, one per role. Passwords are fixed and printed: the
 * demo listens on 127.0.0.1 only and its data lives in var/demo.
 */
export const DEMO_LOGINS: readonly DemoLogin[] = [
  { username: 'admin', password: 'demo-admin-2026', role: 'admin', displayName: '系统管理员' },
  { username: 'operator', password: 'demo-operator-2026', role: 'operator', displayName: '运营 周' },
  { username: 'staff', password: 'demo-staff-2026', role: 'staff', displayName: '值班员 李' },
  { username: 'family', password: 'demo-family-2026', role: 'family', displayName: '女儿 王芳' },
  { username: 'regulator', password: 'demo-regulator-2026', role: 'regulator', displayName: '民政局 督导' },
];

/**
 * Set up what the demo needs in the relay's store, idempotently (the demo
 * keeps its data between runs): an organisation, the bed the demo gateway
 * watches, the gateway provisioned with the secret from its config and
 * linked to the bed, and one user per role (passwords reset to the printed ones).
 */
export async function provisionDemo(
  db: SqlDatabase,
  gateway: { id: string; secret: string; bedId: string },
): Promise<readonly DemoLogin[]> {
  const organisations = new OrganisationRepository(db);
  if (!(await organisations.get(DEMO_ORGANISATION_ID))) {
    await organisations.add({
      id: DEMO_ORGANISATION_ID,
      name: '示范居家养老服务中心',
      timeZone: 'Asia/Shanghai',
    });
  }
  const beds = new BedRepository(db);
  if (!(await beds.get(gateway.bedId))) {
    await beds.add({
      id: gateway.bedId,
      organisationId: DEMO_ORGANISATION_ID,
      residentName: '王秀英',
      address: '上海市徐汇区示范路 88 弄 6 号 302 室',
      contacts: [
        { name: '王芳', relation: '女儿', phone: '+8613800138000', notify: true },
        { name: '陈师傅', relation: '邻居', phone: '+8613900139000', notify: false },
      ],
      riskTags: ['独居', '高龄'],
      installDate: '2026-11-01',
      state: 'active',
    });
  }
  const registry = new GatewayRegistry(db);
  try {
    await registry.add(gateway.id, gateway.secret);
  } catch (err) {
    if (!(err instanceof HomebedError && err.code === 'HB_GATEWAY_EXISTS')) throw err;
    await registry.rotate(gateway.id, gateway.secret);
  }
  if ((await beds.bedOfGateway(gateway.id)) !== gateway.bedId)
    await beds.linkGateway(gateway.id, gateway.bedId);

  const users = new UserRepository(db);
  for (const login of DEMO_LOGINS) {
    let user = await users.getByUsername(login.username);
    if (!user) {
      user = await users.add({
        username: login.username,
        displayName: login.displayName,
        role: login.role,
        ...(login.role === 'admin' ? {} : { organisationId: DEMO_ORGANISATION_ID }),
        password: login.password,
      });
    } else {
      await users.setPassword(user.id, login.password);
    }
    if (login.role === 'family' && !(await users.bedsOf(user.id)).some((b) => b.bedId === gateway.bedId)) {
      await users.linkBed(user.id, gateway.bedId, '女儿');
    }
  }
  return DEMO_LOGINS;
}
