/**
 * The .npy header: writing it byte for byte as NumPy's `np.save` does, and
 * reading it back safely.
 *
 * How it works: a header is the magic `\x93NUMPY`, a major and minor version
 * byte, the header length (2 bytes little-endian in format 1.0, 4 bytes in 2.0
 * and 3.0), then the `repr()` of a dict with the keys `descr`, `fortran_order`
 * and `shape` (sorted), spare spaces so the shape can grow in place, padding
 * spaces and a newline so the data starts on a 64-byte boundary. Formats 1.0
 * and 2.0 are latin-1, format 3.0 is UTF-8. Writing mirrors
 * `numpy.lib.format._write_array_header`, `_wrap_header` and
 * `_wrap_header_guess_version`; reading mirrors `_read_array_header` with the
 * safe parser of `py_literal.ts` in place of `ast.literal_eval`.
 *
 * @module
 */

import { NpyallocError } from "../errors.ts";
import { MAX_INT64 as MAX_DATA_BYTES } from "../limits.ts";
import {
  type Descr,
  type DescrField,
  descrToDType,
  type DType,
  type ElementDType,
  isSubarrayDescr,
} from "./dtype.ts";
import { parsePyLiteral, type PyLiteral } from "./py_literal.ts";
import { pyRepr, PyTuple, type PyValue } from "./py_repr.ts";

/** A .npy format version. */
export type NpyVersion = "1.0" | "2.0" | "3.0";

/** The header of a .npy file, as read by {@linkcode decodeHeader}. */
export interface NpyHeader {
  /** The format version of the file. */
  version: NpyVersion;
  /** Size of the whole header in bytes: the offset where the data starts. */
  headerBytes: number;
  /** The descr as written in the header. */
  descr: Descr;
  /** The dtype the descr stands for. */
  dtype: ElementDType;
  /** Whether the data is stored in Fortran (column-major) order. */
  fortranOrder: boolean;
  /** The shape of the array. */
  shape: bigint[];
  /** Size of the data in bytes: the itemsize times the product of the shape. */
  dataBytes: bigint;
}

/**
 * What a .npy header says, as read by {@linkcode decodeHeaderInfo}: also for arrays that cannot
 * be memory-mapped as the header describes them, such as object arrays, which `np.save` writes
 * as a pickle after the header.
 */
export interface NpyHeaderInfo {
  /** The format version of the file. */
  version: NpyVersion;
  /** Size of the whole header in bytes: the offset where the data starts. */
  headerBytes: number;
  /** The descr as written in the header. */
  descr: Descr;
  /** The dtype the descr stands for; `null` when npyalloc cannot read it (see `problem`). */
  dtype: DType | null;
  /** Whether the data is stored in Fortran (column-major) order. */
  fortranOrder: boolean;
  /** The shape of the array, exact. */
  shape: bigint[];
  /**
   * The itemsize times the product of the shape, exact, also past 2^63; `null` without a dtype,
   * or past 2^256 bytes.
   */
  dataBytes: bigint | null;
  /**
   * Why the data cannot be memory-mapped as the header says, or `null`: an object dtype (the
   * data is a pickle), a descr npyalloc does not support, a subarray descr for the whole array,
   * or a data size of 2^63 bytes or more. {@linkcode decodeHeader} throws this as its message.
   */
  problem: string | null;
}

/** What the header of a .npy file on disk says, as `readHeaderInfoFromFile` reads it. */
export interface NpyFileHeaderInfo extends NpyHeaderInfo {
  /** The size of the file in bytes. */
  fileBytes: bigint;
  /** The size a complete file has, `headerBytes + dataBytes`; `null` when `dataBytes` is. */
  expectedFileBytes: bigint | null;
}

/** The header of a .npy file on disk, as `readHeaderFromFile` reads it. */
export interface NpyFileHeader extends NpyHeader {
  /** The size of the file in bytes. */
  fileBytes: bigint;
  /** The size a complete file has: `headerBytes + dataBytes`. */
  expectedFileBytes: bigint;
}

/** What {@linkcode encodeHeader} produces. */
export interface EncodedHeader {
  /** The header, ready to be written at the start of the file; its length is a multiple of 64. */
  bytes: Uint8Array;
  /** The format version used. */
  version: NpyVersion;
  /** Things a user should know about the header, e.g. which NumPy versions can read it. */
  warnings: string[];
}

