import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InfluxdStartError, startPrivateInfluxd } from '../../../tools/influxd.js';

/** Ports freePort() hands out before falling back to the real implementation. */
const scriptedPorts: number[] = [];

vi.mock('../../../tools/free-port.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../../tools/free-port.js')>();
  return {
    freePort: async (host?: string): Promise<number> => scriptedPorts.shift() ?? actual.freePort(host),
  };
});

const servers: Server[] = [];

/** A port held by another listener, as if someone took it between freePort() and influxd's bind. */
async function takenPort(): Promise<number> {
  // Hang up on every connection, or a probe's socket would keep server.close() waiting.
  const server = createServer((socket) => socket.destroy());
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error('no port');
  }
  return address.port;
}

afterEach(async () => {
  scriptedPorts.length = 0;
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

const tempDir = (): Promise<string> => mkdtemp(join(tmpdir(), 'homebed-influxd-race-'));

describe('startPrivateInfluxd when a port is taken by a race', () => {
  it('retries with a new HTTP port', async () => {
    const taken = await takenPort();
    scriptedPorts.push(taken);
    const influxd = await startPrivateInfluxd({ dir: await tempDir() });
    try {
      expect(influxd.port).not.toBe(taken);
      expect((await fetch(`${influxd.url}/ping`)).status).toBe(204);
    } finally {
      await influxd.stop();
    }
  });

  it('retries with a new RPC (backup) port', async () => {
    const taken = await takenPort();
    const httpPort = await takenPort();
    // Free the would-be HTTP port again: only the RPC port stays taken.
    await new Promise((resolve) => servers.pop()?.close(resolve));
    scriptedPorts.push(httpPort, taken);
    const influxd = await startPrivateInfluxd({ dir: await tempDir() });
    try {
      expect((await fetch(`${influxd.url}/ping`)).status).toBe(204);
    } finally {
      await influxd.stop();
    }
  });

  it('gives up after 3 retries with an error that includes the log', async () => {
    const taken = await takenPort();
    // 1 attempt + 3 retries, each taking an HTTP and an RPC port.
    for (let attempt = 0; attempt < 4; attempt++) {
      scriptedPorts.push(taken, await takenPort());
    }
    const error = await startPrivateInfluxd({ dir: await tempDir() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfluxdStartError);
    expect((error as InfluxdStartError).reason).toBe('port-in-use');
    expect((error as InfluxdStartError).message).toMatch(/address already in use[\s\S]*tail of influxd log/);
  });

  it('does not move an explicitly requested port', async () => {
    const taken = await takenPort();
    const error = await startPrivateInfluxd({ dir: await tempDir(), port: taken }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfluxdStartError);
    expect((error as InfluxdStartError).message).toContain(
      `127.0.0.1:${taken}: bind: address already in use`,
    );
  });
});
