import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { backoffDelayMs } from '../../common/backoff.js';
import type { Clock, TimerHandle } from '../../common/clock.js';
import type { Counters } from '../../common/counters.js';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { TypedEmitter } from '../../common/typed-emitter.js';
import type { DeliveryRecord, DeliveryStore, RecordedAttempt } from './delivery-store.js';
import {
  type ChannelKind,
  type DeliveryOutcome,
  maskAddress,
  type Notification,
  type NotificationChannel,
  parseNotification,
} from './notification.js';

export type {
  DeliveryAttempt,
  DeliveryRecord,
  DeliveryState,
  DeliveryStore,
  RecordedAttempt,
} from './delivery-store.js';

export interface DispatcherOptions {
  store: DeliveryStore;
  /** The channel for each recipient channel kind; a notification for a missing one fails (recorded, logged). */
  channels: Partial<Record<ChannelKind, NotificationChannel>>;
  clock: Clock;
  logger: Logger;
  counters: Counters;
  /** Attempts before a notification is marked failed; default 8. */
  maxAttempts?: number;
  /** Wait before the second attempt, doubling after each failure (±20 % jitter); default 2 s. */
  initialRetryMs?: number;
  /** Cap of the doubling, and of a receiver's Retry-After; default 5 min. */
  maxRetryMs?: number;
  /** No attempt is scheduled later than this after the first one was due; default 1 h. */
  giveUpAfterMs?: number;
  /** Sends in flight at once; default 4. */
  concurrency?: number;
  /** How often the store is asked for due deliveries (retries, and deliveries added elsewhere); default 1 s. */
  pollIntervalMs?: number;
  /** An attempt whose channel has not answered in this time counts as `retry`; default 60 s. */
  sendTimeoutMs?: number;
  /**
   * How long a claimed delivery stays this dispatcher's (`DeliveryStore.claimDue`): if the relay dies
   * mid-send, another relay (or this one, restarted) sends it again once the lease ends. Must exceed
   * `sendTimeoutMs`, or a slow attempt could be sent a second time by another relay meanwhile;
   * default `sendTimeoutMs` + 60 s.
   */
  leaseMs?: number;
  /** Who holds the leases (`lease_owner`), for people reading the store; default `<host>/<pid>/<random>`. */
  owner?: string;
  /** Jitter source in [0, 1); default Math.random. */
  random?: () => number;
}

/**
 * What the dispatcher tells listeners (e.g. the alarm timeline, the console). Each is emitted once per
 * delivery, by the dispatcher whose attempt settled it (`RecordedAttempt.settled`), even when several
 * relays share the store; `record` is the delivery as stored after that attempt.
 */
export interface DispatcherEvents {
  /** A notification was delivered (after `attempts` attempts). */
  delivered: { notification: Notification; attempts: number; detail: string; record: DeliveryRecord };
  /** A notification will not be delivered: permanent failure, or attempts / time used up. */
  failed: {
    notification: Notification;
    attempts: number;
    detail: string;
    reason: string;
    record: DeliveryRecord;
  };
}

/** The default retry schedule; with the defaults 8 attempts span about 4 minutes. */
export const DISPATCHER_DEFAULTS = {
  maxAttempts: 8,
  initialRetryMs: 2_000,
  maxRetryMs: 300_000,
  giveUpAfterMs: 3_600_000,
  concurrency: 4,
  pollIntervalMs: 1_000,
  sendTimeoutMs: 60_000,
  /** Beyond `sendTimeoutMs`, for recording the attempt and a slow store. */
  leaseMarginMs: 60_000,
} as const;

