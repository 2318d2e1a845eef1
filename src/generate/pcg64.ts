/**
 * NumPy's PCG64 bit generator (numpy/random/_pcg64.pyx, src/pcg64/pcg64.h and pcg64.c): a 128-bit
 * linear congruential generator with the XSL RR output, seeded by `SeedSequence`.
 *
 * How it works: seeding and jumps are rare and use bigints (`pcg64_set_seed`,
 * `pcg_advance_lcg_128`). Draws come from a small WebAssembly module (`pcg64.wat`) that keeps the
 * state as two 64-bit halves and draws from four interleaved lanes, so nothing in the hot loop
 * allocates or touches a bigint. `next32` buffering (the high half of a draw kept for the next
 * 32-bit request, `pcg64_next32`) is kept here, in JavaScript, by the callers that need it.
 *
 * @module
 */

import { PCG64_WASM_BASE64 } from "./_pcg64_wasm.ts";
import { generateState, type Seed } from "./seed_sequence.ts";

const MASK128 = (1n << 128n) - 1n;
const MASK64 = (1n << 64n) - 1n;
/** PCG_DEFAULT_MULTIPLIER_128. */
export const PCG64_MULTIPLIER = (2549297995355413924n << 64n) + 4865540595714422341n;
/** Lanes of the WebAssembly stream (see pcg64.wat). */
const LANES = 4;
/** Byte offsets inside the module's memory (see pcg64.wat). */
const MAP_K = 64;
const RUN_STATE = 96;
const MAP_RUN = 112;
const MAP_JUMP = 144;
/** Where kernels write their output. */
export const OUTPUT_OFFSET = 1024;
/** The most draws one kernel call writes (the output area is sized for this). */
export const MAX_BATCH = 1 << 16;

/** An affine map of the 128-bit state: `state * mult + plus (mod 2^128)`; a jump of some draws. */
export interface Jump {
  readonly mult: bigint;
  readonly plus: bigint;
}

/**
 * The map that advances a PCG64 state by `delta` draws (`pcg_advance_lcg_128`); `delta` is taken
 * modulo 2^128, so a negative one goes back.
 *
 * @param delta Number of draws.
 * @param inc The generator's increment.
 * @returns The map.
 */
export function jumpOf(delta: bigint, inc: bigint): Jump {
  let d = ((delta % (1n << 128n)) + (1n << 128n)) & MASK128;
  let curMult = PCG64_MULTIPLIER;
  let curPlus = inc;
  let accMult = 1n;
  let accPlus = 0n;
  while (d > 0n) {
    if (d & 1n) {
      accMult = (accMult * curMult) & MASK128;
      accPlus = (accPlus * curMult + curPlus) & MASK128;
    }
    curPlus = ((curMult + 1n) * curPlus) & MASK128;
    curMult = (curMult * curMult) & MASK128;
    d >>= 1n;
  }
  return { mult: accMult, plus: accPlus };
}

/**
 * Applies a jump to a state.
 *
 * @param jump The map.
 * @param state A 128-bit state.
 * @returns The new state.
 */
export function applyJump(jump: Jump, state: bigint): bigint {
  return (jump.mult * state + jump.plus) & MASK128;
}

/** The seeded generator: its state before the first draw and its increment. */
export interface Pcg64Seed {
  /** State before draw 0 (draw 0 steps it once, then outputs). */
  readonly state: bigint;
  readonly inc: bigint;
}

/**
 * Seeds PCG64 as `np.random.PCG64(seed)` does: `SeedSequence(seed).generate_state(4, uint64)`,
 * then `pcg64_set_seed` (`pcg_setseq_128_srandom_r`).
 *
 * @param seed A non-negative integer or a list of them.
 * @returns The state before the first draw, and the increment.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { seedPcg64 } from "./pcg64.ts";
 * // np.random.PCG64(0).state["state"]
 * const { state, inc } = seedPcg64(0n);
 * assert.equal(state, 0x1aa1b5345996452d09585eb7a69561e3n);
 * assert.equal(inc, 0x418ddadb3af71a82588133bc447873a9n);
 * ```
 */
export function seedPcg64(seed: Seed): Pcg64Seed {
  const [s0, s1, i0, i1] = generateState(seed, 4) as [bigint, bigint, bigint, bigint];
  const initState = (s0 << 64n) | s1;
  const initSeq = (i0 << 64n) | i1;
  const inc = ((initSeq << 1n) | 1n) & MASK128;
  let state = (0n * PCG64_MULTIPLIER + inc) & MASK128;
  state = (state + initState) & MASK128;
  state = (state * PCG64_MULTIPLIER + inc) & MASK128;
  return { state, inc };
}

/** The XSL RR output of a state, as a bigint (for tests and seeding checks). */
export function outputOf(state: bigint): bigint {
  const hi = state >> 64n;
  const x = (hi ^ state) & MASK64;
  const rot = hi >> 58n;
  return ((x >> rot) | (x << ((64n - rot) & 63n))) & MASK64;
}

/** The few WebAssembly APIs used, declared here: the Node.js build's type libraries lack them. */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: object };
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Kernels {
  readonly memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  seqRaw(ptr: number, count: number): void;
  seqF64(ptr: number, count: number): void;
  seqF32(ptr: number, pairs: number): void;
  runRaw(ptr: number, count: number): void;
  jump(): void;
  getPhase(): number;
  setPhase(phase: number): void;
}

