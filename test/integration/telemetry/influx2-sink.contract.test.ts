import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Influx2Sink } from '../../../gateway/telemetry/influx2-sink.js';
import type { MetricName } from '../../../gateway/telemetry/reading.js';
import { describeTelemetrySinkContract, type ReadBackPoint } from '../../support/telemetry-sink-contract.js';

/** One line of `/api/v1/export`: a series and (a block of) its samples. */
interface ExportLine {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

function victoriaUrl(): string {
  const url = inject('victoriaUrl') ?? process.env.HOMEBED_TEST_VICTORIA_URL;
  if (!url) throw new Error('no private VictoriaMetrics: globalSetup test/support/victoria-global-setup.ts');
  return url;
}

/** PromQL label value. */
const quote = (value: string): string => JSON.stringify(value);

/**
 * Samples of `{measurement}_value` (VictoriaMetrics names a line-protocol series `{measurement}_{field}`).
 * New series become searchable only after VictoriaMetrics flushes its in-memory index, so this polls until
 * two reads agree (or 10 s pass).
 */
async function exportSeries(url: string, selector: string): Promise<ReadBackPoint[]> {
  let previous: ReadBackPoint[] | undefined;
  const deadline = Date.now() + 10_000;
  for (;;) {
    await fetch(`${url}/internal/force_flush`);
    const res = await fetch(`${url}/api/v1/export?match[]=${encodeURIComponent(selector)}`);
    if (!res.ok) throw new Error(`export ${selector}: HTTP ${res.status} ${await res.text()}`);
    const points = (await res.text())
      .split('\n')
      .filter(Boolean)
      .flatMap((line) => {
        const { metric, values, timestamps } = JSON.parse(line) as ExportLine;
        const { __name__: _name, ...tags } = metric;
        return values.map((value, i) => ({ atMs: timestamps[i] ?? Number.NaN, value, tags }));
      })
      .sort((a, b) => a.atMs - b.atMs);
    if (points.length > 0 && previous?.length === points.length) return points;
    if (Date.now() > deadline) return points;
    previous = points;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describeTelemetrySinkContract(
  'Influx2Sink against a private VictoriaMetrics (/api/v2/write)',
  // VictoriaMetrics stores float64 samples only: booleans become 1/0, and 1.79 (Debian) parses a string
  // field as 0; it accepts any field type over any other, so there is no type conflict to reject.
  { fields: 'numeric', booleans: 'one-zero', strings: 'zero', rejectsTypeConflicts: false },
  async (tags) => {
    const url = victoriaUrl();
    return {
      // VictoriaMetrics ignores org, bucket and token.
      sink: new Influx2Sink({ url, org: 'homebed', bucket: 'telemetry', tags }),
      readBack: (metric: MetricName, deviceId: string) =>
        exportSeries(url, `${metric}_value{gateway=${quote(tags.gateway)},device=${quote(deviceId)}}`),
      unreachableSink: () =>
        new Influx2Sink({ url: 'http://127.0.0.1:9', org: 'o', bucket: 'b', tags, requestTimeoutMs: 2_000 }),
      async conflictingSink(atMs: number) {
        // heart_rate is an integer in METRICS; seed a float first, as the 1.x suite does.
        const res = await fetch(`${url}/api/v2/write?org=homebed&bucket=telemetry&precision=ms`, {
          method: 'POST',
          body: `heart_rate,device=radar value=1.5 ${atMs}`,
        });
        if (res.status !== 204) throw new Error(`seeding the conflict failed: HTTP ${res.status}`);
        return new Influx2Sink({ url, org: 'homebed', bucket: 'telemetry', tags });
      },
    };
  },
);

describe('Influx2Sink error classification (HTTP answers VictoriaMetrics never gives)', () => {
  let server: Server;
  let url: string;
  let status = 204;
  const bodies: string[] = [];
  const paths: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      req.on('end', () => {
        bodies.push(body);
        paths.push(req.url ?? '');
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(
          status === 204 ? undefined : JSON.stringify({ code: 'invalid', message: `status ${status}` }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const reading = { deviceId: 'radar', metric: 'heart_rate', value: 72, atMs: 1_700_000_000_123 } as const;
  const sink = (): Influx2Sink =>
    new Influx2Sink({ url, token: 'tok', org: 'my org', bucket: 'b1', tags: { gateway: 'g', bed: 'b' } });

  it('sends typed line protocol with millisecond precision to /api/v2/write', async () => {
    status = 204;
    const s = sink();
    await s.write([
      reading,
      { deviceId: 'radar', metric: 'daily_heart_rate_avg', value: 72, atMs: 1 },
      { deviceId: 'radar', metric: 'in_bed', value: true, atMs: 2 },
      { deviceId: 'radar', metric: 'bed_state', value: 'in_bed', atMs: 3 },
      { deviceId: 'port', metric: 'frames_dropped', value: 2, atMs: 4, tags: { reason: 'checksum' } },
    ]);
    await s.close();
    expect(paths.at(-1)).toBe('/api/v2/write?org=my%20org&bucket=b1&precision=ms');
    expect(bodies.at(-1)?.split('\n')).toEqual([
      'heart_rate,bed=b,device=radar,gateway=g value=72i 1700000000123',
      'daily_heart_rate_avg,bed=b,device=radar,gateway=g value=72 1',
      'in_bed,bed=b,device=radar,gateway=g value=T 2',
      'bed_state,bed=b,device=radar,gateway=g value="in_bed" 3',
      'frames_dropped,bed=b,device=port,gateway=g,reason=checksum value=2i 4',
    ]);
  });

  it.each([
    [400, 'HB_INFLUX_REJECTED', false],
    [401, 'HB_INFLUX_REJECTED', false],
    [404, 'HB_INFLUX_REJECTED', false],
    [413, 'HB_INFLUX_REJECTED', false],
    [429, 'HB_INFLUX_UNAVAILABLE', true],
    [500, 'HB_INFLUX_UNAVAILABLE', true],
    [503, 'HB_INFLUX_UNAVAILABLE', true],
  ])('HTTP %i → %s (retriable %s), nothing kept for a later write', async (code, errorCode, retriable) => {
    status = code;
    const s = sink();
    const err = await s.write([reading]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: errorCode, retriable });
    expect((err as Error).message).toContain(`HTTP ${code}`);
    // The batcher owns retries: the next write carries only its own points.
    status = 204;
    await s.write([{ ...reading, atMs: 5 }]);
    expect(bodies.at(-1)).toBe('heart_rate,bed=b,device=radar,gateway=g value=72i 5');
    await s.close();
  });

  it('rejects a value of the wrong type for its metric without sending anything', async () => {
    const before = bodies.length;
    const err = await sink()
      .write([{ deviceId: 'radar', metric: 'heart_rate', value: 71.5, atMs: 1 }])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toMatchObject({ code: 'HB_INFLUX_REJECTED', retriable: false });
    expect(bodies.length).toBe(before);
  });
});
