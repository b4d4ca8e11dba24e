import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../common/clock.js';
import { Counters } from '../../../common/counters.js';
import { silentLogger } from '../../../common/logger.js';
import { openSqlite } from '../../../common/sqlite.js';
import { TypedEmitter } from '../../../common/typed-emitter.js';
import { createPtyPair } from '../../../firmware-sim/links/pty.js';
import { SerialPortLink } from '../../../firmware-sim/links/serial-port-link.js';
import { feedbackConfigSchema } from '../../../gateway/config/feedback-schema.js';
import type { GatewayEvents } from '../../../gateway/devices/device-event.js';
import { createNotifiers } from '../../../gateway/feedback/create-notifiers.js';
import { DEFAULT_FEEDBACK_OPTIONS, FeedbackService } from '../../../gateway/feedback/feedback-service.js';
import { SerialLink } from '../../../gateway/transports/serial-link.js';

const ALARM_ID = '0190a0b0-0000-7000-8000-000000000001';

async function waitFor<T>(read: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('RflinkChime over a real PTY', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('an acknowledged alarm makes the gateway transmit the chime command to the RFLink board', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'homebed-chime-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const pty = await createPtyPair({
      devicePath: join(dir, 'rflink-board'),
      hostPath: join(dir, 'ttyRFLINK'),
    });
    cleanup.push(() => pty.close());

    // The RFLink board's end: read what the gateway sends.
    const board = new SerialPortLink({ path: pty.devicePath, baudRate: 57600 });
    await board.open();
    cleanup.push(() => board.close());
    const received: Buffer[] = [];
    board.onData((b) => received.push(Buffer.from(b)));

    // The gateway's end: its own serial link, as gateway.ts opens it.
    const link = new SerialLink(
      { id: 'rflink', path: pty.hostPath, baudRate: 57600, reconnectInitialMs: 100, reconnectMaxMs: 1_000 },
      systemClock,
      silentLogger(),
    );
    const opened = new Promise<void>((resolve) => link.events.on('open', () => resolve()));
    link.start();
    cleanup.push(() => link.stop());
    await opened;

    const config = feedbackConfigSchema.parse({
      notifiers: [{ type: 'rflink', link: 'rflink', command: '10;NewKaku;00c142;1;ON;' }],
    });
    const bus = new TypedEmitter<GatewayEvents>();
    const counters = new Counters();
    const service = new FeedbackService(
      {
        bus,
        db: openSqlite(':memory:', []),
        clock: systemClock,
        logger: silentLogger(),
        counters,
        notifiers: createNotifiers(config.notifiers, new Map([['rflink', link]]), silentLogger()),
      },
      DEFAULT_FEEDBACK_OPTIONS,
    );
    service.start();
    cleanup.push(() => service.stop());

    bus.emit('alarmCommitted', {
      v: 1,
      id: ALARM_ID,
      gatewayId: 'gw-test',
      bedId: 'bed-1',
      seq: 1,
      type: 'sos_button',
      severity: 'critical',
      state: 'raised',
      at: new Date().toISOString(),
      deviceId: 'sos-bedroom',
      evidence: [],
    });
    bus.emit('alarmAck', { v: 1, alarmId: ALARM_ID, status: 'acknowledged', at: new Date().toISOString() });

    const line = await waitFor(() => {
      const text = Buffer.concat(received).toString('latin1');
      return text.includes('\r\n') ? text : undefined;
    });
    expect(line).toBe('10;NewKaku;00c142;1;ON;\r\n');
    await service.whenIdle();
    expect(counters.get('feedback_notified', { notifier: 'rflink:rflink' })).toBe(1);
  });

  it('counts a failure while the RFLink port is closed', async () => {
    const link = new SerialLink(
      {
        id: 'rflink',
        path: '/nonexistent/ttyRFLINK',
        baudRate: 57600,
        reconnectInitialMs: 100,
        reconnectMaxMs: 1_000,
      },
      systemClock,
      silentLogger(),
    );
    const [chime] = createNotifiers(
      [{ type: 'rflink', link: 'rflink', command: '10;NewKaku;00c142;1;ON;' }],
      new Map([['rflink', link]]),
      silentLogger(),
    );
    await expect(chime?.helpIsComing({ alarmId: ALARM_ID, type: 'sos_button' })).rejects.toThrow(/not open/);
  });
});
