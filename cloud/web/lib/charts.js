/**
 * Time-series charts of the console (uPlot): a bed's heart and breath rate as
 * lines, whether the person was in bed and whether someone was in the room as
 * step bands along the bottom, over 24 hours or 7 days
 * (`GET /api/beds/:id/vitals?range=`).
 *
 *   <${VitalsChart} bedId="bed-0001" initialRange="24h" />
 *
 * - A missing reading (null) is a gap in the line, never a line drawn across it
 *   (`spanGaps: false`): no data must not look like a steady heart rate.
 * - The time axis is in the reader's local time.
 * - The chart follows the width of its container.
 * - Screen readers get a `<figure>` with a `<figcaption>` and a visually hidden
 *   summary (lowest, average and highest rates, time in bed, hours without data);
 *   the canvas itself is hidden from them.
 * - When the relay has no time-series store (503 `HB_VITALS_UNAVAILABLE`) the
 *   figure says the data is unavailable instead of failing.
 *
 * For tests and debugging, the plot element (`.vitals-plot`) carries the uPlot
 * instance as its `uplot` property.
 */
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { api } from './api.js';
import { html } from './html.js';
import { getLang, locale, registerMessages, t } from './i18n.js';
import { VISUALLY_HIDDEN } from './view-kit.js';

/** @typedef {'24h' | '7d'} VitalsRange */

/**
 * The answer of `GET /api/beds/:id/vitals`.
 * @typedef {object} VitalsData
 * @property {string} bedId
 * @property {string | number} [from]
 * @property {string | number} [to]
 * @property {number} stepS
 * @property {number[]} times unix seconds, one per step
 * @property {(number | null)[]} heart_rate
 * @property {(number | null)[]} breath_rate
 * @property {(0 | 1 | null)[]} in_bed
 * @property {(0 | 1 | null)[]} presence
 */

/** @type {readonly VitalsRange[]} */
export const VITALS_RANGES = ['24h', '7d'];

/** Colours of the series; the legend and the summary name them too. */
const COLORS = {
  heartRate: '#c92a2a',
  breathRate: '#1864ab',
  inBed: 'rgba(47, 158, 68, 0.45)',
  presence: 'rgba(134, 142, 150, 0.45)',
};

/**
 * @typedef {object} RateSummary
 * @property {number} min
 * @property {number} avg
 * @property {number} max
 * @property {number} samples
 */

/**
 * @typedef {object} VitalsSummary
 * @property {RateSummary | null} heartRate null: no reading in the range
 * @property {RateSummary | null} breathRate
 * @property {number} inBedHours steps with in_bed = 1
 * @property {number} noDataHours steps where nothing at all was known
 * @property {number} totalHours the whole range
 */

/** @param {(number | null | undefined)[]} values @returns {RateSummary | null} */
function rateSummary(values) {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  let samples = 0;
  for (const v of values) {
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    samples++;
  }
  return samples === 0 ? null : { min, avg: sum / samples, max, samples };
}

/**
 * What a chart shows, in figures: for the text summary and the tests.
 * @param {VitalsData} data
 * @returns {VitalsSummary}
 */
export function summarizeVitals(data) {
  const n = data.times.length;
  const stepH = (data.stepS || 0) / 3600;
  let inBedSteps = 0;
  let noDataSteps = 0;
  for (let i = 0; i < n; i++) {
    if (data.in_bed?.[i] === 1) inBedSteps++;
    const known = [data.heart_rate, data.breath_rate, data.in_bed, data.presence].some(
      (series) => series?.[i] !== null && series?.[i] !== undefined,
    );
    if (!known) noDataSteps++;
  }
  return {
    heartRate: rateSummary(data.heart_rate ?? []),
    breathRate: rateSummary(data.breath_rate ?? []),
    inBedHours: inBedSteps * stepH,
    noDataHours: noDataSteps * stepH,
    totalHours: n * stepH,
  };
}

/** @param {number} value */
const round = (value) => Math.round(value);
/** @param {number} hours one decimal, no trailing `.0` */
const hoursText = (hours) => String(Math.round(hours * 10) / 10);

/**
 * The summary as one sentence per figure, in the current language.
 * @param {VitalsSummary} s
 * @param {VitalsRange} range
 * @returns {string[]}
 */
