/**
 * `inspect`: what a .npy file's header says, and whether the file on disk agrees with it. The
 * header is parsed as data, never evaluated; a file that is not a regular file (a FIFO, a
 * device) is never opened.
 *
 * @module
 */

import { EXIT, type ExitCode, mapOsError, NpyallocError } from "../errors.ts";
import { exactNumber } from "../json.ts";
import { fileKind } from "../plan/targets.ts";
import { readHeaderInfo } from "../plan/read_header.ts";
import type { Platform } from "../platform/platform.ts";
import type { EngineDeps } from "./deps.ts";
import { interrupted } from "./validate.ts";

/** What `inspect --json` prints for one file. */
export interface InspectResult {
  path: string;
  ok: boolean;
  header_version: string | null;
  header_bytes: number | null;
  descr: unknown;
  shape: (number | bigint)[] | null;
  fortran_order: boolean | null;
  itemsize: number | null;
  data_bytes: number | bigint | null;
  file_bytes: number | bigint | null;
  expected_file_bytes: number | bigint | null;
  allocated_bytes: number | bigint | null;
  error: string | null;
}

/** What `inspect` found. */
export interface InspectFilesResult {
  /** 0 every file is a complete .npy file; 1 some is not; 130 interrupted. */
  readonly exitCode: ExitCode;
  readonly files: readonly InspectResult[];
}

/**
 * Inspects one file. Never throws for a bad file: the result says what is wrong.
 *
 * @param platform The filesystem.
 * @param file The path.
 * @returns The result.
 */
export async function inspectFile(platform: Platform, file: string): Promise<InspectResult> {
  const result: InspectResult = {
    path: file,
    ok: false,
    header_version: null,
    header_bytes: null,
    descr: null,
    shape: null,
    fortran_order: null,
    itemsize: null,
    data_bytes: null,
    file_bytes: null,
    expected_file_bytes: null,
    allocated_bytes: null,
    error: null,
  };
  try {
    let stats;
    try {
      stats = platform.stat(file);
    } catch (err) {
      throw mapOsError(err, `Cannot inspect '${file}'`);
    }
    result.file_bytes = exactNumber(stats.size);
    result.allocated_bytes = exactNumber(stats.allocated);
    if (stats.kind === "folder") throw new NpyallocError("E_NOT_NPY", `'${file}' is a folder`);
    if (stats.kind !== "file") {
      throw new NpyallocError("E_NOT_NPY", `'${file}' is not a regular file (${fileKind(stats)})`);
    }
    const header = await readHeaderInfo(platform, file);
    result.header_version = header.version;
    result.header_bytes = header.headerBytes;
    result.descr = header.descr;
    result.shape = header.shape.map(exactNumber);
    result.fortran_order = header.fortranOrder;
    result.itemsize = header.dtype?.itemsize ?? null;
    result.data_bytes = header.dataBytes === null ? null : exactNumber(header.dataBytes);
    const expected = header.expectedFileBytes;
    result.expected_file_bytes = expected === null ? null : exactNumber(expected);
    // Object arrays, sizes past 2^63: the header is shown, the file is not ok.
    if (header.problem !== null || expected === null) {
      throw new NpyallocError("E_NOT_NPY", header.problem ?? "Header gives no data size");
    }
    if (header.fileBytes < expected) {
      throw new NpyallocError(
        "E_NOT_NPY",
        `Truncated data: the header needs ${expected} bytes, the file has ${header.fileBytes}`,
      );
    }
    if (header.fileBytes > expected) {
      throw new NpyallocError(
        "E_NOT_NPY",
        `Trailing bytes: the header needs ${expected} bytes, the file has ${header.fileBytes}`,
      );
    }
    result.ok = true;
  } catch (err) {
    if (!(err instanceof NpyallocError)) throw err;
    result.error = err.message;
  }
  return result;
}

/**
 * Inspects files, one after the other.
 *
 * @param files The paths.
 * @param deps Platform and signal.
 * @returns One result per file.
 * @throws {NpyallocError} `E_INTERRUPTED` when the signal aborts.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { loadPlatform } from "../platform/mod.ts";
 * import { inspectFiles } from "./inspect.ts";
 * const dir = mkdtempSync(join(tmpdir(), "npyalloc-example-"));
 * writeFileSync(join(dir, "x.npy"), "not an array");
 * const deps = { platform: await loadPlatform(), env: {} };
 * const result = await inspectFiles([join(dir, "x.npy")], deps);
 * assert.equal(result.files[0]?.ok, false);
 * rmSync(dir, { recursive: true });
 * ```
 */
export async function inspectFiles(
  files: readonly string[],
  deps: EngineDeps,
): Promise<InspectFilesResult> {
  const results: InspectResult[] = [];
  for (const file of files) {
    if (deps.signal?.aborted) throw interrupted(deps.signal.reason);
    results.push(await inspectFile(deps.platform, file));
  }
  return { exitCode: results.every((r) => r.ok) ? EXIT.ok : EXIT.failed, files: results };
}