/** Options of {@linkcode decodeHeader} and `readHeaderFromFile`. */
export interface DecodeHeaderOptions {
  /**
   * Largest header (in bytes, after the length field) accepted. NumPy's own
   * `np.load` limit of 10,000 characters is not applied: NumPy writes longer
   * headers, and so does npyalloc.
   *
   * @default {16777216}
   */
  maxHeaderBytes?: number;
}

/** The magic string every .npy file starts with. */
export const NPY_MAGIC: Uint8Array = new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

/** How many bytes of a file {@linkcode headerLength} needs at most to tell the header size. */
export const HEADER_PREFIX_BYTES = 12;

/** The longest header `np.load` reads without `max_header_size` (in characters). */
export const NUMPY_LOAD_MAX_HEADER_SIZE = 10000;

const ARRAY_ALIGN = 64;
// NumPy leaves room for the growth axis to reach len(str(8 * 2**64 - 1)) digits.
const GROWTH_AXIS_MAX_DIGITS = 21;
const DEFAULT_MAX_HEADER_BYTES = 1 << 24;
// Data sizes past this are not computed (dataBytes is null): 2^256 bytes says enough.
const MAX_REPORTED_BYTES = 1n << 256n;

const VERSION_INFO: Record<NpyVersion, { major: number; lengthBytes: 2 | 4; readers: string }> = {
  "1.0": { major: 1, lengthBytes: 2, readers: "any NumPy" },
  "2.0": { major: 2, lengthBytes: 4, readers: "NumPy >= 1.9" },
  "3.0": { major: 3, lengthBytes: 4, readers: "NumPy >= 1.17" },
};

function notNpy(message: string, cause?: unknown): NpyallocError {
  return new NpyallocError("E_NOT_NPY", message, cause === undefined ? undefined : { cause });
}

function descrToPy(descr: Descr): PyValue {
  if (typeof descr === "string") return descr;
  if (isSubarrayDescr(descr)) return new PyTuple([descrToPy(descr[0]), new PyTuple(descr[1])]);
  return descr.map((field: DescrField) => {
    const name = field[0];
    const items: PyValue[] = [
      typeof name === "string" ? name : new PyTuple(name),
      descrToPy(field[1]),
    ];
    if (field.length === 3) items.push(new PyTuple(field[2]));
    return new PyTuple(items);
  });
}

function checkShape(shape: readonly (number | bigint)[]): void {
  for (const [i, n] of shape.entries()) {
    const ok = typeof n === "bigint" ? n >= 0n : Number.isSafeInteger(n) && n >= 0;
    if (!ok) {
      throw new NpyallocError(
        "E_SHAPE",
        `Cannot write shape entry ${i}: must be an integer >= 0, got ${String(n)}`,
      );
    }
  }
}

/**
 * Whether `np.save` writes `fortran_order: True` for `np.full(shape, ..., order=order)`.
 *
 * NumPy writes True only for an array that is Fortran-contiguous and not also
 * C-contiguous. With relaxed strides an array is both when it is empty or has
 * at most one dimension longer than 1, so such arrays are written as C order
 * (their bytes are the same either way).
 *
 * @param shape The shape of the array.
 * @param order The memory order requested.
 * @returns The `fortran_order` value NumPy writes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fortranOrderFlag } from "./header.ts";
 * assert.ok(fortranOrderFlag([2, 3], "F") === true);
 * assert.ok(fortranOrderFlag([3, 1], "F") === false);
 * ```
 */
export function fortranOrderFlag(shape: readonly (number | bigint)[], order: "C" | "F"): boolean {
  if (order === "C") return false;
  let long = 0;
  for (const n of shape) {
    const big = BigInt(n);
    if (big === 0n) return false;
    if (big > 1n) long++;
  }
  return long >= 2;
}

function latin1Bytes(text: string): Uint8Array | null {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) return null;
    out[i] = code;
  }
  return out;
}