export function summaryLines(s, range) {
  const lines = [t('charts.summary.range', { range: rangeLabel(range) })];
  for (const [key, rate] of /** @type {const} */ ([
    ['charts.heartRate', s.heartRate],
    ['charts.breathRate', s.breathRate],
  ])) {
    lines.push(
      rate
        ? t('charts.summary.rate', {
            name: t(key),
            min: round(rate.min),
            avg: round(rate.avg),
            max: round(rate.max),
          })
        : t('charts.summary.noRate', { name: t(key) }),
    );
  }
  lines.push(t('charts.summary.inBed', { hours: hoursText(s.inBedHours) }));
  lines.push(
    s.noDataHours > 0
      ? t('charts.summary.noData', { hours: hoursText(s.noDataHours), total: hoursText(s.totalHours) })
      : t('charts.summary.complete'),
  );
  return lines;
}

/** @param {VitalsRange} range */
export const rangeLabel = (range) => t(range === '7d' ? 'charts.range.7d' : 'charts.range.24h');

/** @param {string | number | undefined} v @returns {number | null} unix seconds */
function toUnixS(v) {
  if (typeof v === 'number') return v > 1e11 ? v / 1000 : v;
  if (typeof v === 'string') {
    const ms = Date.parse(v);
    return Number.isFinite(ms) ? ms / 1000 : null;
  }
  return null;
}

/**
 * Tick labels of the time axis in local time: hours and minutes, and the date
 * at local midnight (7 days) or on the first tick.
 * @param {VitalsRange} range
 * @returns {(u: uPlot, splits: number[]) => string[]}
 */
