import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { REPO_ROOT } from '../../tools/child-processes.js';

/**
 * A real Chromium for the console tests (playwright-core drives Debian's
 * chromium package; no browser download). Headless and without the sandbox,
 * which a container's user namespace usually refuses.
 */

/** Where tests put screenshots (ignored by git): look at them after a run. */
export const SCREENSHOT_DIR = join(REPO_ROOT, 'test', 'screenshots');

/** The chromium binary: `HOMEBED_CHROMIUM`, `/usr/bin/chromium`, or one on PATH. */
export function findChromium(): string {
  const fromEnv = process.env.HOMEBED_CHROMIUM;
  if (fromEnv) return fromEnv;
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      const path = execFileSync('which', [name], { encoding: 'utf8' }).trim();
      if (path) return path;
    } catch {
      // not on PATH
    }
  }
  throw new Error('no chromium found: install Debian’s chromium package or set HOMEBED_CHROMIUM');
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: findChromium(),
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--autoplay-policy=no-user-gesture-required'],
  });
}

export interface ConsolePage {
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors, failed requests' console errors and CSP violations seen so far. */
  problems: string[];
}

/**
 * A fresh browser context (own cookies and localStorage) with one page on the console,
 * recording page errors and console errors (a CSP refusal shows as one).
 */
export async function openConsolePage(
  browser: Browser,
  baseUrl: string,
  options: { viewport?: { width: number; height: number } } = {},
): Promise<ConsolePage> {
  const context = await browser.newContext({
    baseURL: baseUrl,
    viewport: options.viewport ?? { width: 1440, height: 900 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
  return { context, page, problems };
}

/** Save a full-page screenshot as test/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Runs in the page (kept as source text: this project's TypeScript has no DOM types): every button,
 * input, select, textarea and link without an accessible name — aria-labelledby, aria-label, a
 * <label>, its text or title — described as `tag#id.class`.
 */
const UNNAMED_CONTROLS_SCRIPT = `(() => {
  const describe = (el) =>
    el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const nameOf = (el) => {
    const labelledBy = el.getAttribute('aria-labelledby');
    if (labelledBy) {
      const text = labelledBy.split(/\\s+/).map((id) => document.getElementById(id)?.textContent ?? '').join(' ').trim();
      if (text) return text;
    }
    const aria = (el.getAttribute('aria-label') ?? '').trim();
    if (aria) return aria;
    if (el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement) {
      const labels = Array.from(el.labels ?? []).map((l) => l.textContent ?? '').join(' ').trim();
      if (labels) return labels;
      if (el instanceof HTMLInputElement && (el.type === 'submit' || el.type === 'button')) return el.value;
      return (el.getAttribute('title') ?? '').trim();
    }
    return (el.textContent ?? '').trim() || (el.getAttribute('title') ?? '').trim();
  };
  return Array.from(document.querySelectorAll('button, input, select, textarea, a[href], [role="button"]'))
    .filter((el) => !(el instanceof HTMLInputElement && el.type === 'hidden'))
    .filter((el) => !nameOf(el))
    .map(describe);
})()`;

/** Every control on the page without an accessible name (empty when all are named). */
export async function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(UNNAMED_CONTROLS_SCRIPT);
}
