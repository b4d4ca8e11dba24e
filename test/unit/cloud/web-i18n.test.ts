import { describe, expect, it } from 'vitest';
import { ALARM_EVENT_KINDS } from '../../../cloud/alarms/alarm-events.js';
import {
  ALARM_TYPE_LABELS,
  OUTCOME_LABELS,
  SEVERITY_LABELS,
} from '../../../cloud/notifications/alarm-labels.js';
import { BED_STATES, KNOWN_RISK_TAGS, ROLES } from '../../../cloud/people/model.js';
import {
  ALARM_TYPES,
  type AlarmType,
  RESOLUTION_OUTCOMES,
  type ResolutionOutcome,
  SEVERITIES,
  type Severity,
} from '../../../contract/alarm-vocabulary.js';

/** The console's i18n module (browser JavaScript; it touches no browser API when imported). */
interface I18n {
  ALARM_TYPES: string[];
  SEVERITIES: string[];
  RESOLUTION_OUTCOMES: string[];
  ALARM_EVENT_KINDS: string[];
  ROLES: string[];
  KNOWN_RISK_TAGS: string[];
  BED_STATES: string[];
  t(key: string, vars?: Record<string, string | number>): string;
  hasMessage(key: string): boolean;
  setLang(lang: string): void;
  getLang(): string;
  registerMessages(lang: string, dict: Record<string, string>): void;
  alarmTypeLabel(type: string): string;
  severityLabel(severity: string): string;
  outcomeLabel(outcome: string): string;
  formatDuration(ms: number): string;
}

// A computed path: TypeScript does not look for declarations of the browser module.
const modulePath = '../../../cloud/web/lib/i18n.js';
const i18n = (await import(modulePath)) as I18n;

describe('console words (cloud/web/lib/i18n.js)', () => {
  it('copies the contract vocabulary exactly', () => {
    expect(i18n.ALARM_TYPES).toEqual([...ALARM_TYPES]);
    expect(i18n.SEVERITIES).toEqual([...SEVERITIES]);
    expect(i18n.RESOLUTION_OUTCOMES).toEqual([...RESOLUTION_OUTCOMES]);
    expect(i18n.ALARM_EVENT_KINDS).toEqual([...ALARM_EVENT_KINDS]);
    expect(i18n.ROLES).toEqual([...ROLES]);
    expect(i18n.KNOWN_RISK_TAGS).toEqual([...KNOWN_RISK_TAGS]);
    expect(i18n.BED_STATES).toEqual([...BED_STATES]);
  });

  it('names every alarm type, severity and outcome in Chinese as the messages to people do, and in English', () => {
    i18n.setLang('zh-CN');
    for (const type of ALARM_TYPES)
      expect(i18n.alarmTypeLabel(type)).toBe(ALARM_TYPE_LABELS[type as AlarmType]);
    for (const s of SEVERITIES) expect(i18n.severityLabel(s)).toBe(SEVERITY_LABELS[s as Severity]);
    for (const o of RESOLUTION_OUTCOMES)
      expect(i18n.outcomeLabel(o)).toBe(OUTCOME_LABELS[o as ResolutionOutcome]);
    i18n.setLang('en');
    try {
      for (const prefix of ['alarmType', 'severity', 'outcome', 'eventKind', 'role', 'riskTag', 'bedState']) {
        const values = {
          alarmType: ALARM_TYPES,
          severity: SEVERITIES,
          outcome: RESOLUTION_OUTCOMES,
          eventKind: ALARM_EVENT_KINDS,
          role: ROLES,
          riskTag: KNOWN_RISK_TAGS,
          bedState: BED_STATES,
        }[prefix] as readonly string[];
        for (const v of values) {
          const english = i18n.t(`${prefix}.${v}`);
          expect(english, `${prefix}.${v}`).not.toBe(`${prefix}.${v}`);
          if (prefix !== 'riskTag') expect(english, `${prefix}.${v}`).toMatch(/^[\x20-\x7e]+$/);
        }
      }
    } finally {
      i18n.setLang('zh-CN');
    }
  });

  it('fills placeholders, falls back to Chinese then to the key, and shows unknown values as they are', () => {
    i18n.registerMessages('zh-CN', { 'test.greet': '你好，{name}（{n}）', 'test.onlyZh': '只有中文' });
    i18n.registerMessages('en', { 'test.greet': 'Hello, {name} ({n})' });
    expect(i18n.t('test.greet', { name: '李娜', n: 2 })).toBe('你好，李娜（2）');
    i18n.setLang('en');
    try {
      expect(i18n.t('test.greet', { name: 'Li Na', n: 2 })).toBe('Hello, Li Na (2)');
      expect(i18n.t('test.onlyZh')).toBe('只有中文');
      expect(i18n.t('test.missing')).toBe('test.missing');
      expect(i18n.t('test.greet', { name: 'x' })).toBe('Hello, x ({n})');
      expect(i18n.alarmTypeLabel('some_future_type')).toBe('some_future_type');
      expect(i18n.formatDuration(65_000)).toBe('1 min 05 s');
    } finally {
      i18n.setLang('zh-CN');
    }
    expect(i18n.formatDuration(3_723_000)).toBe('1 小时 02 分');
    expect(i18n.formatDuration(-5)).toBe('0 秒');
  });
});
