/**
 * One bed (`/beds/:id`): who lives there and whom to call, how they are now,
 * what happened (alarms and the gateway's events, newest first) and their
 * heart rate, breathing and time in bed over 24 hours and 7 days.
 *
 * Reads GET /api/beds/:id (404 → "not found": another organisation's bed, or a
 * bed not linked to this family user, looks exactly like a missing one),
 * /api/beds/:id/status, /api/alarms?bedId=, /api/beds/:id/events and
 * /api/beds/:id/vitals (in lib/charts.js); refreshes on this bed's changes in the
 * page's alarm stream (lib/live-alarms.js).
 */
import { useEffect } from 'preact/hooks';
import { VitalsChart } from '../lib/charts.js';
import { html } from '../lib/html.js';
import {
  alarmTypeLabel,
  bedStateLabel,
  formatDateTime,
  hasMessage,
  outcomeLabel,
  registerMessages,
  riskTagLabel,
  severityLabel,
  t,
} from '../lib/i18n.js';
import { sharedAlarmQueue } from '../lib/live-alarms.js';
import { hoursMinutes, linkViewStyles, relativeTime, shortTime, useApi, useNow } from '../lib/view-kit.js';
import { LastNight } from './family.js';

linkViewStyles();

/**
 * @typedef {object} StoredAlarm the fields this page reads (docs/api.md § Shapes)
 * @property {string} id
 * @property {string} type
 * @property {string} severity
 * @property {'raised' | 'cleared' | 'cancelled'} state
 * @property {string} receivedAt
 * @property {string} [acknowledgedAt]
 * @property {string} [acknowledgedBy]
 * @property {string} [resolvedAt]
 * @property {string} [resolvedBy]
 * @property {string} [outcome]
 */

/**
 * @typedef {object} BedEvent a gateway event (GET /api/beds/:id/events)
 * @property {string} id
 * @property {string} kind daily_summary | bed_exit | bed_return | sos_test_reminder
 * @property {string} at
 * @property {Record<string, any>} detail
 */

/**
 * The state now, as a badge: alarm, in bed, out of bed, unknown.
 * @param {{ now: any, gateway: any }} props
 */
export function NowBadge({ now, gateway }) {
  if (!now) return null;
  const since = now.since ? t('bed.since', { time: shortTime(now.since) }) : '';
  if (now.state === 'alarm' && now.activeAlarm) {
    const a = now.activeAlarm;
    return html`<p class="now-badge now-alarm" role="status">
      <strong>${t('bed.now.alarm', { type: alarmTypeLabel(a.type) })}</strong>
      <span>${a.acknowledgedBy ? t('bed.now.takenBy', { name: a.acknowledgedBy }) : t('bed.now.waiting')}</span>
      <a href=${`/alarms/${encodeURIComponent(a.id)}`}>${t('bed.openAlarm')}</a>
    </p>`;
  }
  const offline = gateway && gateway.status !== 'online';
  const key =
    now.state === 'in_bed' ? 'bed.now.inBed' : now.state === 'out_of_bed' ? 'bed.now.out' : 'bed.now.unknown';
  return html`<p class=${`now-badge now-${now.state}`} role="status">
    <strong>${t(key)}</strong> ${since ? html`<span>${since}</span>` : null}
    ${
      offline
        ? html`<span class="now-warning">${t(gateway.status === null ? 'bed.now.gatewayNever' : 'bed.now.gatewayOffline')}</span>`
        : null
    }
  </p>`;
}

