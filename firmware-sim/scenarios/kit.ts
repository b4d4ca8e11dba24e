import { join } from 'node:path';
import type { GatewayConfigInput } from '../../gateway/config/schema.js';
import type { Mr60bha1ReportIntervals } from '../devices/mr60bha1.js';
import type { Mr60fda1ReportIntervals } from '../devices/mr60fda1.js';
import type { RfAction } from '../devices/rf-transmitter.js';

/**
 * The standard home-bed kit every scenario runs against: what each device is
 * to the simulator and to the gateway. Scenario steps and expected alarms
 * name devices by their **kit id**, which is also the gateway's device id (so
 * the `deviceId` of an alarm). Where the simulator knows the device under
 * another name, `simName` says so: the names are those of
 * `config/demo/sim.yaml`, so a scenario can also be played against the demo's
 * running simulator (realtime mode). Keep the ids stable: scenario files and
 * the README in this folder depend on them.
 */

/** Where a serial device sits: its simulator id and the gateway's port id. */
interface SerialKitDevice {
  transport: 'serial';
  /** The simulator's serial device id (`POST /unplug/:id`, `POST /faults/:id`). */
  simName: string;
  /** The gateway's `serialPorts[].id`. */
  port: string;
  protocol: 'seeed' | 'rflink';
}

/** A 433 MHz transmitter heard by the kit's RFLink receiver. */
interface RfKitDevice {
  transport: 'rflink';
  simName: string;
  rfKind: 'button' | 'contact' | 'pir' | 'smoke';
  protocol: string;
  rfId: string;
  rfSwitch?: string;
  /** The address the gateway pairs (`PROTOCOL:id:switch`). */
  address: string;
  /** Whether its RFLink lines carry `BAT=` (so a low battery reaches the gateway). */
  reportsBattery: boolean;
}

interface ZigbeeKitDevice {
  transport: 'zigbee2mqtt';
  /** zigbee2mqtt friendly name. */
  simName: string;
  zigbeeKind: 'water_leak';
}

interface NativeKitDevice {
  transport: 'native';
  simName: string;
}

/** One device of the kit. */
export type KitDevice = {
  /** Kit id = gateway device id = the `deviceId` of its alarms (the RFLink receiver has none there). */
  id: string;
  /** Gateway kind and role; absent for the RFLink receiver, which is a port, not a device. */
  gateway?: { kind: string; role: string; room: string };
  /** Only with `kit.pendant: true`. */
  optional?: boolean;
  /** One line for the README and `scenario kit`. */
  what: string;
} & (SerialKitDevice | RfKitDevice | ZigbeeKitDevice | NativeKitDevice);

/** The standard kit, in the order the README lists it. */
export const STANDARD_KIT: readonly KitDevice[] = [
  {
    id: 'bed-radar',
    what: 'Seeed MR60BHA1 bed radar (in/out of bed, heart and breath rate)',
    transport: 'serial',
    simName: 'bed-radar',
    port: 'bed-radar-port',
    protocol: 'seeed',
    gateway: { kind: 'mr60bha1', role: 'bed_radar', room: 'bedroom' },
  },
  {
    id: 'fall-radar',
    what: 'Seeed MR60FDA1 fall radar in the bathroom',
    transport: 'serial',
    simName: 'fall-radar',
    port: 'fall-radar-port',
    protocol: 'seeed',
    gateway: { kind: 'mr60fda1', role: 'fall_radar', room: 'bathroom' },
  },
  {
    id: 'rflink',
    what: 'RFLink 433 MHz receiver (the port the radio devices below are heard on)',
    transport: 'serial',
    simName: 'rflink',
    port: 'rflink-port',
    protocol: 'rflink',
  },
  {
    id: 'sos-button',
    what: 'SOS key of a two-key KeeLoq pendant (its lines carry BAT=)',
    transport: 'rflink',
    simName: 'sos',
    rfKind: 'button',
    protocol: 'Keeloq',
    rfId: 'e311',
    rfSwitch: '0A',
    address: 'Keeloq:e311:0A',
    reportsBattery: true,
    gateway: { kind: 'rf_button', role: 'sos_button', room: 'bedroom' },
  },
  {
    id: 'cancel-button',
    what: 'cancel key of the same pendant',
    transport: 'rflink',
    simName: 'cancel',
    rfKind: 'button',
    protocol: 'Keeloq',
    rfId: 'e311',
    rfSwitch: '0B',
    address: 'Keeloq:e311:0B',
    reportsBattery: true,
    gateway: { kind: 'rf_button', role: 'cancel_button', room: 'bedroom' },
  },
  {
    id: 'front-door',
    what: 'EV1527 front-door contact (open = CMD=ON, closed = CMD=OFF)',
    transport: 'rflink',
    simName: 'front-door',
    rfKind: 'contact',
    protocol: 'EV1527',
    rfId: '1a2b3',
    rfSwitch: '01',
    address: 'EV1527:1a2b3:01',
    reportsBattery: false,
    gateway: { kind: 'rf_contact', role: 'front_door', room: 'hall' },
  },
  {
    id: 'hall-pir',
    what: 'EV1527 PIR in the hall (motion only, never "no motion")',
    transport: 'rflink',
    simName: 'hall-pir',
    rfKind: 'pir',
    protocol: 'EV1527',
    rfId: '2b3c4',
    rfSwitch: '01',
    address: 'EV1527:2b3c4:01',
    reportsBattery: false,
    gateway: { kind: 'rf_pir', role: 'pir', room: 'hall' },
  },
  {
    id: 'kitchen-smoke-rf',
    what: 'FA20RF smoke alarm in the kitchen (sends SMOKEALERT=ON; it has no "all clear")',
    transport: 'rflink',
    simName: 'kitchen-smoke-rf',
    rfKind: 'smoke',
    protocol: 'FA20RF',
    rfId: '5e6f70',
    address: 'FA20RF:5e6f70:',
    reportsBattery: false,
    gateway: { kind: 'rf_smoke', role: 'smoke', room: 'kitchen' },
  },
  {
    id: 'bathroom-leak',
    what: 'zigbee water-leak sensor (battery powered) through zigbee2mqtt',
    transport: 'zigbee2mqtt',
    simName: 'bathroom_leak',
    zigbeeKind: 'water_leak',
    gateway: { kind: 'zigbee', role: 'water', room: 'bathroom' },
  },
  {
    id: 'pendant',
    what: 'native 4G SOS pendant (only with `kit.pendant: true`): events sos, cancel, press',
    optional: true,
    transport: 'native',
    simName: 'pendant',
    gateway: { kind: 'native', role: 'sos_button', room: 'bedroom' },
  },
];