function codePointCount(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** `_wrap_header`: prefix, padding and newline; null when the length does not fit the version. */
function wrapHeader(body: Uint8Array, version: NpyVersion): Uint8Array | null {
  const info = VERSION_INFO[version];
  const prefixBytes = NPY_MAGIC.length + 2 + info.lengthBytes;
  const hlen = body.length + 1;
  // Padding is a whole ARRAY_ALIGN (not 0) when the header is already aligned, as in NumPy.
  const padlen = ARRAY_ALIGN - ((prefixBytes + hlen) % ARRAY_ALIGN);
  const length = hlen + padlen;
  if (length > (info.lengthBytes === 2 ? 0xffff : 0xffffffff)) return null;
  const out = new Uint8Array(prefixBytes + length);
  out.set(NPY_MAGIC, 0);
  out[6] = info.major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (info.lengthBytes === 2) view.setUint16(8, length, true);
  else view.setUint32(8, length, true);
  out.set(body, prefixBytes);
  out.fill(0x20, prefixBytes + body.length, out.length - 1);
  out[out.length - 1] = 0x0a;
  return out;
}

/**
 * Encodes a .npy header exactly as NumPy's `np.save` writes it for an array
 * of this descr, order and shape.
 *
 * @param descr The descr, as `numpy.lib.format.dtype_to_descr` gives it.
 * @param fortranOrder The `fortran_order` flag (see {@linkcode fortranOrderFlag}).
 * @param shape The shape; entries may be bigints beyond 2^53.
 * @param version `"auto"` picks the oldest format that holds the header, as
 * NumPy does: 1.0 if it fits in 65,535 bytes and is latin-1, else 2.0 if it is
 * latin-1, else 3.0 (UTF-8).
 * @returns The header bytes, the version used, and warnings: which NumPy
 * versions read format 2.0 and 3.0, and when `np.load` needs `max_header_size`.
 * @throws {NpyallocError} `E_HEADER` when an explicit version cannot hold the
 * header (too long, or not latin-1 for 1.0 and 2.0); `E_SHAPE` when a shape
 * entry is not an integer >= 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeHeader } from "./header.ts";
 * const { bytes, version } = encodeHeader("<f8", false, [3], "auto");
 * assert.ok(bytes.length === 128 && version === "1.0");
 * ```
 */
export function encodeHeader(
  descr: Descr,
  fortranOrder: boolean,
  shape: readonly (number | bigint)[],
  version: "auto" | NpyVersion,
): EncodedHeader {
  checkShape(shape);
  let text = `{'descr': ${pyRepr(descrToPy(descr))}, 'fortran_order': ${
    pyRepr(fortranOrder)
  }, 'shape': ${pyRepr(new PyTuple(shape))}, }`;
  const growth = fortranOrder ? shape[shape.length - 1] : shape[0];
  if (growth !== undefined) {
    text += " ".repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - growth.toString().length));
  }

  const latin1 = latin1Bytes(text);
  let used: NpyVersion;
  let bytes: Uint8Array | null;
  if (version === "auto") {
    bytes = latin1 && wrapHeader(latin1, "1.0");
    used = "1.0";
    if (bytes === null && latin1 !== null) {
      bytes = wrapHeader(latin1, "2.0");
      used = "2.0";
    }
    if (bytes === null && latin1 === null) {
      bytes = wrapHeader(new TextEncoder().encode(text), "3.0");
      used = "3.0";
    }
  } else {
    used = version;
    if (version !== "3.0" && latin1 === null) {
      throw new NpyallocError(
        "E_HEADER",
        `Cannot write header format ${version}: the header has characters outside latin-1 (use 3.0)`,
      );
    }
    bytes = wrapHeader(
      version === "3.0" ? new TextEncoder().encode(text) : latin1 as Uint8Array,
      version,
    );
  }
  if (bytes === null) {
    const size = version === "3.0" || latin1 === null
      ? new TextEncoder().encode(text).length
      : text.length;
    throw new NpyallocError(
      "E_HEADER",
      `Cannot write header format ${used}: the header is ${size + 1} bytes, too long for it`,
    );
  }

  const warnings: string[] = [];
  if (used !== "1.0") {
    warnings.push(`Header format ${used} can only be read by ${VERSION_INFO[used].readers}`);
  }
  const prefixBytes = used === "1.0" ? 10 : 12;
  const chars = used === "3.0"
    ? codePointCount(text) + (bytes.length - prefixBytes - new TextEncoder().encode(text).length)
    : bytes.length - prefixBytes;
  if (chars > NUMPY_LOAD_MAX_HEADER_SIZE) {
    warnings.push(
      `Header is ${chars} characters long: np.load refuses headers longer than ` +
        `${NUMPY_LOAD_MAX_HEADER_SIZE} unless given max_header_size=${chars} (or allow_pickle=True)`,
    );
  }
  return { bytes, version: used, warnings };
}

