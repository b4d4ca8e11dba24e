import { readFileSync, statSync } from 'node:fs';
import { get } from 'node:http';
import { connect } from 'node:net';
import { freePort } from './free-port.js';

/**
 * What the private test/demo servers (InfluxDB, VictoriaMetrics, Mosquitto) share:
 * picking a port, probing an HTTP health path or a TCP port, and reading their log.
 */

/** A free port on 127.0.0.1 that is neither reserved (a system service's default) nor in `exclude`. */
export async function pickPort(
  reserved: ReadonlySet<number>,
  exclude: ReadonlySet<number> = new Set(),
): Promise<number> {
  for (;;) {
    const port = await freePort('127.0.0.1');
    if (!reserved.has(port) && !exclude.has(port)) return port;
  }
}

/** Status of GET `path` on 127.0.0.1:`port`, or undefined when nothing answers. */
export function httpStatus(port: number, path: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    // agent: false so no keep-alive socket outlives the probe.
    const request = get({ host: '127.0.0.1', port, path, agent: false, timeout: 1000 }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(undefined));
  });
}

/** Whether something accepts a TCP connection on 127.0.0.1:`port` (within 1 s). */
export function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

export function readLogSince(file: string, offset: number): string {
  try {
    return readFileSync(file).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

export function tail(log: string, lines = 30): string {
  return log.trimEnd().split('\n').slice(-lines).join('\n');
}
