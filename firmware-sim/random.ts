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

/** A uniform integer in `[min, max]` (both inclusive) from `random`. */
export function randomInt(random: RandomFn, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/**
 * A per-stream seed, stable when devices are reordered: `seed XOR FNV-1a(name)`.
 * Each device (and each fault injector) gets its own stream, so adding one does
 * not change the numbers another sees.
 */
export function mixSeed(seed: number, name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (seed ^ h) >>> 0;
}
