import { readdirSync } from 'node:fs';
import { posix } from 'node:path';
import YAML from 'yaml';
import {
  at,
  isProgramName,
  PROGRAMS,
  type ProgramName,
  parseEnvFile,
  readRepoFile,
  repoFileExists,
  repoPath,
  resolveProgramConfig,
  SECRET_KEY,
  urlHost,
} from './deploy-files.js';

/**
 * Static checks of docker-compose.yml (and the files it mounts), each a function from the parsed
 * deployment to a list of problems: compose.test.ts runs them on the real files (no problems) and on
 * broken copies (the problem is found), so no check passes by construction.
 */

export type Service = Record<string, unknown>;
export interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  [key: string]: unknown;
}

/** What compose interpolation needs: the variables of `.env` (here `.env.example`). */
export interface Deployment {
  /** docker-compose.yml as written (`${VAR}` references not replaced). */
  raw: Compose;
  /** docker-compose.yml with the variables of .env.example interpolated, as compose would run it. */
  compose: Compose;
  env: { values: Record<string, string>; commented: Set<string> };
}

// ---- interpolation ----------------------------------------------------------------------------------

/** `$$`, `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?error}`, `${NAME?error}`, `$NAME`. */
const VAR_REF = /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

export interface VarRef {
  name: string;
  /** '' (plain), ':-' or '-' (default), ':?' or '?' (required). */
  op: string;
  arg: string;
}

export function varRefs(text: string): VarRef[] {
  const refs: VarRef[] = [];
  for (const m of text.matchAll(VAR_REF)) {
    if (m[1]) continue;
    refs.push({ name: (m[2] ?? m[5])!, op: m[3] ?? '', arg: m[4] ?? '' });
  }
  return refs;
}

export function interpolate(text: string, vars: Record<string, string>): string {
  return text.replace(VAR_REF, (_m, dollar, braced, op, arg, bare) => {
    if (dollar) return '$';
    const name = (braced ?? bare) as string;
    const value = vars[name];
    switch (op) {
      case ':-':
        return value ? value : (arg as string);
      case '-':
        return value ?? (arg as string);
      case ':?':
      case '?':
        if (value === undefined || (op === ':?' && value === '')) {
          throw new Error(`${name} is required: ${arg as string}`);
        }
        return value;
      default:
        return value ?? '';
    }
  });
}

function mapStrings(value: unknown, fn: (s: string) => string): unknown {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn)]));
  }
  return value;
}

function allStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(allStrings);
  return [];
}

export function loadDeployment(
  composeText = readRepoFile('docker-compose.yml'),
  envText = readRepoFile('.env.example'),
): Deployment {
  const raw = YAML.parse(composeText, { merge: true }) as Compose;
  const env = parseEnvFile(envText);
  const compose = mapStrings(raw, (s) => interpolate(s, env.values)) as Compose;
  return { raw, compose, env };
}

/** A deep copy of a deployment to break for a check's own test. */
export function cloneDeployment(d: Deployment): Deployment {
  return {
    raw: structuredClone(d.raw),
    compose: structuredClone(d.compose),
    env: { values: { ...d.env.values }, commented: new Set(d.env.commented) },
  };
}

// ---- reading services -------------------------------------------------------------------------------

export function environmentOf(service: Service): Record<string, string> {
  const env = service.environment;
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry: string) => {
        const i = entry.indexOf('=');
        return i < 0 ? [entry, ''] : [entry.slice(0, i), entry.slice(i + 1)];
      }),
    );
  }
  if (env && typeof env === 'object') {
    return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
  }
  return {};
}

export interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
  /** A path of the repository (`./…`), or a named volume. */
  kind: 'bind' | 'volume';
}

export function mountsOf(service: Service): Mount[] {
  const volumes = (service.volumes ?? []) as (string | Record<string, unknown>)[];
  return volumes.map((v) => {
    if (typeof v === 'string') {
      const [source = '', target = '', mode = ''] = v.split(':');
      const kind = source.startsWith('.') || source.startsWith('/') ? 'bind' : 'volume';
      return { source, target, readOnly: mode.split(',').includes('ro'), kind };
    }
    const kind = v.type === 'volume' ? 'volume' : 'bind';
    return { source: String(v.source), target: String(v.target), readOnly: v.read_only === true, kind };
  });
}

