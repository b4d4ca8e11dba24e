import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { get } from 'node:http';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { freePort } from './free-port.js';

/**
 * What the private test/demo servers (InfluxDB, VictoriaMetrics, Mosquitto) share:
 * finding the binary, picking a port, starting with a log and waiting until ready, stopping,
 * killing what is left when this process exits, probing an HTTP path or a TCP port.
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

/**
 * A program's binary: `override` (a HOMEBED_* variable) if given, else the first of `names` found executable
 * on PATH or in `extraFolders` (sbin folders are often missing from a normal user's PATH).
 */
export function findServerBinary(
  names: readonly string[],
  override: string | undefined,
  env: NodeJS.ProcessEnv,
  extraFolders: readonly string[] = ['/usr/bin', '/usr/sbin'],
): string | undefined {
  if (override) return override;
  const folders = [...(env.PATH ?? '').split(delimiter).filter(Boolean), ...extraFolders];
  for (const name of names) {
    for (const folder of folders) {
      const candidate = join(folder, name);
      try {
        accessSync(candidate, constants.X_OK);
        if (statSync(candidate).isFile()) return candidate;
      } catch {
        // not in this folder
      }
    }
  }
  return undefined;
}

/** What the exit hook does for a server this process started: remove its folder unless told to keep it. */
export interface ServerCleanup {
  dir: string;
  keepData: boolean;
}

/** Why a private server could not be started; retrying can help only for `port-in-use`. */
export type StartFailureReason = 'not-installed' | 'port-in-use' | 'exited' | 'timeout';

/** Private servers of this process, killed (and their folders removed) if it exits without stopping them. */
const liveServers = new Map<ChildProcess, ServerCleanup>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    // Only synchronous work is possible here (e.g. vitest exiting on Ctrl-C).
    for (const [child, { dir, keepData }] of liveServers) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (keepData) continue;
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // best effort while exiting
      }
    }
  });
}

export interface SpawnServerParams<E> {
  /** Program name for messages (`influxd`). */
  name: string;
  binary: string;
  args: readonly string[];
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  cleanup: ServerCleanup;
  timeoutMs: number;
  pollMs: number;
  /** A log line that says the port was taken. */
  portInUse: RegExp;
  /** What the server must do to be ready, for messages (`answering /ping`). */
  readiness: string;
  /**
   * Whether it is ready, given its log so far; `detail` goes into the timeout message. Must prove the
   * server is *ours* (a log line naming the port), not some other one answering on it.
   */
  ready: (log: string) => Promise<{ ok: boolean; detail?: string }>;
  makeError: (message: string, reason: StartFailureReason, logTail: string) => E;
}

/**
 * Start a server with its output appended to `logFile` and wait until `ready`; on failure the child is
 * gone and the error says why (missing binary, port in use, early exit, timeout) with the log's tail.
 */
export async function spawnServer<E>(
  params: SpawnServerParams<E>,
): Promise<{ child: ChildProcess } | { error: E }> {
  const { name, binary, logFile } = params;
  const logOffset = fileSize(logFile);
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(binary, params.args, {
      stdio: ['ignore', fd, fd],
      ...(params.cwd ? { cwd: params.cwd } : {}),
      ...(params.env ? { env: params.env } : {}),
    });
  } finally {
    closeSync(fd);
  }
  installExitHook();
  liveServers.set(child, params.cleanup);
  let spawnError: Error | undefined;
  child.on('error', (error) => {
    spawnError = error;
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const hasExited = (): boolean =>
    spawnError !== undefined || child.exitCode !== null || child.signalCode !== null;
  const deadline = Date.now() + params.timeoutMs;
  for (;;) {
    if (hasExited()) {
      liveServers.delete(child);
      if (spawnError) {
        return {
          error: params.makeError(`could not run ${binary}: ${spawnError.message}`, 'not-installed', ''),
        };
      }
      const log = readLogSince(logFile, logOffset);
      const inUse = params.portInUse.exec(log);
      return {
        error: params.makeError(
          inUse
            ? `${name} could not bind (${inUse[0]})`
            : `${name} exited with code ${child.exitCode ?? child.signalCode} before ${params.readiness}`,
          inUse ? 'port-in-use' : 'exited',
          tail(log),
        ),
      };
    }
    const ready = await params.ready(readLogSince(logFile, logOffset));
    if (ready.ok && !hasExited()) return { child };
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      liveServers.delete(child);
      return {
        error: params.makeError(
          `${name} was not ${params.readiness} within ${params.timeoutMs} ms${ready.detail ? ` (${ready.detail})` : ''}`,
          'timeout',
          tail(readLogSince(logFile, logOffset)),
        ),
      };
    }
    await new Promise((resolve) => setTimeout(resolve, params.pollMs));
  }
}

/** SIGTERM, SIGKILL after `graceMs`, and forget the server; resolves once it has exited. */
export async function terminateServer(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
  liveServers.delete(child);
}
