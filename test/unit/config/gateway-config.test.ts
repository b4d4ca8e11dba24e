import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyEnvOverrides, envSegmentToKey, loadConfig } from '../../../common/config/load.js';
import { ConfigError } from '../../../common/errors.js';
import { loadGatewayConfig } from '../../../gateway/config/load.js';
import { gatewayConfigSchema } from '../../../gateway/config/schema.js';

function writeTemp(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'homebed-config-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

const MINIMAL = `
gatewayId: gw-1
bedId: bed-1
cloud:
  secret: supersecret
`;

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('gateway configuration', () => {
  it('fills every default from the one schema', () => {
    const cfg = loadGatewayConfig(writeTemp('g.yaml', MINIMAL), {});
    expect(cfg.timeZone).toBe('Asia/Shanghai');
    expect(cfg.cloud.url).toBe('mqtt://127.0.0.1:1884');
    expect(cfg.cloud.heartbeatIntervalS).toBe(30);
    expect(cfg.influx.batchSize).toBe(500);
    expect(cfg.rules.sos.repeatWindowMs).toBe(3000);
    expect(cfg.log).toEqual({ level: 'info', pretty: false });
  });

  it('reads JSON as well as YAML', () => {
    const file = writeTemp(
      'g.json',
      JSON.stringify({ gatewayId: 'gw-2', bedId: 'b', cloud: { secret: '12345678' } }),
    );
    expect(loadGatewayConfig(file, {}).gatewayId).toBe('gw-2');
  });

  it('lists every problem as "path: message (got value)" and hides secrets', () => {
    const file = writeTemp(
      'bad.yaml',
      `
gatewayId: "bad id!"
cloud:
  secret: short
  heartbeatIntervalS: 1
timeZone: Mars/Olympus
serialPorts:
  - id: radar
    path: /dev/ttyUSB0
    protocol: zigbee
devices:
  - id: sos
    kind: rf_button
    role: sos_button
    link: nowhere
`,
    );
    const problems = problemsOf(() => loadGatewayConfig(file, {}));
    expect(problems).toContain(
      'gatewayId: must be 1-64 letters, digits, "_", "." or "-", starting with a letter or digit (got "bad id!")',
    );
    expect(problems.some((p) => p.startsWith('bedId: ') && p.endsWith('(got nothing)'))).toBe(true);
    expect(problems).toContain('cloud.secret: must be at least 8 characters (got [redacted])');
    expect(problems.some((p) => p.startsWith('cloud.heartbeatIntervalS: ') && p.endsWith('(got 1)'))).toBe(
      true,
    );
    expect(problems).toContain(
      'timeZone: must be an IANA time zone such as Asia/Shanghai (got "Mars/Olympus")',
    );
    expect(
      problems.some((p) => p.startsWith('serialPorts.0.protocol: ') && p.endsWith('(got "zigbee")')),
    ).toBe(true);
    expect(problems.join('\n')).not.toContain('short');
  });

  it('checks references between devices and ports', () => {
    const file = writeTemp(
      'refs.yaml',
      `${MINIMAL}
serialPorts:
  - { id: radar, path: /dev/a, protocol: seeed }
  - { id: radar, path: /dev/b, protocol: rflink }
devices:
  - { id: sos, kind: rf_button, role: sos_button, link: nowhere, address: "EV1527:1:01" }
  - { id: sos2, kind: rf_button, role: sos_button, link: radar }
`,
    );
    const problems = problemsOf(() => loadGatewayConfig(file, {}));
    expect(problems).toContain('serialPorts.1.id: duplicate id (got "radar")');
    expect(problems).toContain('devices.0.link: no serial port with this id (got "nowhere")');
    expect(problems).toContain('devices.1.address: radio devices need an address (got nothing)');
  });

  it('reports an unreadable or unparsable file precisely', () => {
    expect(problemsOf(() => loadGatewayConfig('/nonexistent/gw.yaml', {}))).toEqual([
      '(file): cannot read (ENOENT)',
    ]);
    const broken = writeTemp('broken.json', '{"gatewayId": ');
    expect(problemsOf(() => loadGatewayConfig(broken, {}))[0]).toMatch(/^\(file\): not valid json: /);
  });

  it('applies environment overrides by path, typed as JSON when possible', () => {
    const cfg = loadGatewayConfig(
      writeTemp('g.yaml', `${MINIMAL}\nserialPorts:\n  - { id: r, path: /dev/a, protocol: seeed }\n`),
      {
        HOMEBED_GATEWAY__CLOUD__HEARTBEAT_INTERVAL_S: '15',
        HOMEBED_GATEWAY__CLOUD__URL: 'mqtt://cloud.example:1884',
        HOMEBED_GATEWAY__SERIAL_PORTS__0__PATH: '/dev/serial/by-id/usb-radar',
        HOMEBED_GATEWAY__LOG__PRETTY: 'true',
        UNRELATED: 'x',
      },
    );
    expect(cfg.cloud.heartbeatIntervalS).toBe(15);
    expect(cfg.cloud.url).toBe('mqtt://cloud.example:1884');
    expect(cfg.serialPorts[0]?.path).toBe('/dev/serial/by-id/usb-radar');
    expect(cfg.log.pretty).toBe(true);
  });

  it('reports a bad override with the same path format', () => {
    const problems = problemsOf(() =>
      loadConfig(gatewayConfigSchema, {
        file: writeTemp('g.yaml', MINIMAL),
        env: { HOMEBED_GATEWAY__INFLUX__BATCH_SIZE: '"lots"' },
        envPrefix: 'HOMEBED_GATEWAY',
      }),
    );
    expect(problems).toEqual([
      'influx.batchSize: Invalid input: expected number, received string (got "lots")',
    ]);
  });

  it('maps env segments to camelCase keys and numeric segments to array indexes', () => {
    expect(envSegmentToKey('HEARTBEAT_INTERVAL_S')).toBe('heartbeatIntervalS');
    expect(applyEnvOverrides({}, { P__A__0__B_C: '1' }, 'P')).toEqual({ a: [{ bC: 1 }] });
  });
});
