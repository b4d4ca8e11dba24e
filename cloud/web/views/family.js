/**
 * A family member's page (`/family`): only the beds linked to them
 * (GET /api/beds answers exactly those). For each: how their relative is now,
 * in big friendly words (在床 / 离床 / 一切正常, or the alarm and whether a
 * staff member has taken it), last night in plain language, and the recent
 * alarms with who handled them. Made for a phone first.
 *
 * Reads GET /api/beds and GET /api/beds/:id/status; refreshes at once on a
 * change of their bed in the page's alarm stream (lib/live-alarms.js).
 */
import { useEffect } from 'preact/hooks';
import { html } from '../lib/html.js';
import { alarmTypeLabel, outcomeLabel, registerMessages, t } from '../lib/i18n.js';
import { sharedAlarmQueue } from '../lib/live-alarms.js';
import { hoursMinutes, linkViewStyles, relativeTime, shortTime, useApi, useNow } from '../lib/view-kit.js';

linkViewStyles();

/**
 * A daily summary (contract/events.ts `daily_summary`) in plain words.
 * @param {{ summary: Record<string, any> | null }} props
 */
export function LastNight({ summary }) {
  if (!summary) return html`<p class="empty">${t('family.night.none')}</p>`;
  const alarms = Object.entries(summary.alarms ?? {}).filter(([, n]) => Number(n) > 0);
  const total = alarms.reduce((sum, [, n]) => sum + Number(n), 0);
  const periodMin =
    summary.period?.from && summary.period?.to
      ? (Date.parse(summary.period.to) - Date.parse(summary.period.from)) / 60_000
      : 24 * 60;
  const partial = typeof summary.observedMin === 'number' && summary.observedMin < periodMin - 30;
  return html`<div class="last-night">
    <p class="night-day">${t('family.night.day', { day: summary.day ?? '' })}</p>
    <ul class="night-facts">
      <li>${t('family.night.inBed', { time: hoursMinutes(Number(summary.timeInBedMin ?? 0)) })}</li>
      <li>
        ${
          Number(summary.nightBedExits ?? 0) === 0
            ? t('family.night.noExits')
            : t('family.night.exits', { n: Number(summary.nightBedExits) })
        }
        ${
          Number(summary.longestOutOfBedMin ?? 0) > 0
            ? t('family.night.longest', { time: hoursMinutes(Number(summary.longestOutOfBedMin)) })
            : ''
        }
      </li>
      ${
        typeof summary.heartRateAvg === 'number'
          ? html`<li>${t('family.night.heart', { n: Math.round(summary.heartRateAvg) })}</li>`
          : null
      }
      ${
        typeof summary.breathRateAvg === 'number'
          ? html`<li>${t('family.night.breath', { n: Math.round(summary.breathRateAvg) })}</li>`
          : null
      }
      <li>
        ${
          total === 0
            ? t('family.night.noAlarms')
            : t('family.night.alarms', {
                n: total,
                list: alarms.map(([type, n]) => `${alarmTypeLabel(type)} ${n}`).join('、'),
              })
        }
      </li>
    </ul>
    ${partial ? html`<p class="note">${t('family.night.partial', { time: hoursMinutes(summary.observedMin) })}</p>` : null}
  </div>`;
}

/**
 * The big status card.
 * @param {{ status: any, name: string, now: number }} props
 */
