/**
 * Client-side navigation: the console's paths are real URLs (the relay serves
 * index.html for each), changed with history.pushState.
 *
 *   navigate('/beds/bed-0001');
 *   <a href="/beds/bed-0001">…</a>   // app.js turns clicks on console links into navigate()
 */

const NAVIGATE_EVENT = 'homebed:navigate';

/**
 * Go to a console path without reloading the page.
 * @param {string} path e.g. `/alarms/0190…` (may carry `?query`)
 * @param {{ replace?: boolean }} [options] replace: do not add a history entry
 */
export function navigate(path, options = {}) {
  if (path === currentPath()) return;
  if (options.replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  window.dispatchEvent(new Event(NAVIGATE_EVENT));
}

/** @returns {string} pathname plus search */
export function currentPath() {
  return location.pathname + location.search;
}

/**
 * Be told of every change of location (navigate(), back and forward buttons).
 * @param {() => void} listener
 * @returns {() => void} unsubscribe
 */
export function onLocationChange(listener) {
  window.addEventListener(NAVIGATE_EVENT, listener);
  window.addEventListener('popstate', listener);
  return () => {
    window.removeEventListener(NAVIGATE_EVENT, listener);
    window.removeEventListener('popstate', listener);
  };
}

/**
 * Match `pathname` against a pattern such as `/beds/:id`.
 * @param {string} pattern
 * @param {string} pathname
 * @returns {Record<string, string> | null} the parameters, or null when it does not match
 */
export function matchPath(pattern, pathname) {
  const want = pattern.split('/').filter(Boolean);
  const have = pathname.split('/').filter(Boolean);
  if (want.length !== have.length) return null;
  /** @type {Record<string, string>} */
  const params = {};
  for (let i = 0; i < want.length; i++) {
    const w = /** @type {string} */ (want[i]);
    const h = /** @type {string} */ (have[i]);
    if (w.startsWith(':')) {
      try {
        params[w.slice(1)] = decodeURIComponent(h);
      } catch {
        return null;
      }
    } else if (w !== h) return null;
  }
  return params;
}

/** The query parameters of the current location. */
export function searchParams() {
  return new URLSearchParams(location.search);
}
