import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../common/clock.js';
import { validateConfig } from '../../common/config/load.js';
import { silentLogger } from '../../common/logger.js';
import { simConfigSchema } from '../../firmware-sim/config.js';
import { findScenario, listScenarioNames } from '../../firmware-sim/scenarios/catalog.js';
import { formatDifferences } from '../../firmware-sim/scenarios/compare.js';
import { kitSimConfig } from '../../firmware-sim/scenarios/kit.js';
import { runScenario } from '../../firmware-sim/scenarios/runner.js';
import { loadScenarioFile } from '../../firmware-sim/scenarios/schema.js';
import { formatLocal } from '../../firmware-sim/scenarios/time.js';
import { Simulator } from '../../firmware-sim/simulator.js';

/**
 * Every bundled scenario, accelerated, against the real simulator (PTYs via
 * socat, MQTT) and the real gateway with its care rules: each must produce
 * exactly its expected alarms, each in its window. Then the CLI, as a user
 * runs it.
 */

const REPO = join(import.meta.dirname, '../..');
const CLI = join(REPO, 'firmware-sim/cli.ts');
const SCENARIO_TIMEOUT_MS = 90_000;

describe('scenarios, accelerated, simulator → gateway → care rules', () => {
  for (const name of listScenarioNames()) {
    it(
      name,
      async () => {
        const scenario = findScenario(name);
        const result = await runScenario(scenario, { mode: 'accelerated' });
        const produced = result.alarms.map(
          (a) =>
            `${formatLocal(a.atMs, scenario.timeZone)} ${a.type} ${a.state} ${a.deviceId ?? '-'} ${a.severity}`,
        );
        const differences = result.comparison ? formatDifferences(result.comparison, scenario.timeZone) : [];
        // On failure the message shows what differs and everything the run produced.
        expect(differences, `produced:\n  ${produced.join('\n  ')}`).toEqual([]);
        expect(result.ok).toBe(true);
      },
      SCENARIO_TIMEOUT_MS,
    );
  }
});

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run sim -- …` without npm: node with the tsx loader, from the repo root as npm would. */
function sim(args: string[]): Promise<CliResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: REPO,
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('npm run sim -- scenario', () => {
  it('list prints one bundled scenario name per line', async () => {
    const { code, stdout } = await sim(['scenario', 'list']);
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toEqual(listScenarioNames());
  });

  it(
    '<name> --accelerated --check plays it and exits 0 when exactly the expected alarms came',
    async () => {
      const { code, stdout, stderr } = await sim([
        'scenario',
        'fall-not-recovered',
        '--accelerated',
        '--check',
      ]);
      expect(stderr).toBe('');
      expect(stdout).toMatch(/^scenario fall-not-recovered \(accelerated, .*\): 4 alarm messages$/m);
      expect(stdout).toMatch(/^ {2}2026-11-24 14:11:00 {2}fall_confirmed raised +fall-radar {2}critical$/m);
      expect(stdout).toMatch(/^PASS: exactly the 4 expected alarm messages, each in its window$/m);
      expect(code).toBe(0);
    },
    SCENARIO_TIMEOUT_MS,
  );

  it('an unknown scenario is a usage error (exit 2) naming the known ones', async () => {
    const { code, stderr } = await sim(['scenario', 'no-such-scenario', '--accelerated']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/no scenario named "no-such-scenario"; known: .*normal-night/);
  });
});

describe('realtime', () => {
  it('plays a scenario file at wall-clock pace through a running simulator’s control API', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'homebed-scenario-realtime-'));
    // The kit's serial devices only: no gateway (and so no broker) in this test.
    const {
      mqtt: _mqtt,
      zigbee2mqtt: _z,
      native: _n,
      ...serialOnly
    } = kitSimConfig({
      timeZone: 'Asia/Shanghai',
      dir,
      mqttUrl: 'mqtt://127.0.0.1:1',
      seed: 1,
      pendant: false,
      bedRadar: { observationSetupMs: 0, inBed: true, heartRateBpm: 68, breathRatePerMin: 15 },
      fallRadar: { present: false },
    });
    const sim = new Simulator(validateConfig(simConfigSchema, serialOnly, 'sim'), {
      clock: systemClock,
      logger: silentLogger(),
    });
    try {
      const { controlUrl } = await sim.start();
      const file = join(dir, 'short-evening.yaml');
      writeFileSync(
        file,
        [
          'name: short-evening',
          'description: out of bed, to the bathroom, a fall',
          'start: 2026-11-23 21:00',
          'end: +2s',
          'steps:',
          '  - { at: +0s, bedRadar: { inBed: false } }',
          '  - { at: +1s, rf: { device: front-door, action: open } }',
          '  - { at: +2s, fallRadar: fall }',
        ].join('\n'),
      );
      const lines: string[] = [];
      const began = Date.now();
      const result = await runScenario(loadScenarioFile(file), {
        mode: 'realtime',
        controlUrl,
        onEvent: (line) => lines.push(line),
      });
      expect(Date.now() - began).toBeGreaterThanOrEqual(1_900);
      expect(result.ok).toBeNull();
      expect(lines.slice(1)).toEqual([
        '+0s (2026-11-23 21:00:00)  bedRadar inBed=false',
        '+1s (2026-11-23 21:00:01)  rf front-door open',
        '+2s (2026-11-23 21:00:02)  fallRadar fall',
      ]);
      const state = sim.state() as {
        devices: {
          id: string;
          state: { inBed?: boolean; fallen?: boolean; transmitters?: { name: string; events: number }[] };
        }[];
      };
      const byId = (id: string) => state.devices.find((d) => d.id === id)?.state;
      expect(byId('bed-radar')?.inBed).toBe(false);
      expect(byId('fall-radar')?.fallen).toBe(true);
      expect(byId('rflink')?.transmitters?.find((t) => t.name === 'front-door')?.events).toBe(1);
    } finally {
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
