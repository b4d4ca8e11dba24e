import { z } from 'zod';
import { type Clock, systemClock } from '../../common/clock.js';
import { HomebedError } from '../../common/errors.js';
import type { SqlDatabase, SqlExecutor } from '../store/sql-database.js';
import { BED_STATES, type Bed, type BedState, type EmergencyContact } from './model.js';
import { organisationIdSchema } from './organisations.js';
import { forUpdate, placeholders } from './sql-helpers.js';
import { parseInput } from './validation.js';

/** The id gateways put in `bedId`; also typed in the CLI. */
export const BED_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** E.164: what the SMS and voice providers dial. */
export const E164_PATTERN = /^\+[1-9]\d{6,14}$/;

export const bedIdSchema = z.string().regex(BED_ID_PATTERN, 'must be 1-64 letters, digits, "_", "." or "-"');
export const phoneSchema = z.string().regex(E164_PATTERN, 'must be an E.164 number, e.g. +8613800138000');

export const emergencyContactSchema = z
  .object({
    name: z.string().trim().min(1).max(100),
    relation: z.string().trim().min(1).max(50),
    phone: phoneSchema,
    // An emergency contact is there to be told; leaving someone out is the explicit choice.
    notify: z.boolean().default(true),
  })
  .strict();

export type EmergencyContactInput = z.input<typeof emergencyContactSchema>;

const residentNameSchema = z.string().trim().min(1).max(100);
const addressSchema = z.string().trim().min(1).max(500);
const contactsSchema = z.array(emergencyContactSchema).max(10);
/** Duplicates are dropped (order kept): a tag is a flag, not a count. */
const riskTagsSchema = z
  .array(z.string().trim().min(1).max(32))
  .max(10)
  .transform((tags) => [...new Set(tags)]);
const installDateSchema = z.iso.date('must be a date YYYY-MM-DD');
const notesSchema = z.string().max(2000);

export const bedInputSchema = z
  .object({
    id: bedIdSchema,
    organisationId: organisationIdSchema,
    residentName: residentNameSchema,
    address: addressSchema,
    contacts: contactsSchema.default([]),
    riskTags: riskTagsSchema.default([]),
    installDate: installDateSchema.nullable().optional(),
    state: z.enum(BED_STATES).default('installed'),
    notes: notesSchema.nullable().optional(),
  })
  .strict();

export type BedInput = z.input<typeof bedInputSchema>;

/** What an update may change: not the id (gateways send it) nor the organisation. */
export const bedUpdateSchema = z
  .object({
    residentName: residentNameSchema,
    address: addressSchema,
    contacts: contactsSchema,
    riskTags: riskTagsSchema,
    installDate: installDateSchema.nullable(),
    state: z.enum(BED_STATES),
    notes: notesSchema.nullable(),
  })
  .partial()
  .strict();

export type BedUpdate = z.input<typeof bedUpdateSchema>;
export type BedField = keyof z.output<typeof bedUpdateSchema>;

/**
 * The life of a bed: installed (hardware in, not yet monitored) → active ⇄
 * suspended (e.g. the resident is in hospital); closed from anywhere, and
 * closed is final (a new contract is a new bed).
 */
const NEXT_STATES: Record<BedState, readonly BedState[]> = {
  installed: ['active', 'closed'],
  active: ['suspended', 'closed'],
  suspended: ['active', 'closed'],
  closed: [],
};

/** Whether `from → to` is allowed; staying in the same state is not a transition and always allowed. */
export function canChangeBedState(from: BedState, to: BedState): boolean {
  return from === to || NEXT_STATES[from].includes(to);
}

export interface BedListQuery {
  organisationId?: string;
  /** Only these beds (a family user's); an empty list matches none. */
  ids?: readonly string[];
  state?: BedState;
}

/** Which bed a gateway serves, and whose fleet it is in. */
export interface GatewayLink {
  gatewayId: string;
  bedId: string | null;
  organisationId: string | null;
}

interface BedRow {
  id: string;
  organisation_id: string;
  resident_name: string;
  address: string;
  contacts: string;
  risk_tags: string;
  install_date: string | null;
  state: string;
  notes: string | null;
  created_at: string;
  updated_at: string;
}

/** Beds (one resident at one address) and the gateway that watches each. */
export class BedRepository {
  constructor(
    private readonly db: SqlDatabase,
    private readonly clock: Clock = systemClock,
  ) {}

