/**
 * `npm run chaos`: real programs (simulator, gateway, cloud relay, Mosquitto,
 * InfluxDB) as separate processes, each case disturbing one of them, and one
 * line per case with what was sent, stored and lost. Exits 1 on any loss
 * beyond the documented bound (docs/delivery.md).
 *
 * Options: --quick (the shorter profile `npm test` uses), --case <name>
 * (repeatable), --seed <n>, --verbose (every program's log), --keep (keep
 * the data folders), --json <file> (write the results).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type CaseResult, CHAOS_CASES, formatResult } from './chaos/cases.js';
import { FULL_PROFILE, QUICK_PROFILE } from './chaos/profile.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    case: { type: 'string', multiple: true },
    seed: { type: 'string' },
    verbose: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    json: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

const say = (line: string) => process.stdout.write(`${line}\n`);

if (values.help) {
  say('usage: npm run chaos -- [--quick] [--case NAME]... [--seed N] [--verbose] [--keep] [--json FILE]');
  for (const c of CHAOS_CASES) say(`  ${c.name.padEnd(15)} ${c.what}`);
  process.exit(0);
}

const unknown = (values.case ?? []).filter((name) => !CHAOS_CASES.some((c) => c.name === name));
if (unknown.length) {
  say(`unknown case ${unknown.join(', ')}; cases: ${CHAOS_CASES.map((c) => c.name).join(', ')}`);
  process.exit(2);
}
const cases = values.case ? CHAOS_CASES.filter((c) => values.case?.includes(c.name)) : CHAOS_CASES;
const profile = values.quick ? QUICK_PROFILE : FULL_PROFILE;
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const root = mkdtempSync(join(tmpdir(), 'homebed-chaos-'));

say(`chaos run: ${values.quick ? 'quick' : 'full'} profile, seed ${seed} (repeat with --seed ${seed})`);
const results: CaseResult[] = [];
const started = Date.now();
for (const c of cases) {
  say(`- ${c.name}: ${c.what}`);
  try {
    const result = await c.run({
      dir: join(root, c.name),
      profile,
      seed,
      say,
      onLine: values.verbose ? (program, line) => say(`    [${program}] ${line}`) : undefined,
    });
    results.push(result);
    for (const note of result.notes) say(`    ${note}`);
  } catch (err) {
    results.push({
      name: c.name,
      sent: 0,
      stored: 0,
      lost: 0,
      extra: 0,
      ok: false,
      notes: [`the case could not run: ${(err as Error).message}`],
      durationMs: 0,
    });
    say(`    the case could not run: ${(err as Error).stack ?? err}`);
  }
}

say('');
for (const r of results) say(formatResult(r));
const failed = results.filter((r) => !r.ok);
say(
  `${failed.length ? `${failed.length} of ${results.length} cases FAILED` : `all ${results.length} cases: lost 0`} in ${((Date.now() - started) / 1000).toFixed(0)} s`,
);
if (values.json) writeFileSync(values.json, `${JSON.stringify({ seed, profile, results }, null, 2)}\n`);
if (values.keep) say(`data kept in ${root}`);
else rmSync(root, { recursive: true, force: true });
process.exit(failed.length ? 1 : 0);
