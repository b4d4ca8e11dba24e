import { describe, expect, it } from 'vitest';
import {
  decodeReport,
  type EncodableSeeedReport,
  encodeFrame,
  encodeReport,
  isQuery,
  queryFirmwareVersion,
  queryProductModel,
  resetModule,
  type SeeedFrame,
  SeeedFramer,
} from '../../../gateway/devices/protocols/seeed/index.js';
import {
  COMMAND_FRAMES,
  fromHex,
  PADDED_MODEL_REPLY,
  REPORT_FRAMES,
  toHex,
} from '../../fixtures/protocols/seeed-frames.js';

/** Frames a single golden hex string through a fresh framer; fails unless it is exactly one frame. */
function frameOf(hex: string): SeeedFrame {
  const frames = new SeeedFramer().push(fromHex(hex));
  expect(frames).toHaveLength(1);
  return frames[0] as SeeedFrame;
}

function raw(control: number, command: number, ...data: number[]): SeeedFrame {
  return { control, command, data: Uint8Array.from(data) };
}

describe('golden report frames', () => {
  for (const golden of REPORT_FRAMES) {
    it(`${golden.name} (${golden.source}) decodes to its report`, () => {
      expect(decodeReport(frameOf(golden.hex))).toEqual(golden.report);
    });

    it(`${golden.name} (${golden.source}) is re-encoded to the same bytes`, () => {
      expect(toHex(encodeFrame(encodeReport(golden.report)))).toBe(golden.hex);
    });
  }
});

describe('queries', () => {
  it('builds the firmware, model and reset commands of the protocol note byte for byte', () => {
    expect(toHex(encodeFrame(queryFirmwareVersion()))).toBe(COMMAND_FRAMES.queryFirmwareVersion);
    expect(toHex(encodeFrame(queryProductModel()))).toBe(COMMAND_FRAMES.queryProductModel);
    expect(toHex(encodeFrame(resetModule()))).toBe(COMMAND_FRAMES.reset);
  });

  it('recognises the queries a host sends', () => {
    expect(isQuery(frameOf(COMMAND_FRAMES.queryFirmwareVersion))).toBe('firmware_version');
    expect(isQuery(frameOf(COMMAND_FRAMES.queryProductModel))).toBe('product_model');
  });

  it('does not take replies, resets or other frames for queries', () => {
    expect(isQuery(frameOf(COMMAND_FRAMES.reset))).toBeNull();
    expect(isQuery(encodeReport({ type: 'firmware_version', version: 'G60FD1SYv010104' }))).toBeNull();
    expect(isQuery(raw(0x02, 0xa4, 0x0e))).toBeNull();
    expect(isQuery(raw(0x02, 0xa2, 0x0f))).toBeNull();
    expect(isQuery(raw(0x03, 0xa1, 0x0f))).toBeNull();
  });

  it('decodes a query frame echoed back as invalid rather than as a one-character string', () => {
    expect(decodeReport(frameOf(COMMAND_FRAMES.queryProductModel))).toEqual({
      type: 'invalid',
      control: 0x02,
      command: 0xa1,
      reason: 'query frame (data 0F), not a reply',
    });
  });
});

describe('string replies', () => {
  it('trims NUL padding and whitespace', () => {
    expect(decodeReport(frameOf(PADDED_MODEL_REPLY))).toEqual({ type: 'product_model', model: 'MR60BHA1' });
    const padded = raw(
      0x02,
      0xa4,
      0x00,
      0x20,
      ...new TextEncoder().encode('G60SM1SYv010009'),
      0x0d,
      0x0a,
      0x00,
    );
    expect(decodeReport(padded)).toEqual({ type: 'firmware_version', version: 'G60SM1SYv010009' });
  });

  it('rejects empty and non-ASCII replies as invalid', () => {
    expect(decodeReport(raw(0x02, 0xa1))).toEqual({
      type: 'invalid',
      control: 0x02,
      command: 0xa1,
      reason: 'empty string',
    });
    expect(decodeReport(raw(0x02, 0xa4, 0x00, 0x00))).toMatchObject({
      type: 'invalid',
      reason: 'empty string',
    });
    expect(decodeReport(raw(0x02, 0xa4, 0x47, 0xff, 0x31))).toEqual({
      type: 'invalid',
      control: 0x02,
      command: 0xa4,
      reason: 'byte 0xFF at 1 is not printable ASCII',
    });
  });
});

