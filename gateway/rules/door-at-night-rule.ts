import { BaseRule } from './rule-context.js';

/**
 * Door open at night (防走失, care-rules.md): the front-door contact opens in
 * the night window → `door_open_at_night` at once; cleared when it closes.
 */
export class DoorAtNightRule extends BaseRule {
  readonly name = 'door_at_night';

  start(): void {
    if (!this.ctx.rules.doorAtNight.enabled) return;
    this.listen('reading', (r) => {
      if (r.metric !== 'contact_open' || this.role(r.deviceId) !== 'front_door') return;
      const key = `door_open_at_night:${r.deviceId}`;
      if (r.value === true && this.atNight(r.atMs)) {
        this.ctx.book.raise(key, {
          type: 'door_open_at_night',
          severity: 'warning',
          state: 'raised',
          atMs: r.atMs,
          deviceId: r.deviceId,
          evidence: [this.evidence(r)],
          message: `front door opened at night${this.room(r.deviceId)}`,
        });
      } else if (r.value === false) {
        this.ctx.book.clear(key, r.atMs, [this.evidence(r)]);
      }
    });
  }
}
