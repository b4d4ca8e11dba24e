import type { Clock } from '../../common/clock.js';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { Bed } from '../people/model.js';
import type { NotificationPolicyConfig } from './config.js';
import type { NotificationDispatcher } from './delivery-queue.js';
import type { DeliveryRecord, DeliveryStore } from './delivery-store.js';
import type { Notification } from './notification.js';
import {
  type EscalationStepInfo,
  notificationsForEscalation,
  notificationsForRaised,
  notificationsForResolved,
  type PolicyAlarm,
} from './notification-policy.js';

export interface AlarmNotifierOptions {
  dispatcher: NotificationDispatcher;
  /** The dispatcher's store: where `onResolved` finds who was told of the alarm. */
  store: DeliveryStore;
  /** `notifications.policy` of the configuration. */
  policy: NotificationPolicyConfig;
  /** The bed an alarm belongs to, or null if the centre does not know it (then family is not told). */
  loadBed: (bedId: string) => Promise<Bed | null>;
  /**
   * A notification about an alarm was delivered, or failed for good. Called once per delivery, on
   * the relay whose attempt settled it (for the alarm's timeline: 'notified' / 'notification_failed').
   * Errors and rejections are logged, never thrown back into the dispatcher.
   */
  onOutcome?: (record: DeliveryRecord, final: 'delivered' | 'failed') => void | Promise<void>;
  clock: Clock;
  logger: Logger;
}

/** What one call came to. */
export interface NotifyResult {
  /** Notifications the policy asked for. */
  planned: number;
  /** Newly stored; the others were stored already (by another relay, or an earlier call). */
  inserted: number;
  /** Could not be stored (logged at error level). */
  failed: number;
  /**
   * False when something was left undone: a notification not stored, or the bed (and so the family
   * contacts) or the earlier deliveries not readable. Calling again is safe (ids are derived from the
   * alarm, kind, step and recipient) and does the rest.
   */
  complete: boolean;
}

/**
 * The relay's glue between alarms and notifications: each hook asks the policy
 * (notification-policy.ts) who to tell and enqueues that through the dispatcher, which stores it
 * before anything is sent. Hooks never reject: an alarm must never fail to be stored, acknowledged
 * or escalated because a notification could not be; problems are logged and reported in the result.
 */
export class AlarmNotifier {
  private readonly unsubscribe: Array<() => void>;
  private readonly reporting = new Set<Promise<void>>();

  constructor(private readonly options: AlarmNotifierOptions) {
    const events = options.dispatcher.events;
    this.unsubscribe = [
      events.on('delivered', (e) => this.report(e.record, 'delivered')),
      events.on('failed', (e) => this.report(e.record, 'failed')),
    ];
  }

  /**
   * An alarm was committed (call after every stored alarm message, first delivery or not: ids make
   * a repeat harmless; only raised ones notify anyone). A `StoredAlarm` or the `AlarmMessage` will do.
   */
  async onAlarmStored(alarm: PolicyAlarm): Promise<NotifyResult> {
    if (alarm.state !== 'raised') return { planned: 0, inserted: 0, failed: 0, complete: true };
    const { bed, ok } = await this.bed(alarm);
    const planned = this.plan(alarm, 'alarm_raised', () =>
      notificationsForRaised(alarm, bed, this.options.policy, this.options.clock.now()),
    );
    return this.enqueueAll(alarm, 'alarm_raised', planned, ok);
  }

  /**
   * An escalation step fired for an alarm nobody has taken (cloud/escalation's `Escalator` hook:
   * its `EscalationStep` fits). With `step.renotify`, those told before are told again.
   */
  async onEscalated(alarm: PolicyAlarm, step: EscalationStepInfo): Promise<NotifyResult> {
    // Without the earlier deliveries the step's own tier is still told: it is the one brought in now.
    const prior = step.renotify ? await this.prior(alarm, 'the earlier recipients are not reminded') : [];
    const { bed, ok } = await this.bed(alarm);
    const planned = this.plan(alarm, 'alarm_escalated', () =>
      notificationsForEscalation(
        alarm,
        bed,
        step,
        this.options.policy,
        this.options.clock.now(),
        prior ?? [],
      ),
    );
    if (planned !== null && !planned.some((n) => n.payload.audience === step.tier)) {
      this.options.logger.warn(
        { alarmId: alarm.id, bedId: alarm.bedId, step: step.step, tier: step.tier },
        'escalation step fired but its tier has no recipients configured: nobody new was brought in',
      );
    }
    return this.enqueueAll(alarm, 'alarm_escalated', planned, ok && prior !== null);
  }