/** The repo file mounted at `containerPath` in `service` (directly or inside a mounted folder). */
export function repoSourceOf(service: Service, containerPath: string): string | undefined {
  for (const m of mountsOf(service)) {
    if (m.kind !== 'bind' || !m.source.startsWith('./')) continue;
    if (containerPath === m.target) return posix.normalize(m.source);
    if (containerPath.startsWith(`${m.target}/`)) {
      return posix.normalize(posix.join(m.source, containerPath.slice(m.target.length + 1)));
    }
  }
  return undefined;
}

function commandOf(service: Service): string[] {
  const c = service.command;
  if (Array.isArray(c)) return c.map(String);
  if (typeof c === 'string') return c.split(/\s+/).filter(Boolean);
  return [];
}

export interface ProgramRun {
  program: ProgramName;
  /** `--config` path inside the container. */
  configPath: string;
  /** Where the run was found: the command, or the mounted script it runs. */
  foundIn: string;
  /** `<program> run …` (the long-running program), not a one-off CLI command. */
  isRun: boolean;
}

/**
 * The homebed programs a service runs and their `--config`: from its command, or, when the command
 * runs a mounted shell script, from the script's lines (`homebed-sim run --config /etc/homebed/sim.yaml`).
 */
export function programRuns(service: Service): ProgramRun[] {
  const command = commandOf(service);
  const texts: { text: string; foundIn: string }[] = [{ text: command.join(' '), foundIn: 'command' }];
  const [first, script] = command;
  if (first && /(^|\/)(ba)?sh$/.test(first) && script) {
    const source = repoSourceOf(service, script);
    if (source && repoFileExists(source)) texts.push({ text: readRepoFile(source), foundIn: source });
  }
  const runs: ProgramRun[] = [];
  for (const { text, foundIn } of texts) {
    for (const line of text.split('\n')) {
      if (line.trim().startsWith('#')) continue;
      const m = /\b(homebed-(?:gateway|cloud|sim))\b.*--config\s+(\S+)/.exec(line);
      if (m && isProgramName(m[1]!)) {
        runs.push({
          program: m[1],
          configPath: m[2]!,
          foundIn,
          isRun: new RegExp(`${m[1]}\\s+run\\b`).test(line),
        });
      }
    }
  }
  return runs;
}

function isOneShot(service: Service): boolean {
  const restart = String(service.restart ?? 'no');
  return restart === 'no' || restart.startsWith('on-failure');
}

function hasHealthcheck(service: Service): boolean {
  const hc = service.healthcheck as { test?: unknown; disable?: boolean } | undefined;
  if (!hc || hc.disable) return false;
  const test = Array.isArray(hc.test) ? hc.test : [hc.test];
  return test.length > 0 && test[0] !== 'NONE' && test[0] !== undefined;
}

function dependsOn(service: Service): Record<string, string> {
  const d = service.depends_on;
  if (Array.isArray(d)) return Object.fromEntries(d.map((name: string) => [name, 'service_started']));
  if (d && typeof d === 'object') {
    return Object.fromEntries(
      Object.entries(d as Record<string, { condition?: string }>).map(([name, v]) => [
        name,
        v?.condition ?? 'service_started',
      ]),
    );
  }
  return {};
}

// ---- checks -----------------------------------------------------------------------------------------

/** Every image carries a version tag (not `latest`); the image built here is tagged with package.json's version. */
export function unpinnedImages(compose: Compose, version: string): string[] {
  const problems: string[] = [];
  for (const [name, service] of Object.entries(compose.services)) {
    const image = service.image;
    if (typeof image !== 'string') {
      problems.push(`${name}: no image: name the image (and its version) even when it is built`);
      continue;
    }
    const m =
      /^(?<repo>[^:@]+(?::\d+\/[^:@]+)?)(?::(?<tag>[^@]+))?(?:@(?<digest>sha256:[0-9a-f]{64}))?$/.exec(image);
    const tag = m?.groups?.tag;
    if (!m?.groups?.digest && (!tag || tag === 'latest' || !/\d/.test(tag))) {
      problems.push(`${name}: image ${image} is not pinned to a version`);
    }
    if (service.build !== undefined && tag !== version) {
      problems.push(`${name}: built image ${image} should be tagged with package.json's version ${version}`);
    }
  }
  return problems;
}

