import { describe, expect, it } from 'vitest';
import {
  alarmScope,
  bedScope,
  canAnswerAlarms,
  canManageBeds,
  canManageUsers,
  canReadBed,
  canReadStatistics,
  canSeeAlarm,
  isPlatformAdmin,
} from '../../../../cloud/people/access.js';
import { type Principal, type Role, SYSTEM_PRINCIPAL } from '../../../../cloud/people/model.js';

function principal(role: Role, organisationId: string | null = 'org-a', bedIds: string[] = []): Principal {
  return { id: `u-${role}`, username: role, displayName: role, role, organisationId, bedIds };
}

const platformAdmin = principal('admin', null);
const orgAdmin = principal('admin');
const operator = principal('operator');
const staff = principal('staff');
const family = principal('family', 'org-a', ['bed-1']);
const regulator = principal('regulator');

const ownBed = { id: 'bed-1', organisationId: 'org-a' };
const sameOrgBed = { id: 'bed-2', organisationId: 'org-a' };
const otherOrgBed = { id: 'bed-9', organisationId: 'org-b' };

describe('access', () => {
  it('knows the platform admin (an admin without organisation) and the system', () => {
    expect(isPlatformAdmin(platformAdmin)).toBe(true);
    expect(isPlatformAdmin(SYSTEM_PRINCIPAL)).toBe(true);
    for (const p of [orgAdmin, operator, staff, family, regulator]) expect(isPlatformAdmin(p)).toBe(false);
  });

  it.each([
    ['platform admin', platformAdmin, [true, true, true]],
    ['organisation admin', orgAdmin, [true, true, false]],
    ['operator', operator, [true, true, false]],
    ['staff', staff, [true, true, false]],
    ['family', family, [true, false, false]],
    ['regulator', regulator, [false, false, false]],
    ['system', SYSTEM_PRINCIPAL, [true, true, true]],
  ] as const)('canReadBed: %s reads own/same-org/other-org beds as %j', (_name, p, expected) => {
    expect([canReadBed(p, ownBed), canReadBed(p, sameOrgBed), canReadBed(p, otherOrgBed)]).toEqual(expected);
  });

  it('a family user reads a linked bed whatever its organisation says, and nothing else', () => {
    expect(canReadBed(principal('family', 'org-a', ['bed-9']), otherOrgBed)).toBe(true);
    expect(canReadBed(principal('family', 'org-a', []), ownBed)).toBe(false);
  });

  it('staff or operator without an organisation read nothing', () => {
    expect(canReadBed(principal('staff', null), ownBed)).toBe(false);
    expect(canReadBed(principal('operator', null), ownBed)).toBe(false);
    expect(bedScope(principal('staff', null))).toBe('none');
  });

  // [no organisation given, own organisation, other organisation]
  it.each([
    ['platform admin', platformAdmin, [true, true, true]],
    ['organisation admin', orgAdmin, [true, true, false]],
    ['operator', operator, [true, true, false]],
    ['staff', staff, [false, false, false]],
    ['family', family, [false, false, false]],
    ['regulator', regulator, [false, false, false]],
    ['system', SYSTEM_PRINCIPAL, [true, true, true]],
  ] as const)('canManageBeds: %s → %j', (_name, p, expected) => {
    expect([canManageBeds(p), canManageBeds(p, 'org-a'), canManageBeds(p, 'org-b')]).toEqual(expected);
  });

  it.each([
    ['platform admin', platformAdmin, [true, true, true]],
    ['organisation admin', orgAdmin, [true, true, false]],
    ['operator', operator, [false, false, false]],
    ['staff', staff, [false, false, false]],
    ['family', family, [false, false, false]],
    ['regulator', regulator, [false, false, false]],
    ['system', SYSTEM_PRINCIPAL, [true, true, true]],
  ] as const)('canManageUsers: %s → %j', (_name, p, expected) => {
    expect([canManageUsers(p), canManageUsers(p, 'org-a'), canManageUsers(p, 'org-b')]).toEqual(expected);
  });

  it.each([
    ['platform admin', platformAdmin, [true, true, true]],
    ['organisation admin', orgAdmin, [true, true, false]],
    ['operator', operator, [true, true, false]],
    ['staff', staff, [true, true, false]],
    ['family', family, [false, false, false]],
    ['regulator', regulator, [false, false, false]],
    ['system', SYSTEM_PRINCIPAL, [true, true, true]],
  ] as const)('canAnswerAlarms: %s → %j', (_name, p, expected) => {
    expect([canAnswerAlarms(p), canAnswerAlarms(p, 'org-a'), canAnswerAlarms(p, 'org-b')]).toEqual(expected);
  });

  it.each([
    ['platform admin', platformAdmin, [true, true, true]],
    ['organisation admin', orgAdmin, [true, true, false]],
    ['operator', operator, [true, true, false]],
    ['staff', staff, [false, false, false]],
    ['family', family, [false, false, false]],
    ['regulator', regulator, [true, true, false]],
    ['system', SYSTEM_PRINCIPAL, [true, true, true]],
  ] as const)('canReadStatistics: %s → %j', (_name, p, expected) => {
    expect([canReadStatistics(p), canReadStatistics(p, 'org-a'), canReadStatistics(p, 'org-b')]).toEqual(
      expected,
    );
  });

  it.each([
    ['platform admin', platformAdmin, {}],
    ['organisation admin', orgAdmin, { organisationId: 'org-a' }],
    ['operator', operator, { organisationId: 'org-a' }],
    ['staff', staff, { organisationId: 'org-a' }],
    ['family', family, { bedIds: ['bed-1'] }],
    ['regulator', regulator, 'none'],
    ['system', SYSTEM_PRINCIPAL, {}],
  ] as const)('bedScope: %s → %j', (_name, p, expected) => {
    expect(bedScope(p)).toEqual(expected);
  });

  it('bedScope hands out a copy of the family bed list', () => {
    const scope = bedScope(family);
    if (scope === 'none' || !scope.bedIds) throw new Error('expected a bed list');
    scope.bedIds.push('bed-2');
    expect(family.bedIds).toEqual(['bed-1']);
  });

  it('sees alarms as the API and the stream do: own organisation and gateways in none; family its beds', () => {
    const own = { bedId: 'bed-2', organisationId: 'org-a' };
    const other = { bedId: 'bed-9', organisationId: 'org-b' };
    const unlinked = { bedId: 'gateway:gw-x', organisationId: null };
    const familyBed = { bedId: 'bed-1', organisationId: 'org-a' };
    expect([own, other, unlinked].map((a) => canSeeAlarm(platformAdmin, a))).toEqual([true, true, true]);
    for (const p of [orgAdmin, operator, staff]) {
      expect([own, other, unlinked].map((a) => canSeeAlarm(p, a))).toEqual([true, false, true]);
    }
    expect([familyBed, own, unlinked].map((a) => canSeeAlarm(family, a))).toEqual([true, false, false]);
    expect([own, unlinked].map((a) => canSeeAlarm(regulator, a))).toEqual([false, false]);
    expect(canSeeAlarm(principal('staff', null), unlinked)).toBe(false);
  });

  it('scopes alarm queries to match', () => {
    expect(alarmScope(platformAdmin)).toEqual({});
    expect(alarmScope(staff)).toEqual({ organisationId: 'org-a' });
    expect(alarmScope(family)).toEqual({ bedIds: ['bed-1'] });
    expect(alarmScope(regulator)).toBe('none');
    expect(alarmScope(principal('operator', null))).toBe('none');
  });
});
