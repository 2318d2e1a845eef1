/**
 * Checks a generated fill against an array's dtype and element count, as NumPy would evaluate
 * the fill's expression (refusing what NumPy would wrap), and builds its element generator.
 *
 * @module
 */

import { NAT, parseDatetime64 } from "../npy/datetime.ts";
import type { ScalarDType } from "../npy/dtype.ts";
import { float64ToFloat16Bits } from "../npy/float_bits.ts";
import {
  type Extended,
  extendedAdd,
  extendedFromBigint,
  extendedFromDouble,
  extendedMul,
  extendedSub,
  writeExtended,
} from "./_extended.ts";
import { doubleWriter, writeSafeInt } from "./_encode.ts";
import {
  type BoundedInts,
  doubleDrawGenerator,
  type ElementGenerator,
  floatDrawGenerator,
  integersGenerator,
  normalFloatGenerator,
  normalGenerator,
  valueGenerator,
} from "./_generators.ts";
import {
  fillError as fail,
  type GeneratedFill,
  type PyNumber,
  readNumber,
  showValue,
} from "./fill.ts";
import type { MathLib } from "./math.ts";
import { Pcg64Stream, seedPcg64 } from "./pcg64.ts";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Integer range of an integer (or bool) dtype. */
function intRange(dtype: ScalarDType): [bigint, bigint] {
  if (dtype.kind === "b") return [0n, 1n];
  const bits = BigInt(dtype.itemsize * 8);
  return dtype.kind === "i"
    ? [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n]
    : [0n, (1n << bits) - 1n];
}

/** Python's `float(int)`: correctly rounded, OverflowError beyond the double range. */
function toDouble(v: PyNumber, what: string): number {
  if (typeof v === "number") return v;
  const x = Number(v);
  if (!Number.isFinite(x)) fail(`${what} ${v} is too large to convert to a float`);
  return x;
}

/** A Python number: an int (bigint) or a float. */
type Py = { int: bigint } | { float: number };
const py = (v: PyNumber): Py => typeof v === "bigint" ? { int: v } : { float: v };
function pyFloat(a: Py, what: string): number {
  return "int" in a ? toDouble(a.int, what) : a.float;
}
function pyAdd(a: Py, b: Py, what: string): Py {
  return "int" in a && "int" in b
    ? { int: a.int + b.int }
    : { float: pyFloat(a, what) + pyFloat(b, what) };
}
function pyMul(a: Py, b: Py, what: string): Py {
  return "int" in a && "int" in b
    ? { int: a.int * b.int }
    : { float: pyFloat(a, what) * pyFloat(b, what) };
}

/**
 * The length `np.arange(start, start + (n + 1) * step, step)` computes (`_calc_length` of
 * numpy/_core/src/multiarray/ctors.c on the Python objects), or an error NumPy would raise.
 */
function arangeLength(start: Py, step: Py, n: bigint): bigint {
  const what = "Fill 'arange' value";
  const zero = "int" in step ? step.int === 0n : step.float === 0;
  if (zero) fail("Fill 'arange' step must not be zero");
  const stop = pyAdd(start, pyMul({ int: n + 1n }, step, what), what);
  const next: Py = "int" in stop && "int" in start
    ? { int: stop.int - start.int }
    : { float: pyFloat(stop, what) - pyFloat(start, what) };
  const nextNonzero = "int" in next ? next.int !== 0n : next.float !== 0;
  // True division; int / int is exact here, (n + 1) * step / step, so correctly rounded.
  const val = "int" in next && "int" in step
    ? Number(next.int / step.int)
    : pyFloat(next, what) / pyFloat(step, what);
  if (val === 0 && nextNonzero) return Object.is(val, -0) || val < 0 ? 0n : 1n;
  const ceil = Math.ceil(val);
  if (Number.isNaN(ceil)) {
    fail("Fill 'arange' length cannot be computed (NumPy: arange: cannot compute length)");
  }
  if (!(ceil >= -(2 ** 63) && ceil <= 2 ** 63 - 1)) {
    fail("Fill 'arange' is too long (NumPy: Maximum allowed size exceeded)");
  }
  return ceil < 0 ? 0n : BigInt(ceil);
}