  async add(input: BedInput): Promise<Bed> {
    const data = parseInput(bedInputSchema, input, 'HB_BED_INVALID');
    const now = new Date(this.clock.now()).toISOString();
    const bed: Bed = {
      id: data.id,
      organisationId: data.organisationId,
      residentName: data.residentName,
      address: data.address,
      contacts: data.contacts,
      riskTags: data.riskTags,
      installDate: data.installDate ?? null,
      state: data.state,
      notes: data.notes ?? null,
      createdAt: now,
      updatedAt: now,
    };
    return this.db.transaction(async (tx) => {
      const organisation = await tx.get(`SELECT id FROM organisations WHERE id = ?`, [bed.organisationId]);
      if (!organisation) {
        throw new HomebedError('HB_ORGANISATION_NOT_FOUND', `no organisation ${bed.organisationId}`);
      }
      const result = await tx.run(
        `INSERT INTO beds
           (id, organisation_id, resident_name, address, contacts, risk_tags, install_date, state, notes, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO NOTHING`,
        [
          bed.id,
          bed.organisationId,
          bed.residentName,
          bed.address,
          JSON.stringify(bed.contacts),
          JSON.stringify(bed.riskTags),
          bed.installDate,
          bed.state,
          bed.notes,
          bed.createdAt,
          bed.updatedAt,
        ],
      );
      if (result.changes === 0) throw new HomebedError('HB_BED_EXISTS', `bed ${bed.id} already exists`);
      return bed;
    });
  }

  async get(id: string): Promise<Bed | null> {
    const row = await this.db.get<BedRow>(`SELECT * FROM beds WHERE id = ?`, [id]);
    return row ? toBed(row) : null;
  }

  async list(query: BedListQuery = {}): Promise<Bed[]> {
    if (query.ids?.length === 0) return [];
    const where: string[] = [];
    const params: string[] = [];
    if (query.organisationId !== undefined) {
      where.push('organisation_id = ?');
      params.push(query.organisationId);
    }
    if (query.ids) {
      where.push(`id IN (${placeholders(query.ids.length)})`);
      params.push(...query.ids);
    }
    if (query.state) {
      where.push('state = ?');
      params.push(query.state);
    }
    const rows = await this.db.all<BedRow>(
      `SELECT * FROM beds${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id`,
      params,
    );
    return rows.map(toBed);
  }

  /**
   * Change some fields; returns the bed and the fields whose value changed
   * (for the audit log). A refused state change is HB_BED_STATE_INVALID.
   */
  async update(id: string, patch: BedUpdate): Promise<{ bed: Bed; changed: BedField[] }> {
    const data = parseInput(bedUpdateSchema, patch, 'HB_BED_INVALID');
    return this.db.transaction(async (tx) => {
      const row = await tx.get<BedRow>(`SELECT * FROM beds WHERE id = ?${forUpdate(this.db.dialect)}`, [id]);
      if (!row) throw new HomebedError('HB_BED_NOT_FOUND', `no bed ${id}`);
      const before = toBed(row);
      if (data.state !== undefined && !canChangeBedState(before.state, data.state)) {
        throw new HomebedError(
          'HB_BED_STATE_INVALID',
          `a bed cannot go from ${before.state} to ${data.state}` +
            (before.state === 'closed' ? ' (closed is final)' : ''),
        );
      }
      const changed = (Object.keys(data) as BedField[]).filter(
        (field) => data[field] !== undefined && JSON.stringify(data[field]) !== JSON.stringify(before[field]),
      );
      if (changed.length === 0) return { bed: before, changed };
      const after: Bed = { ...before, updatedAt: new Date(this.clock.now()).toISOString() };
      for (const field of changed) Object.assign(after, { [field]: data[field] });
      await tx.run(
        `UPDATE beds SET resident_name = ?, address = ?, contacts = ?, risk_tags = ?, install_date = ?,
           state = ?, notes = ?, updated_at = ?
         WHERE id = ?`,
        [
          after.residentName,
          after.address,
          JSON.stringify(after.contacts),
          JSON.stringify(after.riskTags),
          after.installDate,
          after.state,
          after.notes,
          after.updatedAt,
          id,
        ],
      );
      return { bed: after, changed };
    });
  }

