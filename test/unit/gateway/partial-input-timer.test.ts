import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../common/clock.js';
import { PartialInputTimer } from '../../../gateway/devices/partial-input-timer.js';

describe('PartialInputTimer', () => {
  it('discards a partial input only after a full quiet spell, and not when input completed', () => {
    const clock = new ManualClock();
    let discarded = 0;
    const timer = new PartialInputTimer(clock, 1_000, () => discarded++);
    timer.afterInput(true);
    clock.advance(900);
    timer.afterInput(true); // more bytes arrived: the spell starts again
    clock.advance(900);
    expect(discarded).toBe(0);
    clock.advance(100);
    expect(discarded).toBe(1);
    timer.afterInput(true);
    timer.afterInput(false); // the frame completed
    clock.advance(5_000);
    expect(discarded).toBe(1);
    timer.afterInput(true);
    timer.stop();
    expect(clock.pendingTimers()).toBe(0);
  });
});