/**
 * Long-running services (restart always/unless-stopped) have a health check; one-shot services
 * (restart no/on-failure) wait for something; every dependency waits for health (or for a one-shot
 * service to have succeeded), never just for a start.
 */
export function healthProblems(compose: Compose): string[] {
  const problems: string[] = [];
  for (const [name, service] of Object.entries(compose.services)) {
    if (service.restart === undefined) problems.push(`${name}: no restart policy`);
    if (!isOneShot(service) && !hasHealthcheck(service)) {
      problems.push(`${name}: long-running service without a healthcheck`);
    }
    const deps = dependsOn(service);
    if (isOneShot(service) && Object.keys(deps).length === 0) {
      problems.push(`${name}: one-shot service that waits for nothing`);
    }
    for (const [dep, condition] of Object.entries(deps)) {
      const target = compose.services[dep];
      if (!target) {
        problems.push(`${name}: depends on unknown service ${dep}`);
      } else if (condition === 'service_healthy') {
        if (!hasHealthcheck(target))
          problems.push(`${name}: waits for ${dep} to be healthy; it has no healthcheck`);
      } else if (condition === 'service_completed_successfully') {
        if (!isOneShot(target)) problems.push(`${name}: waits for ${dep} to complete; it never does`);
      } else {
        problems.push(`${name}: depends on ${dep} with ${condition}: wait for service_healthy`);
      }
    }
  }
  return problems;
}

export interface ServiceConfigs {
  service: string;
  run: ProgramRun;
  source: string | undefined;
  config: Record<string, unknown> | undefined;
  problems: string[];
}

/** Every program run of every service, its config file + the service's environment, resolved. */
export function serviceConfigs(compose: Compose): ServiceConfigs[] {
  const out: ServiceConfigs[] = [];
  for (const [name, service] of Object.entries(compose.services)) {
    const env = environmentOf(service);
    for (const run of programRuns(service)) {
      const source = repoSourceOf(service, run.configPath);
      if (!source) {
        out.push({
          service: name,
          run,
          source,
          config: undefined,
          problems: [
            `${name}: ${run.program} --config ${run.configPath} is not a file mounted from the repo`,
          ],
        });
        continue;
      }
      const resolved = resolveProgramConfig(run.program, source, env);
      out.push({
        service: name,
        run,
        source,
        config: resolved.config,
        problems: resolved.problems.map((p) => `${name}: ${p}`),
      });
    }
  }
  return out;
}

/**
 * Each program's config file with the service's HOMEBED_* environment applied validates against its
 * schema with no key ignored, and every HOMEBED_<PROGRAM>__ variable belongs to a program the service runs.
 */
export function configProblems(compose: Compose): string[] {
  const resolved = serviceConfigs(compose);
  const problems = resolved.flatMap((r) => r.problems);
  for (const [name, service] of Object.entries(compose.services)) {
    const prefixes = new Set(
      resolved.filter((r) => r.service === name).map((r) => `${PROGRAMS[r.run.program].envPrefix}__`),
    );
    for (const key of Object.keys(environmentOf(service))) {
      const program = Object.values(PROGRAMS).find((p) => key.startsWith(`${p.envPrefix}__`));
      if (program && !prefixes.has(`${program.envPrefix}__`)) {
        problems.push(`${name}: ${key} is for a program this service does not run`);
      }
    }
  }
  return problems;
}

/** The hosts a resolved program config connects to (a one-off CLI command of the relay: only its store). */
function configHosts(run: ProgramRun, config: Record<string, unknown>): string[] {
  const urls: Record<ProgramName, string[]> = {
    'homebed-gateway': ['cloud.url', 'influx.url'],
    'homebed-cloud': run.isRun
      ? ['mqtt.external.url', 'store.postgres.url', 'influx.url']
      : ['store.postgres.url'],
    'homebed-sim': ['mqtt.url'],
  };
  return urls[run.program]
    .map((path) => urlHost(at(config, path)))
    .filter((h): h is string => h !== undefined);
}

