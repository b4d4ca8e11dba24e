import { describe, expect, it } from 'vitest';
import {
  type BenchResult,
  type Comparison,
  formatNumber,
  formatRatio,
  ratio,
  renderMarkdown,
} from '../../../bench/lib/results.js';

const comparison = (over: Partial<Comparison> = {}): Comparison => ({
  figure: 'alarm latency p99, button → SSE',
  unit: 'ms',
  ours: 12,
  reference: { kind: 'floor', label: 'MQTT QoS 1 round trip', value: 3 },
  better: 'lower',
  ...over,
});

const result: BenchResult = {
  benchmark: 'latency',
  title: 'Alarm latency',
  method: 'SOS presses written to a PTY, timed to the SSE client.',
  startedAt: '2026-11-23T06:00:00.000Z',
  durationS: 150.4,
  machine: { cores: 2, cpuModel: 'Test CPU', memoryGiB: 24, kernel: '6.1', loadAverage1m: 0.5 },
  versions: { node: 'v20.20.2', homebed: 'abc1234' },
  parameters: { alarms: 1000, homes: 100 },
  figures: {},
  comparisons: [
    comparison(),
    comparison({
      figure: 'sustained ingest',
      unit: 'points/s',
      ours: 9000,
      reference: { kind: 'peer', label: 'Node-RED', value: 3000 },
      better: 'higher',
    }),
  ],
  notes: ['The floor has no database write.'],
};

describe('bench results', () => {
  it('a ratio is ours over the reference', () => {
    expect(ratio(comparison())).toBe(4);
    expect(Number.isNaN(ratio(comparison({ reference: { kind: 'floor', label: 'x', value: 0 } })))).toBe(
      true,
    );
  });

  it('a peer ratio says better or worse by the figure’s direction', () => {
    expect(formatRatio(result.comparisons[1] as Comparison)).toBe('3.00× (better)');
    expect(formatRatio(comparison({ reference: { kind: 'peer', label: 'Node-RED', value: 24 } }))).toBe(
      '0.50× (better)',
    );
    expect(formatRatio(comparison({ reference: { kind: 'peer', label: 'Node-RED', value: 6 } }))).toBe(
      '2.00× (worse)',
    );
    expect(formatRatio(comparison())).toBe('4.00× of floor');
    // Within 2 %: the same (closer than the noise between runs).
    expect(
      formatRatio(comparison({ ours: 0.99, reference: { kind: 'peer', label: 'Node-RED', value: 1 } })),
    ).toBe('0.99× (same)');
  });

  it('formats numbers to what a table needs', () => {
    expect(formatNumber(12345.6)).toBe('12,346');
    expect(formatNumber(123.4)).toBe('123');
    expect(formatNumber(12.34)).toBe('12.3');
    expect(formatNumber(1.234)).toBe('1.23');
    expect(formatNumber(Number.NaN)).toBe('—');
  });

  it('renders every benchmark: a table for the ones run, a command for the rest', () => {
    const md = renderMarkdown({ latency: result });
    expect(md).toContain('## Alarm latency');
    expect(md).toContain(
      '| alarm latency p99, button → SSE | 12.0 ms | floor: MQTT QoS 1 round trip | 3.00 ms | 4.00× of floor |',
    );
    expect(md).toContain(
      '| sustained ingest | 9,000 points/s | peer: Node-RED | 3,000 points/s | 3.00× (better) |',
    );
    expect(md).toContain('2 × Test CPU');
    expect(md).toContain('alarms = 1000 · homes = 100');
    expect(md).toContain('- The floor has no database write.');
    for (const name of ['ingest', 'capacity', 'footprint', 'backfill']) {
      expect(md).toContain(`Not run yet: \`npm run bench -- ${name}\`.`);
    }
  });
});
