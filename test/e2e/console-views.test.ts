import type { MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../cloud/relay.js';
import { uuidv7 } from '../../common/ids.js';
import { type AlarmMessage, gatewayTopic } from '../../contract/index.js';
import { launchBrowser, openConsolePage, screenshot, unnamedControls } from '../support/browser.js';
import { createTestDatabase, influxClient, testInfluxUrl } from '../support/influx.js';
import {
  type ApiClient,
  connectAsGateway,
  loginOverHttp,
  loginToRelay,
  startTestRelay,
  waitFor,
} from '../support/relay.js';

/**
 * The bed, fleet, statistics and family pages of the console in a real
 * Chromium, against a real relay (SQLite, embedded MQTT, InfluxDB for the
 * vitals): homes set up through the relay's repositories, gateways talking
 * MQTT, people logging in through the login page. Screenshots of each page
 * land in test/screenshots/.
 */

const ORG = 'huangpu';
const PASSWORD = 'correct horse battery staple';
const RESIDENTS = { 'bed-0001': '王秀英', 'bed-0002': '张建国', 'bed-0003': '李桂兰' } as const;
/** Every personal name the relay holds: residents, contacts, staff. */
const PERSONAL_NAMES = [...Object.values(RESIDENTS), '王丽', '张伟', '李娜'];

/** A gateway's heartbeat as the contract has it. */
function heartbeat(
  gatewayId: string,
  devices: Record<string, unknown>[],
  extra: Record<string, unknown> = {},
) {
  return {
    v: 1,
    gatewayId,
    at: new Date().toISOString(),
    uptimeS: 3600,
    intervalS: 600,
    outboxDepth: 0,
    spoolDepth: 12,
    readingsDropped: 0,
    devices,
    unpaired: [],
    links: {},
    software: 'homebed-gateway 0.1.0',
    ...extra,
  };
}

function alarm(gatewayId: string, bedId: string, seq: number, type: AlarmMessage['type']): AlarmMessage {
  const at = new Date().toISOString();
  return {
    v: 1,
    id: uuidv7(),
    gatewayId,
    bedId,
    seq,
    type,
    severity: 'critical',
    state: 'raised',
    at,
    deviceId: 'sos-1',
    evidence: [{ deviceId: 'sos-1', kind: 'button_press', at }],
  };
}

async function publish(
  client: MqttClient,
  gatewayId: string,
  kind: 'alarm' | 'heartbeat' | 'status' | 'event',
  body: unknown,
) {
  await client.publishAsync(gatewayTopic(gatewayId, kind), JSON.stringify(body), { qos: 1 });
}

interface Home {
  bedId: keyof typeof RESIDENTS;
  gatewayId: string;
  contacts?: { name: string; relation: string; phone: string; notify: boolean }[];
  riskTags?: string[];
}

/** A bed with its resident and a provisioned gateway linked to it; the gateway connected over MQTT. */
async function addHome(relay: Relay, home: Home): Promise<MqttClient> {
  await relay.services.beds.add({
    id: home.bedId,
    organisationId: ORG,
    residentName: RESIDENTS[home.bedId],
    address: '上海市黄浦区福州路 318 号 1201 室',
    contacts: home.contacts ?? [],
    riskTags: home.riskTags ?? [],
    installDate: '2026-01-15',
    state: 'active',
  });
  const { secret } = await relay.gateways.add(home.gatewayId, undefined, ORG);
  await relay.services.beds.linkGateway(home.gatewayId, home.bedId);
  return connectAsGateway(relay.mqttPort, home.gatewayId, secret);
}

async function addUser(
  relay: Relay,
  username: string,
  displayName: string,
  role: 'operator' | 'staff' | 'family' | 'regulator',
) {
  return relay.services.users.add({ username, displayName, role, organisationId: ORG, password: PASSWORD });
}

/** Log in through the console's login page; resolves once the home page of the role shows. */
async function logIn(page: Page, baseUrl: string, username: string, next = '/'): Promise<void> {
  await page.goto(`${baseUrl}/login?next=${encodeURIComponent(next)}`);
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="password"]').fill(PASSWORD);
  await page.locator('form button[type="submit"], form button:not([type])').first().click();
  await page.waitForURL((url) => url.pathname !== '/login', { timeout: 15_000 });
}