function grafanaDatasourceHosts(service: Service): string[] {
  const source = repoSourceOf(service, '/etc/grafana/provisioning/datasources');
  if (!source) return [];
  return grafanaDatasources(service).flatMap((ds) => urlHost(ds.url) ?? []);
}

/**
 * A service that connects to another service (a host in its config: broker, database, InfluxDB) waits
 * for it to be healthy; a host that is neither a service nor the container itself is a typo.
 */
export function connectionProblems(compose: Compose): string[] {
  const problems: string[] = [];
  const hostsByService = new Map<string, Set<string>>();
  for (const r of serviceConfigs(compose)) {
    if (!r.config) continue;
    const set = hostsByService.get(r.service) ?? new Set<string>();
    for (const h of configHosts(r.run, r.config)) set.add(h);
    hostsByService.set(r.service, set);
  }
  for (const [name, service] of Object.entries(compose.services)) {
    if (typeof service.image === 'string' && service.image.startsWith('grafana/')) {
      const set = hostsByService.get(name) ?? new Set<string>();
      for (const h of grafanaDatasourceHosts(service)) set.add(h);
      hostsByService.set(name, set);
    }
  }
  for (const [name, hosts] of hostsByService) {
    const deps = dependsOn(compose.services[name]!);
    for (const host of hosts) {
      if (host === '127.0.0.1' || host === 'localhost' || host === '::1') continue;
      if (!compose.services[host]) {
        problems.push(`${name}: connects to ${host}, which is not a service of this file`);
      } else if (deps[host] !== 'service_healthy') {
        problems.push(`${name}: connects to ${host} but does not wait for it to be healthy`);
      }
    }
  }
  return problems;
}

/** Services running `homebed-cloud run`, with their resolved configs. */
function relays(compose: Compose): { service: string; config: Record<string, unknown> }[] {
  return serviceConfigs(compose)
    .filter((r) => r.run.program === 'homebed-cloud' && r.run.isRun && r.config)
    .map((r) => ({ service: r.service, config: r.config! }));
}

/** The words after `name` on a line of a config file such as Mosquitto's (`use_username_as_clientid true`). */
function configDirective(text: string, name: string): string | undefined {
  for (const line of text.split('\n')) {
    const m = new RegExp(`^\\s*${name}\\s+(.+?)\\s*$`).exec(line);
    if (m) return m[1];
  }
  return undefined;
}

/** Mosquitto ACL: topics each `user` block may read/write, and the `pattern` lines for everyone. */
export function parseMosquittoAcl(text: string): {
  users: Map<string, { read: Set<string>; write: Set<string> }>;
  patterns: { read: Set<string>; write: Set<string> };
} {
  const users = new Map<string, { read: Set<string>; write: Set<string> }>();
  const patterns = { read: new Set<string>(), write: new Set<string>() };
  let current: { read: Set<string>; write: Set<string> } | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [word, ...rest] = line.split(/\s+/);
    if (word === 'user') {
      current = { read: new Set(), write: new Set() };
      users.set(rest.join(' '), current);
    } else if (word === 'topic' || word === 'pattern') {
      const [access, topic] = rest.length === 1 ? ['readwrite', rest[0]!] : [rest[0]!, rest[1]!];
      const target = word === 'pattern' ? patterns : current;
      if (!target) continue;
      if (access === 'read' || access === 'readwrite') target.read.add(topic);
      if (access === 'write' || access === 'readwrite') target.write.add(topic);
    }
  }
  return { users, patterns };
}

export interface BrokerContract {
  topicRoot: string;
  gatewayToCloud: readonly string[];
  cloudToGateway: readonly string[];
}

/**
 * The relays are the scale-out pair: at least two, one PostgreSQL store and one external broker and
 * share group between them, each its own client id, which is its broker user (Mosquitto runs with
 * use_username_as_clientid), a user the broker's entry point creates and the ACL lets read what
 * gateways send and write what relays send. The demo gateway is the one the broker and the store know.
 */
