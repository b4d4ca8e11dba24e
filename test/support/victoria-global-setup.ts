import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startPrivateVictoriaMetrics } from '../../tools/victoria-metrics.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the private VictoriaMetrics started for this test project, e.g. `http://127.0.0.1:41234`. */
    victoriaUrl: string;
  }
}

/**
 * vitest globalSetup of the integration project: one private VictoriaMetrics (the InfluxDB 2.x write API
 * `/api/v2/write` without an InfluxDB 2.x package in Debian), in a fresh temp folder, stopped (and the
 * folder removed) after the project's tests. Tests get its URL with `inject('victoriaUrl')`; child processes
 * can read `HOMEBED_TEST_VICTORIA_URL`.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'homebed-victoria-'));
  const victoria = await startPrivateVictoriaMetrics({ dir });
  project.provide('victoriaUrl', victoria.url);
  process.env.HOMEBED_TEST_VICTORIA_URL = victoria.url;
  return async () => {
    await victoria.stop();
  };
}
