/**
 * The fleet (`/fleet`, operators and admins): which homes are not being
 * watched right now, every gateway with its devices (problems first), and how
 * much of the last 7 days each bed was watched.
 *
 * A home is **not watched** when its gateway is offline (or never connected,
 * or overdue with its heartbeat), or when a device its gateway reports is
 * offline: the statistics count a bed as watched only while the gateway is
 * online and every device it lists is reporting (docs/statistics.md). An active
 * bed without a gateway is not watched either.
 *
 * Reads GET /api/gateways (every 30 s), GET /api/beds (residents' names) and
 * GET /api/statistics for the last 7 days (coverage per bed).
 */
import { html } from '../lib/html.js';
import { formatDuration, registerMessages, t } from '../lib/i18n.js';
import { linkViewStyles, localDate, percent, relativeTime, useApi, useNow } from '../lib/view-kit.js';

linkViewStyles();

/** A gateway is counted gone after this many heartbeat intervals of silence (as the relay). */
const MISSED_HEARTBEATS = 3;
const DEFAULT_INTERVAL_MS = 30_000;
const LOW_BATTERY = 20;

/**
 * @typedef {object} DeviceHealth contract/payloads.ts (and anything newer it carries)
 * @property {string} id
 * @property {string} kind
 * @property {boolean} online
 * @property {string} [lastSeenAt]
 * @property {number} [battery]
 * @property {boolean} [batteryLow]
 * @property {string} [model]
 * @property {string} [firmware]
 * @property {number} [framesDropped]
 */

/**
 * @typedef {object} GatewaySummary GET /api/gateways
 * @property {string} id
 * @property {string | null} bedId
 * @property {string | null} organisationId
 * @property {'online' | 'offline' | null} status
 * @property {string | null} lastSeenAt
 * @property {number | null} heartbeatIntervalMs
 * @property {string | null} offlineAlarmId
 * @property {any} lastHeartbeat
 */

/**
 * @typedef {object} Problem
 * @property {'unwatched' | 'warning'} level
 * @property {string} text
 */

/** Frames a device or gateway dropped, when it reports them (a number or counts by reason). @param {unknown} v */
function droppedCount(v) {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object') {
    return Object.values(v).reduce((sum, n) => sum + (typeof n === 'number' ? n : 0), 0);
  }
  return null;
}

/**
 * What is wrong with a gateway, worst first.
 * @param {GatewaySummary} g
 * @param {number} now
 * @returns {Problem[]}
 */
export function assess(g, now) {
  /** @type {Problem[]} */
  const problems = [];
  const hb = g.lastHeartbeat;
  if (g.status === null) problems.push({ level: 'unwatched', text: t('fleet.problem.never') });
  else if (g.status !== 'online') problems.push({ level: 'unwatched', text: t('fleet.problem.offline') });
  else if (g.lastSeenAt) {
    const interval = g.heartbeatIntervalMs ?? DEFAULT_INTERVAL_MS;
    if (now - Date.parse(g.lastSeenAt) > MISSED_HEARTBEATS * interval) {
      problems.push({ level: 'unwatched', text: t('fleet.problem.overdue') });
    }
  }
  /** @type {DeviceHealth[]} */
  const devices = Array.isArray(hb?.devices) ? hb.devices : [];
  for (const d of devices) {
    if (!d.online) problems.push({ level: 'unwatched', text: t('fleet.problem.device', { id: d.id }) });
  }
  for (const d of devices) {
    if (d.batteryLow || (typeof d.battery === 'number' && d.battery < LOW_BATTERY)) {
      problems.push({ level: 'warning', text: t('fleet.problem.battery', { id: d.id }) });
    }
  }
  for (const [link, state] of Object.entries(hb?.links ?? {})) {
    if (state !== 'open') problems.push({ level: 'warning', text: t('fleet.problem.link', { id: link }) });
  }
  if (hb && hb.outboxDepth > 0)
    problems.push({ level: 'warning', text: t('fleet.problem.outbox', { n: hb.outboxDepth }) });
  if (hb && hb.readingsDropped > 0)
    problems.push({ level: 'warning', text: t('fleet.problem.readingsDropped', { n: hb.readingsDropped }) });
  if (!g.bedId) problems.push({ level: 'warning', text: t('fleet.problem.noBed') });
  return problems;
}

