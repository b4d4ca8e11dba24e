// biome-ignore-all lint/suspicious/noTemplateCurlyInString: compose's variables are written ${VAR} in plain strings.
import { posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordSchema } from '../../../cloud/people/users.js';
import { CLOUD_TO_GATEWAY, GATEWAY_TO_CLOUD, TOPIC_ROOT } from '../../../contract/topics.js';
import { Influx1Sink, TAG_KEYS } from '../../../gateway/telemetry/influx1-sink.js';
import { METRICS, type MetricName, type Reading } from '../../../gateway/telemetry/reading.js';
import { createTestDatabase, queryInflux, testInfluxUrl } from '../../support/influx.js';
import {
  type Compose,
  cloneDeployment,
  configProblems,
  connectionProblems,
  type Deployment,
  dashboardQueries,
  environmentOf,
  grafanaDashboardFolder,
  grafanaProblems,
  healthProblems,
  interpolate,
  loadDeployment,
  mountProblems,
  type Service,
  scaleOutProblems,
  secretProblems,
  serviceConfigs,
  unpinnedImages,
} from './compose-checks.js';
import { packageBins, packageVersion, readRepoFile } from './deploy-files.js';
import { dockerfileProblems, dockerignoreProblems, parseDockerfile } from './dockerfile-checks.js';

/**
 * docker-compose.yml, the Dockerfile and the files they use, checked without Docker (this machine has
 * no `docker compose` and no image registry). Each check is a function listing problems; each test
 * runs it on the real files (no problem) and on a copy broken on purpose (the problem is found).
 */

const CONTRACT = {
  topicRoot: TOPIC_ROOT,
  gatewayToCloud: GATEWAY_TO_CLOUD,
  cloudToGateway: CLOUD_TO_GATEWAY,
};
const TELEMETRY = { metrics: Object.keys(METRICS), tags: TAG_KEYS };
/** The dashboards and the measurements each must show (docs/telemetry.md). */
const DASHBOARDS = {
  'vitals.json': ['heart_rate', 'breath_rate', 'in_bed'],
  'device-health.json': ['device_online', 'battery', 'frames_dropped', 'link_open'],
} as const;

const deployment = loadDeployment();
const { compose } = deployment;

function broken(edit: (compose: Compose, d: Deployment) => void): Deployment {
  const copy = cloneDeployment(deployment);
  edit(copy.compose, copy);
  return copy;
}

function service(c: Compose, name: string): Service {
  const s = c.services[name];
  if (!s) throw new Error(`no service ${name} in docker-compose.yml`);
  return s;
}

function env(s: Service): Record<string, unknown> {
  return s.environment as Record<string, unknown>;
}

