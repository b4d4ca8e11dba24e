/**
 * One alarm, beside the queue: acknowledge, resolve with an outcome and notes,
 * and everything needed to act on it — the resident and how to reach people
 * (contacts as tel: links), risk tags, the bed's state now, the alarm's
 * evidence, its escalation steps and its whole timeline, refreshed live.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api } from '../lib/api.js';
import { html } from '../lib/html.js';
import {
  alarmTypeLabel,
  eventKindLabel,
  formatDateTime,
  formatDuration,
  outcomeLabel,
  RESOLUTION_OUTCOMES,
  registerMessages,
  riskTagLabel,
  severityLabel,
  t,
} from '../lib/i18n.js';
import { sharedAlarmQueue, useNow } from '../lib/live-alarms.js';
import { acknowledgeAlarm, QueueList } from './queue.js';

registerMessages('zh-CN', {
  'alarm.loading': '正在加载报警…',
  'alarm.notFound': '没有这条报警，或您无权查看',
  'alarm.loadFailed': '报警加载失败：{message}',
  'alarm.received': '中心收到 {time}',
  'alarm.edgeTime': '网关时间 {time}',
  'alarm.waitingFor': '已等待 {age}',
  'alarm.state.waiting': '等待接警',
  'alarm.state.acknowledged': '{name} 于 {time} 接警（响应 {duration}）',
  'alarm.state.resolved': '{name} 于 {time} 结案：{outcome}',
  'alarm.state.cleared': '网关报告情况已自行解除，仍需结案',
  'alarm.state.cancelled': '报警已被取消（如老人按了取消），仍需结案',
  'alarm.notes': '备注：{notes}',
  'alarm.message': '网关说明：{message}',
  'alarm.acknowledge': '接警',
  'alarm.acknowledging': '正在接警…',
  'alarm.ackFailed': '接警失败：{message}',
  'alarm.resolveTitle': '结案',
  'alarm.outcome': '处理结果',
  'alarm.outcomeChoose': '请选择处理结果',
  'alarm.notesLabel': '处理备注',
  'alarm.notesPlaceholder': '例如：电话联系老人，确认误按',
  'alarm.resolve': '结案',
  'alarm.resolving': '正在结案…',
  'alarm.resolveFailed': '结案失败：{message}',
  'alarm.needOutcome': '请先选择处理结果',
  'alarm.bedTitle': '老人与床位',
  'alarm.bedUnknown': '床位 {bedId} 的资料无法读取',
  'alarm.bedLink': '打开床位页面',
  'alarm.address': '地址',
  'alarm.riskTags': '风险标签',
  'alarm.noRiskTags': '无',
  'alarm.contacts': '紧急联系人',
  'alarm.noContacts': '没有登记联系人',
  'alarm.call': '拨打 {name}（{relation}）{phone}',
  'alarm.nowTitle': '当前状态',
  'alarm.nowUnavailable': '暂时无法读取床位当前状态',
  'alarm.now.alarm': '报警中',
  'alarm.now.in_bed': '在床',
  'alarm.now.out_of_bed': '离床',
  'alarm.now.unknown': '未知',
  'alarm.nowSince': '自 {time}',
  'alarm.gateway': '网关 {id}：{state}',
  'alarm.gateway.online': '在线',
  'alarm.gateway.offline': '离线',
  'alarm.gateway.unknown': '状态未知',
  'alarm.gatewayLastSeen': '最后联系 {time}',
  'alarm.evidenceTitle': '报警依据',
  'alarm.noEvidence': '没有附带依据',
  'alarm.evidenceItem': '{device}：{kind}',
  'alarm.escalationTitle': '升级',
  'alarm.noEscalation': '此报警没有升级步骤',
  'alarm.escalation.step': '第 {step} 步',
  'alarm.escalation.tier': '通知 {tier}',
  'alarm.escalation.fired': '已于 {time} 升级',
  'alarm.escalation.cancelled': '已于 {time} 取消',
  'alarm.escalation.pending': '将于 {time} 升级（还有 {left}）',
  'alarm.escalation.overdue': '应于 {time} 升级',
  'alarm.timelineTitle': '时间线',
  'alarm.actor.system': '系统',
  'alarm.actor.gateway': '网关 {id}',
  'alarm.detail.seq': '序号 {seq}',
  'alarm.detail.step': '第 {step} 步，{tier}，{afterS} 秒后',
  'alarm.detail.notified': '{channel} → {recipient}',
  'alarm.detail.failed': '{channel} → {recipient}：{reason}',
  'alarm.channel.sms': '短信',
  'alarm.channel.voice': '电话',
  'alarm.channel.webhook': '系统推送',
});
registerMessages('en', {
  'alarm.loading': 'Loading the alarm…',
  'alarm.notFound': 'No such alarm, or not yours to see',
  'alarm.loadFailed': 'Could not load the alarm: {message}',
  'alarm.received': 'received {time}',
  'alarm.edgeTime': 'gateway time {time}',
  'alarm.waitingFor': 'waiting {age}',
  'alarm.state.waiting': 'Waiting for someone to take it',
  'alarm.state.acknowledged': 'Taken by {name} at {time} (after {duration})',
  'alarm.state.resolved': 'Resolved by {name} at {time}: {outcome}',
  'alarm.state.cleared': 'The gateway says the condition ended; still to resolve',
  'alarm.state.cancelled': 'Cancelled at the home (e.g. the resident pressed cancel); still to resolve',
  'alarm.notes': 'Notes: {notes}',
  'alarm.message': 'Gateway says: {message}',
  'alarm.acknowledge': 'Acknowledge',
  'alarm.acknowledging': 'Acknowledging…',
  'alarm.ackFailed': 'Could not acknowledge: {message}',
  'alarm.resolveTitle': 'Resolve',
  'alarm.outcome': 'Outcome',
  'alarm.outcomeChoose': 'Choose the outcome',
  'alarm.notesLabel': 'Notes',
  'alarm.notesPlaceholder': 'e.g. called the resident, pressed by mistake',
  'alarm.resolve': 'Resolve',
  'alarm.resolving': 'Resolving…',
  'alarm.resolveFailed': 'Could not resolve: {message}',
  'alarm.needOutcome': 'Choose an outcome first',
  'alarm.bedTitle': 'Resident and bed',
  'alarm.bedUnknown': 'Bed {bedId} could not be read',
  'alarm.bedLink': 'Open the bed page',
  'alarm.address': 'Address',
  'alarm.riskTags': 'Risk tags',
  'alarm.noRiskTags': 'none',
  'alarm.contacts': 'Emergency contacts',
  'alarm.noContacts': 'No contacts on file',
  'alarm.call': 'Call {name} ({relation}) {phone}',
  'alarm.nowTitle': 'Now',
  'alarm.nowUnavailable': 'The bed’s current state is not available',
  'alarm.now.alarm': 'In alarm',
  'alarm.now.in_bed': 'In bed',
  'alarm.now.out_of_bed': 'Out of bed',
  'alarm.now.unknown': 'Unknown',
  'alarm.nowSince': 'since {time}',
  'alarm.gateway': 'Gateway {id}: {state}',
  'alarm.gateway.online': 'online',
  'alarm.gateway.offline': 'offline',
  'alarm.gateway.unknown': 'status unknown',
  'alarm.gatewayLastSeen': 'last heard {time}',
  'alarm.evidenceTitle': 'Evidence',
  'alarm.noEvidence': 'No evidence attached',
  'alarm.evidenceItem': '{device}: {kind}',
  'alarm.escalationTitle': 'Escalation',
  'alarm.noEscalation': 'No escalation steps for this alarm',
  'alarm.escalation.step': 'Step {step}',
  'alarm.escalation.tier': 'tells {tier}',
  'alarm.escalation.fired': 'fired at {time}',
  'alarm.escalation.cancelled': 'cancelled at {time}',
  'alarm.escalation.pending': 'fires at {time} (in {left})',
  'alarm.escalation.overdue': 'due at {time}',
  'alarm.timelineTitle': 'Timeline',
  'alarm.actor.system': 'system',
  'alarm.actor.gateway': 'gateway {id}',
  'alarm.detail.seq': 'seq {seq}',
  'alarm.detail.step': 'step {step}, {tier}, after {afterS} s',
  'alarm.detail.notified': '{channel} → {recipient}',
  'alarm.detail.failed': '{channel} → {recipient}: {reason}',
  'alarm.channel.sms': 'SMS',
  'alarm.channel.voice': 'call',
  'alarm.channel.webhook': 'webhook',
});

const STAFF_ROLES = ['staff', 'operator', 'admin'];

/** @param {unknown} value */
const text = (value) => (value === null || value === undefined ? '' : String(value));

