import mqtt, { type MqttClient } from 'mqtt';
import type { Clock } from '../../common/clock.js';
import type { Counters } from '../../common/counters.js';
import type { Logger } from '../../common/logger.js';
import type { TypedEmitter } from '../../common/typed-emitter.js';
import type { AlarmMessage } from '../../contract/index.js';
import type { GatewayConfig } from '../config/schema.js';
import type { GatewayEvents } from '../devices/device-event.js';
import type { MetricName, MetricValue } from '../telemetry/reading.js';

/**
 * Home Assistant MQTT discovery: the bed appears in a family's Home Assistant as one device with its
 * sensors (heart and breath rate, in bed, presence, doors, motion, detectors, batteries, devices online)
 * and the alarm state. Discovery configs and the availability are retained, so Home Assistant finds them
 * whenever it (re)starts; states follow the gateway's readings. Read-only: nothing from Home Assistant
 * reaches the gateway, and it is a convenience beside the monitoring centre, never an alarm path.
 */

type DeviceConfig = GatewayConfig['devices'][number];
type HaConfig = GatewayConfig['homeAssistant'];

/** One Home Assistant entity fed by one metric of one device. */
export interface HaEntity {
  component: 'sensor' | 'binary_sensor';
  deviceId: string;
  metric: MetricName | 'alarm' | 'alarm_active';
  name: string;
  deviceClass?: string;
  unit?: string;
  /** Numbers are throttled; on/off states are sent at once. */
  numeric: boolean;
}

const ROLE_ENTITIES: Record<DeviceConfig['role'], Omit<HaEntity, 'deviceId' | 'name'>[]> = {
  bed_radar: [
    { component: 'sensor', metric: 'heart_rate', unit: 'bpm', numeric: true },
    { component: 'sensor', metric: 'breath_rate', unit: 'breaths/min', numeric: true },
    { component: 'binary_sensor', metric: 'in_bed', deviceClass: 'occupancy', numeric: false },
  ],
  fall_radar: [{ component: 'binary_sensor', metric: 'presence', deviceClass: 'presence', numeric: false }],
  pir: [{ component: 'binary_sensor', metric: 'occupancy', deviceClass: 'motion', numeric: false }],
  front_door: [{ component: 'binary_sensor', metric: 'contact_open', deviceClass: 'door', numeric: false }],
  door: [{ component: 'binary_sensor', metric: 'contact_open', deviceClass: 'door', numeric: false }],
  smoke: [{ component: 'binary_sensor', metric: 'smoke', deviceClass: 'smoke', numeric: false }],
  gas: [{ component: 'binary_sensor', metric: 'gas', deviceClass: 'gas', numeric: false }],
  water: [{ component: 'binary_sensor', metric: 'water_leak', deviceClass: 'moisture', numeric: false }],
  sos_button: [],
  cancel_button: [],
};

/** Mains-powered radars report no battery. */
const BATTERY_KINDS = new Set<DeviceConfig['kind']>([
  'rf_button',
  'rf_contact',
  'rf_pir',
  'rf_smoke',
  'rf_gas',
  'rf_water',
  'zigbee',
  'native',
]);

/** Every entity this home announces: per device by role, battery and online state, and the alarm. */
export function entitiesFor(devices: readonly DeviceConfig[]): HaEntity[] {
  const entities: HaEntity[] = [];
  for (const d of devices) {
    const label = d.room ? `${d.id} (${d.room})` : d.id;
    for (const e of ROLE_ENTITIES[d.role])
      entities.push({ ...e, deviceId: d.id, name: `${label} ${e.metric}` });
    if (BATTERY_KINDS.has(d.kind)) {
      entities.push({
        component: 'sensor',
        deviceId: d.id,
        metric: 'battery',
        name: `${label} battery`,
        deviceClass: 'battery',
        unit: '%',
        numeric: true,
      });
    }
    entities.push({
      component: 'binary_sensor',
      deviceId: d.id,
      metric: 'device_online',
      name: `${label} online`,
      deviceClass: 'connectivity',
      numeric: false,
    });
  }
  entities.push(
    { component: 'sensor', deviceId: 'bed', metric: 'alarm', name: 'alarm', numeric: false },
    {
      component: 'binary_sensor',
      deviceId: 'bed',
      metric: 'alarm_active',
      name: 'alarm active',
      deviceClass: 'problem',
      numeric: false,
    },
  );
  return entities;
}

/** Topics and payloads, pure so that they can be checked without a broker. */
export class HaTopics {
  constructor(
    private readonly ha: Pick<HaConfig, 'discoveryPrefix' | 'stateTopicRoot'>,
    private readonly gatewayId: string,
    private readonly bedId: string,
  ) {}

  get availability(): string {
    return `${this.ha.stateTopicRoot}/${this.gatewayId}/availability`;
  }

  state(e: Pick<HaEntity, 'deviceId' | 'metric'>): string {
    return e.deviceId === 'bed'
      ? `${this.ha.stateTopicRoot}/${this.gatewayId}/${e.metric}`
      : `${this.ha.stateTopicRoot}/${this.gatewayId}/${e.deviceId}/${e.metric}`;
  }

  discovery(e: HaEntity): string {
    return `${this.ha.discoveryPrefix}/${e.component}/${this.gatewayId}/${e.deviceId}_${e.metric}/config`;
  }

