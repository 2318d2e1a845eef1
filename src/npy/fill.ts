/**
 * Fill values: the bytes of one element, exactly as `np.full(shape, fill,
 * dtype)` stores each element, with every lossy NumPy conversion (wrap-around,
 * truncation, silent cuts) turned into an error.
 *
 * How it works: the zero fill (omitted, `null`, `0`) is all-zero bytes for
 * every dtype. Otherwise the dtype is walked recursively: a structured dtype
 * takes a mapping of field names and writes each field at its offset, a
 * subarray takes one value for all its items or one per item (the rule is
 * {@linkcode encodeFill}'s), and each scalar kind has its own encoder that
 * produces little-endian bytes and reverses them for big-endian dtypes. Errors
 * carry the field path.
 *
 * @module
 */

import { NpyallocError } from "../errors.ts";
import { NAT, parseDatetime64 } from "./datetime.ts";
import type { DType, ElementDType, ScalarDType, StructDType } from "./dtype.ts";
import { bigintToLongDouble, float64ToFloat16Bits, float64ToLongDouble } from "./float_bits.ts";

/**
 * A fill value as it comes out of the manifest: YAML scalars, sequences (a
 * complex `[re, im]`, nested lists for subarray fields) and mappings
 * (structured dtypes).
 */
export type FillValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | FillValue[]
  | { [key: string]: FillValue };

const INT64_MAX = 2n ** 63n - 1n;

/** Where in the dtype an encoder is: the field path (`""` at the top) and the dtype. */
interface Place {
  readonly path: string;
  readonly dtype: ScalarDType;
}

