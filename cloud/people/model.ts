/**
 * The monitoring centre's people and things, as the API and the store see
 * them. Repositories live beside this file (one per table group); the HTTP
 * layer decides who may do what from a `Principal` alone (cloud/people/access.ts).
 */

/** Who uses the centre. */
export const ROLES = ['admin', 'operator', 'staff', 'family', 'regulator'] as const;
export type Role = (typeof ROLES)[number];

/**
 * - admin: everything, including users and organisations. An admin without an
 *   organisation is a platform admin and sees every organisation.
 * - operator: runs the fleet of one organisation: beds, gateways, statistics, alarms.
 * - staff: answers alarms of one organisation: reads beds and alarms, acknowledges and resolves.
 * - family: reads only the beds linked to them (user_beds), and their alarms.
 * - regulator: reads statistics and exports only, never a resident's name, address or contacts.
 */
export const ROLE_DESCRIPTIONS: Record<Role, string> = {
  admin: 'everything, including users and organisations',
  operator: 'beds, gateways, statistics and alarms of one organisation',
  staff: 'answers alarms: reads beds and alarms, acknowledges and resolves',
  family: 'reads only the beds linked to them and their alarms',
  regulator: 'read-only statistics and exports, without resident names',
};

/** Risk tags a bed can carry (the console shows them translated); free tags beyond these are allowed. */
export const KNOWN_RISK_TAGS = ['独居', '高龄', '失能', '失智', '慢病', '行动不便'] as const;

export const BED_STATES = ['installed', 'active', 'suspended', 'closed'] as const;
export type BedState = (typeof BED_STATES)[number];

export interface Organisation {
  id: string;
  name: string;
  /** IANA zone of its local days (statistics); default Asia/Shanghai. */
  timeZone: string;
  createdAt: string;
}

export interface EmergencyContact {
  name: string;
  /** 女儿, 儿子, 邻居, 社区网格员 … */
  relation: string;
  /** E.164, e.g. +8613800138000. */
  phone: string;
  /** Whether the notification policy may call or text this contact about alarms. */
  notify: boolean;
}

export interface Bed {
  /** The id gateways put in `bedId` (e.g. `bed-0001`). */
  id: string;
  organisationId: string;
  residentName: string;
  address: string;
  contacts: EmergencyContact[];
  riskTags: string[];
  /** Local date `YYYY-MM-DD`. */
  installDate: string | null;
  state: BedState;
  notes: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface User {
  id: string;
  username: string;
  displayName: string;
  role: Role;
  /** Null only for a platform admin. */
  organisationId: string | null;
  phone: string | null;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
}

/** The authenticated caller of an API request (or `cli` / `system` for work that no person asked for). */
export interface Principal {
  /** A user id, or `cli` / `system`. */
  id: string;
  username: string;
  displayName: string;
  role: Role | 'system';
  organisationId: string | null;
  /** Family users: the beds linked to them. Empty for every other role. */
  bedIds: readonly string[];
}

/** The CLI and the relay's own timers act as this principal in the audit log. */
export const SYSTEM_PRINCIPAL: Principal = {
  id: 'system',
  username: 'system',
  displayName: 'system',
  role: 'system',
  organisationId: null,
  bedIds: [],
};

/** Changes made with the relay's command line (`homebed-cloud user add …`) are audited as this principal. */
export const CLI_PRINCIPAL: Principal = {
  id: 'cli',
  username: 'cli',
  displayName: 'command line',
  role: 'system',
  organisationId: null,
  bedIds: [],
};
