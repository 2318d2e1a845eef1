/**
 * NumPy data types: parsing every spelling `numpy.dtype()` accepts that has a
 * fixed size and no Python objects, and producing the canonical descr that
 * `numpy.lib.format.dtype_to_descr` writes into a .npy header.
 *
 * How it works: a string is either a comma-separated list of formats (which
 * NumPy turns into fields `f0`, `f1`, ...), a name from NumPy's type
 * dictionary (`float32`, `intc`, ...), or an array-protocol string: an
 * optional byte order, a type character and an optional size or datetime unit
 * (`>i8`, `S10`, `M8[10ms]`). A list is NumPy's descr list
 * `[[name, dtype], [name, dtype, shape], ...]` read the way
 * `numpy.lib.format.descr_to_dtype` reads it: fields are packed, and unnamed
 * void fields are padding. A two-item list `[dtype, shape]` is NumPy's
 * subarray tuple `(dtype, shape)`, the form `dtype.descr` uses for a field
 * whose dtype is itself a subarray (`('c', ('<f8', (5,)), (2,))`). A field
 * keeps its subarray shapes as NumPy nests them, so that its descr is written
 * back exactly, and also joined into one shape, which is how its items lie in
 * memory. A subarray dtype for a whole array (`'(2,3)i4'`) is a
 * {@linkcode SubarrayDType}: an array of it is an array of its base with the
 * subarray's dimensions appended to the shape ({@linkcode foldSubarray}), as
 * `np.zeros(4, '(2,3)i4').shape == (4, 2, 3)`. Platform-dependent sizes are
 * those of x86-64 and aarch64 Linux (`long` is 8 bytes, `longdouble` is the
 * 16-byte x87 format).
 *
 * @module
 */

import { NpyallocError } from "../errors.ts";
import { didYouMean } from "../suggest.ts";

/** NumPy's kind character of a scalar dtype. */
export type ScalarKind = "b" | "i" | "u" | "f" | "c" | "S" | "U" | "V" | "M" | "m";

/** Byte order as NumPy writes it: `|` where it does not apply. */
export type ByteOrder = "<" | ">" | "|";

/** The units of datetime64 and timedelta64. */
export type DatetimeUnit =
  | "Y"
  | "M"
  | "W"
  | "D"
  | "h"
  | "m"
  | "s"
  | "ms"
  | "us"
  | "ns"
  | "ps"
  | "fs"
  | "as";

/** A datetime64/timedelta64 unit with its multiple: `10ms` is `{ unit: "ms", count: 10 }`. */
export interface DatetimeUnitSpec {
  unit: DatetimeUnit;
  count: number;
}

/** A dtype that is not structured. */
export interface ScalarDType {
  readonly kind: ScalarKind;
  /** Byte order; `|` for one-byte types, `S` and `V`. */
  readonly byteOrder: ByteOrder;
  /** Size of one element in bytes. */
  readonly itemsize: number;
  /** The unit of `M` and `m` dtypes; `null` for the generic unit (`datetime64`) and other kinds. */
  readonly unit: DatetimeUnitSpec | null;
  /** NumPy's `dtype.str`, e.g. `<f4`, `|S10`, `<M8[10ms]`. */
  readonly str: string;
}

/** One field of a structured dtype. */
export interface StructField {
  readonly name: string;
  /** The field's title, when the descr names it as `[title, name]`. */
  readonly title: string | null;
  /** Byte offset of the field inside one element. */
  readonly offset: number;
  /** The dtype of one item of the field: never a subarray (its dimensions are in `shape`). */
  readonly dtype: ElementDType;
  /**
   * Subarray shape of the field, every nested level joined, outermost first: `[2, 5]` for
   * `('c', ('<f8', (5,)), (2,))`; `[]` for a plain field. The field holds `product(shape)`
   * items of `dtype`, in C order.
   */
  readonly shape: readonly number[];
  /**
   * The subarray shapes as NumPy nests them, outermost first: `[[2], [5]]` for
   * `('c', ('<f8', (5,)), (2,))`, `[[2, 5]]` for `('c', '<f8', (2, 5))`; `[]` for a plain field.
   * Their concatenation is `shape`.
   */
  readonly nesting: readonly (readonly number[])[];
}

/** A structured dtype. */
export interface StructDType {
  readonly kind: "struct";
  readonly itemsize: number;
  /** Fields in declaration order, with increasing offsets. */
  readonly fields: readonly StructField[];
}

/**
 * A subarray dtype such as `'(2,3)i4'`: a fixed number of items of a base dtype. NumPy never
 * stores one as an array's dtype: it appends the dimensions to the array's shape
 * ({@linkcode foldSubarray}).
 */