describe('docker-compose.yml', () => {
  it('has the services of a full deployment', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['grafana', 'home', 'influxdb', 'mosquitto', 'postgres', 'provision', 'relay-1', 'relay-2'].sort(),
    );
  });

  it('interpolates like compose: defaults, required variables, $$', () => {
    expect(interpolate('${A:-x} ${B:-y} $$SYS ${A:?need A}', { A: 'a' })).toBe('a y $SYS a');
    expect(() => interpolate('${MISSING:?set MISSING}', {})).toThrow(/MISSING is required/);
  });

  it('pins every image to a version; the homebed image carries package.json’s version', () => {
    expect(unpinnedImages(compose, packageVersion())).toEqual([]);
    const c = broken((c) => {
      service(c, 'postgres').image = 'postgres:latest';
      service(c, 'grafana').image = 'grafana/grafana';
      service(c, 'relay-1').image = 'homebed:0.0.1';
    }).compose;
    expect(unpinnedImages(c, packageVersion())).toEqual([
      'postgres: image postgres:latest is not pinned to a version',
      `relay-1: built image homebed:0.0.1 should be tagged with package.json's version ${packageVersion()}`,
      'grafana: image grafana/grafana is not pinned to a version',
    ]);
  });

  it('gives long-running services a healthcheck and makes dependants wait for health', () => {
    expect(healthProblems(compose)).toEqual([]);
    const c = broken((c) => {
      delete service(c, 'postgres').healthcheck;
      service(c, 'grafana').depends_on = { influxdb: { condition: 'service_started' } };
      service(c, 'home').depends_on = ['influxdb'];
      delete service(c, 'provision').depends_on;
    }).compose;
    expect(healthProblems(c)).toEqual(
      expect.arrayContaining([
        'postgres: long-running service without a healthcheck',
        'provision: one-shot service that waits for nothing',
        'relay-1: waits for postgres to be healthy; it has no healthcheck',
        'home: depends on influxdb with service_started: wait for service_healthy',
        'grafana: depends on influxdb with service_started: wait for service_healthy',
      ]),
    );
  });

  it('validates every program’s config file with the service’s HOMEBED_* environment against its schema', () => {
    expect(configProblems(compose)).toEqual([]);
    const runs = serviceConfigs(compose).map((r) => `${r.service} ${r.run.program} ${r.source}`);
    expect(runs.sort()).toEqual(
      [
        'home homebed-gateway deploy/compose/gateway.yaml',
        'home homebed-sim deploy/compose/sim.yaml',
        'provision homebed-cloud deploy/compose/cloud.yaml',
        'relay-1 homebed-cloud deploy/compose/cloud.yaml',
        'relay-2 homebed-cloud deploy/compose/cloud.yaml',
      ].sort(),
    );
  });

  it('finds a renamed key, a wrong value and a variable for a program the service does not run', () => {
    const c = broken((c) => {
      const relay = env(service(c, 'relay-1'));
      relay.HOMEBED_CLOUD__MQTT__EXTERNAL__CLIENTID = relay.HOMEBED_CLOUD__MQTT__EXTERNAL__CLIENT_ID;
      delete relay.HOMEBED_CLOUD__MQTT__EXTERNAL__CLIENT_ID;
      env(service(c, 'relay-2')).HOMEBED_CLOUD__STORE__POSTGRES__URL = 'mysql://db/homebed';
      env(service(c, 'home')).HOMEBED_CLOUD__HTTP__PORT = '8080';
      env(service(c, 'home')).HOMEBED_GATEWAY__CLOUD__SECRET = 'short';
    }).compose;
    expect(configProblems(c)).toEqual(
      expect.arrayContaining([
        "relay-1: deploy/compose/cloud.yaml: mqtt.external.clientid: not a key of homebed-cloud's configuration",
        expect.stringMatching(
          /^relay-2: deploy\/compose\/cloud\.yaml: store\.postgres\.url: must be a postgres:\/\//,
        ),
        'home: HOMEBED_CLOUD__HTTP__PORT is for a program this service does not run',
        expect.stringMatching(
          /^home: deploy\/compose\/gateway\.yaml: cloud\.secret: must be at least 8 characters/,
        ),
      ]),
    );
  });

  it('makes every program wait for the services it connects to, and connects only to services of the file', () => {
    expect(connectionProblems(compose)).toEqual([]);
    const c = broken((c) => {
      delete (service(c, 'relay-2').depends_on as Record<string, unknown>).mosquitto;
      env(service(c, 'home')).HOMEBED_GATEWAY__INFLUX__URL = 'http://influx:8086';
    }).compose;
    expect(connectionProblems(c).sort()).toEqual(
      [
        'home: connects to influx, which is not a service of this file',
        'relay-2: connects to mosquitto but does not wait for it to be healthy',
      ].sort(),
    );
  });

  it('runs two relays on one PostgreSQL store and one broker (shared subscription), each its own broker user', () => {
    expect(scaleOutProblems(compose, CONTRACT)).toEqual([]);
    const c = broken((c) => {
      env(service(c, 'relay-2')).HOMEBED_CLOUD__STORE__POSTGRES__URL =
        'postgres://homebed:x@postgres:5432/other';
      env(service(c, 'relay-2')).HOMEBED_CLOUD__MQTT__EXTERNAL__CLIENT_ID = 'relay-1';
      env(service(c, 'relay-2')).HOMEBED_CLOUD__MQTT__EXTERNAL__SHARE_GROUP = 'other-group';
      env(service(c, 'mosquitto')).MQTT_RELAY_USERS = 'relay-1';
    }).compose;
    expect(scaleOutProblems(c, CONTRACT)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^the relays differ in store\.postgres\.url/),
        'the relays differ in mqtt.external.shareGroup: "homebed-relay" vs "other-group"',
        'the relays need distinct mqtt.external.clientId values (got ["relay-1","relay-1"])',
        'relay-2: broker user relay-2 must equal its client id relay-1',
        "relay-2: user relay-2 is not in mosquitto's MQTT_RELAY_USERS",
      ]),
    );
    const single = broken((c) => {
      delete c.services['relay-2'];
    }).compose;
    expect(scaleOutProblems(single, CONTRACT)).toContain('1 relay service(s); scale-out needs at least two');
    const unknownGateway = broken((c) => {
      env(service(c, 'mosquitto')).HOMEBED_GATEWAY_ID = 'gw-other';
      env(service(c, 'provision')).HOMEBED_BED_ID = 'bed-other';
    }).compose;
    expect(scaleOutProblems(unknownGateway, CONTRACT)).toEqual([
      "home: mosquitto does not create user gw-demo-001 with the gateway's secret",
      'home: the provisioning service does not provision gateway gw-demo-001 on its bed',
    ]);
  });

  it('mounts only files of the repository that exist, read-only, and named volumes it declares', () => {
    expect(mountProblems(compose)).toEqual([]);
    const c = broken((c) => {
      (service(c, 'home').volumes as string[]).push(
        './deploy/compose/missing.yaml:/etc/homebed/missing.yaml:ro',
      );
      (service(c, 'grafana').volumes as string[]).push('./deploy/grafana/dashboards:/tmp/dashboards');
      (service(c, 'postgres').volumes as string[]).push('pg-extra:/extra');
      delete c.volumes?.['grafana-data'];
    }).compose;
    expect(mountProblems(c).sort()).toEqual(
      [
        'home: mounts ./deploy/compose/missing.yaml, which does not exist',
        'grafana: ./deploy/grafana/dashboards should be mounted read-only (:ro)',
        'postgres: volume pg-extra is not declared under volumes:',
        'grafana: volume grafana-data is not declared under volumes:',
      ].sort(),
    );
  });

  it('takes every secret from a required variable listed in .env.example, with placeholder values only', () => {
    expect(secretProblems(deployment)).toEqual([]);
    const d = broken((_c, d) => {
      env(service(d.raw, 'grafana')).GF_SECURITY_ADMIN_PASSWORD = 'admin';
      env(service(d.raw, 'influxdb')).DOCKER_INFLUXDB_INIT_ADMIN_TOKEN = '${INFLUXDB_TOKEN:-letmein}';
      env(service(d.raw, 'relay-1')).HOMEBED_CLOUD__STORE__POSTGRES__URL =
        'postgres://homebed:hunter2@postgres/homebed';
      env(service(d.raw, 'home')).HOMEBED_GATEWAY__INFLUX__TOKEN = '${SOME_NEW_TOKEN:?set it}';
      d.env.values.POSTGRES_PASSWORD = 'b9f1c2e7a0';
      d.env.values.UNUSED = 'x';
    });
    expect(secretProblems(d).sort()).toEqual(
      [
        'grafana: GF_SECURITY_ADMIN_PASSWORD must come from a required variable ${VAR:?…}, not "admin"',
        'influxdb: DOCKER_INFLUXDB_INIT_ADMIN_TOKEN must come from a required variable ${VAR:?…}, not "${INFLUXDB_TOKEN:-letmein}"',
        'relay-1: HOMEBED_CLOUD__STORE__POSTGRES__URL: the password in the URL must be a required variable ${VAR:?…}',
        '${SOME_NEW_TOKEN} is not listed in .env.example',
        'SOME_NEW_TOKEN is required but not set in .env.example',
        '.env.example: POSTGRES_PASSWORD must be a visible placeholder (demo-only…change-me), not a real secret',
        '.env.example sets UNUSED, which docker-compose.yml does not use',
        '.env.example sets GRAFANA_ADMIN_PASSWORD, which docker-compose.yml does not use',
      ].sort(),
    );
  });

  it('.env.example’s values pass the programs’ own rules (admin password length)', () => {
    const admin = environmentOf(service(compose, 'provision')).HOMEBED_ADMIN_PASSWORD;
    expect(passwordSchema.safeParse(admin).success).toBe(true);
    expect(passwordSchema.safeParse('too-short').success).toBe(false);
  });
});

