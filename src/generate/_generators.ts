/**
 * The element generators behind a source: each writes elements of one dtype, little-endian, in
 * C order one after the other (`produce`), and where the draws per element are fixed, from any
 * element on (`seek`) and at any strided set of elements (`run`, used for order F).
 *
 * @module
 */

import type { ScalarDType } from "../npy/dtype.ts";
import { Draws } from "./_draws.ts";
import { type DoubleWriter, doubleWriter } from "./_encode.ts";
import { standardNormal, standardNormalF } from "./_ziggurat.ts";
import type { MathLib } from "./math.ts";
import { MAX_BATCH, OUTPUT_OFFSET, type Pcg64Stream } from "./pcg64.ts";

/** Writes the elements at C indices `c + t * stride` (t < count) at `pos + t * outStride`. */
export type RunFn = (
  c: number,
  stride: number,
  count: number,
  view: DataView,
  bytes: Uint8Array,
  pos: number,
  outStride: number,
) => void;

/** What a source drives. */
export interface ElementGenerator {
  readonly itemsize: number;
  /** Writes the next `count` elements (C order) at `pos`. */
  produce(view: DataView, bytes: Uint8Array, pos: number, count: number): void;
  /** Makes element `k` the next one `produce` writes; `null` when the draws per element vary. */
  readonly seek: ((k: number) => void) | null;
  /** Random access to strided elements; `null` when the draws per element vary. */
  readonly run: RunFn | null;
}

/** A generator whose element `c` is a pure function of `c` (arange, linspace). */
export function valueGenerator(
  itemsize: number,
  at: (c: number, view: DataView, bytes: Uint8Array, pos: number) => void,
): ElementGenerator {
  let next = 0;
  return {
    itemsize,
    produce(view, bytes, pos, count) {
      for (let t = 0; t < count; t++, pos += itemsize) at(next + t, view, bytes, pos);
      next += count;
    },
    seek(k) {
      next = k;
    },
    run(c, stride, count, view, bytes, pos, outStride) {
      for (let t = 0; t < count; t++, c += stride, pos += outStride) at(c, view, bytes, pos);
    },
  };
}

function gcdPow2(a: number, L: number): number {
  let g = 1;
  while (g < L && a % (g * 2) === 0) g *= 2;
  return g;
}

/**
 * Random access for generators that take lane `c mod L` of draw `floor(c / L)` for element `c`:
 * the run is split into subruns with a fixed lane, each a strided run of draws.
 */
function laneRun(
  stream: Pcg64Stream,
  L: number,
  write: (
    lo: number,
    hi: number,
    lane: number,
    view: DataView,
    bytes: Uint8Array,
    pos: number,
  ) => void,
): RunFn {
  const words = new Uint32Array(stream.memory, OUTPUT_OFFSET, 2 * MAX_BATCH);
  return (c, stride, count, view, bytes, pos, outStride) => {
    const period = L / gcdPow2(stride, L);
    const drawStride = BigInt((stride * period) / L);
    for (let u = 0; u < period && u < count; u++) {
      const cu = c + u * stride;
      let draw = BigInt(Math.floor(cu / L));
      const lane = cu % L;
      let left = Math.ceil((count - u) / period);
      let p = pos + u * outStride;
      const step = outStride * period;
      while (left > 0) {
        const k = Math.min(left, MAX_BATCH);
        stream.strided(draw, drawStride, k);
        for (let v = 0; v < k; v++, p += step) {
          write(words[2 * v]!, words[2 * v + 1]!, lane, view, bytes, p);
        }
        draw += drawStride * BigInt(k);
        left -= k;
      }
    }
  };
}

/** `next_double` of a draw given as halves. */
function drawDouble(lo: number, hi: number): number {
  return (hi * 2097152 + (lo >>> 11)) * 1.1102230246251565e-16;
}

/**
 * `rng.random(n)` (float64) mapped through `transform` and stored by `write`: random (identity)
 * and uniform (`low + range * u`), then `.astype(dtype)`.
 */
