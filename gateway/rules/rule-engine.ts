import { BedExitRule } from './bed-exit-rule.js';
import type { DeadlineScheduler } from './deadlines.js';
import { DoorAtNightRule } from './door-at-night-rule.js';
import { FallRule } from './fall-rule.js';
import { HazardRule } from './hazard-rule.js';
import { InactivityRule } from './inactivity-rule.js';
import { NotUpRule } from './not-up-rule.js';
import type { CareRule, RuleContext } from './rule-context.js';
import { SosRule } from './sos-rule.js';
import { VitalsRule } from './vitals-rule.js';

/**
 * All care rules of care-rules.md over one bus. Device offline, battery low
 * and serial link lost live in gateway/supervision (they watch devices,
 * not the resident). Start order matters: the last-known-state updater
 * listens first, so every rule sees the state the reading just set; the
 * rules register their deadline handlers before stored deadlines are armed.
 */
export class RuleEngine {
  readonly rules: CareRule[];
  private off: (() => void) | null = null;

  constructor(
    private readonly ctx: RuleContext,
    private readonly deadlines: DeadlineScheduler,
  ) {
    const sos = new SosRule(ctx);
    this.rules = [
      sos,
      new FallRule(ctx, sos),
      new BedExitRule(ctx),
      new NotUpRule(ctx),
      new InactivityRule(ctx),
      new DoorAtNightRule(ctx),
      new VitalsRule(ctx),
      new HazardRule(ctx),
    ];
  }

  start(): void {
    this.off = this.ctx.bus.on('reading', (r) =>
      this.ctx.state.update(r.deviceId, r.metric, r.value, r.atMs),
    );
    for (const rule of this.rules) rule.start();
    this.deadlines.start();
  }

  stop(): void {
    this.deadlines.stop();
    for (const rule of this.rules) rule.stop();
    this.off?.();
    this.off = null;
  }
}