/** Kit ids by what they can do, for the schema's checks. */
export const KIT_IDS = {
  serial: STANDARD_KIT.filter((d) => d.transport === 'serial').map((d) => d.id),
  rf: STANDARD_KIT.filter((d) => d.transport === 'rflink').map((d) => d.id),
  zigbee: STANDARD_KIT.filter((d) => d.transport === 'zigbee2mqtt').map((d) => d.id),
  native: STANDARD_KIT.filter((d) => d.transport === 'native').map((d) => d.id),
};

/** The actions an RF transmitter of the kit can do. */
export const RF_KIND_ACTIONS: Readonly<Record<RfKitDevice['rfKind'], readonly RfAction[]>> = {
  button: ['press'],
  contact: ['open', 'close'],
  pir: ['motion'],
  smoke: ['alarm'],
};

/** A kit device by id (undefined for an unknown id). */
export function kitDevice(id: string): KitDevice | undefined {
  return STANDARD_KIT.find((d) => d.id === id);
}

/**
 * Periodic reports in accelerated runs. The vendors' rates (heart and breath
 * rate every 3 s, body movement every 1 s) would make a simulated night
 * hundreds of thousands of frames; these keep every radar well inside the
 * gateway's 90 s reporting time, so `device_offline` fires only when a
 * scenario silences or unplugs a radar. The bed radar repeats its state every
 * minute (the real module: every 10 min) because the gateway flushes its
 * input when it opens a port, so the state sent at power-up is never seen.
 */
export const ACCELERATED_REPORT_INTERVALS: {
  mr60bha1: Partial<Mr60bha1ReportIntervals>;
  mr60fda1: Partial<Mr60fda1ReportIntervals>;
} = {
  mr60bha1: {
    heartRateMs: 10_000,
    breathRateMs: 10_000,
    bodyMovementMs: 30_000,
    moduleHeartbeatMs: 60_000,
    stateRefreshMs: 60_000,
  },
  mr60fda1: { bodyMovementMs: 30_000, moduleHeartbeatMs: 60_000 },
};

/** What the kit builders need to know about the scenario. */
export interface KitSettings {
  timeZone: string;
  /** Scratch directory: PTY symlinks under `dev/`, the gateway's store under `gateway/`. */
  dir: string;
  /** The gateway's local broker, once it listens. */
  mqttUrl: string;
  seed: number;
  pendant: boolean;
  bedRadar: {
    observationSetupMs: number;
    inBed: boolean;
    heartRateBpm: number;
    breathRatePerMin: number;
    heartRateVariationBpm?: number | undefined;
    breathRateVariationPerMin?: number | undefined;
  };
  fallRadar: { residencyDelayMs?: number | undefined; present: boolean };
}

function devicesIn(settings: Pick<KitSettings, 'pendant'>): KitDevice[] {
  return STANDARD_KIT.filter((d) => !d.optional || (d.id === 'pendant' && settings.pendant));
}

