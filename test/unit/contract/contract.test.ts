import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../../common/ids.js';
import {
  type AlarmMessage,
  alarmMessageSchema,
  allGatewaysFilter,
  commandMessageSchema,
  encodePayload,
  gatewayTopic,
  parseGatewayTopic,
  parsePayload,
} from '../../../contract/index.js';

const alarm = (overrides: Partial<AlarmMessage> = {}): AlarmMessage => ({
  v: 1,
  id: uuidv7(),
  gatewayId: 'gw-1',
  bedId: 'bed-1',
  seq: 1,
  type: 'sos_button',
  severity: 'critical',
  state: 'raised',
  at: '2026-11-22T10:00:00.000Z',
  evidence: [{ deviceId: 'sos', kind: 'button_press', at: '2026-11-22T10:00:00.000Z' }],
  ...overrides,
});

describe('topics', () => {
  it('builds and parses the contract topics', () => {
    expect(gatewayTopic('gw-1', 'alarm')).toBe('homebed/v1/gw/gw-1/alarm');
    expect(allGatewaysFilter('heartbeat')).toBe('homebed/v1/gw/+/heartbeat');
    expect(parseGatewayTopic('homebed/v1/gw/gw-1/ack')).toEqual({ gatewayId: 'gw-1', kind: 'ack' });
  });

  it('rejects anything that is not exactly a contract topic', () => {
    for (const t of [
      'homebed/v1/gw/gw-1',
      'homebed/v2/gw/gw-1/alarm',
      'homebed/v1/gw/gw-1/alarm/x',
      'homebed/v1/gw/+/alarm',
      'homebed/v1/gw/gw-1/reboot',
    ]) {
      expect(parseGatewayTopic(t)).toBeNull();
    }
    expect(() => gatewayTopic('a/b', 'alarm')).toThrow(/invalid gateway id/);
  });
});

describe('payloads', () => {
  it('round-trips a valid alarm', () => {
    const a = alarm();
    const parsed = parsePayload(alarmMessageSchema, encodePayload(alarmMessageSchema, a));
    expect(parsed).toEqual({ ok: true, value: a });
  });

  it('names the fields that are wrong', () => {
    const bad = { ...alarm(), type: 'coffee', seq: 0 };
    const result = parsePayload(alarmMessageSchema, JSON.stringify(bad));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toContain('seq:');
      expect(result.error).toContain('type:');
    }
    expect(parsePayload(alarmMessageSchema, 'not json')).toEqual({ ok: false, error: 'payload is not JSON' });
  });

  it('refuses to encode an invalid message (the bug shows at the sender)', () => {
    expect(() => encodePayload(alarmMessageSchema, { ...alarm(), id: 'not-a-uuid' })).toThrow();
  });
});

describe('commands', () => {
  it('accept a heartbeat interval within 5–3600 s and nothing else', () => {
    expect(
      parsePayload(commandMessageSchema, '{"v":1,"cmd":"set_heartbeat_interval","intervalS":60}').ok,
    ).toBe(true);
    expect(
      parsePayload(commandMessageSchema, '{"v":1,"cmd":"set_heartbeat_interval","intervalS":9999}').ok,
    ).toBe(false);
    expect(parsePayload(commandMessageSchema, '{"v":1,"cmd":"reboot"}').ok).toBe(false);
  });
});

describe('uuidv7', () => {
  it('is a version-7 UUID whose order follows creation time, even within one millisecond', () => {
    const ids = [uuidv7(1000), uuidv7(1000), uuidv7(1000), uuidv7(2000), uuidv7(1500)];
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
