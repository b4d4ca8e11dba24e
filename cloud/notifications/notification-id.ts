import { createHash } from 'node:crypto';
import type { NotificationKind, Recipient } from './notification.js';

/** What makes two notifications "the same one": never enqueue it twice. */
export interface NotificationIdentity {
  alarmId: string;
  kind: NotificationKind;
  /** The escalation step; null for notifications that are not per step. */
  step: number | null;
  recipient: Pick<Recipient, 'channel' | 'address'>;
}

/**
 * A name-based UUID (RFC 9562 version 8: SHA-256 of the identity, version and variant bits set) for
 * a policy notification. Two relay processes that both react to the same alarm event derive the same
 * id, so `DeliveryStore.add` (idempotent by id) keeps one, and a receiver deduplicating by
 * `x-homebed-id` does too. Random UUIDv7 ids (`createNotification`) cannot give that.
 */
export function notificationIdFor(identity: NotificationIdentity): string {
  const key = JSON.stringify([
    'homebed/notification/1',
    identity.alarmId,
    identity.kind,
    identity.step,
    identity.recipient.channel,
    normalAddress(identity.recipient.address),
  ]);
  const bytes = createHash('sha256').update(key).digest().subarray(0, 16);
  bytes[6] = 0x80 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** `https://A.example/h` and `https://a.example/h` are one endpoint (the webhook channel compares them so too). */
function normalAddress(address: string): string {
  if (address.startsWith('+')) return address;
  try {
    return new URL(address).href;
  } catch {
    return address;
  }
}
