import { describe, expect, it } from 'vitest';
import { renderMosquittoConfig } from '../../../tools/mosquitto.js';

describe('renderMosquittoConfig', () => {
  const base = {
    port: 41883,
    dataDir: '/tmp/homebed-mosquitto/data',
    allowAnonymous: true,
    autosaveIntervalS: 1,
    maxQueuedMessages: 100_000,
    user: 'root',
  };

  it('listens on 127.0.0.1 on the given port only, never 1883', () => {
    const lines = renderMosquittoConfig(base).split('\n');
    expect(lines.filter((l) => l.startsWith('listener'))).toEqual(['listener 41883 127.0.0.1']);
    expect(lines.some((l) => /\b1883\b/.test(l))).toBe(false);
  });

  it('persists into the data dir, with the trailing slash Mosquitto needs', () => {
    const config = renderMosquittoConfig(base);
    expect(config).toContain('persistence true\n');
    expect(config).toContain('persistence_location /tmp/homebed-mosquitto/data/\n');
    expect(config).toContain('autosave_interval 1\n');
  });

  it('lets anonymous clients in unless told otherwise, and adds password and ACL files when given', () => {
    expect(renderMosquittoConfig(base)).toContain('allow_anonymous true\n');
    expect(renderMosquittoConfig(base)).not.toContain('password_file');
    const secured = renderMosquittoConfig({
      ...base,
      allowAnonymous: false,
      passwordFile: '/tmp/p/passwd',
      aclFile: '/tmp/p/acl',
      useUsernameAsClientId: true,
    });
    expect(secured).toContain('allow_anonymous false\n');
    expect(secured).toContain('password_file /tmp/p/passwd\n');
    expect(secured).toContain('acl_file /tmp/p/acl\n');
    expect(secured).toContain('use_username_as_clientid true\n');
  });

  it('refuses a value that would break out of its config line', () => {
    expect(() => renderMosquittoConfig({ ...base, aclFile: '/tmp/a\nlistener 1883' })).toThrow(/not usable/);
  });
});
