/**
 * Zigbee device models the zigbee2mqtt emulator can pretend to have paired,
 * described the way zigbee2mqtt describes them in `bridge/devices`
 * (`definition: {model, vendor, description, exposes}`), with the exposes in
 * the shape of zigbee-herdsman-converters' presets (`e.battery()`,
 * `e.occupancy()`, `e.action([...])`, …: `{type, name, property, access,
 * label, description, …}`).
 *
 * Model names, vendors, descriptions and the main exposes follow the
 * zigbee-herdsman-converters definitions and zigbee2mqtt.io device pages
 * (e.g. Tuya `TS0215A_sos`, "SOS button", `exposes: [e.battery(),
 * e.battery_voltage(), e.action(['emergency'])]`). Diagnostic extras some
 * definitions add (device temperature, power-outage count) are left out: the
 * emulator then publishes exactly what it declares, as zigbee2mqtt does.
 * Cluster lists and IEEE prefixes are plausible, not copied from a unit.
 */

export type ZigbeeKind = 'sos_button' | 'button' | 'motion' | 'contact' | 'smoke' | 'gas' | 'water_leak';

/** One entry of `definition.exposes`. */
export type Expose = Readonly<Record<string, unknown>> & { readonly property: string; readonly name: string };

export interface ZigbeeModel {
  kind: ZigbeeKind;
  model: string;
  vendor: string;
  description: string;
  /** `genBasic.modelId` the unit reports (`model_id` in bridge/devices). */
  zigbeeModel: string;
  /** `genBasic.manufacturerName` (`manufacturer` in bridge/devices). */
  manufacturer: string;
  powerSource: 'Battery' | 'Mains (single phase)';
  /** Zigbee role: battery sensors are end devices, mains-powered ones route. */
  type: 'EndDevice' | 'Router';
  /** First 8 hex digits of IEEE addresses of this vendor's units. */
  ieeePrefix: string;
  exposes: readonly Expose[];
  /** `action` values published for `press` and `sos`. */
  actions?: { press?: string; sos?: string };
  /** Initial values of the model's own state properties (not battery, not linkquality). */
  initial: Readonly<Record<string, boolean | number>>;
  clusters: { input: readonly string[]; output: readonly string[] };
}

const READ = 1;

function binary(
  name: string,
  description: string,
  valueOn: boolean,
  valueOff: boolean,
  diagnostic = false,
): Expose {
  return {
    access: READ,
    ...(diagnostic ? { category: 'diagnostic' } : {}),
    description,
    label: label(name),
    name,
    property: name,
    type: 'binary',
    value_off: valueOff,
    value_on: valueOn,
  };
}

function numeric(
  name: string,
  description: string,
  extra: Record<string, unknown>,
  diagnostic = false,
): Expose {
  return {
    access: READ,
    ...(diagnostic ? { category: 'diagnostic' } : {}),
    description,
    label: label(name),
    name,
    property: name,
    type: 'numeric',
    ...extra,
  };
}

