/**
 * Static checks of the Dockerfile and .dockerignore: a parser for the instructions and functions from
 * the parsed file to a list of problems (compose.test.ts runs them on the real file and on broken copies).
 */

export interface Instruction {
  keyword: string;
  args: string;
  /** Index of the stage (FROM) the instruction belongs to. */
  stage: number;
}

export interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Instructions with line continuations joined and comments (and parser directives) left out. */
export function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (!pending && (line.trim().startsWith('#') || !line.trim())) continue;
    if (pending && line.trim().startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  if (pending) logical.push(pending);
  const stages: Stage[] = [];
  for (const line of logical) {
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(line);
    if (!m) continue;
    const keyword = m[1]!.toUpperCase();
    const args = m[2]!.replace(/\s+/g, ' ').trim();
    if (keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ image: from?.[1] ?? args, name: from?.[2], instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (stage) stage.instructions.push({ keyword, args, stage: stages.length - 1 });
  }
  return stages;
}

/** A JSON-array (exec form) argument: `["a", "b"]` → ['a', 'b']; shell form → undefined. */
function execForm(args: string): string[] | undefined {
  try {
    const parsed: unknown = JSON.parse(args);
    return Array.isArray(parsed) ? parsed.map(String) : undefined;
  } catch {
    return undefined;
  }
}

function runs(stage: Stage): string[] {
  return stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
}

/** `COPY --from=<stage> <src>… <dst>`: the stage name and sources. */
function copies(stage: Stage): { from: string | undefined; sources: string[]; dest: string }[] {
  return stage.instructions
    .filter((i) => i.keyword === 'COPY')
    .map((i) => {
      const words = i.args.split(' ');
      const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
      const paths = words.filter((w) => !w.startsWith('--'));
      return { from, sources: paths.slice(0, -1), dest: paths.at(-1) ?? '' };
    });
}

export interface DockerfileExpectations {
  /** package.json `bin`. */
  bins: Record<string, string>;
  /** tsconfig.build.json `include`: the source folders the build needs. */
  buildInputs: readonly string[];
}

/**
 * Multi-stage: every base image pinned; a build stage that runs `npm ci` and `npm run build`; a final
 * slim Node 20 stage that installs no dev dependencies itself, takes dist/ from the build and its
 * node_modules from a stage that dropped the dev dependencies, runs as a non-root user, and installs
 * exactly package.json's bin names as commands, one of which is its default command.
 */
export function dockerfileProblems(stages: Stage[], expect: DockerfileExpectations): string[] {
  const problems: string[] = [];
  if (stages.length < 2)
    problems.push(`${stages.length} stage(s): build and runtime should be separate stages`);
  const named = new Map(stages.map((s) => [s.name, s] as const));
  for (const s of stages) {
    if (named.has(s.image)) continue; // FROM an earlier stage
    const tag = /^[^:@]+(?::\d+\/[^:@]+)?:([^@]+)/.exec(s.image)?.[1];
    if (!s.image.includes('@sha256:') && (!tag || tag === 'latest' || !/\d/.test(tag))) {
      problems.push(`FROM ${s.image}: not pinned to a version`);
    }
  }
  const final = stages.at(-1);
  if (!final) return [...problems, 'no FROM'];
  if (!/^node:20(\.\d+){0,2}-(?:[a-z]+-)?slim$/.test(final.image)) {
    problems.push(`final stage FROM ${final.image}: should be a slim Node 20 image`);
  }
  const builders = stages.filter((s) => s !== final && runs(s).some((r) => /\bnpm run build\b/.test(r)));
  if (!builders.length) problems.push('no build stage runs `npm run build`');
  for (const b of builders) {
    if (!runs(b).some((r) => /\bnpm ci\b/.test(r)))
      problems.push(`stage ${b.name}: builds without \`npm ci\``);
  }
  if (runs(final).some((r) => /\bnpm (ci|install|i)\b(?!.*--omit=dev)/.test(r))) {
    problems.push('final stage installs packages with their dev dependencies');
  }
  const finalCopies = copies(final);
  const distFrom = finalCopies.find((c) => c.sources.some((src) => /(^|\/)dist\/?$/.test(src)))?.from;
  if (!distFrom || !builders.some((b) => b.name === distFrom)) {
    problems.push('final stage does not take dist/ from the build stage');
  }
  const modulesFrom = finalCopies.find((c) =>
    c.sources.some((src) => /(^|\/)node_modules\/?$/.test(src)),
  )?.from;
  const modulesStage = modulesFrom ? named.get(modulesFrom) : undefined;
  if (!modulesStage || !runs(modulesStage).some((r) => /npm (prune|ci)\b.*--omit=dev/.test(r))) {
    problems.push('final stage node_modules do not come from a stage that dropped the dev dependencies');
  }
  // The build stage copies every folder tsconfig.build.json compiles.
  const builderSources = new Set(
    builders.flatMap((b) =>
      copies(b)
        .filter((c) => !c.from)
        .flatMap((c) => c.sources.map((s) => s.replace(/\/$/, ''))),
    ),
  );
  for (const input of expect.buildInputs) {
    if (!builderSources.has(input))
      problems.push(`the build stage does not COPY ${input} (tsconfig.build.json)`);
  }
  const users = final.instructions.filter((i) => i.keyword === 'USER');
  const user = users.at(-1)?.args.split(':')[0];
  if (!user || user === 'root' || user === '0')
    problems.push(`final stage runs as ${user ?? 'root'}: add a USER`);
  const lastUser = final.instructions.lastIndexOf(users.at(-1)!);
  if (users.length && final.instructions.slice(lastUser + 1).some((i) => i.keyword === 'USER')) {
    problems.push('USER changes again after the last USER');
  }
  // The bin wrappers: `name:script` pairs in the final stage.
  const wrappers = new Map<string, string>();
  for (const r of runs(final)) {
    if (!r.includes('/usr/local/bin/')) continue;
    for (const m of r.matchAll(/\b(homebed-[a-z0-9-]+):(dist\/\S+?\.js)\b/g)) wrappers.set(m[1]!, m[2]!);
  }
  for (const [name, script] of Object.entries(expect.bins)) {
    if (wrappers.get(name) !== script) {
      problems.push(
        `bin ${name} (${script}) is not installed as a command (got ${wrappers.get(name) ?? 'nothing'})`,
      );
    }
  }
  for (const name of wrappers.keys()) {
    if (!Object.hasOwn(expect.bins, name)) problems.push(`command ${name} is not a bin of package.json`);
  }
  const cmd = final.instructions.filter((i) => i.keyword === 'CMD').at(-1);
  const cmdWords = cmd ? execForm(cmd.args) : undefined;
  if (!cmdWords || !Object.hasOwn(expect.bins, cmdWords[0] ?? '')) {
    problems.push(
      `CMD ${cmd?.args ?? '(none)'}: should run one of ${Object.keys(expect.bins).join(', ')} (exec form)`,
    );
  }
  const entrypoint = final.instructions.filter((i) => i.keyword === 'ENTRYPOINT').at(-1);
  const entryWords = entrypoint ? execForm(entrypoint.args) : undefined;
  if (!entryWords?.[0]?.endsWith('tini')) {
    problems.push('ENTRYPOINT should be an init (tini) that forwards signals and reaps children');
  }
  return problems;
}

/** A .dockerignore pattern as a RegExp (`*` within a path segment, `**` across). */
function ignoreRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/^\/+|\/+$/g, '')
    .split('')
    .map((c, i, all) => {
      if (c === '*') return all[i + 1] === '*' ? '' : all[i - 1] === '*' ? '.*' : '[^/]*';
      return /[.+?^${}()|[\]\\]/.test(c) ? `\\${c}` : c;
    })
    .join('');
  return new RegExp(`^${body}(/.*)?$`);
}

export function isIgnored(dockerignore: string, path: string): boolean {
  let ignored = false;
  for (const raw of dockerignore.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (ignoreRegExp(negate ? line.slice(1) : line).test(path)) ignored = !negate;
  }
  return ignored;
}

/**
 * The build context keeps out secrets, local state and host build output, and lets in everything the
 * Dockerfile copies from it.
 */
export function dockerignoreProblems(dockerignore: string, stages: Stage[]): string[] {
  const problems: string[] = [];
  for (const path of ['.git', '.env', '.env.local', 'node_modules', 'dist', 'var']) {
    if (!isIgnored(dockerignore, path)) problems.push(`.dockerignore lets ${path} into the build context`);
  }
  for (const stage of stages) {
    for (const c of copies(stage)) {
      if (c.from) continue;
      for (const src of c.sources) {
        if (isIgnored(dockerignore, src.replace(/^\.\/|\/$/g, ''))) {
          problems.push(`COPY ${src}: excluded by .dockerignore`);
        }
      }
    }
  }
  return problems;
}
