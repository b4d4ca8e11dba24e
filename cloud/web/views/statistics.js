/**
 * Statistics (`/statistics`, operators, admins and regulators): how fast calls
 * were taken against the telecare targets (97.5 % within 60 s, 99 % within
 * 180 s), how long they took to close, alarms by type and outcome, and how
 * much of the time each bed was watched; with a period picker and export links.
 *
 * Reads GET /api/statistics (docs/statistics.md), which names organisations
 * and beds by id only. Residents' names are added for operators and admins
 * from GET /api/beds; a regulator's page never asks for beds, so no name can
 * reach it. The chosen range is kept in the address (`?from=&to=&period=`).
 */
import { useState } from 'preact/hooks';
import { query } from '../lib/api.js';
import { html } from '../lib/html.js';
import {
  alarmTypeLabel,
  formatDateTime,
  formatDuration,
  outcomeLabel,
  registerMessages,
  t,
} from '../lib/i18n.js';
import { navigate, searchParams } from '../lib/router.js';
import { linkViewStyles, localDate, percent, useApi } from '../lib/view-kit.js';

linkViewStyles();

/** The targets of each "acknowledged within" threshold (seconds → share). */
export const TARGETS = { 60: 0.975, 180: 0.99 };
const PERIODS = ['day', 'week', 'month'];
const EXPORT_TABLES = ['response_times', 'coverage_days', 'coverage_gaps'];

/** @param {number | null | undefined} s seconds */
const secondsText = (s) => (s === null || s === undefined ? '—' : formatDuration(s * 1000));

/**
 * @typedef {object} Within
 * @property {number} thresholdS
 * @property {number} within
 * @property {number} eligible
 * @property {number | null} share
 */

/** @param {{ w: Within }} props */
function WithinFigure({ w }) {
  const target = TARGETS[/** @type {60 | 180} */ (w.thresholdS)];
  const met = w.share === null || target === undefined ? null : w.share >= target;
  return html`<div class=${`figure-card ${met === false ? 'missed' : met ? 'met' : ''}`}>
    <div class="figure-label">${t('stats.within', { s: w.thresholdS })}</div>
    <div class="figure-value">${percent(w.share)}</div>
    <div class="figure-sub">
      ${t('stats.withinOf', { within: w.within, eligible: w.eligible })}
      ${target !== undefined ? html`<br />${t('stats.target', { share: percent(target) })}` : null}
      ${met === null ? null : html`<br /><strong>${t(met ? 'stats.met' : 'stats.missed')}</strong>`}
    </div>
  </div>`;
}

/**
 * Share acknowledged within 60 s and 180 s per period, as bars, with the targets as lines.
 * @param {{ periods: any[] }} props
 */
function WithinChart({ periods }) {
  const rows = periods.filter((p) => p.calls.count > 0);
  if (!rows.length) return null;
  const width = 640;
  const height = 200;
  const left = 40;
  const bottom = 24;
  const plotW = width - left - 8;
  const plotH = height - bottom - 8;
  const groupW = plotW / rows.length;
  const barW = Math.max(2, Math.min(24, (groupW - 4) / 2));
  const y = (/** @type {number} */ share) => 8 + plotH * (1 - share);
  const description = rows
    .map((p) => {
      const [w60, w180] = p.calls.acknowledgedWithin;
      return `${p.key}: ${percent(w60?.share)} / ${percent(w180?.share)}`;
    })
    .join('; ');
  const labelEvery = Math.ceil(rows.length / 12);
  return html`<figure class="within-chart">
    <figcaption>${t('stats.chart.caption')}</figcaption>
    <svg viewBox=${`0 0 ${width} ${height}`} role="img" aria-label=${`${t('stats.chart.caption')}: ${description}`}>
      ${[0, 0.5, 1].map(
        (s) => html`<g key=${s}>
          <line x1=${left} x2=${width - 8} y1=${y(s)} y2=${y(s)} class="grid" />
          <text x=${left - 4} y=${y(s) + 4} text-anchor="end" class="tick">${s * 100}%</text>
        </g>`,
      )}
      ${rows.map((p, i) => {
        const x = left + i * groupW + (groupW - 2 * barW) / 2;
        const [w60, w180] = p.calls.acknowledgedWithin;
        return html`<g key=${p.key}>
          ${w60?.share != null ? html`<rect class="bar-60" x=${x} y=${y(w60.share)} width=${barW} height=${plotH * w60.share} />` : null}
          ${w180?.share != null ? html`<rect class="bar-180" x=${x + barW} y=${y(w180.share)} width=${barW} height=${plotH * w180.share} />` : null}
          ${i % labelEvery === 0 ? html`<text x=${left + i * groupW + groupW / 2} y=${height - 6} text-anchor="middle" class="tick">${p.key}</text>` : null}
        </g>`;
      })}
      <line class="target-60" x1=${left} x2=${width - 8} y1=${y(TARGETS[60])} y2=${y(TARGETS[60])} />
      <line class="target-180" x1=${left} x2=${width - 8} y1=${y(TARGETS[180])} y2=${y(TARGETS[180])} />
    </svg>
    <p class="chart-legend">
      <span class="key key-60"></span>${t('stats.within', { s: 60 })}
      <span class="key key-180"></span>${t('stats.within', { s: 180 })}
      <span class="key key-target"></span>${t('stats.chart.targets')}
    </p>
  </figure>`;
}

