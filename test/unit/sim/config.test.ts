import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../common/config/load.js';
import { ConfigError } from '../../../common/errors.js';
import { controlUrl, loadSimConfig, type SimConfig, simConfigSchema } from '../../../firmware-sim/config.js';

const radar = { id: 'bed-radar', kind: 'mr60bha1', devicePath: 'var/d/sim-radar', hostPath: 'var/d/radar' };
const rflink = { id: 'rflink', kind: 'rflink', devicePath: 'var/d/sim-rflink', hostPath: 'var/d/rflink' };
const fallRadar = { id: 'fall', kind: 'mr60fda1', devicePath: 'var/d/sim-fall', hostPath: 'var/d/fall' };
const NO_FAULTS = { noise: false, badChecksums: false, truncated: false, silent: false };
const SOS = {
  kind: 'button',
  name: 'sos',
  protocol: 'EV1527',
  id: '0d3e4',
  switch: '01',
  cmd: 'ON',
  repeats: 3,
  batteryLow: false,
  batteryField: 'auto',
  dyingBattery: false,
};

function problems(input: unknown): readonly string[] {
  try {
    validateConfig(simConfigSchema, input, 'test');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const parse = (input: unknown): SimConfig => validateConfig(simConfigSchema, input, 'test');

describe('simConfigSchema', () => {
  it('fills every default from an empty config', () => {
    expect(parse({})).toEqual({
      control: { host: '127.0.0.1', port: 7390 },
      devices: [],
      seed: 1,
      mqtt: { clientIdPrefix: 'homebed-sim', reconnectPeriodMs: 1000 },
      zigbee2mqtt: {
        baseTopic: 'zigbee2mqtt',
        bridgeState: 'json',
        coordinatorIeee: '0x00124b0024c8f3a1',
        devices: [],
      },
      native: { devices: [] },
      faults: {
        noiseRate: 0.2,
        badChecksumRate: 0.2,
        truncatedRate: 0.2,
        noiseMaxBytes: 8,
        dyingBatteryPercentPerMin: 10,
        batteryTickMs: 10_000,
        batteryLowPercent: 20,
      },
      log: { level: 'info', pretty: false },
    });
  });

  it('fills device defaults: radar at 115200 with a resting person in bed, RFLink at 57600 with an SOS button', () => {
    const config = parse({ devices: [radar, rflink, fallRadar] });
    expect(config.devices[0]).toEqual({
      ...radar,
      baudRate: 115200,
      model: 'MR60BHA1',
      firmware: 'G60SM1SYv010009',
      observationSetupMs: 20_000,
      vitals: {
        heartRateBpm: 68,
        breathRatePerMin: 15,
        inBed: true,
        heartRateVariationBpm: 3,
        breathRateVariationPerMin: 1,
      },
      faults: NO_FAULTS,
    });
    expect(config.devices[1]).toEqual({
      ...rflink,
      baudRate: 57600,
      repeatGapMs: 50,
      transmitters: [SOS],
      faults: NO_FAULTS,
    });
    expect(config.devices[2]).toEqual({
      ...fallRadar,
      baudRate: 115200,
      model: 'MR60FDA1',
      firmware: 'G60FD1SYv010104',
      residencyDelayMs: 200_000,
      present: true,
      faults: NO_FAULTS,
    });
  });

  it('reads the older `buttons` list as button transmitters', () => {
    const config = parse({
      devices: [
        {
          ...rflink,
          buttons: [{ name: 'sos', protocol: 'EV1527', id: '0d3e4', switch: '01' }],
          transmitters: [{ kind: 'pir', name: 'hall', id: '2b3c4', switch: '01' }],
        },
      ],
    });
    const rf = config.devices[0];
    expect(rf?.kind === 'rflink' && rf.transmitters.map((t) => [t.kind, t.name])).toEqual([
      ['button', 'sos'],
      ['pir', 'hall'],
    ]);
  });

  it('gives every transmitter kind its protocol default and checks that switch protocols have a switch', () => {
    const config = parse({
      devices: [
        {
          ...rflink,
          transmitters: [
            { kind: 'contact', name: 'door', id: '1a2b3', switch: '01' },
            { kind: 'smoke', name: 'smoke', id: '5e6f70' },
            { kind: 'pir', name: 'pir', protocol: 'Pir', id: 'aa66' },
            { kind: 'water', name: 'water', id: '3c4d5', switch: '01', dyingBattery: 5 },
          ],
        },
      ],
    });
    const rf = config.devices[0];
    if (rf?.kind !== 'rflink') throw new Error('expected rflink');
    expect(rf.transmitters.map((t) => t.protocol)).toEqual(['EV1527', 'FA20RF', 'Pir', 'EV1527']);
    expect(rf.transmitters[0]).toMatchObject({ sendsClose: true });
    expect(rf.transmitters[3]).toMatchObject({ dyingBattery: 5 });

    const found = problems({
      devices: [
        {
          ...rflink,
          transmitters: [
            { kind: 'gas', name: 'gas', id: '4d5e6' },
            { kind: 'button', name: 'b', protocol: 'FA20RF', id: '1', switch: '1' },
            { kind: 'siren', name: 's', id: '1' },
          ],
        },
      ],
    });
    expect(found).toContainEqual(
      expect.stringMatching(/^devices\.0\.transmitters\.0\.switch: a EV1527 transmitter needs a switch/),
    );
    expect(found).toContainEqual(expect.stringMatching(/^devices\.0\.transmitters\.1\.protocol:/));
    expect(found).toContainEqual(expect.stringMatching(/^devices\.0\.transmitters\.2\.kind:/));
  });

  it('validates zigbee and native devices', () => {
    const config = parse({
      zigbee2mqtt: { devices: [{ friendlyName: 'bathroom_sos', kind: 'sos_button' }] },
      native: { devices: [{ id: 'pendant', state: { battery: 90 } }] },
    });
    expect(config.zigbee2mqtt.devices[0]).toEqual({
      friendlyName: 'bathroom_sos',
      kind: 'sos_button',
      availability: 'json',
      battery: 100,
      linkquality: 120,
      occupancyTimeoutMs: 90_000,
      checkinIntervalMs: 0,
      dyingBattery: false,
    });
    expect(config.native.devices[0]).toEqual({
      id: 'pendant',
      state: { battery: 90 },
      stateIntervalMs: 0,
      dyingBattery: false,
    });

    const found = problems({
      mqtt: { url: 'http://x' },
      zigbee2mqtt: {
        baseTopic: 'z2m/#',
        devices: [
          { friendlyName: 'a', kind: 'motion', model: 'TS0215A_sos' },
          { friendlyName: 'b', kind: 'gas', dyingBattery: true },
          { friendlyName: 'c', kind: 'contact', availability: 'yes' },
        ],
      },
      native: {
        devices: [
          { id: 'Pendant' },
          { id: 'p2', state: { heart_rate: 'fast' } },
          { id: 'p3', state: { v: 1 } },
        ],
      },
    });
    const joined = found.join('\n');
    expect(joined).toContain('mqtt.url:');
    expect(joined).toContain('zigbee2mqtt.baseTopic:');
    expect(joined).toMatch(/zigbee2mqtt\.devices\.0\.model: not a motion model; known: RTCGQ11LM/);
    expect(joined).toMatch(/zigbee2mqtt\.devices\.1\.dyingBattery: HS1CG is mains-powered/);
    expect(joined).toContain('zigbee2mqtt.devices.2.availability:');
    expect(joined).toContain('native.devices.0.id:');
    expect(joined).toContain('native.devices.1.state.heart_rate:');
    expect(joined).toContain('native.devices.2.state:');
  });

  it('lists every problem with its path', () => {
    const found = problems({
      control: { port: 70000 },
      devices: [
        { ...radar, vitals: { heartRateBpm: 300 } },
        {
          ...rflink,
          id: 'bed-radar',
          hostPath: 'var/d/radar',
          buttons: [{ name: 'sos', protocol: 'X10x', id: 'a;b' }],
        },
        { ...radar, id: 'r2', kind: 'lidar' },
        { ...radar, id: 'r3', devicePath: 'a,b', hostPath: 'var/d/r3' },
        { ...fallRadar, residencyDelayMs: -1, faults: { noise: 2 } },
      ],
    });
    const joined = found.join('\n');
    expect(joined).toContain('control.port:');
    expect(joined).toContain('devices.0.vitals.heartRateBpm:');
    expect(joined).toContain('devices.1.buttons.0.protocol:');
    expect(joined).toContain('devices.1.buttons.0.id:');
    expect(joined).toContain('devices.1.buttons.0.switch:');
    expect(joined).toContain('devices.2.kind:');
    expect(joined).toContain('devices.3.devicePath:');
    expect(joined).toContain('devices.4.residencyDelayMs:');
    expect(joined).toContain('devices.4.faults.noise:');
  });

  it('rejects duplicate ids, paths and names (one namespace for the fault API)', () => {
    const found = problems({
      devices: [
        radar,
        { ...radar, devicePath: 'var/d/other' },
        { ...rflink, buttons: [{ name: 'sos', protocol: 'EV1527', id: '0d3e4', switch: '01' }] },
        {
          ...rflink,
          id: 'rflink2',
          devicePath: 'var/d/x',
          hostPath: 'var/d/y',
          buttons: [{ name: 'sos', protocol: 'EV1527', id: '0d3e5', switch: '01' }],
        },
      ],
      zigbee2mqtt: { devices: [{ friendlyName: 'rflink', kind: 'button' }] },
      native: { devices: [{ id: 'sos' }] },
    });
    expect(found).toContainEqual(expect.stringMatching(/^devices\.1\.id: duplicate id/));
    expect(found).toContainEqual(
      expect.stringMatching(/^devices\.1\.hostPath: path already used by devices\.0/),
    );
    expect(found).toContainEqual(
      expect.stringMatching(
        /^devices\.3\.transmitters\.0\.name: name already used by devices\.2\.transmitters\.0/,
      ),
    );
    expect(found).toContainEqual(
      expect.stringMatching(/^zigbee2mqtt\.devices\.0\.friendlyName: name already used by devices\.2/),
    );
    expect(found).toContainEqual(expect.stringMatching(/^native\.devices\.0\.id: name already used/));
  });

  it('loads the demo file, with environment overrides', () => {
    const config = loadSimConfig({
      file: 'config/demo/sim.yaml',
      env: {
        HOMEBED_SIM__CONTROL__PORT: '7400',
        HOMEBED_SIM__DEVICES__0__VITALS__HEART_RATE_BPM: '80',
        HOMEBED_SIM__DEVICES__1__HOST_PATH: '/tmp/x/rflink',
        HOMEBED_SIM__MQTT__URL: 'mqtt://127.0.0.1:18830',
      },
    });
    expect(config.control).toEqual({ host: '127.0.0.1', port: 7400 });
    expect(config.devices.map((d) => [d.id, d.kind, d.devicePath, d.hostPath])).toEqual([
      ['bed-radar', 'mr60bha1', 'var/demo/dev/sim-bed-radar', 'var/demo/dev/bed-radar'],
      ['rflink', 'rflink', 'var/demo/dev/sim-rflink', '/tmp/x/rflink'],
      ['fall-radar', 'mr60fda1', 'var/demo/dev/sim-fall-radar', 'var/demo/dev/fall-radar'],
    ]);
    const [bed, rf] = config.devices;
    expect(bed?.kind === 'mr60bha1' && bed.vitals.heartRateBpm).toBe(80);
    if (rf?.kind !== 'rflink') throw new Error('expected rflink second');
    expect(rf.transmitters[0]).toEqual(SOS);
    expect(rf.transmitters.map((t) => [t.name, t.kind, t.protocol, t.id, t.switch])).toEqual([
      ['sos', 'button', 'EV1527', '0d3e4', '01'],
      ['front-door', 'contact', 'EV1527', '1a2b3', '01'],
      ['hall-pir', 'pir', 'EV1527', '2b3c4', '01'],
      ['kitchen-smoke-rf', 'smoke', 'FA20RF', '5e6f70', undefined],
      ['bathroom-water', 'water', 'EV1527', '3c4d5', '01'],
      ['bedside-call', 'button', 'Keeloq', 'e311', '0A'],
    ]);
    expect(config.mqtt.url).toBe('mqtt://127.0.0.1:18830');
    expect(config.zigbee2mqtt.devices.map((d) => [d.friendlyName, d.kind, d.availability])).toEqual([
      ['bathroom_sos', 'sos_button', 'json'],
      ['hall_motion', 'motion', 'json'],
      ['kitchen_smoke', 'smoke', 'json'],
      ['bathroom_leak', 'water_leak', 'json'],
      ['balcony_door', 'contact', 'legacy'],
    ]);
    expect(config.native.devices.map((d) => d.id)).toEqual(['pendant']);
    // Without the override the demo file has no broker: the MQTT emulators stay off.
    expect(loadSimConfig({ file: 'config/demo/sim.yaml', env: {} }).mqtt.url).toBeUndefined();
  });

  it('builds control URLs, bracketing IPv6 hosts', () => {
    expect(controlUrl('127.0.0.1', 7390)).toBe('http://127.0.0.1:7390');
    expect(controlUrl('::1', 7390)).toBe('http://[::1]:7390');
  });
});
