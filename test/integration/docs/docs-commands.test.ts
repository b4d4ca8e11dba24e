import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { cloudConfigSchema } from '../../../cloud/config/schema.js';
import { REPO_ROOT } from '../../../tools/child-processes.js';

/**
 * The audience docs say only what the programs do: every `npm run gateway -- <cmd>`,
 * `homebed-gateway <cmd>`, `npm run cloud -- <cmd> <sub>`, `homebed-cloud …`, `npm run sim -- <cmd>`
 * and `homebed-sim <cmd>` in their code spans and blocks is a command of that program's `--help`, and
 * so is every `--flag` after it on that line; every relative link points at a file that exists (and,
 * for a Markdown file, at a heading that exists when it names one).
 */

const DOCS = [
  'README.md',
  'docs/install-home.md',
  'docs/install-home.zh-CN.md',
  'docs/monitoring-centre.md',
  'docs/operations.md',
];

/**
 * Files other tools write, linked before they exist in a fresh checkout: path → the file that writes
 * it (which must name it). `npm run bench` renders docs/benchmarks.md from bench/results/.
 */
const GENERATED: Record<string, string> = { 'docs/benchmarks.md': 'bench/lib/results.ts' };

type Program = 'gateway' | 'cloud' | 'sim';
const CLI: Record<Program, string> = {
  gateway: 'gateway/cli.ts',
  cloud: 'cloud/cli.ts',
  sim: 'firmware-sim/cli.ts',
};

/** How a program is named in a doc: `npm run <program> --` or its installed binary. */
const INVOCATION =
  /(?<![\w/.-])(?:npm run (gateway|cloud|sim) --|homebed-(gateway|cloud|sim))(?![\w.@/-])(.*)$/;

interface Invocation {
  program: Program;
  /** The words after the program: command, subcommand, arguments, flags (quoted strings removed). */
  words: string[];
  line: string;
}

interface Help {
  /** Each entry of the commands list as its leading words: `['gateway', 'add']`, `['probe']`. */
  commands: string[][];
  flags: Set<string>;
}

/** The code of a Markdown file: fenced blocks (continuation lines joined) and inline code spans. */
function codeLines(markdown: string): string[] {
  const lines: string[] = [];
  const prose: string[] = [];
  let fence: string | null = null;
  let block: string[] = [];
  for (const line of markdown.split('\n')) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === null && marker) {
      fence = marker;
      block = [];
    } else if (fence !== null && marker && line.trim().startsWith(fence)) {
      lines.push(
        ...block
          .join('\n')
          .replace(/\\\n\s*/g, ' ')
          .split('\n'),
      );
      fence = null;
    } else if (fence !== null) {
      block.push(line);
    } else {
      prose.push(line);
    }
  }
  // Inline spans may wrap onto the next line of a paragraph.
  for (const span of prose.join('\n').matchAll(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g)) {
    lines.push((span[2] ?? '').replace(/\s*\n\s*/g, ' '));
  }
  return lines;
}