/** @param {{ periods: any[] }} props */
function PeriodTable({ periods }) {
  if (!periods.length) return null;
  return html`<table class="period-table">
    <caption style="text-align:left">${t('stats.periods.caption')}</caption>
    <thead>
      <tr>
        <th scope="col">${t('stats.period')}</th>
        <th scope="col">${t('stats.calls')}</th>
        <th scope="col">${t('stats.tta.p50')}</th>
        <th scope="col">${t('stats.tta.p90')}</th>
        <th scope="col">${t('stats.within', { s: 60 })}</th>
        <th scope="col">${t('stats.within', { s: 180 })}</th>
        <th scope="col">${t('stats.ttr.p50')}</th>
      </tr>
    </thead>
    <tbody>
      ${periods.map((p) => {
        const c = p.calls;
        return html`<tr key=${p.key}>
          <th scope="row">${p.key}</th>
          <td>${c.count}</td>
          <td>${secondsText(c.timeToAcknowledgeS.p50)}</td>
          <td>${secondsText(c.timeToAcknowledgeS.p90)}</td>
          <td>${percent(c.acknowledgedWithin[0]?.share)}</td>
          <td>${percent(c.acknowledgedWithin[1]?.share)}</td>
          <td>${secondsText(c.timeToResolveS.p50)}</td>
        </tr>`;
      })}
    </tbody>
  </table>`;
}

/**
 * Counts by key as bars (alarm types, outcomes), largest first, zeros left out.
 * @param {{ counts: Record<string, number>, label: (key: string) => string, caption: string }} props
 */
function CountBars({ counts, label, caption }) {
  const entries = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  const max = Math.max(1, ...entries.map(([, n]) => n));
  return html`<table class="count-bars">
    <caption style="text-align:left">${caption}</caption>
    <tbody>
      ${
        entries.length
          ? entries.map(
              ([key, n]) => html`<tr key=${key}>
                <th scope="row">${label(key)}</th>
                <td class="bar-cell"><span class="count-bar" style=${`width:${(n / max) * 100}%`} aria-hidden="true"></span></td>
                <td class="num">${n}</td>
              </tr>`,
            )
          : html`<tr><td colspan="3" class="empty">${t('stats.none')}</td></tr>`
      }
    </tbody>
  </table>`;
}

/** @param {Record<string, number>} a @param {Record<string, number>} b */
function addCounts(a, b) {
  /** @type {Record<string, number>} */
  const sum = { ...a };
  for (const [k, n] of Object.entries(b)) sum[k] = (sum[k] ?? 0) + n;
  return sum;
}

/** @param {{ org: any, names: Map<string, string> | null }} props */
function CoverageSection({ org, names }) {
  const beds = [...org.beds].sort(
    (/** @type {any} */ a, /** @type {any} */ b) =>
      (a.coverage?.share ?? 2) - (b.coverage?.share ?? 2) || (a.bedId < b.bedId ? -1 : 1),
  );
  return html`<section class="stats-coverage">
    <h3>${t('stats.coverage')}</h3>
    <p>
      ${t('stats.coverage.org', { share: percent(org.coverage.share, 2), beds: org.coverage.beds })}
    </p>
    <table class="coverage-table">
      <thead>
        <tr>
          <th scope="col">${t('stats.bed')}</th>
          <th scope="col">${t('stats.coverage.share')}</th>
          <th scope="col">${t('stats.coverage.unwatched')}</th>
          <th scope="col">${t('stats.coverage.gaps')}</th>
          <th scope="col">${t('stats.calls')}</th>
        </tr>
      </thead>
      <tbody>
        ${beds.map((/** @type {any} */ b) => {
          const c = b.coverage;
          const name = names?.get(b.bedId);
          return html`<tr key=${b.bedId}>
            <th scope="row">${name ? html`${name} <span class="muted">${b.bedId}</span>` : b.bedId}</th>
            <td>
              ${
                c
                  ? html`<span class="share-bar" aria-hidden="true"><span style=${`width:${Math.round(c.share * 100)}%`}></span></span>
                    ${percent(c.share, 2)}`
                  : t('stats.coverage.noGateway')
              }
            </td>
            <td>${c ? formatDuration(c.unwatchedMs) : '—'}</td>
            <td>${c ? c.gaps.length : '—'}</td>
            <td>${b.responseTimes.calls.count}</td>
          </tr>`;
        })}
      </tbody>
    </table>
  </section>`;
}