function arange(
  fill: Extract<GeneratedFill, { kind: "arange" }>,
  dtype: ScalarDType,
  n: number,
): ElementGenerator {
  const size = dtype.itemsize;
  const count = BigInt(n);
  if (dtype.kind === "M" || dtype.kind === "m") {
    let start: bigint;
    if (dtype.kind === "M") {
      if (typeof fill.start !== "string") {
        fail(
          `Fill 'arange' start must be an ISO 8601 date string for dtype '${dtype.str}', got ${
            showValue(fill.start)
          }`,
        );
      }
      start = parseDatetime64(fill.start, dtype.unit);
    } else {
      const s = typeof fill.start === "string"
        ? readNumber(fill.start, "arange", "start")
        : fill.start;
      if (typeof s !== "bigint") {
        fail(
          `Fill 'arange' start must be an integer for dtype '${dtype.str}', got ${
            showValue(fill.start)
          }`,
        );
      }
      start = s;
    }
    if (start === NAT) fail("Fill 'arange' cannot start at NaT");
    if (typeof fill.step !== "bigint") {
      fail(
        `Fill 'arange' step must be an integer count of the unit for dtype '${dtype.str}', got ${
          showValue(fill.step)
        }`,
      );
    }
    const step = fill.step;
    if (step === 0n) fail("Fill 'arange' step must not be zero");
    const stop = start + (count + 1n) * step;
    if (stop <= NAT || stop > INT64_MAX) {
      fail(
        `Fill 'arange' values from ${start} by ${step} leave the range of dtype '${dtype.str}' (NumPy would wrap)`,
      );
    }
    return intValues(start, step, n, 8);
  }

  const startValue = typeof fill.start === "string"
    ? readNumber(fill.start, "arange", "start")
    : fill.start;
  if (dtype.kind === "i" || dtype.kind === "u") {
    if (typeof startValue !== "bigint" || typeof fill.step !== "bigint") {
      fail(`Fill 'arange' start and step must be integers for dtype '${dtype.str}'`);
    }
    const step = fill.step;
    if (step === 0n) fail("Fill 'arange' step must not be zero");
    const [min, max] = intRange(dtype);
    if (n > 0) {
      const last = startValue + (count - 1n) * step;
      for (const v of [startValue, last]) {
        if (v < min || v > max) {
          fail(
            `Fill 'arange' value ${v} does not fit dtype '${dtype.str}' (${min} to ${max}; NumPy would wrap)`,
          );
        }
      }
    }
    return intValues(startValue, step, n, size);
  }

  // Floats: the first two elements are set from Python objects, the rest by @NAME@_fill.
  const start = py(startValue);
  const step = py(fill.step);
  const length = arangeLength(start, step, count);
  if (length < count) {
    fail(
      `Fill 'arange' gives only ${length} values for ${count} elements ` +
        `(start ${showValue(startValue)} and step ${
          showValue(fill.step)
        } lose the steps to rounding)`,
    );
  }
  const second = pyAdd(start, step, "Fill 'arange' value");
  const what = "Fill 'arange' value";
  if (size === 16) {
    const toExt = (v: Py): Extended =>
      "int" in v ? extendedFromBigint(v.int) : extendedFromDouble(v.float);
    const b0 = toExt(start);
    const b1 = toExt(second);
    const delta = extendedSub(b1, b0);
    return valueGenerator(16, (c, _view, bytes, pos) => {
      const v = c === 0
        ? b0
        : c === 1
        ? b1
        : extendedAdd(b0, extendedMul(extendedFromDouble(c), delta));
      writeExtended(v, bytes, pos);
      bytes.fill(0, pos + 10, pos + 16);
    });
  }
  const d0 = pyFloat(start, what);
  const d1 = pyFloat(second, what);
  if (size === 8) {
    const delta = d1 - d0;
    const write = doubleWriter(8);
    return valueGenerator(8, (c, view, bytes, pos) => {
      write(view, bytes, pos, c === 0 ? d0 : c === 1 ? d1 : d0 + c * delta);
    });
  }
  const fround = Math.fround;
  if (size === 4) {
    const b0 = fround(d0);
    const b1 = fround(d1);
    const delta = fround(b1 - b0);
    const write = doubleWriter(4);
    return valueGenerator(4, (c, view, bytes, pos) => {
      write(view, bytes, pos, c === 0 ? b0 : c === 1 ? b1 : fround(b0 + fround(fround(c) * delta)));
    });
  }
  // float16: HALF_fill works in float32 from the two half values.
  const h0 = float64ToFloat16Bits(d0);
  const h1 = float64ToFloat16Bits(d1);
  const s = halfToFloat(h0);
  const delta = fround(halfToFloat(h1) - s);
  const write = doubleWriter(2);
  return valueGenerator(2, (c, view, bytes, pos) => {
    if (c <= 1) view.setUint16(pos, c === 0 ? h0 : h1, true);
    else write(view, bytes, pos, fround(s + fround(fround(c) * delta)));
  });
}

