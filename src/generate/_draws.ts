/**
 * Draws consumed one at a time by the generators written in JavaScript (bounded integers, the
 * ziggurat): `next_uint64`, `next_uint32` with PCG64's buffered high half (`pcg64_next32`),
 * `next_double` and `next_float`, over batches of raw draws from the WebAssembly kernel.
 *
 * @module
 */

import { OUTPUT_OFFSET, type Pcg64Stream } from "./pcg64.ts";

const BATCH = 2048;
const TWO_32 = 4294967296;

/** A sequential reader of one stream's draws. */
export class Draws {
  readonly stream: Pcg64Stream;
  readonly #words: Uint32Array;
  #index = BATCH;
  /** The two halves of the last {@link next64} draw. */
  hi = 0;
  lo = 0;
  #hasHalf = false;
  #half = 0;

  /** @param stream The stream to read. */
  constructor(stream: Pcg64Stream) {
    this.stream = stream;
    this.#words = new Uint32Array(stream.memory, OUTPUT_OFFSET, 2 * BATCH);
  }

  /** Forgets buffered draws and the buffered half (after a seek of the stream). */
  reset(): void {
    this.#index = BATCH;
    this.#hasHalf = false;
  }

  /** `next_uint64`: sets {@link hi} and {@link lo}. */
  next64(): void {
    if (this.#index === BATCH) {
      this.stream.raw(BATCH);
      this.#index = 0;
    }
    const i = 2 * this.#index++;
    this.lo = this.#words[i]!;
    this.hi = this.#words[i + 1]!;
  }

  /**
   * `pcg64_next32`: the low half of a new draw, keeping the high half for the next call.
   *
   * @returns An unsigned 32-bit integer.
   */
  next32(): number {
    if (this.#hasHalf) {
      this.#hasHalf = false;
      return this.#half;
    }
    this.next64();
    this.#hasHalf = true;
    this.#half = this.hi;
    return this.lo;
  }

  /**
   * `next_double`: `(next_uint64 >> 11) * 2^-53`.
   *
   * @returns A double in [0, 1).
   */
  nextDouble(): number {
    this.next64();
    return ((this.hi * 2097152) + (this.lo >>> 11)) * 1.1102230246251565e-16;
  }

  /**
   * `next_float`: `(next_uint32 >> 8) * 2^-24`, exact in float32.
   *
   * @returns A float32 value in [0, 1).
   */
  nextFloat(): number {
    return (this.next32() >>> 8) * 5.960464477539063e-8;
  }
}

/** `2^32`, for assembling 64-bit values from halves. */
export { TWO_32 };
