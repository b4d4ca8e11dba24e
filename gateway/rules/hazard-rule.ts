import type { AlarmMessage } from '../../contract/index.js';
import { BaseRule } from './rule-context.js';

const HAZARDS = {
  smoke: { type: 'smoke', severity: 'critical', text: 'smoke detected' },
  gas: { type: 'gas', severity: 'critical', text: 'gas detected' },
  water_leak: { type: 'water_leak', severity: 'warning', text: 'water leak' },
} as const satisfies Record<
  string,
  { type: AlarmMessage['type']; severity: AlarmMessage['severity']; text: string }
>;

/** Smoke, gas, water leak (care-rules.md): raised when a detector reports it, cleared when it stops. */
export class HazardRule extends BaseRule {
  readonly name = 'hazards';

  start(): void {
    if (!this.ctx.rules.hazards.enabled) return;
    this.listen('reading', (r) => {
      if (r.metric !== 'smoke' && r.metric !== 'gas' && r.metric !== 'water_leak') return;
      if (typeof r.value !== 'boolean') return;
      const hazard = HAZARDS[r.metric];
      const key = `${hazard.type}:${r.deviceId}`;
      if (r.value) {
        this.ctx.book.raise(key, {
          type: hazard.type,
          severity: hazard.severity,
          state: 'raised',
          atMs: r.atMs,
          deviceId: r.deviceId,
          evidence: [this.evidence(r)],
          message: `${hazard.text}${this.room(r.deviceId)}`,
        });
      } else {
        this.ctx.book.clear(key, r.atMs, [this.evidence(r)]);
      }
    });
  }
}
