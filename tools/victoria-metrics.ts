import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, rmSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { fileSize, httpStatus, pickPort, readLogSince, tail } from './private-server.js';

/** A running private VictoriaMetrics started by {@link startPrivateVictoriaMetrics}. */
export interface PrivateVictoriaMetrics {
  /** Base URL of the HTTP API, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  url: string;
  /** HTTP port on 127.0.0.1; never 8428. */
  port: number;
  /** Folder holding the storage folder and the log. */
  dir: string;
  /** Pid of the victoria-metrics process (for tests that check it is gone). */
  pid: number;
  /** File receiving victoria-metrics' stdout and stderr. */
  logFile: string;
  /** Stops victoria-metrics (SIGTERM, SIGKILL after 5 s), then removes `dir`. Safe to call more than once. */
  stop(): Promise<void>;
}

/** Options of {@link startPrivateVictoriaMetrics}. */
export interface StartPrivateVictoriaMetricsOptions {
  /** Folder for the storage and the log; created when missing, removed by `stop()`. */
  dir: string;
  /** HTTP port on 127.0.0.1; default a free port (then a port taken by a race is retried with another). */
  port?: number;
  /** How long to wait for `/health` to answer 200; default 30000. */
  startTimeoutMs?: number;
  /**
   * Binary; default `HOMEBED_VICTORIA_METRICS`, else `victoria-metrics` (Debian package `victoria-metrics`)
   * or `victoria-metrics-prod` (upstream release archives) found on PATH, /usr/bin or /usr/sbin.
   */
  binary?: string;
}

/** Why a private VictoriaMetrics could not be started. Retrying can help only for `port-in-use`. */
export class VictoriaMetricsStartError extends Error {
  override name = 'VictoriaMetricsStartError';
  /** Stable code for this error class. */
  readonly code = 'HOMEBED_VICTORIA_METRICS_START';
  constructor(
    message: string,
    /** `not-installed`, `port-in-use`, `exited` or `timeout`. */
    readonly reason: 'not-installed' | 'port-in-use' | 'exited' | 'timeout',
    /** Last lines of the log. */
    readonly logTail: string,
  ) {
    super(
      logTail ? `${message}\n--- tail of victoria-metrics log ---\n${logTail}\n--- end of log ---` : message,
    );
  }
}

const DEFAULT_START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5000;
const PORT_RETRIES = 3;
const POLL_MS = 100;
/** Default ports of a system-wide VictoriaMetrics / InfluxDB; a private instance must never use them. */
const RESERVED_PORTS = new Set([8428, 8086, 8088]);
const BINARY_NAMES = ['victoria-metrics', 'victoria-metrics-prod'];

/** Finds the binary: `HOMEBED_VICTORIA_METRICS`, then PATH, /usr/bin and /usr/sbin. */
export function findVictoriaMetrics(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.HOMEBED_VICTORIA_METRICS) {
    return env.HOMEBED_VICTORIA_METRICS;
  }
  const folders = [...(env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/usr/sbin'];
  for (const name of BINARY_NAMES) {
    for (const folder of folders) {
      const candidate = join(folder, name);
      try {
        accessSync(candidate, constants.X_OK);
        if (statSync(candidate).isFile()) {
          return candidate;
        }
      } catch {
        // not in this folder
      }
    }
  }
  return undefined;
}

/**
 * Command-line flags of a private instance: one HTTP listener on 127.0.0.1 (no graphite/opentsdb/influx UDP
 * listeners, which are off unless given an address), storage inside `dir`, no scraping (no
 * `-promscrape.config`, no self-scrape), so it makes no outbound connections.
 */
export function victoriaMetricsArgs(options: { dir: string; httpPort: number }): string[] {
  return [
    `-httpListenAddr=127.0.0.1:${options.httpPort}`,
    `-storageDataPath=${join(options.dir, 'data')}`,
    // Samples older than the retention period are silently dropped at ingestion; tests may write old data.
    '-retentionPeriod=100y',
    // Tests read back right after writing: a response cache would hide fresh samples.
    '-search.disableCache',
    '-selfScrapeInterval=0',
    '-loggerOutput=stderr',
  ];
}

/** Processes of this process, killed if it exits without stopping them (e.g. vitest on Ctrl-C). */
const running = new Map<ChildProcess, string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) {
    return;
  }
  exitHookInstalled = true;
  process.on('exit', () => {
    // Only synchronous work is possible here.
    for (const [child, dir] of running) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
      }
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // best effort while exiting
      }
    }
  });
}

