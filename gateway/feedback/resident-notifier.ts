import { HomebedError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';

/** The alarm a resident is told about. */
export interface AcknowledgedAlarm {
  alarmId: string;
  /** The alarm type (`sos_button`, `fall_confirmed`, …), or `unknown` when the gateway has no record. */
  type: string;
  deviceId?: string;
}

/**
 * An output that tells the resident "help is coming" (救援马上就到): a chime,
 * a light, a spoken message. Implementations must not throw synchronously,
 * should honour `signal` (abandoned after their timeout, or the service
 * stopping) and must not retry on their own: the caller decides.
 */
export interface ResidentNotifier {
  /** Name in logs and counters (`feedback_failures{notifier}`). */
  readonly name: string;
  /** How long this output may take; the service's default when absent. */
  readonly timeoutMs?: number;
  helpIsComing(alarm: AcknowledgedAlarm, signal?: AbortSignal): Promise<void>;
}

/** An output failed; retrying the same alarm is not attempted (the staff also call). */
export class FeedbackError extends HomebedError {
  constructor(message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super('HB_FEEDBACK_FAILED', message, options);
  }
}

/** Only logs: for homes without an output, and so the log always shows the resident was (to be) told. */
export class LogNotifier implements ResidentNotifier {
  constructor(
    private readonly logger: Logger,
    readonly name = 'log',
  ) {}

  async helpIsComing(alarm: AcknowledgedAlarm): Promise<void> {
    this.logger.info(
      { alarmId: alarm.alarmId, type: alarm.type, deviceId: alarm.deviceId },
      'resident feedback: help is coming',
    );
  }
}
