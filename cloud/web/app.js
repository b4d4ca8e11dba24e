/**
 * The console's shell: who is logged in, which page the address names, the
 * navigation for the user's role, the language switch and logout.
 *
 * Every view is `export default function View({ params, session })`, where
 * `session` is the principal of GET /api/auth/me
 * (`{ id, username, displayName, role, organisationId, bedIds }`).
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { AlarmSound } from './lib/alarm-sound.js';
import { api, onUnauthorized } from './lib/api.js';
import { html } from './lib/html.js';
import { getLang, onLangChange, registerMessages, roleLabel, t } from './lib/i18n.js';
import { needsAttention, stopSharedAlarmQueue, useAlarmQueue } from './lib/live-alarms.js';
import { currentPath, matchPath, navigate, onLocationChange } from './lib/router.js';
import { LangSwitch } from './lib/widgets.js';
import AlarmView from './views/alarm.js';
import BedView from './views/bed.js';
import FamilyView from './views/family.js';
import FleetView from './views/fleet.js';
import LoginView from './views/login.js';
import QueueView from './views/queue.js';
import StatisticsView from './views/statistics.js';

registerMessages('zh-CN', {
  'sound.on': '提示音开',
  'sound.muted': '已静音',
  'sound.blocked': '点击启用提示音',
  'sound.muteLabel': '紧急报警提示音：开。点击静音',
  'sound.unmuteLabel': '紧急报警提示音：已静音。点击恢复',
  'app.skip': '跳到主要内容',
});
registerMessages('en', {
  'sound.on': 'Sound on',
  'sound.muted': 'Muted',
  'sound.blocked': 'Click to enable sound',
  'sound.muteLabel': 'Critical alarm sound: on. Click to mute',
  'sound.unmuteLabel': 'Critical alarm sound: muted. Click to unmute',
  'app.skip': 'Skip to main content',
});

/** @typedef {'admin' | 'operator' | 'staff' | 'family' | 'regulator'} Role */
/**
 * @typedef {object} Principal
 * @property {string} id
 * @property {string} username
 * @property {string} displayName
 * @property {Role} role
 * @property {string | null} organisationId
 * @property {string[]} bedIds
 */

/**
 * The console's pages. `roles`: who may open it (others are sent home).
 * @type {Array<{ path: string, view: (props: any) => any, roles: Role[], nav?: string }>}
 */
export const ROUTES = [
  { path: '/', view: QueueView, roles: ['staff', 'operator', 'admin'], nav: 'nav.queue' },
  { path: '/alarms/:id', view: AlarmView, roles: ['staff', 'operator', 'admin', 'family'] },
  { path: '/beds/:id', view: BedView, roles: ['staff', 'operator', 'admin', 'family'] },
  { path: '/fleet', view: FleetView, roles: ['operator', 'admin'], nav: 'nav.fleet' },
  {
    path: '/statistics',
    view: StatisticsView,
    roles: ['operator', 'admin', 'regulator'],
    nav: 'nav.statistics',
  },
  { path: '/family', view: FamilyView, roles: ['family'], nav: 'nav.family' },
];

/** Where a role starts. @param {Role} role */
export function homeOf(role) {
  if (role === 'family') return '/family';
  if (role === 'regulator') return '/statistics';
  return '/';
}

/** @param {string} pathname */
function findRoute(pathname) {
  for (const route of ROUTES) {
    const params = matchPath(route.path, pathname);
    if (params) return { route, params };
  }
  return null;
}

/** Whether a link's path is a console page (not /api/…, /web/…): those are followed without reload. */
function isConsolePath(/** @type {string} */ pathname) {
  return pathname === '/login' || findRoute(pathname) !== null;
}

/** Roles that answer alarms: they get the live queue, its sound and the connection indicator. */
const LIVE_ROLES = ['staff', 'operator', 'admin'];

/** @type {AlarmSound | null} */
let sound = null;

/** Stop the live queue and its sound (logout, expired session). */
function endShift() {
  stopSharedAlarmQueue();
  sound?.dispose();
  sound = null;
}

/**
 * The shift's tools in the header: whether the live stream is up, and the alarm
 * sound (playing while a critical alarm waits) with its mute button.
 */
function LiveTools() {
  const { items, stream } = useAlarmQueue();
  sound ??= new AlarmSound();
  const alarmSound = sound;
  const [muted, setMuted] = useState(alarmSound.muted);
  const [soundState, setSoundState] = useState(alarmSound.state);
  const attention = items.some(needsAttention);
  useEffect(() => alarmSound.subscribe(setSoundState), [alarmSound]);
  useEffect(() => alarmSound.setWanted(attention), [alarmSound, attention]);
  const stateWord = t(`stream.${stream}`);
  return html`<div class="live-tools">
    <span class=${`connection connection-${stream}`} role="status" aria-label=${t('stream.label', { state: stateWord })}>
      <span class="dot" aria-hidden="true"></span>
      <span class="connection-text">${stateWord}</span>
    </span>
    <button
      type="button"
      class=${`mute-button sound-${soundState}`}
      aria-pressed=${muted ? 'true' : 'false'}
      aria-label=${muted ? t('sound.unmuteLabel') : t('sound.muteLabel')}
      data-sound-state=${soundState}
      onClick=${() => {
        alarmSound.setMuted(!muted);
        setMuted(!muted);
      }}
    >
      <${BellIcon} muted=${muted} />
      ${muted ? t('sound.muted') : soundState === 'blocked' ? t('sound.blocked') : t('sound.on')}
    </button>
  </div>`;
}

