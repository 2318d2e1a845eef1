/**
 * NumPy's `SeedSequence` (numpy/random/bit_generator.pyx): turns a seed (a non-negative integer of
 * any size, or a list of them) into the 128-bit state and increment of PCG64, exactly as
 * `np.random.default_rng(seed)` does.
 *
 * @module
 */

const INIT_A = 0x43b0d7e5;
const MULT_A = 0x931e8875;
const INIT_B = 0x8b51f9dd;
const MULT_B = 0x58f38ded;
const MIX_MULT_L = 0xca01f9dd;
const MIX_MULT_R = 0x4973f715;
const POOL_SIZE = 4;

/** A seed as NumPy takes it: a non-negative integer, or a list of them. */
export type Seed = bigint | readonly bigint[];

/** `_int_to_uint32_array`: 32-bit words, lowest first; zero is one word. */
function intWords(n: bigint, out: number[]): void {
  if (n === 0n) {
    out.push(0);
    return;
  }
  while (n > 0n) {
    out.push(Number(n & 0xffffffffn));
    n >>= 32n;
  }
}

/**
 * The entropy words of a seed, as `_coerce_to_uint32_array` makes them: each integer split into
 * 32-bit words lowest first, the words of a list's items concatenated.
 *
 * @param seed A non-negative integer or a list of them.
 * @returns The 32-bit words.
 * @throws {RangeError} For a negative integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { entropyWords } from "./seed_sequence.ts";
 * assert.deepEqual(entropyWords([12345n, 0x10deadbeefn]), [12345, 0xdeadbeef, 0x10]);
 * ```
 */
export function entropyWords(seed: Seed): number[] {
  const out: number[] = [];
  for (const n of typeof seed === "bigint" ? [seed] : seed) {
    if (n < 0n) throw new RangeError("A seed must be a non-negative integer");
    intWords(n, out);
  }
  return out;
}

/** `hashmix` with its in-out hash constant. */
function hashmix(value: number, hash: { c: number }): number {
  value = (value ^ hash.c) >>> 0;
  hash.c = Math.imul(hash.c, MULT_A) >>> 0;
  value = Math.imul(value, hash.c) >>> 0;
  return (value ^ (value >>> 16)) >>> 0;
}

/** `mix`. */
function mix(x: number, y: number): number {
  const result = (Math.imul(MIX_MULT_L, x) - Math.imul(MIX_MULT_R, y)) >>> 0;
  return (result ^ (result >>> 16)) >>> 0;
}

/**
 * The entropy pool of `SeedSequence(seed)` (`mix_entropy`, pool size 4, no spawn key).
 *
 * @param seed A non-negative integer or a list of them.
 * @returns The four 32-bit pool words.
 */
export function seedPool(seed: Seed): number[] {
  const entropy = entropyWords(seed);
  const pool = new Array<number>(POOL_SIZE).fill(0);
  const hash = { c: INIT_A };
  for (let i = 0; i < POOL_SIZE; i++) {
    pool[i] = hashmix(i < entropy.length ? entropy[i]! : 0, hash);
  }
  for (let src = 0; src < POOL_SIZE; src++) {
    for (let dst = 0; dst < POOL_SIZE; dst++) {
      if (src !== dst) pool[dst] = mix(pool[dst]!, hashmix(pool[src]!, hash));
    }
  }
  for (let src = POOL_SIZE; src < entropy.length; src++) {
    for (let dst = 0; dst < POOL_SIZE; dst++) {
      pool[dst] = mix(pool[dst]!, hashmix(entropy[src]!, hash));
    }
  }
  return pool;
}

/**
 * `SeedSequence(seed).generate_state(words, np.uint64)`: 64-bit words, each made of two 32-bit
 * words little-endian.
 *
 * @param seed A non-negative integer or a list of them.
 * @param words How many 64-bit words.
 * @returns The words.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateState } from "./seed_sequence.ts";
 * // np.random.SeedSequence(0).generate_state(1, np.uint64)
 * assert.equal(generateState(0n, 1)[0], 0xdb2cd7e7b0f478ben);
 * ```
 */
export function generateState(seed: Seed, words: number): bigint[] {
  const pool = seedPool(seed);
  let hashConst = INIT_B;
  const state32: number[] = [];
  for (let i = 0; i < words * 2; i++) {
    let value = (pool[i % POOL_SIZE]! ^ hashConst) >>> 0;
    hashConst = Math.imul(hashConst, MULT_B) >>> 0;
    value = Math.imul(value, hashConst) >>> 0;
    state32.push((value ^ (value >>> 16)) >>> 0);
  }
  const out: bigint[] = [];
  for (let i = 0; i < words; i++) {
    out.push((BigInt(state32[2 * i + 1]!) << 32n) | BigInt(state32[2 * i]!));
  }
  return out;
}
