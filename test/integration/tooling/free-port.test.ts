import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../../tools/free-port.js';

describe('freePort', () => {
  it('returns a port that can be bound right away on 127.0.0.1', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(1023);
    expect(port).toBeLessThan(65536);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  });

  it('rejects for an address this machine does not have', async () => {
    await expect(freePort('192.0.2.1')).rejects.toThrow(/EADDRNOTAVAIL/);
  });
});
