import type { DeviceEvent } from '../devices/device-event.js';
import type { Reading } from '../telemetry/reading.js';
import { nextLocalTime } from './local-time.js';
import { BaseRule } from './rule-context.js';

const KIND = 'inactivity_check';
const DEADLINE = 'inactivity';
const AWAY_KIND = 'away_check';
const AWAY = 'away';
/** Move the stored deadline at most this often: radars report body movement every second. */
const COALESCE_MS = 60_000;

/**
 * Prolonged inactivity (care-rules.md): no presence or motion anywhere for
 * the inactivity time, by day, while the resident is at home →
 * `prolonged_inactivity` (warning); any activity clears it. At night the
 * rule is off: the wait starts again when the night window ends. After
 * the front door opens, no activity for a while means the resident went
 * out; the rule sleeps until they are back.
 */
export class InactivityRule extends BaseRule {
  readonly name = 'inactivity';
  private lastActivityMs = 0;
  /** Last sign of someone inside: any activity except the front door itself (leaving opens and closes it). */
  private lastInsideMs = 0;
  private away = false;
  private readonly lastStates = new Map<string, Reading['value']>();

  start(): void {
    if (!this.ctx.rules.inactivity.enabled) return;
    this.lastActivityMs = this.ctx.clock.now();
    this.lastInsideMs = this.lastActivityMs;
    this.ctx.deadlines.on(KIND, (_key, _payload, dueAtMs) => this.check(dueAtMs));
    this.ctx.deadlines.on(AWAY_KIND, (_key, payload, dueAtMs) => {
      const { doorAtMs } = payload as { doorAtMs: number };
      if (this.lastInsideMs > doorAtMs) return;
      this.away = true;
      this.ctx.deadlines.cancel(DEADLINE);
      this.ctx.logger.info(
        { since: this.iso(doorAtMs), at: this.iso(dueAtMs) },
        'resident went out; inactivity rule paused',
      );
    });
    if (this.ctx.deadlines.dueAt(DEADLINE) === null) this.rearm(this.lastActivityMs);
    this.listen('reading', (r) => {
      const frontDoor = r.metric === 'contact_open' && this.role(r.deviceId) === 'front_door';
      if (frontDoor) {
        // Opening or closing the front door: if nobody is seen inside for a while after it, they went out.
        this.ctx.deadlines.schedule(AWAY, AWAY_KIND, r.atMs + this.ctx.rules.inactivity.awayAfterDoorMs, {
          doorAtMs: r.atMs,
        });
        if (!this.away) this.activity(r.atMs, r.deviceId, r.metric, false);
      } else if (isActivity(r) && this.changed(r)) {
        this.activity(r.atMs, r.deviceId, r.metric, true);
      }
    });
    this.listen('deviceEvent', (e: DeviceEvent) => this.activity(e.atMs, e.deviceId, e.kind, true));
  }

  /**
   * Bed and contact states are repeated by some devices (the MR60BHA1 every
   * 10 min): only a change is a sign of life.
   */
  private changed(r: Reading): boolean {
    if (r.metric !== 'in_bed' && r.metric !== 'contact_open') return true;
    const key = `${r.deviceId}\0${r.metric}`;
    const before = this.lastStates.get(key);
    this.lastStates.set(key, r.value);
    return before !== undefined && before !== r.value;
  }

  private activity(atMs: number, deviceId: string, what: string, inside: boolean): void {
    const previous = this.lastActivityMs;
    this.lastActivityMs = Math.max(this.lastActivityMs, atMs);
    if (inside) this.lastInsideMs = Math.max(this.lastInsideMs, atMs);
    if (this.away && inside) {
      this.away = false;
      this.ctx.logger.info({ device: deviceId }, 'resident is back; inactivity rule resumed');
      this.rearm(atMs);
    } else if (atMs - previous >= COALESCE_MS || this.ctx.deadlines.dueAt(DEADLINE) === null) {
      this.rearm(atMs);
    }
    this.ctx.book.clear(
      'prolonged_inactivity',
      atMs,
      [{ deviceId, kind: what, at: this.iso(atMs) }],
      'activity again',
    );
  }

  /** Arm the check for "inactivity time after the last activity", moved out of the night window. */
  private rearm(fromMs: number): void {
    let due = fromMs + this.ctx.rules.inactivity.afterMs;
    if (this.atNight(due))
      due =
        nextLocalTime(due, this.ctx.timeZone, this.ctx.rules.nightWindow.end) +
        this.ctx.rules.inactivity.afterMs;
    this.ctx.deadlines.schedule(DEADLINE, KIND, due);
  }

  private check(dueAtMs: number): void {
    if (this.away) return;
    if (this.atNight(dueAtMs)) {
      // Off at night: the wait starts again when the night window ends.
      const dayStart = nextLocalTime(dueAtMs, this.ctx.timeZone, this.ctx.rules.nightWindow.end);
      this.ctx.deadlines.schedule(DEADLINE, KIND, dayStart + this.ctx.rules.inactivity.afterMs);
      return;
    }
    const quietFor = dueAtMs - this.lastActivityMs;
    if (quietFor < this.ctx.rules.inactivity.afterMs) {
      this.rearm(this.lastActivityMs);
      return;
    }
    this.ctx.book.raise('prolonged_inactivity', {
      type: 'prolonged_inactivity',
      severity: 'warning',
      state: 'raised',
      atMs: dueAtMs,
      evidence: [{ deviceId: 'home', kind: 'last_activity', at: this.iso(this.lastActivityMs) }],
      message: `no presence or motion for ${Math.round(quietFor / 60_000)} min`,
    });
  }
}

/** Signs that someone is up and about (care-rules.md: presence/motion anywhere). */
function isActivity(r: Reading): boolean {
  switch (r.metric) {
    case 'presence':
    case 'occupancy':
      return r.value === true;
    case 'motion':
      return r.value === 'stationary' || r.value === 'active';
    case 'body_movement':
      return typeof r.value === 'number' && r.value > 0;
    case 'in_bed':
    case 'contact_open':
      return true;
    default:
      return false;
  }
}