/** @param {{ org: any, names: Map<string, string> | null, showId: boolean }} props */
function OrganisationReport({ org, names, showId }) {
  const calls = org.responseTimes.calls;
  const separate = org.responseTimes.separate;
  return html`<section class="stats-org" aria-label=${t('stats.org', { id: org.organisationId })}>
    ${showId ? html`<h2>${t('stats.org', { id: org.organisationId })}</h2>` : null}
    <p class="muted">${t('stats.range', { from: formatDateTime(org.from), to: formatDateTime(org.to), tz: org.timeZone })}</p>

    <h3>${t('stats.response')}</h3>
    <div class="figure-row">
      <div class="figure-card">
        <div class="figure-label">${t('stats.calls')}</div>
        <div class="figure-value">${calls.count}</div>
        <div class="figure-sub">${t('stats.ackUnack', { ack: calls.acknowledged, unack: calls.unacknowledged })}</div>
      </div>
      <div class="figure-card">
        <div class="figure-label">${t('stats.tta')}</div>
        <div class="figure-value">${secondsText(calls.timeToAcknowledgeS.p50)}</div>
        <div class="figure-sub">
          ${t('stats.p90', { v: secondsText(calls.timeToAcknowledgeS.p90) })}<br />
          ${t('stats.p99max', { p99: secondsText(calls.timeToAcknowledgeS.p99), max: secondsText(calls.timeToAcknowledgeS.max) })}
        </div>
      </div>
      ${calls.acknowledgedWithin.map((/** @type {Within} */ w) => html`<${WithinFigure} key=${w.thresholdS} w=${w} />`)}
      <div class="figure-card">
        <div class="figure-label">${t('stats.ttr')}</div>
        <div class="figure-value">${secondsText(calls.timeToResolveS.p50)}</div>
        <div class="figure-sub">
          ${t('stats.p90', { v: secondsText(calls.timeToResolveS.p90) })}<br />
          ${t('stats.resolved', { n: calls.resolved })}
        </div>
      </div>
    </div>
    <p class="note">${t('stats.separate', { n: separate.count, ack: percent(separate.acknowledgedWithin[1]?.share), p50: secondsText(separate.timeToAcknowledgeS.p50) })}</p>

    <${WithinChart} periods=${org.periods} />
    <${PeriodTable} periods=${org.periods} />

    <div class="two-columns">
      <${CountBars}
        counts=${addCounts(calls.byType, separate.byType)}
        label=${alarmTypeLabel}
        caption=${t('stats.byType')}
      />
      <${CountBars}
        counts=${addCounts(calls.byOutcome, separate.byOutcome)}
        label=${outcomeLabel}
        caption=${t('stats.byOutcome')}
      />
    </div>

    <${CoverageSection} org=${org} names=${names} />
  </section>`;
}