function versionOf(major: number, minor: number): NpyVersion {
  if (minor === 0 && major >= 1 && major <= 3) return `${major}.0` as NpyVersion;
  throw notNpy(`Unsupported .npy format version ${major}.${minor} (only 1.0, 2.0 and 3.0 exist)`);
}

/**
 * The size of a .npy header (the offset of the data) from the first bytes of
 * a file, so a reader knows how much to read before {@linkcode decodeHeader}.
 *
 * @param prefix The first bytes of the file; {@linkcode HEADER_PREFIX_BYTES} always suffice.
 * @returns The header size in bytes, or `null` when `prefix` is too short to tell.
 * @throws {NpyallocError} `E_NOT_NPY` when the magic string or the version is wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeHeader, headerLength } from "./header.ts";
 * const { bytes } = encodeHeader("<f8", false, [3], "auto");
 * assert.ok(headerLength(bytes.subarray(0, 12)) === 128);
 * assert.ok(headerLength(bytes.subarray(0, 4)) === null);
 * ```
 */
export function headerLength(prefix: Uint8Array): number | null {
  const n = Math.min(prefix.length, NPY_MAGIC.length);
  for (let i = 0; i < n; i++) {
    if (prefix[i] !== NPY_MAGIC[i]) {
      throw notNpy("Not a .npy file: it does not start with the magic string '\\x93NUMPY'");
    }
  }
  if (prefix.length < 8) return null;
  const version = versionOf(prefix[6] as number, prefix[7] as number);
  const lengthBytes = VERSION_INFO[version].lengthBytes;
  if (prefix.length < 8 + lengthBytes) return null;
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const length = lengthBytes === 2 ? view.getUint16(8, true) : view.getUint32(8, true);
  return 8 + lengthBytes + length;
}

function checkHeaderSize(total: number, prefixBytes: number, max: number): void {
  if (total - prefixBytes > max) {
    throw notNpy(
      `Header of ${total - prefixBytes} bytes is larger than the limit of ${max} bytes`,
    );
  }
}

function decodeText(body: Uint8Array, version: NpyVersion): string {
  if (version === "3.0") {
    try {
      return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(body);
    } catch (err) {
      throw notNpy("Header of format 3.0 is not valid UTF-8", err);
    }
  }
  // TextDecoder("latin1") is windows-1252, so decode latin-1 by hand.
  let text = "";
  for (let i = 0; i < body.length; i += 8192) {
    text += String.fromCharCode(...body.subarray(i, i + 8192));
  }
  return text;
}

function show(value: PyLiteral): string {
  if (
    value instanceof PyTuple || Array.isArray(value) || value instanceof Map ||
    typeof value === "string"
  ) {
    const text = pyRepr(value as PyValue);
    return text.length > 80 ? text.slice(0, 77) + "..." : text;
  }
  return pyRepr(value as PyValue);
}

function toDescr(value: PyLiteral): Descr {
  if (typeof value === "string") return value;
  if (value instanceof PyTuple) {
    // descr_to_dtype reads a tuple as a subarray (descr, shape), as NumPy 2 writes the descr of
    // a field whose dtype is itself a subarray: ('c', ('<f8', (5,)), (2,)).
    const [sub, shape] = value.items as PyLiteral[];
    if (value.items.length !== 2 || sub === undefined || shape === undefined) {
      throw notNpy(`Header descr tuple is not a (descr, shape) subarray: ${show(value)}`);
    }
    return [toDescr(sub), toFieldShape(shape)];
  }
  if (!Array.isArray(value)) {
    throw notNpy(
      `Header descr is not a string, a list of fields or a (descr, shape) tuple: ${show(value)}`,
    );
  }
  return value.map((item): DescrField => {
    const parts = item instanceof PyTuple
      ? item.items as PyLiteral[]
      : Array.isArray(item)
      ? item
      : null;
    if (parts === null || (parts.length !== 2 && parts.length !== 3)) {
      throw notNpy(`Header descr field is not a (name, descr[, shape]) tuple: ${show(item)}`);
    }
    const [rawName, rawDescr, rawShape] = parts as [PyLiteral, PyLiteral, PyLiteral?];
    let name: string | [string, string];
    if (typeof rawName === "string") name = rawName;
    else if (
      rawName instanceof PyTuple && rawName.items.length === 2 &&
      typeof rawName.items[0] === "string" && typeof rawName.items[1] === "string"
    ) {
      name = [rawName.items[0], rawName.items[1]];
    } else {
      throw notNpy(
        `Header descr field name is not a string or a (title, name) tuple: ${show(rawName)}`,
      );
    }
    const sub = toDescr(rawDescr);
    if (rawShape === undefined) return [name, sub];
    return [name, sub, toFieldShape(rawShape)];
  });
}