/** @param {Problem[]} problems */
const rank = (problems) =>
  problems.some((p) => p.level === 'unwatched') ? 0 : problems.some((p) => p.level === 'warning') ? 1 : 2;

/** @param {{ devices: DeviceHealth[], now: number }} props */
function DeviceTable({ devices, now }) {
  if (!devices.length) return html`<p class="empty">${t('fleet.devices.none')}</p>`;
  const anyDropped = devices.some((d) => droppedCount(d.framesDropped) !== null);
  return html`<table class="device-table">
    <thead>
      <tr>
        <th scope="col">${t('fleet.device')}</th>
        <th scope="col">${t('fleet.device.kind')}</th>
        <th scope="col">${t('fleet.device.state')}</th>
        <th scope="col">${t('fleet.device.battery')}</th>
        <th scope="col">${t('fleet.device.firmware')}</th>
        <th scope="col">${t('fleet.device.lastSeen')}</th>
        ${anyDropped ? html`<th scope="col">${t('fleet.device.dropped')}</th>` : null}
      </tr>
    </thead>
    <tbody>
      ${devices.map(
        (d) => html`<tr key=${d.id} class=${d.online ? '' : 'row-bad'}>
          <th scope="row">${d.id}</th>
          <td>${d.kind}${d.model ? ` · ${d.model}` : ''}</td>
          <td>${d.online ? t('fleet.online') : html`<strong>${t('fleet.offline')}</strong>`}</td>
          <td class=${d.batteryLow ? 'warn' : ''}>${typeof d.battery === 'number' ? `${d.battery} %` : d.batteryLow ? t('fleet.device.low') : '—'}</td>
          <td>${d.firmware ?? '—'}</td>
          <td>${d.lastSeenAt ? relativeTime(d.lastSeenAt, now) : t('fleet.device.never')}</td>
          ${anyDropped ? html`<td>${droppedCount(d.framesDropped) ?? '—'}</td>` : null}
        </tr>`,
      )}
    </tbody>
  </table>`;
}

/**
 * @param {{ rows: Array<{ g: GatewaySummary, problems: Problem[] }>, names: Map<string, string>, now: number }} props
 */
function GatewayTable({ rows, names, now }) {
  return html`<table class="fleet-table">
    <caption style="text-align:left">${t('fleet.gateways.caption', { n: rows.length })}</caption>
    <thead>
      <tr>
        <th scope="col">${t('fleet.gateway')}</th>
        <th scope="col">${t('fleet.status')}</th>
        <th scope="col">${t('fleet.bed')}</th>
        <th scope="col">${t('fleet.lastSeen')}</th>
        <th scope="col">${t('fleet.queues')}</th>
        <th scope="col">${t('fleet.problems')}</th>
      </tr>
    </thead>
    <tbody>
      ${rows.map(({ g, problems }) => {
        const hb = g.lastHeartbeat;
        const devices = Array.isArray(hb?.devices) ? hb.devices : [];
        const online = devices.filter((/** @type {DeviceHealth} */ d) => d.online).length;
        const level = rank(problems);
        const dropped = droppedCount(hb?.framesDropped);
        return html`<tr key=${g.id} class=${level === 0 ? 'row-bad' : level === 1 ? 'row-warn' : ''}>
          <th scope="row">
            ${g.id}
            ${hb?.software ? html`<div class="muted">${hb.software}</div>` : null}
          </th>
          <td>
            <span class=${`dot ${g.status === 'online' ? 'ok' : 'bad'}`} aria-hidden="true"></span>
            ${g.status === 'online' ? t('fleet.online') : g.status === 'offline' ? t('fleet.offline') : t('fleet.never')}
          </td>
          <td>
            ${
              g.bedId
                ? html`<a href=${`/beds/${encodeURIComponent(g.bedId)}`}>${names.get(g.bedId) ?? g.bedId}</a>
                  <div class="muted">${g.bedId}</div>`
                : t('fleet.noBed')
            }
          </td>
          <td>${g.lastSeenAt ? relativeTime(g.lastSeenAt, now) : '—'}</td>
          <td class="queues">
            ${
              hb
                ? html`<div>${t('fleet.outbox', { n: hb.outboxDepth ?? 0 })}</div>
                  <div>${t('fleet.spool', { n: hb.spoolDepth ?? 0 })}</div>
                  ${hb.readingsDropped ? html`<div class="warn">${t('fleet.readingsDropped', { n: hb.readingsDropped })}</div>` : null}
                  ${dropped !== null ? html`<div>${t('fleet.framesDropped', { n: dropped })}</div>` : null}`
                : '—'
            }
          </td>
          <td>
            ${problems.length ? html`<ul class="problems">${problems.map((p) => html`<li class=${`problem-${p.level}`}>${p.text}</li>`)}</ul>` : t('fleet.ok')}
            <details>
              <summary>${t('fleet.devices.summary', { online, total: devices.length })}</summary>
              <${DeviceTable} devices=${devices} now=${now} />
            </details>
          </td>
        </tr>`;
      })}
    </tbody>
  </table>`;
}