describe('Grafana', () => {
  it('reads the bucket the gateway writes with the token InfluxDB was set up with; dashboards query real measurements and tags', () => {
    expect(grafanaProblems(compose, TELEMETRY, DASHBOARDS)).toEqual([]);
  });

  it('finds a wrong bucket, a token mismatch, an unknown measurement or tag, and a missing panel', () => {
    const c = broken((c) => {
      env(service(c, 'influxdb')).DOCKER_INFLUXDB_INIT_BUCKET = 'other';
      env(service(c, 'grafana')).INFLUXDB_TOKEN = 'another-token';
    }).compose;
    expect(grafanaProblems(c, TELEMETRY, DASHBOARDS)).toEqual(
      expect.arrayContaining([
        "home: influx.bucket is not influxdb's DOCKER_INFLUXDB_INIT_BUCKET",
        'grafana: datasource dbName homebed is not the bucket',
        'grafana: INFLUXDB_TOKEN is not the token influxdb was set up with',
      ]),
    );
    const folder = grafanaDashboardFolder(service(compose, 'grafana'))!.source!;
    const vitals = `${folder}/vitals.json`;
    expect(
      grafanaProblems(
        compose,
        { metrics: TELEMETRY.metrics.filter((m) => m !== 'in_bed'), tags: ['device'] },
        {
          'vitals.json': ['heart_rate', 'presence'],
        },
      ),
    ).toEqual(
      expect.arrayContaining([
        `${vitals}: panel In bed: in_bed is not a measurement the gateway writes`,
        `${vitals}: panel Heart rate: bed is not a tag the gateway writes`,
        `${vitals}: shows no presence`,
      ]),
    );
  });

  describe('the dashboards’ queries on a real InfluxDB (1.x here; the same InfluxQL reaches 2.x through /query)', () => {
    const url = testInfluxUrl();
    let database: string;
    const folder = grafanaDashboardFolder(service(compose, 'grafana'))!.source!;
    const queries = Object.keys(DASHBOARDS).flatMap((file) => {
      const path = posix.join(folder, file);
      return dashboardQueries(path, JSON.parse(readRepoFile(path)) as Record<string, unknown>);
    });

    beforeAll(async () => {
      database = await createTestDatabase(url, 'deploy_grafana');
      const sink = new Influx1Sink({ url, database, tags: { gateway: 'gw-a', bed: 'bed-a' } });
      const now = Date.now();
      const reading = (
        metric: MetricName,
        deviceId: string,
        value: number | boolean,
        agoMs: number,
        tags?: Record<string, string>,
      ): Reading => ({
        metric,
        deviceId,
        value,
        atMs: now - agoMs,
        ...(tags ? { tags } : {}),
      });
      const readings: Reading[] = [];
      for (const ago of [300_000, 120_000]) {
        readings.push(
          reading('heart_rate', 'bed-radar', 70, ago),
          reading('breath_rate', 'bed-radar', 15, ago),
          reading('in_bed', 'bed-radar', ago === 120_000, ago),
          reading('device_online', 'bed-radar', true, ago),
          reading('battery', 'sos-button', 90, ago),
          reading('link_open', 'rflink-port', true, ago),
          reading('frames_dropped', 'rflink-port', ago === 120_000 ? 5 : 3, ago, { reason: 'checksum' }),
        );
      }
      await sink.write(readings);
    });

    afterAll(async () => {
      if (database) await queryInflux(url, database, `DROP DATABASE "${database}"`).catch(() => undefined);
    });

    it('has queries to run', () => {
      expect(queries.length).toBeGreaterThanOrEqual(8);
    });

    it.each(queries.map((q) => [`${q.dashboard}: ${q.where}`, q] as const))(
      '%s returns data',
      async (_name, q) => {
        const influxql = q.query
          .replaceAll('$timeFilter', 'time > now() - 1h')
          .replaceAll('$__interval', '1m')
          .replaceAll('$bed', '.*');
        const rows = await queryInflux(url, database, influxql);
        const values = rows.flatMap((row) =>
          Object.entries(row)
            .filter(([k]) => k !== 'time' && !TAG_KEYS.includes(k))
            .map(([, v]) => v),
        );
        expect(values.filter((v) => v !== null && v !== undefined).length, influxql).toBeGreaterThan(0);
      },
    );
  });
});

