import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../common/config/load.js';
import { ConfigError } from '../../../common/errors.js';
import { controlUrl, loadSimConfig, simConfigSchema } from '../../../firmware-sim/config.js';

const radar = { id: 'bed-radar', kind: 'mr60bha1', devicePath: 'var/d/sim-radar', hostPath: 'var/d/radar' };
const rflink = { id: 'rflink', kind: 'rflink', devicePath: 'var/d/sim-rflink', hostPath: 'var/d/rflink' };

function problems(input: unknown): readonly string[] {
  try {
    validateConfig(simConfigSchema, input, 'test');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('simConfigSchema', () => {
  it('fills every default from an empty config', () => {
    expect(validateConfig(simConfigSchema, {}, 'test')).toEqual({
      control: { host: '127.0.0.1', port: 7390 },
      devices: [],
      seed: 1,
      log: { level: 'info', pretty: false },
    });
  });

  it('fills device defaults: radar at 115200 with a resting person in bed, RFLink at 57600 with an SOS button', () => {
    const config = validateConfig(simConfigSchema, { devices: [radar, rflink] }, 'test');
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
    });
    expect(config.devices[1]).toEqual({
      ...rflink,
      baudRate: 57600,
      repeatGapMs: 50,
      buttons: [{ name: 'sos', protocol: 'EV1527', id: '0d3e4', switch: '01', cmd: 'ON', repeats: 3 }],
    });
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
          buttons: [{ name: 'sos', protocol: 'X10', id: 'a;b' }],
        },
        { ...radar, id: 'r2', kind: 'lidar' },
        { ...radar, id: 'r3', devicePath: 'a,b', hostPath: 'var/d/r3' },
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
  });

  it('rejects duplicate ids, paths and button names', () => {
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
    });
    expect(found).toContainEqual(expect.stringMatching(/^devices\.1\.id: duplicate id/));
    expect(found).toContainEqual(
      expect.stringMatching(/^devices\.1\.hostPath: path already used by devices\.0/),
    );
    expect(found).toContainEqual(
      expect.stringMatching(/^devices\.3\.buttons\.0\.name: button name already used/),
    );
  });

  it('loads the demo file, with environment overrides', () => {
    const config = loadSimConfig({
      file: 'config/demo/sim.yaml',
      env: { HOMEBED_SIM__CONTROL__PORT: '7400', HOMEBED_SIM__DEVICES__0__VITALS__HEART_RATE_BPM: '80' },
    });
    expect(config.control).toEqual({ host: '127.0.0.1', port: 7400 });
    expect(config.devices.map((d) => [d.id, d.kind, d.devicePath, d.hostPath])).toEqual([
      ['bed-radar', 'mr60bha1', 'var/demo/dev/sim-bed-radar', 'var/demo/dev/bed-radar'],
      ['rflink', 'rflink', 'var/demo/dev/sim-rflink', 'var/demo/dev/rflink'],
    ]);
    const [bed, rf] = config.devices;
    expect(bed?.kind === 'mr60bha1' && bed.vitals.heartRateBpm).toBe(80);
    expect(rf?.kind === 'rflink' && rf.buttons).toEqual([
      { name: 'sos', protocol: 'EV1527', id: '0d3e4', switch: '01', cmd: 'ON', repeats: 3 },
    ]);
  });

  it('builds control URLs, bracketing IPv6 hosts', () => {
    expect(controlUrl('127.0.0.1', 7390)).toBe('http://127.0.0.1:7390');
    expect(controlUrl('::1', 7390)).toBe('http://[::1]:7390');
  });
});
