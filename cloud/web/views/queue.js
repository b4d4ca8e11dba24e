/**
 * The staff queue: every open alarm of the organisation, live, critical first
 * then oldest first, with its age ticking. One click (or the `a` key on a
 * focused alarm) acknowledges; Enter or a click opens the alarm beside the list.
 */
import { useRef, useState } from 'preact/hooks';
import { api } from '../lib/api.js';
import { html } from '../lib/html.js';
import {
  alarmTypeLabel,
  formatDateTime,
  formatDuration,
  registerMessages,
  severityLabel,
  t,
} from '../lib/i18n.js';
import { sharedAlarmQueue, useAlarmQueue, useNow } from '../lib/live-alarms.js';
import { navigate } from '../lib/router.js';

registerMessages('zh-CN', {
  'queue.title': '报警队列',
  'queue.count': '{n} 条未结案',
  'queue.empty': '当前没有未处理的报警',
  'queue.loading': '正在加载报警…',
  'queue.loadFailed': '报警列表加载失败：{message}',
  'queue.help': '方向键选择报警，回车打开，按 A 接警。',
  'queue.item': '{severity}，{type}，{resident}，{age}前，{state}',
  'queue.age': '已等待 {age}',
  'queue.acknowledge': '接警',
  'queue.acknowledgeLabel': '接警：{resident} 的 {type}',
  'queue.acknowledging': '正在接警…',
  'queue.acknowledgedBy': '{name} 已接警',
  'queue.waiting': '待接警',
  'queue.stateEnded': '{state}，{ended}',
  'queue.ended.cleared': '已自行解除，待结案',
  'queue.ended.cancelled': '已被取消，待结案',
  'queue.ackFailed': '接警失败：{message}',
  'queue.select': '从左侧选择一条报警查看详情。',
  'queue.unknownResident': '床位 {bedId}',
  'queue.listLabel': '未结案报警，按紧急程度和等待时间排序',
});
registerMessages('en', {
  'queue.title': 'Alarm queue',
  'queue.count': '{n} open',
  'queue.empty': 'No open alarms',
  'queue.loading': 'Loading alarms…',
  'queue.loadFailed': 'Could not load the alarms: {message}',
  'queue.help': 'Arrow keys choose an alarm, Enter opens it, A acknowledges it.',
  'queue.item': '{severity}, {type}, {resident}, {age} ago, {state}',
  'queue.age': 'waiting {age}',
  'queue.acknowledge': 'Acknowledge',
  'queue.acknowledgeLabel': 'Acknowledge: {type} for {resident}',
  'queue.acknowledging': 'Acknowledging…',
  'queue.acknowledgedBy': 'taken by {name}',
  'queue.waiting': 'waiting for someone',
  'queue.stateEnded': '{state}, {ended}',
  'queue.ended.cleared': 'cleared by itself, to resolve',
  'queue.ended.cancelled': 'cancelled, to resolve',
  'queue.ackFailed': 'Could not acknowledge: {message}',
  'queue.select': 'Choose an alarm on the left to see it here.',
  'queue.unknownResident': 'bed {bedId}',
  'queue.listLabel': 'Open alarms, most urgent and longest waiting first',
});

/**
 * Acknowledge an alarm (who acts is the session's user) and put the answer in the queue.
 * @param {string} alarmId
 * @returns {Promise<string | null>} null when it worked, else a message for people
 */
export async function acknowledgeAlarm(alarmId) {
  const { status, body } = await api.post(`/api/alarms/${encodeURIComponent(alarmId)}/acknowledge`);
  if (status === 200) {
    sharedAlarmQueue().applyAlarm(body.alarm);
    return null;
  }
  return body?.message ?? `HTTP ${status}`;
}

/**
 * The live list; `selectedId` is highlighted (the alarm open beside it).
 * @param {{ selectedId?: string | null }} props
 */