describe('Dockerfile', () => {
  const stages = parseDockerfile(readRepoFile('Dockerfile'));
  const expectations = {
    bins: packageBins(),
    buildInputs: (JSON.parse(readRepoFile('tsconfig.build.json')) as { include: string[] }).include,
  };

  it('builds in one stage and runs the bins as a non-root user on a slim Node 20 with production dependencies', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'runtime']);
    expect(dockerfileProblems(stages, expectations)).toEqual([]);
  });

  it('finds an unpinned base, root, a missing bin, dev dependencies and a source folder not copied', () => {
    const text = readRepoFile('Dockerfile')
      .replace('FROM node:20.20.2-bookworm-slim AS runtime', 'FROM node:latest AS runtime')
      .replace('    homebed-sim:dist/firmware-sim/cli.js; \\\n', '; \\\n')
      .replace('npm run build && npm prune --omit=dev', 'npm run build')
      .replace('COPY gateway ./gateway\n', '')
      .replace(/USER homebed\n/, 'USER root\n');
    expect(dockerfileProblems(parseDockerfile(text), expectations)).toEqual([
      'FROM node:latest: not pinned to a version',
      'final stage FROM node:latest: should be a slim Node 20 image',
      'final stage node_modules do not come from a stage that dropped the dev dependencies',
      'the build stage does not COPY gateway (tsconfig.build.json)',
      'final stage runs as root: add a USER',
      'bin homebed-sim (dist/firmware-sim/cli.js) is not installed as a command (got nothing)',
    ]);
  });

  it('keeps secrets, state and host builds out of the context and lets in what it copies', () => {
    const ignore = readRepoFile('.dockerignore');
    expect(dockerignoreProblems(ignore, stages)).toEqual([]);
    expect(
      dockerignoreProblems(
        `${ignore.replace(/^\.env$/m, '').replace(/^node_modules$/m, '')}\ncloud\n`,
        stages,
      ),
    ).toEqual([
      '.dockerignore lets .env into the build context',
      '.dockerignore lets node_modules into the build context',
      'COPY cloud: excluded by .dockerignore',
    ]);
  });
});