/** `system`, `gateway:gw-1` or a person's name, for people. @param {string | null} actor */
function actorLabel(actor) {
  if (!actor) return '';
  if (actor === 'system') return t('alarm.actor.system');
  if (actor.startsWith('gateway:')) return t('alarm.actor.gateway', { id: actor.slice('gateway:'.length) });
  return actor;
}

/** @param {unknown} channel */
const channelLabel = (channel) => {
  const key = `alarm.channel.${text(channel)}`;
  const label = t(key);
  return label === key ? text(channel) : label;
};

/**
 * The extra words of one timeline step.
 * @param {{ kind: string, detail: Record<string, unknown> }} event
 * @returns {string}
 */
function eventDetail({ kind, detail }) {
  switch (kind) {
    case 'raised':
      return [
        detail.type ? alarmTypeLabel(text(detail.type)) : '',
        detail.severity ? severityLabel(text(detail.severity)) : '',
        detail.seq ? t('alarm.detail.seq', { seq: text(detail.seq) }) : '',
      ]
        .filter(Boolean)
        .join(' · ');
    case 'resolved':
      return [detail.outcome ? outcomeLabel(text(detail.outcome)) : '', text(detail.notes)]
        .filter(Boolean)
        .join(' — ');
    case 'escalated':
      return t('alarm.detail.step', {
        step: text(detail.step),
        tier: text(detail.tier),
        afterS: text(detail.afterS),
      });
    case 'notified':
      // Family do not see who else was told: the channel alone.
      if (!detail.recipient) return channelLabel(detail.channel);
      return t('alarm.detail.notified', {
        channel: channelLabel(detail.channel),
        recipient: text(detail.recipient) || '—',
      });
    case 'notification_failed':
      return t('alarm.detail.failed', {
        channel: channelLabel(detail.channel),
        recipient: text(detail.recipient) || '—',
        reason: text(detail.reason) || '—',
      });
    default:
      return '';
  }
}