function NowCard({ status, name, now }) {
  const active = status.now.activeAlarm;
  if (active) {
    return html`<div class="family-now now-alarm" role="status">
      <p class="family-big">${alarmTypeLabel(active.type)}</p>
      <p>${t('family.alarm.at', { name, time: shortTime(active.receivedAt, now) })}</p>
      <p class="family-taken">
        ${active.acknowledgedBy ? t('family.alarm.taken', { name: active.acknowledgedBy }) : t('family.alarm.waiting')}
      </p>
    </div>`;
  }
  const gateway = status.gateway;
  if (gateway?.status !== 'online') {
    const key = !gateway
      ? 'family.noGateway'
      : gateway.status === null
        ? 'family.notConnected'
        : 'family.offline';
    return html`<div class="family-now now-offline" role="status">
      <p class="family-big">${t(key)}</p>
      <p>
        ${gateway?.lastSeenAt ? t('family.offline.lastSeen', { ago: relativeTime(gateway.lastSeenAt, now) }) : ''}
        ${t('family.offline.detail')}
      </p>
    </div>`;
  }
  const state = status.now.state;
  const big =
    state === 'in_bed' ? t('family.inBed') : state === 'out_of_bed' ? t('family.outOfBed') : t('family.ok');
  return html`<div class=${`family-now now-${state}`} role="status">
    <p class="family-big">${big}</p>
    <p>
      ${state === 'unknown' ? '' : `${t('family.ok')} · `}
      ${status.now.since ? t('family.since', { time: shortTime(status.now.since, now) }) : ''}
    </p>
  </div>`;
}

/** @param {{ alarms: any[], now: number }} props */
function RecentAlarms({ alarms, now }) {
  if (!alarms.length) return html`<p class="empty">${t('family.recent.none')}</p>`;
  return html`<ul class="family-alarms">
    ${alarms.map(
      (a) => html`<li key=${a.id} class=${`sev-${a.severity}`}>
        <span class="fa-type">${alarmTypeLabel(a.type)}</span>
        <time datetime=${a.receivedAt}>${shortTime(a.receivedAt, now)}</time>
        <span class="fa-handled">
          ${
            a.resolvedAt
              ? t('family.recent.resolved', {
                  name: a.resolvedBy ?? '—',
                  outcome: a.outcome ? outcomeLabel(a.outcome) : '',
                })
              : a.acknowledgedAt
                ? t('family.recent.taken', { name: a.acknowledgedBy ?? '—' })
                : t('family.recent.waiting')
          }
        </span>
      </li>`,
    )}
  </ul>`;
}

/** @param {{ bed: { id: string, residentName: string } }} props */
function FamilyBed({ bed }) {
  const [res, reload] = useApi(`/api/beds/${encodeURIComponent(bed.id)}/status`, { refreshMs: 60_000 });
  const now = useNow();
  // The page's one alarm stream (family see only their beds' changes).
  useEffect(
    () =>
      sharedAlarmQueue().onChange((change) => {
        if (change.bedId === bed.id) void reload();
      }),
    [bed.id, reload],
  );
  const headingId = `family-bed-${bed.id}`;
  /** @type {any} */
  let content;
  if (!res) content = html`<p aria-busy="true">${t('app.loading')}</p>`;
  else if (res.status !== 200)
    content = html`<p class="error" role="alert">${t('family.error', { message: res.body?.message ?? res.status })}</p>`;
  else
    content = html`<${NowCard} status=${res.body} name=${bed.residentName} now=${now} />
      <section aria-labelledby=${`${headingId}-night`}>
        <h3 id=${`${headingId}-night`}>${t('family.night')}</h3>
        <${LastNight} summary=${res.body.lastNight} />
      </section>
      <section aria-labelledby=${`${headingId}-recent`}>
        <h3 id=${`${headingId}-recent`}>${t('family.recent')}</h3>
        <${RecentAlarms} alarms=${res.body.recentAlarms ?? []} now=${now} />
      </section>`;
  return html`<article class="family-bed" aria-labelledby=${headingId}>
    <h2 id=${headingId}>${bed.residentName}</h2>
    ${content}
    <p class="family-more"><a href=${`/beds/${encodeURIComponent(bed.id)}`}>${t('family.details')}</a></p>
  </article>`;
}

/** @param {{ params: Record<string, string>, session: any }} props */
export default function FamilyView() {
  const [res] = useApi('/api/beds');
  if (!res) return html`<section class="family-view" aria-busy="true"><p>${t('app.loading')}</p></section>`;
  if (res.status !== 200) {
    return html`<section class="family-view"><p class="error" role="alert">${t('family.error', { message: res.body?.message ?? res.status })}</p></section>`;
  }
  /** @type {Array<{ id: string, residentName: string }>} */
  const beds = res.body.beds ?? [];
  return html`<section class="family-view">
    <h1>${t('family.title')}</h1>
    ${
      beds.length
        ? beds.map((bed) => html`<${FamilyBed} key=${bed.id} bed=${bed} />`)
        : html`<p class="empty">${t('family.noBeds')}</p>`
    }
  </section>`;
}

