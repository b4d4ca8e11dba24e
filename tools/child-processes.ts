import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository root (the folder holding package.json). */
export const REPO_ROOT: string = dirname(dirname(fileURLToPath(import.meta.url)));

/**
 * Absolute path of `node_modules/.bin/tsx` in this repository.
 *
 * The shim starts with `#!/usr/bin/env node`, so it runs whatever `node` is first on PATH; to be sure the
 * child uses the same Node as the caller, run `startChild(name, process.execPath, [TSX_BIN, 'gateway/cli.ts'])`.
 */
export const TSX_BIN: string = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');

/** How much captured output (stdout+stderr) and how many line characters each child keeps. */
const MAX_OUTPUT_CHARS = 200 * 1024;
/** How long to wait for the pipes to drain after the process exited, before declaring its output final. */
const DRAIN_AFTER_EXIT_MS = 500;
const POLL_MS = 50;

/** A program started by {@link startChild}, running in its own process group. */
export interface ManagedChild {
  /** Label used in error messages (`gateway`, `cloud`, `sim`...). */
  name: string;
  /** Pid of the started process; also the id of its process group. */
  pid: number;
  /** Resolves with the exit code, or `null` when the process was ended by a signal. Never rejects. */
  exited: Promise<number | null>;
  /**
   * Sends `signal` (default `SIGTERM`) to the whole process group, waits up to `graceMs` (default 5000) for
   * every process of the group to end, then sends `SIGKILL` to the group. Resolves when nothing of the group
   * is left running. Safe to call more than once and after the process has exited.
   */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
  /** Captured stdout+stderr so far (the last ~200 KB), for test diagnostics. */
  output(): string;
}

/** Options of {@link startChild}. */
export interface StartChildOptions {
  /** Working directory; default the caller's. */
  cwd?: string;
  /** Full environment of the child; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Called for each complete line the child prints (without the line break). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

/** What waitForLine needs that is not part of the public interface. */
interface ChildInternals {
  /** Recent complete lines, oldest first. */
  lines: string[];
  lineListeners: Set<(line: string) => void>;
  /** Resolves when the process has exited and its output is final (pipes closed, or drain time passed). */
  ended: Promise<void>;
  isEnded(): boolean;
}

const internalsByChild = new WeakMap<ManagedChild, ChildInternals>();

/**
 * Process groups that may still have members. Killed with SIGKILL when this process exits so that a test
 * run that is interrupted (vitest calls `process.exit()` on Ctrl-C) does not leave programs running.
 */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) {
    return;
  }
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups) {
      signalGroup(pgid, 'SIGKILL');
    }
  });
}

/** Sends `signal` to process group `pgid`; false when the group no longer exists. */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  assertGroupId(pgid);
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') {
      return false;
    }
    throw error;
  }
}

function assertGroupId(pgid: number): void {
  // -0 and -1 mean "my own group" and "every process I may signal": never let a bad id get there.
  if (!Number.isInteger(pgid) || pgid <= 1) {
    throw new RangeError(`invalid process group id ${pgid}`);
  }
}

/**
 * True when process group `pgid` still has a member that is running.
 *
 * Signal 0 to `-pgid` says whether the group exists; on Linux the members are then looked up in /proc so
 * that zombies do not count: in containers whose PID 1 does not reap orphans, a killed grandchild stays a
 * zombie forever and signal 0 alone would report the group alive.
 */
export function processGroupAlive(pgid: number): boolean {
  try {
    if (!signalGroup(pgid, 0)) {
      return false;
    }
  } catch (error) {
    // EPERM: the group exists but belongs to someone else.
    if ((error as NodeJS.ErrnoException).code === 'EPERM') {
      return true;
    }
    throw error;
  }
  return groupHasRunningMember(pgid) ?? true;
}

/** Scans /proc; `undefined` when /proc cannot be read (not Linux). */
function groupHasRunningMember(pgid: number): boolean | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we were looking
    }
    // Format: "pid (comm) state ppid pgrp ..."; comm may contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    if (Number(fields[2]) === pgid && state !== 'Z' && state !== 'X') {
      return true;
    }
  }
  return false;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `command args` as a separate program in its own process group (`detached: true`), capturing its
 * stdout and stderr. Stdin is closed: a program in a background process group that reads the terminal would
 * be stopped by SIGTTIN and hang the caller.
 *
 * Whatever happens, the group is killed when the calling process exits; still, call `stop()` when done.
 *
 * @throws when the program cannot be started (command not found, cwd missing).
 */