export function QueueList({ selectedId = null }) {
  const { items, residents, loaded, error } = useAlarmQueue();
  const now = useNow(1000);
  const [busy, setBusy] = useState(/** @type {Record<string, boolean>} */ ({}));
  const [ackError, setAckError] = useState('');
  const listRef = useRef(/** @type {HTMLUListElement | null} */ (null));

  /** @param {string} id */
  const acknowledge = async (id) => {
    if (busy[id]) return;
    setBusy((b) => ({ ...b, [id]: true }));
    setAckError('');
    const problem = await acknowledgeAlarm(id);
    setBusy((b) => ({ ...b, [id]: false }));
    if (problem) setAckError(t('queue.ackFailed', { message: problem }));
  };

  /** Move focus to the item `delta` places away. @param {HTMLElement} from @param {number} delta */
  const moveFocus = (from, delta) => {
    const all = Array.from(listRef.current?.querySelectorAll('.queue-item') ?? []);
    const next = /** @type {HTMLElement | undefined} */ (all[all.indexOf(from) + delta]);
    next?.focus();
  };

  /** @param {KeyboardEvent} event @param {string} id */
  const onKeyDown = (event, id) => {
    if (event.target !== event.currentTarget || event.ctrlKey || event.metaKey || event.altKey) return;
    const item = /** @type {HTMLElement} */ (event.currentTarget);
    if (event.key === 'Enter') {
      event.preventDefault();
      navigate(`/alarms/${encodeURIComponent(id)}`);
    } else if (event.key === 'a' || event.key === 'A') {
      event.preventDefault();
      void acknowledge(id);
    } else if (event.key === 'ArrowDown') {
      event.preventDefault();
      moveFocus(item, 1);
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      moveFocus(item, -1);
    }
  };

  const heading = html`<div class="queue-head">
    <h1 id="queue-title">${t('queue.title')}</h1>
    <span class="queue-count" aria-live="polite">${loaded ? t('queue.count', { n: items.length }) : ''}</span>
  </div>`;

  if (!loaded) {
    return html`<section class="queue" aria-labelledby="queue-title">
      ${heading}
      <p class=${error ? 'form-error' : 'muted'} role=${error ? 'alert' : undefined}>
        ${error ? t('queue.loadFailed', { message: error }) : t('queue.loading')}
      </p>
    </section>`;
  }

  return html`<section class="queue" aria-labelledby="queue-title">
    ${heading}
    <p class="queue-help muted" id="queue-help">${t('queue.help')}</p>
    ${error ? html`<p class="form-error" role="alert">${t('queue.loadFailed', { message: error })}</p>` : null}
    <p class="form-error" role="alert">${ackError}</p>
    ${
      items.length === 0
        ? html`<p class="queue-empty">${t('queue.empty')}</p>`
        : html`<ul class="queue-list" ref=${listRef} aria-label=${t('queue.listLabel')} aria-describedby="queue-help">
          ${items.map(({ alarm, ended }) => {
            const resident = residents[alarm.bedId] ?? t('queue.unknownResident', { bedId: alarm.bedId });
            const type = alarmTypeLabel(alarm.type);
            const age = formatDuration(now - Date.parse(alarm.receivedAt));
            const stateText = alarm.acknowledgedAt
              ? t('queue.acknowledgedBy', { name: alarm.acknowledgedBy ?? '' })
              : t('queue.waiting');
            const label = t('queue.item', {
              severity: severityLabel(alarm.severity),
              type,
              resident,
              age,
              state: ended
                ? t('queue.stateEnded', { state: stateText, ended: t(`queue.ended.${ended}`) })
                : stateText,
            });
            const classes = [
              'queue-item',
              `severity-${alarm.severity}`,
              alarm.acknowledgedAt ? 'is-acknowledged' : 'is-waiting',
              alarm.id === selectedId ? 'is-selected' : '',
            ].join(' ');
            return html`<li
              key=${alarm.id}
              class=${classes}
              tabindex="0"
              data-alarm-id=${alarm.id}
              aria-label=${label}
              aria-current=${alarm.id === selectedId ? 'true' : undefined}
              onKeyDown=${(/** @type {KeyboardEvent} */ e) => onKeyDown(e, alarm.id)}
              onClick=${(/** @type {MouseEvent} */ e) => {
                if (/** @type {Element} */ (e.target).closest('button, a')) return;
                navigate(`/alarms/${encodeURIComponent(alarm.id)}`);
              }}
            >
              <span class=${`severity-badge severity-${alarm.severity}`}>${severityLabel(alarm.severity)}</span>
              <span class="queue-main">
                <a class="queue-type" href=${`/alarms/${encodeURIComponent(alarm.id)}`} tabindex="-1">${type}</a>
                <span class="queue-resident">${resident}</span>
                <span class="queue-meta muted">
                  <time datetime=${alarm.receivedAt}>${formatDateTime(alarm.receivedAt)}</time>
                  ${' · '}
                  <span class="queue-age">${t('queue.age', { age })}</span>
                </span>
                ${ended ? html`<span class="queue-ended">${t(`queue.ended.${ended}`)}</span>` : null}
              </span>
              <span class="queue-actions">
                ${
                  alarm.acknowledgedAt
                    ? html`<span class="queue-taken">${t('queue.acknowledgedBy', { name: alarm.acknowledgedBy ?? '' })}</span>`
                    : html`<button
                        type="button"
                        class="primary ack-button"
                        aria-label=${t('queue.acknowledgeLabel', { type, resident })}
                        disabled=${busy[alarm.id]}
                        onClick=${() => acknowledge(alarm.id)}
                      >
                        ${busy[alarm.id] ? t('queue.acknowledging') : t('queue.acknowledge')}
                      </button>`
                }
              </span>
            </li>`;
          })}
        </ul>`
    }
  </section>`;
}

/**
 * The queue page: the list, and beside it where the open alarm goes.
 * @param {{ params: Record<string, string>, session: any }} _props
 */
export default function QueueView(_props) {
  return html`<div class="console-split">
    <${QueueList} />
    <section class="alarm-pane alarm-pane-empty" aria-label=${t('nav.alarm')}>
      <p class="muted">${t('queue.select')}</p>
    </section>
  </div>`;
}
