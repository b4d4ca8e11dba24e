/**
 * Small helpers of the bed, fleet, statistics and family views: loading an API
 * path into a component, relative times ("3 分钟前"), text only screen readers
 * get, and those views' stylesheet (views.css).
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { getLang, locale } from './i18n.js';

/** Inline style that keeps an element in the accessibility tree but off the screen. */
export const VISUALLY_HIDDEN = {
  position: 'absolute',
  width: '1px',
  height: '1px',
  padding: '0',
  margin: '-1px',
  overflow: 'hidden',
  clip: 'rect(0, 0, 0, 0)',
  whiteSpace: 'nowrap',
  border: '0',
};

const VIEWS_CSS = '/web/views/views.css';

/** Add the views' stylesheet to the page once (index.html may link it instead). */
export function linkViewStyles() {
  if (typeof document === 'undefined') return;
  if (document.querySelector(`link[href="${VIEWS_CSS}"]`)) return;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = VIEWS_CSS;
  document.head.append(link);
}

/**
 * @typedef {{ status: number, body: any }} Loaded
 *   `status` 0: the relay was not reached.
 */

/**
 * Load `path` (GET) when the component mounts and whenever `path` changes;
 * null skips the call. Answers `[result, reload]`; `result` is null while the
 * first answer is on its way, then the last answer (kept while reloading, so
 * a refresh does not blank the page).
 * @param {string | null} path
 * @param {{ refreshMs?: number }} [options] reload on a timer as well
 * @returns {[Loaded | null, () => Promise<void>]}
 */
export function useApi(path, options = {}) {
  const [state, setState] = useState(/** @type {{ path: string | null, result: Loaded } | null} */ (null));
  const [tick, setTick] = useState(0);
  const reload = useCallback(async () => setTick((n) => n + 1), []);
  // `tick` is in the dependencies so that reload() runs this again.
  useEffect(() => {
    if (path === null) return undefined;
    let live = true;
    api
      .get(path)
      .then((result) => {
        if (live) setState({ path, result });
      })
      .catch((/** @type {unknown} */ err) => {
        if (live)
          setState({ path, result: { status: 0, body: { error: 'HB_NETWORK', message: String(err) } } });
      });
    return () => {
      live = false;
    };
  }, [path, tick]);
  useEffect(() => {
    if (!options.refreshMs || path === null) return undefined;
    const timer = setInterval(() => setTick((n) => n + 1), options.refreshMs);
    return () => clearInterval(timer);
  }, [path, options.refreshMs]);
  // An answer for another path (the page moved on) is not this path's answer.
  return [state && state.path === path ? state.result : null, reload];
}

/** Re-render every `ms` (relative times, ages). @param {number} ms */
export function useNow(ms = 30_000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

/**
 * `3 分钟前` / `3 minutes ago`, `刚刚` / `now`, in the current language.
 * @param {string | number | null | undefined} when
 * @param {number} [now] ms
 * @returns {string} `—` for no time
 */
export function relativeTime(when, now = Date.now()) {
  if (when === null || when === undefined || when === '') return '—';
  const ms = typeof when === 'number' ? when : Date.parse(when);
  if (!Number.isFinite(ms)) return String(when);
  const seconds = Math.round((ms - now) / 1000);
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
  const abs = Math.abs(seconds);
  if (abs < 45) return rtf.format(0, 'second');
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return rtf.format(Math.round(seconds / 3600), 'hour');
  return rtf.format(Math.round(seconds / 86_400), 'day');
}

/**
 * A clock time for people: `22:10` today, `11-22 22:10` on another day.
 * @param {string | number | null | undefined} when
 * @param {number} [now]
 */
export function shortTime(when, now = Date.now()) {
  if (when === null || when === undefined || when === '') return '—';
  const date = new Date(when);
  if (Number.isNaN(date.getTime())) return String(when);
  const today = new Date(now);
  const sameDay = date.toDateString() === today.toDateString();
  /** @type {Intl.DateTimeFormatOptions} */
  const options = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
  if (!sameDay) Object.assign(options, { month: '2-digit', day: '2-digit' });
  return new Intl.DateTimeFormat(locale(), options).format(date);
}

/** A share 0..1 as `97.5 %`; `—` for null. @param {number | null | undefined} share */
export function percent(share, digits = 1) {
  if (share === null || share === undefined || !Number.isFinite(share)) return '—';
  return `${new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(share * 100)} %`;
}

/** Minutes as `7 小时 40 分` / `7 h 40 min`. @param {number} minutes */
export function hoursMinutes(minutes) {
  const m = Math.max(0, Math.round(minutes));
  const h = Math.floor(m / 60);
  const rest = m % 60;
  if (getLang() === 'en') return h > 0 ? `${h} h ${rest} min` : `${rest} min`;
  return h > 0 ? `${h} 小时 ${rest} 分钟` : `${rest} 分钟`;
}

/**
 * A local date `YYYY-MM-DD`, `daysBack` days before `from` (the statistics API reads
 * dates in each organisation's own zone).
 * @param {number} [daysBack]
 * @param {Date} [from]
 */
export function localDate(daysBack = 0, from = new Date()) {
  const d = new Date(from.getFullYear(), from.getMonth(), from.getDate() - daysBack);
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
