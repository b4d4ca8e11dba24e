import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../../cloud/relay.js';
import { ManualClock } from '../../../common/clock.js';
import { Counters } from '../../../common/counters.js';
import { silentLogger } from '../../../common/logger.js';
import type { AckMessage } from '../../../contract/index.js';
import { openGatewayDb } from '../../../gateway/store/gateway-db.js';
import { AlarmOutbox } from '../../../gateway/uplink/alarm-outbox.js';
import { AlarmSender } from '../../../gateway/uplink/alarm-sender.js';
import { CloudLink } from '../../../gateway/uplink/cloud-link.js';
import { startTestRelay, waitFor } from '../../support/relay.js';

/**
 * An alarm committed while the sender is still publishing an earlier one must go out as soon as that
 * publish is done, not at the next outbox scan. The sender's clock is a manual one that never advances,
 * so its scan never runs: only the sender's own passes can deliver the second alarm.
 */
describe('the alarm sender does not leave an alarm behind a publish in flight', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homebed-sender-'));
  let relay: Relay;
  let stopRelay: () => Promise<void>;
  let secret: string;

  beforeAll(async () => {
    ({ relay, stop: stopRelay } = await startTestRelay());
    ({ secret } = await relay.gateways.add('gw-pass'));
  });

  afterAll(async () => {
    await stopRelay();
    rmSync(dir, { recursive: true, force: true });
  });

  it('two alarms raised back to back are both stored without a scan', async () => {
    const counters = new Counters();
    const link = new CloudLink(
      {
        url: `mqtt://127.0.0.1:${relay.mqttPort}`,
        gatewayId: 'gw-pass',
        secret,
        keepaliveS: 30,
        connectTimeoutMs: 5_000,
        reconnectPeriodMs: 200,
      },
      silentLogger(),
      counters,
    );
    const db = openGatewayDb(join(dir, 'gw'));
    const clock = new ManualClock(Date.now());
    const stored: string[] = [];
    const sender = new AlarmSender(
      new AlarmOutbox(db, { gatewayId: 'gw-pass', bedId: 'bed-pass' }),
      link,
      clock,
      silentLogger(),
      counters,
      { retransmitInitialMs: 60_000, retransmitMaxMs: 60_000 },
      (ack: AckMessage) => {
        if (ack.status === 'stored') stored.push(ack.alarmId);
      },
    );
    link.start();
    sender.start();
    try {
      await waitFor(() => link.connected, 10_000, 'connected');
      const draft = (deviceId: string) => ({
        type: 'sos_button' as const,
        severity: 'critical' as const,
        state: 'raised' as const,
        atMs: clock.now(),
        deviceId,
        evidence: [],
      });
      // One alarm first: once it is stored, the link's `connected` handling (which runs a pass of its own)
      // is long over.
      const warmUp = sender.raise(draft('button-0'));
      await waitFor(() => stored.includes(warmUp.id) || null, 5_000, 'warm-up stored');
      stored.length = 0;
      // The first raise starts a pass that awaits its PUBACK; the second is committed during it.
      const first = sender.raise(draft('button-1'));
      const second = sender.raise(draft('button-2'));
      await waitFor(() => stored.length === 2 || null, 5_000, 'both stored');
      expect(stored.sort()).toEqual([first.id, second.id].sort());
      expect(counters.get('alarms_sent')).toBe(3);
    } finally {
      sender.stop();
      await link.stop();
      db.close();
    }
  });
});
