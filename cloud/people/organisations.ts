import { z } from 'zod';
import { type Clock, systemClock } from '../../common/clock.js';
import { HomebedError } from '../../common/errors.js';
import { uuidv7 } from '../../common/ids.js';
import { isValidTimeZone } from '../../common/local-time.js';
import type { SqlDatabase } from '../store/sql-database.js';
import type { Organisation } from './model.js';
import { parseInput } from './validation.js';

/** A slug people can type in the CLI (`org add … --id huangpu-centre`), or a generated UUIDv7. */
export const ORGANISATION_ID_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

export const organisationIdSchema = z
  .string()
  .regex(ORGANISATION_ID_PATTERN, 'must be 1-64 lowercase letters, digits, "_", "." or "-"');

export const organisationInputSchema = z
  .object({
    id: organisationIdSchema.optional(),
    name: z.string().trim().min(1).max(200),
    timeZone: z
      .string()
      .refine(isValidTimeZone, 'must be an IANA time zone, e.g. Asia/Shanghai')
      .default(DEFAULT_TIME_ZONE),
  })
  .strict();

export type OrganisationInput = z.input<typeof organisationInputSchema>;

interface OrganisationRow {
  id: string;
  name: string;
  time_zone: string;
  created_at: string;
}

/** The monitoring centres (tenants): every bed and every non-platform user belongs to one. */
export class OrganisationRepository {
  constructor(
    private readonly db: SqlDatabase,
    private readonly clock: Clock = systemClock,
  ) {}

  async add(input: OrganisationInput): Promise<Organisation> {
    const data = parseInput(organisationInputSchema, input, 'HB_ORGANISATION_INVALID');
    const organisation: Organisation = {
      id: data.id ?? uuidv7(this.clock.now()),
      name: data.name,
      timeZone: data.timeZone,
      createdAt: new Date(this.clock.now()).toISOString(),
    };
    const result = await this.db.run(
      `INSERT INTO organisations (id, name, time_zone, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO NOTHING`,
      [organisation.id, organisation.name, organisation.timeZone, organisation.createdAt],
    );
    if (result.changes === 0) {
      throw new HomebedError('HB_ORGANISATION_EXISTS', `organisation ${organisation.id} already exists`);
    }
    return organisation;
  }

  async get(id: string): Promise<Organisation | null> {
    const row = await this.db.get<OrganisationRow>(`SELECT * FROM organisations WHERE id = ?`, [id]);
    return row ? toOrganisation(row) : null;
  }

  async list(): Promise<Organisation[]> {
    const rows = await this.db.all<OrganisationRow>(`SELECT * FROM organisations ORDER BY name, id`);
    return rows.map(toOrganisation);
  }
}

function toOrganisation(r: OrganisationRow): Organisation {
  return { id: r.id, name: r.name, timeZone: r.time_zone, createdAt: r.created_at };
}