  discoveryPayload(e: HaEntity): Record<string, unknown> {
    return {
      name: e.name,
      unique_id: `homebed_${this.gatewayId}_${e.deviceId}_${e.metric}`,
      state_topic: this.state(e),
      availability_topic: this.availability,
      ...(e.deviceClass ? { device_class: e.deviceClass } : {}),
      ...(e.unit ? { unit_of_measurement: e.unit } : {}),
      ...(e.numeric ? { state_class: 'measurement' } : {}),
      ...(e.component === 'binary_sensor' ? { payload_on: 'ON', payload_off: 'OFF' } : {}),
      device: {
        identifiers: [`homebed_${this.gatewayId}`],
        name: `家床守护 ${this.bedId}`,
        manufacturer: 'homebed',
        model: 'home-bed gateway',
      },
    };
  }
}

/** A state as Home Assistant reads it: ON/OFF for booleans, the number or text otherwise. */
export function haValue(value: MetricValue): string {
  if (typeof value === 'boolean') return value ? 'ON' : 'OFF';
  return String(value);
}

export interface HomeAssistantDependencies {
  config: GatewayConfig;
  bus: TypedEmitter<GatewayEvents>;
  clock: Clock;
  logger: Logger;
  counters: Counters;
}

export class HomeAssistantAnnouncer {
  private client: MqttClient | null = null;
  private readonly topics: HaTopics;
  private readonly entities: HaEntity[];
  private readonly byKey = new Map<string, HaEntity>();
  private readonly lastSentAt = new Map<string, number>();
  private readonly lastValue = new Map<string, string>();
  /** Open alarms by id → type, for the alarm sensor. */
  private readonly open = new Map<string, string>();
  private offs: (() => void)[] = [];

  constructor(private readonly deps: HomeAssistantDependencies) {
    const { config } = deps;
    this.topics = new HaTopics(config.homeAssistant, config.gatewayId, config.bedId);
    this.entities = entitiesFor(config.devices);
    for (const e of this.entities) this.byKey.set(`${e.deviceId}/${e.metric}`, e);
  }

  start(): void {
    const { config, logger, counters, bus } = this.deps;
    const ha = config.homeAssistant;
    const client = mqtt.connect(ha.url as string, {
      clientId: `homebed-${config.gatewayId}-ha`,
      ...(ha.username ? { username: ha.username, password: ha.password } : {}),
      reconnectPeriod: 5_000,
      will: { topic: this.topics.availability, payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    this.client = client;
    client.on('connect', () => {
      logger.info({ url: ha.url }, 'announcing to Home Assistant');
      for (const e of this.entities) {
        client.publish(this.topics.discovery(e), JSON.stringify(this.topics.discoveryPayload(e)), {
          qos: 1,
          retain: true,
        });
      }
      client.publish(this.topics.availability, 'online', { qos: 1, retain: true });
      // Everything known so far, again: Home Assistant may have missed it while we were away.
      for (const [key, value] of this.lastValue) {
        const e = this.byKey.get(key);
        if (e) client.publish(this.topics.state(e), value, { qos: 0, retain: true });
      }
      this.publishAlarm(true);
    });
    client.on('error', (err) => {
      counters.inc('home_assistant_errors');
      logger.warn({ err: err.message }, 'Home Assistant broker');
    });
    this.offs.push(
      bus.on('reading', (r) => this.onValue(r.deviceId, r.metric, r.value)),
      bus.on('alarmCommitted', (a) => this.onAlarm(a)),
      bus.on('alarmAck', (ack) => {
        if (ack.status === 'resolved' && this.open.delete(ack.alarmId)) this.publishAlarm(false);
      }),
    );
  }

  private onValue(deviceId: string, metric: string, value: MetricValue): void {
    const key = `${deviceId}/${metric}`;
    const entity = this.byKey.get(key);
    if (!entity) return;
    const text = haValue(value);
    const now = this.deps.clock.now();
    if (entity.numeric) {
      const last = this.lastSentAt.get(key);
      if (last !== undefined && now - last < this.deps.config.homeAssistant.minIntervalS * 1000) return;
    } else if (this.lastValue.get(key) === text) {
      return;
    }
    this.lastSentAt.set(key, now);
    this.lastValue.set(key, text);
    this.client?.publish(this.topics.state(entity), text, { qos: 0, retain: true });
  }

  private onAlarm(alarm: AlarmMessage): void {
    if (alarm.state === 'raised') this.open.set(alarm.id, alarm.type);
    else if (alarm.refersTo) this.open.delete(alarm.refersTo);
    this.publishAlarm(false);
  }

  private publishAlarm(always: boolean): void {
    const types = [...new Set(this.open.values())].sort();
    const state = types.length ? types.join(',') : 'ok';
    if (!always && this.lastValue.get('bed/alarm') === state) return;
    this.lastValue.set('bed/alarm', state);
    this.lastValue.set('bed/alarm_active', types.length ? 'ON' : 'OFF');
    this.client?.publish(this.topics.state({ deviceId: 'bed', metric: 'alarm' }), state, {
      qos: 1,
      retain: true,
    });
    this.client?.publish(
      this.topics.state({ deviceId: 'bed', metric: 'alarm_active' }),
      types.length ? 'ON' : 'OFF',
      {
        qos: 1,
        retain: true,
      },
    );
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    this.offs = [];
    const client = this.client;
    this.client = null;
    if (!client) return;
    if (client.connected)
      await client
        .publishAsync(this.topics.availability, 'offline', { qos: 1, retain: true })
        .catch(() => {});
    await client.endAsync();
  }
}
