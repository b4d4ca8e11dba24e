import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManagedChild } from '../../tools/child-processes.js';
import { Programs } from '../support/programs.js';
import { waitFor } from '../support/relay.js';

const CONFIRM_MS = 6_000;

/**
 * The gateway is killed with SIGKILL in the middle of a rule's wait (a fall
 * waiting to be confirmed) and started again: the alarm still fires, at its
 * original deadline or at once if that has passed, and exactly once.
 */
describe('a rule timer survives SIGKILL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'homebed-restart-'));
  const programs = new Programs(dir);
  let secret: string;
  const config = () =>
    [
      'gatewayId: gw-restart',
      'bedId: bed-restart',
      `dataDir: ${join(dir, 'gateway')}`,
      'cloud:',
      '  secret: placeholder-overridden',
      '  retransmitInitialMs: 500',
      'serialPorts:',
      `  - { id: fall-port, path: ${join(dir, 'dev/fall')}, protocol: seeed }`,
      'devices:',
      '  - { id: fall-radar, kind: mr60fda1, role: fall_radar, room: bathroom, link: fall-port }',
      'rules:',
      `  fall: { confirmAfterMs: ${CONFIRM_MS} }`,
      'log: { level: info }',
      '',
    ].join('\n');
  const startGateway = (name: string): Promise<ManagedChild> =>
    programs.startGateway(name, config(), { HOMEBED_GATEWAY__CLOUD__SECRET: secret });

  beforeAll(async () => {
    secret = await programs.startCloud('gw-restart');
    await programs.startSim([
      {
        id: 'fall-radar',
        kind: 'mr60fda1',
        devicePath: join(dir, 'dev/sim-fall'),
        hostPath: join(dir, 'dev/fall'),
        // Residency would confirm the fall by itself; keep it out of the way so the timer decides.
        residencyDelayMs: 600_000,
      },
    ]);
  });

  afterAll(async () => {
    await programs.stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  const count = async (type: string, state = 'raised') =>
    (await programs.alarms()).filter((a) => a.type === type && a.state === state);

  it('killed before the deadline and back before it: fires at the original deadline', async () => {
    const first = await startGateway('gateway-1');
    await programs.control('/fall-radar/fall-radar', { action: 'fall' });
    const [suspected] = await waitFor(
      async () => {
        const s = await count('fall_suspected');
        return s.length === 1 ? s : null;
      },
      10_000,
      'fall_suspected',
    );
    await first.stop('SIGKILL');
    await startGateway('gateway-2');
    const [confirmed] = await waitFor(
      async () => {
        const c = await count('fall_confirmed');
        return c.length === 1 ? c : null;
      },
      20_000,
      'fall_confirmed after restart',
    );
    expect(Date.parse(confirmed!.at) - Date.parse(suspected!.at)).toBe(CONFIRM_MS);
  });

  it('killed across the deadline: fires at once on start, with the original deadline, exactly once', async () => {
    await programs.control('/fall-radar/fall-radar', { action: 'get_up' });
    await waitFor(
      async () => (await count('fall_confirmed', 'cleared')).length === 1,
      10_000,
      'confirmed cleared',
    );
    await programs.control('/fall-radar/fall-radar', { action: 'fall' });
    await waitFor(async () => (await count('fall_suspected')).length === 2, 10_000, 'second fall_suspected');
    const suspected = (await count('fall_suspected')).sort((a, b) => a.seq - b.seq)[1]!;
    const running = programs.children.find((c) => c.name === 'gateway-2')!;
    await running.stop('SIGKILL');
    // Stay down past the deadline.
    await new Promise((r) => setTimeout(r, CONFIRM_MS + 1_000));
    const restartedAt = Date.now();
    await startGateway('gateway-3');
    const confirmed = await waitFor(
      async () => {
        const c = await count('fall_confirmed');
        return c.length === 2 ? c.sort((a, b) => a.seq - b.seq)[1] : null;
      },
      20_000,
      'second fall_confirmed',
    );
    expect(Date.parse(confirmed!.at) - Date.parse(suspected.at)).toBe(CONFIRM_MS);
    expect(Date.parse(confirmed!.receivedAt)).toBeGreaterThanOrEqual(restartedAt);
    // And never twice: wait a little longer and count again.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await count('fall_confirmed')).toHaveLength(2);
    const ids = (await programs.alarms()).map((a) => a.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
