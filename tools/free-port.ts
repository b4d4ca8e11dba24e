import { createServer } from 'node:net';

/**
 * Asks the kernel for a TCP port that is free right now on `host`.
 *
 * The port is only free at the moment of the call: another process may take it before the caller binds it,
 * so callers that start servers must handle "address already in use" (see `startPrivateInfluxd`).
 *
 * @param host address to bind; default `127.0.0.1` (tests never listen on public interfaces).
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    // A probe must never keep the event loop (and so a test run) alive.
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`freePort: unexpected server address ${String(address)}`));
        return;
      }
      const { port } = address;
      server.close((error) => (error ? reject(error) : resolve(port)));
    });
  });
}
