import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createNotification } from '../../../../cloud/notifications/notification.js';
import {
  classifyHttpStatus,
  parseRetryAfter,
  signWebhook,
  verifyWebhookSignature,
  webhookBody,
} from '../../../../cloud/notifications/webhook-channel.js';

const SECRET = 'whsec-0123456789abcdef';
const NOW_S = 1_767_254_400; // 2026-01-01T08:00:00Z

describe('webhook signatures', () => {
  const body = '{"v":1,"id":"x","subject":"SOS 王奶奶"}';

  it('is sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">', () => {
    const expected = createHmac('sha256', SECRET).update(`${NOW_S}.${body}`).digest('hex');
    expect(signWebhook(SECRET, NOW_S, body)).toBe(`sha256=${expected}`);
    expect(signWebhook(SECRET, String(NOW_S), Buffer.from(body))).toBe(`sha256=${expected}`);
  });

  it('verifies what was signed, with the body as a string or as bytes', () => {
    const header = signWebhook(SECRET, NOW_S, body);
    expect(verifyWebhookSignature(SECRET, String(NOW_S), body, header, NOW_S)).toBe(true);
    expect(verifyWebhookSignature(SECRET, NOW_S, Buffer.from(body, 'utf8'), header, NOW_S + 299)).toBe(true);
  });

  it('refuses a changed body, another secret, or another timestamp', () => {
    const header = signWebhook(SECRET, NOW_S, body);
    expect(verifyWebhookSignature(SECRET, NOW_S, body.replace('SOS', 'sos'), header, NOW_S)).toBe(false);
    expect(verifyWebhookSignature('another-secret-value', NOW_S, body, header, NOW_S)).toBe(false);
    // Moving the timestamp forward to get past the tolerance breaks the signature.
    expect(verifyWebhookSignature(SECRET, NOW_S + 600, body, header, NOW_S + 600)).toBe(false);
  });

  it('refuses a replay outside the tolerance, in either direction', () => {
    const header = signWebhook(SECRET, NOW_S, body);
    expect(verifyWebhookSignature(SECRET, NOW_S, body, header, NOW_S + 301)).toBe(false);
    expect(verifyWebhookSignature(SECRET, NOW_S, body, header, NOW_S - 301)).toBe(false);
    expect(verifyWebhookSignature(SECRET, NOW_S, body, header, NOW_S + 3_000, 3_600)).toBe(true);
  });

  it('refuses missing or malformed headers', () => {
    const header = signWebhook(SECRET, NOW_S, body);
    expect(verifyWebhookSignature(SECRET, undefined, body, header, NOW_S)).toBe(false);
    expect(verifyWebhookSignature(SECRET, NOW_S, body, undefined, NOW_S)).toBe(false);
    expect(verifyWebhookSignature(SECRET, 'yesterday', body, header, NOW_S)).toBe(false);
    expect(verifyWebhookSignature(SECRET, NOW_S, body, header.slice(7), NOW_S)).toBe(false);
    expect(verifyWebhookSignature(SECRET, NOW_S, body, `${header}0`, NOW_S)).toBe(false);
    expect(verifyWebhookSignature(SECRET, NOW_S, body, '', NOW_S)).toBe(false);
  });

  it('accepts one valid signature among several (secret rotation)', () => {
    const old = signWebhook('the-old-secret-000', NOW_S, body);
    const current = signWebhook(SECRET, NOW_S, body);
    expect(verifyWebhookSignature(SECRET, NOW_S, body, `${old}, ${current}`, NOW_S)).toBe(true);
    expect(verifyWebhookSignature(SECRET, NOW_S, body, `${old}`, NOW_S)).toBe(false);
  });
});

describe('webhook body', () => {
  it('carries the notification without the recipient address', () => {
    const n = createNotification(
      {
        kind: 'alarm_escalated',
        alarmId: 'a-1',
        bedId: 'bed-1',
        recipient: {
          name: 'Care system',
          channel: 'webhook',
          address: 'https://care.example/hook?token=abc',
        },
        subject: 'SOS not answered',
        body: 'Nobody took the SOS alarm in 2 minutes',
        payload: { type: 'sos_button', severity: 'critical' },
      },
      NOW_S * 1000,
    );
    const wire = webhookBody(n);
    expect(wire).toEqual({
      v: 1,
      id: n.id,
      kind: 'alarm_escalated',
      createdAt: '2026-01-01T08:00:00.000Z',
      alarmId: 'a-1',
      bedId: 'bed-1',
      recipient: 'Care system',
      subject: 'SOS not answered',
      body: 'Nobody took the SOS alarm in 2 minutes',
      payload: { type: 'sos_button', severity: 'critical' },
    });
    expect(JSON.stringify(wire)).not.toContain('token=abc');
  });
});

describe('outcome classification', () => {
  it('2xx delivered; 408, 429, 5xx retried; other statuses fail for good', () => {
    expect([200, 201, 202, 204, 299].map(classifyHttpStatus)).toEqual(Array(5).fill('delivered'));
    expect([408, 429, 500, 502, 503, 504].map(classifyHttpStatus)).toEqual(Array(6).fill('retry'));
    expect([301, 302, 400, 401, 403, 404, 410, 422].map(classifyHttpStatus)).toEqual(Array(8).fill('failed'));
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.UTC(2026, 0, 1, 8, 0, 0);
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Thu, 01 Jan 2026 08:01:30 GMT', now)).toBe(90_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 07:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
});
