import { type ChildProcess, execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import {
  findServerBinary,
  pickPort,
  type ServerCleanup,
  type StartFailureReason,
  spawnServer,
  tcpAccepts,
  terminateServer,
} from './private-server.js';

/**
 * A private Mosquitto (Debian package `mosquitto`, binary /usr/sbin/mosquitto) for tests, the demo and
 * chaos runs: its own config, persistence and log in one folder, listening on 127.0.0.1 only, on a free
 * port. The system's Mosquitto (the service on 1883) is never touched.
 */

/** A running private Mosquitto started by {@link startPrivateMosquitto}. */
export interface PrivateMosquitto {
  /** `mqtt://127.0.0.1:<port>`. */
  url: string;
  /** Port on 127.0.0.1; never 1883 or 8883. Kept across `restart()`. */
  port: number;
  /** Folder holding the config, the persistence file and the log. */
  dir: string;
  /** Pid of the current mosquitto process (changes with `restart()`). */
  readonly pid: number;
  /** File receiving mosquitto's log (stderr). */
  logFile: string;
  /** The generated mosquitto.conf. */
  configFile: string;
  /**
   * Stops mosquitto (SIGTERM, which saves the persistence file; SIGKILL after 5 s), then removes `dir` unless
   * `keepData` was set. Safe to call more than once.
   */
  stop(): Promise<void>;
  /**
   * Stops mosquitto with SIGTERM (it saves its persistence file) and starts it again on the same port with
   * the same config and data; resolves when it accepts TCP connections again. Sessions, queued and in-flight
   * messages of persistent clients survive.
   */
  restart(): Promise<void>;
}

/** Options of {@link startPrivateMosquitto}. */
export interface StartPrivateMosquittoOptions {
  /** Folder for the config, data and log; created when missing, removed by `stop()` unless `keepData`. */
  dir: string;
  /** Port on 127.0.0.1; default a free port (then a port taken by a race is retried with another). */
  port?: number;
  /** Where mosquitto's log goes; default `<dir>/mosquitto.log`. */
  logFile?: string;
  /** Keep `dir` after `stop()`; default false. */
  keepData?: boolean;
  /** `allow_anonymous`; default true (Mosquitto 2 refuses anonymous clients unless told otherwise). */
  allowAnonymous?: boolean;
  /** `password_file` (make one with {@link writeMosquittoPasswordFile}). */
  passwordFile?: string;
  /** `acl_file`, e.g. `pattern write homebed/v1/gw/%u/+`. */
  aclFile?: string;
  /** `use_username_as_clientid`: a client cannot take over another's session by naming its client id. */
  useUsernameAsClientId?: boolean;
  /** `autosave_interval`: seconds between saves of the persistence file (also saved on SIGTERM); default 1. */
  autosaveIntervalS?: number;
  /** `max_queued_messages` per client beyond those in flight; default 100000 (Mosquitto's own is 1000). */
  maxQueuedMessages?: number;
  /** How long to wait for mosquitto to accept TCP connections; default 15000. */
  startTimeoutMs?: number;
  /** Binary; default `HOMEBED_MOSQUITTO`, else `mosquitto` found on PATH, /usr/sbin or /usr/bin. */
  binary?: string;
}

/** What goes into the generated config file. */
export interface MosquittoConfigOptions {
  port: number;
  /** Folder of the persistence file. */
  dataDir: string;
  allowAnonymous: boolean;
  passwordFile?: string | undefined;
  aclFile?: string | undefined;
  useUsernameAsClientId?: boolean | undefined;
  autosaveIntervalS: number;
  maxQueuedMessages: number;
  /** `user`: when started as root Mosquitto switches to this user (Debian's default `mosquitto` could not write `dataDir`). */
  user: string;
}

/** Why a private mosquitto could not be started. Retrying can help only for `port-in-use`. */
export class MosquittoStartError extends Error {
  override name = 'MosquittoStartError';
  /** Stable code for this error class. */
  readonly code = 'HOMEBED_MOSQUITTO_START';
  constructor(
    message: string,
    /** `not-installed`, `port-in-use`, `exited` or `timeout`. */
    readonly reason: StartFailureReason,
    /** Last lines of the mosquitto log. */
    readonly logTail: string,
  ) {
    super(logTail ? `${message}\n--- tail of mosquitto log ---\n${logTail}\n--- end of log ---` : message);
  }
}

const DEFAULT_START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5000;
const PORT_RETRIES = 3;
const POLL_MS = 50;
/** Ports of a system-wide Mosquitto (plain and TLS); a private instance must never use them. */
const RESERVED_PORTS = new Set([1883, 8883]);

/** The mosquitto binary: `HOMEBED_MOSQUITTO`, then PATH, /usr/sbin (where Debian installs it) and /usr/bin. */
export function findMosquitto(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return findServerBinary(['mosquitto'], env.HOMEBED_MOSQUITTO, env, ['/usr/sbin', '/usr/bin']);
}

/** Mosquitto's config syntax has no quoting: a value is the rest of the line. */
function configValue(value: string): string {
  if (/[\r\n]/.test(value) || value !== value.trim()) {
    throw new Error(`not usable in a mosquitto config line: ${JSON.stringify(value)}`);
  }
  return value;
}

/** The mosquitto.conf of a private instance: one listener on 127.0.0.1, persistence in `dataDir`, log to stderr. */
export function renderMosquittoConfig(options: MosquittoConfigOptions): string {
  const lines = [
    '# Generated by tools/mosquitto.ts for a private test/demo instance; do not edit.',
    `user ${configValue(options.user)}`,
    `listener ${options.port} 127.0.0.1`,
    `allow_anonymous ${options.allowAnonymous}`,
    ...(options.passwordFile ? [`password_file ${configValue(options.passwordFile)}`] : []),
    ...(options.aclFile ? [`acl_file ${configValue(options.aclFile)}`] : []),
    ...(options.useUsernameAsClientId ? ['use_username_as_clientid true'] : []),
    '',
    '# Sessions, subscriptions, queued and in-flight messages survive a restart (saved on SIGTERM too).',
    'persistence true',
    // The trailing slash is required: Mosquitto appends the file name to it.
    `persistence_location ${configValue(`${options.dataDir.replace(/\/+$/, '')}/`)}`,
    'persistence_file mosquitto.db',
    'autosave_on_changes false',
    `autosave_interval ${options.autosaveIntervalS}`,
    `max_queued_messages ${options.maxQueuedMessages}`,
    'set_tcp_nodelay true',
    '',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'connection_messages true',
    'log_timestamp true',
    'log_timestamp_format %Y-%m-%dT%H:%M:%S',
    '',
  ];
  return lines.join('\n');
}

/**
 * Writes a Mosquitto password file for `users` (name → password) with `mosquitto_passwd -b` (which
 * hashes them; the first call with `-c` creates the file).
 */
export async function writeMosquittoPasswordFile(
  file: string,
  users: Record<string, string>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const binary = findServerBinary(['mosquitto_passwd'], env.HOMEBED_MOSQUITTO_PASSWD, env, [
    '/usr/sbin',
    '/usr/bin',
  ]);
  if (!binary) {
    throw new MosquittoStartError(
      'mosquitto_passwd not found on PATH, /usr/sbin or /usr/bin: install the Debian package mosquitto',
      'not-installed',
      '',
    );
  }
  await mkdir(dirname(file), { recursive: true });
  const run = promisify(execFile);
  let first = true;
  for (const [user, password] of Object.entries(users)) {
    await run(binary, first ? ['-b', '-c', file, user, password] : ['-b', file, user, password]);
    first = false;
  }
}

/**
 * Starts a private Mosquitto in `options.dir` and resolves once it accepts TCP connections.
 *
 * @throws {MosquittoStartError} when mosquitto is missing, exits, or does not listen within the timeout;
 *   the message includes the tail of the log.
 */
export async function startPrivateMosquitto(
  options: StartPrivateMosquittoOptions,
): Promise<PrivateMosquitto> {
  const binary = options.binary ?? findMosquitto();
  if (!binary) {
    throw new MosquittoStartError(
      'mosquitto not found on PATH, /usr/sbin or /usr/bin: install the Debian package mosquitto ' +
        '(`npm test` does that) or set HOMEBED_MOSQUITTO',
      'not-installed',
      '',
    );
  }
  const { dir } = options;
  const logFile = options.logFile ?? join(dir, 'mosquitto.log');
  const keepData = options.keepData ?? false;
  const dataDir = join(dir, 'data');
  const configFile = join(dir, 'mosquitto.conf');
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  await mkdir(dataDir, { recursive: true });
  await mkdir(dirname(logFile), { recursive: true });

  for (let attempt = 0; ; attempt++) {
    const port = options.port ?? (await pickPort(RESERVED_PORTS));
    await writeFile(
      configFile,
      renderMosquittoConfig({
        port,
        dataDir,
        allowAnonymous: options.allowAnonymous ?? true,
        passwordFile: options.passwordFile,
        aclFile: options.aclFile,
        useUsernameAsClientId: options.useUsernameAsClientId,
        autosaveIntervalS: options.autosaveIntervalS ?? 1,
        maxQueuedMessages: options.maxQueuedMessages ?? 100_000,
        user: userInfo().username,
      }),
    );
    const started = await spawnAndWait({
      binary,
      configFile,
      logFile,
      port,
      timeoutMs,
      cleanup: { dir, keepData },
    });
    if ('child' in started) {
      return handle(started.child, { binary, configFile, logFile, port, timeoutMs, dir, keepData });
    }
    if (started.error.reason === 'port-in-use' && options.port === undefined && attempt < PORT_RETRIES)
      continue;
    if (!keepData) await rm(dir, { recursive: true, force: true });
    throw started.error;
  }
}

interface SpawnParams {
  binary: string;
  configFile: string;
  logFile: string;
  port: number;
  timeoutMs: number;
  /** What the exit hook does if this process exits while mosquitto runs. */
  cleanup: ServerCleanup;
}

function spawnAndWait(
  params: SpawnParams,
): Promise<{ child: ChildProcess } | { error: MosquittoStartError }> {
  const { port } = params;
  return spawnServer({
    name: 'mosquitto',
    binary: params.binary,
    args: ['-c', params.configFile],
    logFile: params.logFile,
    cleanup: params.cleanup,
    timeoutMs: params.timeoutMs,
    pollMs: POLL_MS,
    portInUse: /Error: Address already in use/,
    readiness: `accepting connections on 127.0.0.1:${port}`,
    // "running" is logged once every listener is open, so the port answering is ours.
    ready: async (log) => ({ ok: /mosquitto version \S+ running/.test(log) && (await tcpAccepts(port)) }),
    makeError: (message, reason, logTail) => new MosquittoStartError(message, reason, logTail),
  });
}

function handle(
  first: ChildProcess,
  info: Omit<SpawnParams, 'cleanup'> & { dir: string; keepData: boolean },
): PrivateMosquitto {
  let child = first;
  let stopped = false;
  let stopping: Promise<void> | undefined;
  let restarting: Promise<void> = Promise.resolve();
  const stop = async (): Promise<void> => {
    stopped = true;
    await restarting.catch(() => {});
    await terminateServer(child, STOP_GRACE_MS);
    if (!info.keepData) await rm(info.dir, { recursive: true, force: true, maxRetries: 3 });
  };
  const restart = async (): Promise<void> => {
    if (stopped) throw new Error('private mosquitto already stopped');
    await terminateServer(child, STOP_GRACE_MS);
    const started = await spawnAndWait({ ...info, cleanup: { dir: info.dir, keepData: info.keepData } });
    if ('error' in started) throw started.error;
    child = started.child;
  };
  return {
    url: `mqtt://127.0.0.1:${info.port}`,
    port: info.port,
    dir: info.dir,
    get pid() {
      return child.pid ?? -1;
    },
    logFile: info.logFile,
    configFile: info.configFile,
    stop: () => {
      stopping ??= stop();
      return stopping;
    },
    restart: () => {
      restarting = restarting.catch(() => {}).then(restart);
      return restarting;
    },
  };
}