/**
 * Sends notifications at least once. `enqueue` commits a notification to the `DeliveryStore` before
 * anything is sent; a loop on the injected clock then sends due deliveries (at most `concurrency` at
 * once), records every attempt, and schedules the next one with exponential backoff and jitter (or
 * later, if the receiver said `Retry-After`) until it is delivered, fails permanently, or has used
 * `maxAttempts` / `giveUpAfterMs`. A failed notification is logged at error level and counted
 * (`notifications_failed`).
 *
 * Work is taken with `DeliveryStore.claimDue`, which leases each due delivery to this dispatcher for
 * `leaseMs`, so several relays can share one store and each delivery goes out through one of them.
 * A relay that crashes mid-delivery leaves its claims leased: when the leases end they are due
 * again and sent again (at least once; receivers deduplicate by `x-homebed-id`). `start()` resumes
 * whatever the store has due.
 *
 * Counters: `notifications_enqueued{kind}`, `notification_attempts{channel,status}`,
 * `notifications_sent{channel}`, `notifications_retried`, `notifications_failed`,
 * `notification_store_errors{op}`.
 */
export class NotificationDispatcher {
  readonly events: TypedEmitter<DispatcherEvents>;
  private readonly settings: Required<Omit<DispatcherOptions, 'random' | 'leaseMs' | 'owner'>> & {
    random: () => number;
  };
  /** The lease taken on each claimed delivery (ms). */
  readonly leaseMs: number;
  /** This dispatcher's name in the store's `lease_owner`. */
  readonly owner: string;
  private running = false;
  private poll: TimerHandle | null = null;
  private pumping: Promise<void> | null = null;
  private pumpAgain = false;
  private readonly inFlight = new Map<string, Promise<void>>();
  private resumed = false;
  private dueErrors = 0;
  private lastDueErrorLogMs = Number.NEGATIVE_INFINITY;

