// One command from a fresh clone: `node tools/bootstrap.mjs <demo|test|chaos|bench> [args...]` (also `npm run demo`,
// `npm test`). Runs before node_modules exists, so: plain JavaScript, Node built-ins only, and no syntax
// newer than what an old Node can parse far enough to print the version message.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root: the folder above tools/. */
export const REPO_ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

/** Written into node_modules after a successful `npm ci`; see {@link installReason}. */
export const STAMP_FILE_NAME = '.homebed-lockfile.sha256';

/**
 * Programs from Debian packages that the tests or the demo need, and why. Add a row for a new need
 * (e.g. `{ binary: 'chromium', aptPackage: 'chromium', neededFor: ['test'], why: '...' }`); `aptPackage` may name several packages, space-separated.
 * @type {ReadonlyArray<{ binary: string, aptPackage: string, neededFor: ReadonlyArray<string>, why: string }>}
 */
export const SYSTEM_PACKAGES = [
  {
    binary: 'influxd',
    aptPackage: 'influxdb',
    neededFor: ['demo', 'test', 'chaos', 'bench'],
    why: 'private InfluxDB 1.x for integration/e2e tests and the demo',
  },
  {
    binary: 'socat',
    aptPackage: 'socat',
    neededFor: ['demo', 'test', 'bench'],
    why: 'virtual serial ports (PTY pairs)',
  },
  {
    // Only the binary is used: tests start private instances on free ports (tools/mosquitto.ts). Installing
    // the package may start Debian's own service on 1883; nothing here starts, stops or configures it.
    binary: 'mosquitto',
    aptPackage: 'mosquitto',
    neededFor: ['test', 'chaos', 'bench'],
    why: 'private Mosquitto brokers for the relay-through-an-external-broker tests (also mosquitto_passwd)',
  },
  {
    binary: 'victoria-metrics',
    aptPackage: 'victoria-metrics',
    neededFor: ['test'],
    why: 'private VictoriaMetrics: the InfluxDB 2.x write API (/api/v2/write) for the 2.x sink contract tests',
  },
  {
    // Driven by playwright-core (no browser download): the web console's tests run in the distribution's
    // Chromium. fonts-noto-cjk comes along so screenshots show Chinese, not boxes.
    binary: 'chromium',
    aptPackage: 'chromium fonts-noto-cjk',
    neededFor: ['test'],
    why: 'the web console tests in a real browser (playwright-core)',
  },
];

/** Folders searched after PATH: sbin folders are often missing from a normal user's PATH. */
const EXTRA_BIN_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Signals passed on to the child; see {@link runChild}. */
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * The same signal arriving twice within this window is one user action delivered twice (the terminal
 * signals `npm` and us, and `npm` passes it on to us again), so it is forwarded once.
 */
const DUPLICATE_SIGNAL_WINDOW_MS = 300;

const log = (message) => console.log(`[homebed] ${message}`);

/** Thrown for problems the user must fix; printed without a stack trace. */
export class BootstrapError extends Error {
  constructor(message) {
    super(message);
    this.name = 'BootstrapError';
  }
}

/**
 * Minimum Node version from package.json `engines.node` (`>=20.19` style); `20.0.0` when absent or in a
 * form this simple reader does not understand.
 * @param {unknown} packageJson parsed package.json
 * @returns {[number, number, number]}
 */
export function minimumNodeVersion(packageJson) {
  const range =
    packageJson && typeof packageJson === 'object' && packageJson.engines
      ? packageJson.engines.node
      : undefined;
  const match = typeof range === 'string' ? /^\s*>=\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*$/.exec(range) : null;
  if (!match) {
    return [20, 0, 0];
  }
  return [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)];
}

/**
 * Error message when `version` (e.g. `v20.19.1`) is older than `minimum`, else undefined.
 * @param {string} version
 * @param {[number, number, number]} minimum
 */
export function nodeVersionProblem(version, minimum) {
  const parts = version.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const have = parts[i] ?? 0;
    if (have > minimum[i]) {
      return undefined;
    }
    if (have < minimum[i]) {
      return `Node ${minimum.join('.')} or newer is needed, this is ${version} (${process.execPath}). Install a newer Node (e.g. with nvm) and try again.`;
    }
  }
  return undefined;
}

/**
 * sha256 (hex) of a file's bytes.
 * @param {string} file
 */
