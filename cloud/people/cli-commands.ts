import type { ParseArgsConfig } from 'node:util';
import { HomebedError } from '../../common/errors.js';
import { generateSecret } from '../../common/secrets.js';
import type { SqlDatabase } from '../store/sql-database.js';
import { AuditLog } from './audit-log.js';
import { BedRepository, type EmergencyContactInput } from './beds.js';
import { CLI_PRINCIPAL, ROLES, type Role } from './model.js';
import { OrganisationRepository } from './organisations.js';
import { UserRepository } from './users.js';

/** The options these commands read; cloud/cli.ts merges them into its parseArgs options. */
export const PEOPLE_CLI_OPTIONS = {
  id: { type: 'string' },
  tz: { type: 'string' },
  role: { type: 'string' },
  name: { type: 'string' },
  org: { type: 'string' },
  password: { type: 'string' },
  phone: { type: 'string' },
  bed: { type: 'string', multiple: true },
  resident: { type: 'string' },
  address: { type: 'string' },
  contact: { type: 'string', multiple: true },
  tag: { type: 'string', multiple: true },
  'install-date': { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** Lines for the CLI's help, aligned like its other commands. */
export const PEOPLE_CLI_HELP: readonly string[] = [
  '  org add <name> [--id ID] [--tz ZONE]   add an organisation (default zone Asia/Shanghai)',
  '  org list                   list organisations',
  `  user add <username> --role R --name "显示名" [--org ID] [--password P] [--phone +86…] [--bed BED]...`,
  `                             add a user (role: ${ROLES.join('|')}; --org required unless admin);`,
  '                             without --password one is generated and printed once; --bed links a family user',
  '  user list [--org ID]       list users',
  '  bed add <id> --org ID --resident NAME --address ADDR [--contact "name,relation,+86…[,notify|no-notify]"]...',
  '          [--tag 独居]... [--install-date YYYY-MM-DD]   add a bed (state installed)',
  '  bed list [--org ID]        list beds',
  '  bed link-gateway <bedId> <gatewayId>   put a provisioned gateway on a bed',
  '  bed unlink-gateway <bedId>             take the gateway off a bed',
];

export type PeopleCliValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

function usage(message: string): HomebedError {
  return new HomebedError('HB_USAGE', `${message}; see --help`);
}

function text(values: PeopleCliValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

function required(values: PeopleCliValues, name: string): string {
  const value = text(values, name);
  if (value === undefined) throw usage(`--${name} is required`);
  return value;
}

function list(values: PeopleCliValues, name: string): string[] {
  const value = values[name];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return typeof value === 'string' ? [value] : [];
}

/**
 * `name,relation,phone[,notify|no-notify]` (full-width commas too, as a
 * Chinese keyboard types them); a contact is notified unless told otherwise.
 */
export function parseContact(spec: string): EmergencyContactInput {
  const parts = spec.split(/[,，]/).map((p) => p.trim());
  if (parts.length < 3 || parts.length > 4) {
    throw usage(`--contact ${JSON.stringify(spec)}: expected "name,relation,+86…[,notify|no-notify]"`);
  }
  const [name, relation, phone, flag = 'notify'] = parts as [string, string, string, string?];
  const notify = { notify: true, yes: true, true: true, 'no-notify': false, no: false, false: false }[
    flag.toLowerCase()
  ];
  if (notify === undefined)
    throw usage(`--contact ${JSON.stringify(spec)}: the 4th part is notify or no-notify`);
  return { name, relation, phone, notify };
}

/**
 * Run `org …`, `user …` or `bed …` against the store; false when the
 * command is none of these (the caller tries its own). Every change is
 * audited as the `cli` principal.
 */
export async function runPeopleCommand(
  db: SqlDatabase,
  positionals: readonly string[],
  values: PeopleCliValues,
  out: (text: string) => void = (t) => process.stdout.write(t),
): Promise<boolean> {
  const [command, sub, ...args] = positionals;
  const audit = new AuditLog(db);
  switch (command) {
    case 'org':
      await organisationCommand(new OrganisationRepository(db), audit, sub, args, values, out);
      return true;
    case 'user':
      await userCommand(new UserRepository(db), audit, sub, args, values, out);
      return true;
    case 'bed':
      await bedCommand(new BedRepository(db), audit, sub, args, values, out);
      return true;
    default:
      return false;
  }
}

async function organisationCommand(
  organisations: OrganisationRepository,
  audit: AuditLog,
  sub: string | undefined,
  args: readonly string[],
  values: PeopleCliValues,
  out: (text: string) => void,
): Promise<void> {
  if (sub === 'list') {
    for (const o of await organisations.list()) out(`${o.id}\t${o.name}\t${o.timeZone}\n`);
    return;
  }
  if (sub === 'add' && args[0]) {
    const id = text(values, 'id');
    const timeZone = text(values, 'tz');
    const organisation = await organisations.add({
      name: args[0],
      ...(id ? { id } : {}),
      ...(timeZone ? { timeZone } : {}),
    });
    await audit.record({
      actor: CLI_PRINCIPAL,
      action: 'organisation.add',
      targetType: 'organisation',
      targetId: organisation.id,
      detail: { name: organisation.name, timeZone: organisation.timeZone },
    });
    out(`organisation ${organisation.id} added (${organisation.name}, ${organisation.timeZone})\n`);
    return;
  }
  throw usage('usage: org add <name> [--id ID] [--tz ZONE] | org list');
}

async function userCommand(
  users: UserRepository,
  audit: AuditLog,
  sub: string | undefined,
  args: readonly string[],
  values: PeopleCliValues,
  out: (text: string) => void,
): Promise<void> {
  if (sub === 'list') {
    const organisationId = text(values, 'org');
    for (const u of await users.list(organisationId ? { organisationId } : {})) {
      out(
        `${u.username}\t${u.role}\t${u.organisationId ?? '(platform)'}\t${u.displayName}${u.disabled ? '\tdisabled' : ''}\n`,
      );
    }
    return;
  }
  if (sub === 'add' && args[0]) {
    const role = required(values, 'role');
    if (!(ROLES as readonly string[]).includes(role))
      throw usage(`--role must be one of ${ROLES.join(', ')}`);
    const beds = list(values, 'bed');
    if (beds.length > 0 && role !== 'family') throw usage('--bed links beds to family users only');
    const given = text(values, 'password');
    const password = given ?? generateSecret();
    const organisationId = text(values, 'org');
    const phone = text(values, 'phone');
    const user = await users.add({
      username: args[0],
      displayName: required(values, 'name'),
      role: role as Role,
      password,
      ...(organisationId ? { organisationId } : {}),
      ...(phone ? { phone } : {}),
    });
    await audit.record({
      actor: CLI_PRINCIPAL,
      action: 'user.add',
      targetType: 'user',
      targetId: user.id,
      detail: { username: user.username, role: user.role, organisationId: user.organisationId },
    });
    out(
      `user ${user.username} added (${user.role}${user.organisationId ? ` of ${user.organisationId}` : ''})\n`,
    );
    for (const bedId of beds) {
      await users.linkBed(user.id, bedId);
      await audit.record({
        actor: CLI_PRINCIPAL,
        action: 'user.link_bed',
        targetType: 'user',
        targetId: user.id,
        bedId,
      });
      out(`  linked to bed ${bedId}\n`);
    }
    if (given === undefined) out(`password: ${password}\n(shown once: give it to ${user.username})\n`);
    return;
  }
  throw usage(
    'usage: user add <username> --role R --name NAME [--org ID] [--password P] [--phone P] [--bed BED]... | user list [--org ID]',
  );
}

async function bedCommand(
  beds: BedRepository,
  audit: AuditLog,
  sub: string | undefined,
  args: readonly string[],
  values: PeopleCliValues,
  out: (text: string) => void,
): Promise<void> {
  if (sub === 'list') {
    const organisationId = text(values, 'org');
    for (const b of await beds.list(organisationId ? { organisationId } : {})) {
      out(`${b.id}\t${b.organisationId}\t${b.state}\t${b.residentName}\n`);
    }
    return;
  }
  if (sub === 'add' && args[0]) {
    const installDate = text(values, 'install-date');
    const bed = await beds.add({
      id: args[0],
      organisationId: required(values, 'org'),
      residentName: required(values, 'resident'),
      address: required(values, 'address'),
      contacts: list(values, 'contact').map(parseContact),
      riskTags: list(values, 'tag'),
      ...(installDate ? { installDate } : {}),
    });
    await audit.record({
      actor: CLI_PRINCIPAL,
      action: 'bed.add',
      targetType: 'bed',
      targetId: bed.id,
      bedId: bed.id,
      detail: { organisationId: bed.organisationId, state: bed.state },
    });
    out(`bed ${bed.id} added to ${bed.organisationId} (${bed.state})\n`);
    return;
  }
  if (sub === 'link-gateway' && args[0] && args[1]) {
    const link = await beds.linkGateway(args[1], args[0]);
    await audit.record({
      actor: CLI_PRINCIPAL,
      action: 'bed.link_gateway',
      targetType: 'gateway',
      targetId: link.gatewayId,
      bedId: args[0],
    });
    out(`gateway ${link.gatewayId} now watches bed ${args[0]}\n`);
    return;
  }
  if (sub === 'unlink-gateway' && args[0]) {
    const gatewayId = await beds.gatewayOf(args[0]);
    if (!gatewayId) throw new HomebedError('HB_GATEWAY_UNKNOWN', `no gateway watches bed ${args[0]}`);
    await beds.unlinkGateway(gatewayId);
    await audit.record({
      actor: CLI_PRINCIPAL,
      action: 'bed.unlink_gateway',
      targetType: 'gateway',
      targetId: gatewayId,
      bedId: args[0],
    });
    out(`gateway ${gatewayId} no longer watches bed ${args[0]}\n`);
    return;
  }
  throw usage(
    'usage: bed add <id> --org ID --resident NAME --address ADDR [--contact C]... [--tag T]... [--install-date D] | bed list | bed link-gateway <bedId> <gatewayId> | bed unlink-gateway <bedId>',
  );
}
