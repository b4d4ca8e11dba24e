import { type ChildProcess, spawn } from 'node:child_process';
import { lstat, mkdir, stat, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HomebedError } from '../../common/errors.js';

/**
 * A kernel PTY pair joined by `socat`, reached through two stable symlinks
 * (like `/dev/serial/by-id/...`). The emulator opens `devicePath`, the
 * gateway opens `hostPath`; bytes written on one side are read on the other.
 */
export interface PtyPair {
  /** Absolute path of the symlink the emulator (the "device") opens. */
  readonly devicePath: string;
  /** Absolute path of the symlink the gateway (the "host") opens. */
  readonly hostPath: string;
  /** Process id of the `socat` that holds the pair (tests check it is gone after `close()`). */
  readonly pid: number | undefined;
  /** Stop `socat` (TERM, then KILL after a grace period), wait for it, and remove the symlinks. Idempotent. */
  close(): Promise<void>;
}

export interface CreatePtyPairOptions {
  /** Symlink for the emulator's end; relative paths resolve against the process cwd. */
  devicePath: string;
  /** Symlink for the gateway's end; relative paths resolve against the process cwd. */
  hostPath: string;
  /** The `socat` binary; default `socat` from `PATH`. */
  socatPath?: string;
  /** How long to wait for both symlinks to appear; default 5000 ms. */
  readyTimeoutMs?: number;
  /** How long `close()` waits after SIGTERM before SIGKILL; default 2000 ms. */
  killGraceMs?: number;
}

/** A PTY pair could not be created (socat missing or failing, a path that is not a stale symlink). */
export class PtyError extends HomebedError {
  constructor(message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super('HB_SIM_PTY', message, options);
  }
}

/** Characters that would split a socat address (`,` separates options, `!!` joins addresses). */
const SOCAT_UNSAFE = /[,!\\'"\s]/;
const STDERR_KEEP_CHARS = 4096;
const POLL_MS = 20;
const TRANSFER_LOOP = 'starting data transfer loop';

/**
 * Every live socat child, so a crashing or `process.exit()`ing simulator does
 * not leave orphans holding PTYs. One `exit` listener is installed while the
 * set is non-empty and removed when the last pair closes.
 */
const liveChildren = new Set<ChildProcess>();
function killLiveChildrenSync(): void {
  for (const child of liveChildren) child.kill('SIGKILL');
}
function trackChild(child: ChildProcess): void {
  if (liveChildren.size === 0) process.on('exit', killLiveChildrenSync);
  liveChildren.add(child);
}
function untrackChild(child: ChildProcess): void {
  if (!liveChildren.delete(child)) return;
  if (liveChildren.size === 0) process.off('exit', killLiveChildrenSync);
}

/**
 * Start `socat -d -d pty,raw,echo=0,link=<devicePath> pty,raw,echo=0,link=<hostPath>`
 * and resolve once both symlinks exist and socat has finished setting the PTYs
 * up. Parent directories are created and stale symlinks (left by a killed
 * socat, or by another simulator) are removed first; anything at those paths
 * that is not a symlink is refused rather than deleted. On failure the error
 * carries socat's stderr.
 *
 * Bytes the device writes while no host has the other end open are buffered
 * or dropped by the kernel, as with a real USB serial adapter.
 */
export async function createPtyPair(options: CreatePtyPairOptions): Promise<PtyPair> {
  const devicePath = resolve(options.devicePath);
  const hostPath = resolve(options.hostPath);
  const socatPath = options.socatPath ?? 'socat';
  const readyTimeoutMs = options.readyTimeoutMs ?? 5000;
  const killGraceMs = options.killGraceMs ?? 2000;

  for (const p of [devicePath, hostPath]) {
    if (SOCAT_UNSAFE.test(p)) {
      throw new PtyError(
        `PTY path ${JSON.stringify(p)} contains a character socat cannot take in an address`,
      );
    }
  }
  if (devicePath === hostPath) throw new PtyError(`devicePath and hostPath are the same: ${devicePath}`);

  await prepareLinkPath(devicePath);
  await prepareLinkPath(hostPath);

  const child = spawn(
    socatPath,
    ['-d', '-d', `pty,raw,echo=0,link=${devicePath}`, `pty,raw,echo=0,link=${hostPath}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  let transferStarted = false;
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP_CHARS);
    if (stderr.includes(TRANSFER_LOOP)) transferStarted = true;
  });

  let exited = false;
  let spawnError: Error | undefined;
  const exitPromise = new Promise<void>((resolveExit) => {
    child.once('exit', () => {
      exited = true;
      untrackChild(child);
      resolveExit();
    });
    child.once('error', (err) => {
      // 'error' without 'exit' happens when the binary cannot be spawned at all.
      spawnError = err;
      exited = true;
      untrackChild(child);
      resolveExit();
    });
  });
  trackChild(child);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      if (!exited) {
        child.kill('SIGTERM');
        const killTimer = setTimeout(() => child.kill('SIGKILL'), killGraceMs);
        await exitPromise;
        clearTimeout(killTimer);
      }
      // socat removes its links on a clean exit; after SIGKILL (or a crash) they stay behind.
      await removeIfSymlink(devicePath);
      await removeIfSymlink(hostPath);
    })();
    return closing;
  };

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (spawnError) {
      const code = (spawnError as NodeJS.ErrnoException).code;
      const hint = code === 'ENOENT' ? ` (is socat installed? e.g. apt-get install socat)` : '';
      throw new PtyError(`cannot start ${socatPath}: ${spawnError.message}${hint}`, { cause: spawnError });
    }
    if (exited) {
      await close();
      throw new PtyError(
        `socat exited (code ${child.exitCode ?? 'none'}, signal ${child.signalCode ?? 'none'}) before the PTYs were ready:\n${stderr.trim()}`,
      );
    }
    // socat creates each link *before* it sets the PTY's termios (raw, echo=0); opening the device
    // end in that window races socat's TCSETSW. Its "starting data transfer loop" line (logged at
    // -d -d) comes after both addresses are fully set up.
    if (transferStarted && (await linkReady(devicePath)) && (await linkReady(hostPath))) break;
    if (Date.now() >= deadline) {
      await close();
      throw new PtyError(
        `timed out after ${readyTimeoutMs} ms waiting for socat to create ${devicePath} and ${hostPath}:\n${stderr.trim()}`,
        { retriable: true },
      );
    }
    await sleep(POLL_MS);
  }

  return { devicePath, hostPath, pid: child.pid, close };
}

async function prepareLinkPath(path: string): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
  } catch (err) {
    throw new PtyError(`cannot create the folder for ${path}: ${(err as Error).message}`, { cause: err });
  }
  let info: Awaited<ReturnType<typeof lstat>>;
  try {
    info = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!info.isSymbolicLink()) {
    throw new PtyError(`${path} exists and is not a symlink; refusing to replace it with a PTY link`);
  }
  // A symlink here is left over from an earlier run (live or not): socat would fail to create its link.
  await unlink(path);
}

/** True when `path` is a symlink whose target (the /dev/pts node) exists. */
async function linkReady(path: string): Promise<boolean> {
  try {
    const info = await lstat(path);
    if (!info.isSymbolicLink()) return false;
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function removeIfSymlink(path: string): Promise<void> {
  try {
    const info = await lstat(path);
    if (info.isSymbolicLink()) await unlink(path);
  } catch {
    // Already gone: nothing to clean.
  }
}
