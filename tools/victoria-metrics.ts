import type { ChildProcess } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  findServerBinary,
  httpStatus,
  pickPort,
  type StartFailureReason,
  spawnServer,
  terminateServer,
} from './private-server.js';

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
    readonly reason: StartFailureReason,
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
  return findServerBinary(BINARY_NAMES, env.HOMEBED_VICTORIA_METRICS, env);
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

function spawnAndWait(params: {
  binary: string;
  args: string[];
  dir: string;
  logFile: string;
  httpPort: number;
  timeoutMs: number;
}): Promise<{ child: ChildProcess } | { error: VictoriaMetricsStartError }> {
  const { httpPort } = params;
  return spawnServer({
    name: 'victoria-metrics',
    binary: params.binary,
    // -envflag.enable is off by default, so the caller's environment cannot change these flags.
    args: params.args,
    cwd: params.dir,
    logFile: params.logFile,
    cleanup: { dir: params.dir, keepData: false },
    timeoutMs: params.timeoutMs,
    pollMs: POLL_MS,
    portInUse: /address already in use/,
    readiness: `answering GET http://127.0.0.1:${httpPort}/health with 200`,
    ready: async (log) => {
      const status = await httpStatus(httpPort, '/health');
      // The log line proves that *our* process holds the port, not some other server answering /health.
      return {
        ok: status === 200 && log.includes(`127.0.0.1:${httpPort}`),
        detail: `last status: ${status ?? 'no answer'}`,
      };
    },
    makeError: (message, reason, logTail) => new VictoriaMetricsStartError(message, reason, logTail),
  });
}

function handle(
  child: ChildProcess,
  info: { dir: string; logFile: string; port: number },
): PrivateVictoriaMetrics {
  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    await terminateServer(child, STOP_GRACE_MS);
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
