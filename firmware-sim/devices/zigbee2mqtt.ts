import type { Clock, TimerHandle } from '../../common/clock.js';
import { HomebedError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { BatteryDrain } from '../faults.js';
import { type MqttConnectFn, type SimMqttConfig, SimMqttConnection } from '../links/mqtt-client.js';
import { mixSeed, type RandomFn, seededRandom } from '../random.js';
import {
  DEFAULT_ZIGBEE_MODEL,
  exposesProperty,
  hasBattery,
  LINKQUALITY_EXPOSE,
  ZIGBEE_MODELS,
  type ZigbeeKind,
  type ZigbeeModel,
} from './zigbee-models.js';

/**
 * zigbee2mqtt as the gateway sees it over MQTT (zigbee2mqtt.io, "MQTT Topics and Messages"; the
 * `bridge.ts` and `availability.ts` extensions):
 *
 * - `<base>/bridge/state`, retained: `{"state":"online"}` (zigbee2mqtt ≥ 1.29; bare `online` before,
 *   and with `advanced.legacy_availability_payload`), and the same with `offline` as the MQTT last
 *   will and on a clean shutdown;
 * - `<base>/bridge/devices`, retained, QoS 0: a JSON array, keys sorted (zigbee2mqtt serialises it with
 *   json-stable-stringify), the coordinator first, each entry
 *   `{ieee_address, type, network_address, supported, friendly_name, disabled, definition: {model,
 *   vendor, description, exposes, supports_ota, options}, power_source, model_id, manufacturer,
 *   interviewing, interview_completed, software_build_id, date_code, endpoints}`;
 * - `<base>/<friendly_name>/availability`, retained: `{"state":"online"}` or legacy `online`;
 * - `<base>/<friendly_name>`: the device's state, only the properties it exposes plus `linkquality`
 *   (zigbee2mqtt caches the last values and sends them all with each update; `action` is sent once
 *   and not cached).
 *
 * On every (re)connection the bridge state, device list, availability and cached states are published
 * again, as zigbee2mqtt does at start-up.
 */

/** What can happen to a zigbee device through the control API. */
export type ZigbeeAction = 'press' | 'sos' | 'motion' | 'open' | 'close' | 'alarm' | 'clear';

/** The actions each kind accepts. */
export const ZIGBEE_ACTIONS: Readonly<Record<ZigbeeKind, readonly ZigbeeAction[]>> = Object.freeze({
  sos_button: ['sos', 'press'],
  button: ['press'],
  motion: ['motion', 'clear'],
  contact: ['open', 'close'],
  smoke: ['alarm', 'clear'],
  gas: ['alarm', 'clear'],
  water_leak: ['alarm', 'clear'],
});

/** Payload style of availability and bridge-state messages. */
export type AvailabilityStyle = 'json' | 'legacy';

/** One emulated zigbee device (see `config.ts`). */
export interface ZigbeeDeviceSpec {
  friendlyName: string;
  kind: ZigbeeKind;
  /** A model of {@link ZIGBEE_MODELS} of the same kind; default by kind. */
  model?: string;
  /** Default: the vendor's prefix and a hash of the friendly name. */
  ieeeAddress?: string;
  /** Payload style of this device's availability messages. */
  availability: AvailabilityStyle;
  /** Battery level at start (battery models only), percent. */
  battery: number;
  /** Link quality the reports vary around (0–255). */
  linkquality: number;
  /** `action` value of an SOS press; default the model's (`emergency` for TS0215A_sos). */
  sosAction?: string;
  /** zigbee2mqtt clears occupancy this long after the last motion (its `occupancy_timeout`, 90 s by default). */
  occupancyTimeoutMs: number;
  /** Re-send the cached state this often, like the periodic reports of real units; 0 = never. */
  checkinIntervalMs: number;
}

export interface Zigbee2mqttOptions {
  mqtt: SimMqttConfig;
  /** MQTT client id; default `homebed-sim-zigbee2mqtt`. */
  clientId?: string;
  clock: Clock;
  /** zigbee2mqtt's `mqtt.base_topic`; default `zigbee2mqtt`. */
  baseTopic?: string;
  /** Payload style of `bridge/state`; default `json`. */
  bridgeState?: AvailabilityStyle;
  /** IEEE address of the coordinator. */
  coordinatorIeee?: string;
  devices: readonly ZigbeeDeviceSpec[];
  /** battery_low becomes true at or below this level; default 20 %. */
  batteryLowPercent?: number;
  /** Link-quality variation; default a PRNG seeded with 1. */
  random?: RandomFn;
  /** Injectable `mqtt.connect`. */
  connect?: MqttConnectFn;
  logger?: Logger;
}

/** A request the emulator cannot carry out (unknown action for the kind, bad value). */
export class ZigbeeRequestError extends HomebedError {
  constructor(message: string) {
    super('HB_SIM_ZIGBEE_REQUEST', message);
  }
}

/** A device's state for the control API. */
export interface ZigbeeDeviceState {
  friendlyName: string;
  kind: ZigbeeKind;
  model: string;
  vendor: string;
  ieeeAddress: string;
  online: boolean;
  availabilityStyle: AvailabilityStyle;
  actions: readonly ZigbeeAction[];
  /** The cached state zigbee2mqtt would publish next. */
  state: Record<string, unknown>;
  dyingBattery: boolean;
  messagesPublished: number;
}

interface DeviceRuntime {
  spec: ZigbeeDeviceSpec;
  model: ZigbeeModel;
  ieee: string;
  networkAddress: number;
  online: boolean;
  /** The model's own properties (occupancy, contact, …). */
  values: Record<string, boolean | number>;
  batteryPercent: number;
  linkquality: number;
  occupancyTimer?: TimerHandle;
  checkinTimer?: TimerHandle;
  drain?: BatteryDrain;
  published: number;
}

const DEFAULT_COORDINATOR_IEEE = '0x00124b0024c8f3a1';
const DEFAULT_LOW_PERCENT = 20;

/** The emulated zigbee2mqtt bridge with its paired devices. */
export class Zigbee2mqttEmulator {
  private connection: SimMqttConnection | undefined;
  private readonly devices = new Map<string, DeviceRuntime>();
  private readonly random: RandomFn;

  constructor(private readonly options: Zigbee2mqttOptions) {
    this.random = options.random ?? seededRandom(1);
  }

  get baseTopic(): string {
    return this.options.baseTopic ?? 'zigbee2mqtt';
  }

  get connected(): boolean {
    return this.connection?.connected ?? false;
  }

  /** Friendly names of the devices, in configuration order. */
  deviceNames(): string[] {
    return this.options.devices.map((d) => d.friendlyName);
  }

  /** Connect (retrying until the broker is there) and start the devices' timers. */
  start(): void {
    if (this.connection) return;
    for (const spec of this.options.devices) {
      const model = modelFor(spec);
      this.devices.set(spec.friendlyName, {
        spec,
        model,
        ieee: spec.ieeeAddress ?? `0x${model.ieeePrefix}${hex8(mixSeed(0, spec.friendlyName))}`,
        networkAddress: 1 + (mixSeed(7, spec.friendlyName) % 0xfff0),
        online: true,
        values: { ...model.initial },
        batteryPercent: spec.battery,
        linkquality: spec.linkquality,
        published: 0,
      });
    }
    const bridgeTopic = `${this.baseTopic}/bridge/state`;
    this.connection = new SimMqttConnection({
      config: this.options.mqtt,
      clientId: this.options.clientId ?? 'homebed-sim-zigbee2mqtt',
      will: {
        topic: bridgeTopic,
        payload: this.availabilityPayload(this.bridgeStyle, false),
        retain: true,
        qos: 1,
      },
      onConnect: () => this.publishStartup(),
      connect: this.options.connect,
      logger: this.options.logger,
    });
    this.connection.start();
    for (const device of this.devices.values()) {
      const every = device.spec.checkinIntervalMs;
      if (every > 0) {
        // An offline device says nothing; its periodic report resumes when it is back.
        device.checkinTimer = this.options.clock.setInterval(() => {
          if (device.online) this.publishState(device);
        }, every);
      }
    }
  }

  /** Resolves once connected to the broker (for tests). */
  async waitConnected(timeoutMs?: number): Promise<void> {
    if (!this.connection) throw new Error('zigbee2mqtt emulator not started');
    await this.connection.waitConnected(timeoutMs);
  }

  /** Publish `bridge/state` offline (a clean shutdown), disconnect, cancel every timer. Idempotent. */
  async stop(): Promise<void> {
    for (const device of this.devices.values()) {
      device.occupancyTimer?.cancel();
      device.checkinTimer?.cancel();
      device.drain?.stop();
    }
    this.devices.clear();
    const connection = this.connection;
    this.connection = undefined;
    await connection?.stop([
      {
        topic: `${this.baseTopic}/bridge/state`,
        payload: this.availabilityPayload(this.bridgeStyle, false),
        options: { retain: true, qos: 1 },
      },
    ]);
  }

  /**
   * Something happens to a device; returns the state message published.
   *
   * @throws ZigbeeRequestError for an action the device's kind does not have.
   */
  act(name: string, action: ZigbeeAction): Record<string, unknown> | null {
    const device = this.devices.get(name);
    if (!device) return null;
    const allowed = ZIGBEE_ACTIONS[device.model.kind];
    if (!allowed.includes(action)) {
      throw new ZigbeeRequestError(
        `a ${device.model.kind} cannot ${action}; ${name} accepts: ${allowed.join(', ')}`,
      );
    }
    // A device that talks is online again, as zigbee2mqtt's availability tracking concludes.
    if (!device.online) this.setAvailability(name, true);
    let extra: Record<string, unknown> = {};
    switch (action) {
      case 'press':
      case 'sos': {
        const value =
          action === 'sos'
            ? (device.spec.sosAction ?? device.model.actions?.sos)
            : device.model.actions?.press;
        extra = { action: value ?? 'single' };
        break;
      }
      case 'motion':
        device.values.occupancy = true;
        this.armOccupancyClear(device);
        break;
      case 'open':
        device.values.contact = false;
        break;
      case 'close':
        device.values.contact = true;
        break;
      case 'alarm':
      case 'clear': {
        const property = alarmProperty(device.model.kind);
        if (property) device.values[property] = action === 'alarm';
        if (device.model.kind === 'motion') {
          device.occupancyTimer?.cancel();
          device.occupancyTimer = undefined;
          device.values.occupancy = false;
        }
        break;
      }
    }
    return this.publishState(device, extra);
  }

  /** Mark a device online or offline (retained availability message); returns its state. */
  setAvailability(name: string, online: boolean): ZigbeeDeviceState | null {
    const device = this.devices.get(name);
    if (!device) return null;
    device.online = online;
    this.publishAvailability(device);
    return this.deviceState(device);
  }

  /**
   * A new battery level; publishes the state (with battery_low where the model has it).
   *
   * @throws ZigbeeRequestError for a mains-powered model.
   */
  setBattery(name: string, percent: number): ZigbeeDeviceState | null {
    const device = this.devices.get(name);
    if (!device) return null;
    this.requireBattery(device);
    device.batteryPercent = Math.min(100, Math.max(0, percent));
    this.publishState(device);
    return this.deviceState(device);
  }

  /** Run the battery down at `percentPerMinute` (0 stops it); publishes each whole-percent change. */
  setDyingBattery(name: string, percentPerMinute: number, tickMs?: number): ZigbeeDeviceState | null {
    const device = this.devices.get(name);
    if (!device) return null;
    this.requireBattery(device);
    device.drain?.stop();
    device.drain = undefined;
    if (percentPerMinute > 0) {
      device.drain = new BatteryDrain({
        clock: this.options.clock,
        fromPercent: device.batteryPercent,
        percentPerMinute,
        tickMs,
        onLevel: (level) => {
          const before = Math.round(device.batteryPercent);
          device.batteryPercent = level;
          if (Math.round(level) !== before) this.publishState(device);
        },
      });
      device.drain.start();
    }
    return this.deviceState(device);
  }

  /** Everything worth showing. */
  state(): { connected: boolean; baseTopic: string; devices: ZigbeeDeviceState[] } {
    return {
      connected: this.connected,
      baseTopic: this.baseTopic,
      devices: [...this.devices.values()].map((d) => this.deviceState(d)),
    };
  }

  /** The `bridge/devices` payload (a JSON array, keys sorted as zigbee2mqtt sends it). */
  bridgeDevicesPayload(): string {
    const coordinator = {
      ieee_address: this.options.coordinatorIeee ?? DEFAULT_COORDINATOR_IEEE,
      type: 'Coordinator',
      network_address: 0,
      supported: true,
      friendly_name: 'Coordinator',
      disabled: false,
      definition: null,
      power_source: 'Mains (single phase)',
      interviewing: false,
      interview_completed: true,
      endpoints: { 1: endpoint(['genBasic'], []) },
    };
    const devices = [...this.devices.values()].map((d) => ({
      ieee_address: d.ieee,
      type: d.model.type,
      network_address: d.networkAddress,
      supported: true,
      friendly_name: d.spec.friendlyName,
      disabled: false,
      definition: {
        model: d.model.model,
        vendor: d.model.vendor,
        description: d.model.description,
        exposes: [...d.model.exposes, LINKQUALITY_EXPOSE],
        supports_ota: false,
        options: [],
      },
      power_source: d.model.powerSource,
      model_id: d.model.zigbeeModel,
      manufacturer: d.model.manufacturer,
      software_build_id: '',
      date_code: '',
      interviewing: false,
      interview_completed: true,
      endpoints: { 1: endpoint(d.model.clusters.input, d.model.clusters.output) },
    }));
    return stableStringify([coordinator, ...devices]);
  }

  private get bridgeStyle(): AvailabilityStyle {
    return this.options.bridgeState ?? 'json';
  }

  private availabilityPayload(style: AvailabilityStyle, online: boolean): string {
    const word = online ? 'online' : 'offline';
    return style === 'legacy' ? word : JSON.stringify({ state: word });
  }

  private publishStartup(): void {
    const c = this.connection;
    if (!c) return;
    c.publish(`${this.baseTopic}/bridge/state`, this.availabilityPayload(this.bridgeStyle, true), {
      retain: true,
      qos: 1,
    });
    c.publish(`${this.baseTopic}/bridge/devices`, this.bridgeDevicesPayload(), { retain: true, qos: 0 });
    for (const device of this.devices.values()) this.publishAvailability(device);
    for (const device of this.devices.values()) if (device.online) this.publishState(device);
  }

  private publishAvailability(device: DeviceRuntime): void {
    device.published++;
    this.connection?.publish(
      `${this.baseTopic}/${device.spec.friendlyName}/availability`,
      this.availabilityPayload(device.spec.availability, device.online),
      { retain: true, qos: 1 },
    );
  }

  private publishState(device: DeviceRuntime, extra: Record<string, unknown> = {}): Record<string, unknown> {
    const payload = { ...this.cachedState(device, true), ...extra };
    device.published++;
    this.connection?.publish(`${this.baseTopic}/${device.spec.friendlyName}`, JSON.stringify(payload), {
      qos: 0,
    });
    return payload;
  }

  /** What zigbee2mqtt has cached for the device: its exposed properties and a fresh link quality. */
  private cachedState(device: DeviceRuntime, freshLinkquality: boolean): Record<string, unknown> {
    const { model } = device;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(device.values))
      if (exposesProperty(model, key)) out[key] = value;
    if (hasBattery(model)) {
      const percent = Math.round(device.batteryPercent);
      out.battery = percent;
      if (exposesProperty(model, 'voltage')) out.voltage = batteryVoltageMv(percent);
      if (exposesProperty(model, 'battery_low')) {
        out.battery_low = percent <= (this.options.batteryLowPercent ?? DEFAULT_LOW_PERCENT);
      }
    }
    if (freshLinkquality) {
      // Link quality wanders a few units around its baseline from one message to the next.
      const base = device.spec.linkquality;
      const next = device.linkquality + Math.round((this.random() * 2 - 1) * 6);
      device.linkquality = Math.min(255, Math.max(0, Math.min(base + 15, Math.max(base - 15, next))));
    }
    out.linkquality = device.linkquality;
    return out;
  }

  private armOccupancyClear(device: DeviceRuntime): void {
    device.occupancyTimer?.cancel();
    const timeout = device.spec.occupancyTimeoutMs;
    if (timeout <= 0) return;
    device.occupancyTimer = this.options.clock.setTimeout(() => {
      device.occupancyTimer = undefined;
      device.values.occupancy = false;
      this.publishState(device);
    }, timeout);
  }

  private requireBattery(device: DeviceRuntime): void {
    if (!hasBattery(device.model)) {
      throw new ZigbeeRequestError(
        `${device.spec.friendlyName} (${device.model.vendor} ${device.model.model}) is mains-powered: it has no battery`,
      );
    }
  }

  private deviceState(device: DeviceRuntime): ZigbeeDeviceState {
    return {
      friendlyName: device.spec.friendlyName,
      kind: device.model.kind,
      model: device.model.model,
      vendor: device.model.vendor,
      ieeeAddress: device.ieee,
      online: device.online,
      availabilityStyle: device.spec.availability,
      actions: ZIGBEE_ACTIONS[device.model.kind],
      state: this.cachedState(device, false),
      dyingBattery: device.drain !== undefined,
      messagesPublished: device.published,
    };
  }
}

