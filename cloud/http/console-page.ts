import type { StoredAlarm } from '../alarms/alarm-store.js';
import type { GatewayRecord } from '../gateways/gateway-registry.js';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const esc = (s: unknown): string => String(s ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);

const ALARM_NAMES: Record<string, string> = {
  sos_button: 'SOS 紧急呼叫',
  test_alarm: '测试报警',
};

/**
 * A minimal server-rendered page so the demo has something to open; the
 * real console (live queue, acknowledge, resolve) replaces it.
 */
export function renderConsolePage(
  alarms: readonly StoredAlarm[],
  gateways: readonly GatewayRecord[],
): string {
  const alarmRows = alarms
    .map(
      (
        a,
      ) => `<tr class="${esc(a.severity)}"><td>${esc(a.at)}</td><td>${esc(ALARM_NAMES[a.type] ?? a.type)}</td>
<td>${esc(a.severity)}</td><td>${esc(a.state)}</td><td>${esc(a.bedId)}</td><td>${esc(a.gatewayId)}</td><td>${esc(a.deviceId)}</td></tr>`,
    )
    .join('\n');
  const gatewayRows = gateways
    .map(
      (g) =>
        `<tr><td>${esc(g.id)}</td><td>${esc(g.status ?? '—')}</td><td>${esc(g.lastSeenAt ?? '—')}</td>
<td>${esc(g.lastHeartbeat?.outboxDepth ?? '—')}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="2"><title>家床守护 homebed — 监护中心</title>
<style>body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}table{border-collapse:collapse;width:100%;margin-bottom:2rem}
td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}tr.critical td{background:#fde8e8}h1{font-size:1.4rem}</style>
</head><body>
<h1>家床守护 homebed — 监护中心 (monitoring centre)</h1>
<h2>报警 Alarms</h2>
<table><thead><tr><th>时间 time</th><th>类型 type</th><th>级别 severity</th><th>状态 state</th><th>床位 bed</th><th>网关 gateway</th><th>设备 device</th></tr></thead>
<tbody>${alarmRows || '<tr><td colspan="7">暂无报警 no alarms</td></tr>'}</tbody></table>
<h2>网关 Gateways</h2>
<table><thead><tr><th>网关 gateway</th><th>状态 status</th><th>最后联系 last seen</th><th>待发报警 outbox</th></tr></thead>
<tbody>${gatewayRows}</tbody></table>
<p>JSON: <a href="/api/alarms">/api/alarms</a> · <a href="/api/gateways">/api/gateways</a> · <a href="/healthz">/healthz</a></p>
</body></html>`;
}
