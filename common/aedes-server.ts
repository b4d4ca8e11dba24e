import { createServer, type Server } from 'node:net';
import type { Aedes } from 'aedes';

/** Serve an aedes broker over TCP; resolves with the bound port (0 = any free port). */
export async function listenAedes(
  broker: Aedes,
  host: string,
  port: number,
): Promise<{ server: Server; port: number }> {
  // No Nagle: MQTT messages are small and answered (PUBACK, the relay's `stored`); with Nagle and the peer's
  // delayed ACK an answer could wait ~40 ms (seen in bench/capacity as a 40-50 ms p99 floor).
  const server = createServer({ noDelay: true }, broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : port };
}

/** Disconnect every client, then stop listening. */
export async function closeAedes(broker: Aedes | null, server: Server | null): Promise<void> {
  if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
  if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
}
