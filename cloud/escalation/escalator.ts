import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock, TimerHandle } from '../../common/clock.js';
import type { Counters } from '../../common/counters.js';
import type { Logger } from '../../common/logger.js';
import { type ChangeAnnouncer, NO_ANNOUNCER } from '../alarms/alarm-events.js';
import type { StoredAlarm } from '../alarms/alarm-store.js';
import type { EscalationStore } from './escalation-store.js';
import type { EscalationConfig, EscalationStep } from './policy.js';

/** Told of each step this process fired (the notification policy brings the tier in). */
export type EscalationHook = (alarm: StoredAlarm, step: EscalationStep) => void | Promise<void>;

export interface EscalatorOptions {
  store: EscalationStore;
  config: Pick<EscalationConfig, 'pollIntervalMs' | 'batchSize'>;
  clock: Clock;
  logger: Logger;
  counters: Counters;
  announcer?: ChangeAnnouncer;
  onEscalated?: EscalationHook;
  /** Recorded as `fired_by`; default host, pid and a random suffix (unique per Escalator). */
  owner?: string;
}

/** A name for this process in `escalations.fired_by`. */
export function defaultEscalationOwner(): string {
  return `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
}

/**
 * Fires due escalation steps: every `pollIntervalMs` it claims what is due
 * from the store (exactly once across relay processes), announces the
 * `escalated` changes and calls the hook. It looks once at start too, so
 * steps that fell due while the relay was down fire at once.
 */
export class Escalator {
  readonly owner: string;
  private timer: TimerHandle | null = null;
  private running: Promise<number> | null = null;
  private queued: Promise<number> | null = null;

  constructor(private readonly options: EscalatorOptions) {
    this.owner = options.owner ?? defaultEscalationOwner();
  }

  start(): void {
    if (this.timer) return;
    this.timer = this.options.clock.setInterval(() => {
      void this.tick();
    }, this.options.config.pollIntervalMs);
    void this.tick();
  }

  /** Stop looking; resolves once the looks under way have finished. */
  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    await (this.queued ?? this.running);
  }

  /**
   * One look: fire what is due now. Resolves with how many steps this
   * process fired. While a look runs, calls share one follow-up look after
   * it, so each caller's "now" is covered and looks never pile up.
   */
  tick(): Promise<number> {
    if (this.queued) return this.queued;
    if (!this.running) return this.launch();
    this.queued = this.running.then(() => {
      this.queued = null;
      return this.launch();
    });
    return this.queued;
  }

  private launch(): Promise<number> {
    const run = this.fireDue().finally(() => {
      if (this.running === run) this.running = null;
    });
    this.running = run;
    return run;
  }

  private async fireDue(): Promise<number> {
    const { store, clock, logger, counters, config } = this.options;
    let fired: Awaited<ReturnType<EscalationStore['claimDue']>>;
    try {
      fired = await store.claimDue(new Date(clock.now()).toISOString(), this.owner, config.batchSize);
    } catch (err) {
      // The timers are in the store: the next look finds them again.
      counters.inc('escalation_claim_failures');
      logger.error({ err }, 'claiming due escalation steps failed; retrying at the next look');
      return 0;
    }
    if (fired.length === 0) return 0;
    try {
      (this.options.announcer ?? NO_ANNOUNCER).announce(fired.map((f) => f.change));
    } catch (err) {
      // Best effort: consoles catch up from alarm_events.
      logger.error({ err }, 'announcing escalations failed');
    }
    for (const { alarm, step } of fired) {
      counters.inc('escalations_fired', {
        severity: alarm.severity,
        tier: step.tier,
        step: String(step.step),
      });
      logger.warn(
        {
          alarmId: alarm.id,
          bedId: alarm.bedId,
          type: alarm.type,
          severity: alarm.severity,
          step: step.step,
          tier: step.tier,
          afterS: step.afterS,
        },
        'alarm not acknowledged: escalated',
      );
      try {
        await this.options.onEscalated?.(alarm, step);
      } catch (err) {
        // The step is committed as fired; a hook that fails must be loud, it will not be called again.
        counters.inc('escalation_hook_failures', { tier: step.tier });
        logger.error({ err, alarmId: alarm.id, step: step.step, tier: step.tier }, 'escalation hook failed');
      }
    }
    return fired.length;
  }
}
