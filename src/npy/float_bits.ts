/**
 * Bit patterns of the floating-point formats JavaScript has no typed array
 * for: IEEE 754 binary16 (`float16`) and the x87 80-bit extended format that
 * NumPy's `longdouble` uses on x86-64 Linux.
 *
 * How it works: both conversions start from the exact bits of the double.
 * binary16 is rounded once, straight from the double, with ties to even (the
 * way NumPy's `npy_double_to_half` rounds; going through float32 first would
 * round twice and differ on some inputs). The extended format has a wider
 * exponent and a 64-bit significand with an explicit integer bit, so every
 * double, subnormals included, converts exactly; only a bigint can need
 * rounding there.
 *
 * @module
 */

/** binary16 bits of `np.nan` (positive quiet NaN). */
const HALF_NAN = 0x7e00;
/** binary16 bits of positive infinity. */
const HALF_INF = 0x7c00;
/** Bias of the x87 extended exponent. */
const EXT_BIAS = 16383;
/** Largest biased exponent of a finite x87 extended value. */
const EXT_MAX_EXP = 0x7ffe;

/** Rounds a non-negative double that is below 2^53 to an integer, ties to even. */
function roundHalfEven(y: number): number {
  const floor = Math.floor(y);
  const diff = y - floor; // exact: y < 2^53
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Sign, unbiased exponent and 52-bit fraction of a finite double. */
function doubleParts(x: number): { negative: boolean; exponent: number; fraction: bigint } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  return {
    negative: (bits >> 63n) === 1n,
    exponent: Number((bits >> 52n) & 0x7ffn),
    fraction: bits & 0xfffffffffffffn,
  };
}

/**
 * Converts a double to the bits of the nearest IEEE 754 binary16 value, as
 * NumPy does for `np.float16(x)`: round half to even, subnormal results where
 * they apply, overflow to infinity, and every NaN as `np.nan` (`0x7e00`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { float64ToFloat16Bits } from "./float_bits.ts";
 * assert.ok(float64ToFloat16Bits(1) === 0x3c00);
 * assert.ok(float64ToFloat16Bits(65520) === 0x7c00);
 * ```
 *
 * @param x The value to convert.
 * @returns The 16 bits as an unsigned integer.
 */
export function float64ToFloat16Bits(x: number): number {
  if (Number.isNaN(x)) return HALF_NAN;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  // 65520 is halfway between 65504 (the largest half) and 65536; the tie goes
  // to the even significand, which is 65536 and so infinity.
  if (a >= 65520) return sign | HALF_INF;
  if (a < 2 ** -14) {
    // Subnormal (or zero): a count of 2^-24 steps. Scaling by a power of two
    // is exact. A count that rounds up to 1024 is the smallest normal value,
    // whose bits are exactly 1024.
    return sign | roundHalfEven(a * 2 ** 24);
  }
  const exponent = doubleParts(a).exponent - 1023; // -14..15: a is a normal double
  const significand = roundHalfEven(a * 2 ** (10 - exponent)); // 1024..2048
  // A significand of 2048 carries into the exponent, which the addition does.
  return sign | (((exponent + 15) << 10) + significand - 1024);
}

/**
 * Encodes sign, binary exponent and 64-bit significand (integer bit set) as the
 * 10 little-endian bytes of an x87 extended value.
 */
function extendedBytes(negative: boolean, biasedExponent: number, significand: bigint): Uint8Array {
  const out = new Uint8Array(10);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, significand, true);
  view.setUint16(8, (negative ? 0x8000 : 0) | biasedExponent, true);
  return out;
}

/**
 * Converts a double exactly to the x87 80-bit extended format of NumPy's
 * `longdouble` on x86-64: subnormal doubles become normal extended values,
 * and NaN is written as NumPy writes `np.nan` (positive quiet NaN, significand
 * `0xc000000000000000`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { float64ToLongDouble } from "./float_bits.ts";
 * const one = float64ToLongDouble(1);
 * assert.ok(one[7] === 0x80 && one[8] === 0xff && one[9] === 0x3f);
 * ```
 *
 * @param x The value to convert.
 * @returns The 10 significant bytes, little-endian (NumPy pads them to 16 in memory).
 */
export function float64ToLongDouble(x: number): Uint8Array {
  if (Number.isNaN(x)) return extendedBytes(false, 0x7fff, 0xc000000000000000n);
  const negative = x < 0 || Object.is(x, -0);
  if (x === Infinity || x === -Infinity) {
    return extendedBytes(negative, 0x7fff, 0x8000000000000000n);
  }
  if (x === 0) return extendedBytes(negative, 0, 0n);
  const { exponent, fraction } = doubleParts(x);
  if (exponent === 0) {
    // Subnormal double: fraction * 2^-1074; shift the leading one to bit 63.
    const shift = 64 - fraction.toString(2).length;
    return extendedBytes(negative, -1074 + 63 - shift + EXT_BIAS, fraction << BigInt(shift));
  }
  return extendedBytes(
    negative,
    exponent - 1023 + EXT_BIAS,
    (1n << 63n) | (fraction << 11n),
  );
}

/**
 * Converts an integer to the nearest x87 extended value, ties to even, as
 * NumPy converts a Python `int` to `longdouble` (through `strtold`, so exactly
 * when the integer has at most 64 significant bits).
 *
 * @param n The integer.
 * @returns The 10 significant bytes, little-endian, or `null` when the
 *   magnitude is beyond the largest finite extended value.
 */
export function bigintToLongDouble(n: bigint): Uint8Array | null {
  if (n === 0n) return extendedBytes(false, 0, 0n);
  const negative = n < 0n;
  const magnitude = negative ? -n : n;
  const bitLength = magnitude.toString(2).length;
  let exponent = bitLength - 1;
  let significand: bigint;
  if (bitLength <= 64) {
    significand = magnitude << BigInt(64 - bitLength);
  } else {
    const drop = BigInt(bitLength - 64);
    significand = magnitude >> drop;
    const rest = magnitude - (significand << drop);
    const half = 1n << (drop - 1n);
    if (rest > half || (rest === half && (significand & 1n) === 1n)) {
      significand += 1n;
      if (significand === 1n << 64n) {
        significand = 1n << 63n;
        exponent += 1;
      }
    }
  }
  if (exponent + EXT_BIAS > EXT_MAX_EXP) return null;
  return extendedBytes(negative, exponent + EXT_BIAS, significand);
}
