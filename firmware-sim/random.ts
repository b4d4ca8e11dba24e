/** A source of uniform numbers in [0, 1), like `Math.random`. Injected so tests are deterministic. */
export type RandomFn = () => number;

/**
 * A small seeded PRNG (mulberry32): the same seed gives the same sequence on
 * every Node version, which `Math.random` does not promise.
 */
export function seededRandom(seed: number): RandomFn {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