export interface SubarrayDType {
  readonly kind: "subarray";
  /** The dtype of one item: never a subarray (nested subarrays are joined into `shape`). */
  readonly base: ElementDType;
  /** The shape of the items, every nested level joined, outermost first; never `[]`. */
  readonly shape: readonly number[];
  /** The shapes as NumPy nests them, outermost first (see {@linkcode StructField.nesting}). */
  readonly nesting: readonly (readonly number[])[];
  /** `base.itemsize` times the number of items. */
  readonly itemsize: number;
}

/** The dtype of an array's elements and of a field's items: anything but a subarray. */
export type ElementDType = ScalarDType | StructDType;

/** A parsed NumPy dtype. */
export type DType = ElementDType | SubarrayDType;

/**
 * NumPy's descr as it appears in a .npy header: a `dtype.str` string, a
 * list of `[name, descr]` / `[name, descr, shape]` entries where a name may be
 * `[title, name]`, or a subarray `[descr, shape]` (a Python tuple in the
 * header, where it is the descr of a field: `('c', ('<f8', (5,)), (2,))`).
 */
export type Descr = string | DescrField[] | DescrSubarray;
/** One entry of a structured descr. */
export type DescrField =
  | [name: string | [string, string], descr: Descr]
  | [name: string | [string, string], descr: Descr, shape: number[]];
/** A subarray descr: NumPy's `(descr, shape)` tuple. */
export type DescrSubarray = [descr: Descr, shape: number[]];

/** What a user may write as a dtype: a string, or a descr list (nested lists, as in JSON or YAML). */
export type DTypeSpec = string | readonly unknown[];

/**
 * The longest dtype string {@linkcode parseDType} reads, in UTF-16 code units: 64 MiB, the
 * default size cap of a manifest (a dtype string cannot be longer than the manifest it is in).
 * NumPy itself has no limit; `'i,' * 10000 + 'i'` (20,001 characters, from NumPy's own
 * `test_huge_header`) is far below this one. The bound keeps hostile input from making the
 * parser build an unbounded structure; a structured dtype costs about 150 bytes of memory per
 * field, so a string at the bound made of one-byte formats (`'u1,'` repeated, 22 million
 * fields) needs some 3 GiB, as a manifest of the same size written as a descr list would.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MAX_DTYPE_TEXT_LENGTH, parseDType } from "./dtype.ts";
 * assert.equal(parseDType("i,".repeat(10000) + "i").itemsize, 40004);
 * assert.throws(() => parseDType("i".repeat(MAX_DTYPE_TEXT_LENGTH + 1)), /more than the 67108864/);
 * ```
 */
export const MAX_DTYPE_TEXT_LENGTH = 64 * 1024 * 1024;

/** The largest size NumPy accepts for `S` and `V` dtypes, and for any dtype (a C int). */
const MAX_FLEXIBLE_ITEMSIZE = 2 ** 31 - 1;
/** Structured dtypes nest at most this deep (NumPy's own recursion limit is far larger than any real use). */
const MAX_NESTING = 64;
/** NumPy's `NPY_MAXDIMS`: the most dimensions of a subarray, and of an array. */
export const MAX_DIMS = 64;
/** How much of a dtype a message quotes. */
const SHOWN_CHARS = 80;

const DATETIME_UNITS: readonly DatetimeUnit[] = [
  "Y",
  "M",
  "W",
  "D",
  "h",
  "m",
  "s",
  "ms",
  "us",
  "ns",
  "ps",
  "fs",
  "as",
];

/** Fixed-size scalar kinds by NumPy type character (x86-64/aarch64 Linux sizes). */
const TYPE_CHARS: Record<string, [ScalarKind, number]> = {
  "?": ["b", 1],
  b: ["i", 1],
  B: ["u", 1],
  h: ["i", 2],
  H: ["u", 2],
  i: ["i", 4],
  I: ["u", 4],
  l: ["i", 8],
  L: ["u", 8],
  q: ["i", 8],
  Q: ["u", 8],
  p: ["i", 8],
  P: ["u", 8],
  n: ["i", 8],
  N: ["u", 8],
  e: ["f", 2],
  f: ["f", 4],
  d: ["f", 8],
  g: ["f", 16],
  F: ["c", 8],
  D: ["c", 16],
  G: ["c", 32],
  c: ["S", 1],
};