/** @param {{ bed: any, status: any, gatewayId: string | null, now: number }} props */
function BedCard({ bed, status, gatewayId, now }) {
  const gateway = status?.gateway ?? (gatewayId ? { id: gatewayId, status: null, lastSeenAt: null } : null);
  return html`<section class="bed-card" aria-labelledby="bed-title">
    <div class="bed-card-head">
      <h1 id="bed-title">${bed.residentName} <small class="bed-id">${bed.id}</small></h1>
      ${status ? html`<${NowBadge} now=${status.now} gateway=${status.gateway} />` : null}
    </div>
    <dl class="facts">
      <dt>${t('bed.address')}</dt>
      <dd>${bed.address}</dd>
      <dt>${t('bed.service')}</dt>
      <dd>${bedStateLabel(bed.state)}${bed.installDate ? ` · ${t('bed.installed', { date: bed.installDate })}` : ''}</dd>
      <dt>${t('bed.risks')}</dt>
      <dd>
        ${
          bed.riskTags.length
            ? html`<ul class="tags">${bed.riskTags.map((tag) => html`<li class="tag">${riskTagLabel(tag)}</li>`)}</ul>`
            : t('bed.none')
        }
      </dd>
      <dt>${t('bed.gateway')}</dt>
      <dd>
        ${
          gateway
            ? html`<span class=${`dot ${gateway.status === 'online' ? 'ok' : 'bad'}`} aria-hidden="true"></span>
              ${gateway.id} · ${t(gateway.status === 'online' ? 'bed.gateway.online' : gateway.status === 'offline' ? 'bed.gateway.offline' : 'bed.gateway.never')}
              ${gateway.lastSeenAt ? ` · ${t('bed.lastSeen', { ago: relativeTime(gateway.lastSeenAt, now) })}` : ''}`
            : t('bed.gateway.none')
        }
      </dd>
    </dl>
    <h2>${t('bed.contacts')}</h2>
    ${
      bed.contacts.length
        ? html`<ul class="contacts">
          ${bed.contacts.map(
            (/** @type {any} */ c) => html`<li>
              <span class="contact-name">${c.name}</span>
              <span class="contact-relation">${c.relation}</span>
              <a class="tel" href=${`tel:${c.phone}`} aria-label=${t('bed.call', { name: c.name, phone: c.phone })}>${c.phone}</a>
              ${c.notify ? html`<span class="contact-notify">${t('bed.notified')}</span>` : null}
            </li>`,
          )}
        </ul>`
        : html`<p class="empty">${t('bed.noContacts')}</p>`
    }
    ${bed.notes ? html`<p class="bed-notes"><strong>${t('bed.notes')}</strong> ${bed.notes}</p>` : null}
  </section>`;
}

/** How an alarm was handled, in a few words. @param {StoredAlarm} a */
export function handledText(a) {
  if (a.resolvedAt) {
    return t('bed.alarm.resolved', {
      name: a.resolvedBy ?? '—',
      outcome: a.outcome ? outcomeLabel(a.outcome) : '',
    });
  }
  if (a.acknowledgedAt) return t('bed.alarm.acknowledged', { name: a.acknowledgedBy ?? '—' });
  return t('bed.alarm.open');
}

/** A gateway event in words. @param {BedEvent} e */
function eventText(e) {
  const d = e.detail ?? {};
  switch (e.kind) {
    case 'daily_summary':
      return t('bed.event.summary', {
        day: d.day ?? '',
        inBed: hoursMinutes(Number(d.timeInBedMin ?? 0)),
        exits: Number(d.nightBedExits ?? 0),
      });
    case 'bed_exit':
      return t('bed.event.exit');
    case 'bed_return':
      return typeof d.outOfBedS === 'number'
        ? t('bed.event.returnAfter', { duration: hoursMinutes(d.outOfBedS / 60) })
        : t('bed.event.return');
    case 'sos_test_reminder': {
      const buttons = Array.isArray(d.buttons) ? d.buttons : [];
      const untested = buttons.filter((/** @type {any} */ b) => !b.tested).length;
      return d.allTested
        ? t('bed.event.sosTested')
        : t('bed.event.sosUntested', { n: buttons.length === 0 ? '—' : untested });
    }
    default:
      return e.kind;
  }
}

/**
 * Alarms and events together, newest first.
 * @param {{ alarms: StoredAlarm[] | null, events: BedEvent[] | null, eventsUnavailable: boolean }} props
 */
function Timeline({ alarms, events, eventsUnavailable }) {
  /** @type {Array<{ at: string, node: any }>} */
  const items = [];
  for (const a of alarms ?? []) {
    const ended = a.state !== 'raised';
    items.push({
      at: a.receivedAt,
      node: html`<li key=${`a-${a.id}`} class=${`tl-item tl-alarm sev-${a.severity}`}>
        <time datetime=${a.receivedAt}>${formatDateTime(a.receivedAt)}</time>
        <span class="tl-what">
          <a href=${`/alarms/${encodeURIComponent(a.id)}`}>${alarmTypeLabel(a.type)}</a>
          <span class="sev">${severityLabel(a.severity)}</span>
        </span>
        <span class="tl-detail">${ended ? t(`bed.alarm.${a.state}`) : handledText(a)}</span>
      </li>`,
    });
  }
  for (const e of events ?? []) {
    items.push({
      at: e.at,
      node: html`<li key=${`e-${e.id}`} class=${`tl-item tl-event ev-${e.kind}`}>
        <time datetime=${e.at}>${formatDateTime(e.at)}</time>
        <span class="tl-what">${hasMessage(`bed.eventKind.${e.kind}`) ? t(`bed.eventKind.${e.kind}`) : e.kind}</span>
        <span class="tl-detail">${eventText(e)}</span>
      </li>`,
    });
  }
  items.sort((x, y) => (x.at < y.at ? 1 : x.at > y.at ? -1 : 0));
  return html`<section class="bed-timeline" aria-labelledby="timeline-title">
    <h2 id="timeline-title">${t('bed.timeline')}</h2>
    ${eventsUnavailable ? html`<p class="note">${t('bed.eventsUnavailable')}</p>` : null}
    ${
      items.length
        ? html`<ol class="timeline">${items.map((i) => i.node)}</ol>`
        : html`<p class="empty">${t('bed.timeline.empty')}</p>`
    }
  </section>`;
}

