import type { Severity } from '../../contract/index.js';
import type { AlarmChange } from '../alarms/alarm-events.js';
import type { StoredAlarm } from '../alarms/alarm-store.js';
import { AlarmTimeline, SYSTEM_ACTOR, timelineEvent } from '../alarms/alarm-timeline.js';
import {
  type AlarmRow,
  type EscalationSchedule,
  lockRow,
  toStoredAlarm,
  withPlace,
} from '../alarms/sql-alarm-store.js';
import { num, type SqlDatabase, type SqlExecutor } from '../store/sql-database.js';
import { type EscalationConfig, type EscalationStep, stepsFor } from './policy.js';

/** One row of `escalations`: a step's timer and what became of it. */
export interface EscalationTimer {
  alarmId: string;
  step: number;
  dueAt: string;
  firedAt: string | null;
  /** The process that fired it. */
  firedBy: string | null;
  cancelledAt: string | null;
}

/** A step this process has fired: committed with its `escalated` timeline event. */
export interface FiredEscalation {
  alarm: StoredAlarm;
  step: EscalationStep;
  change: AlarmChange;
}

interface TimerRow {
  alarm_id: string;
  step: number;
  due_at: string;
  fired_at: string | null;
  fired_by: string | null;
  cancelled_at: string | null;
}

/**
 * Escalation timers live in the `escalations` table, not in memory: one
 * row per step, written in the transaction that stores the alarm, so a
 * relay restart forgets none and a step overdue while the relay was down
 * fires when it is back. Claiming is a conditional UPDATE, so of several
 * relay processes exactly one fires each step.
 */
export class EscalationStore implements EscalationSchedule {
  private readonly timeline: AlarmTimeline;

  constructor(
    private readonly db: SqlDatabase,
    private readonly config: EscalationConfig,
  ) {
    this.timeline = new AlarmTimeline(db);
  }

  /** In the ingest transaction: one timer per step of the alarm's severity, due from its receipt. */
  async schedule(tx: SqlExecutor, alarm: StoredAlarm): Promise<void> {
    if (alarm.state !== 'raised') return;
    const storedMs = Date.parse(alarm.receivedAt);
    for (const step of stepsFor(this.config, alarm.severity)) {
      await tx.run(
        `INSERT INTO escalations (alarm_id, step, due_at) VALUES (?, ?, ?) ON CONFLICT (alarm_id, step) DO NOTHING`,
        [alarm.id, step.step, new Date(storedMs + step.afterS * 1000).toISOString()],
      );
    }
  }

  /** In the transaction that acknowledges, resolves, clears or cancels: the steps not yet fired never will. */
  async cancel(tx: SqlExecutor, alarmId: string, at: string): Promise<void> {
    await tx.run(
      `UPDATE escalations SET cancelled_at = ?
        WHERE alarm_id = ? AND fired_at IS NULL AND cancelled_at IS NULL`,
      [at, alarmId],
    );
  }

  /**
   * Fire the steps due at `nowIso`, at most `limit`, as `owner`. Each step is
   * claimed in its own transaction that re-checks the alarm (still nobody
   * has taken it) under the alarm's row lock — the lock acknowledging takes
   * too, so a step never fires after the acknowledgement committed — and
   * appends the `escalated` event. Steps another process claimed first are skipped.
   */
  async claimDue(nowIso: string, owner: string, limit: number): Promise<FiredEscalation[]> {
    const due = await this.db.all<TimerRow>(
      `SELECT alarm_id, step, due_at FROM escalations
        WHERE fired_at IS NULL AND cancelled_at IS NULL AND due_at <= ?
        ORDER BY due_at, alarm_id, step
        LIMIT ?`,
      [nowIso, limit],
    );
    const fired: FiredEscalation[] = [];
    for (const timer of due) {
      const one = await this.db.transaction((tx) => this.claimOne(tx, timer, nowIso, owner));
      if (one) fired.push(one);
    }
    return fired;
  }

  /** An alarm's timers, by step (for the console and tests). */
  async forAlarm(alarmId: string): Promise<EscalationTimer[]> {
    const rows = await this.db.all<TimerRow>(`SELECT * FROM escalations WHERE alarm_id = ? ORDER BY step`, [
      alarmId,
    ]);
    return rows.map((r) => ({
      alarmId: r.alarm_id,
      step: num(r.step),
      dueAt: r.due_at,
      firedAt: r.fired_at,
      firedBy: r.fired_by,
      cancelledAt: r.cancelled_at,
    }));
  }

  private async claimOne(
    tx: SqlExecutor,
    timer: TimerRow,
    nowIso: string,
    owner: string,
  ): Promise<FiredEscalation | null> {
    const row = await lockRow(tx, this.db.dialect, timer.alarm_id);
    const step = row ? this.stepOf(row, num(timer.step), timer.due_at) : null;
    if (!row || !step || row.acknowledged_at || row.resolved_at) {
      // Taken meanwhile (or the policy no longer escalates this severity): this step is over.
      await tx.run(
        `UPDATE escalations SET cancelled_at = ?
          WHERE alarm_id = ? AND step = ? AND fired_at IS NULL AND cancelled_at IS NULL`,
        [nowIso, timer.alarm_id, timer.step],
      );
      return null;
    }
    const claim = await tx.run(
      `UPDATE escalations SET fired_at = ?, fired_by = ?
        WHERE alarm_id = ? AND step = ? AND fired_at IS NULL AND cancelled_at IS NULL`,
      [nowIso, owner, timer.alarm_id, timer.step],
    );
    if (claim.changes !== 1) return null;
    const event = timelineEvent(row.id, 'escalated', nowIso, SYSTEM_ACTOR, {
      step: step.step,
      tier: step.tier,
      afterS: step.afterS,
      renotify: step.renotify,
    });
    await this.timeline.append(tx, [event]);
    const organisation = await tx.get<{ organisation_id: string | null }>(
      `SELECT organisation_id FROM gateways WHERE id = ?`,
      [row.gateway_id],
    );
    const [change] = withPlace([event], row.bed_id, row.gateway_id, organisation?.organisation_id ?? null);
    return { alarm: toStoredAlarm(row), step, change: change! };
  }

  /**
   * What a stored timer means under the policy in force now. The delay is the
   * one scheduled (due − stored); tier and renotify come from the policy. A
   * step the policy no longer has takes its severity's last step (a restart
   * with fewer steps must not silence an alarm already counting down); a
   * severity with no steps any more stops escalating (null).
   */
  private stepOf(row: AlarmRow, step: number, dueAt: string): EscalationStep | null {
    const steps = stepsFor(this.config, row.severity as Severity);
    const policy = steps[step - 1] ?? steps.at(-1);
    if (!policy) return null;
    const afterS = Math.round((Date.parse(dueAt) - Date.parse(row.received_at)) / 1000);
    return { step, tier: policy.tier, afterS, renotify: policy.renotify };
  }
}
