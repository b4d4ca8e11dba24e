import { HomebedError } from '../../common/errors.js';
import { ALARM_TYPES, RESOLUTION_OUTCOMES, SEVERITIES } from '../../contract/index.js';
import type { CoverageReport } from './coverage.js';
import type { ResponseTimeGroup, ResponseTimeStats } from './response-times.js';

/**
 * Exports of the statistics for regulators: CSV (RFC 4180) and JSON, both
 * from flat tables whose rows carry ids only. Regulators must never receive
 * a resident's name or contact details, so every export checks its table:
 * a row key outside the declared columns, a column that looks like personal
 * data (`residentName`, `phone`, `address`, …), or a nested value is refused
 * with `HB_EXPORT_PERSONAL_DATA`, however the row got there.
 */

export type Cell = string | number | boolean | null | undefined;
export type ExportRow = Readonly<Record<string, Cell>>;

/** A flat table: the columns in order, and rows keyed by them (a missing key is an empty cell). */
export interface ExportTable<R extends ExportRow = ExportRow> {
  columns: readonly string[];
  rows: readonly R[];
}

export interface CsvOptions {
  /**
   * Start with a UTF-8 byte order mark, so Excel (as used in China) opens the
   * file as UTF-8 instead of the local GBK code page. Default false.
   */
  bom?: boolean;
}

/** Column names never exported, compared in lower case with `_`, `-`, `.` and spaces removed. */
const PERSONAL_KEYS = new Set([
  'phone',
  'phonenumber',
  'mobile',
  'mobilenumber',
  'telephone',
  'tel',
  'residentphone',
  'contactphone',
  'familyphone',
  'email',
  'dob',
  'notes',
  'note',
  'acknowledgedby',
  'resolvedby',
]);
/**
 * Fragments that make any column name personal: …name (residentName, fullName),
 * addresses, ID cards, birth dates, and the same in Chinese.
 */
const PERSONAL_FRAGMENTS = [
  'name',
  'address',
  'idcard',
  'idnumber',
  'identity',
  'birth',
  '姓名',
  '电话',
  '地址',
  '身份证',
];

/** Why a column name is refused, or null when it may be exported. */
export function personalDataReason(column: string): string | null {
  const key = column.toLowerCase().replace(/[\s_.-]/g, '');
  if (PERSONAL_KEYS.has(key)) return `"${column}" is personal data`;
  const fragment = PERSONAL_FRAGMENTS.find((f) => key.includes(f));
  return fragment ? `"${column}" looks like personal data (${fragment})` : null;
}

function refuse(message: string): never {
  throw new HomebedError('HB_EXPORT_PERSONAL_DATA', `export refused: ${message}`);
}

/**
 * Throws `HB_EXPORT_PERSONAL_DATA` unless the table is safe to hand out:
 * no personal-looking column, every row key declared as a column, every cell
 * a string, number (finite), boolean, null or undefined.
 */
export function assertExportable(table: ExportTable): void {
  const columns = new Set(table.columns);
  if (columns.size !== table.columns.length) refuse('a column is declared twice');
  for (const column of table.columns) {
    const reason = personalDataReason(column);
    if (reason) refuse(reason);
  }
  table.rows.forEach((row, i) => {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) refuse(`row ${i} is not an object`);
    for (const [key, value] of Object.entries(row)) {
      const reason = personalDataReason(key);
      if (reason) refuse(`row ${i}: ${reason}`);
      if (!columns.has(key)) refuse(`row ${i} has the undeclared field "${key}"`);
      const type = typeof value;
      if (
        value !== null &&
        value !== undefined &&
        type !== 'string' &&
        type !== 'number' &&
        type !== 'boolean'
      ) {
        refuse(`row ${i}: "${key}" is a ${Array.isArray(value) ? 'list' : type}, not a plain value`);
      }
      if (type === 'number' && !Number.isFinite(value)) refuse(`row ${i}: "${key}" is ${value}`);
    }
  });
}

/** One CSV field: quoted when it holds a comma, a double quote, CR or LF, with quotes doubled (RFC 4180). */
export function csvField(value: Cell): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * RFC 4180 CSV: a header row with the column names, then one record per row,
 * every line ended by CRLF; null and missing cells are empty. Times are
 * whatever the rows hold (the builders below use ISO 8601 UTC). Returns text;
 * write it as UTF-8.
 */
export function toCsv(table: ExportTable, options: CsvOptions = {}): string {
  assertExportable(table);
  const lines = [table.columns.map(csvField).join(',')];
  for (const row of table.rows) lines.push(table.columns.map((c) => csvField(row[c])).join(','));
  return `${options.bom ? '\uFEFF' : ''}${lines.map((l) => `${l}\r\n`).join('')}`;
}

