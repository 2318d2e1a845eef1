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
 * void fields are padding. Platform-dependent sizes are those of x86-64 and
 * aarch64 Linux (`long` is 8 bytes, `longdouble` is the 16-byte x87 format).
 *
 * @module
 */

import { NpyallocError } from "../errors.ts";

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
  /** The dtype of one item of the field. */
  readonly dtype: DType;
  /** Subarray shape of the field; `[]` for a plain field. */
  readonly shape: readonly number[];
}

/** A structured dtype. */
export interface StructDType {
  readonly kind: "struct";
  readonly itemsize: number;
  /** Fields in declaration order, with increasing offsets. */
  readonly fields: readonly StructField[];
}

/** A parsed NumPy dtype. */
export type DType = ScalarDType | StructDType;

/**
 * NumPy's descr as it appears in a .npy header: a `dtype.str` string, or a
 * list of `[name, descr]` / `[name, descr, shape]` entries where a name may be
 * `[title, name]`.
 */
export type Descr = string | DescrField[];
/** One entry of a structured descr. */
export type DescrField =
  | [name: string | [string, string], descr: Descr]
  | [name: string | [string, string], descr: Descr, shape: number[]];

/** What a user may write as a dtype: a string, or a descr list (nested lists, as in JSON or YAML). */
export type DTypeSpec = string | readonly unknown[];

/** The largest size NumPy accepts for `S` and `V` dtypes (a C int). */
const MAX_FLEXIBLE_ITEMSIZE = 2 ** 31 - 1;
/** Structured dtypes nest at most this deep (NumPy's own recursion limit is far larger than any real use). */
const MAX_NESTING = 64;

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
};