export function doubleDrawGenerator(
  stream: Pcg64Stream,
  size: number,
  transform: ((u: number) => number) | null,
): ElementGenerator {
  const write: DoubleWriter = doubleWriter(size);
  const out = new Float64Array(stream.memory, OUTPUT_OFFSET, MAX_BATCH);
  const raw = new Uint8Array(stream.memory, OUTPUT_OFFSET, MAX_BATCH * 8);
  const direct = transform === null && size === 8;
  return {
    itemsize: size,
    produce(view, bytes, pos, count) {
      while (count > 0) {
        const k = Math.min(count, MAX_BATCH);
        stream.doubles(k);
        if (direct) {
          bytes.set(raw.subarray(0, k * 8), pos);
          pos += k * 8;
        } else {
          for (let i = 0; i < k; i++, pos += size) {
            const u = out[i]!;
            write(view, bytes, pos, transform === null ? u : transform(u));
          }
        }
        count -= k;
      }
    },
    seek(k) {
      stream.seek(BigInt(k));
    },
    run: laneRun(stream, 1, (lo, hi, _lane, view, bytes, pos) => {
      const u = drawDouble(lo, hi);
      write(view, bytes, pos, transform === null ? u : transform(u));
    }),
  };
}

/** `rng.random(n, dtype=np.float32)`: `next_float` of each 32-bit half, low half first. */
export function floatDrawGenerator(stream: Pcg64Stream): ElementGenerator {
  const raw = new Uint8Array(stream.memory, OUTPUT_OFFSET, MAX_BATCH * 8);
  const floats = new Uint32Array(stream.memory, OUTPUT_OFFSET, MAX_BATCH * 2);
  let pending: number | null = null; // bits of the buffered high-half float
  return {
    itemsize: 4,
    produce(view, _bytes, pos, count) {
      if (count > 0 && pending !== null) {
        view.setUint32(pos, pending, true);
        pending = null;
        pos += 4;
        count -= 1;
      }
      while (count > 0) {
        const pairs = Math.min(Math.ceil(count / 2), MAX_BATCH);
        stream.floatPairs(pairs);
        const k = Math.min(count, pairs * 2);
        _bytes.set(raw.subarray(0, k * 4), pos);
        if (k < pairs * 2) pending = floats[k]!;
        pos += k * 4;
        count -= k;
      }
    },
    seek(k) {
      stream.seek(BigInt(Math.floor(k / 2)));
      pending = null;
      if (k % 2 === 1) {
        stream.floatPairs(1);
        pending = floats[1]!;
      }
    },
    run: laneRun(stream, 2, (lo, hi, lane, view, _bytes, pos) => {
      view.setFloat32(pos, ((lane === 0 ? lo : hi) >>> 8) * 5.960464477539063e-8, true);
    }),
  };
}

/** `rng.standard_normal(n)` / `rng.normal(loc, scale, n)` as doubles, then `.astype(dtype)`. */
export function normalGenerator(
  stream: Pcg64Stream,
  size: number,
  math: MathLib,
  loc: number,
  scale: number,
  plain: boolean,
): ElementGenerator {
  const draws = new Draws(stream);
  const write = doubleWriter(size);
  return {
    itemsize: size,
    produce(view, bytes, pos, count) {
      for (let i = 0; i < count; i++, pos += size) {
        const x = standardNormal(draws, math);
        write(view, bytes, pos, plain ? x : loc + scale * x);
      }
    },
    seek: null,
    run: null,
  };
}

/** `rng.standard_normal(n, dtype=np.float32)`. */
export function normalFloatGenerator(stream: Pcg64Stream, math: MathLib): ElementGenerator {
  const draws = new Draws(stream);
  return {
    itemsize: 4,
    produce(view, _bytes, pos, count) {
      for (let i = 0; i < count; i++, pos += 4) {
        view.setFloat32(pos, standardNormalF(draws, math), true);
      }
    },
    seek: null,
    run: null,
  };
}

/** High 32 bits of the 64-bit product of two unsigned 32-bit integers. */
function mulhi32(a: number, b: number): number {
  const q = (a >>> 16) * b;
  const p = (a & 0xffff) * b;
  return Math.floor((q + Math.floor(p / 65536)) / 65536);
}

/** The parameters of `rng.integers` once checked: `off + [0, rng]`, as unsigned bits. */
export interface BoundedInts {
  readonly dtype: ScalarDType;
  /** Offset (`low` as unsigned bits of the dtype's width). */
  readonly off: bigint;
  /** Closed range: `high - low` (minus one unless endpoint). */
  readonly rng: bigint;
}

