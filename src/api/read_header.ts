/**
 * Reading the header of a .npy file, for programs.
 *
 * @module
 */

import type { DecodeHeaderOptions, NpyFileHeader } from "../npy/header.ts";
import { readHeader } from "../plan/read_header.ts";
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
