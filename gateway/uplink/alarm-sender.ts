import { withTimeout } from '../../common/async.js';
import type { Clock, TimerHandle } from '../../common/clock.js';
import type { Counters } from '../../common/counters.js';
import type { Logger } from '../../common/logger.js';
import {
  type AckMessage,
  type AlarmMessage,
  alarmMessageSchema,
  encodePayload,
} from '../../contract/index.js';
import type { AlarmDraft, AlarmOutbox } from './alarm-outbox.js';
import type { CloudLink } from './cloud-link.js';

/** Longest we wait for the broker's PUBACK before moving on (the message stays pending). */
const PUBACK_WAIT_MS = 5_000;

export interface AlarmSenderOptions {
  retransmitInitialMs: number;
  retransmitMaxMs: number;
  /** How often the outbox is scanned for due retransmissions. */
  scanIntervalMs?: number;
  /** Jitter source in [0, 1); injected for deterministic tests. */
  random?: () => number;
}

/**
 * Delivers alarms: commit to the outbox first, then publish; retransmit
 * with exponential backoff and jitter until the cloud says `stored`.
 * Alarms go out in sequence order on their own QoS 1 messages and never
 * queue behind telemetry (which does not use this connection at all).
 */
export class AlarmSender {
  private scanTimer: TimerHandle | null = null;
  private sending = false;
  /** A pass was asked for while one ran (e.g. an alarm committed mid-pass): run another right after. */
  private passRequested = false;
  private stopListeners: (() => void)[] = [];
  private readonly random: () => number;

  constructor(
    private readonly outbox: AlarmOutbox,
    private readonly link: CloudLink,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly counters: Counters,
    private readonly options: AlarmSenderOptions,
    private readonly onAck: (ack: AckMessage) => void = () => {},
    private readonly onCommitted: (alarm: AlarmMessage) => void = () => {},
  ) {
    this.random = options.random ?? Math.random;
  }

  start(): void {
    this.stopListeners.push(
      this.link.events.on('connected', () => {
        this.outbox.makeAllDue(this.clock.now());
        void this.sendDue();
      }),
      this.link.events.on('ack', (ack) => this.handleAck(ack)),
    );
    this.scanTimer = this.clock.setInterval(() => void this.sendDue(), this.options.scanIntervalMs ?? 500);
  }

  stop(): void {
    this.scanTimer?.cancel();
    this.scanTimer = null;
    for (const off of this.stopListeners) off();
    this.stopListeners = [];
  }

  /** Commit an alarm durably, then try to send it at once. Returns the committed message. */
  raise(draft: AlarmDraft): AlarmMessage {
    const message = this.outbox.commit(draft);
    this.counters.inc('alarms_committed', { type: message.type, state: message.state });
    this.logger.warn(
      {
        alarmId: message.id,
        seq: message.seq,
        type: message.type,
        state: message.state,
        deviceId: message.deviceId,
      },
      'alarm committed to outbox',
    );
    this.onCommitted(message);
    void this.sendDue();
    return message;
  }

  private handleAck(ack: AckMessage): void {
    const known = this.outbox.recordStatus(ack.alarmId, ack.status, this.clock.now());
    if (!known) {
      this.counters.inc('acks_unknown_alarm');
      this.logger.warn(
        { alarmId: ack.alarmId, status: ack.status },
        'ack for an alarm this gateway does not know',
      );
      return;
    }
    this.counters.inc('acks_received', { status: ack.status });
    this.logger.info({ alarmId: ack.alarmId, status: ack.status, by: ack.by }, 'cloud ack');
    this.onAck(ack);
  }

  /** Publish every due alarm in sequence order; one pass at a time. */
  private async sendDue(): Promise<void> {
    if (!this.link.connected) return;
    if (this.sending) {
      // The running pass read the outbox before this alarm was committed; without another pass it
      // would wait for the next scan (up to scanIntervalMs).
      this.passRequested = true;
      return;
    }
    this.sending = true;
    this.passRequested = false;
    try {
      const now = this.clock.now();
      for (const item of this.outbox.pending()) {
        if (item.nextAttemptAtMs > now) continue;
        if (!this.link.connected) break;
        const attempt = item.attempts + 1;
        this.outbox.recordAttempt(item.message.id, now + this.backoffMs(attempt));
        try {
          // A PUBACK that never comes (connection half-dead) must not stall the outbox:
          // give up waiting after a while; the backoff schedule retransmits anyway.
          const acked = await withTimeout(
            this.link.publish('alarm', encodePayload(alarmMessageSchema, item.message)).then(() => true),
            PUBACK_WAIT_MS,
            false,
          );
          this.counters.inc(attempt === 1 ? 'alarms_sent' : 'alarms_retransmitted');
          if (!acked) {
            this.counters.inc('alarm_puback_timeouts');
            break;
          }
        } catch (err) {
          this.counters.inc('alarm_publish_failures');
          this.logger.warn(
            { alarmId: item.message.id, err: (err as Error).message },
            'alarm publish failed; will retry',
          );
          break;
        }
      }
    } finally {
      this.sending = false;
      if (this.passRequested) void this.sendDue();
    }
  }

  /** Delay before the retransmission after `attempt`: doubling, capped, ±20 % jitter so gateways do not stampede. */
  backoffMs(attempt: number): number {
    const base = Math.min(
      this.options.retransmitMaxMs,
      this.options.retransmitInitialMs * 2 ** (attempt - 1),
    );
    return Math.round(base * (0.8 + 0.4 * this.random()));
  }
}