/** zigbee2mqtt's labels: the name with `_` as spaces and the first letter upper-case. */
function label(name: string): string {
  const words = name.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const battery = numeric(
  'battery',
  'Remaining battery in %, can take up to 24 hours before reported',
  { unit: '%', value_max: 100, value_min: 0 },
  true,
);
const voltage = numeric('voltage', 'Voltage of the battery in millivolts', { unit: 'mV' }, true);
const batteryLow = binary(
  'battery_low',
  'Indicates if the battery of this device is almost empty',
  true,
  false,
  true,
);
const action = (values: string[]): Expose => ({
  access: READ,
  description: 'Triggered action (e.g. a button click)',
  label: 'Action',
  name: 'action',
  property: 'action',
  type: 'enum',
  values,
});

/** The expose zigbee2mqtt appends to every device: `linkquality`. */
export const LINKQUALITY_EXPOSE: Expose = numeric(
  'linkquality',
  'Link quality (signal strength)',
  { unit: 'lqi', value_max: 255, value_min: 0 },
  true,
);

const BATTERY_CLUSTERS = ['genBasic', 'genPowerCfg', 'genIdentify'];

/** The catalog, by model name. */
export const ZIGBEE_MODELS: Readonly<Record<string, ZigbeeModel>> = Object.freeze({
  TS0215A_sos: {
    kind: 'sos_button',
    model: 'TS0215A_sos',
    vendor: 'Tuya',
    description: 'SOS button',
    zigbeeModel: 'TS0215A',
    manufacturer: '_TZ3000_4fsgukof',
    powerSource: 'Battery',
    type: 'EndDevice',
    ieeePrefix: 'a4c13800',
    exposes: [battery, voltage, action(['emergency'])],
    actions: { press: 'emergency', sos: 'emergency' },
    initial: {},
    clusters: { input: [...BATTERY_CLUSTERS, 'ssIasZone', 'ssIasAce'], output: ['genTime', 'genOta'] },
  },
  WXKG11LM: {
    kind: 'button',
    model: 'WXKG11LM',
    vendor: 'Aqara',
    description: 'Wireless mini switch',
    zigbeeModel: 'lumi.sensor_switch.aq2',
    manufacturer: 'LUMI',
    powerSource: 'Battery',
    type: 'EndDevice',
    ieeePrefix: '00158d00',
    exposes: [battery, voltage, action(['single', 'double', 'triple', 'quadruple', 'hold', 'release'])],
    actions: { press: 'single', sos: 'single' },
    initial: {},
    clusters: { input: ['genBasic', 'genOnOff', 'genMultistateInput'], output: ['genBasic', 'genGroups'] },
  },
  RTCGQ11LM: {
    kind: 'motion',
    model: 'RTCGQ11LM',
    vendor: 'Aqara',
    description: 'Motion sensor',
    zigbeeModel: 'lumi.sensor_motion.aq2',
    manufacturer: 'LUMI',
    powerSource: 'Battery',
    type: 'EndDevice',
    ieeePrefix: '00158d00',
    exposes: [
      binary('occupancy', 'Indicates whether the device detected occupancy', true, false),
      numeric('illuminance', 'Measured illuminance in lux', { unit: 'lx' }),
      battery,
      voltage,
    ],
    initial: { occupancy: false, illuminance: 120 },
    clusters: {
      input: ['genBasic', 'msIlluminanceMeasurement', 'msOccupancySensing'],
      output: ['genBasic', 'genGroups'],
    },
  },
  MCCGQ11LM: {
    kind: 'contact',
    model: 'MCCGQ11LM',
    vendor: 'Aqara',
    description: 'Door and window sensor',
    zigbeeModel: 'lumi.sensor_magnet.aq2',
    manufacturer: 'LUMI',
    powerSource: 'Battery',
    type: 'EndDevice',
    ieeePrefix: '00158d00',
    // zigbee2mqtt: contact is true when closed, so the binary's "on" value is false.
    exposes: [
      binary('contact', 'Indicates if the contact is closed (= true) or open (= false)', false, true),
      battery,
      voltage,
    ],
    initial: { contact: true },
    clusters: { input: ['genBasic', 'genOnOff'], output: ['genBasic', 'genGroups'] },
  },
  HS1SA: {
    kind: 'smoke',
    model: 'HS1SA',
    vendor: 'HEIMAN',
    description: 'Smoke detector',
    zigbeeModel: 'SMOK_V16',
    manufacturer: 'HEIMAN',
    powerSource: 'Battery',
    type: 'EndDevice',
    ieeePrefix: '000d6f00',
    exposes: [
      binary('smoke', 'Indicates whether the device detected smoke', true, false),
      batteryLow,
      battery,
    ],
    initial: { smoke: false },
    clusters: { input: [...BATTERY_CLUSTERS, 'ssIasZone', 'ssIasWd'], output: ['genOta'] },
  },
  HS1CG: {
    kind: 'gas',
    model: 'HS1CG',
    vendor: 'HEIMAN',
    description: 'Smart combustible gas sensor',
    zigbeeModel: 'GAS_V15',
    manufacturer: 'HEIMAN',
    powerSource: 'Mains (single phase)',
    type: 'Router',
    ieeePrefix: '000d6f00',
    exposes: [binary('gas', 'Indicates whether the device detected gas', true, false)],
    initial: { gas: false },
    clusters: { input: ['genBasic', 'genIdentify', 'ssIasZone'], output: ['genOta'] },
  },
  TS0207_water_leak_detector: {
    kind: 'water_leak',
    model: 'TS0207_water_leak_detector',
    vendor: 'Tuya',
    description: 'Water leak detector',
    zigbeeModel: 'TS0207',
    manufacturer: '_TZ3000_upgcbody',
    powerSource: 'Battery',
    type: 'EndDevice',
    ieeePrefix: 'a4c13800',
    exposes: [
      binary('water_leak', 'Indicates whether the device detected a water leak', true, false),
      batteryLow,
      battery,
    ],
    initial: { water_leak: false },
    clusters: { input: [...BATTERY_CLUSTERS, 'ssIasZone'], output: ['genTime', 'genOta'] },
  },
} satisfies Record<string, ZigbeeModel>);

/** The model used for each kind when the config names none. */
export const DEFAULT_ZIGBEE_MODEL: Readonly<Record<ZigbeeKind, string>> = Object.freeze({
  sos_button: 'TS0215A_sos',
  button: 'WXKG11LM',
  motion: 'RTCGQ11LM',
  contact: 'MCCGQ11LM',
  smoke: 'HS1SA',
  gas: 'HS1CG',
  water_leak: 'TS0207_water_leak_detector',
});

export const ZIGBEE_KINDS = Object.keys(DEFAULT_ZIGBEE_MODEL) as [ZigbeeKind, ...ZigbeeKind[]];

/** Whether the model reports its battery (`battery` among its exposes). */
export function hasBattery(model: ZigbeeModel): boolean {
  return model.exposes.some((e) => e.property === 'battery');
}

/** Whether the model exposes `property`. */
export function exposesProperty(model: ZigbeeModel, property: string): boolean {
  return model.exposes.some((e) => e.property === property);
}
