import { describe, expect, it } from 'vitest';
import { coverage } from '../../../../cloud/stats/coverage.js';
import {
  assertExportable,
  coverageDayTable,
  coverageGapTable,
  csvField,
  type ExportTable,
  personalDataReason,
  responseTimeTable,
  toCsv,
  toJson,
} from '../../../../cloud/stats/export.js';
import { responseTimesByPeriod } from '../../../../cloud/stats/response-times.js';
import { HomebedError } from '../../../../common/errors.js';

const H = 3_600_000;

/** A strict RFC 4180 reader, to check that what is written reads back as it was. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i++;
      } else {
        field += c;
        i++;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
      i++;
    } else if (c === ',') {
      record.push(field);
      field = '';
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 2;
    } else {
      if (c === '\r' || c === '\n' || c === '"') throw new Error(`bare ${JSON.stringify(c)} at ${i}`);
      field += c;
      i++;
    }
  }
  if (field !== '' || record.length > 0) throw new Error('last record not ended by CRLF');
  return records;
}

function expectRefused(fn: () => unknown, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(HomebedError);
  expect((caught as HomebedError).code).toBe('HB_EXPORT_PERSONAL_DATA');
  expect((caught as HomebedError).message).toMatch(message);
}

describe('CSV', () => {
  it('quotes fields as RFC 4180 says: only when needed, quotes doubled', () => {
    expect(csvField('bed-1')).toBe('bed-1');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\r')).toBe('"cr\r"');
    expect(csvField(0.625)).toBe('0.625');
    expect(csvField(false)).toBe('false');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
  });

  it('writes a header row, CRLF line ends, empty cells for null and missing, and reads back unchanged', () => {
    const table: ExportTable = {
      columns: ['bed_id', 'alarms', 'share', 'from'],
      rows: [
        { bed_id: '床位-01', alarms: 3, share: 0.5, from: '2026-03-04T16:00:00.000Z' },
        { bed_id: 'odd, "quoted"\r\nid', share: null },
      ],
    };
    const csv = toCsv(table);
    expect(csv).toBe(
      'bed_id,alarms,share,from\r\n' +
        '床位-01,3,0.5,2026-03-04T16:00:00.000Z\r\n' +
        '"odd, ""quoted""\r\nid",,,\r\n',
    );
    expect(parseCsv(csv)).toEqual([
      ['bed_id', 'alarms', 'share', 'from'],
      ['床位-01', '3', '0.5', '2026-03-04T16:00:00.000Z'],
      ['odd, "quoted"\r\nid', '', '', ''],
    ]);
  });

  it('starts with a UTF-8 byte order mark only when asked (Excel in China)', () => {
    const table: ExportTable = { columns: ['bed_id'], rows: [{ bed_id: '床位-01' }] };
    const withBom = Buffer.from(toCsv(table, { bom: true }), 'utf8');
    expect([...withBom.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(withBom.subarray(3).toString('utf8')).toBe('bed_id\r\n床位-01\r\n');
    expect(Buffer.from(toCsv(table), 'utf8')[0]).toBe(0x62); // "b"
  });
});

describe('JSON', () => {
  it('an array of objects in column order, missing cells as null', () => {
    const table: ExportTable = { columns: ['b', 'a'], rows: [{ a: 1, b: 'x' }, { b: 'y' }] };
    expect(toJson(table)).toBe('[{"b":"x","a":1},{"b":"y","a":null}]');
    expect(JSON.parse(toJson(table, { indent: 2 }))).toEqual([
      { b: 'x', a: 1 },
      { b: 'y', a: null },
    ]);
  });
});

describe('no personal data leaves through an export', () => {
  const columns = ['bed_id', 'share'];

  it('refuses a row object carrying residentName, in CSV and JSON', () => {
    // As it would arrive from a careless join: the type system is bypassed, the runtime check is not.
    const row = { bed_id: 'bed-1', share: 1, residentName: '张三' };
    const table: ExportTable = { columns, rows: [row] };
    expectRefused(() => toCsv(table), /residentName/);
    expectRefused(() => toJson(table), /residentName/);
  });

  it('refuses personal columns even when declared, and any undeclared field', () => {
    expectRefused(() => toCsv({ columns: ['bed_id', 'residentName'], rows: [] }), /residentName/);
    expectRefused(() => toCsv({ columns: ['bed_id', 'resident_name'], rows: [] }), /resident_name/);
    expectRefused(() => toCsv({ columns: ['bed_id', 'phone'], rows: [] }), /phone/);
    expectRefused(() => toJson({ columns: ['bed_id', 'notes'], rows: [] }), /notes/);
    expectRefused(
      () => toCsv({ columns, rows: [{ bed_id: 'bed-1', extra: 'x' }] }),
      /undeclared field "extra"/,
    );
  });

  it('refuses nested values (a resident object would hide its name)', () => {
    const row = { bed_id: 'bed-1', share: { name: '张三' } } as unknown as Record<string, string>;
    expectRefused(() => toJson({ columns, rows: [row] }), /not a plain value/);
    expectRefused(() => toCsv({ columns, rows: [{ bed_id: 'bed-1', share: Number.NaN }] }), /NaN/);
  });

  it('lets ids and the built-in columns through', () => {
    for (const column of [
      'bed_id',
      'residentId',
      'gateway_id',
      'outcome_resident_fine_by_phone',
      'time_zone',
    ]) {
      expect(personalDataReason(column)).toBeNull();
    }
    for (const column of [
      'fullName',
      'contact-name',
      'address',
      'id_card',
      'dateOfBirth',
      'acknowledgedBy',
      '姓名',
    ]) {
      expect(personalDataReason(column)).not.toBeNull();
    }
  });
});

describe('tables of the statistics', () => {
  it('response times: two rows per group, a column per threshold, type and outcome', () => {
    const now = '2026-03-05T04:00:00.000Z';
    const groups = responseTimesByPeriod(
      [
        {
          id: 'a1',
          bedId: 'bed-1',
          type: 'sos_button',
          severity: 'critical',
          state: 'raised',
          receivedAt: '2026-03-05T03:00:00.000Z',
          acknowledgedAt: '2026-03-05T03:00:45.000Z',
          resolvedAt: '2026-03-05T03:10:00.000Z',
          outcome: 'resident_fine_by_phone',
        },
        {
          id: 'a2',
          bedId: 'bed-1',
          type: 'device_offline',
          severity: 'technical',
          state: 'raised',
          receivedAt: '2026-03-05T01:00:00.000Z',
        },
      ],
      'day',
      { now },
    );
    const table = responseTimeTable(groups);
    expect(table.columns.slice(0, 16)).toEqual([
      'group',
      'from',
      'to',
      'bucket',
      'severities',
      'alarms',
      'acknowledged',
      'unacknowledged',
      'tta_p50_s',
      'tta_p90_s',
      'tta_p99_s',
      'tta_max_s',
      'ack_within_60s',
      'ack_within_60s_eligible',
      'ack_within_60s_share',
      'ack_within_180s',
    ]);
    expect(table.columns).toContain('type_sos_button');
    expect(table.columns).toContain('outcome_ambulance_called');
    expect(table.rows).toHaveLength(2);
    expect(table.rows[0]).toMatchObject({
      group: '2026-03-05',
      from: '2026-03-04T16:00:00.000Z',
      to: '2026-03-05T16:00:00.000Z',
      bucket: 'calls',
      severities: 'critical warning',
      alarms: 1,
      tta_p50_s: 45,
      ack_within_60s: 1,
      ack_within_60s_share: 1,
      resolved: 1,
      ttr_p50_s: 600, // 03:00:00 → 03:10:00
      type_sos_button: 1,
      outcome_resident_fine_by_phone: 1,
    });
    // The technical alarm, open for 3 h: a miss at both thresholds; no times.
    expect(table.rows[1]).toMatchObject({
      bucket: 'separate',
      severities: 'technical info',
      alarms: 1,
      unacknowledged: 1,
      tta_p50_s: null,
      ack_within_60s: 0,
      ack_within_60s_eligible: 1,
      ack_within_60s_share: 0,
      type_device_offline: 1,
    });
    const csv = parseCsv(toCsv(table, { bom: false }));
    expect(csv).toHaveLength(3);
    expect(csv[0]).toEqual(table.columns);
    // Empty cell for a figure that does not exist (no acknowledged technical alarm).
    expect(csv[2]![table.columns.indexOf('tta_p50_s')]).toBe('');
  });

  it('coverage: a row per bed and day, and a row per gap', () => {
    const from = Date.parse('2026-03-04T16:00:00Z'); // 5 March 00:00 in Shanghai
    const beats: number[] = [];
    for (let t = from - 60_000; t <= from + 24 * H; t += 60_000) {
      // Gateway silent 10:00–12:00 local (02:00Z–04:00Z); beats stop 3 min early so it is gone at 10:00.
      if (t <= from + 10 * H - 3 * 60_000 || t >= from + 12 * H) beats.push(t);
    }
    const report = coverage({
      from,
      to: from + 24 * H,
      gateway: { heartbeatIntervalMs: 60_000, statuses: [], heartbeats: beats },
      devices: [{ id: 'bed-radar', reporting: [[from - H, from + 25 * H]] }],
    });
    const days = coverageDayTable([{ bedId: 'bed-1', report }]);
    expect(days.columns).toEqual([
      'bed_id',
      'date',
      'time_zone',
      'from',
      'to',
      'period_s',
      'watched_s',
      'unwatched_s',
      'share',
      'gateway_offline_s',
      'device_silent_bed-radar_s',
    ]);
    // 2 h offline: watched 22 h = 79 200 s of 86 400 s.
    expect(days.rows).toEqual([
      {
        bed_id: 'bed-1',
        date: '2026-03-05',
        time_zone: 'Asia/Shanghai',
        from: '2026-03-04T16:00:00.000Z',
        to: '2026-03-05T16:00:00.000Z',
        period_s: 86_400,
        watched_s: 79_200,
        unwatched_s: 7_200,
        share: 22 / 24,
        gateway_offline_s: 7_200,
        'device_silent_bed-radar_s': 0,
      },
    ]);
    const gaps = coverageGapTable([{ bedId: 'bed-1', report }]);
    expect(toCsv(gaps)).toBe(
      'bed_id,from,to,duration_s,causes\r\nbed-1,2026-03-05T02:00:00.000Z,2026-03-05T04:00:00.000Z,7200,gateway_offline\r\n',
    );
    expect(() => assertExportable(days)).not.toThrow();
  });
});