export function startChild(
  name: string,
  command: string,
  args: string[],
  options: StartChildOptions = {},
): ManagedChild {
  const child: ChildProcess = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (text: string): void => {
    output += text;
    // Trim in steps, not on every chunk, so a chatty child costs O(n) and not O(n * 200 KB).
    if (output.length > MAX_OUTPUT_CHARS * 1.25) {
      output = output.slice(-MAX_OUTPUT_CHARS);
    }
  };
  child.on('error', (error) => append(`\n[startChild] ${name}: ${error.message}\n`));
  const pid = child.pid;
  if (pid === undefined) {
    // spawn() reports ENOENT asynchronously; the listener above keeps that from crashing the process.
    throw new Error(
      `${name}: could not start ${command} ${args.join(' ')} (not installed or not executable, or cwd ` +
        `${options.cwd ?? process.cwd()} missing)`,
    );
  }
  installExitHook();
  liveGroups.add(pid);

  const lines: string[] = [];
  let lineChars = 0;
  const lineListeners = new Set<(line: string) => void>();
  const emitLine = (line: string, stream: 'stdout' | 'stderr'): void => {
    lines.push(line);
    lineChars += line.length;
    while (lineChars > MAX_OUTPUT_CHARS && lines.length > 1) {
      lineChars -= lines.shift()?.length ?? 0;
    }
    if (options.onLine) {
      try {
        options.onLine(line, stream);
      } catch (error) {
        append(`\n[startChild] onLine callback threw: ${String(error)}\n`);
      }
    }
    for (const listener of lineListeners) {
      listener(line);
    }
  };
  const capture = (stream: NodeJS.ReadableStream | null, streamName: 'stdout' | 'stderr'): void => {
    if (!stream) {
      return;
    }
    // utf8 decoding across chunk boundaries: log lines contain Chinese text.
    stream.setEncoding('utf8');
    let partial = '';
    stream.on('data', (chunk: string) => {
      append(chunk);
      const parts = (partial + chunk).split(/\r?\n/);
      partial = parts.pop() ?? '';
      for (const line of parts) {
        emitLine(line, streamName);
      }
    });
    stream.on('end', () => {
      if (partial !== '') {
        emitLine(partial, streamName);
        partial = '';
      }
    });
  };
  capture(child.stdout, 'stdout');
  capture(child.stderr, 'stderr');

  let leaderExited = false;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      leaderExited = true;
      // Forget the group once it is empty, so a reused pgid is never signalled by the exit hook.
      if (!processGroupAlive(pid)) {
        liveGroups.delete(pid);
      }
      resolve(code);
    });
  });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let ended = false;
  const endedPromise = exited
    .then(() => Promise.race([closed, sleep(DRAIN_AFTER_EXIT_MS)]))
    .then(() => {
      ended = true;
    });

  const managed: ManagedChild = {
    name,
    pid,
    exited,
    output: () => output,
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
      const groupGone = (): boolean => leaderExited && !processGroupAlive(pid);
      if (!groupGone()) {
        signalGroup(pid, signal);
        const deadline = Date.now() + graceMs;
        while (!groupGone() && Date.now() < deadline) {
          await sleep(POLL_MS);
        }
      }
      if (!groupGone()) {
        signalGroup(pid, 'SIGKILL');
        const deadline = Date.now() + 5000;
        while (!groupGone() && Date.now() < deadline) {
          await sleep(POLL_MS);
        }
        if (!groupGone()) {
          throw new Error(`${name} (process group ${pid}) is still running after SIGKILL`);
        }
      }
      liveGroups.delete(pid);
      // Let the last output arrive so that output() is complete for diagnostics.
      await endedPromise;
    },
  };
  internalsByChild.set(managed, { lines, lineListeners, ended: endedPromise, isEnded: () => ended });
  return managed;
}

/**
 * Waits until `child` prints a line matching `pattern`, and returns the match.
 *
 * @param options.includeEarlierLines also match lines printed before this call (the last ~200 KB); default
 *   true, so that a line printed between `startChild` and this call is not missed. Pass false to wait for a
 *   new occurrence.
 * @throws (rejects) on timeout or when the child exits first; the message includes the child's recent output.
 */
export async function waitForLine(
  child: ManagedChild,
  pattern: RegExp,
  timeoutMs: number,
  options: { includeEarlierLines?: boolean } = {},
): Promise<RegExpMatchArray> {
  const internals = internalsByChild.get(child);
  if (!internals) {
    throw new TypeError('waitForLine: the child was not started with startChild');
  }
  // A global or sticky regexp keeps state between calls and returns no groups; use a plain copy.
  const regexp = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
  if (options.includeEarlierLines ?? true) {
    for (const line of internals.lines) {
      const match = line.match(regexp);
      if (match) {
        return match;
      }
    }
  }
  const failure = (why: string): Error =>
    new Error(`${child.name}: ${why} while waiting for a line matching ${pattern}\n${recentOutput(child)}`);
  if (internals.isEnded()) {
    throw failure('the process had already exited');
  }
  return new Promise<RegExpMatchArray>((resolve, reject) => {
    let settled = false;
    const finish = (settle: () => void): void => {
      if (settled) {
        return;
      }
      settled = true;
      clearTimeout(timer);
      internals.lineListeners.delete(onLine);
      settle();
    };
    const onLine = (line: string): void => {
      const match = line.match(regexp);
      if (match) {
        finish(() => resolve(match));
      }
    };
    const timer = setTimeout(
      () => finish(() => reject(failure(`timed out after ${timeoutMs} ms`))),
      timeoutMs,
    );
    internals.lineListeners.add(onLine);
    void internals.ended.then(async () => {
      const code = await child.exited;
      finish(() => reject(failure(`the process exited (code ${code})`)));
    });
  });
}

function recentOutput(child: ManagedChild): string {
  const text = child.output();
  const tail = text.length > 4000 ? `...${text.slice(-4000)}` : text;
  return `--- recent output of ${child.name} (pid ${child.pid}) ---\n${tail}\n--- end of output ---`;
}
