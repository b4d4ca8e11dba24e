/**
 * The console's words. Chinese (zh-CN) by default; English on request, the
 * choice kept in localStorage. Each view registers its own strings:
 *
 *   registerMessages('zh-CN', { 'fleet.title': '设备总览', 'fleet.count': '{n} 台网关' });
 *   registerMessages('en', { 'fleet.title': 'Fleet', 'fleet.count': '{n} gateways' });
 *   t('fleet.count', { n: 3 });
 *
 * A key missing in English falls back to Chinese, then to the key itself.
 * Shared vocabulary (alarm types, severities, outcomes, timeline steps, roles,
 * risk tags, bed states) is registered here, with helpers below.
 */

/** @typedef {'zh-CN' | 'en'} Lang */

/** @type {readonly Lang[]} */
export const LANGS = ['zh-CN', 'en'];
export const DEFAULT_LANG = 'zh-CN';
const STORAGE_KEY = 'homebed.lang';

/** Copies of contract/alarm-vocabulary.ts (a unit test keeps them equal). */
export const ALARM_TYPES = [
  'sos_button',
  'fall_suspected',
  'fall_confirmed',
  'bed_exit_no_return',
  'prolonged_inactivity',
  'not_up_in_morning',
  'heart_rate_high',
  'heart_rate_low',
  'breath_rate_high',
  'breath_rate_low',
  'door_open_at_night',
  'smoke',
  'gas',
  'water_leak',
  'device_offline',
  'device_battery_low',
  'serial_link_lost',
  'gateway_offline',
  'test_alarm',
];
export const SEVERITIES = ['critical', 'warning', 'technical', 'info'];
export const RESOLUTION_OUTCOMES = [
  'false_alarm',
  'resident_fine_by_phone',
  'family_visited',
  'staff_visited',
  'ambulance_called',
  'other',
];
export const ALARM_EVENT_KINDS = [
  'raised',
  'stored',
  'cleared',
  'cancelled',
  'acknowledged',
  'resolved',
  'escalated',
  'notified',
  'notification_failed',
];
export const ROLES = ['admin', 'operator', 'staff', 'family', 'regulator'];
export const KNOWN_RISK_TAGS = ['独居', '高龄', '失能', '失智', '慢病', '行动不便'];
export const BED_STATES = ['installed', 'active', 'suspended', 'closed'];

/** @type {Record<string, Record<string, string>>} */
const catalogs = { 'zh-CN': {}, en: {} };

/** @type {Set<(lang: Lang) => void>} */
const listeners = new Set();

/** @returns {Lang} */
function initialLang() {
  try {
    const stored = globalThis.localStorage?.getItem(STORAGE_KEY);
    if (stored === 'en' || stored === 'zh-CN') return stored;
  } catch {
    // Storage blocked (private mode, tests in Node): the default.
  }
  return DEFAULT_LANG;
}

/** @type {Lang} */
let current = initialLang();

/**
 * Add (or replace) messages of one language. Values may hold `{name}` placeholders.
 * @param {string} lang
 * @param {Record<string, string>} dict
 */
export function registerMessages(lang, dict) {
  catalogs[lang] ??= {};
  Object.assign(catalogs[lang], dict);
}

/**
 * The message for `key` in the current language, placeholders filled from `vars`.
 * @param {string} key
 * @param {Record<string, string | number>} [vars]
 * @returns {string}
 */
export function t(key, vars) {
  const message = catalogs[current]?.[key] ?? catalogs[DEFAULT_LANG]?.[key] ?? key;
  if (!vars) return message;
  return message.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

/** Whether `key` has a message in some language. @param {string} key */
export function hasMessage(key) {
  return key in (catalogs[current] ?? {}) || key in (catalogs[DEFAULT_LANG] ?? {});
}

/** @returns {Lang} */
export function getLang() {
  return current;
}

/**
 * Switch language, remember it, and tell listeners (the app re-renders).
 * @param {Lang} lang
 */
export function setLang(lang) {
  if (!LANGS.includes(lang) || lang === current) return;
  current = lang;
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, lang);
  } catch {
    // Not remembered; still switched.
  }
  if (globalThis.document) globalThis.document.documentElement.lang = lang;
  for (const listener of listeners) listener(lang);
}

/**
 * @param {(lang: Lang) => void} listener
 * @returns {() => void} unsubscribe
 */
export function onLangChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** @param {string} prefix @param {string} value */
const vocabulary = (prefix, value) => {
  const key = `${prefix}.${value}`;
  return hasMessage(key) ? t(key) : value;
};