/** The simulator's configuration (input of `simConfigSchema`) for the kit. */
export function kitSimConfig(settings: KitSettings): Record<string, unknown> {
  const dev = (name: string) => join(settings.dir, 'dev', name);
  const kit = devicesIn(settings);
  const transmitters = kit.flatMap((d) =>
    d.transport === 'rflink'
      ? [
          {
            name: d.simName,
            kind: d.rfKind,
            protocol: d.protocol,
            id: d.rfId,
            ...(d.rfSwitch === undefined ? {} : { switch: d.rfSwitch }),
          },
        ]
      : [],
  );
  const bed = settings.bedRadar;
  return {
    control: { host: '127.0.0.1', port: 0 },
    seed: settings.seed,
    log: { level: 'silent' },
    mqtt: { url: settings.mqttUrl, reconnectPeriodMs: 100, clientIdPrefix: 'scenario-sim' },
    devices: [
      {
        id: 'bed-radar',
        kind: 'mr60bha1',
        devicePath: dev('sim-bed-radar'),
        hostPath: dev('bed-radar'),
        observationSetupMs: bed.observationSetupMs,
        vitals: {
          inBed: bed.inBed,
          heartRateBpm: bed.heartRateBpm,
          breathRatePerMin: bed.breathRatePerMin,
          ...(bed.heartRateVariationBpm === undefined
            ? {}
            : { heartRateVariationBpm: bed.heartRateVariationBpm }),
          ...(bed.breathRateVariationPerMin === undefined
            ? {}
            : { breathRateVariationPerMin: bed.breathRateVariationPerMin }),
        },
      },
      {
        id: 'fall-radar',
        kind: 'mr60fda1',
        devicePath: dev('sim-fall-radar'),
        hostPath: dev('fall-radar'),
        present: settings.fallRadar.present,
        ...(settings.fallRadar.residencyDelayMs === undefined
          ? {}
          : { residencyDelayMs: settings.fallRadar.residencyDelayMs }),
      },
      { id: 'rflink', kind: 'rflink', devicePath: dev('sim-rflink'), hostPath: dev('rflink'), transmitters },
    ],
    zigbee2mqtt: {
      devices: kit.flatMap((d) =>
        d.transport === 'zigbee2mqtt' ? [{ friendlyName: d.simName, kind: d.zigbeeKind }] : [],
      ),
    },
    native: {
      devices: kit.flatMap((d) =>
        d.transport === 'native' ? [{ id: d.simName, state: { battery: 95, battery_low: false } }] : [],
      ),
    },
  };
}

/** Options of the gateway side that do not come from the scenario. */
export interface KitGatewayOptions {
  /** MQTT URL of a cloud relay; default one nobody listens on (alarms stay in the outbox, which is read). */
  cloudUrl?: string | undefined;
  cloudSecret?: string | undefined;
  /** InfluxDB 1.x URL; only used when the runner is asked to write telemetry. */
  influxUrl?: string | undefined;
  influxDatabase?: string | undefined;
}

/**
 * The gateway's configuration (input of `gatewayConfigSchema`) for the kit.
 * `rules` is the scenario's override, passed through untouched.
 */
export function kitGatewayConfig(
  settings: Pick<KitSettings, 'timeZone' | 'dir' | 'pendant'>,
  rules: Record<string, unknown> | undefined,
  options: KitGatewayOptions = {},
): GatewayConfigInput {
  const kit = devicesIn(settings);
  const rflinkPort = STANDARD_KIT.find((d) => d.id === 'rflink') as KitDevice & SerialKitDevice;
  return {
    gatewayId: 'gw-scenario',
    bedId: 'bed-scenario',
    timeZone: settings.timeZone,
    dataDir: join(settings.dir, 'gateway'),
    cloud: {
      // Port 9 (discard) is closed on any ordinary host: the cloud link keeps retrying, harmlessly.
      url: options.cloudUrl ?? 'mqtt://127.0.0.1:9',
      secret: options.cloudSecret ?? 'scenario-run-secret',
      heartbeatIntervalS: 3600,
    },
    influx: {
      url: options.influxUrl ?? 'http://127.0.0.1:9',
      database: options.influxDatabase ?? 'homebed_scenarios',
      // Readings are batched on the simulated clock; one write per simulated minute is plenty.
      flushIntervalMs: 60_000,
    },
    localBroker: { enabled: true, host: '127.0.0.1', port: 0 },
    serialPorts: kit.flatMap((d) =>
      d.transport === 'serial'
        ? [
            {
              id: d.port,
              path: join(settings.dir, 'dev', d.simName),
              protocol: d.protocol,
              // A replugged device is found again within ~2.4 s of simulated time (10 s in production):
              // scenarios that unplug a device for a moment check the 5 s `serial_link_lost` threshold.
              reconnectInitialMs: 500,
              reconnectMaxMs: 2_000,
            },
          ]
        : [],
    ),
    devices: kit.flatMap((d): Record<string, unknown>[] => {
      if (!d.gateway) return [];
      const base = { id: d.id, kind: d.gateway.kind, role: d.gateway.role, room: d.gateway.room };
      switch (d.transport) {
        case 'serial':
          return [{ ...base, link: d.port }];
        case 'rflink':
          return [{ ...base, link: rflinkPort.port, address: d.address }];
        case 'zigbee2mqtt':
          return [{ ...base, address: d.simName }];
        case 'native':
          return [{ ...base, ...(d.simName === d.id ? {} : { address: d.simName }) }];
      }
      return [];
    }) as GatewayConfigInput['devices'],
    rules: rules as GatewayConfigInput['rules'],
    log: { level: 'silent' },
  };
}
