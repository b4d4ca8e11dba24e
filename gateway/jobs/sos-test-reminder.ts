import type { Clock } from '../../common/clock.js';
import type { Counters } from '../../common/counters.js';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { SqliteDatabase } from '../../common/sqlite.js';
import type { TypedEmitter } from '../../common/typed-emitter.js';
import type { SosTestReminderEvent } from '../../contract/index.js';
import type { DeviceConfig } from '../config/schema.js';
import type { DeviceEvent, GatewayEvents } from '../devices/device-event.js';
import type { CronJobHandle, CronScheduler } from './cron-scheduler.js';

/** An SOS button of the home, as listed in the reminder. */
export interface SosButton {
  id: string;
  room?: string;
}

/** The SOS buttons of a home: devices with role `sos_button`. */
export function sosButtonsOf(devices: readonly DeviceConfig[]): SosButton[] {
  return devices
    .filter((d) => d.role === 'sos_button')
    .map((d) => ({ id: d.id, ...(d.room ? { room: d.room } : {}) }));
}

export interface SosTestReminderOptions {
  gatewayId: string;
  bedId: string;
  timeZone: string;
  /** Default `0 10 * * 1` (Monday 10:00 local). */
  cron: string;
  /** A press within this many days counts as a test; default 7. */
  windowDays: number;
  buttons: readonly SosButton[];
}

export interface SosTestReminderDeps {
  db: SqliteDatabase;
  bus: TypedEmitter<GatewayEvents>;
  scheduler: CronScheduler;
  clock: Clock;
  logger: Logger;
  counters: Counters;
  /**
   * Receives the reminder, e.g. `(e) => eventOutbox.enqueue(e)`; should not
   * throw (logged and counted if it does).
   */
  onReminder: (event: SosTestReminderEvent) => void;
}

/** SQLite table of the last press of each SOS button, created by this component. */
export const SOS_PRESSES_TABLE = 'sos_button_presses';

const DAY_MS = 24 * 3600_000;

/**
 * The weekly reminder to test the SOS buttons (the elderly-care smart-system
 * standard asks for alarm buttons to be tested weekly): at the configured
 * time it sends a `sos_test_reminder` event listing every button with its
 * last press and whether that was within the window, so the centre can ask
 * the family to press the untested ones. A press is any `button_press` or
 * `sos` event of a `sos_button` device; the last press of each is kept in
 * SQLite ({@link SOS_PRESSES_TABLE}) so a restart forgets nothing.
 */
export class SosTestReminder {
  private offs: (() => void)[] = [];
  private job: CronJobHandle | null = null;
  private readonly buttons: Set<string>;

  constructor(
    private readonly deps: SosTestReminderDeps,
    private readonly options: SosTestReminderOptions,
  ) {
    this.buttons = new Set(options.buttons.map((b) => b.id));
  }

  start(): void {
    const { db, bus, scheduler } = this.deps;
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${SOS_PRESSES_TABLE} (device_id TEXT PRIMARY KEY, last_pressed_at_ms INTEGER NOT NULL, presses INTEGER NOT NULL)`,
    );
    this.offs.push(bus.on('deviceEvent', (e) => this.onDeviceEvent(e)));
    this.job = scheduler.schedule('sos-test-reminder', this.options.cron, this.options.timeZone, () =>
      this.remind(),
    );
  }

  stop(): void {
    for (const off of this.offs) off();
    this.offs = [];
    this.job?.cancel();
    this.job = null;
  }

  /** The reminder as it would be sent now. */
  reminder(): SosTestReminderEvent {
    const now = this.deps.clock.now();
    const rows = this.deps.db
      .prepare(`SELECT device_id, last_pressed_at_ms FROM ${SOS_PRESSES_TABLE}`)
      .all() as { device_id: string; last_pressed_at_ms: number }[];
    const last = new Map(rows.map((r) => [r.device_id, r.last_pressed_at_ms]));
    const since = now - this.options.windowDays * DAY_MS;
    const buttons = this.options.buttons.map((b) => {
      const pressedAt = last.get(b.id);
      return {
        deviceId: b.id,
        ...(b.room ? { room: b.room } : {}),
        ...(pressedAt !== undefined ? { lastPressedAt: new Date(pressedAt).toISOString() } : {}),
        tested: pressedAt !== undefined && pressedAt >= since,
      };
    });
    return {
      v: 1,
      kind: 'sos_test_reminder',
      gatewayId: this.options.gatewayId,
      bedId: this.options.bedId,
      at: new Date(now).toISOString(),
      windowDays: this.options.windowDays,
      buttons,
      allTested: buttons.length > 0 && buttons.every((b) => b.tested),
    };
  }

  private onDeviceEvent(e: DeviceEvent): void {
    if (!this.buttons.has(e.deviceId) || (e.kind !== 'button_press' && e.kind !== 'sos')) return;
    this.deps.db
      .prepare(
        `INSERT INTO ${SOS_PRESSES_TABLE} (device_id, last_pressed_at_ms, presses) VALUES (?, ?, 1)
         ON CONFLICT(device_id) DO UPDATE SET
           last_pressed_at_ms = MAX(last_pressed_at_ms, excluded.last_pressed_at_ms), presses = presses + 1`,
      )
      .run(e.deviceId, e.atMs);
  }

  private remind(): void {
    const { logger, counters, onReminder } = this.deps;
    const event = this.reminder();
    const untested = event.buttons.filter((b) => !b.tested).map((b) => b.deviceId);
    logger.info({ buttons: event.buttons.length, untested }, 'weekly SOS button test reminder');
    if (event.buttons.length === 0) logger.warn('no SOS button (role sos_button) configured in this home');
    try {
      onReminder(event);
      counters.inc('sos_test_reminders');
    } catch (err) {
      counters.inc('sos_test_reminder_failures');
      logger.error({ err: errorMessage(err) }, 'SOS test reminder could not be handed on');
    }
  }
}