/** `sos_button` → `SOS 紧急呼叫` / `SOS button`. @param {string} type */
export const alarmTypeLabel = (type) => vocabulary('alarmType', type);
/** @param {string} severity */
export const severityLabel = (severity) => vocabulary('severity', severity);
/** @param {string} outcome */
export const outcomeLabel = (outcome) => vocabulary('outcome', outcome);
/** A timeline step (`raised`, `acknowledged` …). @param {string} kind */
export const eventKindLabel = (kind) => vocabulary('eventKind', kind);
/** @param {string} role */
export const roleLabel = (role) => vocabulary('role', role);
/** Known tags are translated; free tags are shown as written. @param {string} tag */
export const riskTagLabel = (tag) => vocabulary('riskTag', tag);
/** @param {string} state */
export const bedStateLabel = (state) => vocabulary('bedState', state);

/** @returns {string} the BCP 47 locale for Intl */
export function locale() {
  return current === 'en' ? 'en-GB' : 'zh-CN';
}

/**
 * A moment in the reader's clock: `11-23 12:10:26` (with the year when not this year).
 * @param {string | number | Date | null | undefined} when
 * @returns {string}
 */
export function formatDateTime(when) {
  if (when === null || when === undefined || when === '') return '—';
  const date = new Date(when);
  if (Number.isNaN(date.getTime())) return String(when);
  /** @type {Intl.DateTimeFormatOptions} */
  const options = {
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  };
  if (date.getFullYear() !== new Date().getFullYear()) options.year = 'numeric';
  return new Intl.DateTimeFormat(locale(), options).format(date);
}

/**
 * An age or delay: `45 秒`, `3 分 05 秒`, `2 小时 04 分` / `45 s`, `3 min 05 s`, `2 h 04 min`.
 * @param {number} ms
 * @returns {string}
 */
export function formatDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');
  if (days > 0) return t('duration.dh', { d: days, h: hours });
  if (hours > 0) return t('duration.hm', { h: hours, m: pad(minutes) });
  if (minutes > 0) return t('duration.ms', { m: minutes, s: pad(seconds) });
  return t('duration.s', { s: seconds });
}

registerMessages('zh-CN', {
  'app.title': '家床守护',
  'app.subtitle': '监护中心',
  'app.loading': '加载中…',
  'app.error': '出错了：{message}',
  'app.notFound': '没有这个页面',
  'app.forbidden': '您的角色无权查看此页面',
  'app.retry': '重试',
  'nav.label': '主导航',
  'nav.queue': '报警队列',
  'nav.fleet': '设备总览',
  'nav.bed': '床位',
  'nav.alarm': '报警详情',
  'nav.statistics': '统计',
  'nav.family': '我的家人',
  'nav.logout': '退出登录',
  'nav.user': '{name}（{role}）',
  'lang.switch': 'English',
  'lang.switchLabel': '切换到英文界面',
  'stream.connecting': '正在连接',
  'stream.open': '实时连接正常',
  'stream.reconnecting': '连接中断，正在重连',
  'stream.closed': '未连接',
  'stream.label': '实时报警连接状态：{state}',
  'duration.s': '{s} 秒',
  'duration.ms': '{m} 分 {s} 秒',
  'duration.hm': '{h} 小时 {m} 分',
  'duration.dh': '{d} 天 {h} 小时',

  'alarmType.sos_button': 'SOS 紧急呼叫',
  'alarmType.fall_suspected': '疑似跌倒',
  'alarmType.fall_confirmed': '跌倒',
  'alarmType.bed_exit_no_return': '离床未归',
  'alarmType.prolonged_inactivity': '长时间无活动',
  'alarmType.not_up_in_morning': '早晨未起床',
  'alarmType.heart_rate_high': '心率过高',
  'alarmType.heart_rate_low': '心率过低',
  'alarmType.breath_rate_high': '呼吸过快',
  'alarmType.breath_rate_low': '呼吸过慢',
  'alarmType.door_open_at_night': '夜间开门',
  'alarmType.smoke': '烟雾报警',
  'alarmType.gas': '燃气泄漏',
  'alarmType.water_leak': '漏水',
  'alarmType.device_offline': '设备离线',
  'alarmType.device_battery_low': '设备电量低',
  'alarmType.serial_link_lost': '传感器连接中断',
  'alarmType.gateway_offline': '网关离线',
  'alarmType.test_alarm': '测试报警',

  'severity.critical': '紧急',
  'severity.warning': '警告',
  'severity.technical': '技术',
  'severity.info': '提示',

  'outcome.false_alarm': '误报',
  'outcome.resident_fine_by_phone': '电话确认老人平安',
  'outcome.family_visited': '家属已上门查看',
  'outcome.staff_visited': '工作人员已上门查看',
  'outcome.ambulance_called': '已呼叫救护车',
  'outcome.other': '其他',

  'eventKind.raised': '网关报警',
  'eventKind.stored': '中心收到',
  'eventKind.cleared': '已自行解除',
  'eventKind.cancelled': '已取消',
  'eventKind.acknowledged': '已接警',
  'eventKind.resolved': '已结案',
  'eventKind.escalated': '已升级',
  'eventKind.notified': '已通知',
  'eventKind.notification_failed': '通知失败',

  'role.admin': '管理员',
  'role.operator': '运营',
  'role.staff': '值班员',
  'role.family': '家属',
  'role.regulator': '监管',

  'riskTag.独居': '独居',
  'riskTag.高龄': '高龄',
  'riskTag.失能': '失能',
  'riskTag.失智': '失智',
  'riskTag.慢病': '慢病',
  'riskTag.行动不便': '行动不便',

  'bedState.installed': '已安装',
  'bedState.active': '服务中',
  'bedState.suspended': '暂停',
  'bedState.closed': '已关闭',
});