/** @param {{ params: { id: string }, session: any }} props */
export default function BedView({ params }) {
  const id = params.id;
  const path = `/api/beds/${encodeURIComponent(id)}`;
  const [bedRes] = useApi(path);
  const found = bedRes?.status === 200;
  // The rest only once the bed is known to be readable.
  const [statusRes, reloadStatus] = useApi(found ? `${path}/status` : null, { refreshMs: 60_000 });
  const [alarmsRes, reloadAlarms] = useApi(
    found ? `/api/alarms?bedId=${encodeURIComponent(id)}&limit=50` : null,
  );
  const [eventsRes, reloadEvents] = useApi(found ? `${path}/events?limit=50` : null, { refreshMs: 60_000 });
  const now = useNow();

  // Changes of this bed from the page's one alarm stream (shared with the header).
  useEffect(() => {
    if (!found) return undefined;
    return sharedAlarmQueue().onChange((change) => {
      if (change.bedId !== id) return;
      void reloadStatus();
      void reloadAlarms();
      void reloadEvents();
    });
  }, [found, id, reloadStatus, reloadAlarms, reloadEvents]);

  if (!bedRes) return html`<section class="bed-view" aria-busy="true"><p>${t('app.loading')}</p></section>`;
  if (bedRes.status === 404 || bedRes.status === 400) {
    return html`<section class="bed-view not-found">
      <h1>${t('bed.notFound')}</h1>
      <p>${t('bed.notFound.detail', { id })}</p>
    </section>`;
  }
  if (!found) {
    return html`<section class="bed-view"><p class="error" role="alert">${t('app.error', { message: bedRes.body?.message ?? bedRes.status })}</p></section>`;
  }
  const { bed, gatewayId } = bedRes.body;
  const status = statusRes?.status === 200 ? statusRes.body : null;
  return html`<div class="bed-view">
    <${BedCard} bed=${bed} status=${status} gatewayId=${gatewayId} now=${now} />
    ${
      status
        ? html`<section class="bed-last-night" aria-labelledby="last-night-title">
            <h2 id="last-night-title">${t('bed.lastNight')}</h2>
            <${LastNight} summary=${status.lastNight} />
          </section>`
        : statusRes && statusRes.status !== 200
          ? html`<p class="note">${t('bed.statusUnavailable')}</p>`
          : null
    }
    <section class="bed-vitals" aria-labelledby="vitals-title">
      <h2 id="vitals-title">${t('bed.vitals')}</h2>
      <div class="vitals-grid">
        <${VitalsChart} bedId=${id} initialRange="24h" />
        <${VitalsChart} bedId=${id} initialRange="7d" />
      </div>
    </section>
    <${Timeline}
      alarms=${alarmsRes?.status === 200 ? alarmsRes.body.alarms : null}
      events=${eventsRes?.status === 200 ? eventsRes.body.events : null}
      eventsUnavailable=${Boolean(eventsRes && eventsRes.status !== 200)}
    />
  </div>`;
}