/** `npy_half_to_float`: the exact value of half bits. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0x1f) return f === 0 ? sign * Infinity : NaN;
  if (e === 0) return sign * f * 2 ** -24;
  return sign * (1024 + f) * 2 ** (e - 25);
}

/** `start + c * step` for integers known to fit, in doubles when every value is below 2^53. */
function intValues(start: bigint, step: bigint, n: number, size: number): ElementGenerator {
  const last = start + BigInt(Math.max(n - 1, 0)) * step;
  const safe = (v: bigint) => v >= -(2n ** 53n) && v <= 2n ** 53n;
  if (safe(start) && safe(last) && safe(step)) {
    const s = Number(start);
    const t = Number(step);
    return valueGenerator(size, (c, view, _bytes, pos) => writeSafeInt(view, pos, size, s + c * t));
  }
  return valueGenerator(size, (c, view, _bytes, pos) => {
    view.setBigUint64(pos, BigInt.asUintN(64, start + BigInt(c) * step), true);
  });
}

function linspace(
  fill: Extract<GeneratedFill, { kind: "linspace" }>,
  dtype: ScalarDType,
  n: number,
): ElementGenerator {
  const s = toDouble(fill.start, "Fill 'linspace' start");
  const e = toDouble(fill.stop, "Fill 'linspace' stop");
  const div = fill.endpoint ? n - 1 : n;
  const delta = e - s;
  const step = div > 0 ? delta / div : NaN;
  const stepZero = div > 0 && step === 0;
  const endpoint = fill.endpoint && n > 1;
  // function_base.py's linspace: y = arange(num) * step (or / div * delta), + start, last = stop.
  const value = (c: number): number => {
    if (endpoint && c === n - 1) return e;
    const y = div > 0 ? (stepZero ? (c / div) * delta : c * step) : c * delta;
    return y + s;
  };
  if (dtype.kind === "i" || dtype.kind === "u") {
    const [min, max] = intRange(dtype);
    const size = dtype.itemsize;
    // The formula is monotonic in c, so the extremes are its ends and the replaced endpoint.
    for (const c of n > 0 ? [0, n - 1, Math.max(n - 2, 0)] : []) {
      const v = Math.floor(value(c));
      if (!Number.isFinite(v) || BigInt(v) < min || BigInt(v) > max) {
        fail(
          `Fill 'linspace' value ${v} does not fit dtype '${dtype.str}' (${min} to ${max}; NumPy would wrap)`,
        );
      }
    }
    const safe = max <= 2n ** 53n && min >= -(2n ** 53n);
    return valueGenerator(size, (c, view, _bytes, pos) => {
      const v = Math.floor(value(c));
      if (safe || Math.abs(v) <= 2 ** 53) writeSafeInt(view, pos, size, v);
      else view.setBigUint64(pos, BigInt.asUintN(64, BigInt(v)), true);
    });
  }
  const write = doubleWriter(dtype.itemsize);
  return valueGenerator(dtype.itemsize, (c, view, bytes, pos) => write(view, bytes, pos, value(c)));
}

