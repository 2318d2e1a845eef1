/**
 * Streams of generated elements for the writer: each call writes the next whole elements, in the
 * file's order and the dtype's byte order, into the caller's buffer.
 *
 * @module
 */

import type { DType } from "../npy/dtype.ts";
import { byteswap } from "./_encode.ts";
import type { ElementGenerator } from "./_generators.ts";
import { resolveGenerator } from "./_resolve.ts";
import { allowedDType, fillError as fail, type GeneratedFill } from "./fill.ts";
import type { MathLib } from "./math.ts";

/** The most elements a generated fill may have (element indices stay exact doubles). */
export const MAX_GENERATED_ELEMENTS = 2 ** 53;
/** Elements in one block of an order-F array (see {@link openSource}). */
const BLOCK_ELEMENTS = 1 << 16;

/** Where a source starts and stops, in elements of the file's order. */
export interface SourceRange {
  /** First element to write. @default 0n */
  readonly from?: bigint;
  /** Element to stop before. @default the element count */
  readonly to?: bigint;
}

/** A stream of one array's generated elements. */
export interface GeneratedSource {
  /** Bytes of one element. */
  readonly itemsize: number;
  /** Elements left to write. */
  readonly remaining: bigint;
  /**
   * Writes the next elements into `out`: as many whole elements as fit, fewer only at the end.
   * The bytes never depend on the sizes of the buffers given.
   *
   * @param out The caller's buffer; at least one element long.
   * @returns Bytes written (a multiple of {@link itemsize}); 0 when the stream is done.
   */
  next(out: Uint8Array): number;
}

interface Checked {
  readonly make: (math: MathLib) => ElementGenerator;
  readonly dims: number[];
  readonly fortran: boolean;
  readonly count: number;
  readonly swap: boolean;
  readonly itemsize: number;
  readonly randomAccess: boolean;
}

function checked(
  fill: GeneratedFill,
  dtype: DType,
  shape: readonly bigint[],
  order: "C" | "F",
): Checked {
  const scalar = allowedDType(fill, dtype);
  let count = 1n;
  for (const d of shape) count *= d;
  if (count > BigInt(MAX_GENERATED_ELEMENTS)) {
    fail(`Fill '${fill.kind}' supports at most 2^53 elements, the array has ${count}`);
  }
  const n = Number(count);
  const make = resolveGenerator(fill, scalar, n);
  // Axes of length 1 change neither order; with at most one longer axis, F is C.
  const dims = shape.map(Number).filter((d) => d !== 1);
  const fortran = order === "F" && dims.length > 1 && n > 0;
  const randomAccess = fill.kind === "arange" || fill.kind === "linspace" ||
    fill.kind === "random" || fill.kind === "uniform" ||
    (fill.kind === "integers" && isPowerOfTwoRange(fill));
  if (fortran && !randomAccess) {
    fail(
      fill.kind === "integers"
        ? `Fill 'integers' supports order F only when the count of possible values is a power of two, got ${
          rangeOf(fill)
        }`
        : `Fill '${fill.kind}' does not support order F; use order C`,
    );
  }
  return {
    make,
    dims,
    fortran,
    count: n,
    swap: scalar.byteOrder === ">",
    itemsize: scalar.itemsize,
    randomAccess,
  };
}

function rangeOf(fill: Extract<GeneratedFill, { kind: "integers" }>): bigint {
  return fill.high - fill.low + (fill.endpoint ? 1n : 0n);
}

function isPowerOfTwoRange(fill: Extract<GeneratedFill, { kind: "integers" }>): boolean {
  const r = rangeOf(fill);
  return r > 0n && (r & (r - 1n)) === 0n;
}

