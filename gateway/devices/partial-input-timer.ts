import type { Clock, TimerHandle } from '../../common/clock.js';

/**
 * Drops a half-received frame or line after a quiet spell: a frame cut off
 * mid-way (module reset, unplug) must not be glued to the start of the next one.
 */
export class PartialInputTimer {
  private timer: TimerHandle | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly quietMs: number,
    private readonly discard: () => void,
  ) {}

  /** Call after every chunk: (re)arms the timer while something partial is buffered. */
  afterInput(hasPartial: boolean): void {
    this.timer?.cancel();
    this.timer = hasPartial
      ? this.clock.setTimeout(() => {
          this.timer = null;
          this.discard();
        }, this.quietMs)
      : null;
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }
}
