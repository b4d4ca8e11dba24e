import { nextLocalTime } from './local-time.js';
import { BaseRule } from './rule-context.js';

const KIND = 'morning_check';

/**
 * Not up in the morning (care-rules.md): at the morning deadline (10:00)
 * the bed radar still says in bed → `not_up_in_morning` (warning); getting
 * up clears it. The daily check is a persisted deadline, re-armed each day.
 */
export class NotUpRule extends BaseRule {
  readonly name = 'not_up_in_morning';

  start(): void {
    if (!this.ctx.rules.notUpInMorning.enabled) return;
    this.ctx.deadlines.on(KIND, (_key, payload, dueAtMs) => {
      const { deviceId } = payload as { deviceId: string };
      this.arm(deviceId, dueAtMs);
      const inBed = this.ctx.state.get(deviceId, 'in_bed');
      if (inBed?.value !== true) return;
      this.ctx.book.raise(`not_up_in_morning:${deviceId}`, {
        type: 'not_up_in_morning',
        severity: 'warning',
        state: 'raised',
        atMs: dueAtMs,
        deviceId,
        evidence: [{ deviceId, kind: 'in_bed', value: true, at: this.iso(inBed.atMs) }],
        message: `still in bed at ${this.ctx.rules.notUpInMorning.deadline}`,
      });
    });
    for (const bed of this.devicesWithRole('bed_radar')) {
      if (this.ctx.deadlines.dueAt(this.key(bed.id)) === null) this.arm(bed.id, this.ctx.clock.now());
    }
    this.listen('reading', (r) => {
      if (r.metric !== 'in_bed' || r.value !== false || this.role(r.deviceId) !== 'bed_radar') return;
      this.ctx.book.clear(`not_up_in_morning:${r.deviceId}`, r.atMs, [this.evidence(r)], 'got up');
    });
  }

  private key(deviceId: string): string {
    return `morning_check:${deviceId}`;
  }

  private arm(deviceId: string, afterMs: number): void {
    const due = nextLocalTime(afterMs, this.ctx.timeZone, this.ctx.rules.notUpInMorning.deadline);
    this.ctx.deadlines.schedule(this.key(deviceId), KIND, due, { deviceId });
  }
}
