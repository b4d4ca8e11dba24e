import { errorMessage, HomebedError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { DeliveryOutcome, Notification, NotificationChannel } from './notification.js';

/** E.164: `+`, country code, subscriber number; at most 15 digits in all. */
export const E164_PATTERN = /^\+[1-9]\d{6,14}$/;

export function isE164(address: string): boolean {
  return E164_PATTERN.test(address);
}

/**
 * An SMS / voice-call vendor (Aliyun SMS and VMS, Twilio, …). Each call makes one request to the
 * vendor and resolves once the vendor has accepted the message, with the vendor's id for it. Throw a
 * `PhoneProviderError` to say whether trying again can help; any other error counts as transient.
 * No vendor is implemented yet; `RecordingPhoneProvider` stands in for tests and the demo.
 */
export interface PhoneProvider {
  sendSms(to: string, text: string): Promise<{ providerId: string }>;
  /** Call `to` and read `text` out (text-to-speech). */
  call(to: string, text: string): Promise<{ providerId: string }>;
}

/** A vendor's refusal; `retriable: false` for one that will not change (number barred, template rejected). */
export class PhoneProviderError extends HomebedError {
  constructor(message: string, options: { retriable: boolean; cause?: unknown }) {
    super('HB_PHONE_PROVIDER', message, options);
  }
}

export interface RecordedPhoneMessage {
  kind: 'sms' | 'voice';
  to: string;
  text: string;
  providerId: string;
}

/**
 * A `PhoneProvider` that SENDS NOTHING: no SMS leaves, no call is made. It only records each message in
 * memory (`messages`), for tests and the demo. `failNext` scripts errors for the next requests.
 */
export class RecordingPhoneProvider implements PhoneProvider {
  readonly messages: RecordedPhoneMessage[] = [];
  private readonly failures: Error[] = [];
  private nextId = 1;

  /** The next `errors.length` requests (SMS or call) throw these errors, in order, and record nothing. */
  failNext(...errors: Error[]): void {
    this.failures.push(...errors);
  }

  async sendSms(to: string, text: string): Promise<{ providerId: string }> {
    return this.record('sms', to, text);
  }

  async call(to: string, text: string): Promise<{ providerId: string }> {
    return this.record('voice', to, text);
  }

  private record(kind: 'sms' | 'voice', to: string, text: string): { providerId: string } {
    const failure = this.failures.shift();
    if (failure) throw failure;
    const providerId = `recorded-${this.nextId++}`;
    this.messages.push({ kind, to, text, providerId });
    return { providerId };
  }
}

/**
 * The relay's `PhoneProvider` until a vendor adapter is configured: it SENDS
 * NOTHING. Each message is logged (number masked) so an operator sees what
 * would have gone out, and fails permanently, so the delivery is recorded as
 * failed and the alarm's timeline shows `notification_failed`, never `notified`.
 */
export class LoggingPhoneProvider implements PhoneProvider {
  private nextId = 1;

  constructor(private readonly logger: Logger) {}

  async sendSms(to: string, text: string): Promise<{ providerId: string }> {
    this.log('sms', to, text);
  }

  async call(to: string, text: string): Promise<{ providerId: string }> {
    this.log('voice', to, text);
  }

  private log(kind: 'sms' | 'voice', to: string, text: string): never {
    const providerId = `logged-${this.nextId++}`;
    // Phone numbers are personal data: keep the country code and the last four digits.
    const masked = `${to.slice(0, 3)}…${to.slice(-4)}`;
    this.logger.warn(
      { kind, to: masked, chars: text.length, providerId },
      'no SMS/voice vendor configured: message logged, not sent',
    );
    // Recorded as a failed delivery (a `notification_failed` event on the alarm's timeline), never as
    // delivered: staff must see that the family was not told, and phone them themselves.
    throw new PhoneProviderError(`no SMS/voice vendor configured: ${kind} to ${masked} not sent`, {
      retriable: false,
    });
  }
}

/** SMS text: subject, then body; cut at `maxLength` characters (vendors split long messages, and charge per part). */
export function smsText(n: Notification, maxLength = 500): string {
  const text = n.body ? `${n.subject}\n${n.body}` : n.subject;
  return text.length <= maxLength ? text : `${text.slice(0, maxLength - 1)}…`;
}

/** What a voice call reads out. */
export function voiceText(n: Notification): string {
  return n.body ? `${n.subject}. ${n.body}` : n.subject;
}

async function phoneAttempt(
  n: Notification,
  what: 'SMS' | 'call',
  request: (to: string) => Promise<{ providerId: string }>,
): Promise<DeliveryOutcome> {
  const to = n.recipient.address;
  if (!isE164(to)) {
    return {
      status: 'failed',
      detail: `recipient "${n.recipient.name}": address is not an E.164 phone number (+ country code and number, e.g. +8613800138000)`,
    };
  }
  try {
    const { providerId } = await request(to);
    return { status: 'delivered', detail: `${what} accepted by the provider (id ${providerId})` };
  } catch (err) {
    const permanent = err instanceof PhoneProviderError && !err.retriable;
    return { status: permanent ? 'failed' : 'retry', detail: `${what} provider error: ${errorMessage(err)}` };
  }
}

/** `sms` notifications through a `PhoneProvider`. "Delivered" means the vendor accepted the message. */
export class SmsChannel implements NotificationChannel {
  readonly kind = 'sms' as const;

  constructor(
    private readonly provider: PhoneProvider,
    private readonly options: { maxLength?: number } = {},
  ) {}

  send(n: Notification): Promise<DeliveryOutcome> {
    return phoneAttempt(n, 'SMS', (to) => this.provider.sendSms(to, smsText(n, this.options.maxLength)));
  }
}

/** `voice` notifications: a call that reads the notification out. "Delivered" means the vendor placed the call. */
export class VoiceChannel implements NotificationChannel {
  readonly kind = 'voice' as const;

  constructor(private readonly provider: PhoneProvider) {}

  send(n: Notification): Promise<DeliveryOutcome> {
    return phoneAttempt(n, 'call', (to) => this.provider.call(to, voiceText(n)));
  }
}
