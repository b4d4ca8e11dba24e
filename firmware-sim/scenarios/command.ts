import { formatDifferences } from './compare.js';
import type { ScenarioResult } from './runner.js';
import { formatLocal } from './time.js';

/**
 * Text the `scenario` CLI command prints for a result: the alarms, and with
 * `check` the verdict and every difference. Kept apart from cli.ts so tests
 * can read it without a process.
 */
export function formatResult(result: ScenarioResult, options: { check: boolean }): string[] {
  const lines: string[] = [];
  const tz = result.timeZone;
  const { stats } = result;
  const cost =
    result.mode === 'accelerated'
      ? `${(stats.wallMs / 1000).toFixed(1)} s for ${(stats.simulatedMs / 3_600_000).toFixed(1)} h simulated, ` +
        `${stats.moves} clock moves, ${stats.framesDecoded} frames/lines`
      : `${(stats.wallMs / 1000).toFixed(1)} s`;
  lines.push(
    `scenario ${result.scenario} (${result.mode}, ${cost}): ${plural(result.alarms.length, 'alarm message')}`,
  );
  const width = Math.max(0, ...result.alarms.map((a) => `${a.type} ${a.state}`.length));
  for (const a of result.alarms) {
    lines.push(
      `  ${formatLocal(a.atMs, tz)}  ${`${a.type} ${a.state}`.padEnd(width)}  ${a.deviceId ?? '-'}  ${a.severity}`,
    );
  }
  if (options.check && result.comparison) {
    const { comparison } = result;
    if (comparison.ok) {
      lines.push(
        `PASS: exactly the ${plural(comparison.matched.length, 'expected alarm message')}, each in its window` +
          (comparison.ignored.length ? ` (${comparison.ignored.length} of ignored types not judged)` : ''),
      );
    } else {
      lines.push(`FAIL: ${plural(comparison.differences.length, 'difference')} from the scenario:`);
      for (const line of formatDifferences(comparison, tz)) lines.push(`  ${line}`);
    }
  }
  return lines;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