registerMessages('zh-CN', {
  'bed.since': '自 {time} 起',
  'bed.now.alarm': '报警中：{type}',
  'bed.now.takenBy': '值班员 {name} 已接警',
  'bed.now.waiting': '等待值班员接警',
  'bed.now.inBed': '在床',
  'bed.now.out': '离床',
  'bed.now.unknown': '状态未知',
  'bed.now.gatewayOffline': '网关离线，当前无法看护',
  'bed.now.gatewayNever': '网关尚未连接，当前无法看护',
  'bed.openAlarm': '查看报警',
  'bed.address': '地址',
  'bed.service': '服务状态',
  'bed.installed': '{date} 安装',
  'bed.risks': '风险标签',
  'bed.none': '无',
  'bed.gateway': '网关',
  'bed.gateway.online': '在线',
  'bed.gateway.offline': '离线',
  'bed.gateway.never': '从未连接',
  'bed.gateway.none': '未安装网关',
  'bed.lastSeen': '最后联系 {ago}',
  'bed.contacts': '紧急联系人',
  'bed.call': '拨打 {name} 的电话 {phone}',
  'bed.notified': '接收报警通知',
  'bed.noContacts': '没有登记紧急联系人',
  'bed.notes': '备注：',
  'bed.alarm.resolved': '{name} 已结案：{outcome}',
  'bed.alarm.acknowledged': '{name} 已接警，处理中',
  'bed.alarm.open': '未接警',
  'bed.alarm.cleared': '网关报告已解除',
  'bed.alarm.cancelled': '已取消',
  'bed.eventKind.daily_summary': '每日小结',
  'bed.eventKind.bed_exit': '离床',
  'bed.eventKind.bed_return': '回床',
  'bed.eventKind.sos_test_reminder': 'SOS 按钮测试提醒',
  'bed.event.summary': '{day}：在床 {inBed}，夜间起床 {exits} 次',
  'bed.event.exit': '离开床位',
  'bed.event.return': '回到床上',
  'bed.event.returnAfter': '回到床上（离床 {duration}）',
  'bed.event.sosTested': '本周所有 SOS 按钮都已测试',
  'bed.event.sosUntested': '有 {n} 个 SOS 按钮本周未测试',
  'bed.timeline': '报警与事件',
  'bed.timeline.empty': '还没有报警或事件',
  'bed.eventsUnavailable': '网关事件暂时无法读取，下面只列出报警。',
  'bed.statusUnavailable': '当前状态暂时无法读取。',
  'bed.lastNight': '昨晚',
  'bed.vitals': '生命体征',
  'bed.notFound': '未找到该床位',
  'bed.notFound.detail': '床位 {id} 不存在，或您无权查看。',
});

registerMessages('en', {
  'bed.since': 'since {time}',
  'bed.now.alarm': 'Alarm: {type}',
  'bed.now.takenBy': 'taken by {name}',
  'bed.now.waiting': 'waiting for staff',
  'bed.now.inBed': 'In bed',
  'bed.now.out': 'Out of bed',
  'bed.now.unknown': 'State unknown',
  'bed.now.gatewayOffline': 'gateway offline: not being watched',
  'bed.now.gatewayNever': 'gateway not connected yet: not being watched',
  'bed.openAlarm': 'Open alarm',
  'bed.address': 'Address',
  'bed.service': 'Service',
  'bed.installed': 'installed {date}',
  'bed.risks': 'Risk tags',
  'bed.none': 'none',
  'bed.gateway': 'Gateway',
  'bed.gateway.online': 'online',
  'bed.gateway.offline': 'offline',
  'bed.gateway.never': 'never connected',
  'bed.gateway.none': 'no gateway installed',
  'bed.lastSeen': 'last seen {ago}',
  'bed.contacts': 'Emergency contacts',
  'bed.call': 'Call {name} on {phone}',
  'bed.notified': 'told about alarms',
  'bed.noContacts': 'No emergency contacts on file',
  'bed.notes': 'Notes:',
  'bed.alarm.resolved': 'closed by {name}: {outcome}',
  'bed.alarm.acknowledged': 'taken by {name}, in progress',
  'bed.alarm.open': 'not yet taken',
  'bed.alarm.cleared': 'cleared by the gateway',
  'bed.alarm.cancelled': 'cancelled',
  'bed.eventKind.daily_summary': 'Daily summary',
  'bed.eventKind.bed_exit': 'Out of bed',
  'bed.eventKind.bed_return': 'Back in bed',
  'bed.eventKind.sos_test_reminder': 'SOS button test',
  'bed.event.summary': '{day}: in bed {inBed}, up {exits} times at night',
  'bed.event.exit': 'got out of bed',
  'bed.event.return': 'back in bed',
  'bed.event.returnAfter': 'back in bed (out for {duration})',
  'bed.event.sosTested': 'every SOS button tested this week',
  'bed.event.sosUntested': '{n} SOS button(s) not tested this week',
  'bed.timeline': 'Alarms and events',
  'bed.timeline.empty': 'No alarms or events yet',
  'bed.eventsUnavailable': 'Gateway events cannot be read right now; only alarms are listed.',
  'bed.statusUnavailable': 'The current state cannot be read right now.',
  'bed.lastNight': 'Last night',
  'bed.vitals': 'Vital signs',
  'bed.notFound': 'Bed not found',
  'bed.notFound.detail': 'Bed {id} does not exist, or you may not see it.',
});