/**
 * Checks a generated fill against the array it fills, before anything is written.
 *
 * @param fill The fill, from {@link parseGeneratedFill}.
 * @param dtype The array's dtype.
 * @param shape The array's shape.
 * @param order The array's order.
 * @throws {NpyallocError} `E_FILL` for a dtype the generator does not take (complex, string,
 *   void and structured dtypes are refused by all), `low >= high` (`low > high` with endpoint),
 *   bounds outside the dtype, values of `arange` or `linspace` that do not fit an integer dtype
 *   (NumPy would wrap), an `arange` whose step is zero or lost to rounding, order F where the
 *   generator refuses it, or more than 2^53 elements.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDType } from "../npy/dtype.ts";
 * import { checkGeneratedFill } from "./source.ts";
 * const fill = { kind: "arange", start: 250n, step: 1n } as const;
 * assert.throws(() => checkGeneratedFill(fill, parseDType("uint8"), [10n], "C"), /does not fit/);
 * ```
 */
export function checkGeneratedFill(
  fill: GeneratedFill,
  dtype: DType,
  shape: readonly bigint[],
  order: "C" | "F",
): void {
  checked(fill, dtype, shape, order);
}

/**
 * Whether {@link openSource} accepts a `range` for this fill: the generators whose draws per
 * element are fixed (`arange`, `linspace`, `random`, `uniform`, and `integers` whose count of
 * possible values is a power of two), so one array can be split between writers.
 *
 * @param fill The fill.
 * @param dtype The array's dtype.
 * @param shape The array's shape.
 * @param order The array's order.
 * @returns `true` when any range is allowed.
 * @throws {NpyallocError} As {@link checkGeneratedFill}.
 */
export function supportsRange(
  fill: GeneratedFill,
  dtype: DType,
  shape: readonly bigint[],
  order: "C" | "F",
): boolean {
  return checked(fill, dtype, shape, order).randomAccess;
}

/**
 * Opens the stream of an array's generated data: the bytes `np.save` writes after the header, for
 * the values of the fill's NumPy expression in C order, stored in the array's order and byte
 * order. Memory stays bounded (about 1 MiB) whatever the array's size.
 *
 * Order F (with two or more axes longer than 1) goes block by block through the file: a block
 * holds whole leading axes and a slice of the next, at most 65,536 elements; it is computed by
 * strided runs of C indices along its longest axis (PCG64 jumps ahead by any number of draws, so
 * random generators have random access too), scattered into the block, and copied out.
 *
 * @param fill The fill, from {@link parseGeneratedFill}.
 * @param dtype The array's dtype.
 * @param shape The array's shape.
 * @param order The array's order.
 * @param math The C library's `exp`, `log1p` and `log1pf` (used by the normal generators).
 * @param range Elements to write, in file order; only where {@link supportsRange} says so.
 * @returns The stream.
 * @throws {NpyallocError} As {@link checkGeneratedFill}.
 * @throws {RangeError} For a range outside the array, or a range this fill does not support.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDType } from "../npy/dtype.ts";
 * import { openSource } from "./source.ts";
 * const source = openSource(
 *   { kind: "arange", start: 0n, step: 3n },
 *   parseDType("<i2"),
 *   [4n],
 *   "C",
 *   { exp: Math.exp, log1p: Math.log1p, log1pf: (x) => Math.fround(Math.log1p(x)) },
 * );
 * const out = new Uint8Array(64);
 * assert.equal(source.next(out), 8);
 * assert.deepEqual([...out.subarray(0, 8)], [0, 0, 3, 0, 6, 0, 9, 0]);
 * assert.equal(source.next(out), 0);
 * ```
 */
export function openSource(
  fill: GeneratedFill,
  dtype: DType,
  shape: readonly bigint[],
  order: "C" | "F",
  math: MathLib,
  range: SourceRange = {},
): GeneratedSource {
  const c = checked(fill, dtype, shape, order);
  const from = range.from ?? 0n;
  const to = range.to ?? BigInt(c.count);
  if (from < 0n || to < from || to > BigInt(c.count)) {
    throw new RangeError(`Range ${from} to ${to} is outside the array's ${c.count} elements`);
  }
  if ((from > 0n || to < BigInt(c.count)) && !c.randomAccess) {
    throw new RangeError(`Fill '${fill.kind}' cannot start or stop inside the array`);
  }
  const gen = c.make(math);
  const size = c.itemsize;
  let position = Number(from);
  const end = Number(to);
  if (!c.fortran) {
    if (position > 0) gen.seek!(position);
    return {
      itemsize: size,
      get remaining() {
        return BigInt(end - position);
      },
      next(out) {
        const k = Math.min(Math.floor(out.length / size), end - position);
        if (k <= 0) {
          if (end > position) {
            throw new RangeError(`A buffer of ${out.length} bytes holds no element`);
          }
          return 0;
        }
        const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
        gen.produce(view, out, 0, k);
        if (c.swap) byteswap(out, 0, k * size, size);
        position += k;
        return k * size;
      },
    };
  }
  return fortranSource(c, gen, position, end);
}

