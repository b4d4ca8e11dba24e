import type { Clock } from '../../common/clock.js';
import type { Counters } from '../../common/counters.js';
import type { Logger } from '../../common/logger.js';
import { TypedEmitter } from '../../common/typed-emitter.js';
import type { ResolutionOutcome } from '../../contract/index.js';
import type { GatewayIngress } from '../mqtt/gateway-ingress.js';
import {
  type AlarmStore,
  isCloudRaised,
  type LifecycleResult,
  type ResolveResult,
  type StoredAlarm,
} from './alarm-store.js';

/**
 * How far back a reconnecting gateway is told again what became of its
 * alarms. The broker's session would deliver a queued status, but the
 * embedded broker keeps sessions in memory (a relay restart forgets them)
 * and an external broker may expire them; the store does not forget.
 */
export const STATUS_REPLAY_MS = 24 * 3600_000;

/**
 * A person takes an alarm and closes it: the store records who and when,
 * and the gateway is told (`acknowledged`, so the home can say help is
 * coming; `resolved`). Every change is committed before the gateway hears of it.
 */
export interface LifecycleEvents {
  /** A person took an alarm (directly, or by resolving one nobody had taken); committed, the gateway told. */
  acknowledged: StoredAlarm;
  /** An alarm was closed (committed, and the gateway told): notifications close the loop from here. */
  resolved: StoredAlarm;
}

export class AlarmLifecycle {
  readonly events: TypedEmitter<LifecycleEvents>;

  constructor(
    private readonly store: AlarmStore,
    private readonly ingress: GatewayIngress,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly counters: Counters,
  ) {
    this.events = new TypedEmitter((event, err) => logger.error({ err, event }, 'lifecycle listener failed'));
  }

  async acknowledge(alarmId: string, by: string): Promise<LifecycleResult> {
    const result = await this.store.acknowledge(alarmId, by, this.nowIso());
    if (result.ok && result.changed) {
      this.counters.inc('alarms_acknowledged', { type: result.alarm.type });
      this.logger.info({ alarmId, by, type: result.alarm.type }, 'alarm acknowledged');
      await this.tell(result.alarm, 'acknowledged');
      this.events.emit('acknowledged', result.alarm);
    }
    return result;
  }

  async resolve(
    alarmId: string,
    by: string,
    outcome: ResolutionOutcome,
    notes?: string,
  ): Promise<ResolveResult> {
    const result = await this.store.resolve(alarmId, by, this.nowIso(), outcome, notes);
    if (result.ok) {
      this.counters.inc('alarms_resolved', { type: result.alarm.type, outcome });
      this.logger.info({ alarmId, by, outcome }, 'alarm resolved');
      // Resolving an alarm nobody had acknowledged acknowledges it too: the gateway hears both, in order.
      if (result.acknowledgedToo) {
        await this.tell(result.alarm, 'acknowledged');
        this.events.emit('acknowledged', result.alarm);
      }
      await this.tell(result.alarm, 'resolved');
      this.events.emit('resolved', result.alarm);
    }
    return result;
  }

  /** Tell a gateway that has just connected what became of its alarms lately (idempotent at the gateway). */
  async replayTo(gatewayId: string): Promise<number> {
    const since = new Date(this.clock.now() - STATUS_REPLAY_MS).toISOString();
    const handled = await this.store.handledSince(gatewayId, since);
    for (const alarm of handled) {
      if (alarm.acknowledgedAt) await this.tell(alarm, 'acknowledged');
      if (alarm.resolvedAt) await this.tell(alarm, 'resolved');
    }
    if (handled.length) {
      this.counters.inc('alarm_statuses_replayed', undefined, handled.length);
      this.logger.info(
        { gatewayId, alarms: handled.length },
        'alarm statuses replayed to a reconnected gateway',
      );
    }
    return handled.length;
  }

  private async tell(alarm: StoredAlarm, status: 'acknowledged' | 'resolved'): Promise<void> {
    // The cloud's own alarms (gateway_offline) are not the gateway's: it would count an unknown ack.
    if (isCloudRaised(alarm)) return;
    const by = status === 'acknowledged' ? alarm.acknowledgedBy : alarm.resolvedBy;
    const at = (status === 'acknowledged' ? alarm.acknowledgedAt : alarm.resolvedAt) ?? this.nowIso();
    await this.ingress.sendStatus(alarm.gatewayId, alarm.id, status, by, at);
  }

  private nowIso(): string {
    return new Date(this.clock.now()).toISOString();
  }
}