  constructor(options: DispatcherOptions) {
    this.settings = {
      ...DISPATCHER_DEFAULTS,
      random: Math.random,
      ...stripUndefined(options),
      store: options.store,
      channels: options.channels,
      clock: options.clock,
      logger: options.logger,
      counters: options.counters,
    };
    this.events = new TypedEmitter((event, err) =>
      this.settings.logger.error({ event, err: errorMessage(err) }, 'notification listener failed'),
    );
    if (this.settings.maxAttempts < 1) throw new Error('maxAttempts must be at least 1');
    if (this.settings.concurrency < 1) throw new Error('concurrency must be at least 1');
    this.leaseMs = options.leaseMs ?? this.settings.sendTimeoutMs + DISPATCHER_DEFAULTS.leaseMarginMs;
    if (this.leaseMs <= this.settings.sendTimeoutMs) {
      throw new Error('leaseMs must exceed sendTimeoutMs (another relay would send a slow attempt again)');
    }
    this.owner = options.owner ?? `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
  }

  /**
   * Validate and commit a notification; it is sent as soon as a slot is free (if started). Resolves
   * `{ inserted: false }` for an id already stored (nothing is sent again). Rejects when the
   * notification is invalid or the store cannot commit it: then nothing was stored, and the caller
   * must handle it.
   */
  async enqueue(notification: Notification): Promise<{ inserted: boolean }> {
    const n = parseNotification(notification);
    let result: { inserted: boolean };
    try {
      result = await this.settings.store.add(n, this.nowIso());
    } catch (err) {
      this.settings.counters.inc('notification_store_errors', { op: 'add' });
      this.settings.logger.error(
        { notificationId: n.id, kind: n.kind, alarmId: n.alarmId, err: errorMessage(err) },
        'notification could not be stored; it will not be sent',
      );
      throw err;
    }
    if (result.inserted) {
      this.settings.counters.inc('notifications_enqueued', { kind: n.kind });
      this.settings.logger.debug(
        { notificationId: n.id, kind: n.kind, alarmId: n.alarmId, channel: n.recipient.channel },
        'notification queued',
      );
      this.kick();
    }
    return result;
  }

  /** Start the loop; resolves once the deliveries already due (e.g. left by a crash) have been picked up. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.resumed = false;
    this.poll = this.settings.clock.setInterval(() => this.kick(), this.settings.pollIntervalMs);
    this.kick();
    await this.pumping;
  }

  /** Stop taking deliveries and wait for the attempts in flight to finish and be recorded. */
  async stop(): Promise<void> {
    this.running = false;
    this.poll?.cancel();
    this.poll = null;
    await this.pumping;
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Attempts in progress now. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /**
   * Resolves when no store query and no attempt is in progress (attempts started meanwhile included).
   * Retries scheduled for later are not waited for: with a ManualClock, `advance` then `idle()`.
   */
  async idle(): Promise<void> {
    for (;;) {
      if (this.pumping) {
        await this.pumping;
      } else if (this.inFlight.size > 0) {
        await Promise.allSettled([...this.inFlight.values()]);
      } else {
        return;
      }
    }
  }

  private kick(): void {
    if (!this.running) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = null;
    });
  }

  private async pump(): Promise<void> {
    do {
      this.pumpAgain = false;
      const free = this.settings.concurrency - this.inFlight.size;
      if (free <= 0) return; // a finishing attempt kicks again
      const nowMs = this.settings.clock.now();
      let claimed: DeliveryRecord[];
      try {
        // Claim no more than the free slots: a claimed delivery left unsent would wait for its lease.
        claimed = await this.settings.store.claimDue(this.nowIso(), this.owner, this.leaseMs, free);
      } catch (err) {
        this.settings.counters.inc('notification_store_errors', { op: 'claim' });
        this.dueErrors++;
        // Every poll fails while the store is down: say so at once, then at most once a minute.
        if (nowMs - this.lastDueErrorLogMs >= 60_000) {
          this.lastDueErrorLogMs = nowMs;
          this.settings.logger.error(
            { err: errorMessage(err), failures: this.dueErrors },
            'reading due notifications failed; nothing is sent until the store answers again',
          );
        }
        return; // the next poll tries again
      }
      if (this.dueErrors > 0) {
        this.settings.logger.info({ failures: this.dueErrors }, 'reading due notifications works again');
        this.dueErrors = 0;
        this.lastDueErrorLogMs = Number.NEGATIVE_INFINITY;
      }
      let launched = 0;
      for (const record of claimed) {
        // Claimed is ours to send, even if stop() was called meanwhile (it waits for the attempt). One
        // still in flight here outlived its lease (a hung store): its own attempt will record it.
        if (this.inFlight.has(record.notification.id)) continue;
        this.launch(record);
        launched++;
      }
      if (!this.resumed) {
        this.resumed = true;
        if (launched > 0) {
          this.settings.logger.info(
            { due: launched },
            'notification dispatcher started: resuming due deliveries',
          );
        }
      }
    } while (this.pumpAgain && this.running);
  }

  private launch(record: DeliveryRecord): void {
    const id = record.notification.id;
    const attempt = this.attempt(record)
      .catch((err: unknown) => {
        // attempt() handles its own failures; this is a bug guard so a delivery is never dropped silently.
        this.settings.logger.error(
          { notificationId: id, err: errorMessage(err) },
          'notification attempt crashed',
        );
      })
      .finally(() => {
        this.inFlight.delete(id);
        this.kick();
      });
    this.inFlight.set(id, attempt);
  }

  private async attempt(record: DeliveryRecord): Promise<void> {
    const s = this.settings;
    const n = record.notification;
    const channelKind = n.recipient.channel;
    const attemptNo = record.attemptCount + 1;
    const outcome = await this.send(n);
    const nowMs = s.clock.now();
    s.counters.inc('notification_attempts', { channel: channelKind, status: outcome.status });

    let nextAttemptAt: string | null = null;
    let finalState: 'delivered' | 'failed' | undefined;
    let detail = outcome.detail;
    let giveUpReason: string | null = null;
    if (outcome.status === 'delivered') {
      finalState = 'delivered';
    } else if (outcome.status === 'failed') {
      finalState = 'failed';
      giveUpReason = 'permanent failure';
    } else if (attemptNo >= s.maxAttempts) {
      finalState = 'failed';
      giveUpReason = `no delivery after ${attemptNo} attempts`;
    } else {
      const backoff = backoffDelayMs(attemptNo - 1, {
        initialMs: s.initialRetryMs,
        maxMs: s.maxRetryMs,
        random: s.random,
      });
      // Never sooner than our own backoff (a receiver answering `Retry-After: 0` must not burn the
      // attempts in a second), and not sooner than the receiver asked, within maxRetryMs.
      const delay = Math.max(backoff, Math.min(outcome.retryAfterMs ?? 0, s.maxRetryMs));
      const deadline = Date.parse(record.firstAttemptAt) + s.giveUpAfterMs;
      if (nowMs + delay > deadline) {
        finalState = 'failed';
        giveUpReason = `no delivery within ${Math.round(s.giveUpAfterMs / 60_000)} min (${attemptNo} attempts)`;
      } else {
        nextAttemptAt = new Date(nowMs + delay).toISOString();
      }
    }
    if (outcome.status === 'retry' && giveUpReason) detail = `${detail} (giving up: ${giveUpReason})`;

    let recorded: RecordedAttempt;
    try {
      recorded = await s.store.recordAttempt(
        n.id,
        {
          at: new Date(nowMs).toISOString(),
          status: outcome.status,
          detail,
          ...(outcome.httpStatus !== undefined ? { httpStatus: outcome.httpStatus } : {}),
        },
        nextAttemptAt,
        finalState,
      );
    } catch (err) {
      // The delivery stays as the store last had it: pending and leased to us. It is attempted again
      // when the lease ends, so a delivered notification may be sent twice, never lost.
      s.counters.inc('notification_store_errors', { op: 'recordAttempt' });
      s.logger.error(
        {
          notificationId: n.id,
          outcome: outcome.status,
          err: errorMessage(err),
          leaseEndsAt: record.nextAttemptAt,
        },
        'recording a notification attempt failed; the delivery will be attempted again when its lease ends',
      );
      return;
    }

    const context = {
      notificationId: n.id,
      kind: n.kind,
      alarmId: n.alarmId,
      bedId: n.bedId,
      channel: channelKind,
      recipient: n.recipient.name,
      address: maskAddress(n.recipient.address),
      attempt: attemptNo,
      detail,
    };
    if (recorded.record.state !== 'pending' && !recorded.settled) {
      // Another attempt (another relay's, after our lease lapsed) settled it first; it reported it.
      s.logger.warn(
        { ...context, outcome: outcome.status, state: recorded.record.state },
        'notification attempt recorded after the delivery was already settled',
      );
    } else if (finalState === 'delivered') {
      s.counters.inc('notifications_sent', { channel: channelKind });
      s.logger.info(context, 'notification delivered');
      this.events.emit('delivered', {
        notification: n,
        attempts: attemptNo,
        detail,
        record: recorded.record,
      });
    } else if (finalState === 'failed') {
      s.counters.inc('notifications_failed', { channel: channelKind });
      const reason = giveUpReason ?? 'failed';
      s.logger.error({ ...context, reason }, 'notification NOT delivered: giving up');
      this.events.emit('failed', {
        notification: n,
        attempts: attemptNo,
        detail,
        reason,
        record: recorded.record,
      });
    } else {
      s.counters.inc('notifications_retried');
      s.logger.warn({ ...context, nextAttemptAt }, 'notification attempt failed; will retry');
    }
  }

  /** One attempt through the recipient's channel; never throws. */
  private async send(n: Notification): Promise<DeliveryOutcome> {
    const channel = this.settings.channels[n.recipient.channel];
    if (!channel) {
      return { status: 'failed', detail: `no ${n.recipient.channel} channel is configured` };
    }
    let timer: TimerHandle | undefined;
    try {
      const timeout = new Promise<DeliveryOutcome>((resolve) => {
        timer = this.settings.clock.setTimeout(
          () =>
            resolve({
              status: 'retry',
              detail: `${n.recipient.channel} channel did not answer within ${this.settings.sendTimeoutMs} ms`,
            }),
          this.settings.sendTimeoutMs,
        );
      });
      return await Promise.race([channel.send(n), timeout]);
    } catch (err) {
      return { status: 'retry', detail: `${n.recipient.channel} channel error: ${errorMessage(err)}` };
    } finally {
      timer?.cancel();
    }
  }

  private nowIso(): string {
    return new Date(this.settings.clock.now()).toISOString();
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