/** A JSON array of objects with the columns as keys, in column order; missing cells are null. */
export function toJson(table: ExportTable, options: { indent?: number } = {}): string {
  assertExportable(table);
  const rows = table.rows.map((row) => Object.fromEntries(table.columns.map((c) => [c, row[c] ?? null])));
  return JSON.stringify(rows, null, options.indent);
}

function thresholdColumns(thresholdS: number): [string, string, string] {
  return [
    `ack_within_${thresholdS}s`,
    `ack_within_${thresholdS}s_eligible`,
    `ack_within_${thresholdS}s_share`,
  ];
}

function statsCells(stats: ResponseTimeStats): Record<string, Cell> {
  const cells: Record<string, Cell> = {
    alarms: stats.count,
    acknowledged: stats.acknowledged,
    unacknowledged: stats.unacknowledged,
    tta_p50_s: stats.timeToAcknowledgeS.p50,
    tta_p90_s: stats.timeToAcknowledgeS.p90,
    tta_p99_s: stats.timeToAcknowledgeS.p99,
    tta_max_s: stats.timeToAcknowledgeS.max,
    resolved: stats.resolved,
    ttr_p50_s: stats.timeToResolveS.p50,
    ttr_p90_s: stats.timeToResolveS.p90,
  };
  for (const w of stats.acknowledgedWithin) {
    const [within, eligible, share] = thresholdColumns(w.thresholdS);
    cells[within] = w.within;
    cells[eligible] = w.eligible;
    cells[share] = w.share;
  }
  for (const type of ALARM_TYPES) cells[`type_${type}`] = stats.byType[type];
  for (const outcome of RESOLUTION_OUTCOMES) cells[`outcome_${outcome}`] = stats.byOutcome[outcome];
  return cells;
}

/**
 * Response-time groups as a table: two rows per group, `bucket` = `calls`
 * then `separate` (with the severities each holds), times in seconds, shares
 * 0..1, a column per alarm type and per outcome.
 */
export function responseTimeTable(groups: readonly ResponseTimeGroup[]): ExportTable {
  const thresholds = [
    ...new Set(groups.flatMap((g) => g.calls.acknowledgedWithin.map((w) => w.thresholdS))),
  ].sort((a, b) => a - b);
  const columns = [
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
    ...thresholds.flatMap(thresholdColumns),
    'resolved',
    'ttr_p50_s',
    'ttr_p90_s',
    ...ALARM_TYPES.map((t) => `type_${t}`),
    ...RESOLUTION_OUTCOMES.map((o) => `outcome_${o}`),
  ];
  const rows = groups.flatMap((g) => {
    const separate = g.separateSeverities;
    const calls = SEVERITIES.filter((s) => !separate.includes(s));
    const base = { group: g.key, from: g.from ?? null, to: g.to ?? null };
    return [
      { ...base, bucket: 'calls', severities: calls.join(' '), ...statsCells(g.calls) },
      { ...base, bucket: 'separate', severities: separate.join(' '), ...statsCells(g.separate) },
    ];
  });
  return { columns, rows };
}

/** One bed's coverage report, named by the bed's id only. */
export interface BedCoverage {
  bedId: string;
  report: CoverageReport;
}

/**
 * Coverage per bed and local day: watched and unwatched time in seconds,
 * share 0..1, gateway-offline seconds and, per device, silent seconds as
 * `device_silent_<id>_s` (a column for every device id in any report).
 */
export function coverageDayTable(beds: readonly BedCoverage[]): ExportTable {
  const deviceIds = [
    ...new Set(beds.flatMap((b) => b.report.days.flatMap((d) => Object.keys(d.deviceSilentMs)))),
  ].sort();
  const columns = [
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
    ...deviceIds.map((id) => `device_silent_${id}_s`),
  ];
  const rows = beds.flatMap(({ bedId, report }) =>
    report.days.map((d) => {
      const row: Record<string, Cell> = {
        bed_id: bedId,
        date: d.date,
        time_zone: report.timeZone,
        from: d.from,
        to: d.to,
        period_s: d.periodMs / 1000,
        watched_s: d.watchedMs / 1000,
        unwatched_s: d.unwatchedMs / 1000,
        share: d.share,
        gateway_offline_s: d.gatewayOfflineMs / 1000,
      };
      for (const [id, ms] of Object.entries(d.deviceSilentMs)) row[`device_silent_${id}_s`] = ms / 1000;
      return row;
    }),
  );
  return { columns, rows };
}

/** The unwatched gaps per bed: one row per gap, causes joined by a space. */
export function coverageGapTable(beds: readonly BedCoverage[]): ExportTable {
  const columns = ['bed_id', 'from', 'to', 'duration_s', 'causes'];
  const rows = beds.flatMap(({ bedId, report }) =>
    report.gaps.map((g) => ({
      bed_id: bedId,
      from: g.from,
      to: g.to,
      duration_s: g.durationMs / 1000,
      causes: g.causes.join(' '),
    })),
  );
  return { columns, rows };
}
