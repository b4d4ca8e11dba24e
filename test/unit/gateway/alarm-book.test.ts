import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import { silentLogger } from '../../../common/logger.js';
import { AlarmBook } from '../../../gateway/rules/alarm-book.js';
import { DeadlineScheduler } from '../../../gateway/rules/deadlines.js';
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

describe('AlarmBook inside a deadline that fails', () => {
  it('forgets an alarm whose enclosing transaction rolled back, so the condition can be raised again', () => {
    const db = openGatewayDb(':memory:');
    const outbox = new AlarmOutbox(db, { gatewayId: 'gw', bedId: 'bed' });
    const book = new AlarmBook(db, (d) => outbox.commit(d));
    const clock = new ManualClock(1_000);
    const deadlines = new DeadlineScheduler(db, clock, silentLogger(), () => book.resync());
    deadlines.on('boom', () => {
      book.raise('device_offline:radar', draft(clock.now()));
      throw new Error('handler bug after the raise');
    });
    deadlines.start();
    deadlines.schedule('k', 'boom', 2_000);
    clock.advance(1_000);
    expect(book.isActive('device_offline:radar')).toBe(false);
    expect(outbox.all()).toEqual([]);
    // The deadline is still stored: it will fire again after a restart.
    expect(deadlines.pending().map((p) => p.key)).toEqual(['k']);
    expect(book.raise('device_offline:radar', draft(3_000))?.state).toBe('raised');
  });
});