/** Every program invocation on a line of code. */
function invocations(line: string): Invocation[] {
  const found: Invocation[] = [];
  let rest = line;
  for (;;) {
    const m = INVOCATION.exec(rest);
    if (!m) return found;
    const before = rest.slice(0, m.index);
    const program = (m[1] ?? m[2]) as Program;
    const tail = m[3] ?? '';
    rest = tail;
    // `systemctl stop homebed-gateway`, `journalctl -u homebed-cloud`: a unit, not a command.
    if (/\b(systemctl|journalctl)\b|-u\s*$/.test(before)) continue;
    const words = tail
      .replace(/"[^"]*"/g, ' "" ')
      .replace(/<[^<>\s]*>/g, '<…>') // placeholders, so that their `>` is no redirection
      .split(/'|\||;|&|#|\)|`|(?<!<…)>/)[0]!
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    found.push({ program, words, line });
  }
}

/** The commands and flags a `--help` text lists. */
function parseHelp(text: string): Help {
  const commands: string[][] = [];
  let inCommands = false;
  for (const line of text.split('\n')) {
    if (/^commands:\s*$/i.test(line)) {
      inCommands = true;
      continue;
    }
    if (/^\S/.test(line)) inCommands = false;
    if (!inCommands || !/^ {2}\S/.test(line)) continue;
    const head = line.trim().split(/ {2,}/)[0]!;
    const words: string[] = [];
    for (const word of head.split(/\s+/)) {
      if (!/^[a-z][a-z0-9-]*$/.test(word)) break;
      words.push(word);
    }
    if (words.length) commands.push(words);
  }
  const flags = new Set([...text.matchAll(/--[a-z][a-z0-9-]*[a-z0-9]/g)].map((m) => m[0]));
  return { commands, flags };
}

/** What is wrong with one invocation, or [] (placeholders such as `<command>` and `…` are skipped). */
function invocationProblems(inv: Invocation, help: Help, program: Program): string[] {
  const [command, sub] = inv.words;
  const problems: string[] = [];
  const name = `${program} ${inv.words.slice(0, 2).join(' ')}`;
  if (command && /^[a-z]/.test(command) && /^[\w-]+$/.test(command)) {
    const entries = help.commands.filter((c) => c[0] === command);
    if (entries.length === 0) {
      problems.push(`"${command}" is not a command of ${program} --help (in: ${inv.line.trim()})`);
    } else if (program === 'cloud') {
      const subs = entries.map((c) => c[1]).filter((s): s is string => s !== undefined);
      if (subs.length && !(sub && /^[<…$]/.test(sub)) && !subs.includes(sub ?? '')) {
        problems.push(
          `"${name}": ${program} --help lists ${command} ${subs.join('|')} (in: ${inv.line.trim()})`,
        );
      }
    }
  }
  for (const word of inv.words) {
    const flag = /^--[a-z][a-z0-9-]*/.exec(word)?.[0];
    if (flag && !help.flags.has(flag)) {
      problems.push(`${flag} is not in ${program} --help (in: ${inv.line.trim()})`);
    }
  }
  return problems;
}

/** GitHub's anchor of a heading. */
function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a Markdown file's headings (repeats get -1, -2, … as on GitHub). */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(`{3,}|~{3,})/.test(line)) inFence = !inFence;
    const m = inFence ? null : /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** The targets of the Markdown links outside code. */
function linkTargets(markdown: string): string[] {
  const prose = markdown
    .replace(/^\s*(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\s*\1[^\n]*$/gm, '')
    .replace(/(`+)[\s\S]*?\1/g, '');
  return [...prose.matchAll(/\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
}

/** What is wrong with a link of `doc` (a repository path), or null. */
function linkProblem(doc: string, target: string, root: string = REPO_ROOT): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return null; // https:, mailto:, …
  const [path = '', anchor] = target.split('#', 2);
  const file = path === '' ? join(root, doc) : resolve(dirname(join(root, doc)), decodeURI(path));
  const inRepo = relative(root, file);
  if (inRepo.startsWith('..')) return `${doc}: ${target} leaves the repository`;
  if (!existsSync(file)) {
    const writer = GENERATED[inRepo];
    if (
      writer &&
      existsSync(join(root, writer)) &&
      readFileSync(join(root, writer), 'utf8').includes(inRepo.split('/').pop()!)
    ) {
      return null; // written by its generator; anchors cannot be checked until then
    }
    return `${doc}: ${target} does not exist`;
  }
  if (anchor && statSync(file).isFile() && file.endsWith('.md')) {
    const wanted = decodeURIComponent(anchor);
    if (!anchors(readFileSync(file, 'utf8')).has(wanted)) return `${doc}: ${target}: no heading #${wanted}`;
  }
  return null;
}

const run = promisify(execFile);
const help = {} as Record<Program, Help>;

beforeAll(async () => {
  const tsx = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
  await Promise.all(
    (Object.keys(CLI) as Program[]).map(async (program) => {
      const { stdout } = await run(process.execPath, [tsx, CLI[program], '--help'], { cwd: REPO_ROOT });
      help[program] = parseHelp(stdout);
    }),
  );
});

describe('the help texts this test reads', () => {
  it('list the commands and flags the docs rely on', () => {
    expect(help.gateway.commands.map((c) => c[0])).toEqual(
      expect.arrayContaining(['run', 'check-config', 'decode', 'probe', 'init', 'test', 'status']),
    );
    expect(help.cloud.commands).toEqual(
      expect.arrayContaining([
        ['gateway', 'rotate'],
        ['bed', 'link-gateway'],
      ]),
    );
    expect(help.sim.commands.map((c) => c[0])).toEqual(expect.arrayContaining(['run', 'press', 'scenario']));
    expect(help.gateway.flags).toContain('--device-timeout-s');
  });
});

describe.each(DOCS)('%s', (doc) => {
  const markdown = readFileSync(join(REPO_ROOT, doc), 'utf8');

  it('names only commands and flags the programs have', () => {
    const found = codeLines(markdown).flatMap(invocations);
    // The install and operations pages are mostly commands; an extractor that finds none is broken.
    expect(found.length).toBeGreaterThan(doc === 'docs/monitoring-centre.md' ? 5 : 10);
    const problems = found.flatMap((inv) => invocationProblems(inv, help[inv.program], inv.program));
    expect(problems).toEqual([]);
  });

  it('links only to files (and headings) that exist', () => {
    const targets = linkTargets(markdown);
    expect(targets.length).toBeGreaterThan(0);
    expect(targets.map((t) => linkProblem(doc, t)).filter((p) => p !== null)).toEqual([]);
  });
});

/** docs/operations.md's "Known limits" say what the programs do today; when one is lifted, so is its note. */
describe('the known limits docs/operations.md states', () => {
  const operations = readFileSync(join(REPO_ROOT, 'docs/operations.md'), 'utf8');

  it.runIf(operations.includes('`HOMEBED_GATEWAY__INFLUX__VERSION=2` is refused'))(
    'HOMEBED_GATEWAY__INFLUX__VERSION=2 is refused by check-config',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'homebed-docs-'));
      try {
        const file = join(dir, 'gateway.yaml');
        writeFileSync(file, 'gatewayId: gw-doc\nbedId: bed-doc\ncloud: { secret: docs-check-secret }\n');
        const tsx = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
        const env = {
          ...process.env,
          HOMEBED_GATEWAY__INFLUX__VERSION: '2',
          HOMEBED_GATEWAY__INFLUX__ORG: 'homebed',
          HOMEBED_GATEWAY__INFLUX__BUCKET: 'homebed',
        };
        const outcome = await run(process.execPath, [tsx, CLI.gateway, 'check-config', '--config', file], {
          cwd: REPO_ROOT,
          env,
        }).then(
          () => ({ code: 0, stderr: '' }),
          (err: { code?: number; stderr?: string }) => ({ code: err.code, stderr: err.stderr ?? '' }),
        );
        expect(outcome.code).toBe(2);
        expect(outcome.stderr).toContain('influx.version');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it.runIf(operations.includes("relay's `influx` has only `url` and `database`"))(
    "the relay's influx takes no credentials",
    () => {
      const parsed = cloudConfigSchema.parse({
        influx: {
          url: 'http://127.0.0.1:8086',
          database: 'homebed',
          username: 'u',
          password: 'p',
          token: 't',
        },
      });
      expect(Object.keys(parsed.influx ?? {}).sort()).toEqual(['database', 'url']);
    },
  );
});

describe('the checks themselves', () => {
  const fakeHelp = parseHelp(
    'x\n\ncommands:\n  run             start\n  gateway add <id> [--bed BED]   provision\n  gateway list    list\n\noptions:\n  --config <file>\n',
  );

  it('catch an unknown command, subcommand or flag', () => {
    const check = (line: string) =>
      invocations(line).flatMap((inv) => invocationProblems(inv, fakeHelp, inv.program));
    expect(check('npm run cloud -- run --config x')).toEqual([]);
    expect(check('homebed-cloud gateway add gw-1 --bed b-1   # prints the secret')).toEqual([]);
    expect(check('npm run cloud -- frobnicate')).toHaveLength(1);
    expect(check('homebed-cloud gateway remove gw-1')).toHaveLength(1);
    expect(check('npm run cloud -- run --colour')).toHaveLength(1);
    expect(check('npm run cloud -- gateway add <id> --colour >/dev/null')).toHaveLength(1);
    expect(check('echo "$(npm run cloud -- gateway list)" > out.txt')).toEqual([]);
    expect(check('sudo systemctl stop homebed-cloud homebed-other.timer')).toEqual([]);
    expect(check('/usr/local/bin/homebed-cloud frobnicate; homebed-cloud.service')).toEqual([]);
  });

  it('catch a missing file or heading', () => {
    expect(linkProblem('docs/operations.md', 'no-such-page.md')).toMatch(/does not exist/);
    expect(linkProblem('docs/operations.md', 'metrics.md#no-such-heading')).toMatch(/no heading/);
    expect(linkProblem('docs/operations.md', 'metrics.md#get-status')).toBeNull();
    expect(slug('6. The commissioning walk: `homebed-gateway test`')).toBe(
      '6-the-commissioning-walk-homebed-gateway-test',
    );
    expect(slug('## 7. 检查运行中的家庭：`homebed-gateway status`'.slice(3))).toBe(
      '7-检查运行中的家庭homebed-gateway-status',
    );
  });
});