describe('invalid values never throw', () => {
  const cases: [string, SeeedFrame, string][] = [
    ['presence 2', raw(0x80, 0x01, 2), 'value 2 is not 0 or 1'],
    ['motion 3', raw(0x80, 0x02, 3), 'value 3 is not a documented code'],
    ['body movement 101', raw(0x80, 0x03, 101), 'body movement 101 is above 100'],
    ['breath status 0', raw(0x81, 0x01, 0), 'value 0 is not a documented code'],
    ['breath status 5', raw(0x81, 0x01, 5), 'value 5 is not a documented code'],
    ['bed state 3', raw(0x84, 0x01, 3), 'value 3 is not a documented code'],
    ['sleep state 4', raw(0x84, 0x02, 4), 'value 4 is not a documented code'],
    ['fall 2', raw(0x83, 0x01, 2), 'value 2 is not 0 or 1'],
    ['stationary residency 7', raw(0x83, 0x05, 7), 'value 7 is not 0 or 1'],
    ['sleep anomaly 4', raw(0x84, 0x0e, 4), 'value 4 is not a documented code'],
    ['heart rate with two bytes', raw(0x85, 0x02, 0, 72), 'expected 1 data byte, got 2'],
    ['breath rate with no byte', raw(0x81, 0x02), 'expected 1 data byte, got 0'],
    ['presence with no byte', raw(0x80, 0x01), 'expected 1 data byte, got 0'],
    ['heartbeat with two bytes', raw(0x01, 0x01, 0x0f, 0x0f), 'expected 1 data byte, got 2'],
    ['distance with one byte', raw(0x80, 0x04, 100), 'expected 2 data bytes, got 1'],
    ['awake minutes with three bytes', raw(0x84, 0x03, 0, 0, 30), 'expected 2 data bytes, got 3'],
    ['sleep summary too short', raw(0x84, 0x0c, 1, 1, 14), 'expected 8 data bytes, got 3'],
    [
      'sleep summary presence 2',
      raw(0x84, 0x0c, 2, 1, 14, 62, 3, 5, 20, 0),
      'presence value 2 is not 0 or 1',
    ],
    [
      'sleep summary state 9',
      raw(0x84, 0x0c, 1, 9, 14, 62, 3, 5, 20, 0),
      'sleep state 9 is not a documented code',
    ],
    ['sleep quality too short', raw(0x84, 0x0d, 82), 'expected 12 data bytes, got 1'],
  ];
  for (const [name, frame, reason] of cases) {
    it(name, () => {
      expect(decodeReport(frame)).toEqual({
        type: 'invalid',
        control: frame.control,
        command: frame.command,
        reason,
      });
    });
  }

  it('accepts the whole byte range for heart and breath rate (plausibility is the device layer’s call)', () => {
    expect(decodeReport(raw(0x85, 0x02, 0))).toEqual({ type: 'heart_rate', bpm: 0 });
    expect(decodeReport(raw(0x85, 0x02, 255))).toEqual({ type: 'heart_rate', bpm: 255 });
    expect(decodeReport(raw(0x81, 0x02, 40))).toEqual({ type: 'breath_rate', perMin: 40 });
  });

  it('accepts the body-movement bounds 0 and 100', () => {
    expect(decodeReport(raw(0x80, 0x03, 0))).toEqual({ type: 'body_movement', value: 0 });
    expect(decodeReport(raw(0x80, 0x03, 100))).toEqual({ type: 'body_movement', value: 100 });
  });
});

describe('unknown frames', () => {
  it('passes an undocumented control/command through with its data', () => {
    const frame = frameOf(COMMAND_FRAMES.realtimeMode);
    const report = decodeReport(frame);
    expect(report).toEqual({ type: 'unknown', control: 0x84, command: 0x0f, data: Uint8Array.of(0x00) });
    if (report.type !== 'unknown') throw new Error('expected unknown');
    expect(toHex(encodeFrame(encodeReport(report)))).toBe(COMMAND_FRAMES.realtimeMode);
  });

  it('copies the data, so the report survives changes to the frame', () => {
    const frame = raw(0x85, 0x05, 0x80, 0x81, 0x82, 0x83, 0x84);
    const report = decodeReport(frame);
    frame.data.fill(0);
    expect(report).toEqual({
      type: 'unknown',
      control: 0x85,
      command: 0x05,
      data: Uint8Array.of(0x80, 0x81, 0x82, 0x83, 0x84),
    });
  });
});

