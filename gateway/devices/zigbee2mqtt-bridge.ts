import type { Clock } from '../../common/clock.js';
import type { Counters } from '../../common/counters.js';
import type { Logger } from '../../common/logger.js';
import type { TypedEmitter } from '../../common/typed-emitter.js';
import type { LocalBroker } from '../transports/local-broker.js';
import { jsonStateToInputs } from './definitions/json-state.js';
import type { GatewayEvents } from './device-event.js';
import type { DeviceRegistry } from './device-registry.js';

export interface PairedZigbeeDevice {
  friendlyName: string;
  ieeeAddress: string;
  type: string;
  model?: string;
  vendor?: string;
  description?: string;
  configured: boolean;
}

/**
 * Reads zigbee2mqtt through the gateway's own broker: device state
 * messages (`<base>/<friendly_name>`), availability in both payload styles
 * (`{"state":"online"}` and the older bare `online`), the bridge state and
 * the retained list of paired devices (`<base>/bridge/devices`).
 */
export class Zigbee2mqttBridge {
  private off: (() => void) | null = null;
  private paired: PairedZigbeeDevice[] = [];
  private bridgeOnline: boolean | null = null;

  constructor(
    private readonly baseTopic: string,
    private readonly broker: LocalBroker,
    private readonly registry: DeviceRegistry,
    private readonly bus: TypedEmitter<GatewayEvents>,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly counters: Counters,
  ) {}

  start(): void {
    this.off = this.broker.onMessage((topic, payload) => {
      if (topic.startsWith(`${this.baseTopic}/`))
        this.handle(topic.slice(this.baseTopic.length + 1), payload);
    });
  }

  stop(): void {
    this.off?.();
    this.off = null;
  }

  /** Devices zigbee2mqtt says are paired (from `bridge/devices`), marked whether this home configured them. */
  pairedDevices(): PairedZigbeeDevice[] {
    return [...this.paired];
  }

  get isBridgeOnline(): boolean | null {
    return this.bridgeOnline;
  }

  private handle(rest: string, payload: Buffer): void {
    const text = payload.toString('utf8');
    if (rest === 'bridge/state') {
      const state = parseAvailability(text);
      if (state === null) {
        this.reject('availability', rest, text);
        return;
      }
      this.bridgeOnline = state;
      this.logger.info({ state: state ? 'online' : 'offline' }, 'zigbee2mqtt bridge state');
      return;
    }
    if (rest === 'bridge/devices') {
      this.onDevices(text);
      return;
    }
    if (rest.startsWith('bridge/')) return;
    const segments = rest.split('/');
    const last = segments[segments.length - 1];
    if (last === 'set' || last === 'get') return; // commands to zigbee2mqtt, not from devices
    const isAvailability = last === 'availability' && segments.length > 1;
    const name = isAvailability ? segments.slice(0, -1).join('/') : rest;
    const device = this.registry.findByAddress('zigbee2mqtt', name);
    if (!device) {
      this.registry.reportUnpaired('zigbee2mqtt', name, isAvailability ? undefined : text.slice(0, 200));
      return;
    }
    const atMs = this.clock.now();
    if (isAvailability) {
      const online = parseAvailability(text);
      if (online === null) {
        this.reject('availability', rest, text);
        return;
      }
      this.registry.setAvailability(device.id, online);
      this.bus.emit('availability', { deviceId: device.id, online, atMs });
      return;
    }
    let state: unknown;
    try {
      state = JSON.parse(text);
    } catch {
      this.reject('json', rest, text);
      return;
    }
    if (!state || typeof state !== 'object' || Array.isArray(state)) {
      this.reject('json', rest, text);
      return;
    }
    this.registry.markSeen(device.id, atMs);
    const inputs = jsonStateToInputs(device, state as Record<string, unknown>, atMs, text.slice(0, 512));
    if (inputs.invalid.length) {
      this.counters.inc('zigbee_properties_invalid', undefined, inputs.invalid.length);
      this.logger.warn(
        { device: device.id, properties: inputs.invalid },
        'zigbee2mqtt properties of the wrong type ignored',
      );
    }
    this.counters.inc('zigbee_messages', { kind: 'state' });
    for (const reading of inputs.readings) this.bus.emit('reading', reading);
    for (const event of inputs.events) this.bus.emit('deviceEvent', event);
  }

  private onDevices(text: string): void {
    let list: unknown;
    try {
      list = JSON.parse(text);
    } catch {
      this.reject('json', 'bridge/devices', text);
      return;
    }
    if (!Array.isArray(list)) {
      this.reject('json', 'bridge/devices', text);
      return;
    }
    const paired: PairedZigbeeDevice[] = [];
    for (const entry of list) {
      if (!entry || typeof entry !== 'object') continue;
      const e = entry as Record<string, unknown>;
      const type = typeof e.type === 'string' ? e.type : 'unknown';
      if (type === 'Coordinator') continue;
      const friendlyName = typeof e.friendly_name === 'string' ? e.friendly_name : '';
      if (!friendlyName) continue;
      const definition = (e.definition && typeof e.definition === 'object' ? e.definition : {}) as Record<
        string,
        unknown
      >;
      const configured = this.registry.findByAddress('zigbee2mqtt', friendlyName) !== undefined;
      paired.push({
        friendlyName,
        ieeeAddress: typeof e.ieee_address === 'string' ? e.ieee_address : '',
        type,
        ...(typeof definition.model === 'string' ? { model: definition.model } : {}),
        ...(typeof definition.vendor === 'string' ? { vendor: definition.vendor } : {}),
        ...(typeof definition.description === 'string' ? { description: definition.description } : {}),
        configured,
      });
      if (!configured) {
        const what = [definition.vendor, definition.model].filter((x) => typeof x === 'string').join(' ');
        this.registry.reportUnpaired('zigbee2mqtt', friendlyName, what || undefined);
      }
    }
    this.paired = paired;
    this.logger.info(
      { paired: paired.length, configured: paired.filter((p) => p.configured).length },
      'zigbee2mqtt paired devices',
    );
  }

  private reject(reason: string, topic: string, text: string): void {
    this.counters.inc('zigbee_messages_rejected', { reason });
    this.logger.warn(
      { topic: `${this.baseTopic}/${topic}`, reason, payload: text.slice(0, 120) },
      'zigbee2mqtt message rejected',
    );
  }
}

/** `{"state":"online"}` (zigbee2mqtt ≥ 1.29) or the bare word `online` (older); null if neither. */
export function parseAvailability(text: string): boolean | null {
  const bare = text.trim().toLowerCase();
  if (bare === 'online' || bare === 'offline') return bare === 'online';
  try {
    const json = JSON.parse(text) as { state?: unknown };
    if (json && (json.state === 'online' || json.state === 'offline')) return json.state === 'online';
  } catch {
    // fall through
  }
  return null;
}