/** The catalog model of a device spec. */
export function modelFor(spec: Pick<ZigbeeDeviceSpec, 'kind' | 'model'>): ZigbeeModel {
  const name = spec.model ?? DEFAULT_ZIGBEE_MODEL[spec.kind];
  const model = ZIGBEE_MODELS[name];
  if (!model || model.kind !== spec.kind) {
    throw new ZigbeeRequestError(`no ${spec.kind} model named ${JSON.stringify(name)}`);
  }
  return model;
}

function alarmProperty(kind: ZigbeeKind): string | undefined {
  if (kind === 'smoke') return 'smoke';
  if (kind === 'gas') return 'gas';
  if (kind === 'water_leak') return 'water_leak';
  return undefined;
}

/** A CR2032-class cell: about 3.0 V full, 2.5 V flat (zigbee2mqtt derives Aqara battery % from voltage). */
function batteryVoltageMv(percent: number): number {
  return 2500 + percent * 5;
}

function endpoint(input: readonly string[], output: readonly string[]): Record<string, unknown> {
  return {
    bindings: [],
    clusters: { input: [...input], output: [...output] },
    configured_reportings: [],
    scenes: [],
  };
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

/** JSON with object keys sorted at every level, like json-stable-stringify (zigbee2mqtt's serialiser). */
export function stableStringify(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(obj)
        .sort()
        .map((k) => [k, sortKeys(obj[k])]),
    );
  }
  return value;
}
