import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alarmMessageSchema } from '../../../contract/index.js';
import { openGatewayDb } from '../../../gateway/store/gateway-db.js';
import { type AlarmDraft, AlarmOutbox } from '../../../gateway/uplink/alarm-outbox.js';

const draft = (atMs: number): AlarmDraft => ({
  type: 'sos_button',
  severity: 'critical',
  state: 'raised',
  atMs,
  deviceId: 'sos',
  evidence: [
    { deviceId: 'sos', kind: 'button_press', at: new Date(atMs).toISOString(), raw: '20;01;EV1527;ID=1;' },
  ],
});

describe('AlarmOutbox (SQLite)', () => {
  it('commits alarms with increasing sequence numbers and valid contract messages', () => {
    const outbox = new AlarmOutbox(openGatewayDb(':memory:'), { gatewayId: 'gw-1', bedId: 'bed-1' });
    const a = outbox.commit(draft(1_000));
    const b = outbox.commit(draft(2_000));
    expect([a.seq, b.seq]).toEqual([1, 2]);
    expect(alarmMessageSchema.parse(a)).toEqual(a);
    expect(a.gatewayId).toBe('gw-1');
    expect(outbox.pending().map((p) => p.message.id)).toEqual([a.id, b.id]);
    expect(outbox.depth()).toBe(2);
  });

  it('keeps pending alarms and the sequence across a reopen of the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'homebed-outbox-'));
    const db1 = openGatewayDb(dir);
    const first = new AlarmOutbox(db1, { gatewayId: 'gw-1', bedId: 'bed-1' }).commit(draft(1_000));
    db1.close();
    const db2 = openGatewayDb(dir);
    const outbox = new AlarmOutbox(db2, { gatewayId: 'gw-1', bedId: 'bed-1' });
    expect(outbox.pending().map((p) => p.message)).toEqual([first]);
    expect(outbox.commit(draft(2_000)).seq).toBe(2);
    db2.close();
  });

  it('drops an alarm from the pending list only when the cloud says stored (or later states)', () => {
    const outbox = new AlarmOutbox(openGatewayDb(':memory:'), { gatewayId: 'gw-1', bedId: 'bed-1' });
    const a = outbox.commit(draft(1_000));
    const b = outbox.commit(draft(2_000));
    outbox.recordAttempt(a.id, 9_000);
    expect(outbox.pending()[0]).toMatchObject({ attempts: 1, nextAttemptAtMs: 9_000 });
    expect(outbox.recordStatus(a.id, 'stored', 3_000)).toBe(true);
    expect(outbox.pending().map((p) => p.message.id)).toEqual([b.id]);
    // An `acknowledged` that overtakes `stored` still counts as stored.
    expect(outbox.recordStatus(b.id, 'acknowledged', 4_000)).toBe(true);
    expect(outbox.depth()).toBe(0);
    expect(outbox.get(b.id)).toMatchObject({ storedAtMs: 4_000, acknowledgedAtMs: 4_000 });
    // Repeated acks keep the first time.
    outbox.recordStatus(a.id, 'stored', 5_000);
    expect(outbox.get(a.id)?.storedAtMs).toBe(3_000);
    expect(outbox.recordStatus('01890000-0000-7000-8000-000000000000', 'stored', 1)).toBe(false);
  });

  it('makes every pending alarm due at once after a reconnect', () => {
    const outbox = new AlarmOutbox(openGatewayDb(':memory:'), { gatewayId: 'gw-1', bedId: 'bed-1' });
    const a = outbox.commit(draft(1_000));
    outbox.recordAttempt(a.id, 60_000);
    outbox.makeAllDue(5_000);
    expect(outbox.pending()[0]?.nextAttemptAtMs).toBe(5_000);
  });
});
