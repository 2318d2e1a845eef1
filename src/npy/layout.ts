/**
 * Everything about one array that can be known without touching a disk: its
 * header bytes, data size, the bytes of one element of its fill, and the
 * allocation that will lay it out.
 *
 * @module
 */

import { NpyallocError } from "../errors.ts";
import { MAX_FILE_BYTES } from "../limits.ts";
import {
  type Descr,
  type DType,
  dtypeLabel,
  dtypeToDescr,
  type ElementDType,
  foldSubarray,
  MAX_DIMS,
} from "./dtype.ts";
import { encodeFill, type FillValue, isZeroFill } from "./fill.ts";
import { encodeHeader, fortranOrderFlag } from "./header.ts";
import { dataBytes } from "./shape.ts";

/** How an array's data is laid out on disk (docs/manifest.md, "Allocation"). */
export type Allocation = "auto" | "sparse" | "reserve" | "write";
/** The allocations that remain once `auto` is resolved. */
export type ResolvedAllocation = Exclude<Allocation, "auto">;
/** A .npy format version; `auto` lets NumPy's rules choose. */
export type HeaderVersion = "auto" | "1.0" | "2.0" | "3.0";
/** Memory order of the array. */
export type Order = "C" | "F";

/** The allocations, in the order the docs list them. */
export const ALLOCATIONS: readonly Allocation[] = ["auto", "sparse", "reserve", "write"];
/** The header versions a user may ask for. */
export const HEADER_VERSIONS: readonly HeaderVersion[] = ["auto", "1.0", "2.0", "3.0"];

/** What a user asks for: one array. */
export interface ArrayRequest {
  readonly shape: readonly bigint[];
  /** The dtype; a subarray dtype (`'(2,3)i4'`) is folded into the shape, as NumPy does. */
  readonly dtype: DType;
  /** @default {"C"} */
  readonly order?: Order;
  /** @default zeros */
  readonly fill?: FillValue;
  /** @default {"auto"} */
  readonly allocation?: Allocation;
  /** @default {"auto"} */
  readonly headerVersion?: HeaderVersion;
}

/** One array, fully planned. */
export interface ArrayLayout {
  /**
   * The shape of the array in the file: the request's, with the dimensions of a subarray dtype
   * appended (`[4]` of `'(2,3)i4'` is `[4, 2, 3]`, as `np.zeros(4, '(2,3)i4').shape`).
   */
  readonly shape: readonly bigint[];
  /** The dtype of the array in the file: the request's, or the base of a subarray dtype. */
  readonly dtype: ElementDType;
  readonly descr: Descr;
  readonly order: Order;
  /** What the header says; false for F-ordered arrays that are also C-contiguous, as NumPy writes. */
  readonly fortranOrder: boolean;
  /** The complete header: magic, version, length, dict and padding. */
  readonly header: Uint8Array;
  readonly headerVersion: "1.0" | "2.0" | "3.0";
  readonly dataBytes: bigint;
  readonly fileBytes: bigint;
  /** The bytes of one element of the fill. */
  readonly element: Uint8Array;
  /** Whether the fill is all-zero bytes. */
  readonly zeroFill: boolean;
  readonly allocation: ResolvedAllocation;
  /** Things the user should know (format versions, huge headers). */
  readonly warnings: readonly string[];
}

/**
 * Plans one array: header, sizes, fill bytes and allocation. Pure: touches nothing.
 *
 * @param request The array.
 * @returns Its layout.
 * @throws {NpyallocError} `E_SHAPE` for a size past 2^63 (or past 2^53 for the whole file), or
 *   more than 64 dimensions (with those of a subarray dtype),
 *   `E_FILL` for a fill that does not fit the dtype, `E_ALLOCATION` for `sparse` or `reserve`
 *   with a non-zero fill, `E_HEADER` for a header version that cannot hold the header.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { layoutArray } from "./layout.ts";
 * import { parseDType } from "./dtype.ts";
 * const layout = layoutArray({ shape: [1000n, 1000n], dtype: parseDType("float32"), fill: 1.5 });
 * assert.equal(layout.allocation, "write");
 * assert.equal(layout.fileBytes, 128n + 4_000_000n);
 * assert.deepEqual(layoutArray({ shape: [4n], dtype: parseDType("(2,3)i4") }).shape, [4n, 2n, 3n]);
 * ```
 */
export function layoutArray(request: ArrayRequest): ArrayLayout {
  const { shape, dtype } = foldSubarray(request.shape, request.dtype);
  if (shape.length > MAX_DIMS) {
    throw new NpyallocError(
      "E_SHAPE",
      `Shape of ${shape.length} dimensions is more than NumPy allows (${MAX_DIMS})` +
        (shape.length > request.shape.length ? " once the subarray dtype's are added" : ""),
    );
  }
  const order = request.order ?? "C";
  const bytes = dataBytes(shape, dtype.itemsize);
  const element = encodeFill(dtype, request.fill);
  const zeroFill = isZeroFill(element);
  const asked = request.allocation ?? "auto";
  if (!zeroFill && (asked === "sparse" || asked === "reserve")) {
    throw new NpyallocError(
      "E_ALLOCATION",
      `Allocation '${asked}' leaves the data as zeros, but the fill is not zero: use 'write' or 'auto'`,
    );
  }
  const allocation: ResolvedAllocation = asked === "auto"
    ? (zeroFill ? "reserve" : "write")
    : asked;
  const descr = dtypeToDescr(dtype);
  const fortranOrder = fortranOrderFlag(shape, order);
  const encoded = encodeHeader(descr, fortranOrder, shape, request.headerVersion ?? "auto");
  const fileBytes = BigInt(encoded.bytes.length) + bytes;
  if (fileBytes > MAX_FILE_BYTES) {
    throw new NpyallocError(
      "E_SHAPE",
      `Array ${dtypeLabel(dtype)} of ${bytes} bytes is larger than the 8 PiB npyalloc can write`,
    );
  }
  return {
    shape,
    dtype,
    descr,
    order,
    fortranOrder,
    header: encoded.bytes,
    headerVersion: encoded.version,
    dataBytes: bytes,
    fileBytes,
    element,
    zeroFill,
    allocation,
    warnings: encoded.warnings,
  };
}