registerMessages('zh-CN', {
  'family.title': '我的家人',
  'family.noBeds': '您的账号还没有关联家人的床位，请联系服务机构。',
  'family.error': '暂时无法读取：{message}',
  'family.inBed': '在床',
  'family.outOfBed': '离床',
  'family.ok': '一切正常',
  'family.since': '{time} 起',
  'family.alarm.at': '{name} {time} 发出报警',
  'family.alarm.taken': '已有值班员接警：{name}',
  'family.alarm.waiting': '正在通知值班员，请保持电话畅通',
  'family.offline': '看护设备离线',
  'family.notConnected': '看护设备尚未连接',
  'family.noGateway': '尚未安装看护设备',
  'family.offline.lastSeen': '最后联系 {ago}。',
  'family.offline.detail': '现在无法看护，服务机构会跟进处理。',
  'family.night': '昨晚睡眠',
  'family.night.none': '还没有睡眠小结。',
  'family.night.day': '{day} 的小结',
  'family.night.inBed': '在床 {time}',
  'family.night.noExits': '夜里没有起床',
  'family.night.exits': '夜里起床 {n} 次',
  'family.night.longest': '，最长一次离床 {time}',
  'family.night.heart': '平均心率 {n} 次/分',
  'family.night.breath': '平均呼吸 {n} 次/分',
  'family.night.noAlarms': '没有报警',
  'family.night.alarms': '报警 {n} 次：{list}',
  'family.night.partial': '传感器只记录到其中 {time}，小结可能不完整。',
  'family.recent': '最近的报警',
  'family.recent.none': '最近没有报警。',
  'family.recent.resolved': '{name} 已处理：{outcome}',
  'family.recent.taken': '{name} 正在处理',
  'family.recent.waiting': '等待值班员接警',
  'family.details': '查看详情',
});

registerMessages('en', {
  'family.title': 'My family',
  'family.noBeds': 'No bed is linked to your account yet; please contact the care provider.',
  'family.error': 'Cannot read this right now: {message}',
  'family.inBed': 'In bed',
  'family.outOfBed': 'Up and about',
  'family.ok': 'All is well',
  'family.since': 'since {time}',
  'family.alarm.at': 'Alarm from {name} at {time}',
  'family.alarm.taken': 'A staff member has taken it: {name}',
  'family.alarm.waiting': 'Staff are being called; please keep your phone at hand',
  'family.offline': 'Monitoring is offline',
  'family.notConnected': 'Monitoring not connected yet',
  'family.noGateway': 'No monitoring installed yet',
  'family.offline.lastSeen': 'Last heard from {ago}.',
  'family.offline.detail': 'Nobody is watching over right now; the care provider will follow up.',
  'family.night': 'Last night',
  'family.night.none': 'No sleep summary yet.',
  'family.night.day': 'Summary of {day}',
  'family.night.inBed': 'In bed for {time}',
  'family.night.noExits': 'Did not get up at night',
  'family.night.exits': 'Got up {n} times at night',
  'family.night.longest': ', the longest time up {time}',
  'family.night.heart': 'Average heart rate {n} per minute',
  'family.night.breath': 'Average breathing {n} per minute',
  'family.night.noAlarms': 'No alarms',
  'family.night.alarms': '{n} alarms: {list}',
  'family.night.partial': 'The sensor recorded only {time} of it; the summary may be incomplete.',
  'family.recent': 'Recent alarms',
  'family.recent.none': 'No recent alarms.',
  'family.recent.resolved': 'handled by {name}: {outcome}',
  'family.recent.taken': '{name} is handling it',
  'family.recent.waiting': 'waiting for a staff member',
  'family.details': 'Details',
});
