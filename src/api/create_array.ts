/**
 * One array, from a plain description to a file on disk: the library's counterpart of
 * `npyalloc create`, through the same engine (space and inode check, conflict check, atomic
 * writer, pinned folder, signal).
 *
 * @module
 */

import { NpyallocError } from "../errors.ts";
import { createOne } from "../engine/create.ts";
import type { DType, DTypeSpec } from "../npy/dtype.ts";
import type { FillValue } from "../npy/fill.ts";
import type { Allocation, ArrayLayout, HeaderVersion, Order } from "../npy/layout.ts";
import { loadPlatform } from "../platform/mod.ts";
import type { Platform } from "../platform/platform.ts";
import type { AllocatedBy } from "../run/write_file.ts";

/** What {@linkcode createArray} makes. */
export interface ArraySpec {
  /** Dimensions; numbers must be safe integers, bigints may be any size. */
  readonly shape: readonly (number | bigint)[];
  /** A dtype string or descr list (as `parseDType` takes), or a parsed dtype. @default {"float64"} */
  readonly dtype?: DTypeSpec | DType;
  /** @default {"C"} */
  readonly order?: Order;
  /** @default zeros */
  readonly fill?: FillValue;
  /** @default {"auto"} */
  readonly allocation?: Allocation;
  /** @default {"auto"} */
  readonly headerVersion?: HeaderVersion;
}

/** Options of {@linkcode createArray}. */
export interface CreateArrayOptions {
  /** fsync the file and its folder. @default {true} */
  readonly fsync?: boolean;
  /** Replace an existing file atomically instead of failing with `E_EXISTS`. @default {false} */
  readonly replace?: boolean;
  /** Stops the write between chunks; no file is left behind. */
  readonly signal?: AbortSignal;
  /** The runtime adapter. @default the current runtime's */
  readonly platform?: Platform;
}

/** What {@linkcode createArray} did. */
export interface CreatedArray {
  /** The array's header, sizes and fill bytes. */
  readonly layout: ArrayLayout;
  /** How the data was laid out. */
  readonly allocatedBy: AllocatedBy;
  /** Bytes written with write(2): the header, plus the data unless reserved or sparse. */
  readonly bytesWritten: bigint;
  /** Bytes reserved with fallocate(2). */
  readonly bytesReserved: bigint;
}

/**
 * Creates one `.npy` file, byte for byte what `np.save(path, np.full(shape, fill, dtype,
 * order))` writes, without building the array in memory. The file appears complete or not at
 * all; parent folders are created; the space and inodes it needs are checked first.
 *
 * @param path Where the file goes.
 * @param spec Shape, dtype, order, fill, allocation, header version.
 * @param options fsync, replace, abort, platform.
 * @returns The layout and how the data was laid out.
 * @throws {NpyallocError} `E_DTYPE`, `E_SHAPE`, `E_FILL`, `E_ALLOCATION`, `E_HEADER` for a spec
 *   that cannot work; `E_EXISTS` when the file exists; `E_NO_SPACE`/`E_NO_INODES` when it cannot
 *   fit; other OS errors while writing; `E_INTERRUPTED`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createArray } from "./create_array.ts";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * const dir = mkdtempSync(join(tmpdir(), "npyalloc-example-"));
 * const made = await createArray(join(dir, "x.npy"), { shape: [3, 4], dtype: "<f4", fill: 1.5 });
 * assert.ok(made.layout.fileBytes === 128n + 48n);
 * rmSync(dir, { recursive: true });
 * ```
 */
export async function createArray(
  path: string,
  spec: ArraySpec,
  options: CreateArrayOptions = {},
): Promise<CreatedArray> {
  const shape = spec.shape.map((d) => {
    if (typeof d === "number" && !Number.isSafeInteger(d)) {
      throw new RangeError(
        `Cannot create '${path}': shape entry ${d} is not a safe integer (use a bigint)`,
      );
    }
    return BigInt(d);
  });
  const result = await createOne({
    file: path,
    shape,
    dtype: spec.dtype ?? "float64",
    ...(spec.order === undefined ? {} : { order: spec.order }),
    ...(spec.fill === undefined ? {} : { fill: spec.fill }),
    ...(spec.allocation === undefined ? {} : { allocation: spec.allocation }),
    ...(spec.headerVersion === undefined ? {} : { headerVersion: spec.headerVersion }),
    ...(options.replace === undefined ? {} : { force: options.replace }),
    ...(options.fsync === undefined ? {} : { fsync: options.fsync }),
  }, {
    platform: options.platform ?? await loadPlatform(),
    env: {},
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  if (result.exitCode !== 0 || result.layout === null || result.allocatedBy === null) {
    throw result.error ?? new NpyallocError("E_IO", `Cannot create '${path}'`);
  }
  return {
    layout: result.layout,
    allocatedBy: result.allocatedBy,
    bytesWritten: result.bytesWritten,
    bytesReserved: result.bytesReserved,
  };
}
