import { describe, expect, it } from 'vitest';
import { runScenario } from '../../../firmware-sim/scenarios/runner.js';
import { parseScenario } from '../../../firmware-sim/scenarios/schema.js';

const scenario = parseScenario({
  name: 'quick',
  description: 'two steps a fraction of a second apart',
  start: '2026-11-24 14:00',
  end: '+1s',
  steps: [
    { at: '+0s', bedRadar: { inBed: false } },
    { at: '+0s', rf: { device: 'sos-button', action: 'press' } },
    { at: '+1s', fault: { device: 'bed-radar', action: 'silent' } },
  ],
  expect: [{ type: 'sos_button', deviceId: 'sos-button', window: ['+0s', '+1s'] }],
});

/** A stand-in for the simulator's control API and the cloud's alarm API. */
function fakeServers(options: { transmitters?: string[]; alarms?: (now: number) => unknown[] } = {}) {
  const calls: string[] = [];
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    if (url.pathname === '/state') {
      const transmitters = (options.transmitters ?? ['sos', 'cancel']).map((name) => ({ name }));
      return Response.json({
        devices: [{ id: 'bed-radar' }, { id: 'fall-radar' }, { id: 'rflink', state: { transmitters } }],
        zigbee2mqtt: null,
        native: [],
      });
    }
    if (url.pathname === '/api/alarms') {
      calls.push(`GET /api/alarms?${url.searchParams.toString()}`);
      return Response.json({ alarms: options.alarms?.(Date.now()) ?? [] });
    }
    calls.push(`${method} ${url.pathname} ${typeof init?.body === 'string' ? init.body : ''}`.trim());
    return Response.json({});
  }) as typeof fetch;
  return { calls, fetchFn };
}

describe('realtime runs', () => {
  it('set the initial state, then play each step through the control API at its time', async () => {
    const { calls, fetchFn } = fakeServers();
    const began = Date.now();
    const result = await runScenario(scenario, {
      mode: 'realtime',
      controlUrl: 'http://sim.test/',
      fetch: fetchFn,
    });
    expect(Date.now() - began).toBeGreaterThanOrEqual(900);
    expect(calls).toEqual([
      'POST /radar/bed-radar {"inBed":true,"heartRateBpm":68,"breathRatePerMin":15}',
      'POST /fall-radar/fall-radar {"action":"leave"}',
      'POST /radar/bed-radar {"inBed":false}',
      'POST /rf/sos {"action":"press"}',
      'POST /faults/bed-radar {"silent":true}',
    ]);
    expect(result).toMatchObject({ mode: 'realtime', comparison: null, ok: null });
  });

  it('refuse to start when the running simulator lacks a device the scenario drives', async () => {
    const { calls, fetchFn } = fakeServers({ transmitters: ['panic'] });
    await expect(
      runScenario(scenario, { mode: 'realtime', controlUrl: 'http://sim.test', fetch: fetchFn }),
    ).rejects.toThrow(/the running simulator has no sos \(kit sos-button\); it has: .*panic/);
    expect(calls).toEqual([]);
  });

  it('with a cloud URL, compare the cloud’s alarms of the run with the expectations moved to the real start', async () => {
    const alarm = (atMs: number) => ({
      id: 'a1',
      seq: 1,
      type: 'sos_button',
      severity: 'critical',
      state: 'raised',
      at: new Date(atMs).toISOString(),
      deviceId: 'sos-button',
    });
    let pressedAt = 0;
    const good = fakeServers({ alarms: () => [alarm(pressedAt)] });
    const fetchGood = (async (input: string | URL | Request, init?: RequestInit) => {
      if (String(input).endsWith('/rf/sos')) pressedAt = Date.now();
      return good.fetchFn(input, init);
    }) as typeof fetch;
    const ok = await runScenario(scenario, {
      mode: 'realtime',
      controlUrl: 'http://sim.test',
      cloudUrl: 'http://cloud.test',
      gatewayId: 'gw-demo-001',
      cloudDelayMs: 0,
      fetch: fetchGood,
    });
    expect(good.calls.at(-1)).toBe('GET /api/alarms?limit=1000&gatewayId=gw-demo-001');
    expect(ok.ok).toBe(true);

    // An alarm from before the run is not the run's; none of its own came, so one is missing.
    const stale = fakeServers({ alarms: (now) => [alarm(now - 3_600_000)] });
    const missing = await runScenario(scenario, {
      mode: 'realtime',
      controlUrl: 'http://sim.test',
      cloudUrl: 'http://cloud.test',
      cloudDelayMs: 0,
      fetch: stale.fetchFn,
    });
    expect(missing.ok).toBe(false);
    expect(missing.comparison?.differences.map((d) => d.kind)).toEqual(['missing']);
  });
});