/** @param {{ params: Record<string, string>, session: any }} props */
export default function StatisticsView({ session }) {
  const search = searchParams();
  const from = search.get('from') || localDate(29);
  const to = search.get('to') || localDate(0);
  const period = PERIODS.includes(search.get('period') ?? '')
    ? /** @type {string} */ (search.get('period'))
    : 'day';
  const [draft, setDraft] = useState({ from, to, period });

  const [res] = useApi(`/api/statistics${query({ from, to, period })}`);
  // Names for those who may see them; a regulator's page never asks for beds.
  const mayName = session?.role === 'operator' || session?.role === 'admin';
  const [bedsRes] = useApi(mayName ? '/api/beds' : null);
  const names =
    mayName && bedsRes?.status === 200
      ? new Map(bedsRes.body.beds.map((/** @type {any} */ b) => [b.id, b.residentName]))
      : null;

  /** @param {{ from: string, to: string, period: string }} next */
  const apply = (next) => {
    setDraft(next);
    navigate(`/statistics${query(next)}`, { replace: true });
  };
  /** @param {number} days */
  const preset = (days) => apply({ ...draft, from: localDate(days - 1), to: localDate(0) });
  const thisMonth = () => {
    const d = new Date();
    apply({ ...draft, from: localDate(d.getDate() - 1), to: localDate(0) });
  };

  /** @param {string} table @param {string} format */
  const exportHref = (table, format) => `/api/statistics/export${query({ table, format, from, to, period })}`;

  /** @type {any} */
  let body;
  if (!res) body = html`<p aria-busy="true">${t('app.loading')}</p>`;
  else if (res.status !== 200)
    body = html`<p class="error" role="alert">${t('app.error', { message: res.body?.message ?? res.status })}</p>`;
  else if (!res.body.organisations.length) body = html`<p class="empty">${t('stats.noOrganisations')}</p>`;
  else
    body = res.body.organisations.map(
      (/** @type {any} */ org) =>
        html`<${OrganisationReport}
          key=${org.organisationId}
          org=${org}
          names=${names}
          showId=${res.body.organisations.length > 1 || session?.organisationId === null}
        />`,
    );

  return html`<section class="statistics-view">
    <div class="view-head">
      <h1>${t('stats.title')}</h1>
      ${res?.status === 200 ? html`<p class="muted">${t('stats.asOf', { now: formatDateTime(res.body.now) })}</p>` : null}
    </div>
    <form
      class="period-picker"
      onSubmit=${(/** @type {Event} */ e) => {
        e.preventDefault();
        apply(draft);
      }}
    >
      <label>${t('stats.from')} <input type="date" value=${draft.from} required
        onInput=${(/** @type {any} */ e) => setDraft({ ...draft, from: e.currentTarget.value })} /></label>
      <label>${t('stats.to')} <input type="date" value=${draft.to} required
        onInput=${(/** @type {any} */ e) => setDraft({ ...draft, to: e.currentTarget.value })} /></label>
      <label>${t('stats.groupBy')}
        <select value=${draft.period} onChange=${(/** @type {any} */ e) => apply({ ...draft, period: e.currentTarget.value })}>
          ${PERIODS.map((p) => html`<option key=${p} value=${p}>${t(`stats.period.${p}`)}</option>`)}
        </select>
      </label>
      <button type="submit">${t('stats.show')}</button>
      <span class="presets" role="group" aria-label=${t('stats.presets')}>
        <button type="button" class="link-button" onClick=${() => preset(7)}>${t('stats.last7')}</button>
        <button type="button" class="link-button" onClick=${() => preset(30)}>${t('stats.last30')}</button>
        <button type="button" class="link-button" onClick=${thisMonth}>${t('stats.thisMonth')}</button>
      </span>
    </form>

    ${body}

    <section class="exports" aria-labelledby="exports-title">
      <h2 id="exports-title">${t('stats.export')}</h2>
      <p class="muted">${t('stats.export.note')}</p>
      <ul class="export-links">
        ${EXPORT_TABLES.map(
          (table) => html`<li key=${table}>
            <span>${t(`stats.table.${table}`)}</span>
            <a class="button" href=${exportHref(table, 'csv')} download>CSV</a>
            <a class="button" href=${exportHref(table, 'json')} download>JSON</a>
          </li>`,
        )}
      </ul>
    </section>
  </section>`;
}