/**
 * Coverage of each bed over the last 7 days.
 * @param {{ report: any, names: Map<string, string> }} props
 */
function CoverageTable({ report, names }) {
  const beds = (report?.organisations ?? []).flatMap((/** @type {any} */ o) => o.beds);
  if (!beds.length) return html`<p class="empty">${t('fleet.coverage.none')}</p>`;
  const rows = beds
    .map((/** @type {any} */ b) => ({ bed: b, share: b.coverage?.share ?? null }))
    .sort((x, y) => (x.share ?? 2) - (y.share ?? 2) || (x.bed.bedId < y.bed.bedId ? -1 : 1));
  return html`<table class="coverage-table">
    <thead>
      <tr>
        <th scope="col">${t('fleet.bed')}</th>
        <th scope="col">${t('fleet.coverage.share')}</th>
        <th scope="col">${t('fleet.coverage.today')}</th>
        <th scope="col">${t('fleet.coverage.unwatched')}</th>
        <th scope="col">${t('fleet.coverage.gaps')}</th>
      </tr>
    </thead>
    <tbody>
      ${rows.map(({ bed, share }) => {
        const c = bed.coverage;
        const today = c?.days?.[c.days.length - 1];
        return html`<tr key=${bed.bedId}>
          <th scope="row">
            <a href=${`/beds/${encodeURIComponent(bed.bedId)}`}>${names.get(bed.bedId) ?? bed.bedId}</a>
            <div class="muted">${bed.bedId}</div>
          </th>
          <td>
            ${
              c
                ? html`<span class="share-bar" aria-hidden="true"><span style=${`width:${Math.round((share ?? 0) * 100)}%`}></span></span>
                  ${percent(share)}`
                : t('fleet.coverage.noGateway')
            }
          </td>
          <td>${today ? percent(today.share) : '—'}</td>
          <td>${c ? formatDuration(c.unwatchedMs) : '—'}</td>
          <td>${c ? c.gaps.length : '—'}</td>
        </tr>`;
      })}
    </tbody>
  </table>`;
}