  /** The alarm was resolved (pass the `StoredAlarm` with its outcome): those who were told of it hear it. */
  async onResolved(alarm: PolicyAlarm): Promise<NotifyResult> {
    const prior = await this.prior(alarm, 'nobody is told it was resolved');
    if (prior === null) return { planned: 0, inserted: 0, failed: 0, complete: false };
    const { bed, ok } = await this.bed(alarm);
    const planned = this.plan(alarm, 'alarm_resolved', () =>
      notificationsForResolved(alarm, bed, prior, this.options.policy, this.options.clock.now()),
    );
    return this.enqueueAll(alarm, 'alarm_resolved', planned, ok);
  }

  /** Stop reporting outcomes; resolves once the reports under way have finished. */
  async close(): Promise<void> {
    for (const off of this.unsubscribe.splice(0)) off();
    await this.idle();
  }

  /** Resolves when no outcome report is under way. */
  async idle(): Promise<void> {
    while (this.reporting.size > 0) await Promise.allSettled([...this.reporting]);
  }

  /** The alarm's deliveries so far, or null (logged, with what that means) if the store cannot say. */
  private async prior(alarm: PolicyAlarm, consequence: string): Promise<DeliveryRecord[] | null> {
    try {
      return await this.options.store.list({ alarmId: alarm.id, limit: 1000 });
    } catch (err) {
      this.options.logger.error(
        { alarmId: alarm.id, err: errorMessage(err) },
        `reading the notifications of an alarm failed; ${consequence}`,
      );
      return null;
    }
  }

  private async bed(alarm: PolicyAlarm): Promise<{ bed: Bed | null; ok: boolean }> {
    try {
      return { bed: await this.options.loadBed(alarm.bedId), ok: true };
    } catch (err) {
      // The tiers are still told: they need no bed record. Family contacts live in it, so they are not.
      this.options.logger.error(
        { alarmId: alarm.id, bedId: alarm.bedId, err: errorMessage(err) },
        'loading the bed of an alarm failed; its family contacts are not notified',
      );
      return { bed: null, ok: false };
    }
  }

  /** The policy's answer, or null (logged) if it threw: a bug, but it must not stop the relay. */
  private plan(alarm: PolicyAlarm, kind: string, decide: () => Notification[]): Notification[] | null {
    try {
      return decide();
    } catch (err) {
      this.options.logger.error(
        { alarmId: alarm.id, kind, err: errorMessage(err) },
        'notification policy failed; nobody is notified of this alarm event',
      );
      return null;
    }
  }

  private async enqueueAll(
    alarm: PolicyAlarm,
    kind: string,
    planned: Notification[] | null,
    bedLoaded: boolean,
  ): Promise<NotifyResult> {
    if (planned === null) return { planned: 0, inserted: 0, failed: 0, complete: false };
    let inserted = 0;
    let failed = 0;
    for (const n of planned) {
      try {
        if ((await this.options.dispatcher.enqueue(n)).inserted) inserted++;
      } catch {
        failed++; // the dispatcher logged it with the notification's id
      }
    }
    if (planned.length > 0) {
      this.options.logger.info(
        { alarmId: alarm.id, bedId: alarm.bedId, kind, planned: planned.length, inserted, failed },
        'alarm notifications queued',
      );
    }
    return { planned: planned.length, inserted, failed, complete: failed === 0 && bedLoaded };
  }

  private report(record: DeliveryRecord, final: 'delivered' | 'failed'): void {
    const onOutcome = this.options.onOutcome;
    if (!onOutcome || record.notification.alarmId === undefined) return;
    const done = (async () => {
      try {
        await onOutcome(record, final);
      } catch (err) {
        this.options.logger.error(
          {
            notificationId: record.notification.id,
            alarmId: record.notification.alarmId,
            err: errorMessage(err),
          },
          'reporting a notification outcome failed',
        );
      }
    })();
    this.reporting.add(done);
    void done.finally(() => this.reporting.delete(done));
  }
}
