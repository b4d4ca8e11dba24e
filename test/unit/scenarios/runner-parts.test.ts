import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../common/config/load.js';
import { simConfigSchema } from '../../../firmware-sim/config.js';
import { kitGatewayConfig, kitSimConfig, STANDARD_KIT } from '../../../firmware-sim/scenarios/kit.js';
import { planStops } from '../../../firmware-sim/scenarios/runner.js';
import { parseScenario } from '../../../firmware-sim/scenarios/schema.js';
import { type SettleChannel, Settler } from '../../../firmware-sim/scenarios/settle.js';
import { gatewayConfigSchema } from '../../../gateway/config/schema.js';

const CHUNKS = { quietChunkMs: 60_000, focusChunkMs: 5_000, focusMs: 180_000 };

describe('planStops', () => {
  const scenario = parseScenario({
    name: 'plan',
    description: 'x',
    start: '2026-11-24 01:00',
    end: '2026-11-24 02:00',
    steps: [
      { at: '+10m', rf: { device: 'sos-button', action: 'press' } },
      { at: '+30m', fault: { device: 'bed-radar', action: 'unplug' } },
    ],
  });
  const stops = planStops(scenario, CHUNKS);
  const rel = stops.map((t) => t - scenario.startMs);

  it('starts at the start, ends at the end, sorted and unique', () => {
    expect(rel[0]).toBe(0);
    expect(rel.at(-1)).toBe(3_600_000);
    expect(new Set(rel).size).toBe(rel.length);
    expect([...rel].sort((a, b) => a - b)).toEqual(rel);
  });

  it('lands on every step, lets an RF burst out in 100 ms steps, then moves 5 s at a time for 3 min', () => {
    const step = 600_000;
    expect(rel).toEqual(
      expect.arrayContaining([step, step + 100, step + 200, step + 300, step + 5_000, step + 180_000]),
    );
    expect(
      rel
        .filter((t) => t > step + 300 && t <= step + 180_000)
        .every((t) => (t - step) % 5_000 === 0 || t % 60_000 === 0),
    ).toBe(true);
  });

  it('moves in 250 ms steps for 10 s after an unplug, so a reopening port is seen before the 5 s deadline', () => {
    const step = 1_800_000;
    const fine = rel.filter((t) => t > step && t <= step + 10_000);
    expect(fine).toContain(step + 4_750);
    expect(fine).toContain(step + 5_000);
  });

  it('never leaves more than the quiet chunk between two stops (radars stay under their 90 s limit)', () => {
    const gaps = rel.slice(1).map((t, i) => t - rel[i]!);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(60_000);
  });
});

describe('Settler', () => {
  function fakeProbe(channels: SettleChannel[], signature = () => '') {
    return { channels: () => channels.map((c) => ({ ...c })), signature };
  }

  it('ends as soon as everything sent since the last settle has arrived', async () => {
    const ch = { name: 'bed', sent: 0, received: 0 };
    const settler = new Settler(fakeProbe([ch]), { quietMs: 1_000 });
    ch.sent = 5;
    setTimeout(() => {
      ch.received = 5;
    }, 5);
    const began = performance.now();
    expect(await settler.settle()).toBe('delivered');
    expect(performance.now() - began).toBeLessThan(500);
  });

  it('gives up after quietMs when units were lost, and does not carry the loss into the next settle', async () => {
    const ch = { name: 'bed', sent: 3, received: 1 };
    const settler = new Settler(fakeProbe([ch]), { quietMs: 20 });
    expect(await settler.settle()).toBe('quiet');
    ch.sent = 4;
    ch.received = 2;
    expect(await settler.settle()).toBe('delivered');
    expect(settler.stats).toMatchObject({ settles: 2, quiet: 1, delivered: 1 });
  });

  it('waits while the probe reports work in flight', async () => {
    let busy = true;
    setTimeout(() => {
      busy = false;
    }, 15);
    const settler = new Settler({ ...fakeProbe([]), busy: () => busy }, { quietMs: 1_000 });
    const began = performance.now();
    expect(await settler.settle()).toBe('delivered');
    expect(performance.now() - began).toBeGreaterThanOrEqual(10);
  });

  it('stops at maxMs when things keep moving', async () => {
    let n = 0;
    const settler = new Settler(
      fakeProbe([{ name: 'x', sent: 1, received: 0 }], () => String(n++)),
      {
        quietMs: 1_000,
        maxMs: 30,
      },
    );
    expect(await settler.settle()).toBe('timeout');
  });
});

describe('the standard kit', () => {
  const settings = {
    timeZone: 'Asia/Shanghai',
    dir: '/tmp/kit',
    mqttUrl: 'mqtt://127.0.0.1:1883',
    seed: 1,
    pendant: true,
    bedRadar: { observationSetupMs: 20_000, inBed: true, heartRateBpm: 68, breathRatePerMin: 15 },
    fallRadar: { present: false },
  };

  it('makes a simulator config and a gateway config their schemas accept', () => {
    const sim = validateConfig(simConfigSchema, kitSimConfig(settings), 'sim');
    const gateway = validateConfig(
      gatewayConfigSchema,
      kitGatewayConfig(settings, { fall: { confirmAfterMs: 30_000 } }),
      'gw',
    );
    expect(sim.devices.map((d) => d.id)).toEqual(['bed-radar', 'fall-radar', 'rflink']);
    expect(gateway.rules.fall.confirmAfterMs).toBe(30_000);
    // Every kit device with a gateway side is configured under its kit id; the simulator has it under simName.
    const gatewayIds = gateway.devices.map((d) => d.id);
    for (const d of STANDARD_KIT.filter((k) => k.gateway)) expect(gatewayIds).toContain(d.id);
    const rflink = sim.devices.find((d) => d.kind === 'rflink');
    const names = rflink?.kind === 'rflink' ? rflink.transmitters.map((t) => t.name) : [];
    expect(names).toEqual(['sos', 'cancel', 'front-door', 'hall-pir', 'kitchen-smoke-rf']);
    expect(sim.zigbee2mqtt.devices.map((d) => d.friendlyName)).toEqual(['bathroom_leak']);
    expect(sim.native.devices.map((d) => d.id)).toEqual(['pendant']);
  });

  it('pairs each RF transmitter at the address the simulator sends', () => {
    const sim = validateConfig(simConfigSchema, kitSimConfig(settings), 'sim');
    const gateway = validateConfig(gatewayConfigSchema, kitGatewayConfig(settings, undefined), 'gw');
    const rflink = sim.devices.find((d) => d.kind === 'rflink');
    for (const tx of rflink?.kind === 'rflink' ? rflink.transmitters : []) {
      const kit = STANDARD_KIT.find((d) => d.simName === tx.name);
      const device = gateway.devices.find((d) => d.id === kit?.id);
      expect(device?.address).toBe(`${tx.protocol}:${tx.id}:${tx.switch ?? ''}`);
    }
  });

  it('leaves the pendant out unless asked for', () => {
    const gateway = validateConfig(
      gatewayConfigSchema,
      kitGatewayConfig({ ...settings, pendant: false }, undefined),
      'gw',
    );
    expect(gateway.devices.map((d) => d.id)).not.toContain('pendant');
  });
});
