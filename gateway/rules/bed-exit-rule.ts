import { BaseRule } from './rule-context.js';

const KIND = 'bed_exit_return';

/**
 * Bed exit, no return (care-rules.md): in the night window the bed radar
 * reports out of bed and the person is not back within the return time →
 * `bed_exit_no_return` (warning) at exit + return time; back in bed clears it.
 */
export class BedExitRule extends BaseRule {
  readonly name = 'bed_exit';
  /** Last in-bed value per radar and when the person left, to report exits and returns once each. */
  private readonly lastInBed = new Map<string, boolean>();
  private readonly exitAt = new Map<string, number>();

  /** Bed exits and returns go to the cloud's timeline, by day and night alike. */
  private reportMovement(deviceId: string, inBed: boolean, atMs: number): void {
    // The persisted state knows the value before this one even right after a restart.
    const known = this.lastInBed.get(deviceId);
    const changedNow = this.ctx.state.get(deviceId, 'in_bed')?.atMs === atMs;
    const before = known ?? (changedNow ? this.ctx.state.previous(deviceId, 'in_bed') : inBed);
    this.lastInBed.set(deviceId, inBed);
    if (before === inBed || (known === undefined && before === undefined && inBed)) return;
    if (!inBed) {
      this.exitAt.set(deviceId, atMs);
      this.ctx.emitEvent?.({ kind: 'bed_exit', deviceId, atMs });
      return;
    }
    const exit = this.exitAt.get(deviceId);
    this.exitAt.delete(deviceId);
    this.ctx.emitEvent?.({
      kind: 'bed_return',
      deviceId,
      atMs,
      ...(exit !== undefined ? { outOfBedS: Math.round((atMs - exit) / 1000) } : {}),
    });
  }

  start(): void {
    if (!this.ctx.rules.bedExit.enabled) return;
    this.ctx.deadlines.on(KIND, (_key, payload, dueAtMs) => {
      const { deviceId, exitAtMs } = payload as { deviceId: string; exitAtMs: number };
      const inBed = this.ctx.state.get(deviceId, 'in_bed');
      if (inBed?.value !== false) return;
      this.ctx.book.raise(`bed_exit_no_return:${deviceId}`, {
        type: 'bed_exit_no_return',
        severity: 'warning',
        state: 'raised',
        atMs: dueAtMs,
        deviceId,
        evidence: [{ deviceId, kind: 'in_bed', value: false, at: this.iso(exitAtMs) }],
        message: `out of bed since ${this.iso(exitAtMs)} and not back`,
      });
    });
    this.listen('reading', (r) => {
      if (r.metric !== 'in_bed' || this.role(r.deviceId) !== 'bed_radar' || typeof r.value !== 'boolean')
        return;
      this.reportMovement(r.deviceId, r.value, r.atMs);
      const deadline = `bed_exit:${r.deviceId}`;
      if (r.value === false) {
        // Only a real exit starts the wait (the radar repeats its state; a repeat must not move the deadline).
        if (this.atNight(r.atMs) && this.ctx.deadlines.dueAt(deadline) === null) {
          const alreadyOut = this.ctx.book.isActive(`bed_exit_no_return:${r.deviceId}`);
          if (!alreadyOut) {
            this.ctx.deadlines.schedule(deadline, KIND, r.atMs + this.ctx.rules.bedExit.returnWithinMs, {
              deviceId: r.deviceId,
              exitAtMs: r.atMs,
            });
          }
        }
      } else if (r.value === true) {
        this.ctx.deadlines.cancel(deadline);
        this.ctx.book.clear(`bed_exit_no_return:${r.deviceId}`, r.atMs, [this.evidence(r)], 'back in bed');
      }
    });
  }
}
