import type { AlarmType, ResolutionOutcome, Severity } from '../../contract/alarm-vocabulary.js';

/**
 * Chinese words for the alarm vocabulary in messages to people. Typed as complete records so a new
 * alarm type or outcome fails to compile until it has a label: a message must never show
 * `bed_exit_no_return` to a daughter at 3 a.m.
 */
export const ALARM_TYPE_LABELS: Record<AlarmType, string> = {
  sos_button: 'SOS 紧急呼叫',
  fall_suspected: '疑似跌倒',
  fall_confirmed: '跌倒',
  bed_exit_no_return: '离床未归',
  prolonged_inactivity: '长时间无活动',
  not_up_in_morning: '早晨未起床',
  heart_rate_high: '心率过高',
  heart_rate_low: '心率过低',
  breath_rate_high: '呼吸过快',
  breath_rate_low: '呼吸过慢',
  door_open_at_night: '夜间开门',
  smoke: '烟雾报警',
  gas: '燃气泄漏',
  water_leak: '漏水',
  device_offline: '设备离线',
  device_battery_low: '设备电量低',
  serial_link_lost: '传感器连接中断',
  gateway_offline: '网关离线',
  test_alarm: '测试报警',
};

export const SEVERITY_LABELS: Record<Severity, string> = {
  critical: '紧急',
  warning: '警告',
  technical: '技术',
  info: '提示',
};

export const OUTCOME_LABELS: Record<ResolutionOutcome, string> = {
  false_alarm: '误报',
  resident_fine_by_phone: '电话确认老人平安',
  family_visited: '家属已上门查看',
  staff_visited: '工作人员已上门查看',
  ambulance_called: '已呼叫救护车',
  other: '其他',
};

/** `MM-DD HH:mm` in `timeZone`: short enough for an SMS, and the reader's own clock. */
export function localTime(iso: string, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(iso));
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '??';
  return `${part('month')}-${part('day')} ${part('hour')}:${part('minute')}`;
}

/** An escalation delay for people: `2 分钟`, or `90 秒` when not whole minutes. */
export function durationLabel(seconds: number): string {
  return seconds >= 60 && seconds % 60 === 0 ? `${seconds / 60} 分钟` : `${seconds} 秒`;
}
