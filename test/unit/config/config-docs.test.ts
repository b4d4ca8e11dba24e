import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_DOCS_PATH, renderConfigDocs } from '../../../tools/config-docs.js';

describe('docs/configuration.md', () => {
  it('is exactly what the schemas render (run `npm run docs:config` after changing a schema)', () => {
    expect(readFileSync(CONFIG_DOCS_PATH, 'utf8')).toBe(renderConfigDocs());
  });

  it('documents every key with its default', () => {
    const text = renderConfigDocs();
    expect(text).toContain('| `cloud.heartbeatIntervalS` | integer (≥ 5, ≤ 3600) |  | `30` |');
    expect(text).toContain('`HOMEBED_CLOUD`');
  });
});
