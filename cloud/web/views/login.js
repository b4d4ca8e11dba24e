/**
 * Log in with username and password (POST /api/auth/login sets the HttpOnly
 * session cookie), then go where the address asked (`?next=`) or home.
 */
import { useState } from 'preact/hooks';
import { api } from '../lib/api.js';
import { html } from '../lib/html.js';
import { registerMessages, t } from '../lib/i18n.js';
import { LangSwitch } from '../lib/widgets.js';

registerMessages('zh-CN', {
  'login.title': '登录',
  'login.username': '用户名',
  'login.password': '密码',
  'login.submit': '登录',
  'login.busy': '正在登录…',
  'login.failed': '用户名或密码错误',
  'login.limited': '登录失败次数过多，请 {minutes} 分钟后再试',
  'login.unreachable': '无法连接服务器，请检查网络',
  'login.error': '登录失败：{message}',
});
registerMessages('en', {
  'login.title': 'Log in',
  'login.username': 'Username',
  'login.password': 'Password',
  'login.submit': 'Log in',
  'login.busy': 'Logging in…',
  'login.failed': 'Wrong username or password',
  'login.limited': 'Too many failed logins; try again in {minutes} min',
  'login.unreachable': 'Cannot reach the server; check the network',
  'login.error': 'Login failed: {message}',
});

/** @param {{ onLogin: (principal: any) => void }} props */
export default function LoginView({ onLogin }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');

  /** @param {SubmitEvent} event */
  const submit = async (event) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError('');
    const { status, body } = await api.post('/api/auth/login', { username, password });
    if (status === 200) {
      const me = await api.get('/api/auth/me');
      setBusy(false);
      if (me.status === 200) {
        const next = new URLSearchParams(location.search).get('next');
        // Only a path of this site, never //elsewhere.
        const target = next?.startsWith('/') && !next.startsWith('//') ? next : '/';
        history.replaceState(null, '', target);
        onLogin(me.body.principal);
        return;
      }
      setError(t('login.error', { message: me.body?.message ?? String(me.status) }));
      return;
    }
    setBusy(false);
    setPassword('');
    if (status === 401) setError(t('login.failed'));
    else if (status === 429) {
      const minutes = Math.max(1, Math.ceil(Number(body?.retryAfterS ?? 900) / 60));
      setError(t('login.limited', { minutes }));
    } else if (status === 0) setError(t('login.unreachable'));
    else setError(t('login.error', { message: body?.message ?? String(status) }));
  };

  return html`<main class="login-page">
    <form class="login-card" onSubmit=${submit} aria-labelledby="login-title">
      <div class="login-brand">
        <span class="brand-name">${t('app.title')}</span>
        <span class="brand-sub">${t('app.subtitle')}</span>
      </div>
      <h1 id="login-title">${t('login.title')}</h1>
      <label for="login-username">${t('login.username')}</label>
      <input
        id="login-username"
        name="username"
        autocomplete="username"
        required
        value=${username}
        onInput=${(/** @type {any} */ e) => setUsername(e.currentTarget.value)}
      />
      <label for="login-password">${t('login.password')}</label>
      <input
        id="login-password"
        name="password"
        type="password"
        autocomplete="current-password"
        required
        value=${password}
        onInput=${(/** @type {any} */ e) => setPassword(e.currentTarget.value)}
      />
      <p class="form-error" role="alert">${error}</p>
      <button type="submit" class="primary" disabled=${busy}>${busy ? t('login.busy') : t('login.submit')}</button>
      <div class="login-lang"><${LangSwitch} /></div>
    </form>
  </main>`;
}
