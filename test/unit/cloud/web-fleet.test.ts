import { describe, expect, it } from 'vitest';

/** The fleet view's problem list and the views' small formatters (browser modules; no browser API on import). */
interface Problem {
  level: 'unwatched' | 'warning';
  text: string;
}
interface Fleet {
  assess(gateway: Record<string, unknown>, now: number): Problem[];
}
interface ViewKit {
  relativeTime(when: string | number | null, now?: number): string;
  percent(share: number | null, digits?: number): string;
  localDate(daysBack?: number, from?: Date): string;
  hoursMinutes(minutes: number): string;
}
interface I18n {
  setLang(lang: string): void;
}

// Computed paths: TypeScript does not look for declarations of the browser modules.
const base = '../../../cloud/web';
const fleet = (await import(`${base}/views/fleet.js`)) as Fleet;
const kit = (await import(`${base}/lib/view-kit.js`)) as ViewKit;
const i18n = (await import(`${base}/lib/i18n.js`)) as I18n;

const NOW = Date.parse('2026-11-23T04:00:00Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();

function gateway(overrides: Record<string, unknown> = {}, heartbeat: Record<string, unknown> = {}) {
  return {
    id: 'gw-1',
    bedId: 'bed-1',
    organisationId: 'org',
    status: 'online',
    lastSeenAt: ago(10_000),
    heartbeatIntervalMs: 30_000,
    offlineAlarmId: null,
    lastHeartbeat: {
      outboxDepth: 0,
      spoolDepth: 0,
      readingsDropped: 0,
      links: {},
      devices: [{ id: 'bed-radar', kind: 'mr60bha1', online: true, lastSeenAt: ago(1_000) }],
      ...heartbeat,
    },
    ...overrides,
  };
}

const levels = (problems: Problem[]) => problems.map((p) => p.level);

describe('fleet: what keeps a home from being watched', () => {
  i18n.setLang('zh-CN');

  it('a healthy gateway on a bed has no problem', () => {
    expect(fleet.assess(gateway(), NOW)).toEqual([]);
  });

  it('offline, never connected and an overdue heartbeat leave the home unwatched', () => {
    expect(fleet.assess(gateway({ status: 'offline' }), NOW)).toEqual([
      { level: 'unwatched', text: '网关离线' },
    ]);
    expect(fleet.assess(gateway({ status: null, lastHeartbeat: null }), NOW)).toEqual([
      { level: 'unwatched', text: '网关从未连接' },
    ]);
    // 3 intervals of 30 s without a word: gone, even if the relay has not marked it yet.
    expect(fleet.assess(gateway({ lastSeenAt: ago(90_001) }), NOW)).toEqual([
      { level: 'unwatched', text: '网关心跳超时' },
    ]);
    expect(fleet.assess(gateway({ lastSeenAt: ago(90_000) }), NOW)).toEqual([]);
  });

  it('a device the gateway reports offline leaves the home unwatched; low battery, queues and closed links are warnings', () => {
    const problems = fleet.assess(
      gateway(
        {},
        {
          devices: [
            { id: 'bed-radar', kind: 'mr60bha1', online: false },
            { id: 'sos-1', kind: 'rf_button', online: true, battery: 15 },
            { id: 'door', kind: 'rf_contact', online: true, batteryLow: true },
          ],
          outboxDepth: 3,
          readingsDropped: 40,
          links: { 'radar-port': 'closed' },
        },
      ),
      NOW,
    );
    expect(problems).toEqual([
      { level: 'unwatched', text: '设备 bed-radar 离线' },
      { level: 'warning', text: '设备 sos-1 电量低' },
      { level: 'warning', text: '设备 door 电量低' },
      { level: 'warning', text: '串口 radar-port 已断开' },
      { level: 'warning', text: '3 条报警待上传' },
      { level: 'warning', text: '丢弃了 40 条读数' },
    ]);
  });

  it('a gateway on no bed is a warning, not an unwatched home', () => {
    expect(levels(fleet.assess(gateway({ bedId: null }), NOW))).toEqual(['warning']);
  });
});

describe('view formatters', () => {
  it('relative times, shares, local dates and durations in Chinese and English', () => {
    i18n.setLang('zh-CN');
    expect(kit.relativeTime(ago(3 * 60_000), NOW)).toBe('3分钟前');
    expect(kit.relativeTime(ago(5_000), NOW)).toBe('现在');
    expect(kit.relativeTime(null, NOW)).toBe('—');
    expect(kit.percent(0.975)).toBe('97.5 %');
    expect(kit.percent(null)).toBe('—');
    expect(kit.hoursMinutes(460)).toBe('7 小时 40 分钟');
    expect(kit.localDate(6, new Date(2026, 2, 3))).toBe('2026-02-25');
    i18n.setLang('en');
    expect(kit.relativeTime(ago(2 * 3600_000), NOW)).toBe('2 hours ago');
    expect(kit.hoursMinutes(12)).toBe('12 min');
    i18n.setLang('zh-CN');
  });
});
