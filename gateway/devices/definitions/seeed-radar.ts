import type { Reading } from '../../telemetry/reading.js';
import type { SeeedReport } from '../protocols/seeed/index.js';

/**
 * Device definition for the Seeed 60 GHz radars (MR60BHA1 bed radar,
 * MR60FDA1 fall radar): decoded reports → normalized readings. Pure data
 * mapping; identity replies and heartbeats produce no reading.
 */
export function seeedReportToReadings(deviceId: string, report: SeeedReport, atMs: number): Reading[] {
  const r = (metric: Reading['metric'], value: Reading['value']): Reading => ({
    deviceId,
    metric,
    value,
    atMs,
  });
  switch (report.type) {
    case 'presence':
      return [r('presence', report.present)];
    case 'motion':
      return [r('motion', report.motion)];
    case 'body_movement':
      return [r('body_movement', report.value)];
    case 'bed_state':
      return [r('bed_state', report.state), r('in_bed', report.state === 'in_bed')];
    case 'sleep_state':
      return [r('sleep_state', report.state)];
    case 'heart_rate':
      return [r('heart_rate', report.bpm)];
    case 'breath_rate':
      return [r('breath_rate', report.perMin)];
    case 'breath_status':
      return [r('breath_status', report.status)];
    case 'fall':
      return [r('fall', report.fallen)];
    case 'distance':
      return [r('distance', report.cm)];
    case 'stationary_residency':
      return [r('stationary_residency', report.present)];
    default:
      return [];
  }
}