/** Formats a fill value for a message: strings quoted, containers as short JSON. */
function show(value: FillValue | undefined): string {
  if (typeof value === "string") return `'${value}'`;
  if (typeof value === "number") {
    return Number.isNaN(value) ? "nan" : Object.is(value, -0) ? "-0" : String(value);
  }
  if (typeof value === "bigint" || typeof value === "boolean") return String(value);
  if (value === undefined) return "undefined";
  const json = JSON.stringify(value, (_k, v) => typeof v === "bigint" ? Number(v) : v);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

/** An E_FILL error; `body` reads after "Fill " at the top, or after the field path. */
function problem(path: string, body: string): NpyallocError {
  return new NpyallocError(
    "E_FILL",
    path === "" ? `Fill ${body}` : `Fill for field '${path}': ${body}`,
  );
}

/** Re-raises a complete sentence (from the datetime parser) with the field path. */
function withPath(path: string, err: unknown): unknown {
  if (path === "" || !(err instanceof NpyallocError)) return err;
  const message = err.message.charAt(0).toLowerCase() + err.message.slice(1);
  return new NpyallocError(err.code, `Fill for field '${path}': ${message}`, { cause: err });
}

function isZero(fill: FillValue | undefined): boolean {
  return fill === undefined || fill === null || fill === 0n || Object.is(fill, 0);
}

function isMapping(fill: FillValue | undefined): fill is { [key: string]: FillValue } {
  return typeof fill === "object" && fill !== null && !Array.isArray(fill);
}

/** Copies little-endian bytes into `out`, reversed for a big-endian dtype. */
function put(out: Uint8Array, offset: number, le: Uint8Array, byteOrder: string): void {
  if (byteOrder === ">") le.reverse();
  out.set(le, offset);
}

/** An integer fill as a bigint: bigints as they are, numbers only when exact. */
function toInteger(fill: FillValue, at: Place): bigint {
  if (typeof fill === "bigint") return fill;
  if (typeof fill === "number") {
    if (!Number.isInteger(fill)) {
      throw problem(at.path, `${show(fill)} does not fit dtype '${at.dtype.str}' (not an integer)`);
    }
    if (!Number.isSafeInteger(fill)) {
      throw problem(
        at.path,
        `${show(fill)} does not fit dtype '${at.dtype.str}' exactly ` +
          `(an integer beyond 2^53 that was read as a floating-point number)`,
      );
    }
    return BigInt(fill);
  }
  throw problem(
    at.path,
    `${show(fill)} is not valid for dtype '${at.dtype.str}' (expected an integer)`,
  );
}

function encodeBool(fill: FillValue, at: Place): Uint8Array {
  if (fill === true || fill === 1 || fill === 1n) return Uint8Array.of(1);
  if (fill === false || fill === 0 || fill === 0n) return Uint8Array.of(0);
  throw problem(
    at.path,
    `${show(fill)} is not valid for dtype '${at.dtype.str}' (expected true or false)`,
  );
}

function encodeInt(fill: FillValue, at: Place): Uint8Array {
  const { kind, itemsize } = at.dtype;
  const value = toInteger(fill, at);
  const bits = BigInt(itemsize * 8);
  const min = kind === "i" ? -(1n << (bits - 1n)) : 0n;
  const max = kind === "i" ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  if (value < min || value > max) {
    throw problem(at.path, `${show(fill)} does not fit dtype '${at.dtype.str}' (${min} to ${max})`);
  }
  let rest = BigInt.asUintN(itemsize * 8, value);
  const le = new Uint8Array(itemsize);
  for (let i = 0; i < itemsize; i++) {
    le[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return le;
}

const FLOAT_WORDS = /^[+-]?(inf|infinity|nan)$/i;

/**
 * Little-endian bytes of one real float of `size` bytes (2, 4, 8 or 16). A
 * bigint is converted the way NumPy converts a Python int: correctly rounded
 * to a double (an error beyond its range, like Python's OverflowError), then
 * to the dtype; `longdouble` rounds the integer directly.
 */
function encodeReal(fill: FillValue, size: number, at: Place): Uint8Array {
  const expected = "expected a number, 'nan', 'inf' or '-inf'";
  let x: number;
  if (typeof fill === "number") {
    x = fill;
  } else if (typeof fill === "bigint") {
    if (size === 16) {
      const bytes = bigintToLongDouble(fill);
      if (bytes === null) {
        throw problem(at.path, `${show(fill)} does not fit dtype '${at.dtype.str}' (too large)`);
      }
      return padLongDouble(bytes);
    }
    x = Number(fill);
    if (!Number.isFinite(x)) {
      throw problem(
        at.path,
        `${show(fill)} does not fit dtype '${at.dtype.str}' (too large to convert to a float)`,
      );
    }
  } else if (typeof fill === "string" && FLOAT_WORDS.test(fill)) {
    const word = fill.toLowerCase();
    if (word.endsWith("nan")) {
      // Only the positive quiet NaN is np.nan; NumPy keeps the sign of '-nan'.
      if (word.startsWith("-")) {
        throw problem(
          at.path,
          `${show(fill)} is not valid for dtype '${at.dtype.str}' (${expected})`,
        );
      }
      x = NaN;
    } else {
      x = word.startsWith("-") ? -Infinity : Infinity;
    }
  } else {
    throw problem(at.path, `${show(fill)} is not valid for dtype '${at.dtype.str}' (${expected})`);
  }

  const le = new Uint8Array(size);
  const view = new DataView(le.buffer);
  switch (size) {
    case 2:
      view.setUint16(0, float64ToFloat16Bits(x), true);
      return le;
    case 4:
      // Math.fround rounds half to even and overflows to infinity, as NumPy's cast does.
      if (Number.isNaN(x)) view.setUint32(0, 0x7fc00000, true);
      else view.setFloat32(0, Math.fround(x), true);
      return le;
    case 8:
      if (Number.isNaN(x)) view.setBigUint64(0, 0x7ff8000000000000n, true);
      else view.setFloat64(0, x, true);
      return le;
    case 16:
      return padLongDouble(float64ToLongDouble(x));
    default:
      throw problem(
        at.path,
        `cannot be encoded for dtype '${at.dtype.str}' (unsupported float size)`,
      );
  }
}

/** The 16 bytes of a `longdouble` in memory: 10 significant, 6 zero padding. */
function padLongDouble(ten: Uint8Array): Uint8Array {
  const le = new Uint8Array(16);
  le.set(ten);
  return le;
}

function encodeFloat(fill: FillValue, at: Place, out: Uint8Array, offset: number): void {
  put(out, offset, encodeReal(fill, at.dtype.itemsize, at), at.dtype.byteOrder);
}

function encodeComplex(fill: FillValue, at: Place, out: Uint8Array, offset: number): void {
  const half = at.dtype.itemsize / 2;
  let re: FillValue;
  let im: FillValue = 0;
  if (Array.isArray(fill)) {
    if (fill.length !== 2 || fill.some((part) => Array.isArray(part) || isMapping(part))) {
      throw problem(
        at.path,
        `${show(fill)} is not valid for dtype '${at.dtype.str}' (expected a number or [re, im])`,
      );
    }
    re = fill[0] ?? null;
    im = fill[1] ?? null;
  } else {
    re = fill;
  }
  // Each part is a float of half the size, in the dtype's byte order.
  put(out, offset, encodeReal(re ?? 0, half, at), at.dtype.byteOrder);
  put(out, offset + half, encodeReal(im ?? 0, half, at), at.dtype.byteOrder);
}

function encodeBytes(fill: FillValue, at: Place): Uint8Array {
  const { itemsize, str } = at.dtype;
  if (typeof fill !== "string") {
    throw problem(at.path, `${show(fill)} is not valid for dtype '${str}' (expected a string)`);
  }
  const le = new Uint8Array(itemsize);
  for (let i = 0; i < fill.length; i++) {
    const code = fill.charCodeAt(i);
    if (code > 0x7f) {
      throw problem(
        at.path,
        `${show(fill)} is not valid for dtype '${str}' (only ASCII characters)`,
      );
    }
    if (i < itemsize) le[i] = code;
  }
  if (fill.length > itemsize) {
    throw problem(
      at.path,
      `${show(fill)} does not fit dtype '${str}' (${fill.length} bytes, at most ${itemsize})`,
    );
  }
  return le;
}

function encodeUnicode(fill: FillValue, at: Place): Uint8Array {
  const { itemsize, str } = at.dtype;
  if (typeof fill !== "string") {
    throw problem(at.path, `${show(fill)} is not valid for dtype '${str}' (expected a string)`);
  }
  const codePoints = Array.from(fill, (c) => c.codePointAt(0) ?? 0);
  const max = itemsize / 4;
  if (codePoints.length > max) {
    throw problem(
      at.path,
      `${show(fill)} does not fit dtype '${str}' (${codePoints.length} characters, at most ${max})`,
    );
  }
  const le = new Uint8Array(itemsize);
  const view = new DataView(le.buffer);
  codePoints.forEach((cp, i) => view.setUint32(i * 4, cp, at.dtype.byteOrder !== ">"));
  return le;
}

/** A datetime64/timedelta64 count as int64 little-endian bytes. */
function int64Bytes(value: bigint): Uint8Array {
  const le = new Uint8Array(8);
  new DataView(le.buffer).setBigInt64(0, value, true);
  return le;
}

/** An integer count of a datetime64/timedelta64 unit; NaT's value itself is reserved. */
function toCount(fill: FillValue, at: Place, expected: string): bigint {
  if (at.dtype.unit === null) {
    throw problem(
      at.path,
      `${show(fill)} is not valid for dtype '${at.dtype.str}' (a generic unit holds only 'NaT')`,
    );
  }
  if (typeof fill !== "number" && typeof fill !== "bigint") {
    throw problem(at.path, `${show(fill)} is not valid for dtype '${at.dtype.str}' (${expected})`);
  }
  const value = toInteger(fill, at);
  if (value <= NAT || value > INT64_MAX) {
    throw problem(
      at.path,
      `${show(fill)} does not fit dtype '${at.dtype.str}' (${NAT + 1n} to ${INT64_MAX})`,
    );
  }
  return value;
}

function encodeDatetime(fill: FillValue, at: Place): Uint8Array {
  if (typeof fill === "string") {
    try {
      return int64Bytes(parseDatetime64(fill, at.dtype.unit));
    } catch (err) {
      throw withPath(at.path, err);
    }
  }
  return int64Bytes(toCount(fill, at, "expected an ISO 8601 string, 'NaT' or an integer count"));
}

function encodeTimedelta(fill: FillValue, at: Place): Uint8Array {
  if (typeof fill === "string" && fill.toLowerCase() === "nat") return int64Bytes(NAT);
  return int64Bytes(toCount(fill, at, "expected an integer count of the unit or 'NaT'"));
}

/** Writes a non-zero fill of a scalar dtype at `offset`. */
function writeScalar(out: Uint8Array, offset: number, fill: FillValue, at: Place): void {
  switch (at.dtype.kind) {
    case "b":
      return put(out, offset, encodeBool(fill, at), "|");
    case "i":
    case "u":
      return put(out, offset, encodeInt(fill, at), at.dtype.byteOrder);
    case "f":
      return encodeFloat(fill, at, out, offset);
    case "c":
      return encodeComplex(fill, at, out, offset);
    case "S":
      return put(out, offset, encodeBytes(fill, at), "|");
    case "U":
      // Already in the dtype's byte order.
      return put(out, offset, encodeUnicode(fill, at), "|");
    case "M":
      return put(out, offset, encodeDatetime(fill, at), at.dtype.byteOrder);
    case "m":
      return put(out, offset, encodeTimedelta(fill, at), at.dtype.byteOrder);
    case "V":
      throw problem(
        at.path,
        `${show(fill)} is not valid for dtype '${at.dtype.str}' (void takes only zeros)`,
      );
  }
}

function joinPath(path: string, name: string): string {
  return path === "" ? name : `${path}.${name}`;
}

/** Whether a list is one complex value `[re, im]`: two items, neither a list nor a mapping. */
function isComplexPair(fill: FillValue[], dtype: ElementDType): boolean {
  return dtype.kind === "c" && fill.length === 2 &&
    fill.every((part) => !Array.isArray(part) && !isMapping(part));
}

/** Flattens nested lists that must have exactly `shape`, in C order. */
function flatten(
  fill: FillValue[],
  shape: readonly number[],
  path: string,
  item: ElementDType,
): FillValue[] {
  const items: FillValue[] = [];
  const shapeText = `(${shape.join(", ")}${shape.length === 1 ? "," : ""})`;
  const one = item.kind === "c"
    ? "one value for every item: a number or [re, im]"
    : "one value for every item";
  const walk = (value: FillValue, depth: number): void => {
    if (depth === shape.length) {
      items.push(value);
      return;
    }
    if (!Array.isArray(value) || value.length !== shape[depth]) {
      throw problem(
        path,
        `nested list ${show(fill)} does not match the field's shape ${shapeText} ` +
          `(expected a list of ${shape[depth]} at depth ${depth + 1}, or ${one})`,
      );
    }
    for (const inner of value) walk(inner, depth + 1);
  };
  walk(fill, 0);
  return items;
}

/**
 * Writes the items of a subarray (a field with a shape, or a subarray dtype) at `offset`: one
 * value for all of them, or a nested list of exactly their shape.
 */
function writeItems(
  out: Uint8Array,
  offset: number,
  fill: FillValue,
  item: ElementDType,
  shape: readonly number[],
  path: string,
): void {
  if (Array.isArray(fill) && !isComplexPair(fill, item)) {
    flatten(fill, shape, path, item).forEach((value, i) => {
      write(out, offset + i * item.itemsize, value, item, path);
    });
    return;
  }
  const one = new Uint8Array(item.itemsize);
  write(one, 0, fill, item, path);
  const count = shape.reduce((a, b) => a * b, 1);
  for (let i = 0; i < count; i++) out.set(one, offset + i * one.length);
}

function writeStruct(
  out: Uint8Array,
  offset: number,
  fill: FillValue,
  dtype: StructDType,
  path: string,
): void {
  if (!isMapping(fill)) {
    throw problem(
      path,
      `${show(fill)} is not valid for a structured dtype (expected a mapping of field names)`,
    );
  }
  const byName = new Map(dtype.fields.map((field) => [field.name, field]));
  for (const name of Object.keys(fill)) {
    if (!byName.has(name)) {
      const known = dtype.fields.map((field) => `'${field.name}'`).join(", ");
      throw new NpyallocError(
        "E_FILL",
        `Fill names unknown field '${joinPath(path, name)}' (fields there: ${known || "none"})`,
      );
    }
  }
  for (const field of dtype.fields) {
    const value = fill[field.name];
    if (value === undefined || isZero(value)) continue;
    const fieldPath = joinPath(path, field.name);
    if (field.shape.length === 0) write(out, offset + field.offset, value, field.dtype, fieldPath);
    else writeItems(out, offset + field.offset, value, field.dtype, field.shape, fieldPath);
  }
}

/** Writes a non-zero fill of any dtype at `offset`. */
function write(
  out: Uint8Array,
  offset: number,
  fill: FillValue | undefined,
  dtype: DType,
  path: string,
): void {
  if (isZero(fill)) return;
  const value = fill ?? null;
  if (dtype.kind === "struct") writeStruct(out, offset, value, dtype, path);
  else if (dtype.kind === "subarray") writeItems(out, offset, value, dtype.base, dtype.shape, path);
  else writeScalar(out, offset, value, { path, dtype });
}

/**
 * Encodes one element of a fill, exactly as `np.full(shape, fill, dtype)`
 * stores each element, but refusing every value NumPy would wrap, truncate or
 * cut silently.
 *
 * Omitted, `null`, `0` and `0n` are all-zero bytes for every dtype (note that
 * NumPy itself stores `b'0'` for `np.full(..., 0, 'S3')`). Otherwise: bool
 * takes `true`/`false` (or 0/1); integers must fit exactly; floats take a
 * number, a bigint, or `'nan'`, `'inf'`, `'-inf'`, `'infinity'` (any case),
 * rounded as NumPy rounds (overflow to infinity; NaN is `np.nan`); complex
 * takes `[re, im]` or one real; `S` an ASCII string of at most its size; `U` a
 * string of at most its length in code points; datetime64 an ISO 8601 string,
 * `'NaT'` or an integer count; timedelta64 an integer count or `'NaT'`; `V`
 * zeros only; structured dtypes a mapping of field names (missing fields are
 * zero; padding stays zero).
 *
 * A subarray (a field with a shape such as `('x', '<i4', (2, 3))`, the field
 * `('c', ('<f8', (5,)), (2,))` whose shape is `(2, 5)` once its levels are
 * joined, or a subarray dtype) takes either:
 * - one value, written to every item: `{x: 7}` sets all 6 items; or
 * - a nested list of exactly its shape, every level joined, with one value
 *   per item: `{x: [[1, 2, 3], [4, 5, 6]]}`, and 2 lists of 5 for `c`.
 *
 * For a complex item, a list of two values that are not lists (`[re, im]`) is
 * always one value for every item, never two items: on a field
 * `('z', '<c8', (2,))`, `{z: [1, 2]}` writes 1+2j twice. Per-item values of a
 * complex subarray are a nested list of the shape whose innermost entries are
 * numbers or `[re, im]`: `{z: [[1, 0], [2, 0]]}` writes 1 and 2, and
 * `{z: [[1, 2], [3, 4]]}` writes 1+2j and 3+4j. Only per-item real values
 * of a complex subarray of shape `(2,)` need that spelling: for any other
 * shape a nested list cannot be read as `[re, im]` (`[[1, 2], [3, 4], [5, 6]]`
 * gives six reals to a field of shape `(3, 2)`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeFill } from "./fill.ts";
 * const bytes = encodeFill({ kind: "i", byteOrder: "<", itemsize: 2, unit: null, str: "<i2" }, -2);
 * assert.ok(bytes[0] === 0xfe && bytes[1] === 0xff);
 * ```
 *
 * @param dtype The array's dtype.
 * @param fill The fill value; `undefined` means the default (zeros).
 * @returns `dtype.itemsize` bytes.
 * @throws {NpyallocError} `E_FILL` when the fill does not fit the dtype
 *   exactly; for structured dtypes the message names the field.
 */
export function encodeFill(dtype: DType, fill: FillValue | undefined): Uint8Array {
  const out = new Uint8Array(dtype.itemsize);
  write(out, 0, fill, dtype, "");
  return out;
}

/**
 * Tells whether an encoded element is all zeros, so that the array can be
 * allocated without writing its data.
 *
 * @param bytes One element, as {@linkcode encodeFill} returns it.
 * @returns `true` when every byte is zero (also for an empty element).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeFill, isZeroFill } from "./fill.ts";
 * import { parseDType } from "./dtype.ts";
 * assert.equal(isZeroFill(encodeFill(parseDType("<f8"), 0)), true);
 * assert.equal(isZeroFill(encodeFill(parseDType("<f8"), -0.0)), false);
 * ```
 */
export function isZeroFill(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}