/** @param {{ muted: boolean }} props */
function BellIcon({ muted }) {
  return html`<svg class="bell" viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" focusable="false">
    <path d="M12 3a6 6 0 0 0-6 6v4l-2 3h16l-2-3V9a6 6 0 0 0-6-6zm-2 15a2 2 0 0 0 4 0z" fill="currentColor" />
    ${muted ? html`<path d="M3 3l18 18" stroke="currentColor" stroke-width="2.5" />` : null}
  </svg>`;
}

/**
 * @param {{ session: Principal, onLogout: () => void }} props
 */
function Header({ session, onLogout }) {
  const path = location.pathname;
  const links = ROUTES.filter((r) => r.nav && r.roles.includes(session.role));
  return html`<header class="app-header">
    <a class="brand" href=${homeOf(session.role)}>
      <span class="brand-name">${t('app.title')}</span>
      <span class="brand-sub">${t('app.subtitle')}</span>
    </a>
    <nav aria-label=${t('nav.label')}>
      <ul class="nav-links">
        ${links.map(
          (r) =>
            html`<li><a href=${r.path} aria-current=${r.path === path ? 'page' : undefined}>${t(/** @type {string} */ (r.nav))}</a></li>`,
        )}
      </ul>
    </nav>
    <div class="header-tools">
      ${LIVE_ROLES.includes(session.role) ? html`<${LiveTools} />` : null}
      <span class="who">${t('nav.user', { name: session.displayName, role: roleLabel(session.role) })}</span>
      <${LangSwitch} />
      <button type="button" class="link-button" onClick=${onLogout}>${t('nav.logout')}</button>
    </div>
  </header>`;
}

function App() {
  /** @type {[Principal | null | undefined, (p: Principal | null) => void]} */
  const [session, setSession] = useState(/** @type {Principal | null | undefined} */ (undefined));
  const [, setPath] = useState(currentPath());
  const [lang, setLangState] = useState(getLang());

  useEffect(() => onLocationChange(() => setPath(currentPath())), []);
  useEffect(() => onLangChange((l) => setLangState(l)), []);
  useEffect(
    () =>
      onUnauthorized(() => {
        endShift();
        setSession(null);
      }),
    [],
  );
  useEffect(() => {
    void api
      .get('/api/auth/me')
      .then(({ status, body }) => setSession(status === 200 ? body.principal : null));
  }, []);

  // Follow console links without reloading the page.
  useEffect(() => {
    /** @param {MouseEvent} event */
    const onClick = (event) => {
      if (event.defaultPrevented || event.button !== 0) return;
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      const anchor = /** @type {Element} */ (event.target).closest?.('a[href]');
      if (!(anchor instanceof HTMLAnchorElement) || anchor.target || anchor.hasAttribute('download')) return;
      const url = new URL(anchor.href);
      if (url.origin !== location.origin || !isConsolePath(url.pathname)) return;
      if (url.hash && url.pathname === location.pathname) return; // an anchor on this page (skip link)
      event.preventDefault();
      navigate(url.pathname + url.search);
    };
    document.addEventListener('click', onClick);
    return () => document.removeEventListener('click', onClick);
  }, []);

  const pathname = location.pathname;

  // Redirects happen in an effect, never while rendering.
  const found = session ? findRoute(pathname) : null;
  const target = (() => {
    if (session === undefined) return null;
    if (session === null) {
      return pathname === '/login' ? null : `/login?next=${encodeURIComponent(currentPath())}`;
    }
    if (pathname === '/login') return homeOf(session.role);
    if (found && !found.route.roles.includes(session.role)) return homeOf(session.role);
    return null;
  })();
  useEffect(() => {
    if (target) navigate(target, { replace: true });
  }, [target]);

  if (session === undefined || target) {
    return html`<main class="page-loading" aria-busy="true"><p>${t('app.loading')}</p></main>`;
  }
  if (session === null) {
    return html`<${LoginView} key=${lang} params=${{}} session=${null} onLogin=${(/** @type {Principal} */ p) => setSession(p)} />`;
  }

  const logout = async () => {
    endShift();
    await api.post('/api/auth/logout');
    setSession(null);
  };
  const View = found?.route.view;
  return html`<div class="app" key=${lang}>
    <a class="skip-link" href="#main">${t('app.skip')}</a>
    <${Header} session=${session} onLogout=${logout} />
    <main id="main" class="app-main">
      ${View ? html`<${View} params=${found.params} session=${session} />` : html`<p class="empty">${t('app.notFound')}</p>`}
    </main>
  </div>`;
}

document.documentElement.lang = getLang();
render(html`<${App} />`, /** @type {HTMLElement} */ (document.getElementById('app')));