/** The order-F stream: blocks of the file computed from strided runs (see {@link openSource}). */
function fortranSource(
  c: Checked,
  gen: ElementGenerator,
  start: number,
  end: number,
): GeneratedSource {
  const dims = c.dims;
  const size = c.itemsize;
  const r = dims.length;
  // C strides, and the F-order prefix products.
  const cStride: number[] = new Array(r).fill(1);
  for (let j = r - 2; j >= 0; j--) cStride[j] = cStride[j + 1]! * dims[j + 1]!;
  let m = 0;
  let prefix = 1; // product of dims[0..m-1]
  while (m < r - 1 && prefix * dims[m]! < BLOCK_ELEMENTS) prefix *= dims[m++]!;
  const chunk = Math.max(1, Math.min(dims[m]!, Math.floor(BLOCK_ELEMENTS / prefix)));
  const blockFull = prefix * chunk;
  const outerSpan = prefix * dims[m]!; // F elements per step of the axes after m
  const buffer = new Uint8Array(blockFull * size);
  const view = new DataView(buffer.buffer);
  let blockStart = -1; // F position of the block in the buffer
  let blockLength = 0;
  let position = start;

  /** Computes the block that holds F position p. */
  const fillBlock = (p: number): void => {
    const outer = Math.floor(p / outerSpan);
    const a = Math.floor((p - outer * outerSpan) / blockFull) * chunk;
    const b = Math.min(chunk, dims[m]! - a);
    // C index of the block's first element: the outer axes' indices, then a along axis m.
    let base = a * cStride[m]!;
    let rest = outer;
    for (let j = m + 1; j < r; j++) {
      base += (rest % dims[j]!) * cStride[j]!;
      rest = Math.floor(rest / dims[j]!);
    }
    const lengths = dims.slice(0, m + 1);
    lengths[m] = b;
    const fStride: number[] = [];
    let f = 1;
    for (let j = 0; j <= m; j++) {
      fStride.push(f);
      f *= lengths[j]!;
    }
    let R = 0;
    for (let j = 1; j <= m; j++) if (lengths[j]! > lengths[R]!) R = j;
    const others = [...Array(m + 1).keys()].filter((j) => j !== R);
    const index = new Array(m + 1).fill(0);
    for (;;) {
      let cStart = base;
      let q = 0;
      for (const j of others) {
        cStart += index[j]! * cStride[j]!;
        q += index[j]! * fStride[j]!;
      }
      gen.run!(cStart, cStride[R]!, lengths[R]!, view, buffer, q * size, fStride[R]! * size);
      let j = 0;
      for (; j < others.length; j++) {
        const axis = others[j]!;
        if (++index[axis] < lengths[axis]!) break;
        index[axis] = 0;
      }
      if (j === others.length) break;
    }
    blockStart = outer * outerSpan + a * prefix;
    blockLength = prefix * b;
    if (c.swap) byteswap(buffer, 0, blockLength * size, size);
  };

  return {
    itemsize: size,
    get remaining() {
      return BigInt(end - position);
    },
    next(out) {
      let written = 0;
      let room = Math.floor(out.length / size);
      if (room === 0 && position < end) {
        throw new RangeError(`A buffer of ${out.length} bytes holds no element`);
      }
      while (room > 0 && position < end) {
        if (position < blockStart || position >= blockStart + blockLength) fillBlock(position);
        const k = Math.min(room, blockStart + blockLength - position, end - position);
        const at = (position - blockStart) * size;
        out.set(buffer.subarray(at, at + k * size), written * size);
        written += k;
        room -= k;
        position += k;
      }
      return written * size;
    },
  };
}
