import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../common/clock.js';
import { Counters } from '../../../common/counters.js';
import { silentLogger } from '../../../common/logger.js';
import { openSqlite } from '../../../common/sqlite.js';
import { TypedEmitter } from '../../../common/typed-emitter.js';
import type { GatewayEvents } from '../../../gateway/devices/device-event.js';
import { createNotifiers } from '../../../gateway/feedback/create-notifiers.js';
import { DEFAULT_FEEDBACK_OPTIONS, FeedbackService } from '../../../gateway/feedback/feedback-service.js';
import { LocalSound } from '../../../gateway/feedback/local-sound.js';

const ALARM_ID = '0190a0b0-0000-7000-8000-000000000001';

describe('LocalSound (real player process)', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  async function tmp(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'homebed-sound-'));
    dirs.push(dir);
    return dir;
  }

  it('runs the configured player', async () => {
    const file = join(await tmp(), 'played');
    const sound = new LocalSound({ command: ['sh', '-c', `echo played > ${file}`], timeoutMs: 5_000 });
    await sound.helpIsComing({ alarmId: ALARM_ID, type: 'sos_button' });
    expect(await readFile(file, 'utf8')).toBe('played\n');
  });

  it('plays once when staff acknowledge an alarm (service, config, real process)', async () => {
    const file = join(await tmp(), 'log');
    const bus = new TypedEmitter<GatewayEvents>();
    const counters = new Counters();
    const service = new FeedbackService(
      {
        bus,
        db: openSqlite(':memory:', []),
        clock: systemClock,
        logger: silentLogger(),
        counters,
        notifiers: createNotifiers(
          [{ type: 'sound', command: ['sh', '-c', `echo played >> ${file}`], timeoutMs: 5_000 }],
          new Map(),
          silentLogger(),
        ),
      },
      DEFAULT_FEEDBACK_OPTIONS,
    );
    service.start();
    const ack = {
      v: 1 as const,
      alarmId: ALARM_ID,
      status: 'acknowledged' as const,
      at: new Date().toISOString(),
    };
    bus.emit('alarmAck', ack);
    bus.emit('alarmAck', ack);
    await service.whenIdle();
    service.stop();
    expect(await readFile(file, 'utf8')).toBe('played\n');
    expect(counters.get('feedback_notified', { notifier: 'sound:sh' })).toBe(1);
  });
});