/** Sizes allowed after a kind character (`i4`, `f16`, `c32`, ...). */
const SIZED_KINDS: Record<string, [ScalarKind, readonly number[]]> = {
  b: ["b", [1]],
  i: ["i", [1, 2, 4, 8]],
  u: ["u", [1, 2, 4, 8]],
  f: ["f", [2, 4, 8, 16]],
  c: ["c", [8, 16, 32]],
};

/** NumPy's type names (`numpy.sctypeDict`), as NumPy 2 on 64-bit Linux resolves them. */
const TYPE_NAMES: Record<string, string> = {
  bool: "b1",
  bool_: "b1",
  byte: "i1",
  ubyte: "u1",
  short: "i2",
  ushort: "u2",
  intc: "i4",
  uintc: "u4",
  int: "i8",
  int_: "i8",
  intp: "i8",
  long: "i8",
  longlong: "i8",
  uint: "u8",
  uintp: "u8",
  ulong: "u8",
  ulonglong: "u8",
  int8: "i1",
  int16: "i2",
  int32: "i4",
  int64: "i8",
  uint8: "u1",
  uint16: "u2",
  uint32: "u4",
  uint64: "u8",
  half: "f2",
  float16: "f2",
  single: "f4",
  float32: "f4",
  double: "f8",
  float: "f8",
  float64: "f8",
  longdouble: "f16",
  float128: "f16",
  csingle: "c8",
  complex64: "c8",
  cdouble: "c16",
  complex: "c16",
  complex128: "c16",
  clongdouble: "c32",
  complex256: "c32",
  bytes: "S",
  bytes_: "S",
  str: "U",
  str_: "U",
  unicode: "U",
  void: "V",
  object: "O",
  object_: "O",
  StringDType: "T",
};

/** The names a mistyped dtype name is compared with for "did you mean". */
const TYPE_NAME_LIST = [...Object.keys(TYPE_NAMES), "datetime64", "timedelta64"];

/** What the user wrote, quoted in messages: a dtype string or a descr list. */
type Spec = string | readonly unknown[];