function toFieldShape(value: PyLiteral): number[] {
  // numpy.dtype((t, n)) reads a bare int n as the shape (n,).
  const items = typeof value === "bigint"
    ? [value]
    : value instanceof PyTuple
    ? value.items
    : Array.isArray(value)
    ? value
    : null;
  if (items === null) throw notNpy(`Header descr field shape is not a tuple: ${show(value)}`);
  return items.map((n) => {
    if (typeof n !== "bigint" || n < 0n || n > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw notNpy(`Header descr field shape is not a tuple of integers >= 0: ${show(value)}`);
    }
    return Number(n);
  });
}

/** A descr naming Python objects anywhere: `|O` (NumPy 2), `O`, `O8` (older writers), `object`. */
function holdsObjects(descr: Descr): boolean {
  if (typeof descr === "string") return /^[<>=|]?O\d*$/.test(descr) || descr === "object";
  if (isSubarrayDescr(descr)) return holdsObjects(descr[0]);
  return descr.some((field) => holdsObjects(field[1]));
}

function showDescr(descr: Descr): string {
  return show(descrToPy(descr) as PyLiteral);
}

/** The header's fields and, when the dtype cannot be used, the error that said why. */
function readInfo(
  bytes: Uint8Array,
  options: DecodeHeaderOptions,
): { info: NpyHeaderInfo; cause: unknown } {
  const max = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  const total = headerLength(bytes);
  if (total === null) {
    throw notNpy(
      `Truncated header: got ${bytes.length} bytes, the header prefix needs up to ${HEADER_PREFIX_BYTES}`,
    );
  }
  const version = versionOf(bytes[6] as number, bytes[7] as number);
  const prefixBytes = 8 + VERSION_INFO[version].lengthBytes;
  checkHeaderSize(total, prefixBytes, max);
  if (bytes.length < total) {
    throw notNpy(`Truncated header: the header needs ${total} bytes, got ${bytes.length}`);
  }
  const text = decodeText(bytes.subarray(prefixBytes, total), version);
  const dict = parsePyLiteral(text, { allowLongSuffix: version !== "3.0" });
  if (!(dict instanceof Map)) throw notNpy(`Header is not a dict: ${show(dict)}`);
  const keys = [...dict.keys()].sort();
  if (
    keys.length !== 3 || keys[0] !== "descr" || keys[1] !== "fortran_order" || keys[2] !== "shape"
  ) {
    throw notNpy(
      `Header keys must be 'descr', 'fortran_order' and 'shape', got ${show(keys)}`,
    );
  }
  const rawShape = dict.get("shape") as PyLiteral;
  if (
    !(rawShape instanceof PyTuple) || !rawShape.items.every((n) => typeof n === "bigint" && n >= 0n)
  ) {
    throw notNpy(`Header shape is not a tuple of integers >= 0: ${show(rawShape)}`);
  }
  const shape = rawShape.items as bigint[];
  const fortranOrder = dict.get("fortran_order");
  if (typeof fortranOrder !== "boolean") {
    throw notNpy(`Header fortran_order is not True or False: ${show(fortranOrder as PyLiteral)}`);
  }
  const descr = toDescr(dict.get("descr") as PyLiteral);
  const info: NpyHeaderInfo = {
    version,
    headerBytes: total,
    descr,
    dtype: null,
    fortranOrder,
    shape,
    dataBytes: null,
    problem: null,
  };
  if (holdsObjects(descr)) {
    info.problem = `Header descr ${
      showDescr(descr)
    } holds Python objects: the data is a pickle, which cannot be memory-mapped`;
    return { info, cause: undefined };
  }
  let dtype: DType;
  try {
    dtype = descrToDType(descr);
  } catch (err) {
    if (!(err instanceof NpyallocError)) throw err;
    info.problem = `Header descr is not a supported dtype: ${err.message}`;
    return { info, cause: err };
  }
  info.dtype = dtype;
  if (dtype.kind === "subarray") {
    // np.load reads such a file only with mmap_mode; np.save never writes one.
    info.problem =
      `Header descr ${
        showDescr(descr)
      } is a subarray dtype for the whole array, which np.load cannot read ` +
      "(NumPy writes the dimensions of a subarray into the shape)";
    return { info, cause: undefined };
  }
  // NumPy's own overflow check: the product of the non-zero extents times the itemsize.
  const itemsize = BigInt(dtype.itemsize);
  let bound = itemsize > 0n ? itemsize : 1n;
  for (const n of shape) {
    if (n !== 0n) bound *= n;
    if (bound > MAX_DATA_BYTES) break;
  }
  // The exact size, also past 2^63, but not the product of a hostile shape's huge extents.
  let size: bigint | null = shape.includes(0n) ? 0n : itemsize;
  for (const n of shape) {
    if (size === null || size === 0n) break;
    size *= n;
    if (size > MAX_REPORTED_BYTES) size = null;
  }
  info.dataBytes = size;
  if (bound > MAX_DATA_BYTES) {
    info.problem = `Header shape ${
      show(rawShape)
    } is too large: the data would need 2^63 bytes or more`;
  }
  return { info, cause: undefined };
}