/**
 * Starts a private VictoriaMetrics in `options.dir` and resolves once `GET /health` answers 200.
 *
 * @throws {VictoriaMetricsStartError} when the binary is missing, exits, or does not answer in time; the
 *   message includes the tail of the log.
 */
export async function startPrivateVictoriaMetrics(
  options: StartPrivateVictoriaMetricsOptions,
): Promise<PrivateVictoriaMetrics> {
  const binary = options.binary ?? findVictoriaMetrics();
  if (!binary) {
    throw new VictoriaMetricsStartError(
      'victoria-metrics not found on PATH, /usr/bin or /usr/sbin: install the Debian package victoria-metrics ' +
        '(`npm test` does that) or set HOMEBED_VICTORIA_METRICS',
      'not-installed',
      '',
    );
  }
  const { dir } = options;
  const logFile = join(dir, 'victoria-metrics.log');
  await mkdir(dir, { recursive: true });
  await mkdir(dirname(logFile), { recursive: true });

  for (let attempt = 0; ; attempt++) {
    const httpPort = options.port ?? (await pickPort(RESERVED_PORTS));
    const started = await spawnAndWait({
      binary,
      args: victoriaMetricsArgs({ dir, httpPort }),
      dir,
      logFile,
      httpPort,
      timeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
    });
    if ('child' in started) {
      return handle(started.child, { dir, logFile, port: httpPort });
    }
    const { error } = started;
    if (error.reason === 'port-in-use' && options.port === undefined && attempt < PORT_RETRIES) {
      continue;
    }
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function spawnAndWait(params: {
  binary: string;
  args: string[];
  dir: string;
  logFile: string;
  httpPort: number;
  timeoutMs: number;
}): Promise<{ child: ChildProcess } | { error: VictoriaMetricsStartError }> {
  const { binary, logFile, httpPort } = params;
  const logOffset = fileSize(logFile);
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    // -envflag.enable is off by default, so the caller's environment cannot change these flags.
    child = spawn(binary, params.args, { stdio: ['ignore', fd, fd], cwd: params.dir });
  } finally {
    closeSync(fd);
  }
  installExitHook();
  running.set(child, params.dir);
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
      running.delete(child);
      const log = readLogSince(logFile, logOffset);
      if (spawnError) {
        return {
          error: new VictoriaMetricsStartError(
            `could not run ${binary}: ${spawnError.message}`,
            'not-installed',
            '',
          ),
        };
      }
      const inUse = /address already in use/.test(log);
      return {
        error: new VictoriaMetricsStartError(
          inUse
            ? `victoria-metrics could not bind 127.0.0.1:${httpPort} (address already in use)`
            : `victoria-metrics exited with code ${child.exitCode ?? child.signalCode} before answering /health`,
          inUse ? 'port-in-use' : 'exited',
          tail(log),
        ),
      };
    }
    const status = await httpStatus(httpPort, '/health');
    // The log line proves that *our* process holds the port, not some other server answering /health.
    if (
      status === 200 &&
      !hasExited() &&
      readLogSince(logFile, logOffset).includes(`127.0.0.1:${httpPort}`)
    ) {
      return { child };
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      running.delete(child);
      return {
        error: new VictoriaMetricsStartError(
          `victoria-metrics did not answer GET http://127.0.0.1:${httpPort}/health with 200 within ` +
            `${params.timeoutMs} ms (last status: ${status ?? 'no answer'})`,
          'timeout',
          tail(readLogSince(logFile, logOffset)),
        ),
      };
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function handle(
  child: ChildProcess,
  info: { dir: string; logFile: string; port: number },
): PrivateVictoriaMetrics {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
    } else {
      child.once('exit', () => resolve());
    }
  });
  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    running.delete(child);
    await rm(info.dir, { recursive: true, force: true, maxRetries: 3 });
  };
  return {
    url: `http://127.0.0.1:${info.port}`,
    port: info.port,
    dir: info.dir,
    pid: child.pid ?? -1,
    logFile: info.logFile,
    stop: () => {
      stopping ??= stop();
      return stopping;
    },
  };
}