/** A dtype as messages quote it: the string, or the JSON of a list, cut to a readable length. */
function showSpec(spec: Spec): string {
  const text = typeof spec === "string" ? spec : describe(spec);
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS - 3)}...` : text;
}

function dtypeError(spec: Spec, why: string): NpyallocError {
  return new NpyallocError("E_DTYPE", `Cannot parse dtype '${showSpec(spec)}': ${why}`);
}

function scalar(
  kind: ScalarKind,
  itemsize: number,
  order: string,
  unit: DatetimeUnitSpec | null = null,
): ScalarDType {
  const oneByte = itemsize === 1 && kind !== "U";
  const byteOrder: ByteOrder = kind === "S" || kind === "V" || kind === "b" || oneByte
    ? "|"
    : order === ">"
    ? ">"
    : "<";
  let str: string;
  if (kind === "M" || kind === "m") {
    str = `${byteOrder}${kind}8${
      unit === null ? "" : `[${unit.count === 1 ? "" : unit.count}${unit.unit}]`
    }`;
  } else if (kind === "U") {
    str = `${byteOrder}U${itemsize / 4}`;
  } else {
    str = `${byteOrder}${kind}${itemsize}`;
  }
  return { kind, byteOrder, itemsize, unit, str };
}

/** Parses the `[10ms]` part of a datetime dtype; `null` for the generic unit. */
function parseDatetimeUnit(spec: Spec, text: string): DatetimeUnitSpec | null {
  const match = /^\[\s*\+?(\d*)([A-Za-z\u03bc]+)\]$/.exec(text);
  if (!match) {
    throw dtypeError(spec, `invalid datetime unit '${text}' (expected e.g. '[ns]' or '[10ms]')`);
  }
  const [, digits = "", rawUnit = ""] = match;
  if (rawUnit === "generic" && digits === "") return null;
  const name = rawUnit === "\u03bcs" ? "us" : rawUnit;
  const unit = DATETIME_UNITS.find((u) => u === name);
  if (unit === undefined) {
    throw dtypeError(
      spec,
      `unknown datetime unit '${rawUnit}' (one of ${DATETIME_UNITS.join(", ")})`,
    );
  }
  const count = digits === "" ? 1 : Number(digits);
  if (!Number.isSafeInteger(count) || count < 1 || count > 2 ** 31 - 1) {
    throw dtypeError(spec, `the unit multiple must be between 1 and 2147483647, got '${digits}'`);
  }
  return { unit, count };
}

function parseSize(spec: Spec, text: string, max: number): number {
  if (!/^\s*\+?\d+$/.test(text)) throw dtypeError(spec, "data type not understood");
  const size = Number(text.trim());
  if (size === 0) {
    throw dtypeError(spec, "strings and void types need a length, e.g. 'S10', 'U10' or 'V16'");
  }
  if (size > max) throw dtypeError(spec, `the size ${size} is larger than NumPy allows (${max})`);
  return size;
}

function unsupported(spec: Spec, kind: string): NpyallocError {
  if (kind === "O") {
    return dtypeError(spec, "object arrays hold Python objects and cannot be memory-mapped");
  }
  if (kind === "T") {
    // np.save writes a StringDType array as pickled objects ('|O'): its strings live outside it.
    return dtypeError(
      spec,
      "NumPy's StringDType keeps its strings outside the array, so a .npy file holds it only as " +
        "pickled objects; use a fixed-size string such as 'U10' or 'S10'",
    );
  }
  return dtypeError(spec, "strings and void types need a length, e.g. 'S10', 'U10' or 'V16'");
}

/** Parses one format without commas: a type name or an array-protocol string. */
function parseSimple(spec: Spec, text: string): ScalarDType {
  const named = TYPE_NAMES[text];
  if (named !== undefined) {
    if (named === "S" || named === "U" || named === "V" || named === "O" || named === "T") {
      throw unsupported(spec, named);
    }
    return parseSimple(spec, named);
  }
  const dt = /^([<>=|]?)(datetime64|timedelta64)(\[.*)?$/.exec(text);
  if (dt) {
    const [, order = "", name, unitText] = dt;
    const unit = unitText === undefined ? null : parseDatetimeUnit(spec, unitText);
    return scalar(name === "datetime64" ? "M" : "m", 8, order, unit);
  }
  if (/^[<>=|]/.test(text) && TYPE_NAMES[text.slice(1)] !== undefined) {
    throw dtypeError(spec, "a byte order goes with a type code, e.g. '>i4', not with a type name");
  }
  const match = /^([<>=|]?)([A-Za-z?])(.*)$/s.exec(text);
  if (!match) throw dtypeError(spec, "data type not understood");
  const [, order = "", char = "", rest = ""] = match;
  if (char === "M" || char === "m") {
    const mm = /^(8?)(\[.*)?$/s.exec(rest);
    if (!mm) throw dtypeError(spec, "data type not understood");
    const unit = mm[2] === undefined ? null : parseDatetimeUnit(spec, mm[2]);
    if (mm[1] === "" && unit !== null) throw dtypeError(spec, `write '${char}8${mm[2]}'`);
    return scalar(char, 8, order, unit);
  }
  if (char === "S" || char === "a" || char === "V" || char === "U") {
    if (rest === "") throw unsupported(spec, char);
    const max = char === "U" ? Math.floor(MAX_FLEXIBLE_ITEMSIZE / 4) : MAX_FLEXIBLE_ITEMSIZE;
    const size = parseSize(spec, rest, max);
    if (char === "U") return scalar("U", size * 4, order);
    return scalar(char === "V" ? "V" : "S", size, order);
  }
  if (char === "O" || (char === "T" && rest === "")) throw unsupported(spec, char);
  if (rest === "") {
    const typed = TYPE_CHARS[char];
    if (typed === undefined) throw dtypeError(spec, "data type not understood");
    return scalar(typed[0], typed[1], order);
  }
  const sized = SIZED_KINDS[char];
  if (sized === undefined || !/^\d+$/.test(rest)) {
    if (/^[<>=|]/.test(text) || !/^[A-Za-z_]/.test(text)) {
      throw dtypeError(spec, "data type not understood");
    }
    throw dtypeError(spec, `data type not understood${didYouMean(text, TYPE_NAME_LIST)}`);
  }
  const size = Number(rest);
  if (!sized[1].includes(size)) {
    throw dtypeError(spec, `'${char}' takes a size of ${sized[1].join(", ")} bytes, got ${size}`);
  }
  return scalar(sized[0], size, order);
}

/** NumPy's `_check_for_commastring`: leading digits, a leading `()`, or a comma outside `[]`. */
function isCommaString(text: string): boolean {
  if (/^[<>=|]?[0-9]/.test(text) || /^[<>=|]?\(\)/.test(text)) return true;
  let depth = 0;
  for (const ch of text) {
    if (ch === "[") depth++;
    else if (ch === "]") depth--;
    else if (ch === "," && depth === 0) return true;
  }
  return false;
}

const FORMAT_ITEM =
  /^([<>|=]?)\s*(\d+|\(\s*(?:\d+\s*(?:,\s*\d+\s*)*,?\s*)?\))?\s*([<>|=]?)([A-Za-z0-9.?]*(?:\[[^\]]*\])?)$/;

/**
 * A dtype while it is parsed: an element dtype and the subarray shapes around it, outermost
 * first (`[]` when it is not a subarray).
 */
interface Typed {
  readonly base: ElementDType;
  readonly nesting: readonly (readonly number[])[];
}

/** The shape, and the nesting, of everything that is not a subarray: shared, never changed. */
const NO_DIMS: readonly [] = Object.freeze([]) as readonly [];

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function typedItemsize(typed: Typed): number {
  return typed.nesting.reduce((size, shape) => size * product(shape), typed.base.itemsize);
}

/**
 * `np.dtype((inner, shape))`, as `_convert_from_tuple` in NumPy's `descriptor.c` builds it: a
 * subarray of `inner`, or `inner` itself for the shape `()`.
 */
function withShape(spec: Spec, where: string, inner: Typed, shape: readonly number[]): Typed {
  if (shape.length === 0) return inner;
  const at = where === "" ? "" : `${where}: `;
  if (inner.nesting.length > 0 && typedItemsize(inner) === 0) {
    // NumPy reads the shape as an itemsize here (the inner dtype is "unsized"): nonsense.
    throw dtypeError(spec, `${at}a subarray of zero items cannot have a shape of its own`);
  }
  const typed = { base: inner.base, nesting: [shape, ...inner.nesting] };
  // Any zero extent makes the size 0; the others may still not pass a C int each.
  if (!shape.includes(0) && typedItemsize(typed) > MAX_FLEXIBLE_ITEMSIZE) {
    throw dtypeError(
      spec,
      `${at}the subarray is larger than NumPy allows (${MAX_FLEXIBLE_ITEMSIZE} bytes)`,
    );
  }
  return typed;
}

/** The dims of a comma string item: `3` or `(2, 3)`. */
function repeatShape(repeats: string | undefined): number[] {
  if (repeats === undefined) return [];
  if (!repeats.startsWith("(")) return [Number(repeats)];
  return repeats.slice(1, -1).split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
}

/** NumPy's `_commastring`: `'i4, (2,3)f8'` gives fields `f0`, `f1`; `'(2,3)i4'` a subarray. */
function parseCommaString(spec: string): Typed {
  // A list of formats has a comma outside brackets; a trailing one only makes it a list.
  let isList = false;
  let depth = 0;
  for (let i = 0; i < spec.length && !isList; i++) {
    const ch = spec[i];
    if (ch === "(" || ch === "[") depth++;
    else if (ch === ")" || ch === "]") depth--;
    else if (ch === "," && depth === 0) isList = true;
  }
  const struct = new StructBuilder(spec);
  // Formats repeat ('i,' * 10000 + 'i'): each distinct one is parsed once and its dtype shared.
  const parsed = new Map<string, Typed>();
  let index = 0;
  let start = 0;
  depth = 0;
  for (let i = 0; i <= spec.length; i++) {
    const ch = spec[i];
    if (ch === "(" || ch === "[") depth++;
    else if (ch === ")" || ch === "]") depth--;
    if (i < spec.length && (ch !== "," || depth !== 0)) continue;
    const text = spec.slice(start, i).trim();
    start = i + 1;
    // The empty item after a trailing comma is not a field.
    if (i === spec.length && isList && text === "") break;
    let typed = parsed.get(text);
    if (typed === undefined) {
      typed = parseFormat(spec, text, index);
      if (!isList) return typed;
      parsed.set(text, typed);
    }
    struct.add(`f${index}`, null, typed, false);
    index++;
  }
  return { base: struct.build(), nesting: NO_DIMS };
}

/** One format of a comma string: `i4`, `(2,3)f8`, `>2i4`. */
function parseFormat(spec: string, text: string, index: number): Typed {
  const match = FORMAT_ITEM.exec(text);
  if (!match || match[4] === "") {
    throw dtypeError(spec, `format number ${index + 1} is not recognized`);
  }
  const [, order1 = "", repeats, order2 = "", name = ""] = match;
  const norm = (o: string) => (o === "|" || o === "=" ? "<" : o);
  if (order1 !== "" && order2 !== "" && norm(order1) !== norm(order2)) {
    throw dtypeError(spec, `inconsistent byte order '${order1}' and '${order2}'`);
  }
  const shape = checkDims(spec, `format number ${index + 1}`, repeatShape(repeats));
  const base = parseSimple(spec, (order1 || order2) + name);
  return withShape(spec, "", { base, nesting: NO_DIMS }, shape);
}

/** Lays out a structured dtype field by field, packed, as `descr_to_dtype` does. */
class StructBuilder {
  readonly #spec: Spec;
  readonly #fields: StructField[] = [];
  readonly #names = new Set<string>();
  #offset = 0;

  constructor(spec: Spec) {
    this.#spec = spec;
  }

  /** Adds a field, or padding: bytes that belong to no field. */
  add(name: string, title: string | null, typed: Typed, padding: boolean): void {
    const { base, nesting } = typed;
    if (!padding) {
      for (const key of title === null ? [name] : [name, title]) {
        if (this.#names.has(key)) {
          throw dtypeError(this.#spec, `field name '${key}' occurs more than once`);
        }
        this.#names.add(key);
      }
      this.#fields.push({
        name,
        title,
        offset: this.#offset,
        dtype: base,
        shape: nesting.length === 0 ? NO_DIMS : nesting.flat(),
        nesting,
      });
    }
    this.#offset += typedItemsize(typed);
    if (this.#offset > MAX_FLEXIBLE_ITEMSIZE) {
      throw dtypeError(
        this.#spec,
        `the structure is larger than NumPy allows (${MAX_FLEXIBLE_ITEMSIZE} bytes)`,
      );
    }
  }

  build(): StructDType {
    return { kind: "struct", itemsize: this.#offset, fields: this.#fields };
  }
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Checks subarray dimensions as NumPy does: at most 64, each a C int. */
function checkDims(spec: Spec, where: string, dims: number[]): number[] {
  if (dims.length > MAX_DIMS) {
    throw dtypeError(spec, `${where}: a subarray has at most ${MAX_DIMS} dimensions`);
  }
  for (const d of dims) {
    if (d > MAX_FLEXIBLE_ITEMSIZE) {
      throw dtypeError(
        spec,
        `${where}: subarray dimensions must fit a C int (at most ${MAX_FLEXIBLE_ITEMSIZE}), got ${d}`,
      );
    }
  }
  return dims;
}

function parseShape(spec: Spec, where: string, value: unknown): number[] {
  const dims = typeof value === "number" ? [value] : value;
  if (!Array.isArray(dims)) {
    throw dtypeError(spec, `${where}: the subarray shape must be an integer or a list of integers`);
  }
  return checkDims(
    spec,
    where,
    dims.map((d) => {
      if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
        throw dtypeError(
          spec,
          `${where}: subarray dimensions must be integers >= 0, got ${describe(d)}`,
        );
      }
      return d;
    }),
  );
}

/**
 * Whether a list is a subarray `[dtype, shape]` rather than a list of fields: two items, the
 * second a number or a list of numbers. No list of fields looks like that, since a field
 * always starts with its name.
 */
function isSubarrayForm(list: readonly unknown[]): boolean {
  if (list.length !== 2) return false;
  const shape = list[1];
  return typeof shape === "number" ||
    (Array.isArray(shape) && shape.every((d) => typeof d === "number"));
}

/** A dtype in a descr: a string, a subarray `[dtype, shape]` or a list of fields. */
function parseDescrValue(spec: Spec, value: unknown, where: string, depth: number): Typed {
  if (typeof value === "string") return parseString(value);
  if (!Array.isArray(value)) {
    throw dtypeError(
      spec,
      `${where === "" ? "" : `${where}: `}a dtype is a string, a list of fields or [dtype, shape]`,
    );
  }
  if (depth > MAX_NESTING) {
    throw dtypeError(spec, `structured dtypes nest deeper than ${MAX_NESTING} levels`);
  }
  if (isSubarrayForm(value)) {
    const inner = parseDescrValue(spec, value[0], `${where}[0]`, depth + 1);
    return withShape(
      spec,
      where,
      inner,
      parseShape(spec, where === "" ? "shape" : where, value[1]),
    );
  }
  return { base: parseDescrList(spec, value, where, depth), nesting: NO_DIMS };
}

function parseDescrList(
  spec: Spec,
  list: readonly unknown[],
  path: string,
  depth: number,
): StructDType {
  const struct = new StructBuilder(spec);
  for (const [index, entry] of list.entries()) {
    const where = `${path}[${index}]`;
    if (!Array.isArray(entry) || entry.length < 2 || entry.length > 3) {
      throw dtypeError(spec, `${where}: a field is [name, dtype] or [name, dtype, shape]`);
    }
    const [rawName, rawType, rawShape] = entry as unknown[];
    let name: string;
    let title: string | null = null;
    if (typeof rawName === "string") {
      name = rawName;
    } else if (
      Array.isArray(rawName) && rawName.length === 2 && typeof rawName[0] === "string" &&
      typeof rawName[1] === "string"
    ) {
      [title, name] = rawName as [string, string];
    } else {
      throw dtypeError(spec, `${where}: a field name is a string or [title, name]`);
    }
    if (typeof rawType !== "string" && !Array.isArray(rawType)) {
      throw dtypeError(
        spec,
        `${where}: a field's dtype is a string or a list (of fields, or [dtype, shape])`,
      );
    }
    const inner = parseDescrValue(spec, rawType, `${where}[1]`, depth + 1);
    const typed = entry.length === 3
      ? withShape(spec, where, inner, parseShape(spec, where, rawShape))
      : inner;
    // descr_to_dtype's padding test: an unnamed field whose dtype is a plain void or a
    // subarray (whose type is np.void too).
    const padding = name === "" && title === null &&
      (typed.nesting.length > 0 || typed.base.kind === "V");
    struct.add(name, title, typed, padding);
  }
  return struct.build();
}

