import { describe, expect, it } from 'vitest';
import { parseCookies } from '../../../../cloud/http/auth.js';

describe('parseCookies', () => {
  it('reads name=value pairs, decoded and unquoted; the first of a repeated name wins', () => {
    const cookies = parseCookies('theme=dark; hb_session=abc-_123;  lang="zh%2DCN"; hb_session=later');
    expect(cookies.get('theme')).toBe('dark');
    expect(cookies.get('hb_session')).toBe('abc-_123');
    expect(cookies.get('lang')).toBe('zh-CN');
  });

  it('skips malformed pairs and survives an absent header', () => {
    expect(parseCookies(undefined).size).toBe(0);
    const cookies = parseCookies('novalue; =orphan; bad=%E0%A4%A; ok=1');
    expect([...cookies]).toEqual([['ok', '1']]);
  });
});
