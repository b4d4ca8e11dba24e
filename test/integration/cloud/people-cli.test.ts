import { parseArgs } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayRegistry } from '../../../cloud/gateways/gateway-registry.js';
import { AuditLog } from '../../../cloud/people/audit-log.js';
import { BedRepository } from '../../../cloud/people/beds.js';
import { PEOPLE_CLI_OPTIONS, parseContact, runPeopleCommand } from '../../../cloud/people/cli-commands.js';
import { UserRepository } from '../../../cloud/people/users.js';
import { openCloudStore } from '../../../cloud/store/cloud-db.js';
import type { SqlDatabase } from '../../../cloud/store/sql-database.js';

/** The people commands as cloud/cli.ts runs them: parseArgs with their options, then runPeopleCommand. */
describe('people CLI commands', () => {
  let db: SqlDatabase;
  let output: string;

  beforeEach(async () => {
    db = await openCloudStore({ dataDir: ':memory:' });
    output = '';
  });
  afterEach(async () => {
    await db.close();
  });

  async function run(...args: string[]): Promise<boolean> {
    const { values, positionals } = parseArgs({ args, options: PEOPLE_CLI_OPTIONS, allowPositionals: true });
    return runPeopleCommand(db, positionals, values, (t) => {
      output += t;
    });
  }

  it('adds an organisation, a bed with contacts and tags, a family user linked to it, and links a gateway', async () => {
    expect(await run('org', 'add', '黄浦养老服务中心', '--id', 'huangpu', '--tz', 'Asia/Shanghai')).toBe(
      true,
    );
    expect(
      await run(
        'bed',
        'add',
        'bed-0001',
        '--org',
        'huangpu',
        '--resident',
        '李秀英',
        '--address',
        '上海市黄浦区中山南路 1 号',
        '--contact',
        '王芳,女儿,+8613800138000,notify',
        '--contact',
        '张伟，邻居，+8613900139000，no-notify',
        '--tag',
        '独居',
        '--tag',
        '高龄',
        '--install-date',
        '2026-11-01',
      ),
    ).toBe(true);
    const bed = await new BedRepository(db).get('bed-0001');
    expect(bed).toMatchObject({
      organisationId: 'huangpu',
      contacts: [
        { name: '王芳', relation: '女儿', phone: '+8613800138000', notify: true },
        { name: '张伟', relation: '邻居', phone: '+8613900139000', notify: false },
      ],
      riskTags: ['独居', '高龄'],
      installDate: '2026-11-01',
      state: 'installed',
    });

    await run(
      'user',
      'add',
      'wangfang',
      '--role',
      'family',
      '--name',
      '王芳',
      '--org',
      'huangpu',
      '--bed',
      'bed-0001',
    );
    const password = /password: (\S+)/.exec(output)?.[1];
    // Generated: 32 random bytes in base64url, shown once.
    expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const users = new UserRepository(db);
    const user = await users.verifyPassword('wangfang', password!);
    expect(user).toMatchObject({ role: 'family', displayName: '王芳' });
    expect(await users.bedsOf(user!.id)).toEqual([{ bedId: 'bed-0001', relation: null }]);

    output = '';
    await run(
      'user',
      'add',
      'root',
      '--role',
      'admin',
      '--name',
      '平台管理员',
      '--password',
      'given password 1',
    );
    expect(output).not.toContain('given password 1');
    expect(await users.verifyPassword('root', 'given password 1')).toMatchObject({ organisationId: null });

    await new GatewayRegistry(db).add('gw-0001', 'gateway-secret');
    await run('bed', 'link-gateway', 'bed-0001', 'gw-0001');
    expect(await new BedRepository(db).gatewayOf('bed-0001')).toBe('gw-0001');
    await run('bed', 'unlink-gateway', 'bed-0001');
    expect(await new BedRepository(db).gatewayOf('bed-0001')).toBeNull();

    const entries = await new AuditLog(db).list();
    expect(entries.every((e) => e.actorId === 'cli')).toBe(true);
    expect(entries.map((e) => e.action).reverse()).toEqual([
      'organisation.add',
      'bed.add',
      'user.add',
      'user.link_bed',
      'user.add',
      'bed.link_gateway',
      'bed.unlink_gateway',
    ]);
    expect(JSON.stringify(entries)).not.toContain(password!);

    output = '';
    await run('org', 'list');
    await run('user', 'list', '--org', 'huangpu');
    await run('bed', 'list');
    expect(output).toContain('huangpu\t黄浦养老服务中心\tAsia/Shanghai');
    expect(output).toContain('wangfang\tfamily\thuangpu\t王芳');
    expect(output).not.toContain('root');
    expect(output).toContain('bed-0001\thuangpu\tinstalled\t李秀英');
  });

  it('leaves other commands to the caller and explains bad usage', async () => {
    expect(await run('gateway', 'list')).toBe(false);
    await expect(run('user', 'add', 'x-user', '--name', 'x')).rejects.toMatchObject({ code: 'HB_USAGE' });
    await expect(run('user', 'add', 'x-user', '--name', 'x', '--role', 'root')).rejects.toMatchObject({
      code: 'HB_USAGE',
    });
    await expect(
      run('user', 'add', 'x-user', '--name', 'x', '--role', 'staff', '--org', 'o', '--bed', 'b'),
    ).rejects.toMatchObject({ code: 'HB_USAGE' });
    await expect(run('bed', 'frobnicate')).rejects.toMatchObject({ code: 'HB_USAGE' });
    await expect(run('org', 'add', 'x', '--tz', 'Nowhere/Land')).rejects.toMatchObject({
      code: 'HB_ORGANISATION_INVALID',
    });
    expect(() => parseContact('王芳,女儿')).toThrow(/expected/);
    expect(() => parseContact('王芳,女儿,+8613800138000,maybe')).toThrow(/notify or no-notify/);
  });
});