function parseString(text: string): Typed {
  return isCommaString(text)
    ? parseCommaString(text)
    : { base: parseSimple(text, text), nesting: NO_DIMS };
}

function build(typed: Typed): DType {
  if (typed.nesting.length === 0) return typed.base;
  return {
    kind: "subarray",
    base: typed.base,
    shape: typed.nesting.flat(),
    nesting: typed.nesting,
    itemsize: typedItemsize(typed),
  };
}

/**
 * Parses a dtype the way `numpy.dtype()` does for a string, or the way
 * `numpy.lib.format.descr_to_dtype` does for a descr list.
 *
 * @param spec A dtype string (`"float32"`, `">i2"`, `"U10"`, `"M8[10ms]"`, `"i4, (2,3)f8"`,
 *   `"(2,3)i4"`) of at most {@linkcode MAX_DTYPE_TEXT_LENGTH} characters, a descr list
 *   (`[["a", "<i4"], ["b", "<f8", [2]], ["c", ["<f8", [5]], [2]]]`), nested to any depth, or a
 *   subarray `[dtype, shape]` (`["<i4", [2, 3]]`).
 * @returns The parsed dtype; a subarray dtype is a {@linkcode SubarrayDType}, which
 *   {@linkcode foldSubarray} turns into the shape and dtype of an array.
 * @throws {NpyallocError} `E_DTYPE` when NumPy would not accept it, or when it has no fixed size
 *   (`object`, `str` without a length), or when the string is too long.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dtypeLabel, parseDType } from "./dtype.ts";
 * assert.equal(dtypeLabel(parseDType("float32")), "<f4");
 * assert.ok(parseDType([["a", "<i4"], ["b", "<f8", [2]]]).itemsize === 20);
 * assert.equal(dtypeLabel(parseDType("(2,3)i4")), '["<i4",[2,3]]');
 * ```
 */
