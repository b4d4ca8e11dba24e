import type { Clock } from '../../common/clock.js';
import type { Counters } from '../../common/counters.js';
import type { Logger } from '../../common/logger.js';
import type { TypedEmitter } from '../../common/typed-emitter.js';
import {
  nativeAvailabilitySchema,
  nativeEventSchema,
  nativeStateSchema,
  parseNativeDeviceTopic,
  parsePayload,
} from '../../contract/index.js';
import type { LocalBroker } from '../transports/local-broker.js';
import { jsonStateToInputs } from './definitions/json-state.js';
import type { GatewayEvents } from './device-event.js';
import type { DeviceRegistry } from './device-registry.js';

/**
 * Native JSON devices on the gateway's broker (`homebed/v1/dev/<id>/state|event|availability`,
 * docs/devices.md): every payload is validated against the contract schema;
 * a bad one is counted and logged, and the device's next message still counts.
 */
export class NativeDevices {
  private off: (() => void) | null = null;

  constructor(
    private readonly broker: LocalBroker,
    private readonly registry: DeviceRegistry,
    private readonly bus: TypedEmitter<GatewayEvents>,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly counters: Counters,
  ) {}

  start(): void {
    this.off = this.broker.onMessage((topic, payload) => this.handle(topic, payload));
  }

  stop(): void {
    this.off?.();
    this.off = null;
  }

  private handle(topic: string, payload: Buffer): void {
    if (!topic.startsWith('homebed/v1/dev/')) return;
    const parsed = parseNativeDeviceTopic(topic);
    if (!parsed) {
      this.reject('topic', topic, 'not homebed/v1/dev/<deviceId>/state|event|availability');
      return;
    }
    const device = this.registry.findByAddress('native', parsed.deviceId);
    if (!device) {
      this.registry.reportUnpaired('native', parsed.deviceId, parsed.kind);
      return;
    }
    const now = this.clock.now();
    const raw = payload.toString('utf8').slice(0, 512);
    switch (parsed.kind) {
      case 'state': {
        const result = parsePayload(nativeStateSchema, payload);
        if (!result.ok) {
          this.reject('schema', topic, result.error);
          return;
        }
        const atMs = result.value.at ? Date.parse(result.value.at) : now;
        this.registry.markSeen(device.id, now);
        const { readings } = jsonStateToInputs(device, result.value, atMs, raw);
        for (const reading of readings) this.bus.emit('reading', reading);
        return;
      }
      case 'event': {
        const result = parsePayload(nativeEventSchema, payload);
        if (!result.ok) {
          this.reject('schema', topic, result.error);
          return;
        }
        this.registry.markSeen(device.id, now);
        const atMs = result.value.at ? Date.parse(result.value.at) : now;
        const kind = result.value.action === 'press' ? 'button_press' : result.value.action;
        this.bus.emit('deviceEvent', { deviceId: device.id, kind, atMs, raw });
        return;
      }
      case 'availability': {
        const result = parsePayload(nativeAvailabilitySchema, payload);
        if (!result.ok) {
          this.reject('schema', topic, result.error);
          return;
        }
        const online = result.value.state === 'online';
        this.registry.setAvailability(device.id, online);
        if (online) this.registry.markSeen(device.id, now);
        this.bus.emit('availability', { deviceId: device.id, online, atMs: now });
        return;
      }
    }
  }

  private reject(reason: string, topic: string, detail: string): void {
    this.counters.inc('native_messages_rejected', { reason });
    this.logger.warn({ topic, reason, detail }, 'native device message rejected');
  }
}