export function sha256File(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/**
 * What the stamp records besides the lockfile hash: native addons (better-sqlite3, serialport) are built
 * for one Node ABI and platform, so switching between Node 20/22/24 must reinstall too.
 */
export function runtimeId() {
  return `node-abi-${process.versions.modules} ${process.platform}-${process.arch}`;
}

/**
 * Why `npm ci` must run, or undefined when node_modules is up to date. Stale = the sha256 of
 * package-lock.json differs from the first line of the stamp, or the stamp's runtime line differs.
 * @param {{ root: string, runtime?: string }} options
 * @returns {string | undefined}
 */
export function installReason({ root, runtime = runtimeId() }) {
  const lockfile = join(root, 'package-lock.json');
  const nodeModules = join(root, 'node_modules');
  if (!existsSync(lockfile)) {
    throw new BootstrapError(`${lockfile} is missing: it is needed for a reproducible install (npm ci)`);
  }
  if (!existsSync(nodeModules)) {
    return 'node_modules is missing';
  }
  let stamp;
  try {
    stamp = readFileSync(join(nodeModules, STAMP_FILE_NAME), 'utf8').split('\n');
  } catch {
    return 'node_modules was not installed by this script (no install stamp)';
  }
  if ((stamp[0] ?? '').trim() !== sha256File(lockfile)) {
    return 'package-lock.json changed since the last install';
  }
  if ((stamp[1] ?? '').trim() !== runtime) {
    return `node_modules was installed for another Node (${(stamp[1] ?? '').trim() || 'unknown'}, now ${runtime})`;
  }
  return undefined;
}

/**
 * Records that node_modules matches the current lockfile and Node.
 * @param {{ root: string, runtime?: string }} options
 */
export function writeInstallStamp({ root, runtime = runtimeId() }) {
  const nodeModules = join(root, 'node_modules');
  // npm ci of a project without dependencies creates no node_modules at all.
  mkdirSync(nodeModules, { recursive: true });
  writeFileSync(
    join(nodeModules, STAMP_FILE_NAME),
    `${sha256File(join(root, 'package-lock.json'))}\n${runtime}\n`,
  );
}

/**
 * Absolute path of an executable `name` on PATH or in the usual bin/sbin folders, else undefined.
 * @param {string} name
 * @param {string | undefined} pathVariable
 */
export function findExecutable(name, pathVariable = process.env.PATH) {
  const folders = [...(pathVariable ?? '').split(delimiter).filter(Boolean), ...EXTRA_BIN_DIRS];
  for (const folder of folders) {
    const candidate = join(folder, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) {
        return candidate;
      }
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Rows of {@link SYSTEM_PACKAGES} needed for `command` whose binary is not found.
 * @param {string} command `demo` or `test`
 * @param {(binary: string) => string | undefined} find
 */
export function missingSystemPackages(command, find = (binary) => findExecutable(binary)) {
  return SYSTEM_PACKAGES.filter((row) => row.neededFor.includes(command) && find(row.binary) === undefined);
}

/**
 * The commands that install `aptPackages`, each as `[program, ...args]`; `sudo` unless running as root.
 * `env` is used because sudo's default policy drops DEBIAN_FRONTEND.
 * @param {string[]} aptPackages
 * @param {number | undefined} uid `process.getuid()`
 * @returns {string[][]}
 */
export function aptCommands(aptPackages, uid) {
  const prefix = uid === 0 ? ['env'] : ['sudo', 'env'];
  const env = 'DEBIAN_FRONTEND=noninteractive';
  return [
    [...prefix, env, 'apt-get', 'update'],
    [...prefix, env, 'apt-get', 'install', '-y', '--no-install-recommends', ...aptPackages],
  ];
}

/**
 * The child to run for `command`, as `[program, ...args]`. The .bin shims are run with this very Node
 * (their `#!/usr/bin/env node` could pick another one from PATH).
 * @param {string} command `demo` or `test`
 * @param {string[]} extraArgs
 * @param {string} root
 */
export function childCommand(command, extraArgs, root = REPO_ROOT) {
  const bin = (name) => join(root, 'node_modules', '.bin', name);
  if (command === 'test') {
    // One vitest run over all projects (unit, integration, e2e); their order comes from vitest.config.ts.
    return [process.execPath, bin('vitest'), 'run', ...extraArgs];
  }
  if (command === 'demo') {
    return [process.execPath, bin('tsx'), join(root, 'tools', 'demo.ts'), ...extraArgs];
  }
  if (command === 'chaos') {
    return [process.execPath, bin('tsx'), join(root, 'tools', 'chaos.ts'), ...extraArgs];
  }
  if (command === 'bench') {
    return [process.execPath, bin('tsx'), join(root, 'bench', 'run.ts'), ...extraArgs];
  }
  throw new BootstrapError(`unknown command ${JSON.stringify(command)}: use demo, test, chaos or bench`);
}

/** Runs a setup step in the foreground (it may ask for a sudo password); throws when it fails. */
function runStep(argv, description) {
  const [program, ...args] = argv;
  const result = spawnSync(program, args, { cwd: REPO_ROOT, stdio: 'inherit' });
  if (result.error) {
    throw new BootstrapError(`${description} failed: could not run ${program} (${result.error.message})`);
  }
  if (result.status !== 0) {
    throw new BootstrapError(
      `${description} failed: ${argv.join(' ')} exited with ${result.status ?? result.signal}`,
    );
  }
}

function ensureNodeModules() {
  const reason = installReason({ root: REPO_ROOT });
  if (reason === undefined) {
    log('node_modules is up to date with package-lock.json');
    return;
  }
  log(`running npm ci: ${reason}`);
  // Under `npm test` use the very npm that started us; otherwise the one on PATH.
  const npmCli = process.env.npm_execpath;
  const argv = npmCli && /npm-cli\.c?js$/.test(npmCli) ? [process.execPath, npmCli, 'ci'] : ['npm', 'ci'];
  runStep(argv, 'npm ci');
  writeInstallStamp({ root: REPO_ROOT });
}

function ensureSystemPackages(command) {
  const missing = missingSystemPackages(command);
  if (missing.length === 0) {
    return;
  }
  const packages = [...new Set(missing.flatMap((row) => row.aptPackage.split(' ')))];
  for (const row of missing) {
    log(`${row.binary} not found (${row.why}): installing Debian package ${row.aptPackage}`);
  }
  if (!findExecutable('apt-get')) {
    throw new BootstrapError(`apt-get not found: install ${packages.join(', ')} with your package manager`);
  }
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (uid !== 0 && !findExecutable('sudo')) {
    throw new BootstrapError(
      `not root and sudo not found: run as root: apt-get install -y ${packages.join(' ')}`,
    );
  }
  for (const argv of aptCommands(packages, uid)) {
    log(argv.join(' '));
    runStep(argv, 'apt-get');
  }
  const stillMissing = missingSystemPackages(command);
  if (stillMissing.length > 0) {
    throw new BootstrapError(
      `still not found after apt-get: ${stillMissing.map((row) => row.binary).join(', ')}`,
    );
  }
}

/**
 * Runs the child in its own process group and resolves with the exit code this process should use.
 *
 * Own process group, because a terminal Ctrl-C signals the whole foreground group: if the child shared it,
 * it would get SIGINT from the terminal *and* from us, and a second SIGINT means "force quit" to vitest
 * and to most programs. So the child only gets what we forward, once. After the child exits, whatever is
 * left of its group (vitest workers, an influxd whose teardown did not run) is killed. Stdin is not
 * passed on: a background group reading the terminal would be stopped by SIGTTIN.
 * @param {string[]} argv
 * @returns {Promise<number>}
 */
export function runChild(argv) {
  const [program, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
      detached: true,
    });
    const lastForwarded = new Map();
    const forward = (signal) => {
      const now = Date.now();
      if (now - (lastForwarded.get(signal) ?? 0) < DUPLICATE_SIGNAL_WINDOW_MS) {
        return;
      }
      lastForwarded.set(signal, now);
      log(`${signal} received: passing it on to ${argv.slice(0, 3).join(' ')}`);
      killGroup(child.pid, signal);
    };
    const killLeftovers = () => killGroup(child.pid, 'SIGKILL');
    for (const signal of FORWARDED_SIGNALS) {
      process.on(signal, forward);
    }
    // If this script dies of an unexpected error, do not leave the child running.
    process.on('exit', killLeftovers);
    child.once('error', (error) => {
      cleanup();
      reject(new BootstrapError(`could not start ${program}: ${error.message}`));
    });
    child.once('exit', (code, signal) => {
      killLeftovers();
      cleanup();
      resolve(code ?? 128 + (signal ? signalNumber(signal) : 1));
    });
    function cleanup() {
      for (const signal of FORWARDED_SIGNALS) {
        process.off(signal, forward);
      }
      process.off('exit', killLeftovers);
    }
  });
}