/**
 * GET `path` now and whenever `deps` change; `reload()` again on demand. A 404 or any
 * failure is an answer like any other (callers decide what to show).
 * @param {string | null} path
 * @returns {[{ status: number, body: any } | null, () => Promise<void>]}
 */
function useResource(path) {
  const [result, setResult] = useState(
    /** @type {{ path: string, status: number, body: any } | null} */ (null),
  );
  const reload = useCallback(async () => {
    if (!path) return;
    const answer = await api.get(path);
    setResult({ path, ...answer });
  }, [path]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return [result && result.path === path ? result : null, reload];
}

/** @param {{ bedId: string, bed: any, status: any }} props */
function BedCard({ bedId, bed, status }) {
  if (bed?.status !== 200) {
    return html`<section class="card bed-card" aria-labelledby="bed-card-title">
      <h2 id="bed-card-title">${t('alarm.bedTitle')}</h2>
      <p class="muted">${bed ? t('alarm.bedUnknown', { bedId }) : t('app.loading')}</p>
    </section>`;
  }
  const record = bed.body.bed;
  const now = status?.status === 200 ? status.body : null;
  return html`<section class="card bed-card" aria-labelledby="bed-card-title">
    <h2 id="bed-card-title">${t('alarm.bedTitle')}</h2>
    <p class="resident-name">
      <span class="resident">${record.residentName}</span>
      <a class="bed-link" href=${`/beds/${encodeURIComponent(record.id)}`}>${t('alarm.bedLink')} (${record.id})</a>
    </p>
    <dl class="facts">
      <dt>${t('alarm.address')}</dt>
      <dd class="address">${record.address}</dd>
      <dt>${t('alarm.riskTags')}</dt>
      <dd>
        ${
          record.riskTags.length
            ? html`<ul class="tags">
              ${record.riskTags.map((/** @type {string} */ tag) => html`<li class="tag">${riskTagLabel(tag)}</li>`)}
            </ul>`
            : t('alarm.noRiskTags')
        }
      </dd>
      <dt>${t('alarm.nowTitle')}</dt>
      <dd class="bed-now">
        ${
          now
            ? html`<span class=${`now-state now-${now.now.state}`}>${t(`alarm.now.${now.now.state}`)}</span>
              ${now.now.since ? html` <span class="muted">${t('alarm.nowSince', { time: formatDateTime(now.now.since) })}</span>` : null}
              ${
                now.gateway
                  ? html`<br /><span class=${`gateway-state gateway-${now.gateway.status ?? 'unknown'}`}>
                      ${t('alarm.gateway', { id: now.gateway.id, state: t(`alarm.gateway.${now.gateway.status ?? 'unknown'}`) })}
                    </span>
                    ${now.gateway.lastSeenAt ? html` <span class="muted">${t('alarm.gatewayLastSeen', { time: formatDateTime(now.gateway.lastSeenAt) })}</span>` : null}`
                  : null
              }`
            : html`<span class="muted">${status ? t('alarm.nowUnavailable') : t('app.loading')}</span>`
        }
      </dd>
    </dl>
    <h3>${t('alarm.contacts')}</h3>
    ${
      record.contacts.length
        ? html`<ul class="contacts">
          ${record.contacts.map(
            (/** @type {{ name: string, relation: string, phone: string }} */ c) => html`<li>
              <a
                class="tel"
                href=${`tel:${c.phone}`}
                aria-label=${t('alarm.call', { name: c.name, relation: c.relation, phone: c.phone })}
              >
                <span class="contact-name">${c.name}</span>
                <span class="contact-relation">${c.relation}</span>
                <span class="contact-phone">${c.phone}</span>
              </a>
            </li>`,
          )}
        </ul>`
        : html`<p class="muted">${t('alarm.noContacts')}</p>`
    }
  </section>`;
}

/**
 * @param {{ escalations: any[], timeline: any[], now: number }} props
 */
function Escalations({ escalations, timeline, now }) {
  /** @type {Record<string, string>} */
  const tiers = {};
  for (const e of timeline) if (e.kind === 'escalated') tiers[text(e.detail.step)] = text(e.detail.tier);
  return html`<section class="card" aria-labelledby="escalation-title">
    <h2 id="escalation-title">${t('alarm.escalationTitle')}</h2>
    ${
      escalations.length === 0
        ? html`<p class="muted">${t('alarm.noEscalation')}</p>`
        : html`<ol class="escalations">
          ${escalations.map((step) => {
            const state = step.firedAt ? 'fired' : step.cancelledAt ? 'cancelled' : 'pending';
            const due = Date.parse(step.dueAt);
            const words = step.firedAt
              ? t('alarm.escalation.fired', { time: formatDateTime(step.firedAt) })
              : step.cancelledAt
                ? t('alarm.escalation.cancelled', { time: formatDateTime(step.cancelledAt) })
                : due > now
                  ? t('alarm.escalation.pending', {
                      time: formatDateTime(step.dueAt),
                      left: formatDuration(due - now),
                    })
                  : t('alarm.escalation.overdue', { time: formatDateTime(step.dueAt) });
            const tier = tiers[String(step.step)];
            return html`<li class=${`escalation escalation-${state}`} data-state=${state}>
              <strong>${t('alarm.escalation.step', { step: step.step })}</strong>
              ${tier ? html` <span class="muted">${t('alarm.escalation.tier', { tier })}</span>` : null}
              <span class="escalation-state">${words}</span>
            </li>`;
          })}
        </ol>`
    }
  </section>`;
}

/** @param {{ timeline: any[] }} props */
function Timeline({ timeline }) {
  return html`<section class="card" aria-labelledby="timeline-title">
    <h2 id="timeline-title">${t('alarm.timelineTitle')}</h2>
    <ol class="timeline">
      ${timeline.map((event) => {
        const extra = eventDetail(event);
        return html`<li key=${event.id} class=${`timeline-step step-${event.kind}`} data-kind=${event.kind}>
          <time datetime=${event.at}>${formatDateTime(event.at)}</time>
          <span class="step-kind">${eventKindLabel(event.kind)}</span>
          <span class="step-actor">${actorLabel(event.actor)}</span>
          ${extra ? html`<span class="step-detail">${extra}</span>` : null}
        </li>`;
      })}
    </ol>
  </section>`;
}

/**
 * Acknowledge and resolve; `onDone` reloads the alarm.
 * @param {{ alarm: any, onDone: () => Promise<void> }} props
 */
function AlarmActions({ alarm, onDone }) {
  const [outcome, setOutcome] = useState('');
  const [notes, setNotes] = useState('');
  const [busy, setBusy] = useState(/** @type {'' | 'ack' | 'resolve'} */ (''));
  const [problem, setProblem] = useState('');

  const acknowledge = async () => {
    setBusy('ack');
    setProblem('');
    const failure = await acknowledgeAlarm(alarm.id);
    setBusy('');
    if (failure) setProblem(t('alarm.ackFailed', { message: failure }));
    await onDone();
  };

  /** @param {SubmitEvent} event */
  const resolve = async (event) => {
    event.preventDefault();
    if (!outcome) {
      setProblem(t('alarm.needOutcome'));
      return;
    }
    setBusy('resolve');
    setProblem('');
    const trimmed = notes.trim();
    const { status, body } = await api.post(`/api/alarms/${encodeURIComponent(alarm.id)}/resolve`, {
      outcome,
      ...(trimmed ? { notes: trimmed } : {}),
    });
    setBusy('');
    if (status === 200) sharedAlarmQueue().applyAlarm(body.alarm);
    else setProblem(t('alarm.resolveFailed', { message: body?.message ?? `HTTP ${status}` }));
    await onDone();
  };

  return html`<section class="card actions" aria-label=${t('alarm.resolveTitle')}>
    ${
      alarm.acknowledgedAt
        ? null
        : html`<button type="button" class="primary big ack-button" disabled=${busy !== ''} onClick=${acknowledge}>
          ${busy === 'ack' ? t('alarm.acknowledging') : t('alarm.acknowledge')}
        </button>`
    }
    <form class="resolve-form" onSubmit=${resolve}>
      <h2>${t('alarm.resolveTitle')}</h2>
      <label for="resolve-outcome">${t('alarm.outcome')}</label>
      <select
        id="resolve-outcome"
        name="outcome"
        required
        value=${outcome}
        onChange=${(/** @type {any} */ e) => setOutcome(e.currentTarget.value)}
      >
        <option value="">${t('alarm.outcomeChoose')}</option>
        ${RESOLUTION_OUTCOMES.map((o) => html`<option value=${o}>${outcomeLabel(o)}</option>`)}
      </select>
      <label for="resolve-notes">${t('alarm.notesLabel')}</label>
      <textarea
        id="resolve-notes"
        name="notes"
        rows="3"
        maxlength="4000"
        placeholder=${t('alarm.notesPlaceholder')}
        value=${notes}
        onInput=${(/** @type {any} */ e) => setNotes(e.currentTarget.value)}
      ></textarea>
      <button type="submit" class="resolve-button" disabled=${busy !== ''}>
        ${busy === 'resolve' ? t('alarm.resolving') : t('alarm.resolve')}
      </button>
    </form>
    <p class="form-error" role="alert">${problem}</p>
  </section>`;
}

/**
 * Everything about one alarm.
 * @param {{ id: string, session: any }} props
 */
export function AlarmPanel({ id, session }) {
  const isStaff = STAFF_ROLES.includes(session.role);
  const [detail, reloadDetail] = useResource(`/api/alarms/${encodeURIComponent(id)}`);
  const bedId = detail?.status === 200 ? detail.body.alarm.bedId : null;
  const [bed] = useResource(bedId ? `/api/beds/${encodeURIComponent(bedId)}` : null);
  const [status, reloadStatus] = useResource(bedId ? `/api/beds/${encodeURIComponent(bedId)}/status` : null);
  const now = useNow(1000);

  const refresh = useCallback(async () => {
    await Promise.all([reloadDetail(), reloadStatus()]);
  }, [reloadDetail, reloadStatus]);

  // Live: staff follow the stream; others (family) look again every 15 s.
  useEffect(() => {
    if (isStaff) {
      return sharedAlarmQueue().onChange((change) => {
        if (change.alarmId === id) void refresh();
      });
    }
    const timer = setInterval(() => void refresh(), 15_000);
    return () => clearInterval(timer);
  }, [id, isStaff, refresh]);

  if (!detail) {
    return html`<section class="alarm-pane" aria-busy="true"><p class="muted">${t('alarm.loading')}</p></section>`;
  }
  if (detail.status !== 200) {
    return html`<section class="alarm-pane">
      <p class="form-error" role="alert">
        ${detail.status === 404 ? t('alarm.notFound') : t('alarm.loadFailed', { message: detail.body?.message ?? detail.status })}
      </p>
    </section>`;
  }

  const { alarm, timeline, escalations } = detail.body;
  const ended = [...timeline].reverse().find((e) => e.kind === 'cleared' || e.kind === 'cancelled')?.kind;
  const open = alarm.state === 'raised' && !alarm.resolvedAt;
  const stateLine = alarm.resolvedAt
    ? t('alarm.state.resolved', {
        name: alarm.resolvedBy ?? '',
        time: formatDateTime(alarm.resolvedAt),
        outcome: outcomeLabel(alarm.outcome ?? ''),
      })
    : alarm.acknowledgedAt
      ? t('alarm.state.acknowledged', {
          name: alarm.acknowledgedBy ?? '',
          time: formatDateTime(alarm.acknowledgedAt),
          duration: formatDuration(Date.parse(alarm.acknowledgedAt) - Date.parse(alarm.receivedAt)),
        })
      : t('alarm.state.waiting');

  return html`<section class="alarm-pane" aria-labelledby="alarm-title">
    <header class=${`alarm-head severity-${alarm.severity}`}>
      <span class=${`severity-badge severity-${alarm.severity}`}>${severityLabel(alarm.severity)}</span>
      <h1 id="alarm-title">${alarmTypeLabel(alarm.type)}</h1>
      <p class="alarm-times muted">
        ${t('alarm.received', { time: formatDateTime(alarm.receivedAt) })}${' · '}${t('alarm.edgeTime', { time: formatDateTime(alarm.at) })}
        ${open ? html` · <strong class="alarm-age">${t('alarm.waitingFor', { age: formatDuration(now - Date.parse(alarm.receivedAt)) })}</strong>` : null}
      </p>
      <p class="alarm-state" data-state=${alarm.resolvedAt ? 'resolved' : alarm.acknowledgedAt ? 'acknowledged' : 'waiting'}>
        ${stateLine}
      </p>
      ${ended && open ? html`<p class="alarm-ended">${t(`alarm.state.${ended}`)}</p>` : null}
      ${alarm.notes ? html`<p class="alarm-notes">${t('alarm.notes', { notes: alarm.notes })}</p>` : null}
      ${alarm.message ? html`<p>${t('alarm.message', { message: alarm.message })}</p>` : null}
    </header>
    ${isStaff && open ? html`<${AlarmActions} key=${alarm.id} alarm=${alarm} onDone=${refresh} />` : null}
    <div class="alarm-columns">
      <${BedCard} bedId=${alarm.bedId} bed=${bed} status=${status} />
      <section class="card" aria-labelledby="evidence-title">
        <h2 id="evidence-title">${t('alarm.evidenceTitle')}</h2>
        ${
          alarm.evidence.length === 0
            ? html`<p class="muted">${t('alarm.noEvidence')}</p>`
            : html`<ul class="evidence">
              ${alarm.evidence.map(
                (/** @type {any} */ e) => html`<li>
                  <time datetime=${e.at}>${formatDateTime(e.at)}</time>
                  ${' '}${t('alarm.evidenceItem', { device: e.deviceId, kind: e.kind })}
                  ${e.value !== undefined ? html` = <strong>${String(e.value)}</strong>` : null}
                  ${e.raw ? html`<code class="raw">${e.raw}</code>` : null}
                </li>`,
              )}
            </ul>`
        }
      </section>
      <${Escalations} escalations=${escalations} timeline=${timeline} now=${now} />
      <${Timeline} timeline=${timeline} />
    </div>
  </section>`;
}

/** @param {{ params: Record<string, string>, session: any }} props */
export default function AlarmView({ params, session }) {
  const id = params.id ?? '';
  if (!STAFF_ROLES.includes(session.role)) {
    return html`<div class="console-single"><${AlarmPanel} key=${id} id=${id} session=${session} /></div>`;
  }
  return html`<div class="console-split">
    <${QueueList} selectedId=${id} />
    <${AlarmPanel} key=${id} id=${id} session=${session} />
  </div>`;
}