function boundedInts(
  fill: Extract<GeneratedFill, { kind: "integers" }>,
  dtype: ScalarDType,
): BoundedInts {
  const [lb, ub] = intRange(dtype);
  const closedHigh = fill.endpoint ? fill.high : fill.high - 1n;
  if (fill.low < lb) {
    fail(
      `Fill 'integers' low ${fill.low} is out of bounds for dtype '${dtype.str}' (${lb} to ${ub})`,
    );
  }
  if (closedHigh > ub) {
    fail(
      `Fill 'integers' high ${fill.high} is out of bounds for dtype '${dtype.str}' (${
        fill.endpoint ? "at most" : "below"
      } ${fill.endpoint ? ub : ub + 1n})`,
    );
  }
  if (fill.low > closedHigh) {
    fail(
      fill.endpoint
        ? `Fill 'integers' needs low <= high, got low ${fill.low} and high ${fill.high}`
        : `Fill 'integers' needs low < high, got low ${fill.low} and high ${fill.high}`,
    );
  }
  const bits = dtype.kind === "b" ? 8 : dtype.itemsize * 8;
  return { dtype, off: BigInt.asUintN(bits, fill.low), rng: closedHigh - fill.low };
}

/**
 * Checks a fill against a dtype and element count and returns the factory of its generator.
 *
 * @param fill The generated fill.
 * @param dtype An allowed scalar dtype.
 * @param n The element count.
 * @returns A function that makes a fresh generator (a new stream for the random ones).
 */
export function resolveGenerator(
  fill: GeneratedFill,
  dtype: ScalarDType,
  n: number,
): (math: MathLib) => ElementGenerator {
  const size = dtype.itemsize;
  switch (fill.kind) {
    case "arange": {
      arange(fill, dtype, n);
      return () => arange(fill, dtype, n);
    }
    case "linspace": {
      linspace(fill, dtype, n);
      return () => linspace(fill, dtype, n);
    }
    case "random": {
      const seed = seedPcg64(fill.seed);
      return () =>
        size === 4
          ? floatDrawGenerator(new Pcg64Stream(seed))
          : doubleDrawGenerator(new Pcg64Stream(seed), size, null);
    }
    case "uniform": {
      const low = toDouble(fill.low, "Fill 'uniform' low");
      const high = toDouble(fill.high, "Fill 'uniform' high");
      const range = high - low;
      if (!Number.isFinite(range)) fail("Fill 'uniform' high - low exceeds the double range");
      if (range < 0 || Object.is(range, -0)) {
        fail(`Fill 'uniform' needs low <= high, got low ${low} and high ${high}`);
      }
      const seed = seedPcg64(fill.seed);
      return () => doubleDrawGenerator(new Pcg64Stream(seed), size, (u) => low + range * u);
    }
    case "integers": {
      const ints = boundedInts(fill, dtype);
      const seed = seedPcg64(fill.seed);
      return () => integersGenerator(new Pcg64Stream(seed), ints);
    }
    case "standard_normal": {
      const seed = seedPcg64(fill.seed);
      return (math) =>
        size === 4
          ? normalFloatGenerator(new Pcg64Stream(seed), math)
          : normalGenerator(new Pcg64Stream(seed), size, math, 0, 1, true);
    }
    case "normal": {
      const loc = toDouble(fill.loc, "Fill 'normal' loc");
      const scale = toDouble(fill.scale, "Fill 'normal' scale");
      if (scale < 0 || Object.is(scale, -0)) {
        fail(`Fill 'normal' scale must not be negative, got ${scale}`);
      }
      const seed = seedPcg64(fill.seed);
      return (math) => normalGenerator(new Pcg64Stream(seed), size, math, loc, scale, false);
    }
  }
}

export { INT64_MIN };