/**
 * `rng.integers(low, high, n, dtype, endpoint)` through `random_bounded_uint{8,16,32,64}_fill`
 * and `random_bounded_bool_fill` (Lemire's method, `use_masked=False`; the 8- and 16-bit ones
 * from a buffered 32-bit draw).
 */
export function integersGenerator(stream: Pcg64Stream, ints: BoundedInts): ElementGenerator {
  const draws = new Draws(stream);
  const size = ints.dtype.itemsize;
  const bits = ints.dtype.kind === "b" ? 1 : size * 8;
  const rng = ints.rng;
  const excl = rng + 1n;
  const pow2 = (excl & rng) === 0n; // rng + 1 is a power of two
  const k = excl.toString(2).length - 1; // log2(rng + 1) when pow2
  // Draw widths used for element values: 64-bit types with a range under 2^32 use 32 bits.
  const width = bits === 64 && rng <= 0xffffffffn ? 32 : bits;

  // Buffered 8/16-bit and bool draws (`buffered_uint8`, `buffered_uint16`, the bool buffer).
  let bcnt = 0;
  let buf = 0;
  const next8 = (): number => {
    if (bcnt === 0) {
      buf = draws.next32();
      bcnt = 3;
    } else {
      buf >>>= 8;
      bcnt -= 1;
    }
    return buf & 0xff;
  };
  const next16 = (): number => {
    if (bcnt === 0) {
      buf = draws.next32();
      bcnt = 1;
    } else {
      buf >>>= 16;
      bcnt -= 1;
    }
    return buf & 0xffff;
  };
  const nextBit = (): number => {
    if (bcnt === 0) {
      buf = draws.next32();
      bcnt = 31;
    } else {
      buf >>>= 1;
      bcnt -= 1;
    }
    return buf & 1;
  };

  const offLo = Number(ints.off & 0xffffffffn);
  const offHi = Number(ints.off >> 32n);
  const small = Number(rng & 0xffffffffn); // rng when it fits 32 bits
  const smallExcl = small + 1;
  const threshold32 = bits <= 32 || width === 32
    ? ((width === 8 ? 0xff : width === 16 ? 0xffff : 0xffffffff) - small) % smallExcl
    : 0;
  const excl64Lo = Number(excl & 0xffffffffn);
  const excl64Hi = Number((excl >> 32n) & 0xffffffffn);
  const threshold64 = bits === 64 && width === 64 && rng !== (1n << 64n) - 1n
    ? ((1n << 64n) - 1n - rng) % excl
    : 0n;
  const thLo = Number(threshold64 & 0xffffffffn);
  const thHi = Number(threshold64 >> 32n);

  /** One value in [0, rng] of at most 32 bits, by the method of the dtype's fill function. */
  const nextSmall = (): number => {
    if (width === 8) {
      if (small === 0xff) return next8();
      let m = next8() * smallExcl;
      let leftover = m & 0xff;
      if (leftover < smallExcl) {
        while (leftover < threshold32) {
          m = next8() * smallExcl;
          leftover = m & 0xff;
        }
      }
      return m >>> 8;
    }
    if (width === 16) {
      if (small === 0xffff) return next16();
      let m = next16() * smallExcl;
      let leftover = m & 0xffff;
      if (leftover < smallExcl) {
        while (leftover < threshold32) {
          m = next16() * smallExcl;
          leftover = m & 0xffff;
        }
      }
      return m >>> 16;
    }
    if (small === 0xffffffff) return draws.next32();
    let x = draws.next32();
    let leftover = Math.imul(x, smallExcl) >>> 0;
    if (leftover < smallExcl) {
      while (leftover < threshold32) {
        x = draws.next32();
        leftover = Math.imul(x, smallExcl) >>> 0;
      }
    }
    return mulhi32(x, smallExcl);
  };

  // Lemire's method on 64 bits: the 128-bit product of the draw and rng + 1, from 32-bit limbs.
  let resultLo = 0;
  let resultHi = 0;
  const nextLarge = (): void => {
    if (rng === (1n << 64n) - 1n) {
      draws.next64();
      resultLo = draws.lo;
      resultHi = draws.hi;
      return;
    }
    for (let first = true;; first = false) {
      draws.next64();
      const x0 = draws.lo;
      const x1 = draws.hi;
      const p00h = mulhi32(x0, excl64Lo);
      const p01l = Math.imul(x0, excl64Hi) >>> 0;
      const p01h = mulhi32(x0, excl64Hi);
      const p10l = Math.imul(x1, excl64Lo) >>> 0;
      const p10h = mulhi32(x1, excl64Lo);
      const p11l = Math.imul(x1, excl64Hi) >>> 0;
      const p11h = mulhi32(x1, excl64Hi);
      const limb0 = Math.imul(x0, excl64Lo) >>> 0;
      const s1 = p00h + p01l + p10l;
      const limb1 = s1 % 4294967296;
      const s2 = p01h + p10h + p11l + Math.floor(s1 / 4294967296);
      resultLo = s2 % 4294967296;
      resultHi = (p11h + Math.floor(s2 / 4294967296)) >>> 0;
      // leftover = (limb1, limb0); redraw while leftover < threshold (only checked when
      // leftover < rng + 1, as NumPy does; the outcome is the same).
      const belowExcl = limb1 < excl64Hi || (limb1 === excl64Hi && limb0 < excl64Lo);
      if (first && !belowExcl) return;
      if (!(limb1 < thHi || (limb1 === thHi && limb0 < thLo))) return;
    }
  };

  const writeValue = (view: DataView, pos: number, lo: number, hi: number): void => {
    // off + value, wrapping at the dtype's width.
    if (size === 8) {
      const sumLo = offLo + lo;
      view.setUint32(pos, sumLo >>> 0, true);
      view.setUint32(pos + 4, (offHi + hi + (sumLo >= 4294967296 ? 1 : 0)) >>> 0, true);
    } else if (size === 4) {
      view.setUint32(pos, (offLo + lo) >>> 0, true);
    } else if (size === 2) {
      view.setUint16(pos, (offLo + lo) & 0xffff, true);
    } else {
      view.setUint8(pos, (offLo + lo) & 0xff);
    }
  };

  const produce = (view: DataView, _bytes: Uint8Array, pos: number, count: number): void => {
    if (ints.dtype.kind === "b") {
      for (let i = 0; i < count; i++, pos++) {
        view.setUint8(pos, rng === 0n ? offLo : nextBit());
      }
      return;
    }
    if (rng === 0n) {
      for (let i = 0; i < count; i++, pos += size) writeValue(view, pos, 0, 0);
      return;
    }
    if (width <= 32) {
      for (let i = 0; i < count; i++, pos += size) writeValue(view, pos, nextSmall(), 0);
    } else {
      for (let i = 0; i < count; i++, pos += size) {
        nextLarge();
        writeValue(view, pos, resultLo, resultHi);
      }
    }
  };

  if (!pow2 && rng !== 0n) return { itemsize: size, produce, seek: null, run: null };

  // A power-of-two range never rejects: element c is lane c mod L of draw floor(c / L), shifted.
  const laneBits = ints.dtype.kind === "b" ? 1 : width;
  const L = rng === 0n ? 0 : 64 / laneBits;
  return {
    itemsize: size,
    produce,
    seek(k) {
      if (L === 0) return;
      stream.seek(BigInt(Math.floor(k / L)));
      draws.reset();
      bcnt = 0;
      const scratch = new Uint8Array(size * (k % L));
      produce(new DataView(scratch.buffer), scratch, 0, k % L);
    },
    run: L === 0
      ? (_c, _stride, count, view, _bytes, pos, outStride) => {
        for (let t = 0; t < count; t++, pos += outStride) writeValue(view, pos, 0, 0);
      }
      : laneRun(stream, L, (lo, hi, lane, view, _bytes, pos) => {
        if (laneBits === 64) {
          // draw >> (64 - k), as (hi, lo)
          const shift = 64 - k;
          if (shift === 0) writeValue(view, pos, lo, hi);
          else if (shift >= 32) writeValue(view, pos, hi >>> (shift - 32), 0);
          else {
            writeValue(view, pos, ((lo >>> shift) | (hi << (32 - shift))) >>> 0, hi >>> shift);
          }
          return;
        }
        const perWord = 32 / laneBits;
        const word = lane < perWord ? lo : hi;
        const v = (word >>> ((lane % perWord) * laneBits)) &
          (laneBits === 32 ? 0xffffffff : (1 << laneBits) - 1);
        const value = ints.dtype.kind === "b" ? v : (v >>> 0) / 2 ** (laneBits - k);
        writeValue(view, pos, Math.floor(value) >>> 0, 0);
      }),
  };
}
