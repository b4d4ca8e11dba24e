import { defineConfig } from 'vitest/config';

/**
 * Three projects, run one after the other (`groupOrder`) by `npm test`:
 * - unit: pure code, no I/O, fast;
 * - integration: real InfluxDB (private instance), real MQTT, real PTYs, real SQLite;
 * - e2e: cloud, gateway and simulator as separate processes.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/influx-global-setup.ts', 'test/support/victoria-global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'e2e',
          sequence: { groupOrder: 2 },
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/influx-global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Each e2e file starts whole programs; running them one at a time keeps a 2-core box responsive.
          fileParallelism: false,
        },
      },
    ],
  },
});
