import type { AlarmMessage, Evidence } from '../../contract/index.js';
import type { Reading } from '../telemetry/reading.js';
import { BaseRule } from './rule-context.js';

type Direction = 'low' | 'high' | 'absent';
type VitalMetric = 'heart_rate' | 'breath_rate';

interface Band {
  low: number;
  high: number;
  hysteresis: number;
  sustainMs: number;
}

const KIND = 'vital_sustain';
/** Readings kept as evidence per pending condition (the radar reports every 3 s: about a minute). */
const MAX_EVIDENCE = 25;

/**
 * Heart and breath rate out of range, and breathing absent (care-rules.md),
 * while the resident is in bed: the condition must hold for the sustain
 * time (a persisted deadline) before the alarm is raised; it clears only
 * when the value is back inside the band by the hysteresis margin, or when
 * the resident leaves the bed. Heart rate below the band is always critical;
 * above it, critical beyond `criticalHigh`. Breath rate out of range is a
 * warning; no breathing at all in bed is critical.
 */
export class VitalsRule extends BaseRule {
  readonly name = 'vitals';
  private readonly evidenceLog = new Map<string, Evidence[]>();

  start(): void {
    this.ctx.deadlines.on(KIND, (_key, payload, dueAtMs) => {
      const { deviceId, metric, direction } = payload as {
        deviceId: string;
        metric: VitalMetric;
        direction: Direction;
      };
      this.raise(deviceId, metric, direction, dueAtMs);
    });
    this.listen('reading', (r) => {
      if (this.role(r.deviceId) !== 'bed_radar') return;
      if (r.metric === 'in_bed' && r.value === false) return this.outOfBed(r);
      if (r.metric === 'heart_rate' && this.ctx.rules.heartRate.enabled) return this.onValue(r, 'heart_rate');
      if (r.metric === 'breath_rate' && this.ctx.rules.breathRate.enabled)
        return this.onValue(r, 'breath_rate');
      if (r.metric === 'breath_status' && this.ctx.rules.breathRate.enabled) {
        if (r.value === 'none') this.onDirection(r, 'breath_rate', 'absent');
      }
    });
  }

  private band(metric: VitalMetric): Band {
    const c = metric === 'heart_rate' ? this.ctx.rules.heartRate : this.ctx.rules.breathRate;
    return { low: c.low, high: c.high, hysteresis: c.hysteresis, sustainMs: c.sustainMs };
  }

  private inBed(deviceId: string): boolean {
    return this.ctx.state.get(deviceId, 'in_bed')?.value === true;
  }

  private onValue(r: Reading, metric: VitalMetric): void {
    if (typeof r.value !== 'number' || !this.inBed(r.deviceId)) return;
    const band = this.band(metric);
    const v = r.value;
    if (metric === 'breath_rate' && v === 0) {
      this.onDirection(r, metric, 'absent');
      return;
    }
    if (v < band.low || v > band.high) {
      this.onDirection(r, metric, v < band.low ? 'low' : 'high');
      return;
    }
    // Inside the band: pending conditions end at once; raised alarms only past the hysteresis margin.
    const safelyInside = v >= band.low + band.hysteresis && v <= band.high - band.hysteresis;
    for (const direction of ['low', 'high', 'absent'] as const) {
      this.ctx.deadlines.cancel(this.pendingKey(r.deviceId, metric, direction));
      this.evidenceLog.delete(this.pendingKey(r.deviceId, metric, direction));
      if (safelyInside || direction === 'absent') {
        this.ctx.book.clear(
          this.alarmKey(r.deviceId, metric, direction),
          r.atMs,
          [this.evidence(r)],
          'back in range',
        );
      }
    }
  }

  private onDirection(r: Reading, metric: VitalMetric, direction: Direction): void {
    if (!this.inBed(r.deviceId)) return;
    const key = this.pendingKey(r.deviceId, metric, direction);
    const log = this.evidenceLog.get(key) ?? [];
    log.push(this.evidence(r));
    this.evidenceLog.set(key, log.slice(-MAX_EVIDENCE));
    // The opposite condition has ended.
    for (const other of ['low', 'high', 'absent'] as const) {
      if (other === direction) continue;
      this.ctx.deadlines.cancel(this.pendingKey(r.deviceId, metric, other));
    }
    if (this.ctx.book.isActive(this.alarmKey(r.deviceId, metric, direction))) return;
    if (this.ctx.deadlines.dueAt(key) !== null) return;
    const sustain =
      direction === 'absent' ? this.ctx.rules.breathRate.absentSustainMs : this.band(metric).sustainMs;
    this.ctx.deadlines.schedule(key, KIND, r.atMs + sustain, { deviceId: r.deviceId, metric, direction });
  }

  private raise(deviceId: string, metric: VitalMetric, direction: Direction, atMs: number): void {
    if (!this.inBed(deviceId)) return;
    const evidence = this.evidenceLog.get(this.pendingKey(deviceId, metric, direction)) ?? [];
    this.evidenceLog.delete(this.pendingKey(deviceId, metric, direction));
    const values = evidence.map((e) => e.value).filter((v): v is number => typeof v === 'number');
    let type: AlarmMessage['type'];
    let severity: AlarmMessage['severity'];
    if (metric === 'heart_rate') {
      type = direction === 'high' ? 'heart_rate_high' : 'heart_rate_low';
      const worst = values.length ? Math.max(...values) : 0;
      severity =
        direction === 'high' && worst <= this.ctx.rules.heartRate.criticalHigh ? 'warning' : 'critical';
    } else {
      type = direction === 'high' ? 'breath_rate_high' : 'breath_rate_low';
      severity = direction === 'absent' ? 'critical' : 'warning';
    }
    const what =
      direction === 'absent' ? 'no breathing detected' : `${metric.replace('_', ' ')} ${direction}`;
    this.ctx.book.raise(this.alarmKey(deviceId, metric, direction), {
      type,
      severity,
      state: 'raised',
      atMs,
      deviceId,
      evidence: evidence.length
        ? evidence
        : [{ deviceId, kind: metric, value: direction, at: this.iso(atMs) }],
      message: `${what} in bed${values.length ? ` (${values.join(', ')})` : ''}`,
    });
  }

  private outOfBed(r: Reading): void {
    for (const metric of ['heart_rate', 'breath_rate'] as const) {
      for (const direction of ['low', 'high', 'absent'] as const) {
        this.ctx.deadlines.cancel(this.pendingKey(r.deviceId, metric, direction));
        this.evidenceLog.delete(this.pendingKey(r.deviceId, metric, direction));
        this.ctx.book.clear(
          this.alarmKey(r.deviceId, metric, direction),
          r.atMs,
          [this.evidence(r)],
          'out of bed',
        );
      }
    }
  }

  private pendingKey(deviceId: string, metric: VitalMetric, direction: Direction): string {
    return `vital:${metric}:${direction}:${deviceId}`;
  }

  private alarmKey(deviceId: string, metric: VitalMetric, direction: Direction): string {
    return `${metric}_${direction}:${deviceId}`;
  }
}