export function scaleOutProblems(compose: Compose, contract: BrokerContract): string[] {
  const problems: string[] = [];
  const found = relays(compose);
  if (found.length < 2) problems.push(`${found.length} relay service(s); scale-out needs at least two`);
  const same = (path: string, required = true) => {
    const values = new Set(found.map((r) => JSON.stringify(at(r.config, path))));
    if (values.size > 1) problems.push(`the relays differ in ${path}: ${[...values].join(' vs ')}`);
    if (required && found.length && at(found[0]!.config, path) === undefined) {
      problems.push(`the relays have no ${path}`);
    }
  };
  same('store.postgres.url');
  same('store.postgres.schema', false);
  same('mqtt.external.url');
  same('mqtt.external.shareGroup');
  const clientIds = found.map((r) => at(r.config, 'mqtt.external.clientId'));
  if (new Set(clientIds).size !== clientIds.length || clientIds.includes(undefined)) {
    problems.push(
      `the relays need distinct mqtt.external.clientId values (got ${JSON.stringify(clientIds)})`,
    );
  }

  const broker = found.length ? urlHost(at(found[0]!.config, 'mqtt.external.url')) : undefined;
  const brokerService = broker ? compose.services[broker] : undefined;
  if (!brokerService) return [...problems, `the relays' broker ${broker} is not a service`];
  const conf = repoSourceOf(brokerService, '/mosquitto/config/mosquitto.conf');
  const aclSource = repoSourceOf(brokerService, '/mosquitto/config/acl');
  if (!conf || !aclSource)
    return [...problems, `${broker}: mosquitto.conf and acl must be mounted from the repo`];
  const confText = readRepoFile(conf);
  if (configDirective(confText, 'use_username_as_clientid') !== 'true') {
    problems.push(`${conf}: use_username_as_clientid true (no client can take over another's session)`);
  }
  if (configDirective(confText, 'allow_anonymous') !== 'false')
    problems.push(`${conf}: allow_anonymous false`);
  const brokerEnv = environmentOf(brokerService);
  const brokerUsers = (brokerEnv.MQTT_RELAY_USERS ?? '').split(/\s+/).filter(Boolean);
  const acl = parseMosquittoAcl(readRepoFile(aclSource));
  for (const r of found) {
    const user = at(r.config, 'mqtt.external.username');
    const clientId = at(r.config, 'mqtt.external.clientId');
    if (user !== clientId)
      problems.push(`${r.service}: broker user ${user} must equal its client id ${clientId}`);
    if (typeof user !== 'string') continue;
    if (!brokerUsers.includes(user))
      problems.push(`${r.service}: user ${user} is not in ${broker}'s MQTT_RELAY_USERS`);
    const rights = acl.users.get(user);
    for (const kind of contract.gatewayToCloud) {
      if (!rights?.read.has(`${contract.topicRoot}/+/${kind}`)) {
        problems.push(`${aclSource}: user ${user} cannot read ${contract.topicRoot}/+/${kind}`);
      }
    }
    for (const kind of contract.cloudToGateway) {
      if (!rights?.write.has(`${contract.topicRoot}/+/${kind}`)) {
        problems.push(`${aclSource}: user ${user} cannot write ${contract.topicRoot}/+/${kind}`);
      }
    }
  }
  for (const kind of contract.gatewayToCloud) {
    if (!acl.patterns.write.has(`${contract.topicRoot}/%u/${kind}`)) {
      problems.push(`${aclSource}: gateways cannot write ${contract.topicRoot}/%u/${kind}`);
    }
  }
  for (const kind of contract.cloudToGateway) {
    if (!acl.patterns.read.has(`${contract.topicRoot}/%u/${kind}`)) {
      problems.push(`${aclSource}: gateways cannot read ${contract.topicRoot}/%u/${kind}`);
    }
  }

  // The gateway(s) of this file: known to the broker (user and password) and to the store.
  const provision = Object.entries(compose.services).find(([, s]) =>
    programRuns(s).some((r) => r.program === 'homebed-cloud' && !r.isRun),
  );
  for (const g of serviceConfigs(compose).filter((r) => r.run.program === 'homebed-gateway' && r.config)) {
    const id = at(g.config, 'gatewayId');
    const secret = at(g.config, 'cloud.secret');
    if (urlHost(at(g.config, 'cloud.url')) !== broker) {
      problems.push(`${g.service}: the gateway's cloud.url is not the relays' broker ${broker}`);
    }
    if (brokerEnv.HOMEBED_GATEWAY_ID !== id || brokerEnv.HOMEBED_GATEWAY_SECRET !== secret) {
      problems.push(`${g.service}: ${broker} does not create user ${id} with the gateway's secret`);
    }
    const provisionEnv = provision ? environmentOf(provision[1]) : {};
    if (
      provisionEnv.HOMEBED_GATEWAY_ID !== id ||
      provisionEnv.HOMEBED_GATEWAY_SECRET !== secret ||
      provisionEnv.HOMEBED_BED_ID !== at(g.config, 'bedId')
    ) {
      problems.push(`${g.service}: the provisioning service does not provision gateway ${id} on its bed`);
    }
  }
  return problems;
}

