import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startPrivateInfluxd } from '../../tools/influxd.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the private InfluxDB 1.x started for this test project, e.g. `http://127.0.0.1:41234`. */
    influxUrl: string;
  }
}

/**
 * vitest globalSetup of the integration and e2e projects: one private influxd per project, in a fresh temp
 * folder, stopped (and the folder removed) after the project's tests. Tests get its URL with
 * `inject('influxUrl')` (see `testInfluxUrl()`); programs started as child processes can read
 * `HOMEBED_TEST_INFLUX_URL`, which workers and their children inherit.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'homebed-influxd-'));
  const influxd = await startPrivateInfluxd({ dir });
  project.provide('influxUrl', influxd.url);
  process.env.HOMEBED_TEST_INFLUX_URL = influxd.url;
  return async () => {
    await influxd.stop();
  };
}
