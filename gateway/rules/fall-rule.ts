import type { Evidence } from '../../contract/index.js';
import type { DeviceEvent } from '../devices/device-event.js';
import type { Reading } from '../telemetry/reading.js';
import { BaseRule, type RuleContext } from './rule-context.js';
import type { SosRule } from './sos-rule.js';

const CONFIRM = 'fall_confirm';

/**
 * Fall (care-rules.md): the fall radar reports a fall → `fall_suspected`
 * (critical) at once. It is upgraded to `fall_confirmed` (the suspected one
 * is cleared) when the radar reports stationary residency, or when the
 * confirm time passes without the person getting up. Getting up (fall = 0)
 * clears whichever is active. Within the cancel window the resident can
 * cancel: a cancel-button press, a native `cancel`, or the SOS button
 * pressed twice — the fall alarm becomes `cancelled` (still sent: the
 * centre may call) and so does the SOS raised by the first press.
 */
export class FallRule extends BaseRule {
  readonly name = 'fall';
  /** SOS presses seen during each fall's cancel window, per fall device. */
  private readonly sosPresses = new Map<string, DeviceEvent[]>();

  constructor(
    ctx: RuleContext,
    private readonly sos: SosRule,
  ) {
    super(ctx);
  }

  start(): void {
    if (!this.ctx.rules.fall.enabled) return;
    this.sos.setCancelGestureCheck((e) => this.completesCancelGesture(e));
    this.ctx.deadlines.on(CONFIRM, (_key, payload, dueAtMs) => {
      const { deviceId } = payload as { deviceId: string };
      this.confirm(deviceId, dueAtMs, [
        {
          deviceId,
          kind: 'fall',
          value: `no recovery within ${Math.round(this.ctx.rules.fall.confirmAfterMs / 1000)} s`,
          at: this.iso(dueAtMs),
        },
      ]);
    });
    this.listen('reading', (r) => {
      if (this.role(r.deviceId) !== 'fall_radar') return;
      if (r.metric === 'fall') this.onFall(r);
      else if (r.metric === 'stationary_residency' && r.value === true) {
        if (this.ctx.book.isActive(this.suspectedKey(r.deviceId)))
          this.confirm(r.deviceId, r.atMs, [this.evidence(r)]);
      }
    });
    this.listen('deviceEvent', (e) => this.onDeviceEvent(e));
  }

  private suspectedKey(deviceId: string): string {
    return `fall_suspected:${deviceId}`;
  }

  private confirmedKey(deviceId: string): string {
    return `fall_confirmed:${deviceId}`;
  }

  private onFall(r: Reading): void {
    const device = r.deviceId;
    if (r.value === true) {
      if (
        this.ctx.book.isActive(this.suspectedKey(device)) ||
        this.ctx.book.isActive(this.confirmedKey(device))
      )
        return;
      this.ctx.book.raise(this.suspectedKey(device), {
        type: 'fall_suspected',
        severity: 'critical',
        state: 'raised',
        atMs: r.atMs,
        deviceId: device,
        evidence: [this.evidence(r)],
        message: `possible fall${this.room(device)}`,
      });
      this.sosPresses.set(device, []);
      this.ctx.deadlines.schedule(
        `${CONFIRM}:${device}`,
        CONFIRM,
        r.atMs + this.ctx.rules.fall.confirmAfterMs,
        {
          deviceId: device,
        },
      );
    } else if (r.value === false) {
      this.ctx.deadlines.cancel(`${CONFIRM}:${device}`);
      this.sosPresses.delete(device);
      const ev = [this.evidence(r)];
      this.ctx.book.clear(this.suspectedKey(device), r.atMs, ev, 'the person got up');
      this.ctx.book.clear(this.confirmedKey(device), r.atMs, ev, 'the person got up');
    }
  }

  private confirm(deviceId: string, atMs: number, evidence: Evidence[]): void {
    if (!this.ctx.book.isActive(this.suspectedKey(deviceId))) return;
    this.ctx.deadlines.cancel(`${CONFIRM}:${deviceId}`);
    this.sosPresses.delete(deviceId);
    this.ctx.book.clear(this.suspectedKey(deviceId), atMs, evidence, 'upgraded to fall_confirmed');
    this.ctx.book.raise(this.confirmedKey(deviceId), {
      type: 'fall_confirmed',
      severity: 'critical',
      state: 'raised',
      atMs,
      deviceId,
      evidence,
      message: `fall confirmed${this.room(deviceId)}: the person has not got up`,
    });
  }

  /** Whether this SOS press would be the second within a fall's cancel window (asked before the SOS rule raises). */
  private completesCancelGesture(e: DeviceEvent): boolean {
    for (const fallDevice of this.devicesWithRole('fall_radar').map((d) => d.id)) {
      const since = this.ctx.book.activeSince(this.suspectedKey(fallDevice));
      if (since === null || e.atMs - since > this.ctx.rules.fall.cancelWindowMs) continue;
      if ((this.sosPresses.get(fallDevice)?.length ?? 0) >= 1) return true;
    }
    return false;
  }

  private onDeviceEvent(e: DeviceEvent): void {
    const role = this.role(e.deviceId);
    const isCancel = e.kind === 'cancel' || (e.kind === 'button_press' && role === 'cancel_button');
    const isSos = e.kind === 'sos' || (e.kind === 'button_press' && role === 'sos_button');
    if (!isCancel && !isSos) return;
    for (const fallDevice of this.devicesWithRole('fall_radar').map((d) => d.id)) {
      const since = this.ctx.book.activeSince(this.suspectedKey(fallDevice));
      if (since === null || e.atMs - since > this.ctx.rules.fall.cancelWindowMs) continue;
      if (isSos) {
        const presses = this.sosPresses.get(fallDevice) ?? [];
        presses.push(e);
        this.sosPresses.set(fallDevice, presses);
        if (presses.length < 2) continue;
      }
      this.cancel(fallDevice, e, since);
    }
  }

  private cancel(fallDevice: string, e: DeviceEvent, since: number): void {
    const how =
      e.kind === 'button_press' && this.role(e.deviceId) === 'sos_button'
        ? 'SOS pressed twice'
        : 'cancel pressed';
    this.ctx.deadlines.cancel(`${CONFIRM}:${fallDevice}`);
    const presses = this.sosPresses.get(fallDevice) ?? [];
    this.sosPresses.delete(fallDevice);
    this.ctx.book.cancel(
      this.suspectedKey(fallDevice),
      e.atMs,
      [{ deviceId: e.deviceId, kind: e.kind, value: how, at: this.iso(e.atMs), raw: e.raw.slice(0, 512) }],
      `cancelled by the resident (${how})`,
    );
    // The first press of a double press raised an SOS; the resident meant to cancel, so cancel that too.
    const first = presses[0];
    if (first) this.sos.cancelRecent(first.deviceId, since, e.atMs, `cancelled by the resident (${how})`);
  }
}