export function parseDType(spec: DTypeSpec): DType {
  if (typeof spec === "string") {
    if (spec.length > MAX_DTYPE_TEXT_LENGTH) {
      throw dtypeError(
        spec,
        `the dtype string is ${spec.length} characters long, more than the ${MAX_DTYPE_TEXT_LENGTH} npyalloc reads`,
      );
    }
    return build(parseString(spec));
  }
  if (Array.isArray(spec)) return build(parseDescrValue(spec, spec, "", 0));
  throw new NpyallocError(
    "E_DTYPE",
    `Cannot parse dtype ${showSpec(describe(spec))}: expected a string or a list of fields`,
  );
}

/**
 * Turns the descr of a .npy header into a dtype, as `numpy.lib.format.descr_to_dtype` does.
 *
 * @param descr The header's `descr` value.
 * @returns The dtype: a {@linkcode SubarrayDType} for a subarray descr `[descr, shape]`.
 * @throws {NpyallocError} `E_DTYPE` for a descr NumPy would reject or npyalloc does not support.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { descrToDType } from "./dtype.ts";
 * const dtype = descrToDType([["a", "<i2"], ["", "|V6"], ["b", "<f8"]]);
 * assert.equal(dtype.itemsize, 16);
 * assert.equal(descrToDType([["c", ["<f8", [5]], [2]]]).itemsize, 80);
 * ```
 */