let compiled: object | undefined;

function wasmModule(): object {
  if (compiled === undefined) {
    const text = atob(PCG64_WASM_BASE64);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    compiled = new Wasm.Module(bytes);
  }
  return compiled;
}

/**
 * One PCG64 stream, drawn by the WebAssembly kernels. Each stream has its own module instance
 * (about 1 MiB of memory), so streams never share state.
 */
export class Pcg64Stream {
  readonly #seed: Pcg64Seed;
  readonly #k: Kernels;
  readonly #words: BigUint64Array;
  /** Index of the next sequential draw. */
  #position = 0n;
  /** The draw whose state is in the run state, if any. */
  #runDraw: bigint | null = null;
  readonly #jumps = new Map<bigint, Jump>();

  /**
   * @param seed The seeded state (see {@link seedPcg64}).
   */
  constructor(seed: Pcg64Seed) {
    this.#seed = seed;
    const instance = new Wasm.Instance(wasmModule(), {});
    this.#k = instance.exports as unknown as Kernels;
    const bytesNeeded = OUTPUT_OFFSET + MAX_BATCH * 8;
    const have = this.#k.memory.buffer.byteLength;
    if (have < bytesNeeded) this.#k.memory.grow(Math.ceil((bytesNeeded - have) / 65536));
    this.#words = new BigUint64Array(this.#k.memory.buffer, 0, OUTPUT_OFFSET / 8);
    this.#writeMap(MAP_K, this.jump(BigInt(LANES)));
    this.seek(0n);
  }

  /** The module's memory (its buffer never changes after construction). */
  get memory(): ArrayBuffer {
    return this.#k.memory.buffer;
  }

  /** Index of the next sequential draw. */
  get position(): bigint {
    return this.#position;
  }

  /**
   * The map that jumps `delta` draws, cached (a few distinct deltas are used over and over).
   *
   * @param delta Number of draws, modulo 2^128.
   * @returns The map.
   */
  jump(delta: bigint): Jump {
    let jump = this.#jumps.get(delta);
    if (jump === undefined) {
      if (this.#jumps.size >= 256) this.#jumps.clear();
      jump = jumpOf(delta, this.#seed.inc);
      this.#jumps.set(delta, jump);
    }
    return jump;
  }

  /** The state of draw `d` (the state its LCG step produced). */
  stateOfDraw(d: bigint): bigint {
    return applyJump(jumpOf(d + 1n, this.#seed.inc), this.#seed.state);
  }

  #writeMap(offset: number, jump: Jump): void {
    const w = this.#words;
    const i = offset / 8;
    w[i] = jump.mult >> 64n;
    w[i + 1] = jump.mult & MASK64;
    w[i + 2] = jump.plus >> 64n;
    w[i + 3] = jump.plus & MASK64;
  }

  #writeState(offset: number, state: bigint): void {
    const i = offset / 8;
    this.#words[i] = state >> 64n;
    this.#words[i + 1] = state & MASK64;
  }

  /**
   * Makes draw `d` the next sequential draw (`PCG64.advance` from the seeded state).
   *
   * @param d Index of the draw.
   */
  seek(d: bigint): void {
    // Lane j holds the state one lane step (LANES draws) before draw d + j.
    for (let j = 0; j < LANES; j++) {
      this.#writeState(16 * j, this.stateOfDraw(d + BigInt(j - LANES)));
    }
    this.#k.setPhase(0);
    this.#position = d;
  }

  /**
   * Writes `count` raw 64-bit draws (little-endian) at {@link OUTPUT_OFFSET} of {@link memory}.
   *
   * @param count At most {@link MAX_BATCH}.
   */
  raw(count: number): void {
    this.#k.seqRaw(OUTPUT_OFFSET, count);
    this.#position += BigInt(count);
  }

  /**
   * Writes `count` doubles (`next_double` of each draw) at {@link OUTPUT_OFFSET}.
   *
   * @param count At most {@link MAX_BATCH}.
   */
  doubles(count: number): void {
    this.#k.seqF64(OUTPUT_OFFSET, count);
    this.#position += BigInt(count);
  }

  /**
   * Writes `2 * pairs` floats (`next_float` of the low, then the high half of each draw) at
   * {@link OUTPUT_OFFSET}.
   *
   * @param pairs At most {@link MAX_BATCH}.
   */
  floatPairs(pairs: number): void {
    this.#k.seqF32(OUTPUT_OFFSET, pairs);
    this.#position += BigInt(pairs);
  }

  /**
   * Writes the raw draws `d, d + stride, d + 2 * stride, ...` (`count` of them) at
   * {@link OUTPUT_OFFSET}, without moving the sequential position. Consecutive calls jump from
   * where the previous one ended, with cached maps: cheap when the gaps repeat.
   *
   * @param d Index of the first draw.
   * @param stride Draws between two outputs.
   * @param count At most {@link MAX_BATCH}.
   */
  strided(d: bigint, stride: bigint, count: number): void {
    if (this.#runDraw === null) {
      this.#writeState(RUN_STATE, this.stateOfDraw(d));
    } else if (this.#runDraw !== d) {
      this.#writeMap(MAP_JUMP, this.jump(d - this.#runDraw));
      this.#k.jump();
    }
    this.#writeMap(MAP_RUN, this.jump(stride));
    this.#k.runRaw(OUTPUT_OFFSET, count);
    this.#runDraw = d + stride * BigInt(count);
  }
}