/**
 * Files mounted from the repository exist and are mounted read-only; named volumes are declared at the
 * top level, and every declared volume is used.
 */
export function mountProblems(compose: Compose): string[] {
  const problems: string[] = [];
  const used = new Set<string>();
  for (const [name, service] of Object.entries(compose.services)) {
    for (const m of mountsOf(service)) {
      if (m.kind === 'bind') {
        if (!m.source.startsWith('./')) problems.push(`${name}: ${m.source} is outside the repository`);
        else if (!repoFileExists(m.source))
          problems.push(`${name}: mounts ${m.source}, which does not exist`);
        if (!m.readOnly) problems.push(`${name}: ${m.source} should be mounted read-only (:ro)`);
      } else {
        used.add(m.source);
        if (!Object.hasOwn(compose.volumes ?? {}, m.source)) {
          problems.push(`${name}: volume ${m.source} is not declared under volumes:`);
        }
      }
    }
  }
  for (const v of Object.keys(compose.volumes ?? {})) {
    if (!used.has(v)) problems.push(`volume ${v} is declared but not used`);
  }
  return problems;
}

/**
 * Secrets: every environment value under a secret-looking name (and the password of any URL) comes
 * whole from a required variable (`${VAR:?…}`, no default), and every variable the file uses is in
 * .env.example — the required ones set there to a visible placeholder, the optional ones at least
 * mentioned — and .env.example sets nothing the file does not use.
 */
export function secretProblems(d: Deployment): string[] {
  const problems: string[] = [];
  const REQUIRED_REF = /^\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]*\}$/;
  for (const [name, service] of Object.entries(d.raw.services)) {
    for (const [key, value] of Object.entries(environmentOf(service))) {
      if (SECRET_KEY.test(key) && !REQUIRED_REF.test(value)) {
        problems.push(
          `${name}: ${key} must come from a required variable \${VAR:?…}, not ${JSON.stringify(value)}`,
        );
      }
      const password = /^[a-z][a-z0-9+.-]*:\/\/[^:/@]*:([^@]*)@/i.exec(value)?.[1];
      if (password !== undefined && !REQUIRED_REF.test(password)) {
        problems.push(`${name}: ${key}: the password in the URL must be a required variable \${VAR:?…}`);
      }
    }
  }
  const refs = allStrings(d.raw).flatMap(varRefs);
  const required = new Set(refs.filter((r) => r.op.includes('?')).map((r) => r.name));
  const used = new Set(refs.map((r) => r.name));
  for (const name of used) {
    if (!Object.hasOwn(d.env.values, name) && !d.env.commented.has(name)) {
      problems.push(`\${${name}} is not listed in .env.example`);
    }
  }
  for (const name of required) {
    const value = d.env.values[name];
    if (value === undefined) problems.push(`${name} is required but not set in .env.example`);
    else if (SECRET_KEY.test(name) && !/demo-only|change-me|replace/i.test(value)) {
      problems.push(
        `.env.example: ${name} must be a visible placeholder (demo-only…change-me), not a real secret`,
      );
    }
  }
  for (const name of Object.keys(d.env.values)) {
    if (!used.has(name)) problems.push(`.env.example sets ${name}, which docker-compose.yml does not use`);
  }
  return problems;
}

// ---- Grafana ----------------------------------------------------------------------------------------

