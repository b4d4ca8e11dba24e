import { describe, expect, it } from 'vitest';
import { findInfluxd, renderInfluxdConfig } from '../../../tools/influxd.js';

describe('renderInfluxdConfig', () => {
  const config = renderInfluxdConfig({ dir: '/tmp/homebed "x"', httpPort: 41000, rpcPort: 41001 });

  it('binds HTTP and RPC to 127.0.0.1 on the given ports, never the defaults', () => {
    expect(config).toContain('bind-address = "127.0.0.1:41001"');
    expect(config).toContain('bind-address = "127.0.0.1:41000"');
    const bindings = config.split('\n').filter((line) => /^\s*bind-address\s*=/.test(line));
    expect(bindings).toHaveLength(2);
    expect(bindings.join('\n')).not.toMatch(/:808[68]"/);
  });

  it('keeps all data inside dir, with TOML-escaped paths', () => {
    expect(config).toContain('dir = "/tmp/homebed \\"x\\"/meta"');
    expect(config).toContain('dir = "/tmp/homebed \\"x\\"/data"');
    expect(config).toContain('wal-dir = "/tmp/homebed \\"x\\"/wal"');
  });

  it('never phones home and runs no background writers or extra listeners', () => {
    expect(config).toContain('reporting-disabled = true');
    expect(config).toContain('reporting-enabled = false');
    expect(config).toMatch(/\[monitor\]\n\s+# .*\n\s+store-enabled = false/);
    expect(config).toMatch(/\[continuous_queries\]\n\s+enabled = false/);
    for (const listener of ['graphite', 'collectd', 'opentsdb', 'udp']) {
      expect(config).toMatch(new RegExp(`\\[\\[${listener}\\]\\]\\n\\s+enabled = false`));
    }
  });
});

describe('findInfluxd', () => {
  it('prefers HOMEBED_INFLUXD', () => {
    expect(findInfluxd({ HOMEBED_INFLUXD: '/opt/influxd' })).toBe('/opt/influxd');
  });

  it('returns undefined when nothing is found', () => {
    // /usr/bin is always searched, so this only holds where influxd is not installed there.
    const found = findInfluxd({ PATH: '/nonexistent' });
    expect(found === undefined || found.startsWith('/usr/')).toBe(true);
  });
});
