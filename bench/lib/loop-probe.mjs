/**
 * Preloaded into the relay by bench/capacity.ts (`NODE_OPTIONS=--import …`), so that a step's latency can be
 * told apart as the relay being busy or the relay's event loop being held up (a burst of synchronous SQLite
 * commits, a garbage collection): once a second it prints the delay of its event loop over that second on
 * stderr. It changes nothing in the relay; a histogram sampled every 10 ms costs next to nothing.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

const RESOLUTION_MS = 10;
const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
histogram.enable();
// The histogram records whole intervals between checks: the delay is what exceeds the resolution.
const ms = (ns) => Math.max(0, (ns - RESOLUTION_MS * 1e6) / 1e6).toFixed(1);
setInterval(() => {
  process.stderr.write(`homebed-bench-loop p99=${ms(histogram.percentile(99))} max=${ms(histogram.max)}\n`);
  histogram.reset();
}, 1000).unref();