export interface GrafanaDatasource {
  name: string;
  uid: string;
  type: string;
  url: string;
  jsonData?: Record<string, unknown>;
  secureJsonData?: Record<string, string>;
}

export function grafanaDatasources(service: Service): GrafanaDatasource[] {
  const dir = repoSourceOf(service, '/etc/grafana/provisioning/datasources');
  if (!dir) return [];
  if (!repoFileExists(dir)) return [];
  return readdirSync(repoPath(dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .flatMap(
      (f) =>
        (YAML.parse(readRepoFile(posix.join(dir, f))) as { datasources?: GrafanaDatasource[] }).datasources ??
        [],
    );
}

/** Folder inside the Grafana container the file provider loads dashboards from, and the repo folder mounted there. */
export function grafanaDashboardFolder(
  service: Service,
): { path: string; source: string | undefined } | undefined {
  const dir = repoSourceOf(service, '/etc/grafana/provisioning/dashboards');
  if (!dir) return undefined;
  const provider = YAML.parse(readRepoFile(posix.join(dir, 'homebed.yaml'))) as {
    providers?: { options?: { path?: string } }[];
  };
  const path = provider.providers?.[0]?.options?.path;
  if (!path) return undefined;
  return { path, source: repoSourceOf(service, path) };
}

export interface DashboardQuery {
  dashboard: string;
  where: string;
  query: string;
  datasourceUid: string | undefined;
}

/** Every InfluxQL query of a dashboard: panel targets and template variables. */
export function dashboardQueries(file: string, dashboard: Record<string, unknown>): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  const uidOf = (ds: unknown) => (ds && typeof ds === 'object' ? (ds as { uid?: string }).uid : undefined);
  const panels = (dashboard.panels ?? []) as Record<string, unknown>[];
  for (const panel of panels) {
    for (const target of (panel.targets ?? []) as Record<string, unknown>[]) {
      out.push({
        dashboard: file,
        where: `panel ${String(panel.title)}`,
        query: String(target.query ?? ''),
        datasourceUid: uidOf(target.datasource) ?? uidOf(panel.datasource),
      });
    }
  }
  const templating = (dashboard.templating as { list?: Record<string, unknown>[] } | undefined)?.list ?? [];
  for (const v of templating) {
    if (v.type !== 'query') continue;
    out.push({
      dashboard: file,
      where: `variable ${String(v.name)}`,
      query: typeof v.query === 'string' ? v.query : String((v.query as { query?: string })?.query ?? ''),
      datasourceUid: uidOf(v.datasource),
    });
  }
  return out;
}

/** Measurements (`FROM "x"`) and tags (`"tag" =~`, `GROUP BY …, "tag"`, `WITH KEY = "tag"`) an InfluxQL query uses. */
export function influxqlNames(query: string): { measurements: string[]; tags: string[] } {
  const measurements = [...query.matchAll(/\bFROM\s+"?([A-Za-z_][A-Za-z0-9_]*)"?/gi)].map((m) => m[1]!);
  const tags = [...query.matchAll(/"([A-Za-z_][A-Za-z0-9_]*)"\s*(?:=~|!~|=|!=|<>)/g)].map((m) => m[1]!);
  tags.push(...[...query.matchAll(/WITH\s+KEY\s*=\s*"?([A-Za-z_][A-Za-z0-9_]*)"?/gi)].map((m) => m[1]!));
  const groupBy = /GROUP\s+BY\s+(.+?)(?:\s+fill\(|\s+ORDER\s|\s+LIMIT\s|$)/i.exec(query)?.[1];
  if (groupBy) {
    for (const part of groupBy.split(',')) {
      const name = /^\s*"?([A-Za-z_][A-Za-z0-9_]*)"?\s*$/.exec(part)?.[1];
      if (name) tags.push(name);
    }
  }
  // `"value" != true` compares the field, not a tag.
  return { measurements, tags: tags.filter((t) => t !== 'value') };
}

/**
 * Grafana's datasource reads the bucket the gateway writes (the database of the 1.x API is the bucket's
 * name) of the InfluxDB service, with the token that service was set up with; the dashboards come from
 * the repo, use that datasource, and query only measurements and tags the gateway writes.
 */
export function grafanaProblems(
  compose: Compose,
  telemetry: { metrics: readonly string[]; tags: readonly string[] },
  required: Record<string, readonly string[]>,
): string[] {
  const problems: string[] = [];
  const grafana = Object.entries(compose.services).find(
    ([, s]) => typeof s.image === 'string' && s.image.startsWith('grafana/'),
  );
  if (!grafana) return ['no grafana service'];
  const [gname, gservice] = grafana;
  const datasources = grafanaDatasources(gservice);
  const ds = datasources.find((d) => d.type === 'influxdb');
  if (!ds) return [`${gname}: no provisioned InfluxDB datasource`];
  const influxName = urlHost(ds.url);
  const influx = influxName ? compose.services[influxName] : undefined;
  if (!influx) return [`${gname}: datasource URL ${ds.url} is not a service`];
  const influxEnv = environmentOf(influx);
  const gateways = serviceConfigs(compose).filter((r) => r.run.program === 'homebed-gateway' && r.config);
  if (!gateways.length) problems.push('no gateway writes to InfluxDB');
  for (const g of gateways) {
    if (urlHost(at(g.config, 'influx.url')) !== influxName)
      problems.push(`${g.service}: writes to another InfluxDB`);
    if (at(g.config, 'influx.version') !== '2') problems.push(`${g.service}: influx.version must be "2"`);
    if (at(g.config, 'influx.org') !== influxEnv.DOCKER_INFLUXDB_INIT_ORG) {
      problems.push(`${g.service}: influx.org is not ${influxName}'s DOCKER_INFLUXDB_INIT_ORG`);
    }
    if (at(g.config, 'influx.bucket') !== influxEnv.DOCKER_INFLUXDB_INIT_BUCKET) {
      problems.push(`${g.service}: influx.bucket is not ${influxName}'s DOCKER_INFLUXDB_INIT_BUCKET`);
    }
    if (at(g.config, 'influx.token') !== influxEnv.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN) {
      problems.push(`${g.service}: influx.token is not a token ${influxName} knows`);
    }
  }
  if (ds.jsonData?.dbName !== influxEnv.DOCKER_INFLUXDB_INIT_BUCKET) {
    problems.push(`${gname}: datasource dbName ${String(ds.jsonData?.dbName)} is not the bucket`);
  }
  const header = ds.jsonData?.httpHeaderName1;
  const tokenRef = /^Token \$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/.exec(
    ds.secureJsonData?.httpHeaderValue1 ?? '',
  )?.[1];
  if (header !== 'Authorization' || !tokenRef) {
    problems.push(`${gname}: datasource must send Authorization: Token $VAR`);
  } else if (environmentOf(gservice)[tokenRef] !== influxEnv.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN) {
    problems.push(`${gname}: ${tokenRef} is not the token ${influxName} was set up with`);
  }

  const folder = grafanaDashboardFolder(gservice);
  if (!folder?.source)
    return [...problems, `${gname}: the dashboard provider's folder is not mounted from the repo`];
  const seen = new Set<string>();
  for (const [file, wanted] of Object.entries(required)) {
    const path = posix.join(folder.source, file);
    if (!repoFileExists(path)) {
      problems.push(`${path}: missing`);
      continue;
    }
    seen.add(file);
    const dashboard = JSON.parse(readRepoFile(path)) as Record<string, unknown>;
    const queries = dashboardQueries(path, dashboard);
    const measured = new Set<string>();
    for (const q of queries) {
      if (q.datasourceUid !== ds.uid) problems.push(`${path}: ${q.where}: datasource is not ${ds.uid}`);
      const names = influxqlNames(q.query);
      if (!names.measurements.length) problems.push(`${path}: ${q.where}: no measurement in ${q.query}`);
      for (const m of names.measurements) {
        measured.add(m);
        if (!telemetry.metrics.includes(m))
          problems.push(`${path}: ${q.where}: ${m} is not a measurement the gateway writes`);
      }
      for (const t of names.tags) {
        if (!telemetry.tags.includes(t))
          problems.push(`${path}: ${q.where}: ${t} is not a tag the gateway writes`);
      }
    }
    for (const m of wanted) {
      if (!measured.has(m)) problems.push(`${path}: shows no ${m}`);
    }
  }
  return problems;
}