registerMessages('en', {
  'app.title': 'homebed',
  'app.subtitle': 'Monitoring centre',
  'app.loading': 'Loading…',
  'app.error': 'Something went wrong: {message}',
  'app.notFound': 'No such page',
  'app.forbidden': 'Your role may not see this page',
  'app.retry': 'Retry',
  'nav.label': 'Main navigation',
  'nav.queue': 'Alarm queue',
  'nav.fleet': 'Fleet',
  'nav.bed': 'Bed',
  'nav.alarm': 'Alarm',
  'nav.statistics': 'Statistics',
  'nav.family': 'My family',
  'nav.logout': 'Log out',
  'nav.user': '{name} ({role})',
  'lang.switch': '中文',
  'lang.switchLabel': 'Switch to Chinese',
  'stream.connecting': 'Connecting',
  'stream.open': 'Live',
  'stream.reconnecting': 'Connection lost, reconnecting',
  'stream.closed': 'Not connected',
  'stream.label': 'Live alarm connection: {state}',
  'duration.s': '{s} s',
  'duration.ms': '{m} min {s} s',
  'duration.hm': '{h} h {m} min',
  'duration.dh': '{d} d {h} h',

  'alarmType.sos_button': 'SOS call',
  'alarmType.fall_suspected': 'Suspected fall',
  'alarmType.fall_confirmed': 'Fall',
  'alarmType.bed_exit_no_return': 'Left bed, not back',
  'alarmType.prolonged_inactivity': 'No activity for long',
  'alarmType.not_up_in_morning': 'Not up in the morning',
  'alarmType.heart_rate_high': 'Heart rate high',
  'alarmType.heart_rate_low': 'Heart rate low',
  'alarmType.breath_rate_high': 'Breathing fast',
  'alarmType.breath_rate_low': 'Breathing slow',
  'alarmType.door_open_at_night': 'Door open at night',
  'alarmType.smoke': 'Smoke',
  'alarmType.gas': 'Gas leak',
  'alarmType.water_leak': 'Water leak',
  'alarmType.device_offline': 'Device offline',
  'alarmType.device_battery_low': 'Device battery low',
  'alarmType.serial_link_lost': 'Sensor link lost',
  'alarmType.gateway_offline': 'Gateway offline',
  'alarmType.test_alarm': 'Test alarm',

  'severity.critical': 'Critical',
  'severity.warning': 'Warning',
  'severity.technical': 'Technical',
  'severity.info': 'Info',

  'outcome.false_alarm': 'False alarm',
  'outcome.resident_fine_by_phone': 'Resident fine (by phone)',
  'outcome.family_visited': 'Family visited',
  'outcome.staff_visited': 'Staff visited',
  'outcome.ambulance_called': 'Ambulance called',
  'outcome.other': 'Other',

  'eventKind.raised': 'Raised by gateway',
  'eventKind.stored': 'Received by centre',
  'eventKind.cleared': 'Cleared',
  'eventKind.cancelled': 'Cancelled',
  'eventKind.acknowledged': 'Acknowledged',
  'eventKind.resolved': 'Resolved',
  'eventKind.escalated': 'Escalated',
  'eventKind.notified': 'Notified',
  'eventKind.notification_failed': 'Notification failed',

  'role.admin': 'Admin',
  'role.operator': 'Operator',
  'role.staff': 'Staff',
  'role.family': 'Family',
  'role.regulator': 'Regulator',

  'riskTag.独居': 'Lives alone',
  'riskTag.高龄': 'Very old',
  'riskTag.失能': 'Disabled',
  'riskTag.失智': 'Dementia',
  'riskTag.慢病': 'Chronic illness',
  'riskTag.行动不便': 'Limited mobility',

  'bedState.installed': 'Installed',
  'bedState.active': 'Active',
  'bedState.suspended': 'Suspended',
  'bedState.closed': 'Closed',
});