function killGroup(pid, signal) {
  if (!pid || pid <= 1) {
    return;
  }
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function signalNumber(signal) {
  // os.constants.signals without importing os for one lookup table.
  const numbers = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };
  return numbers[signal] ?? 1;
}

/**
 * The whole bootstrap: checks, installs, then runs the child; resolves with the exit code.
 * @param {string[]} argv arguments after the script name: `<demo|test> [args...]`
 */
export async function main(argv) {
  const [command, ...extraArgs] = argv;
  if (!['demo', 'test', 'chaos', 'bench'].includes(command)) {
    throw new BootstrapError('usage: node tools/bootstrap.mjs <demo|test|chaos|bench> [args...]');
  }
  const packageJson = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
  const problem = nodeVersionProblem(process.version, minimumNodeVersion(packageJson));
  if (problem) {
    throw new BootstrapError(problem);
  }
  log(`Node ${process.version}, repository ${REPO_ROOT}`);
  ensureNodeModules();
  ensureSystemPackages(command);
  const child = childCommand(command, extraArgs);
  log(`running ${child.slice(1).join(' ').replaceAll(`${REPO_ROOT}/`, '')}`);
  return runChild(child);
}

function invokedDirectly() {
  if (!process.argv[1]) {
    return false;
  }
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      console.error(`[homebed] ${error instanceof BootstrapError ? error.message : (error?.stack ?? error)}`);
      process.exitCode = 1;
    },
  );
}