function dtypeError(spec: string, why: string): NpyallocError {
  return new NpyallocError("E_DTYPE", `Cannot parse dtype '${spec}': ${why}`);
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
function parseDatetimeUnit(spec: string, text: string): DatetimeUnitSpec | null {
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

function parseSize(spec: string, text: string, max: number): number {
  if (!/^\s*\+?\d+$/.test(text)) throw dtypeError(spec, "data type not understood");
  const size = Number(text.trim());
  if (size === 0) {
    throw dtypeError(spec, "strings and void types need a length, e.g. 'S10', 'U10' or 'V16'");
  }
  if (size > max) throw dtypeError(spec, `the size ${size} is larger than NumPy allows (${max})`);
  return size;
}

function unsupported(spec: string, kind: string): NpyallocError {
  if (kind === "O") {
    return dtypeError(spec, "object arrays hold Python objects and cannot be memory-mapped");
  }
  return dtypeError(spec, "strings and void types need a length, e.g. 'S10', 'U10' or 'V16'");
}

/** Parses one format without commas: a type name or an array-protocol string. */
function parseSimple(spec: string, text: string): ScalarDType {
  const named = TYPE_NAMES[text];
  if (named !== undefined) {
    if (named === "S" || named === "U" || named === "V" || named === "O") {
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
  if (char === "O") throw unsupported(spec, "O");
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
    const known = Object.keys(TYPE_NAMES).filter((n) => n.toLowerCase() === text.toLowerCase());
    const hint = known.length > 0 ? ` (did you mean '${known[0]}'?)` : "";
    throw dtypeError(spec, `data type not understood${hint}`);
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

/** NumPy's `_commastring`: `'i4, (2,3)f8'` gives fields `f0`, `f1`. */
function parseCommaString(spec: string): DType {
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < spec.length; i++) {
    const ch = spec[i];
    if (ch === "(" || ch === "[") depth++;
    else if (ch === ")" || ch === "]") depth--;
    else if (ch === "," && depth === 0) {
      items.push(spec.slice(start, i));
      start = i + 1;
    }
  }
  const last = spec.slice(start);
  const isList = items.length > 0;
  if (!isList || last.trim() !== "") items.push(last);
  const fields: { name: string; dtype: DType; shape: number[] }[] = [];
  for (const [index, raw] of items.entries()) {
    const match = FORMAT_ITEM.exec(raw.trim());
    if (!match || match[4] === "") {
      throw dtypeError(spec, `format number ${index + 1} is not recognized`);
    }
    const [, order1 = "", repeats, order2 = "", name = ""] = match;
    const norm = (o: string) => (o === "|" || o === "=" ? "<" : o);
    if (order1 !== "" && order2 !== "" && norm(order1) !== norm(order2)) {
      throw dtypeError(spec, `inconsistent byte order '${order1}' and '${order2}'`);
    }
    const dtype = parseSimple(spec, (order1 || order2) + name);
    const shape = repeats === undefined
      ? []
      : repeats.startsWith("(")
      ? repeats.slice(1, -1).split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number)
      : [Number(repeats)];
    fields.push({ name: `f${index}`, dtype, shape });
  }
  const only = fields[0];
  if (!isList && only !== undefined) {
    if (only.shape.length > 0) {
      throw dtypeError(
        spec,
        "this is a subarray dtype: put its dimensions in the array's shape instead",
      );
    }
    return only.dtype;
  }
  return buildStruct(spec, fields.map((f) => ({ ...f, title: null, padding: false })));
}

interface FieldInput {
  name: string;
  title: string | null;
  dtype: DType;
  shape: number[];
  padding: boolean;
}

function buildStruct(spec: string, inputs: FieldInput[]): StructDType {
  const fields: StructField[] = [];
  const seen = new Set<string>();
  let offset = 0;
  for (const input of inputs) {
    const count = input.shape.reduce((a, b) => a * b, 1);
    const size = input.dtype.itemsize * count;
    if (!input.padding) {
      for (const key of input.title === null ? [input.name] : [input.name, input.title]) {
        if (seen.has(key)) throw dtypeError(spec, `field name '${key}' occurs more than once`);
        seen.add(key);
      }
      fields.push({
        name: input.name,
        title: input.title,
        offset,
        dtype: input.dtype,
        shape: input.shape,
      });
    }
    offset += size;
    if (offset > MAX_FLEXIBLE_ITEMSIZE) {
      throw dtypeError(
        spec,
        `the structure is larger than NumPy allows (${MAX_FLEXIBLE_ITEMSIZE} bytes)`,
      );
    }
  }
  return { kind: "struct", itemsize: offset, fields };
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function parseShape(spec: string, where: string, value: unknown): number[] {
  const dims = typeof value === "number" ? [value] : value;
  if (!Array.isArray(dims)) {
    throw dtypeError(spec, `${where}: the subarray shape must be an integer or a list of integers`);
  }
  return dims.map((d) => {
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      throw dtypeError(
        spec,
        `${where}: subarray dimensions must be integers >= 0, got ${describe(d)}`,
      );
    }
    return d;
  });
}

function parseDescrList(
  spec: string,
  list: readonly unknown[],
  path: string,
  depth: number,
): StructDType {
  if (depth > MAX_NESTING) {
    throw dtypeError(spec, `structured dtypes nest deeper than ${MAX_NESTING} levels`);
  }
  const inputs: FieldInput[] = [];
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
    let dtype: DType;
    if (typeof rawType === "string") {
      dtype = parseString(rawType);
    } else if (Array.isArray(rawType)) {
      dtype = parseDescrList(spec, rawType, `${where}[1]`, depth + 1);
    } else {
      throw dtypeError(spec, `${where}: a field's dtype is a string or a list of fields`);
    }
    const shape = entry.length === 3 ? parseShape(spec, where, rawShape) : [];
    const padding = name === "" && title === null && dtype.kind === "V";
    inputs.push({ name, title, dtype, shape, padding });
  }
  return buildStruct(spec, inputs);
}

function parseString(text: string): DType {
  return isCommaString(text) ? parseCommaString(text) : parseSimple(text, text);
}

/**
 * Parses a dtype the way `numpy.dtype()` does for a string, or the way
 * `numpy.lib.format.descr_to_dtype` does for a descr list.
 *
 * @param spec A dtype string (`"float32"`, `">i2"`, `"U10"`, `"M8[10ms]"`, `"i4, (2,3)f8"`) or
 *   a descr list (`[["a", "<i4"], ["b", "<f8", [2]]]`), nested to any depth.
 * @returns The parsed dtype.
 * @throws {NpyallocError} `E_DTYPE` when NumPy would not accept it, or when it has no fixed size
 *   (`object`, `str` without a length) or is a subarray dtype.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dtypeLabel, parseDType } from "./dtype.ts";
 * assert.equal(dtypeLabel(parseDType("float32")), "<f4");
 * assert.ok(parseDType([["a", "<i4"], ["b", "<f8", [2]]]).itemsize === 20);
 * ```
 */
export function parseDType(spec: DTypeSpec): DType {
  if (typeof spec === "string") {
    if (spec.length > 10_000) {
      throw dtypeError(spec.slice(0, 40) + "...", "the dtype string is too long");
    }
    return parseString(spec);
  }
  if (Array.isArray(spec)) return parseDescrList(describe(spec), spec, "", 0);
  throw new NpyallocError(
    "E_DTYPE",
    `Cannot parse dtype ${describe(spec)}: expected a string or a list of fields`,
  );
}

/**
 * Turns the descr of a .npy header into a dtype, as `numpy.lib.format.descr_to_dtype` does.
 *
 * @param descr The header's `descr` value.
 * @returns The dtype.
 * @throws {NpyallocError} `E_DTYPE` for a descr NumPy would reject or npyalloc does not support.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { descrToDType } from "./dtype.ts";
 * const dtype = descrToDType([["a", "<i2"], ["", "|V6"], ["b", "<f8"]]);
 * assert.equal(dtype.itemsize, 16);
 * ```
 */
export function descrToDType(descr: Descr): DType {
  if (typeof descr === "string") return parseString(descr);
  return parseDescrList(describe(descr), descr, "", 0);
}

/**
 * NumPy's canonical descr of a dtype: `dtype.str` for a scalar, `dtype.descr` (with `|V` padding
 * entries for gaps) for a structured dtype, as `numpy.lib.format.dtype_to_descr` returns it.
 *
 * @param dtype The dtype.
 * @returns The descr written into a .npy header.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dtypeToDescr, parseDType } from "./dtype.ts";
 * assert.ok(dtypeToDescr(parseDType("i4,f8")).length === 2);
 * ```
 */
export function dtypeToDescr(dtype: DType): Descr {
  if (dtype.kind !== "struct") return dtype.str;
  const result: DescrField[] = [];
  let offset = 0;
  for (const field of dtype.fields) {
    if (field.offset > offset) result.push(["", `|V${field.offset - offset}`]);
    const name: string | [string, string] = field.title === null
      ? field.name
      : [field.title, field.name];
    const inner = dtypeToDescr(field.dtype);
    result.push(field.shape.length > 0 ? [name, inner, [...field.shape]] : [name, inner]);
    const count = field.shape.reduce((a, b) => a * b, 1);
    offset = field.offset + field.dtype.itemsize * count;
  }
  if (dtype.itemsize > offset) result.push(["", `|V${dtype.itemsize - offset}`]);
  return result;
}

/**
 * A short, human-readable name of a dtype for messages and reports: `dtype.str` for a scalar,
 * the JSON of the descr for a structured dtype.
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