/** @param {{ params: Record<string, string>, session: any }} props */
export default function FleetView() {
  const [gatewaysRes, reload] = useApi('/api/gateways', { refreshMs: 30_000 });
  const [bedsRes] = useApi('/api/beds');
  const [statsRes] = useApi(`/api/statistics?from=${localDate(6)}&to=${localDate(0)}`, {
    refreshMs: 300_000,
  });
  const now = useNow(15_000);

  if (!gatewaysRes)
    return html`<section class="fleet-view" aria-busy="true"><p>${t('app.loading')}</p></section>`;
  if (gatewaysRes.status !== 200) {
    return html`<section class="fleet-view"><p class="error" role="alert">${t('app.error', { message: gatewaysRes.body?.message ?? gatewaysRes.status })}</p></section>`;
  }
  /** @type {GatewaySummary[]} */
  const gateways = gatewaysRes.body.gateways;
  /** @type {any[]} */
  const beds = bedsRes?.status === 200 ? bedsRes.body.beds : [];
  const names = new Map(beds.map((b) => [b.id, b.residentName]));
  const rows = gateways
    .map((g) => ({ g, problems: assess(g, now) }))
    .sort((a, b) => rank(a.problems) - rank(b.problems) || (a.g.id < b.g.id ? -1 : 1));

  const withGateway = new Set(gateways.map((g) => g.bedId).filter(Boolean));
  const unwatched = [
    ...rows
      .filter(({ g, problems }) => g.bedId && problems.some((p) => p.level === 'unwatched'))
      .map(({ g, problems }) => ({
        bedId: /** @type {string} */ (g.bedId),
        gatewayId: g.id,
        since: g.lastSeenAt,
        reasons: problems.filter((p) => p.level === 'unwatched').map((p) => p.text),
      })),
    ...beds
      .filter((b) => b.state === 'active' && !withGateway.has(b.id))
      .map((b) => ({ bedId: b.id, gatewayId: null, since: null, reasons: [t('fleet.problem.noGateway')] })),
  ];
  const onlineCount = gateways.filter((g) => g.status === 'online').length;

  return html`<section class="fleet-view">
    <div class="view-head">
      <h1>${t('fleet.title')}</h1>
      <p class="muted">
        ${t('fleet.summary', { online: onlineCount, total: gateways.length })}
        <button type="button" class="link-button" onClick=${reload}>${t('fleet.refresh')}</button>
      </p>
    </div>

    <section class=${`unwatched ${unwatched.length ? 'has-unwatched' : 'all-watched'}`} aria-labelledby="unwatched-title">
      <h2 id="unwatched-title">${t('fleet.unwatched.title', { n: unwatched.length })}</h2>
      ${
        unwatched.length
          ? html`<ul class="unwatched-list">
            ${unwatched.map(
              (u) => html`<li key=${u.bedId}>
                <a href=${`/beds/${encodeURIComponent(u.bedId)}`}><strong>${names.get(u.bedId) ?? u.bedId}</strong></a>
                <span class="muted">${u.bedId}${u.gatewayId ? ` · ${u.gatewayId}` : ''}</span>
                <span class="reasons">${u.reasons.join('；')}</span>
                ${u.since ? html`<span class="muted">${t('fleet.lastSeenAgo', { ago: relativeTime(u.since, now) })}</span>` : null}
              </li>`,
            )}
          </ul>`
          : html`<p>${t('fleet.unwatched.none')}</p>`
      }
    </section>

    <section aria-labelledby="gateways-title">
      <h2 id="gateways-title">${t('fleet.gateways')}</h2>
      ${rows.length ? html`<${GatewayTable} rows=${rows} names=${names} now=${now} />` : html`<p class="empty">${t('fleet.gateways.none')}</p>`}
    </section>

    <section aria-labelledby="coverage-title">
      <h2 id="coverage-title">${t('fleet.coverage.title')}</h2>
      ${
        !statsRes
          ? html`<p aria-busy="true">${t('app.loading')}</p>`
          : statsRes.status === 200
            ? html`<${CoverageTable} report=${statsRes.body} names=${names} />`
            : html`<p class="note">${t('fleet.coverage.unavailable', { message: statsRes.body?.message ?? statsRes.status })}</p>`
      }
    </section>
  </section>`;
}

