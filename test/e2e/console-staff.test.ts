import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../cloud/relay.js';
import { systemClock } from '../../common/clock.js';
import { silentLogger } from '../../common/logger.js';
import { NativeDeviceEmulator } from '../../firmware-sim/devices/native-device.js';
import { gatewayConfigSchema } from '../../gateway/config/schema.js';
import { Gateway } from '../../gateway/gateway.js';
import {
  type ConsolePage,
  launchBrowser,
  openConsolePage,
  screenshot,
  unnamedControls,
} from '../support/browser.js';
import {
  type MonitoringCentre,
  seedBed,
  startMonitoringCentre,
  TcpProxy,
} from '../support/monitoring-centre.js';
import { waitFor } from '../support/relay.js';

const ORG = 'centre-console';
const BED = 'bed-console-0001';
const GW = 'gw-console-0001';
const RESIDENT = '王秀英';
const ADDRESS = '上海市徐汇区示范路 88 弄 6 号 302 室';
const DAUGHTER = '+8613800138000';
const STAFF = { username: 'li.na', password: 'console staff password', displayName: '值班员 李娜' };
const PENDANTS = ['pendant-1', 'pendant-2', 'pendant-3', 'pendant-4'];

/**
 * The staff console in a real Chromium against a real relay, with a real
 * gateway whose simulated pendants press SOS: log in through the page, see
 * the alarm arrive live, acknowledge it in one click (the gateway hears it),
 * resolve it with an outcome and notes, work the queue by keyboard alone, and
 * survive a dropped connection, catching up on the alarm raised meanwhile.
 * The browser reaches the relay through a TCP proxy so the test can cut the
 * network under the page.
 */
