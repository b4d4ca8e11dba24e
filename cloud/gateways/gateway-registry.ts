import { createHash, timingSafeEqual } from 'node:crypto';
import { HomebedError } from '../../common/errors.js';
import { generateSecret, hashSecret, verifySecret } from '../../common/secrets.js';
import { GATEWAY_ID_PATTERN, type HeartbeatMessage, type StatusMessage } from '../../contract/index.js';
import type { SqlDatabase } from '../store/sql-database.js';

export interface GatewayRecord {
  id: string;
  createdAt: string;
  lastSeenAt: string | null;
  status: StatusMessage['state'] | null;
  lastHeartbeat: HeartbeatMessage | null;
}

interface GatewayRow {
  id: string;
  secret_hash: string;
  created_at: string;
  last_seen_at: string | null;
  status: string | null;
  last_heartbeat: string | null;
}

/**
 * Provisioned gateways and their secrets. Secrets are stored only as scrypt
 * hashes; a secret that verified once is remembered as a SHA-256 digest in
 * memory so a fleet reconnecting after an outage does not cost one scrypt each.
 */
export class GatewayRegistry {
  private readonly verified = new Map<string, Buffer>();

  constructor(private readonly db: SqlDatabase) {}

  /** Provision a gateway; returns the secret, which is never shown again. */
  async add(id: string, secret: string = generateSecret()): Promise<{ id: string; secret: string }> {
    if (!GATEWAY_ID_PATTERN.test(id)) {
      throw new HomebedError('HB_GATEWAY_ID_INVALID', `invalid gateway id ${JSON.stringify(id)}`);
    }
    if (secret.length < 8)
      throw new HomebedError('HB_SECRET_TOO_SHORT', 'a gateway secret needs at least 8 characters');
    const hash = await hashSecret(secret);
    const result = await this.db.run(
      `INSERT INTO gateways (id, secret_hash, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      [id, hash, new Date().toISOString()],
    );
    if (result.changes === 0) throw new HomebedError('HB_GATEWAY_EXISTS', `gateway ${id} already exists`);
    return { id, secret };
  }

  /** Replace a gateway's secret (a lost or leaked one). */
  async rotate(id: string, secret: string = generateSecret()): Promise<{ id: string; secret: string }> {
    const hash = await hashSecret(secret);
    const result = await this.db.run(`UPDATE gateways SET secret_hash = ? WHERE id = ?`, [hash, id]);
    if (result.changes === 0) throw new HomebedError('HB_GATEWAY_UNKNOWN', `no gateway ${id}`);
    this.verified.delete(id);
    return { id, secret };
  }

  async verify(id: string, secret: string): Promise<boolean> {
    const row = await this.db.get<{ secret_hash: string }>(`SELECT secret_hash FROM gateways WHERE id = ?`, [
      id,
    ]);
    if (!row) return false;
    const digest = createHash('sha256').update(row.secret_hash).update('\0').update(secret).digest();
    const cached = this.verified.get(id);
    if (cached && timingSafeEqual(cached, digest)) return true;
    const ok = await verifySecret(secret, row.secret_hash);
    if (ok) this.verified.set(id, digest);
    return ok;
  }

  async recordStatus(id: string, status: StatusMessage['state'], at: string): Promise<void> {
    await this.db.run(`UPDATE gateways SET status = ?, last_seen_at = ? WHERE id = ?`, [status, at, id]);
  }

  async recordHeartbeat(heartbeat: HeartbeatMessage, receivedAt: string): Promise<void> {
    await this.db.run(`UPDATE gateways SET last_heartbeat = ?, last_seen_at = ? WHERE id = ?`, [
      JSON.stringify(heartbeat),
      receivedAt,
      heartbeat.gatewayId,
    ]);
  }

  async list(): Promise<GatewayRecord[]> {
    const rows = await this.db.all<GatewayRow>(`SELECT * FROM gateways ORDER BY id`);
    return rows.map((r) => ({
      id: r.id,
      createdAt: r.created_at,
      lastSeenAt: r.last_seen_at,
      status: (r.status as GatewayRecord['status']) ?? null,
      lastHeartbeat: r.last_heartbeat ? (JSON.parse(r.last_heartbeat) as HeartbeatMessage) : null,
    }));
  }
}