registerMessages('zh-CN', {
  'stats.title': '统计',
  'stats.asOf': '截至 {now}',
  'stats.from': '开始日期',
  'stats.to': '结束日期（含）',
  'stats.groupBy': '按',
  'stats.period.day': '天',
  'stats.period.week': '周',
  'stats.period.month': '月',
  'stats.show': '查询',
  'stats.presets': '常用时段',
  'stats.last7': '近 7 天',
  'stats.last30': '近 30 天',
  'stats.thisMonth': '本月',
  'stats.noOrganisations': '没有可统计的机构。',
  'stats.org': '机构 {id}',
  'stats.range': '{from} 至 {to}（{tz}）',
  'stats.response': '接警速度（求助类报警）',
  'stats.calls': '报警数',
  'stats.ackUnack': '已接警 {ack} · 未接警 {unack}',
  'stats.tta': '接警用时（中位数）',
  'stats.p90': '90% 在 {v} 内',
  'stats.p99max': 'p99 {p99} · 最长 {max}',
  'stats.within': '{s} 秒内接警',
  'stats.withinOf': '{within} / {eligible} 条',
  'stats.target': '目标 {share}',
  'stats.met': '达标',
  'stats.missed': '未达标',
  'stats.ttr': '结案用时（中位数）',
  'stats.resolved': '已结案 {n} 条',
  'stats.separate':
    '技术类报警（设备离线、电量低等）另计：{n} 条，180 秒内接警 {ack}，接警用时中位数 {p50}。',
  'stats.chart.caption': '各时段 60 秒 / 180 秒内接警比例',
  'stats.chart.targets': '目标线（97.5% / 99%）',
  'stats.periods.caption': '按时段',
  'stats.period': '时段',
  'stats.tta.p50': '接警 p50',
  'stats.tta.p90': '接警 p90',
  'stats.ttr.p50': '结案 p50',
  'stats.byType': '报警类型',
  'stats.byOutcome': '结案结果',
  'stats.none': '无',
  'stats.coverage': '看护覆盖率',
  'stats.coverage.org': '整体覆盖率 {share}（{beds} 个有网关的床位）',
  'stats.bed': '床位',
  'stats.coverage.share': '覆盖率',
  'stats.coverage.unwatched': '未看护时长',
  'stats.coverage.gaps': '中断次数',
  'stats.coverage.noGateway': '无网关',
  'stats.export': '导出',
  'stats.export.note': '导出文件只含编号，不含老人姓名、地址或电话。',
  'stats.table.response_times': '接警时间表',
  'stats.table.coverage_days': '每日覆盖率',
  'stats.table.coverage_gaps': '看护中断明细',
});

registerMessages('en', {
  'stats.title': 'Statistics',
  'stats.asOf': 'as of {now}',
  'stats.from': 'From',
  'stats.to': 'To (included)',
  'stats.groupBy': 'By',
  'stats.period.day': 'day',
  'stats.period.week': 'week',
  'stats.period.month': 'month',
  'stats.show': 'Show',
  'stats.presets': 'Common ranges',
  'stats.last7': 'Last 7 days',
  'stats.last30': 'Last 30 days',
  'stats.thisMonth': 'This month',
  'stats.noOrganisations': 'No organisation to report on.',
  'stats.org': 'Organisation {id}',
  'stats.range': '{from} to {to} ({tz})',
  'stats.response': 'Response to calls for help',
  'stats.calls': 'Alarms',
  'stats.ackUnack': '{ack} acknowledged · {unack} not',
  'stats.tta': 'Time to acknowledge (median)',
  'stats.p90': '90 % within {v}',
  'stats.p99max': 'p99 {p99} · longest {max}',
  'stats.within': 'Acknowledged within {s} s',
  'stats.withinOf': '{within} of {eligible}',
  'stats.target': 'target {share}',
  'stats.met': 'met',
  'stats.missed': 'missed',
  'stats.ttr': 'Time to resolve (median)',
  'stats.resolved': '{n} resolved',
  'stats.separate':
    'Technical alarms (device offline, battery low …) are counted apart: {n}, {ack} acknowledged within 180 s, median {p50}.',
  'stats.chart.caption': 'Share acknowledged within 60 s / 180 s per period',
  'stats.chart.targets': 'targets (97.5 % / 99 %)',
  'stats.periods.caption': 'Per period',
  'stats.period': 'Period',
  'stats.tta.p50': 'Ack p50',
  'stats.tta.p90': 'Ack p90',
  'stats.ttr.p50': 'Resolve p50',
  'stats.byType': 'Alarm types',
  'stats.byOutcome': 'Outcomes',
  'stats.none': 'none',
  'stats.coverage': 'Monitoring coverage',
  'stats.coverage.org': 'Overall {share} ({beds} beds with a gateway)',
  'stats.bed': 'Bed',
  'stats.coverage.share': 'Coverage',
  'stats.coverage.unwatched': 'Not watched for',
  'stats.coverage.gaps': 'Gaps',
  'stats.coverage.noGateway': 'no gateway',
  'stats.export': 'Export',
  'stats.export.note': 'Exports hold ids only: no resident names, addresses or phone numbers.',
  'stats.table.response_times': 'Response times',
  'stats.table.coverage_days': 'Coverage per day',
  'stats.table.coverage_gaps': 'Coverage gaps',
});