  /**
   * Put a provisioned gateway (GatewayRegistry.add made its row) on a bed;
   * the gateway joins the bed's organisation. One gateway per bed and one bed
   * per gateway: either side already linked elsewhere is refused
   * (HB_BED_HAS_GATEWAY / HB_GATEWAY_HAS_BED) until unlinked, so a bed is
   * never left unwatched by accident. Linking the same pair again changes nothing.
   */
  linkGateway(gatewayId: string, bedId: string): Promise<GatewayLink> {
    return this.db.transaction(async (tx) => {
      // The bed row is locked first: two processes linking gateways to one bed take turns here.
      const bed = await tx.get<Pick<BedRow, 'organisation_id' | 'state'>>(
        `SELECT organisation_id, state FROM beds WHERE id = ?${forUpdate(this.db.dialect)}`,
        [bedId],
      );
      if (!bed) throw new HomebedError('HB_BED_NOT_FOUND', `no bed ${bedId}`);
      if (bed.state === 'closed') throw new HomebedError('HB_BED_CLOSED', `bed ${bedId} is closed`);
      const gateway = await readLink(tx, this.db.dialect, gatewayId);
      if (!gateway) throw new HomebedError('HB_GATEWAY_UNKNOWN', `no gateway ${gatewayId}`);
      if (gateway.bedId !== null && gateway.bedId !== bedId) {
        throw new HomebedError(
          'HB_GATEWAY_HAS_BED',
          `gateway ${gatewayId} watches bed ${gateway.bedId}; unlink it there first`,
        );
      }
      const other = await tx.get<{ id: string }>(`SELECT id FROM gateways WHERE bed_id = ? AND id <> ?`, [
        bedId,
        gatewayId,
      ]);
      if (other) {
        throw new HomebedError(
          'HB_BED_HAS_GATEWAY',
          `bed ${bedId} is watched by gateway ${other.id}; unlink that one first`,
        );
      }
      await tx.run(`UPDATE gateways SET bed_id = ?, organisation_id = ? WHERE id = ?`, [
        bedId,
        bed.organisation_id,
        gatewayId,
      ]);
      return { gatewayId, bedId, organisationId: bed.organisation_id };
    });
  }

  /**
   * Take a gateway off its bed; it stays in its organisation's fleet.
   * Returns the bed it watched (null when it watched none).
   */
  unlinkGateway(gatewayId: string): Promise<string | null> {
    return this.db.transaction(async (tx) => {
      const gateway = await readLink(tx, this.db.dialect, gatewayId);
      if (!gateway) throw new HomebedError('HB_GATEWAY_UNKNOWN', `no gateway ${gatewayId}`);
      if (gateway.bedId !== null) await tx.run(`UPDATE gateways SET bed_id = NULL WHERE id = ?`, [gatewayId]);
      return gateway.bedId;
    });
  }

  /** The gateway watching a bed, or null. */
  async gatewayOf(bedId: string): Promise<string | null> {
    const row = await this.db.get<{ id: string }>(`SELECT id FROM gateways WHERE bed_id = ? ORDER BY id`, [
      bedId,
    ]);
    return row?.id ?? null;
  }

  /** The bed a gateway watches, or null (also for an unknown gateway). */
  async bedOfGateway(gatewayId: string): Promise<string | null> {
    return (await this.gatewayLink(gatewayId))?.bedId ?? null;
  }

  /** A gateway's bed and organisation; null for an unknown gateway. */
  gatewayLink(gatewayId: string): Promise<GatewayLink | null> {
    return readLink(this.db, this.db.dialect, gatewayId, false);
  }
}

async function readLink(
  executor: SqlExecutor,
  dialect: SqlDatabase['dialect'],
  gatewayId: string,
  lock = true,
): Promise<GatewayLink | null> {
  const row = await executor.get<{ id: string; bed_id: string | null; organisation_id: string | null }>(
    `SELECT id, bed_id, organisation_id FROM gateways WHERE id = ?${lock ? forUpdate(dialect) : ''}`,
    [gatewayId],
  );
  return row ? { gatewayId: row.id, bedId: row.bed_id, organisationId: row.organisation_id } : null;
}

function toBed(r: BedRow): Bed {
  return {
    id: r.id,
    organisationId: r.organisation_id,
    residentName: r.resident_name,
    address: r.address,
    contacts: JSON.parse(r.contacts) as EmergencyContact[],
    riskTags: JSON.parse(r.risk_tags) as string[],
    installDate: r.install_date,
    state: r.state as BedState,
    notes: r.notes,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