/** Code passed to page.evaluate runs in the browser; this project's TypeScript has no DOM types. */
// biome-ignore lint/suspicious/noExplicitAny: the page's own document, not typed in Node
declare const document: any;

/** Page problems other than the browser's own note of a 4xx/5xx answer (the tests ask for those). */
const realProblems = (problems: string[]) => problems.filter((p) => !/Failed to load resource/.test(p));

describe('console views: bed, fleet, statistics, family', () => {
  let relay: Relay;
  let stopRelay: () => Promise<void>;
  let browser: Browser;
  let baseUrl: string;
  let staff: ApiClient;
  const clients: MqttClient[] = [];
  /** The vitals gap written to InfluxDB (unix seconds): nothing between these. */
  let gap: { from: number; to: number };

  beforeAll(async () => {
    const influxUrl = testInfluxUrl();
    const database = await createTestDatabase(influxUrl, 'console_views');
    ({ relay, stop: stopRelay } = await startTestRelay({ influx: { url: influxUrl, database } }));
    baseUrl = relay.httpUrl;
    await relay.services.organisations.add({ id: ORG, name: '黄浦区养老服务中心' });

    // bed-0001: watched, with contacts, an alarm history, a daily summary and vitals.
    const gw1 = await addHome(relay, {
      bedId: 'bed-0001',
      gatewayId: 'gw-0001',
      contacts: [{ name: '王丽', relation: '女儿', phone: '+8613800138001', notify: true }],
      riskTags: ['独居', '高龄'],
    });
    // bed-0002: its gateway went offline (it said so on the way out).
    const gw2 = await addHome(relay, {
      bedId: 'bed-0002',
      gatewayId: 'gw-0002',
      contacts: [{ name: '张伟', relation: '儿子', phone: '+8613900139002', notify: true }],
    });
    // bed-0003: gateway online, but its bed radar is silent.
    const gw3 = await addHome(relay, { bedId: 'bed-0003', gatewayId: 'gw-0003' });
    clients.push(gw1, gw2, gw3);
    const seen = new Date(Date.now() - 5_000).toISOString();
    await publish(
      gw1,
      'gw-0001',
      'heartbeat',
      heartbeat('gw-0001', [
        { id: 'bed-radar', kind: 'mr60bha1', online: true, lastSeenAt: seen, firmware: '1.2.0' },
        { id: 'sos-1', kind: 'rf_button', online: true, lastSeenAt: seen, battery: 88 },
      ]),
    );
    await publish(
      gw2,
      'gw-0002',
      'heartbeat',
      heartbeat('gw-0002', [{ id: 'bed-radar', kind: 'mr60bha1', online: true, lastSeenAt: seen }]),
    );
    await publish(gw2, 'gw-0002', 'status', { v: 1, state: 'offline', at: new Date().toISOString() });
    await publish(
      gw3,
      'gw-0003',
      'heartbeat',
      heartbeat(
        'gw-0003',
        [
          {
            id: 'bed-radar',
            kind: 'mr60bha1',
            online: false,
            lastSeenAt: new Date(Date.now() - 3_600_000).toISOString(),
          },
          { id: 'sos-1', kind: 'rf_button', online: true, lastSeenAt: seen, battery: 12, batteryLow: true },
        ],
        { outboxDepth: 2 },
      ),
    );
    await waitFor(
      async () => {
        const list = await relay.gateways.list();
        const byId = new Map(list.map((g) => [g.id, g]));
        return (
          byId.get('gw-0001')?.status === 'online' &&
          byId.get('gw-0002')?.status === 'offline' &&
          byId.get('gw-0003')?.lastHeartbeat
        );
      },
      10_000,
      'gateway heartbeats and statuses',
    );

    // People.
    await addUser(relay, 'li.na', '李娜', 'staff');
    await addUser(relay, 'zhou.op', '周运营', 'operator');
    await addUser(relay, 'reg.shi', '市民政局', 'regulator');
    const daughter = await addUser(relay, 'wang.li', '王丽', 'family');
    await relay.services.users.linkBed(daughter.id, 'bed-0001', '女儿');
    staff = await loginOverHttp(relay.httpUrl, 'li.na', PASSWORD);

    // bed-0001's alarms: a suspected fall handled by phone, then an SOS taken but not yet closed.
    const fall = alarm('gw-0001', 'bed-0001', 1, 'fall_suspected');
    await publish(gw1, 'gw-0001', 'alarm', fall);
    await waitFor(
      async () => (await staff.get(`/api/alarms/${fall.id}`)).status === 200,
      10_000,
      'fall stored',
    );
    expect((await staff.post(`/api/alarms/${fall.id}/acknowledge`)).status).toBe(200);
    expect(
      (await staff.post(`/api/alarms/${fall.id}/resolve`, { outcome: 'resident_fine_by_phone' })).status,
    ).toBe(200);
    const sos = alarm('gw-0001', 'bed-0001', 2, 'sos_button');
    await publish(gw1, 'gw-0001', 'alarm', sos);
    await waitFor(
      async () => (await staff.get(`/api/alarms/${sos.id}`)).status === 200,
      10_000,
      'SOS stored',
    );
    expect((await staff.post(`/api/alarms/${sos.id}/acknowledge`)).status).toBe(200);

    // Last night's summary and a bed return, as the gateway reports them.
    const now = Date.now();
    const periodTo = new Date(now - 3_600_000).toISOString();
    await publish(gw1, 'gw-0001', 'event', {
      v: 1,
      gatewayId: 'gw-0001',
      bedId: 'bed-0001',
      at: periodTo,
      kind: 'daily_summary',
      deviceId: 'bed-radar',
      day: periodTo.slice(0, 10),
      timeZone: 'Asia/Shanghai',
      period: { from: new Date(now - 25 * 3_600_000).toISOString(), to: periodTo },
      timeInBedMin: 460,
      observedMin: 1440,
      bedExits: 3,
      nightBedExits: 2,
      longestOutOfBedMin: 12,
      heartRateAvg: 63.6,
      breathRateAvg: 15.2,
      alarms: { fall_suspected: 1 },
    });
    await publish(gw1, 'gw-0001', 'event', {
      v: 1,
      gatewayId: 'gw-0001',
      bedId: 'bed-0001',
      at: new Date(now - 1_800_000).toISOString(),
      kind: 'bed_return',
      deviceId: 'bed-radar',
      outOfBedS: 540,
    });
    await waitFor(
      async () => {
        const r = await staff.get<{ events: unknown[] }>('/api/beds/bed-0001/events');
        return r.status === 200 && r.body.events.length === 2;
      },
      10_000,
      'gateway events stored',
    );

    // Vitals of the last 24 h, one reading a minute, with two hours missing (8 h to 6 h ago).
    const nowS = Math.floor(now / 1000);
    gap = { from: nowS - 8 * 3600, to: nowS - 6 * 3600 };
    const points = [];
    for (let s = nowS - 24 * 3600 + 60; s <= nowS - 60; s += 60) {
      if (s >= gap.from && s < gap.to) continue;
      const tags = { gateway: 'gw-0001', bed: 'bed-0001', device: 'bed-radar' };
      const timestamp = new Date(s * 1000);
      const phase = (s / 3600) * 0.7;
      points.push(
        { measurement: 'heart_rate', tags, fields: { value: 64 + 6 * Math.sin(phase) }, timestamp },
        { measurement: 'breath_rate', tags, fields: { value: 15 + 2 * Math.cos(phase) }, timestamp },
        {
          measurement: 'in_bed',
          tags,
          fields: { value: s % 86_400 < 6 * 3600 || s > nowS - 3 * 3600 },
          timestamp,
        },
        { measurement: 'presence', tags, fields: { value: true }, timestamp },
      );
    }
    await influxClient(influxUrl, database).writePoints(points, { precision: 's' });

    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    for (const c of clients) await c.endAsync(true).catch(() => {});
    await stopRelay?.();
  });

  it('a family member sees their bed now, last night and who handled the alarms, and no other bed', async () => {
    const { context, page, problems } = await openConsolePage(browser, baseUrl, {
      viewport: { width: 390, height: 844 },
    });
    try {
      await logIn(page, baseUrl, 'wang.li');
      await page.waitForURL(`${baseUrl}/family`);
      const card = page.locator('.family-now');
      await expect.poll(() => card.textContent(), { timeout: 10_000 }).toContain('SOS 紧急呼叫');
      expect(await card.textContent()).toContain('已有值班员接警：李娜');
      const text = (await page.locator('main').textContent()) ?? '';
      expect(text).toContain('王秀英');
      expect(text).toContain('在床 7 小时 40 分钟');
      expect(text).toContain('夜里起床 2 次');
      expect(text).toContain('平均心率 64 次/分');
      expect(text).toContain('疑似跌倒');
      expect(text).toContain('李娜 已处理：电话确认老人平安');
      // Only their own bed.
      for (const other of [RESIDENTS['bed-0002'], RESIDENTS['bed-0003']]) expect(text).not.toContain(other);
      expect(await unnamedControls(page)).toEqual([]);
      // A phone's width: nothing runs off the side (no sideways scrolling to read the card).
      expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
      await screenshot(page, 'family');

      // Live: a new alarm shows up without a reload, and then who took it.
      const exit = { ...alarm('gw-0001', 'bed-0001', 3, 'bed_exit_no_return'), severity: 'warning' as const };
      await publish(clients[0]!, 'gw-0001', 'alarm', exit);
      const recent = page.locator('.family-alarms');
      const newest = recent.locator('li').first();
      await expect.poll(() => newest.textContent(), { timeout: 10_000 }).toMatch(/离床未归.*等待值班员接警/);
      await waitFor(
        async () => (await staff.get(`/api/alarms/${exit.id}`)).status === 200,
        10_000,
        'exit stored',
      );
      expect((await staff.post(`/api/alarms/${exit.id}/acknowledge`)).status).toBe(200);
      await expect.poll(() => newest.textContent(), { timeout: 10_000 }).toMatch(/离床未归.*李娜 正在处理/);
      // The SOS is still the most severe: it stays on the card.
      expect(await card.textContent()).toContain('SOS 紧急呼叫');

      // Another bed's page: "not found", exactly as the API's 404.
      await page.goto(`${baseUrl}/beds/bed-0002`);
      await expect
        .poll(() => page.locator('main').textContent(), { timeout: 10_000 })
        .toContain('未找到该床位');
      expect(await page.locator('main').textContent()).not.toContain(RESIDENTS['bed-0002']);
      const api = await page.request.get(`${baseUrl}/api/beds/bed-0002`);
      expect(api.status()).toBe(404);
      expect(((await api.json()) as { error: string }).error).toBe('HB_BED_NOT_FOUND');
      expect((await page.request.get(`${baseUrl}/api/beds/bed-0002/status`)).status()).toBe(404);

      // Their page in English.
      await page.goto(`${baseUrl}/family`);
      await page.getByRole('button', { name: '切换到英文界面' }).click();
      await expect
        .poll(() => page.locator('.family-now').textContent(), { timeout: 10_000 })
        .toContain('A staff member has taken it: 李娜');
      expect(await page.locator('main').textContent()).toContain('Got up 2 times at night');
      expect(realProblems(problems)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('an operator sees the offline gateway and the silent radar under "not watched", problems first', async () => {
    const { context, page, problems } = await openConsolePage(browser, baseUrl);
    try {
      await logIn(page, baseUrl, 'zhou.op', '/fleet');
      await page.waitForURL(`${baseUrl}/fleet`);
      const unwatched = page.locator('section.unwatched');
      await expect.poll(() => unwatched.textContent(), { timeout: 10_000 }).toContain(RESIDENTS['bed-0002']);
      const list = (await unwatched.textContent()) ?? '';
      expect(list).toContain('网关离线');
      expect(list).toContain(RESIDENTS['bed-0003']);
      expect(list).toContain('设备 bed-radar 离线');
      expect(list).not.toContain(RESIDENTS['bed-0001']);
      expect(await unwatched.locator('li').count()).toBe(2);
      // Gateways with problems come before the healthy one.
      const order = await page.locator('table.fleet-table > tbody > tr > th').allTextContents();
      expect(order.map((s) => s.trim().slice(0, 7))).toEqual(['gw-0002', 'gw-0003', 'gw-0001']);
      const fleetText = (await page.locator('table.fleet-table').textContent()) ?? '';
      expect(fleetText).toContain('设备 sos-1 电量低');
      expect(fleetText).toContain('2 条报警待上传');
      // Coverage per bed from the statistics.
      await expect
        .poll(() => page.locator('table.coverage-table').textContent(), { timeout: 10_000 })
        .toContain(RESIDENTS['bed-0001']);
      await page
        .locator('table.fleet-table details')
        .first()
        .evaluate((d) => {
          (d as unknown as { open: boolean }).open = true;
        });
      expect(await unnamedControls(page)).toEqual([]);
      await screenshot(page, 'fleet');
      expect(realProblems(problems)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('a regulator sees the response-time statistics and no resident name anywhere on the page', async () => {
    const { context, page, problems } = await openConsolePage(browser, baseUrl);
    const requested: string[] = [];
    page.on('request', (r) => requested.push(new URL(r.url()).pathname));
    try {
      await logIn(page, baseUrl, 'reg.shi');
      await page.waitForURL((url) => url.pathname === '/statistics');
      const view = page.locator('.statistics-view');
      await expect.poll(() => view.textContent(), { timeout: 10_000 }).toContain('60 秒内接警');
      const text = (await page.locator('body').textContent()) ?? '';
      // Two calls, both acknowledged well within 60 s: the target is met.
      expect(text).toContain('180 秒内接警');
      expect(text).toContain('达标');
      expect(text).toContain('疑似跌倒');
      expect(text).toContain('bed-0001');
      for (const name of PERSONAL_NAMES) expect(text).not.toContain(name);
      expect(requested.filter((p) => p.startsWith('/api/beds'))).toEqual([]);
      const exportHref = await page
        .locator('a[href*="table=coverage_days"][href*="format=csv"]')
        .getAttribute('href');
      expect(exportHref).toMatch(/^\/api\/statistics\/export\?/);
      const exported = await page.request.get(`${baseUrl}${exportHref}`);
      expect(exported.status()).toBe(200);
      expect(await exported.text()).toContain('bed-0001');
      expect(await unnamedControls(page)).toEqual([]);
      await screenshot(page, 'statistics');
      expect(realProblems(problems)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('the bed page shows the resident, contacts and timeline, and draws two vitals charts with the gap left empty', async () => {
    const { context, page, problems } = await openConsolePage(browser, baseUrl);
    try {
      await logIn(page, baseUrl, 'zhou.op', '/beds/bed-0001');
      await page.waitForURL(`${baseUrl}/beds/bed-0001`);
      await expect
        .poll(() => page.locator('.bed-card h1').textContent(), { timeout: 10_000 })
        .toContain('王秀英');
      expect(await page.locator('a[href="tel:+8613800138001"]').count()).toBe(1);
      // The status line comes from its own request and may land after the heading.
      const card = page.locator('.bed-card');
      await expect.poll(() => card.textContent(), { timeout: 10_000 }).toContain('报警中：SOS 紧急呼叫');
      expect(await card.textContent()).toContain('独居');
      const timeline = page.locator('.bed-timeline');
      await expect.poll(() => timeline.textContent(), { timeout: 10_000 }).toContain('每日小结');
      expect(await timeline.textContent()).toContain('回到床上（离床 9 分钟）');
      // The fall, the SOS, and the bed exit the family test raised (when it ran first).
      expect(await timeline.locator('li.tl-alarm').count()).toBeGreaterThanOrEqual(2);

      // Two charts, each a figure with a caption, a canvas and a text summary.
      const charts = page.locator('figure.vitals-chart');
      await expect.poll(() => charts.count()).toBe(2);
      await page.waitForFunction(
        () =>
          document.querySelectorAll('figure.vitals-chart[data-state="ok"] .vitals-plot canvas').length === 2,
        undefined,
        { timeout: 15_000 },
      );
      expect(await charts.nth(0).getAttribute('data-range')).toBe('24h');
      expect(await charts.nth(1).getAttribute('data-range')).toBe('7d');
      expect(await charts.nth(0).locator('figcaption').textContent()).toContain('近 24 小时');
      const summary = (await charts.nth(0).locator('.vitals-summary').textContent()) ?? '';
      expect(summary).toMatch(/心率最低 \d+、平均 \d+、最高 \d+ 次\/分/);
      // 2 h missing, plus the bucket still filling at the end.
      expect(summary).toMatch(/共 24 小时中约 2(\.\d)? 小时没有数据/);

      // The gap is drawn as a gap: heart-rate red in the canvas where there is data, none inside the gap.
      const pixels = await page.evaluate(({ from, to }) => {
        // Runs in the page: the plot element carries its uPlot instance (lib/charts.js).
        const plot = document.querySelector('figure.vitals-chart[data-range="24h"] .vitals-plot');
        const u = plot.uplot as {
          valToPos: (v: number, scale: string, canvasPixels: boolean) => number;
          data: (number | null)[][];
        };
        const canvas = plot.querySelector('canvas');
        const ctx = canvas.getContext('2d');
        const reddish = (x: number) => {
          const d: Uint8ClampedArray = ctx.getImageData(Math.round(x) - 2, 0, 5, canvas.height).data;
          let n = 0;
          for (let i = 0; i < d.length; i += 4) {
            if (d[i]! > 150 && d[i + 1]! < 110 && d[i + 2]! < 110 && d[i + 3]! > 100) n++;
          }
          return n;
        };
        const times = u.data[0] as number[];
        const hr = u.data[1] as (number | null)[];
        const nullsInGap = times.filter((t, i) => t >= from && t < to - 60 && hr[i] === null).length;
        const valuesInGap = times.filter((t, i) => t >= from && t < to - 60 && hr[i] !== null).length;
        return {
          inGap: reddish(u.valToPos((from + to) / 2, 'x', true)),
          before: reddish(u.valToPos(from - 3 * 3600, 'x', true)),
          after: reddish(u.valToPos(to + 2 * 3600, 'x', true)),
          nullsInGap,
          valuesInGap,
        };
      }, gap);
      expect(pixels.valuesInGap).toBe(0);
      expect(pixels.nullsInGap).toBeGreaterThan(100);
      expect(pixels.before).toBeGreaterThan(0);
      expect(pixels.after).toBeGreaterThan(0);
      expect(pixels.inGap).toBe(0);

      // The switch changes a chart's range.
      await charts.nth(1).getByRole('button', { name: '近 24 小时' }).click();
      await expect.poll(() => charts.nth(1).getAttribute('data-range')).toBe('24h');
      await charts.nth(1).getByRole('button', { name: '近 7 天' }).click();
      await expect.poll(() => charts.nth(1).getAttribute('data-state')).toBe('ok');
      expect(await unnamedControls(page)).toEqual([]);
      await screenshot(page, 'bed');
      expect(realProblems(problems)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('without InfluxDB the bed page says the vitals are unavailable instead of failing', async () => {
    const bare = await startTestRelay();
    const { context, page, problems } = await openConsolePage(browser, bare.relay.httpUrl);
    let gateway: MqttClient | null = null;
    try {
      await bare.relay.services.organisations.add({ id: ORG, name: '黄浦区养老服务中心' });
      gateway = await addHome(bare.relay, { bedId: 'bed-0001', gatewayId: 'gw-0001' });
      await addUser(bare.relay, 'zhou.op', '周运营', 'operator');
      const operator = await loginToRelay(bare.relay, { role: 'operator', organisationId: ORG });
      expect((await operator.get('/api/beds/bed-0001/vitals?range=24h')).status).toBe(503);

      await logIn(page, bare.relay.httpUrl, 'zhou.op', '/beds/bed-0001');
      await page.waitForURL(`${bare.relay.httpUrl}/beds/bed-0001`);
      await expect
        .poll(() => page.locator('figure.vitals-chart[data-state="unavailable"]').count(), {
          timeout: 10_000,
        })
        .toBe(2);
      expect(await page.locator('figure.vitals-chart').first().textContent()).toContain('暂无生命体征数据');
      // The rest of the page is there.
      expect(await page.locator('.bed-card h1').textContent()).toContain('王秀英');
      await screenshot(page, 'bed-vitals-unavailable');
      expect(realProblems(problems)).toEqual([]);
    } finally {
      await context.close();
      await gateway?.endAsync(true);
      await bare.stop();
    }
  });
});
