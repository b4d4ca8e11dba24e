import { setImmediate as immediate, setTimeout as sleep } from 'node:timers/promises';

/**
 * Waiting for real I/O between two moves of a manual clock. When the clock
 * jumps, emulator timers write bytes to PTYs and MQTT; those take real time
 * (a socat process, a kernel PTY, a TCP loopback) to reach the gateway, which
 * stamps each reading with the clock's time *when it decodes it*. So before
 * the clock moves again, everything sent must have been received.
 *
 * Each {@link SettleChannel} is a pair of monotonic counters: units the
 * simulator sent (frames, lines, MQTT messages) and units the gateway took in
 * (decoded or dropped). A settle ends as soon as every channel has received,
 * since the previous settle, at least as much as it sent — usually within a
 * millisecond or two — and nothing moved between the last two looks. Units
 * that never arrive (written to a PTY the gateway had not opened yet, which
 * it flushes on open; noise) would stall that forever, so a settle also ends
 * when nothing at all has moved for `quietMs`; since the baseline is taken
 * afresh at the end of each settle, a loss never stalls the next one.
 */

/** Counters of one path from the simulator to the gateway. */
export interface SettleChannel {
  name: string;
  /** Units the simulator has sent so far. */
  sent: number;
  /** Units the gateway has taken in so far. */
  received: number;
}

/** What a settle looks at; called on every poll, so keep it cheap. */
export interface SettleProbe {
  channels(): SettleChannel[];
  /** Anything else whose change means work is still going on (link states, alarm count). */
  signature(): string;
  /** Work known to be under way that no counter shows yet (a port reopening); extends the wait. */
  busy?(): boolean;
}

export interface SettleOptions {
  /**
   * Nothing moved for this long: stop waiting (units were lost). Default 150 ms: at 30 ms a busy
   * 2-core machine could pause socat long enough that a radar frame came after the clock had moved
   * on, and the scenario saw a device_offline that never happened.
   */
  quietMs?: number;
  /** Never wait longer than this. Default 3000 ms. */
  maxMs?: number;
}

/** How a settle ended. */
export type SettleOutcome = 'delivered' | 'quiet' | 'timeout';

/** Counts of settles by outcome and their cost, for the run's statistics. */
export interface SettleStats {
  settles: number;
  delivered: number;
  quiet: number;
  timeout: number;
  totalMs: number;
  maxMs: number;
}

/** See the module comment. One per run; `settle()` calls must not overlap. */
export class Settler {
  private baseline = new Map<string, { sent: number; received: number }>();
  private readonly counts: SettleStats = {
    settles: 0,
    delivered: 0,
    quiet: 0,
    timeout: 0,
    totalMs: 0,
    maxMs: 0,
  };

  constructor(
    private readonly probe: SettleProbe,
    private readonly options: SettleOptions = {},
  ) {}

  get stats(): SettleStats {
    return { ...this.counts };
  }

  /** Wait until what was sent has been received (or nothing moves any more); returns how it ended. */
  async settle(): Promise<SettleOutcome> {
    const quietMs = this.options.quietMs ?? 150;
    const maxMs = this.options.maxMs ?? 3000;
    const begin = performance.now();
    let lastChange = begin;
    let previous: string | undefined;
    let outcome: SettleOutcome;
    for (let poll = 0; ; poll++) {
      // The first looks come on the next loop turns (I/O already in the kernel is read in between);
      // after that, 1 ms apart, so socat gets the CPU to move what is still in flight.
      if (poll < 10) await immediate();
      else await sleep(1);
      const channels = this.probe.channels();
      const signature = `${this.probe.signature()}|${channels.map((c) => `${c.sent}/${c.received}`).join(',')}`;
      const now = performance.now();
      const delivered = channels.every((c) => this.arrived(c)) && !this.probe.busy?.();
      if (signature !== previous) lastChange = now;
      if (delivered && signature === previous) {
        outcome = 'delivered';
      } else if (now - lastChange >= quietMs) {
        outcome = 'quiet';
      } else if (now - begin >= maxMs) {
        outcome = 'timeout';
      } else {
        previous = signature;
        continue;
      }
      this.rebase(channels);
      break;
    }
    const spent = performance.now() - begin;
    this.counts.settles++;
    this.counts[outcome]++;
    this.counts.totalMs += spent;
    this.counts.maxMs = Math.max(this.counts.maxMs, spent);
    return outcome;
  }

  private arrived(c: SettleChannel): boolean {
    const base = this.baseline.get(c.name) ?? { sent: 0, received: 0 };
    return c.received - base.received >= c.sent - base.sent;
  }

  private rebase(channels: readonly SettleChannel[]): void {
    this.baseline = new Map(channels.map((c) => [c.name, { sent: c.sent, received: c.received }]));
  }
}