describe('encodeReport', () => {
  it('sends the heartbeat with data 0F, as real modules do', () => {
    expect(encodeReport({ type: 'heartbeat' })).toEqual(raw(0x01, 0x01, 0x0f));
  });

  it('encodes every sleep phase to its own command word', () => {
    const commands = (['awake', 'light', 'deep'] as const).map(
      (phase) => encodeReport({ type: 'sleep_duration', phase, minutes: 1 }).command,
    );
    expect(commands).toEqual([0x03, 0x04, 0x05]);
  });

  it('round-trips a representative report of every type through bytes and the framer', () => {
    const reports: EncodableSeeedReport[] = [
      { type: 'sleep_state', state: 'awake' },
      { type: 'sleep_state', state: 'none' },
      { type: 'bed_state', state: 'none' },
      { type: 'breath_status', status: 'too_slow' },
      { type: 'stationary_residency', present: false },
      { type: 'sleep_duration', phase: 'light', minutes: 0xffff },
      { type: 'sleep_anomaly', anomaly: 'under_4h' },
      { type: 'sleep_anomaly', anomaly: 'over_12h' },
      { type: 'sleep_anomaly', anomaly: 'none' },
    ];
    const framer = new SeeedFramer();
    const frames = framer.push(Uint8Array.from(reports.flatMap((r) => [...encodeFrame(encodeReport(r))])));
    expect(frames.map((f) => decodeReport(f))).toEqual(reports);
  });

  it('rejects values the wire format cannot carry', () => {
    expect(() => encodeReport({ type: 'heart_rate', bpm: 256 })).toThrow(RangeError);
    expect(() => encodeReport({ type: 'heart_rate', bpm: 71.5 })).toThrow(RangeError);
    expect(() => encodeReport({ type: 'breath_rate', perMin: -1 })).toThrow(RangeError);
    expect(() => encodeReport({ type: 'body_movement', value: 101 })).toThrow(RangeError);
    expect(() => encodeReport({ type: 'distance', cm: 0x10000 })).toThrow(RangeError);
    expect(() => encodeReport({ type: 'product_model', model: '' })).toThrow(RangeError);
    expect(() => encodeReport({ type: 'product_model', model: ' MR60' })).toThrow(RangeError);
    expect(() => encodeReport({ type: 'firmware_version', version: 'v1\u00e9' })).toThrow(RangeError);
    expect(() => encodeReport({ type: 'motion', motion: 'running' as 'active' })).toThrow(RangeError);
  });
});

describe('golden frame coverage', () => {
  type ReportType = Exclude<EncodableSeeedReport['type'], 'unknown'>;
  /**
   * Per report type of either module, the values that must each have a golden frame (`''`: one frame of
   * any value). A Record, so a report type added to the codec fails to compile until it is listed here.
   */
  const REQUIRED: Record<ReportType, readonly string[]> = {
    heartbeat: [''],
    presence: ['true', 'false'],
    motion: ['none', 'stationary', 'active'],
    body_movement: [''],
    distance: [''],
    breath_status: ['normal', 'too_fast', 'too_slow', 'none'],
    breath_rate: [''],
    heart_rate: [''],
    bed_state: ['out_of_bed', 'in_bed', 'none'],
    sleep_state: ['deep', 'light', 'awake', 'none'],
    fall: ['true', 'false'],
    stationary_residency: ['true', 'false'],
    // The model reply of each module (MR60BHA1 bed radar, MR60FDA1 fall radar).
    product_model: ['MR60BHA1', 'MR60FDA1'],
    firmware_version: [''],
    sleep_duration: ['awake', 'light', 'deep'],
    sleep_score: [''],
    sleep_summary: [''],
    sleep_quality: [''],
    sleep_anomaly: ['under_4h', 'over_12h', 'long_absence', 'none'],
  };

  function variant(report: EncodableSeeedReport): string {
    switch (report.type) {
      case 'presence':
      case 'stationary_residency':
        return String(report.present);
      case 'fall':
        return String(report.fallen);
      case 'motion':
        return report.motion;
      case 'breath_status':
        return report.status;
      case 'bed_state':
      case 'sleep_state':
        return report.state;
      case 'sleep_duration':
        return report.phase;
      case 'sleep_anomaly':
        return report.anomaly;
      case 'product_model':
        return report.model;
      default:
        return '';
    }
  }

  it('every report and value has a golden frame', () => {
    const have = new Set(REPORT_FRAMES.map((g) => `${g.report.type}:${variant(g.report)}`));
    const wanted = Object.entries(REQUIRED).flatMap(([type, values]) =>
      values.map((value) => (value === '' ? type : `${type}:${value}`)),
    );
    const missing = wanted.filter((key) =>
      key.includes(':') ? !have.has(key) : ![...have].some((h) => h.startsWith(`${key}:`)),
    );
    expect(missing).toEqual([]);
  });
});