/**
 * Decodes a .npy header and says what it holds, also when the array cannot be memory-mapped as
 * it describes (`problem` says why): the header of an object array, whose data is a pickle, or
 * of data of 2^63 bytes or more, still has its descr, shape and order. Only a header that is
 * not NumPy's throws.
 *
 * @param bytes The start of the file, at least the whole header (the data may follow).
 * @param options Limits.
 * @returns What the header says, and the problem, if any.
 * @throws {NpyallocError} `E_NOT_NPY` for anything that is not a well-formed .npy header: wrong
 * magic, unknown version, a header longer than `maxHeaderBytes`, bad encoding, a dict that is
 * not NumPy's (keys, a shape that is not a tuple of integers >= 0, a `fortran_order` that is
 * not a bool, a descr that is not a string, a list of fields or a subarray tuple). A `bytes`
 * shorter than the header gives a message starting with `Truncated header`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeHeaderInfo } from "./header.ts";
 * const text = "{'descr': '|O', 'fortran_order': False, 'shape': (4,), }";
 * const body = new TextEncoder().encode(text.padEnd(117) + "\n");
 * const bytes = new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0, ...body]);
 * const info = decodeHeaderInfo(bytes);
 * assert.deepEqual([info.descr, info.shape, info.dtype], ["|O", [4n], null]);
 * assert.match(info.problem ?? "", /pickle, which cannot be memory-mapped/);
 * ```
 */
export function decodeHeaderInfo(
  bytes: Uint8Array,
  options: DecodeHeaderOptions = {},
): NpyHeaderInfo {
  return readInfo(bytes, options).info;
}

/** A header without a problem, as {@linkcode decodeHeader} returns it. */
function strict({ info, cause }: { info: NpyHeaderInfo; cause: unknown }): NpyHeader {
  const { dtype, dataBytes, problem } = info;
  if (problem !== null || dtype === null || dtype.kind === "subarray" || dataBytes === null) {
    throw notNpy(problem ?? "Header descr is not a supported dtype", cause);
  }
  return {
    version: info.version,
    headerBytes: info.headerBytes,
    descr: info.descr,
    dtype,
    fortranOrder: info.fortranOrder,
    shape: info.shape,
    dataBytes,
  };
}

/**
 * Decodes and validates a .npy header.
 *
 * @param bytes The start of the file, at least the whole header (the data may follow).
 * @param options Limits.
 * @returns The header: version, size, descr, dtype, order, shape and data size.
 * @throws {NpyallocError} `E_NOT_NPY` for anything that is not a well-formed
 * .npy header of a supported dtype: wrong magic, unknown version, a header
 * longer than `maxHeaderBytes`, bad encoding, a dict that is not NumPy's, a
 * data size of 2^63 bytes or more, any `problem` of {@linkcode decodeHeaderInfo}.
 * A `bytes` shorter than the header gives a message starting with `Truncated header`;
 * use {@linkcode headerLength} to learn how much to read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeHeader, encodeHeader } from "./header.ts";
 * const h = decodeHeader(encodeHeader("<f4", false, [2, 3], "auto").bytes);
 * assert.ok(h.dataBytes === 24n && h.headerBytes === 128);
 * ```
 */
export function decodeHeader(bytes: Uint8Array, options: DecodeHeaderOptions = {}): NpyHeader {
  return strict(readInfo(bytes, options));
}