export function descrToDType(descr: Descr): DType {
  return build(parseDescrValue(descr, descr, "", 0));
}

/**
 * Whether a value of a descr is a subarray `[descr, shape]` rather than a list of fields.
 *
 * @param descr A descr.
 * @returns `true` for a {@linkcode DescrSubarray}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSubarrayDescr } from "./dtype.ts";
 * assert.equal(isSubarrayDescr(["<f8", [5]]), true);
 * assert.equal(isSubarrayDescr([["a", "<f8"], ["b", "<i4"]]), false);
 * ```
 */
export function isSubarrayDescr(descr: Descr): descr is DescrSubarray {
  return Array.isArray(descr) && isSubarrayForm(descr);
}

/** `descr` inside the subarray shapes of `nesting`, innermost last. */
function nestDescr(descr: Descr, nesting: readonly (readonly number[])[]): Descr {
  let out = descr;
  for (let k = nesting.length - 1; k >= 0; k--) out = [out, [...(nesting[k] as number[])]];
  return out;
}

/**
 * NumPy's canonical descr of a dtype: `dtype.str` for a scalar, `dtype.descr` (with `|V` padding
 * entries for gaps) for a structured dtype, as `numpy.lib.format.dtype_to_descr` returns it. A
 * field whose dtype is a subarray is `[name, [descr, inner shape], shape]`, as NumPy 2 writes
 * `('c', ('<f8', (5,)), (2,))`. For a {@linkcode SubarrayDType}, which no header holds, it is
 * `[descr, shape]`, NumPy's `(descr, shape)`.
 *
 * @param dtype The dtype.
 * @returns The descr written into a .npy header.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dtypeToDescr, parseDType } from "./dtype.ts";
 * assert.ok(dtypeToDescr(parseDType("i4,f8")).length === 2);
 * assert.deepEqual(dtypeToDescr(parseDType([["c", ["<f8", [5]], [2]]])), [["c", ["<f8", [5]], [2]]]);
 * ```
 */
