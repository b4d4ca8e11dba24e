import { describe, expect, it } from 'vitest';
import {
  createNotification,
  maskAddress,
  type Recipient,
} from '../../../../cloud/notifications/notification.js';
import {
  isE164,
  LoggingPhoneProvider,
  PhoneProviderError,
  RecordingPhoneProvider,
  SmsChannel,
  smsText,
  VoiceChannel,
} from '../../../../cloud/notifications/phone-channel.js';
import { silentLogger } from '../../../../common/logger.js';

const NOW = Date.UTC(2026, 0, 1, 8, 0, 0);

function note(recipient: Recipient, body = 'SOS button pressed in the bedroom') {
  return createNotification(
    { kind: 'alarm_raised', alarmId: 'a-1', recipient, subject: 'SOS: bed-1', body, payload: {} },
    NOW,
  );
}

describe('E.164 numbers', () => {
  it('accepts + country code and number, 8 to 15 digits', () => {
    for (const ok of ['+8613800138000', '+14155550123', '+4930123456', '+1234567', '+123456789012345']) {
      expect(isE164(ok), ok).toBe(true);
    }
  });

  it('refuses local formats, spaces, a leading 0 and too many digits', () => {
    for (const bad of [
      '13800138000',
      '+86 138 0013 8000',
      '+0861380013800',
      '008613800138000',
      '+123456',
      '+1234567890123456',
      '+86-13800138000',
      'tel:+8613800138000',
      '',
    ]) {
      expect(isE164(bad), bad).toBe(false);
    }
  });
});

describe('RecordingPhoneProvider', () => {
  it('records messages instead of sending them, with an id each', async () => {
    const provider = new RecordingPhoneProvider();
    expect(await provider.sendSms('+8613800138000', 'hello')).toEqual({ providerId: 'recorded-1' });
    expect(await provider.call('+8613800138001', 'help is coming')).toEqual({ providerId: 'recorded-2' });
    expect(provider.messages).toEqual([
      { kind: 'sms', to: '+8613800138000', text: 'hello', providerId: 'recorded-1' },
      { kind: 'voice', to: '+8613800138001', text: 'help is coming', providerId: 'recorded-2' },
    ]);
  });

  it('fails the next requests as scripted, then records again', async () => {
    const provider = new RecordingPhoneProvider();
    provider.failNext(new Error('throttled'), new Error('again'));
    await expect(provider.sendSms('+8613800138000', 'a')).rejects.toThrow('throttled');
    await expect(provider.call('+8613800138000', 'b')).rejects.toThrow('again');
    await provider.sendSms('+8613800138000', 'c');
    expect(provider.messages.map((m) => m.text)).toEqual(['c']);
  });
});

describe('LoggingPhoneProvider (no vendor configured)', () => {
  it('sends nothing and says so: each message is a permanent failure, never a delivery', async () => {
    const provider = new LoggingPhoneProvider(silentLogger());
    const sms = await new SmsChannel(provider).send(
      note({ name: 'Daughter', channel: 'sms', address: '+8613800138000' }),
    );
    expect(sms.status).toBe('failed');
    expect(sms.detail).toBe('SMS provider error: no SMS/voice vendor configured: sms to +86…8000 not sent');
    const call = await new VoiceChannel(provider).send(
      note({ name: 'Daughter', channel: 'voice', address: '+8613800138000' }),
    );
    expect(call).toMatchObject({ status: 'failed' });
    expect(call.detail).toContain('voice to +86…8000 not sent');
  });
});

describe('SMS and voice channels', () => {
  it('send the subject and body to the number', async () => {
    const provider = new RecordingPhoneProvider();
    const sms = new SmsChannel(provider);
    const voice = new VoiceChannel(provider);
    expect(await sms.send(note({ name: 'Daughter', channel: 'sms', address: '+8613800138000' }))).toEqual({
      status: 'delivered',
      detail: 'SMS accepted by the provider (id recorded-1)',
    });
    expect(await voice.send(note({ name: 'Daughter', channel: 'voice', address: '+8613800138000' }))).toEqual(
      {
        status: 'delivered',
        detail: 'call accepted by the provider (id recorded-2)',
      },
    );
    expect(provider.messages).toEqual([
      {
        kind: 'sms',
        to: '+8613800138000',
        text: 'SOS: bed-1\nSOS button pressed in the bedroom',
        providerId: 'recorded-1',
      },
      {
        kind: 'voice',
        to: '+8613800138000',
        text: 'SOS: bed-1. SOS button pressed in the bedroom',
        providerId: 'recorded-2',
      },
    ]);
  });

  it('fail for good, with a clear message and without calling the provider, on a number that is not E.164', async () => {
    const provider = new RecordingPhoneProvider();
    for (const channel of [new SmsChannel(provider), new VoiceChannel(provider)]) {
      const outcome = await channel.send(
        note({ name: 'Son', channel: channel.kind, address: '13912345678' }),
      );
      expect(outcome.status).toBe('failed');
      expect(outcome.detail).toMatch(/recipient "Son": address is not an E\.164 phone number/);
      expect(outcome.detail).not.toContain('13912345678');
    }
    expect(provider.messages).toEqual([]);
  });

  it('retry after a transient provider error, fail after a permanent one', async () => {
    const provider = new RecordingPhoneProvider();
    const sms = new SmsChannel(provider);
    const to = { name: 'Son', channel: 'sms' as const, address: '+8613800138000' };
    provider.failNext(
      new Error('socket hang up'),
      new PhoneProviderError('throttled', { retriable: true }),
      new PhoneProviderError('number is barred', { retriable: false }),
    );
    expect(await sms.send(note(to))).toEqual({
      status: 'retry',
      detail: 'SMS provider error: socket hang up',
    });
    expect((await sms.send(note(to))).status).toBe('retry');
    expect(await sms.send(note(to))).toEqual({
      status: 'failed',
      detail: 'SMS provider error: number is barred',
    });
  });

  it('cut long SMS texts', () => {
    const text = smsText(
      note({ name: 'x', channel: 'sms', address: '+8613800138000' }, 'x'.repeat(1000)),
      100,
    );
    expect(text).toHaveLength(100);
    expect(text.endsWith('…')).toBe(true);
  });
});

describe('masked addresses for logs', () => {
  it('keep a few digits of a number and only the origin of a URL', () => {
    expect(maskAddress('+8613800138000')).toBe('+8613*******00');
    expect(maskAddress('https://hooks.example.com/services/T0/B0/secret-token?x=1')).toBe(
      'https://hooks.example.com/…',
    );
    expect(maskAddress('not a url')).toBe('[unparsable address]');
  });
});
