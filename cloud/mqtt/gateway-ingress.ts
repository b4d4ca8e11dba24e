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
  type GatewayEventMessage,
  gatewayEventSchema,
  gatewayTopic,
  heartbeatMessageSchema,
  parseGatewayTopic,
  parsePayload,
  statusMessageSchema,
} from '../../contract/index.js';
import type { AlarmStore, StoredAlarm } from '../alarms/alarm-store.js';
import type { GatewayPresence, GatewayRegistry } from '../gateways/gateway-registry.js';

/**
 * Told after each heartbeat and status was recorded (cloud/gateways/liveness.ts):
 * a gateway heard again ends its `gateway_offline` alarm.
 */
export interface GatewayPresenceListener {
  onHeartbeat(presence: GatewayPresence, receivedAt: string): Promise<void>;
  onStatus(presence: GatewayPresence, receivedAt: string): Promise<void>;
}

/** Where the gateways' non-alarm events are kept (cloud/beds/bed-events.ts); idempotent by the event's natural key. */
export interface GatewayEventSink {
  record(event: GatewayEventMessage, bedId: string, receivedAt: string): Promise<{ inserted: boolean }>;
}

export interface GatewayIngressOptions {
  liveness?: GatewayPresenceListener;
  /** Without it events are only counted and logged. */
  events?: GatewayEventSink;
  /** Told how long each alarm took from arriving here to its `stored` ack having been published (seconds). */
  observeStoredAck?: (seconds: number) => void;
}

/** Bed id of alarms from a gateway on no bed that named another organisation's bed. */
export const UNLINKED_BED_PREFIX = 'gateway:';

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
    private readonly options: GatewayIngressOptions = {},
  ) {
    this.events = new TypedEmitter((event, err) => logger.error({ err, event }, 'ingress listener failed'));
  }

  async handle(gatewayId: string, topic: string, payload: Buffer): Promise<void> {
    const arrivedAt = performance.now();
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
        const sent = result.value;
        if (sent.gatewayId !== gatewayId) {
          return this.reject(gatewayId, topic, 'gateway_mismatch', `alarm claims gateway ${sent.gatewayId}`);
        }
        // An authenticated home's alarm is never dropped; but it is filed under the bed its gateway
        // is linked to, whatever bed the message names (a misconfigured or spoofing gateway).
        const bedId = await this.bedFor(gatewayId, sent.bedId);
        const misfiled = bedId !== sent.bedId;
        const alarm = misfiled ? { ...sent, bedId } : sent;
        const { inserted } = await this.alarms.ingest(alarm, receivedAt);
        if (inserted) this.counters.inc('alarms_stored', { type: alarm.type, state: alarm.state });
        else this.counters.inc('alarms_duplicate', { type: alarm.type });
        if (inserted && misfiled) {
          this.counters.inc('alarms_bed_mismatch');
          this.logger.warn(
            { alarmId: alarm.id, gatewayId, claimedBedId: sent.bedId, storedUnder: bedId },
            'alarm names a bed its gateway is not on; stored under the gateway’s own bed',
          );
        }
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
        const acked = await this.sendAck(gatewayId, {
          v: CONTRACT_VERSION,
          alarmId: alarm.id,
          status: 'stored',
          at: receivedAt,
        });
        if (acked) this.options.observeStoredAck?.((performance.now() - arrivedAt) / 1000);
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
        const presence = await this.gateways.recordHeartbeat(result.value, receivedAt);
        this.counters.inc('heartbeats_received');
        await this.tellLiveness('heartbeat', gatewayId, (l) => l.onHeartbeat(presence, receivedAt));
        return;
      }
      case 'status': {
        const result = parsePayload(statusMessageSchema, payload);
        if (!result.ok) return this.reject(gatewayId, topic, 'schema', result.error);
        // The last will is fixed when the connection opens, so it carries no time.
        const reason = result.value.state === 'offline' && !result.value.at ? 'last_will' : 'status';
        const presence = await this.gateways.recordStatus(gatewayId, result.value.state, receivedAt, reason);
        this.logger.info({ gatewayId, state: result.value.state, reason }, 'gateway status');
        await this.tellLiveness('status', gatewayId, (l) => l.onStatus(presence, receivedAt));
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
        const event = result.value;
        this.counters.inc('events_received', { kind: event.kind });
        const sink = this.options.events;
        if (!sink) {
          this.logger.info({ gatewayId, kind: event.kind, bedId: event.bedId }, 'gateway event');
          return;
        }
        // Filed like an alarm: under the gateway's own bed, whatever bed the message names.
        const bedId = await this.bedFor(gatewayId, event.bedId);
        // A store failure throws: the message is then not acknowledged to an external broker, which redelivers it.
        const { inserted } = await sink.record(event, bedId, receivedAt);
        this.counters.inc(inserted ? 'events_stored' : 'events_duplicate', { kind: event.kind });
        if (inserted && bedId !== event.bedId) {
          this.logger.warn(
            { gatewayId, kind: event.kind, claimedBedId: event.bedId, storedUnder: bedId },
            'event names a bed its gateway is not on; stored under the gateway’s own bed',
          );
        }
        this.logger.info({ gatewayId, kind: event.kind, bedId, inserted }, 'gateway event');
        return;
      }
      default:
        this.reject(gatewayId, topic, 'direction', 'gateways may not publish this kind of message');
    }
  }

  /**
   * The bed an alarm (or event) from `gatewayId` is filed under. A gateway on a bed:
   * that bed. A gateway on no bed yet: the bed it names, if that bed is in
   * the gateway's own organisation (or the gateway has none: a platform
   * admin's); otherwise the pseudo-bed `gateway:<id>`, so a gateway can
   * never put alarms, or calls to family, on another organisation's bed.
   */
  private async bedFor(gatewayId: string, claimed: string): Promise<string> {
    const link = await this.gateways.link(gatewayId);
    if (link?.bedId) return link.bedId;
    if (!link?.organisationId) return claimed;
    const owner = await this.gateways.bedOrganisation(claimed);
    return owner === null || owner === link.organisationId ? claimed : `${UNLINKED_BED_PREFIX}${gatewayId}`;
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

  /** Publish an ack; false when it could not be (logged). */
  private async sendAck(gatewayId: string, ack: AckMessage): Promise<boolean> {
    try {
      await this.publish(gatewayTopic(gatewayId, 'ack'), encodePayload(ackMessageSchema, ack));
      return true;
    } catch (err) {
      // The gateway will retransmit and get its ack then; nothing is lost.
      this.logger.warn({ gatewayId, alarmId: ack.alarmId, err: (err as Error).message }, 'ack not published');
      return false;
    }
  }

  /** Liveness failing must not lose the message: it is recorded, and liveness's own check repairs later. */
  private async tellLiveness(
    what: string,
    gatewayId: string,
    tell: (liveness: GatewayPresenceListener) => Promise<void>,
  ): Promise<void> {
    const liveness = this.options.liveness;
    if (!liveness) return;
    try {
      await tell(liveness);
    } catch (err) {
      this.counters.inc('liveness_failures', { on: what });
      this.logger.error({ err, gatewayId }, `gateway liveness failed on a ${what}`);
    }
  }

  private reject(gatewayId: string, topic: string, reason: string, detail: string): void {
    this.counters.inc('mqtt_messages_rejected', { reason });
    this.logger.warn({ gatewayId, topic, reason, detail }, 'gateway message rejected');
  }
}
