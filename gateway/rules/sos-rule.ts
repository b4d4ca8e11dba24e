import type { AlarmMessage } from '../../contract/index.js';
import type { DeviceEvent } from '../devices/device-event.js';
import { BaseRule, type RuleContext } from './rule-context.js';

/**
 * SOS (care-rules.md): a press of a device whose role is `sos_button`, or an
 * explicit emergency from any device (zigbee `action: emergency`, a native
 * `sos` event), raises a critical `sos_button` alarm at once. Presses within
 * the repeat window are the same call for help, not new alarms. An SOS is
 * never delayed: a press that turns out to be half of a cancel gesture
 * (FallRule) is cancelled afterwards, not held back.
 */
/** Where the time of a device's last SOS call is remembered across restarts. */
const sosKey = (deviceId: string): string => `sos:${deviceId}`;

export class SosRule extends BaseRule {
  readonly name = 'sos';
  private readonly lastPressAtMs = new Map<string, number>();
  private readonly recent = new Map<string, AlarmMessage>();
  /** Set by FallRule: whether a press completes a resident's cancel gesture (then it is not a new call). */
  private completesCancelGesture: (event: DeviceEvent) => boolean = () => false;

  constructor(ctx: RuleContext) {
    super(ctx);
  }

  start(): void {
    this.listen('deviceEvent', (event) => {
      const device = this.ctx.registry.get(event.deviceId);
      if (!device) return;
      const isSos = event.kind === 'sos' || (event.kind === 'button_press' && device.role === 'sos_button');
      if (!isSos) return;
      const last = this.lastPressAtMs.get(device.id) ?? this.ctx.book.lastRaisedAtMs(sosKey(device.id));
      this.lastPressAtMs.set(device.id, event.atMs);
      if (last === event.atMs) {
        // The same press delivered again (a device's QoS 1 retransmission after a gateway restart).
        this.ctx.logger.info({ device: device.id }, 'SOS press delivered twice; already raised');
        return;
      }
      if (last !== null && event.atMs - last < this.ctx.rules.sos.repeatWindowMs) {
        this.ctx.logger.debug({ device: device.id }, 'SOS press within the repeat window; same call');
        return;
      }
      if (this.completesCancelGesture(event)) {
        this.ctx.logger.info(
          { device: device.id },
          'second SOS press after a fall: the resident cancels, no new call',
        );
        return;
      }
      const alarm = this.ctx.book.raiseOneShot(sosKey(device.id), {
        type: 'sos_button',
        severity: 'critical',
        state: 'raised',
        atMs: event.atMs,
        deviceId: device.id,
        evidence: [
          { deviceId: device.id, kind: event.kind, at: this.iso(event.atMs), raw: event.raw.slice(0, 512) },
        ],
        message: device.room ? `SOS button pressed (${device.room})` : 'SOS button pressed',
      });
      this.recent.set(device.id, alarm);
    });
  }

  /** FallRule tells the SOS rule which press completes a cancel gesture. */
  setCancelGestureCheck(check: (event: DeviceEvent) => boolean): void {
    this.completesCancelGesture = check;
  }

  /**
   * Cancel the SOS alarm this device raised at or after `sinceMs` (the first
   * press of a double-press cancel gesture). Returns the cancel message.
   */
  cancelRecent(deviceId: string, sinceMs: number, atMs: number, reason: string): AlarmMessage | null {
    const alarm = this.recent.get(deviceId);
    if (!alarm || Date.parse(alarm.at) < sinceMs) return null;
    this.recent.delete(deviceId);
    return this.ctx.raise({
      type: 'sos_button',
      severity: 'critical',
      state: 'cancelled',
      atMs,
      deviceId,
      refersTo: alarm.id,
      evidence: [{ deviceId, kind: 'cancel', value: reason, at: this.iso(atMs) }],
      message: reason,
    });
  }
}