export function dtypeToDescr(dtype: DType): Descr {
  if (dtype.kind === "subarray") return nestDescr(dtypeToDescr(dtype.base), dtype.nesting);
  if (dtype.kind !== "struct") return dtype.str;
  const result: DescrField[] = [];
  let offset = 0;
  for (const field of dtype.fields) {
    if (field.offset > offset) result.push(["", `|V${field.offset - offset}`]);
    const name: string | [string, string] = field.title === null
      ? field.name
      : [field.title, field.name];
    const inner = dtypeToDescr(field.dtype);
    const [outer, ...rest] = field.nesting;
    result.push(outer === undefined ? [name, inner] : [name, nestDescr(inner, rest), [...outer]]);
    offset = field.offset + field.dtype.itemsize * product(field.shape);
  }
  if (dtype.itemsize > offset) result.push(["", `|V${dtype.itemsize - offset}`]);
  return result;
}

/**
 * An array of a subarray dtype as NumPy makes it: the subarray's dimensions appended to the
 * shape, and its base as the dtype (`np.zeros(4, '(2,3)i4')` has shape `(4, 2, 3)` and dtype
 * `int32`). Other dtypes come back unchanged.
 *
 * @param shape The array's shape as declared.
 * @param dtype The dtype as declared.
 * @returns The shape and dtype of the array NumPy holds, and so of the .npy file.
 * @throws {NpyallocError} `E_DTYPE` for a subarray of no items (`'(0,)u1'`), which NumPy does
 *   not fold but turns into the zero-size void dtype `'V0'`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dtypeLabel, foldSubarray, parseDType } from "./dtype.ts";
 * const { shape, dtype } = foldSubarray([4n], parseDType("(2,3)i4"));
 * assert.deepEqual(shape, [4n, 2n, 3n]);
 * assert.equal(dtypeLabel(dtype), "<i4");
 * ```
 */
export function foldSubarray(
  shape: readonly bigint[],
  dtype: DType,
): { shape: bigint[]; dtype: ElementDType } {
  if (dtype.kind !== "subarray") return { shape: [...shape], dtype };
  if (dtype.itemsize === 0) {
    // np.zeros(2, '(0,)u1') has shape (2,) and the dtype 'V0', which npyalloc does not write.
    throw new NpyallocError(
      "E_DTYPE",
      `Cannot use the subarray dtype '${dtypeLabel(dtype)}' for an array: it has no items, and ` +
        "NumPy makes such an array's dtype the zero-size void 'V0'",
    );
  }
  return { shape: [...shape, ...dtype.shape.map(BigInt)], dtype: dtype.base };
}

/**
 * A short, human-readable name of a dtype for messages and reports: `dtype.str` for a scalar,
 * the JSON of the descr for a structured or subarray dtype.
 *
 * @param dtype The dtype.
 * @returns The label.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dtypeLabel, parseDType } from "./dtype.ts";
 * assert.equal(dtypeLabel(parseDType("M8[10ms]")), "<M8[10ms]");
 * ```
 */
export function dtypeLabel(dtype: DType): string {
  const descr = dtypeToDescr(dtype);
  return typeof descr === "string" ? descr : JSON.stringify(descr);
}
