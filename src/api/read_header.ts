/**
 * Reading the header of a .npy file, for programs.
 *
 * @module
 */

import type { DecodeHeaderOptions, NpyFileHeader, NpyFileHeaderInfo } from "../npy/header.ts";
import { readHeader, readHeaderInfo } from "../plan/read_header.ts";
import { loadPlatform } from "../platform/mod.ts";
import type { Platform } from "../platform/platform.ts";

/**
 * Reads and decodes the header of a .npy file; never reads its data.
 *
 * @param path The file.
 * @param options The largest header accepted, and the platform (the current runtime's by
 *   default).
 * @returns The header, the file's size, and the size a complete file has.
 * @throws {NpyallocError} `E_NOT_NPY` when it is not a .npy file; an OS error (`E_NOT_FOUND`,
 *   `E_PERMISSION`, ...) when it cannot be read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { encodeHeader } from "../npy/header.ts";
 * import { readHeaderFromFile } from "./read_header.ts";
 * const dir = mkdtempSync(join(tmpdir(), "npyalloc-example-"));
 * const file = join(dir, "x.npy");
 * writeFileSync(file, new Uint8Array([...encodeHeader("<i2", false, [3], "auto").bytes, 0, 0]));
 * const h = await readHeaderFromFile(file);
 * assert.deepEqual([h.descr, h.shape, h.fileBytes, h.expectedFileBytes], ["<i2", [3n], 130n, 134n]);
 * rmSync(dir, { recursive: true });
 * ```
 */
export async function readHeaderFromFile(
  path: string,
  options: DecodeHeaderOptions & { readonly platform?: Platform } = {},
): Promise<NpyFileHeader> {
  const { platform, ...decode } = options;
  return await readHeader(platform ?? await loadPlatform(), path, decode);
}

/**
 * Reads the header of a .npy file and says what it holds, also when the array cannot be
 * memory-mapped as it describes: an object array (its data is a pickle), or data of 2^63 bytes
 * or more. `problem` says why; only a header that is not NumPy's throws.
 *
 * @param path The file.
 * @param options The largest header accepted, and the platform.
 * @returns What the header says, the file size, the size a complete file has (`null` when the
 *   data size is unknown), and the problem, if any.
 * @throws {NpyallocError} `E_NOT_NPY` when it is not a .npy header at all; an OS error when the
 *   file cannot be read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { encodeHeader } from "../npy/header.ts";
 * import { readHeaderInfoFromFile } from "./read_header.ts";
 * const dir = mkdtempSync(join(tmpdir(), "npyalloc-example-"));
 * const file = join(dir, "x.npy");
 * writeFileSync(file, encodeHeader("<f8", false, [2n ** 62n], "auto").bytes);
 * const h = await readHeaderInfoFromFile(file);
 * assert.deepEqual([h.shape, h.dataBytes], [[2n ** 62n], 2n ** 65n]);
 * assert.match(h.problem ?? "", /2\^63 bytes or more/);
 * rmSync(dir, { recursive: true });
 * ```
 */
export async function readHeaderInfoFromFile(
  path: string,
  options: DecodeHeaderOptions & { readonly platform?: Platform } = {},
): Promise<NpyFileHeaderInfo> {
  const { platform, ...decode } = options;
  return await readHeaderInfo(platform ?? await loadPlatform(), path, decode);
}