describe('staff console in Chromium', () => {
  const gatewayDir = mkdtempSync(join(tmpdir(), 'homebed-console-gw-'));
  let centre: MonitoringCentre;
  let relay: Relay;
  let gateway: Gateway;
  let proxy: TcpProxy;
  let browser: Browser;
  let consolePage: ConsolePage;
  let page: Page;
  let baseUrl: string;
  /** Every request of the page for the event stream, with the id it resumes from. */
  const streamRequests: Array<Promise<{ url: string; lastEventId: string | null }>> = [];
  let firstAlarmId = '';

  /** Press SOS on one of the gateway's pendants; resolves with the alarm the gateway raised. */
  const pressSos = async (pendantId: string): Promise<string> => {
    const before = new Set(gateway.alarmLog().map((a) => a.id));
    const pendant = new NativeDeviceEmulator({
      mqtt: { url: `mqtt://127.0.0.1:${gateway.localBrokerPort}`, reconnectPeriodMs: 200 },
      clock: systemClock,
      spec: { id: pendantId, state: { battery: 90 }, stateIntervalMs: 0 },
    });
    pendant.start();
    await pendant.waitConnected();
    pendant.update({ event: 'sos' });
    await waitFor(() => pendant.state().eventsDelivered === 1, 5_000, `${pendantId}'s press PUBACKed`);
    await pendant.stop();
    const raised = await waitFor(
      () => gateway.alarmLog().find((a) => !before.has(a.id) && a.state === 'raised'),
      5_000,
      `alarm of ${pendantId} on the gateway`,
    );
    return raised.id;
  };

  const soundState = () => page.evaluate<string | undefined>('document.documentElement.dataset.alarmSound');
  const focusedAlarmId = () => page.evaluate<string | undefined>('document.activeElement?.dataset?.alarmId');
  const queueItem = (id: string) => page.locator(`.queue-item[data-alarm-id="${id}"]`);

  /** Problems the page reported, minus the expected: the anonymous "who am I" before login, a bed status route not deployed. */
  const unexpectedProblems = () =>
    consolePage.problems.filter(
      (p) => !/status of (401|404) \((Unauthorized|Not Found)\)/.test(p) && !p.includes('net::ERR_'),
    );

  beforeAll(async () => {
    centre = await startMonitoringCentre({
      // Steps far in the future: the page shows them pending, then cancelled by the acknowledgement.
      escalation: { pollIntervalMs: 200, steps: { critical: [{ afterS: 120, tier: 'second_tier' }] } },
      notifications: {
        policy: {
          tiers: { second_tier: [{ name: 'Second-tier desk', channel: 'sms', address: '+8613800000001' }] },
        },
      },
    });
    relay = centre.relay;
    await relay.services.organisations.add({ id: ORG, name: '徐汇区居家养老监护中心' });
    const { secret } = await seedBed(relay, {
      organisationId: ORG,
      bedId: BED,
      gatewayId: GW,
      residentName: RESIDENT,
      address: ADDRESS,
      contacts: [{ name: '王芳', relation: '女儿', phone: DAUGHTER, notify: true }],
    });
    await relay.services.beds.update(BED, { riskTags: ['独居', '高龄'] });
    await relay.services.users.add({ ...STAFF, role: 'staff', organisationId: ORG });

    gateway = new Gateway({
      config: gatewayConfigSchema.parse({
        gatewayId: GW,
        bedId: BED,
        dataDir: gatewayDir,
        cloud: {
          url: `mqtt://127.0.0.1:${relay.mqttPort}`,
          secret,
          reconnectPeriodMs: 100,
          reconnectMaxMs: 400,
        },
        influx: { url: 'http://127.0.0.1:9' },
        localBroker: { port: 0 },
        devices: PENDANTS.map((id) => ({ id, kind: 'native', role: 'sos_button' })),
      }),
      clock: systemClock,
      logger: silentLogger(),
    });
    await gateway.start();
    await waitFor(() => gateway.cloudConnected, 10_000, 'gateway connected to the relay');

    proxy = await new TcpProxy(Number(new URL(relay.httpUrl).port)).start();
    baseUrl = `http://127.0.0.1:${proxy.port}`;
    browser = await launchBrowser();
    consolePage = await openConsolePage(browser, baseUrl);
    page = consolePage.page;
    page.on('request', (req: Request) => {
      if (!req.url().includes('/api/alarms/stream')) return;
      streamRequests.push(
        req
          .allHeaders()
          .then((headers) => ({ url: req.url(), lastEventId: headers['last-event-id'] ?? null })),
      );
    });
  });

  afterAll(async () => {
    await browser?.close();
    await proxy?.stop();
    await gateway?.stop();
    await centre?.stop();
    rmSync(gatewayDir, { recursive: true, force: true });
  });

  it('serves the console with a CSP that still lets its import map and modules load', async () => {
    const res = await fetch(`${baseUrl}/alarms/some-id`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("media-src 'self' data:");
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    expect(csp).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/]+=*'/);
    const vendor = await fetch(`${baseUrl}/vendor/preact.js`);
    expect(vendor.headers.get('content-type')).toContain('text/javascript');
    expect(vendor.headers.get('cache-control')).toBe('no-cache');
    expect((await fetch(`${baseUrl}/web/%2e%2e/http/http-server.ts`)).status).toBe(404);
    expect((await fetch(`${baseUrl}/web/..%2f..%2f..%2fpackage.json`)).status).toBe(404);
  });

  it('staff log in through the login page and land on the live queue', async () => {
    await page.goto('/');
    await page.waitForURL(/\/login\?next=/);
    await expect(page.getByLabel('用户名').isVisible()).resolves.toBe(true);
    expect(await unnamedControls(page)).toEqual([]);
    await page.getByLabel('用户名').fill(STAFF.username);
    await page.getByLabel('密码').fill(STAFF.password);
    await screenshot(page, 'console-login');
    await page.getByRole('button', { name: '登录' }).click();

    await page.getByRole('heading', { name: '报警队列' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/');
    await page.locator('.connection-open').waitFor();
    await expect(page.locator('.queue-empty').textContent()).resolves.toContain('没有');
    expect(unexpectedProblems()).toEqual([]);
  });

  it('an SOS pressed on the pendant appears in the queue without a reload, sounding, with its age ticking', async () => {
    // Page-side expressions are source text: this project's TypeScript has no DOM types.
    await page.evaluate('window.notReloaded = true');
    firstAlarmId = await pressSos(PENDANTS[0]!);
    const item = queueItem(firstAlarmId);
    await item.waitFor({ timeout: 5_000 });
    expect(await page.evaluate('window.notReloaded')).toBe(true);

    await expect(item.textContent()).resolves.toContain(RESIDENT);
    await expect(item.textContent()).resolves.toContain('SOS 紧急呼叫');
    const age = () => item.locator('.queue-age').textContent();
    const firstAge = await age();
    await waitFor(async () => (await age()) !== firstAge, 3_000, 'the age to tick');
    // A critical alarm nobody took: the chime plays (the login click armed the audio).
    await waitFor(async () => (await soundState()) === 'playing', 3_000, 'alarm sound playing');
    await screenshot(page, 'console-queue');
    expect(await unnamedControls(page)).toEqual([]);
  });

  it('one click acknowledges it, and the gateway hears `acknowledged`', async () => {
    await queueItem(firstAlarmId).getByRole('button', { name: /接警/ }).click();
    await waitFor(
      () => gateway.alarmRecord(firstAlarmId)?.acknowledgedAtMs,
      5_000,
      '`acknowledged` back at the gateway',
    );
    await queueItem(firstAlarmId).locator('.queue-taken').waitFor();
    await expect(queueItem(firstAlarmId).textContent()).resolves.toContain(STAFF.displayName);
    // Nobody is waiting any more: the chime stops.
    await waitFor(async () => (await soundState()) === 'idle', 3_000, 'alarm sound stopped');
  });

  it('the alarm page shows the bed card and escalation; resolving with outcome and notes completes the timeline', async () => {
    await queueItem(firstAlarmId).click();
    await page.waitForURL(`**/alarms/${firstAlarmId}`);
    await page.locator('#alarm-title').waitFor();

    const card = page.locator('.bed-card');
    await card.getByText(RESIDENT).waitFor();
    await expect(card.textContent()).resolves.toContain(ADDRESS);
    await expect(card.locator('.tag').allTextContents()).resolves.toEqual(['独居', '高龄']);
    await expect(card.locator('a.tel').getAttribute('href')).resolves.toBe(`tel:${DAUGHTER}`);
    await page.locator('.escalation[data-state="cancelled"]').waitFor();
    await expect(page.locator('.evidence li').count()).resolves.toBeGreaterThan(0);
    expect(await unnamedControls(page)).toEqual([]);

    await page.getByLabel('处理结果').selectOption('resident_fine_by_phone');
    await page.getByLabel('处理备注').fill('老人误按，电话确认平安');
    await page.getByRole('button', { name: '结案', exact: true }).click();

    await page.locator('.alarm-state[data-state="resolved"]').waitFor();
    await expect(page.locator('.alarm-state').textContent()).resolves.toContain('电话确认老人平安');
    await page.locator('.timeline-step[data-kind="resolved"]').waitFor();
    const kinds = await Promise.all(
      (await page.locator('.timeline-step').all()).map((step) => step.getAttribute('data-kind')),
    );
    const story = kinds.filter((k) => ['raised', 'stored', 'acknowledged', 'resolved'].includes(k ?? ''));
    expect(story).toEqual(['raised', 'stored', 'acknowledged', 'resolved']);
    await expect(page.locator('.timeline-step[data-kind="resolved"]').textContent()).resolves.toContain(
      '老人误按，电话确认平安',
    );
    // Resolved alarms leave the queue.
    await queueItem(firstAlarmId).waitFor({ state: 'detached' });
    await screenshot(page, 'console-alarm');

    const stored = (await relay.services.alarms.get(firstAlarmId))!;
    expect(stored).toMatchObject({ outcome: 'resident_fine_by_phone', resolvedBy: STAFF.displayName });
  });

  it('keyboard only: Tab to the queue item, `a` acknowledges it, Enter opens it', async () => {
    await page.goto('/');
    await page.getByRole('heading', { name: '报警队列' }).waitFor();
    const id = await pressSos(PENDANTS[1]!);
    await queueItem(id).waitFor();

    let reached = false;
    for (let i = 0; i < 30 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = (await focusedAlarmId()) === id;
    }
    expect(reached).toBe(true);
    // The focus is visible (an outline), not only present.
    const outline = await page.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle');
    expect(outline).not.toBe('none');

    await page.keyboard.press('a');
    await waitFor(() => gateway.alarmRecord(id)?.acknowledgedAtMs, 5_000, '`acknowledged` at the gateway');
    await queueItem(id).locator('.queue-taken').waitFor();
    // Still focused after the change, so the next key works on the same item.
    expect(await focusedAlarmId()).toBe(id);

    await page.keyboard.press('Enter');
    await page.waitForURL(`**/alarms/${id}`);
    await page.locator('.alarm-state[data-state="acknowledged"]').waitFor();
  });

  it('a dropped connection is shown, then the page reconnects and catches up on an alarm raised meanwhile', async () => {
    // No reload: the page keeps the id of the last event it saw (from the alarm just acknowledged).
    await page.getByRole('link', { name: '报警队列' }).click();
    await page.waitForURL((url) => url.pathname === '/');
    await page.locator('.connection-open').waitFor();
    const requestsBefore = streamRequests.length;

    proxy.cut();
    await page.locator('.connection-reconnecting').waitFor({ timeout: 10_000 });
    const missedId = await pressSos(PENDANTS[2]!);
    // Stored by the relay while the page cannot hear.
    await waitFor(() => gateway.alarmRecord(missedId)?.storedAtMs, 5_000, 'missed alarm stored');
    expect(await queueItem(missedId).count()).toBe(0);

    proxy.restore();
    await page.locator('.connection-open').waitFor({ timeout: 20_000 });
    await queueItem(missedId).waitFor({ timeout: 5_000 });

    // The reconnection asked for what it missed (Last-Event-ID header, or ?lastEventId= after a manual retry).
    const resumed = (await Promise.all(streamRequests.slice(requestsBefore))).filter(
      (r) => r.lastEventId || new URL(r.url).searchParams.has('lastEventId'),
    );
    expect(resumed.length).toBeGreaterThan(0);
    expect(unexpectedProblems()).toEqual([]);
  });
});
