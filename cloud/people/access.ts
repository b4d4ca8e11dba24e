import type { Bed, Principal } from './model.js';

/**
 * Who may do what, decided from the principal alone (no I/O), so routes,
 * the alarm feed and the exports all answer the same way. The table is in
 * docs/people-and-access.md. The relay's own `system` principal (timers,
 * the CLI) is trusted with everything.
 */

/** The beds a list query may return: everything (`{}`), one organisation's, a fixed set, or nothing. */
export type BedScope = { organisationId?: string; bedIds?: string[] } | 'none';

/** An admin without an organisation runs the platform and sees every organisation. */
export function isPlatformAdmin(p: Principal): boolean {
  return (p.role === 'admin' && p.organisationId === null) || p.role === 'system';
}

/**
 * Whether `p` acts within `organisationId`: a platform admin everywhere,
 * anyone else only in their own. Without an organisation to compare, whether
 * `p` has any organisation to act in.
 */
function inOrganisation(p: Principal, organisationId?: string | null): boolean {
  if (isPlatformAdmin(p)) return true;
  if (p.organisationId === null) return false;
  return organisationId === undefined || organisationId === p.organisationId;
}

/** Whether `p` may see this bed's resident data (name, address, contacts). */
export function canReadBed(p: Principal, bed: Pick<Bed, 'id' | 'organisationId'>): boolean {
  switch (p.role) {
    case 'system':
    case 'admin':
    case 'operator':
    case 'staff':
      return inOrganisation(p, bed.organisationId);
    case 'family':
      return p.bedIds.includes(bed.id);
    case 'regulator':
      return false;
  }
}

/** Add and change beds and link their gateways (of `organisationId` when given). */
export function canManageBeds(p: Principal, organisationId?: string): boolean {
  return (
    (p.role === 'admin' || p.role === 'operator' || p.role === 'system') && inOrganisation(p, organisationId)
  );
}

/** Add, change and disable users (of `organisationId` when given). */
export function canManageUsers(p: Principal, organisationId?: string): boolean {
  return (p.role === 'admin' || p.role === 'system') && inOrganisation(p, organisationId);
}

/** Acknowledge and resolve alarms (of `organisationId` when given). */
export function canAnswerAlarms(p: Principal, organisationId?: string): boolean {
  return (
    (p.role === 'admin' || p.role === 'operator' || p.role === 'staff' || p.role === 'system') &&
    inOrganisation(p, organisationId)
  );
}

/** Read statistics and exports (of `organisationId` when given); they carry no resident names. */
export function canReadStatistics(p: Principal, organisationId?: string): boolean {
  return (
    (p.role === 'admin' || p.role === 'operator' || p.role === 'regulator' || p.role === 'system') &&
    inOrganisation(p, organisationId)
  );
}

/** The filter for listing beds (and their alarms) as `p`; `'none'` when `p` may see no resident data. */
export function bedScope(p: Principal): BedScope {
  if (isPlatformAdmin(p)) return {};
  switch (p.role) {
    case 'admin':
    case 'operator':
    case 'staff':
      return p.organisationId === null ? 'none' : { organisationId: p.organisationId };
    case 'family':
      return { bedIds: [...p.bedIds] };
    default:
      return 'none';
  }
}

/** What an alarm rule looks at: whose bed, and the organisation of the gateway that raised it (null: none yet). */
export interface AlarmPlace {
  bedId: string;
  organisationId: string | null;
}

/**
 * Whether `p` may see an alarm (and its timeline, on the API and the event
 * stream alike): family their beds; the answering roles their organisation's
 * alarms and those of gateways in no organisation yet (an alarm nobody may
 * see is the worst outcome); a platform admin all; a regulator none.
 */
export function canSeeAlarm(p: Principal, alarm: AlarmPlace): boolean {
  if (p.role === 'family') return p.bedIds.includes(alarm.bedId);
  if (p.role === 'regulator') return false;
  if (p.organisationId === null) return isPlatformAdmin(p);
  return alarm.organisationId === null || alarm.organisationId === p.organisationId;
}

/**
 * The query filter matching canSeeAlarm: a family's beds; an organisation
 * (with gateways in none); everything for a platform admin; `'none'` otherwise.
 * Queries keep to it so their limits count the caller's own rows; canSeeAlarm still decides.
 */
export function alarmScope(p: Principal): { bedIds?: string[]; organisationId?: string } | 'none' {
  if (p.role === 'family') return { bedIds: [...p.bedIds] };
  if (p.role === 'regulator') return 'none';
  if (p.organisationId === null) return isPlatformAdmin(p) ? {} : 'none';
  return { organisationId: p.organisationId };
}
