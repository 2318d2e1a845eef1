/**
 * Reading the header of a .npy file on disk: the first bytes, through the platform, decoded by
 * `npy/header.ts`. Never reads the data.
 *
 * @module
 */

import { mapOsError, NpyallocError } from "../errors.ts";
import {
  decodeHeader,
  decodeHeaderInfo,
  type DecodeHeaderOptions,
  headerLength,
  type NpyFileHeader,
  type NpyFileHeaderInfo,
} from "../npy/header.ts";
import { MAX_HEADER_READ_BYTES } from "../limits.ts";
import type { FileInfo, Platform } from "../platform/platform.ts";

/** The filesystem calls a header is read with. */
export type HeaderReader = Pick<Platform, "readStart">;

/** Bytes read first: the whole header of nearly every file (NumPy's are 128 bytes). */
const FIRST_READ = 4096;

/**
 * Reads and decodes the header of a .npy file.
 *
 * @param fs The filesystem.
 * @param file The file.
 * @param options The largest header accepted.
 * @returns The header, the file's size, and the size a complete file has.
 * @throws {NpyallocError} `E_NOT_NPY` when it is not a .npy file (or not a regular file); an
 *   OS error mapped by `mapOsError` when it cannot be read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { encodeHeader } from "../npy/header.ts";
 * import { loadPlatform } from "../platform/mod.ts";
 * import { readHeader } from "./read_header.ts";
 * const dir = mkdtempSync(join(tmpdir(), "npyalloc-example-"));
 * const file = join(dir, "x.npy");
 * writeFileSync(file, new Uint8Array([...encodeHeader("<i2", false, [3], "auto").bytes, 0, 0]));
 * const h = await readHeader(await loadPlatform(), file);
 * assert.deepEqual([h.descr, h.shape, h.fileBytes, h.expectedFileBytes], ["<i2", [3n], 130n, 134n]);
 * rmSync(dir, { recursive: true });
 * ```
 */
export async function readHeader(
  fs: HeaderReader,
  file: string,
  options: DecodeHeaderOptions = {},
): Promise<NpyFileHeader> {
  const { bytes, info } = await readHeaderBytes(fs, file, options);
  const header = decodeHeader(bytes, options);
  return {
    ...header,
    fileBytes: info.size,
    expectedFileBytes: BigInt(header.headerBytes) + header.dataBytes,
  };
}

/**
 * Reads the header of a .npy file and says what it holds, also when the array cannot be
 * memory-mapped as it describes (an object array, data of 2^63 bytes or more): what `inspect`
 * shows. Only a header that is not NumPy's throws.
 *
 * @param fs The filesystem.
 * @param file The file.
 * @param options The largest header accepted.
 * @returns What the header says, the file's size, the size a complete file has (`null` when the
 *   data size is unknown), and the problem, if any.
 * @throws {NpyallocError} As {@linkcode readHeader}, but not for the `problem`s of
 *   `decodeHeaderInfo`.
 */
export async function readHeaderInfo(
  fs: HeaderReader,
  file: string,
  options: DecodeHeaderOptions = {},
): Promise<NpyFileHeaderInfo> {
  const { bytes, info } = await readHeaderBytes(fs, file, options);
  const header = decodeHeaderInfo(bytes, options);
  return {
    ...header,
    fileBytes: info.size,
    expectedFileBytes: header.dataBytes === null
      ? null
      : BigInt(header.headerBytes) + header.dataBytes,
  };
}

/** The whole header of a file (and no data), and what the file is. */
async function readHeaderBytes(
  fs: HeaderReader,
  file: string,
  options: DecodeHeaderOptions,
): Promise<{ bytes: Uint8Array; info: FileInfo }> {
  const action = `Cannot read the header of '${file}'`;
  let bytes: Uint8Array;
  let info: FileInfo;
  try {
    ({ bytes, info } = await fs.readStart(file, FIRST_READ));
  } catch (err) {
    throw mapOsError(err, action);
  }
  if (info.kind !== "file") {
    throw new NpyallocError("E_NOT_NPY", `'${file}' is not a regular file`);
  }
  const maxHeaderBytes = options.maxHeaderBytes ?? MAX_HEADER_READ_BYTES;
  const total = headerLength(bytes);
  // A header over the limit is refused by the decoder from its length alone: never read.
  if (total !== null && total > bytes.length && total <= maxHeaderBytes + 12) {
    try {
      ({ bytes, info } = await fs.readStart(file, total));
    } catch (err) {
      throw mapOsError(err, action);
    }
  }
  return { bytes, info };
}
