import { describe, expect, it } from 'vitest';
import { AlarmBook } from '../../../gateway/rules/alarm-book.js';
import { openGatewayDb } from '../../../gateway/store/gateway-db.js';
import { AlarmOutbox } from '../../../gateway/uplink/alarm-outbox.js';

function setup() {
  const db = openGatewayDb(':memory:');
  const outbox = new AlarmOutbox(db, { gatewayId: 'gw', bedId: 'bed' });
  const book = new AlarmBook(db, (draft) => outbox.commit(draft));
  return { book, outbox };
}

const draft = (atMs: number) => ({
  type: 'device_offline' as const,
  severity: 'technical' as const,
  state: 'raised' as const,
  atMs,
  deviceId: 'radar',
  evidence: [{ deviceId: 'radar', kind: 'supervision', at: new Date(atMs).toISOString() }],
});

describe('AlarmBook', () => {
  it('raises a condition once, clears it with a message that refers to the raise', () => {
    const { book, outbox } = setup();
    const raised = book.raise('device_offline:radar', draft(1_000));
    expect(raised?.state).toBe('raised');
    expect(book.raise('device_offline:radar', draft(2_000))).toBeNull();
    expect(book.activeKeys()).toEqual(['device_offline:radar']);
    const cleared = book.clear('device_offline:radar', 3_000, []);
    expect(cleared).toMatchObject({
      state: 'cleared',
      type: 'device_offline',
      severity: 'technical',
      deviceId: 'radar',
      refersTo: raised?.id,
    });
    expect(book.clear('device_offline:radar', 4_000, [])).toBeNull();
    expect(outbox.pending().map((p) => p.message.state)).toEqual(['raised', 'cleared']);
    expect(book.lastRaisedAtMs('device_offline:radar')).toBe(1_000);
  });
});
