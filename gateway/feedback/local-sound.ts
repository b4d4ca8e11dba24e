import { spawn } from 'node:child_process';
import { type Clock, systemClock } from '../../common/clock.js';
import { type AcknowledgedAlarm, FeedbackError, type ResidentNotifier } from './resident-notifier.js';

export interface LocalSoundOptions {
  /** Default `sound:<program>`. */
  name?: string;
  /** Program and arguments, run without a shell: `['espeak-ng', '-v', 'zh', '救援马上就到']`. */
  command: readonly string[];
  /** A player still running after this long is killed; default 10 000 ms. */
  timeoutMs?: number;
  /** Wait between TERM and KILL; default 1 000 ms. */
  killGraceMs?: number;
  /** Default the system clock: the player is a real process. */
  clock?: Clock;
}

const STDERR_KEEP_CHARS = 500;

/**
 * Plays a sound or speaks a message on the gateway's own speaker by running
 * a player program. The player runs in its own process group, so a
 * `sh -c 'aplay …'` is killed with everything it started; a player that
 * outlives its timeout (a stuck sound device) is killed, TERM then KILL, and
 * the call rejects only once it is gone.
 */
export class LocalSound implements ResidentNotifier {
  readonly name: string;
  readonly timeoutMs: number;
  private readonly running = new Set<number>();

  constructor(private readonly options: LocalSoundOptions) {
    this.name = options.name ?? `sound:${options.command[0] ?? ''}`;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** Process ids of players running now (status output, tests). */
  get runningPids(): number[] {
    return [...this.running];
  }

  helpIsComing(_alarm?: AcknowledgedAlarm, signal?: AbortSignal): Promise<void> {
    const [program, ...args] = this.options.command;
    if (!program) return Promise.reject(new FeedbackError('no player program configured'));
    if (signal?.aborted) return Promise.reject(new FeedbackError('cancelled before the player started'));
    const clock = this.options.clock ?? systemClock;
    const graceMs = this.options.killGraceMs ?? 1_000;
    return new Promise<void>((resolve, reject) => {
      const child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
      const pid = child.pid;
      if (pid !== undefined) this.running.add(pid);
      let stderr = '';
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        stderr = (stderr + chunk).slice(-STDERR_KEEP_CHARS);
      });
      let killReason: string | null = null;
      let killTimer: ReturnType<Clock['setTimeout']> | null = null;
      const signalGroup = (sig: NodeJS.Signals) => {
        try {
          // Negative pid: the whole process group the detached player leads.
          if (pid !== undefined) process.kill(-pid, sig);
        } catch {
          // Already gone.
        }
      };
      const kill = (reason: string) => {
        if (killReason !== null || child.exitCode !== null || child.signalCode !== null) return;
        killReason = reason;
        signalGroup('SIGTERM');
        killTimer = clock.setTimeout(() => signalGroup('SIGKILL'), graceMs);
      };
      const timeout = clock.setTimeout(
        () => kill(`still playing after ${this.timeoutMs} ms`),
        this.timeoutMs,
      );
      const onAbort = () => kill('abandoned');
      signal?.addEventListener('abort', onAbort, { once: true });
      let done = false;
      const finish = (err: Error | null) => {
        if (done) return;
        done = true;
        if (pid !== undefined) this.running.delete(pid);
        timeout.cancel();
        killTimer?.cancel();
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      };
      child.once('error', (err) =>
        finish(new FeedbackError(`cannot run ${program}: ${err.message}`, { cause: err })),
      );
      child.once('exit', (code, sig) => {
        // The group may still hold children of a shell that exited first.
        if (killReason !== null) signalGroup('SIGKILL');
        if (killReason !== null) finish(new FeedbackError(`${program} killed: ${killReason}`));
        else if (code === 0) finish(null);
        else
          finish(
            new FeedbackError(
              `${program} exited with ${code !== null ? `code ${code}` : `signal ${sig}`}${stderr ? `: ${stderr.trim()}` : ''}`,
            ),
          );
      });
    });
  }
}