function timeTicks(range) {
  const time = new Intl.DateTimeFormat(locale(), { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const date = new Intl.DateTimeFormat(locale(), { month: 'numeric', day: 'numeric' });
  return (_u, splits) =>
    splits.map((s, i) => {
      const d = new Date(s * 1000);
      const midnight = d.getHours() === 0 && d.getMinutes() === 0;
      if (range === '7d') return midnight || i === 0 ? date.format(d) : time.format(d);
      return midnight ? `${date.format(d)} ${time.format(d)}` : time.format(d);
    });
}

/** How far below 0 the rate scale reaches, as a share of its top: room for the bands. */
const BAND_SHARE = 0.3;

/**
 * Ticks of the rate axis: from 0 up (nothing in the bands' room below 0).
 * @param {uPlot} _u @param {number} _axis @param {number} _min @param {number} max
 */
function rateSplits(_u, _axis, _min, max) {
  const step = max > 120 ? 40 : 20;
  const splits = [];
  for (let v = 0; v <= max; v += step) splits.push(v);
  return splits;
}

/**
 * uPlot options for a vitals chart `width` px wide.
 * @param {VitalsData} data
 * @param {VitalsRange} range
 * @param {number} width
 * @returns {uPlot.Options}
 */
function chartOptions(data, range, width) {
  const from = toUnixS(data.from) ?? data.times[0] ?? 0;
  const to = toUnixS(data.to) ?? data.times[data.times.length - 1] ?? from + 1;
  const perMinute = t('charts.perMinute');
  /** @param {number | null} v */
  const rateValue = (_u, /** @type {number | null} */ v) => (v === null ? '—' : `${round(v)} ${perMinute}`);
  const stepped = uPlot.paths.stepped?.({ align: 1 });
  const full = new Intl.DateTimeFormat(locale(), {
    month: 'numeric',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  return {
    width,
    height: width < 480 ? 200 : 240,
    // The legend's time, in the reader's clock.
    series: [
      { label: t('charts.time'), value: (_u, v) => (v === null ? '—' : full.format(new Date(v * 1000))) },
      {
        label: t('charts.heartRate'),
        scale: 'rate',
        stroke: COLORS.heartRate,
        width: 1.5,
        spanGaps: false,
        value: rateValue,
      },
      {
        label: t('charts.breathRate'),
        scale: 'rate',
        stroke: COLORS.breathRate,
        width: 1.5,
        spanGaps: false,
        value: rateValue,
      },
      {
        label: t('charts.inBed'),
        scale: 'inBed',
        stroke: COLORS.inBed,
        width: 0,
        fill: COLORS.inBed,
        ...(stepped ? { paths: stepped } : {}),
        spanGaps: false,
        points: { show: false },
        value: (_u, v) => (v === null ? '—' : t(v ? 'charts.inBed.yes' : 'charts.inBed.no')),
      },
      {
        label: t('charts.presence'),
        scale: 'presence',
        stroke: COLORS.presence,
        width: 0,
        fill: COLORS.presence,
        fillTo: 0,
        ...(stepped ? { paths: stepped } : {}),
        spanGaps: false,
        points: { show: false },
        value: (_u, v) => (v === null ? '—' : t(v ? 'charts.presence.yes' : 'charts.presence.no')),
      },
    ],
    scales: {
      x: { time: true, range: () => [from, to] },
      // The lines keep off the bottom quarter (below 0), where the bands are.
      rate: {
        range: (_u, _min, max) => {
          const top = Math.max(40, Math.ceil(((max ?? 0) * 1.15) / 10) * 10);
          return [-top * BAND_SHARE, top];
        },
      },
      // Bands along the bottom: in bed in the lowest tenth, someone in the room just above it.
      inBed: { range: () => [0, 10] },
      presence: { range: () => [-1, 9] },
    },
    axes: [{ values: timeTicks(range) }, { scale: 'rate', label: perMinute, size: 50, splits: rateSplits }],
    cursor: { drag: { x: false, y: false } },
  };
}

/**
 * @param {VitalsData} data
 * @returns {uPlot.AlignedData}
 */
function alignedData(data) {
  return [data.times, data.heart_rate, data.breath_rate, data.in_bed, data.presence];
}

/**
 * The plot itself: a uPlot that follows its container's width.
 * @param {{ data: VitalsData, range: VitalsRange }} props
 */
function Plot({ data, range }) {
  const ref = useRef(/** @type {HTMLDivElement | null} */ (null));
  const lang = getLang();
  useEffect(() => {
    const el = ref.current;
    if (!el) return undefined;
    const widthOf = () =>
      Math.max(240, Math.floor(el.clientWidth || el.getBoundingClientRect().width || 600));
    let width = widthOf();
    const u = new uPlot(chartOptions(data, range, width), alignedData(data), el);
    /** @type {any} */ (el).uplot = u;
    /** @type {ResizeObserver | null} */
    let observer = null;
    if (typeof ResizeObserver !== 'undefined') {
      observer = new ResizeObserver(() => {
        const next = widthOf();
        if (next === width) return;
        width = next;
        u.setSize({ width, height: width < 480 ? 200 : 240 });
      });
      observer.observe(el);
    }
    return () => {
      observer?.disconnect();
      u.destroy();
      /** @type {any} */ (el).uplot = undefined;
    };
    // The language is a dependency: labels and tick formats are fixed when the plot is made.
  }, [data, range, lang]);
  return html`<div class="vitals-plot" ref=${ref} aria-hidden="true"></div>`;
}

/**
 * Buttons choosing 24 hours or 7 days.
 * @param {{ value: VitalsRange, onChange: (range: VitalsRange) => void }} props
 */
export function RangeSwitch({ value, onChange }) {
  return html`<span class="range-switch" role="group" aria-label=${t('charts.range.label')}>
    ${VITALS_RANGES.map(
      (r) =>
        html`<button type="button" class=${r === value ? 'active' : ''} aria-pressed=${r === value}
          onClick=${() => onChange(r)}>${rangeLabel(r)}</button>`,
    )}
  </span>`;
}

/**
 * @typedef {{ status: 'loading' } | { status: 'ok', data: VitalsData }
 *   | { status: 'unavailable' } | { status: 'error', message: string }} VitalsState
 */

/**
 * A bed's vitals over 24 hours or 7 days, fetched from the relay, with a switch
 * between the two.
 * @param {{ bedId: string, initialRange?: VitalsRange }} props
 */
export function VitalsChart({ bedId, initialRange = '24h' }) {
  const [range, setRange] = useState(initialRange);
  const [state, setState] = useState(/** @type {VitalsState} */ ({ status: 'loading' }));
  const captionId = useId();
  useEffect(() => {
    let live = true;
    setState({ status: 'loading' });
    api
      .get(`/api/beds/${encodeURIComponent(bedId)}/vitals?range=${range}`)
      .then(({ status, body }) => {
        if (!live) return;
        if (status === 200 && Array.isArray(body?.times)) setState({ status: 'ok', data: body });
        else if (status === 503) setState({ status: 'unavailable' });
        else setState({ status: 'error', message: body?.message ?? `HTTP ${status}` });
      })
      .catch((/** @type {unknown} */ err) => {
        if (live) setState({ status: 'error', message: String(err) });
      });
    return () => {
      live = false;
    };
  }, [bedId, range]);

  /** @type {any} */
  let body;
  if (state.status === 'loading') body = html`<p class="chart-note">${t('app.loading')}</p>`;
  else if (state.status === 'unavailable')
    body = html`<p class="chart-note chart-unavailable" role="status">${t('charts.unavailable')}</p>`;
  else if (state.status === 'error')
    body = html`<p class="chart-note chart-error" role="alert">${t('charts.error', { message: state.message })}</p>`;
  else {
    const lines = summaryLines(summarizeVitals(state.data), range);
    body = html`<${Plot} data=${state.data} range=${range} />
      <p class="vitals-summary" style=${VISUALLY_HIDDEN}>${lines.join(' ')}</p>`;
  }
  return html`<figure class="vitals-chart" data-range=${range} data-state=${state.status}
      aria-labelledby=${captionId}>
    <figcaption>
      <span id=${captionId}>${t('charts.caption', { range: rangeLabel(range) })}</span>
      <${RangeSwitch} value=${range} onChange=${setRange} />
    </figcaption>
    ${body}
    ${state.status === 'ok' ? html`<p class="chart-legend-note">${t('charts.legendNote')}</p>` : null}
  </figure>`;
}

registerMessages('zh-CN', {
  'charts.caption': '心率、呼吸与在床情况 · {range}',
  'charts.range.label': '时间范围',
  'charts.range.24h': '近 24 小时',
  'charts.range.7d': '近 7 天',
  'charts.time': '时间',
  'charts.heartRate': '心率',
  'charts.breathRate': '呼吸',
  'charts.perMinute': '次/分',
  'charts.inBed': '在床',
  'charts.inBed.yes': '在床',
  'charts.inBed.no': '离床',
  'charts.presence': '室内有人',
  'charts.presence.yes': '有人',
  'charts.presence.no': '无人',
  'charts.unavailable': '暂无生命体征数据：时序数据库未接入或暂时无法访问。',
  'charts.error': '生命体征数据加载失败：{message}',
  'charts.legendNote': '曲线中断处表示该时段没有数据。底部色带：绿色为在床，灰色为室内有人。',
  'charts.summary.range': '{range}：',
  'charts.summary.rate': '{name}最低 {min}、平均 {avg}、最高 {max} 次/分；',
  'charts.summary.noRate': '{name}无读数；',
  'charts.summary.inBed': '在床约 {hours} 小时；',
  'charts.summary.noData': '共 {total} 小时中约 {hours} 小时没有数据。',
  'charts.summary.complete': '整段时间都有数据。',
});

registerMessages('en', {
  'charts.caption': 'Heart rate, breathing and time in bed · {range}',
  'charts.range.label': 'Time range',
  'charts.range.24h': 'Last 24 hours',
  'charts.range.7d': 'Last 7 days',
  'charts.time': 'Time',
  'charts.heartRate': 'Heart rate',
  'charts.breathRate': 'Breathing',
  'charts.perMinute': '/min',
  'charts.inBed': 'In bed',
  'charts.inBed.yes': 'in bed',
  'charts.inBed.no': 'out of bed',
  'charts.presence': 'Someone in the room',
  'charts.presence.yes': 'yes',
  'charts.presence.no': 'no',
  'charts.unavailable': 'Vital signs unavailable: the time-series store is not set up or not answering.',
  'charts.error': 'Could not load vital signs: {message}',
  'charts.legendNote':
    'A break in a line means no data for that time. Bands at the bottom: green in bed, grey someone in the room.',
  'charts.summary.range': '{range}:',
  'charts.summary.rate': '{name} lowest {min}, average {avg}, highest {max} per minute;',
  'charts.summary.noRate': '{name}: no readings;',
  'charts.summary.inBed': 'in bed about {hours} hours;',
  'charts.summary.noData': 'no data for about {hours} of {total} hours.',
  'charts.summary.complete': 'data for the whole time.',
});
