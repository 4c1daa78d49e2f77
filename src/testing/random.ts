/**
 * The seeded random source of a virtual run. A run must be a pure function
 * of its seed, so nothing under `src/testing/` calls `Math.random()`: jitter,
 * loss and user code all draw from one of these. xoshiro128** is small,
 * fast and well studied; splitmix32 spreads a small integer seed over its
 * 128-bit state so that seeds 0, 1, 2 give unrelated streams.
 */

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A deterministic generator of numbers in [0, 1) (xoshiro128**).
 * @example
 * const r = seededRandom(42);
 * const a = r(), b = r();   // the same two numbers on every run
 */
export function seededRandom(seed: number): () => number {
  const init = splitmix32(seed);
  let a = init(), b = init(), c = init(), d = init();
  return () => {
    const out = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a; d ^= b; b ^= c; a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return out / 4294967296;
  };
}

function rotl(x: number, k: number): number { return (x << k) | (x >>> (32 - k)); }
