import type { Clock } from '../../common/clock.js';
import type { Counters } from '../../common/counters.js';
import type { Logger } from '../../common/logger.js';
import { TypedEmitter } from '../../common/typed-emitter.js';
import {
  type AckMessage,
  ackMessageSchema,
  alarmMessageSchema,
  CONTRACT_VERSION,
  type CommandMessage,
  commandMessageSchema,
  encodePayload,
  gatewayEventSchema,
  gatewayTopic,
  heartbeatMessageSchema,
  parseGatewayTopic,
  parsePayload,
  statusMessageSchema,
} from '../../contract/index.js';
import type { AlarmStore, StoredAlarm } from '../alarms/alarm-store.js';
import type { GatewayRegistry } from '../gateways/gateway-registry.js';

export interface IngressEvents {
  alarmStored: StoredAlarm;
  /** A gateway said it is online (it has just connected and subscribed to its `ack` topic). */
  gatewayOnline: string;
}

/**
 * Everything gateways send, whatever broker it came through: validate
 * against the contract, commit, then acknowledge. `stored` is published
 * only after the alarm is committed, so a gateway that sees it can forget
 * the alarm; a retransmitted alarm is acknowledged again without a second row.
 */
export class GatewayIngress {
  readonly events: TypedEmitter<IngressEvents>;

  constructor(
    private readonly alarms: AlarmStore,
    private readonly gateways: GatewayRegistry,
    private readonly publish: (topic: string, payload: string) => Promise<void>,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly counters: Counters,
  ) {
    this.events = new TypedEmitter((event, err) => logger.error({ err, event }, 'ingress listener failed'));
  }

  async handle(gatewayId: string, topic: string, payload: Buffer): Promise<void> {
    const parsed = parseGatewayTopic(topic);
    if (!parsed || parsed.gatewayId !== gatewayId) {
      this.reject(gatewayId, topic, 'topic', 'message on a topic outside the gateway prefix');
      return;
    }
    const receivedAt = new Date(this.clock.now()).toISOString();
    switch (parsed.kind) {
      case 'alarm': {
        const result = parsePayload(alarmMessageSchema, payload);
        if (!result.ok) return this.reject(gatewayId, topic, 'schema', result.error);
        const alarm = result.value;
        if (alarm.gatewayId !== gatewayId) {
          return this.reject(gatewayId, topic, 'gateway_mismatch', `alarm claims gateway ${alarm.gatewayId}`);
        }
        const { inserted } = await this.alarms.ingest(alarm, receivedAt);
        this.counters.inc(inserted ? 'alarms_stored' : 'alarms_duplicate', { type: alarm.type });
        if (inserted) {
          this.logger.warn(
            {
              alarmId: alarm.id,
              gatewayId,
              bedId: alarm.bedId,
              type: alarm.type,
              severity: alarm.severity,
              state: alarm.state,
            },
            'alarm stored',
          );
          const stored = await this.alarms.get(alarm.id);
          if (stored) this.events.emit('alarmStored', stored);
        }
        await this.sendAck(gatewayId, {
          v: CONTRACT_VERSION,
          alarmId: alarm.id,
          status: 'stored',
          at: receivedAt,
        });
        return;
      }
      case 'heartbeat': {
        const result = parsePayload(heartbeatMessageSchema, payload);
        if (!result.ok) return this.reject(gatewayId, topic, 'schema', result.error);
        if (result.value.gatewayId !== gatewayId) {
          return this.reject(
            gatewayId,
            topic,
            'gateway_mismatch',
            `heartbeat claims gateway ${result.value.gatewayId}`,
          );
        }
        await this.gateways.recordHeartbeat(result.value, receivedAt);
        this.counters.inc('heartbeats_received');
        return;
      }
      case 'status': {
        const result = parsePayload(statusMessageSchema, payload);
        if (!result.ok) return this.reject(gatewayId, topic, 'schema', result.error);
        await this.gateways.recordStatus(gatewayId, result.value.state, receivedAt);
        this.logger.info({ gatewayId, state: result.value.state }, 'gateway status');
        if (result.value.state === 'online') this.events.emit('gatewayOnline', gatewayId);
        return;
      }
      case 'event': {
        const result = parsePayload(gatewayEventSchema, payload);
        if (!result.ok) return this.reject(gatewayId, topic, 'schema', result.error);
        if (result.value.gatewayId !== gatewayId) {
          return this.reject(
            gatewayId,
            topic,
            'gateway_mismatch',
            `event claims gateway ${result.value.gatewayId}`,
          );
        }
        this.counters.inc('events_received', { kind: result.value.kind });
        this.logger.info({ gatewayId, kind: result.value.kind, bedId: result.value.bedId }, 'gateway event');
        return;
      }
      default:
        this.reject(gatewayId, topic, 'direction', 'gateways may not publish this kind of message');
    }
  }

  /**
   * Tell a gateway what became of one of its alarms (`acknowledged` when a
   * person has taken it, `resolved`), so it can tell the resident help is coming.
   */
  async sendStatus(
    gatewayId: string,
    alarmId: string,
    status: 'acknowledged' | 'resolved',
    by: string | undefined,
    at: string,
  ): Promise<void> {
    await this.sendAck(gatewayId, { v: CONTRACT_VERSION, alarmId, status, at, ...(by ? { by } : {}) });
  }

  /** Send a command to a gateway (QoS 1; a gateway offline gets it when it reconnects to its session). */
  async sendCommand(gatewayId: string, command: CommandMessage): Promise<void> {
    await this.publish(gatewayTopic(gatewayId, 'cmd'), encodePayload(commandMessageSchema, command));
  }

  private async sendAck(gatewayId: string, ack: AckMessage): Promise<void> {
    try {
      await this.publish(gatewayTopic(gatewayId, 'ack'), encodePayload(ackMessageSchema, ack));
    } catch (err) {
      // The gateway will retransmit and get its ack then; nothing is lost.
      this.logger.warn({ gatewayId, alarmId: ack.alarmId, err: (err as Error).message }, 'ack not published');
    }
  }

  private reject(gatewayId: string, topic: string, reason: string, detail: string): void {
    this.counters.inc('mqtt_messages_rejected', { reason });
    this.logger.warn({ gatewayId, topic, reason, detail }, 'gateway message rejected');
  }
}
