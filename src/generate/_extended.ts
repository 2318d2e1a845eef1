/**
 * Just enough x87 80-bit extended arithmetic (NumPy's `longdouble` on x86-64 Linux) for
 * `LONGDOUBLE_fill` of numpy/_core/src/multiarray/arraytypes.c.src: `start + i*delta` with each
 * operation rounded to a 64-bit significand, ties to even, as the FPU rounds in its default
 * (extended) precision.
 *
 * How it works: a finite value is an exact `sign * significand * 2^exponent` with a bigint
 * significand; each operation computes the exact result and rounds it once. The operands come
 * from doubles and Python ints, so results never leave the extended exponent range; infinities
 * and NaN follow IEEE rules, a NaN made by arithmetic being the FPU's default NaN (sign set).
 *
 * @module
 */

/** An extended value: finite (`m * 2^e`, sign `neg`), infinite, or NaN. */
export interface Extended {
  readonly neg: boolean;
  /** Significand; 0n for zero. Meaningless for infinities and NaN. */
  readonly m: bigint;
  readonly e: number;
  readonly kind: "finite" | "inf" | "nan";
}

const NAN: Extended = { neg: true, m: 0n, e: 0, kind: "nan" };
const BIAS = 16383;

function bitLength(m: bigint): number {
  return m === 0n ? 0 : m.toString(2).length;
}

/** Rounds an exact value to a 64-bit significand, ties to even. */
function round(neg: boolean, m: bigint, e: number): Extended {
  if (m === 0n) return { neg, m: 0n, e: 0, kind: "finite" };
  const length = bitLength(m);
  if (length <= 64) return { neg, m, e, kind: "finite" };
  const shift = length - 64;
  let q = m >> BigInt(shift);
  const rest = m - (q << BigInt(shift));
  const half = 1n << BigInt(shift - 1);
  if (rest > half || (rest === half && (q & 1n) === 1n)) q += 1n;
  return { neg, m: q, e: e + shift, kind: "finite" };
}

/**
 * The exact extended value of a double.
 *
 * @param x A double.
 * @returns The same value.
 */
export function extendedFromDouble(x: number): Extended {
  if (Number.isNaN(x)) return { neg: false, m: 0n, e: 0, kind: "nan" };
  const neg = x < 0 || Object.is(x, -0);
  if (!Number.isFinite(x)) return { neg, m: 0n, e: 0, kind: "inf" };
  if (x === 0) return { neg, m: 0n, e: 0, kind: "finite" };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const exponent = Number(bits >> 52n);
  const fraction = bits & 0xfffffffffffffn;
  return exponent === 0
    ? { neg, m: fraction, e: -1074, kind: "finite" }
    : { neg, m: fraction | (1n << 52n), e: exponent - 1075, kind: "finite" };
}

/**
 * An integer rounded to extended, as NumPy converts a Python int (`npy_longdouble_from_PyLong`).
 *
 * @param n The integer.
 * @returns The nearest extended value (ties to even).
 */
export function extendedFromBigint(n: bigint): Extended {
  const neg = n < 0n;
  return round(neg, neg ? -n : n, 0);
}

/** Finite value's rough double, for the sign and zero-ness rules of infinities. */
function sketch(a: Extended): number {
  if (a.kind === "nan") return NaN;
  if (a.kind === "inf") return a.neg ? -Infinity : Infinity;
  if (a.m === 0n) return a.neg ? -0 : 0;
  return a.neg ? -1 : 1;
}

function fromSketch(x: number): Extended {
  if (Number.isNaN(x)) return NAN;
  return {
    neg: x < 0 || Object.is(x, -0),
    m: 0n,
    e: 0,
    kind: Number.isFinite(x) ? "finite" : "inf",
  };
}

/**
 * `a + b`, rounded.
 *
 * @param a An addend.
 * @param b An addend.
 * @returns The rounded sum.
 */
export function extendedAdd(a: Extended, b: Extended): Extended {
  if (a.kind === "nan") return a;
  if (b.kind === "nan") return b;
  if (a.kind !== "finite" || b.kind !== "finite") return fromSketch(sketch(a) + sketch(b));
  if (a.m === 0n && b.m === 0n) return { neg: a.neg && b.neg, m: 0n, e: 0, kind: "finite" };
  if (a.m === 0n) return b;
  if (b.m === 0n) return a;
  const e = Math.min(a.e, b.e);
  const am = a.m << BigInt(a.e - e);
  const bm = b.m << BigInt(b.e - e);
  const sum = (a.neg ? -am : am) + (b.neg ? -bm : bm);
  // An exact zero sum is +0 when rounding to nearest.
  return sum === 0n
    ? { neg: false, m: 0n, e: 0, kind: "finite" }
    : round(sum < 0n, sum < 0n ? -sum : sum, e);
}

/**
 * `a - b`, rounded.
 *
 * @param a The minuend.
 * @param b The subtrahend.
 * @returns The rounded difference.
 */
export function extendedSub(a: Extended, b: Extended): Extended {
  return extendedAdd(a, b.kind === "nan" ? b : { ...b, neg: !b.neg });
}

/**
 * `a * b`, rounded.
 *
 * @param a A factor.
 * @param b A factor.
 * @returns The rounded product.
 */
export function extendedMul(a: Extended, b: Extended): Extended {
  if (a.kind === "nan") return a;
  if (b.kind === "nan") return b;
  if (a.kind !== "finite" || b.kind !== "finite") return fromSketch(sketch(a) * sketch(b));
  return round(a.neg !== b.neg, a.m * b.m, a.e + b.e);
}

/**
 * Writes the 10 bytes of an extended value (little-endian; NumPy pads to 16 with zeros).
 *
 * @param a The value.
 * @param out Where to write.
 * @param offset Byte offset.
 */
export function writeExtended(a: Extended, out: Uint8Array, offset: number): void {
  let m = 0n;
  let top = a.neg ? 0x8000 : 0;
  if (a.kind === "nan") {
    m = 0xc000000000000000n;
    top |= 0x7fff;
  } else if (a.kind === "inf") {
    m = 0x8000000000000000n;
    top |= 0x7fff;
  } else if (a.m !== 0n) {
    const length = bitLength(a.m);
    m = a.m << BigInt(64 - length);
    const exponent = a.e + length - 1 + BIAS;
    if (exponent >= 0x7fff) {
      m = 0x8000000000000000n;
      top |= 0x7fff;
    } else {
      top |= exponent;
    }
  }
  for (let i = 0; i < 8; i++) {
    out[offset + i] = Number((m >> BigInt(8 * i)) & 0xffn);
  }
  out[offset + 8] = top & 0xff;
  out[offset + 9] = top >> 8;
}