registerMessages('zh-CN', {
  'fleet.title': '设备总览',
  'fleet.summary': '{online} / {total} 台网关在线',
  'fleet.refresh': '刷新',
  'fleet.unwatched.title': '未在看护（{n}）',
  'fleet.unwatched.none': '所有家庭都在看护中。',
  'fleet.lastSeenAgo': '最后联系 {ago}',
  'fleet.problem.never': '网关从未连接',
  'fleet.problem.offline': '网关离线',
  'fleet.problem.overdue': '网关心跳超时',
  'fleet.problem.device': '设备 {id} 离线',
  'fleet.problem.battery': '设备 {id} 电量低',
  'fleet.problem.link': '串口 {id} 已断开',
  'fleet.problem.outbox': '{n} 条报警待上传',
  'fleet.problem.readingsDropped': '丢弃了 {n} 条读数',
  'fleet.problem.noBed': '未关联床位',
  'fleet.problem.noGateway': '床位未安装网关',
  'fleet.gateways': '网关',
  'fleet.gateways.caption': '共 {n} 台，问题在前',
  'fleet.gateways.none': '还没有网关。',
  'fleet.gateway': '网关',
  'fleet.status': '状态',
  'fleet.bed': '床位',
  'fleet.lastSeen': '最后联系',
  'fleet.queues': '队列',
  'fleet.problems': '问题与设备',
  'fleet.online': '在线',
  'fleet.offline': '离线',
  'fleet.never': '从未连接',
  'fleet.noBed': '未关联',
  'fleet.ok': '正常',
  'fleet.outbox': '待传报警 {n}',
  'fleet.spool': '待写读数 {n}',
  'fleet.readingsDropped': '已丢弃读数 {n}',
  'fleet.framesDropped': '丢帧 {n}',
  'fleet.devices.summary': '设备 {online}/{total} 在线',
  'fleet.devices.none': '最近的心跳没有列出设备。',
  'fleet.device': '设备',
  'fleet.device.kind': '类型',
  'fleet.device.state': '状态',
  'fleet.device.battery': '电量',
  'fleet.device.low': '低',
  'fleet.device.firmware': '固件',
  'fleet.device.lastSeen': '最后上报',
  'fleet.device.never': '从未上报',
  'fleet.device.dropped': '丢帧',
  'fleet.coverage.title': '近 7 天看护覆盖率',
  'fleet.coverage.share': '7 天覆盖率',
  'fleet.coverage.today': '今天',
  'fleet.coverage.unwatched': '未看护时长',
  'fleet.coverage.gaps': '中断次数',
  'fleet.coverage.noGateway': '无网关',
  'fleet.coverage.none': '没有床位。',
  'fleet.coverage.unavailable': '覆盖率暂时无法读取：{message}',
});

registerMessages('en', {
  'fleet.title': 'Fleet',
  'fleet.summary': '{online} of {total} gateways online',
  'fleet.refresh': 'Refresh',
  'fleet.unwatched.title': 'Not being watched ({n})',
  'fleet.unwatched.none': 'Every home is being watched.',
  'fleet.lastSeenAgo': 'last seen {ago}',
  'fleet.problem.never': 'gateway never connected',
  'fleet.problem.offline': 'gateway offline',
  'fleet.problem.overdue': 'gateway heartbeat overdue',
  'fleet.problem.device': 'device {id} offline',
  'fleet.problem.battery': 'device {id} battery low',
  'fleet.problem.link': 'serial link {id} closed',
  'fleet.problem.outbox': '{n} alarms waiting to be sent',
  'fleet.problem.readingsDropped': '{n} readings dropped',
  'fleet.problem.noBed': 'on no bed',
  'fleet.problem.noGateway': 'bed has no gateway',
  'fleet.gateways': 'Gateways',
  'fleet.gateways.caption': '{n} gateways, problems first',
  'fleet.gateways.none': 'No gateways yet.',
  'fleet.gateway': 'Gateway',
  'fleet.status': 'Status',
  'fleet.bed': 'Bed',
  'fleet.lastSeen': 'Last seen',
  'fleet.queues': 'Queues',
  'fleet.problems': 'Problems and devices',
  'fleet.online': 'online',
  'fleet.offline': 'offline',
  'fleet.never': 'never connected',
  'fleet.noBed': 'none',
  'fleet.ok': 'OK',
  'fleet.outbox': 'alarm outbox {n}',
  'fleet.spool': 'reading spool {n}',
  'fleet.readingsDropped': 'readings dropped {n}',
  'fleet.framesDropped': 'frames dropped {n}',
  'fleet.devices.summary': 'devices {online}/{total} online',
  'fleet.devices.none': 'The last heartbeat lists no devices.',
  'fleet.device': 'Device',
  'fleet.device.kind': 'Kind',
  'fleet.device.state': 'State',
  'fleet.device.battery': 'Battery',
  'fleet.device.low': 'low',
  'fleet.device.firmware': 'Firmware',
  'fleet.device.lastSeen': 'Last heard',
  'fleet.device.never': 'never',
  'fleet.device.dropped': 'Frames dropped',
  'fleet.coverage.title': 'Monitoring coverage, last 7 days',
  'fleet.coverage.share': '7-day coverage',
  'fleet.coverage.today': 'Today',
  'fleet.coverage.unwatched': 'Not watched for',
  'fleet.coverage.gaps': 'Gaps',
  'fleet.coverage.noGateway': 'no gateway',
  'fleet.coverage.none': 'No beds.',
  'fleet.coverage.unavailable': 'Coverage cannot be read right now: {message}',
});
