/**
 * Writes one planned array to disk without a partial file ever appearing at
 * its path: the data goes to a temporary file in the target's folder, which
 * is fsynced and then linked into place (`link(2)` refuses to clobber an
 * existing file; `--force` renames over it instead), and the folder is fsynced.
 *
 * @module
 */

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { mapOsError, NpyallocError, osErrorCode } from "../errors.ts";
import type { ArrayLayout } from "../npy/layout.ts";
import type { Platform } from "../platform/platform.ts";
import { writePattern, writeZeros } from "./fill_writer.ts";

/**
 * How the data of an array was laid out: `fallocate` (reserved, reads as zeros), `zeros`
 * (reserve fell back to writing zeros), `write` (the fill written out), `truncate` (sparse).
 */
export type AllocatedBy = "fallocate" | "zeros" | "write" | "truncate";

/** What writing an array did. */
export interface WriteResult {
  readonly allocatedBy: AllocatedBy;
  /** Bytes written with write(2): the header, plus the data unless reserved or sparse. */
  readonly bytesWritten: bigint;
  /** Bytes reserved with fallocate(2). */
  readonly bytesReserved: bigint;
}

/** Options of {@linkcode createArrayFile}. */
export interface CreateOptions {
  /** fsync the file and its folder before returning. @default {true} */
  readonly fsync?: boolean;
  /** Replace an existing file at the path (atomically). @default {false} */
  readonly replace?: boolean;
  /** Stops the write between chunks; the temporary file is removed. */
  readonly signal?: AbortSignal;
}

/** The suffix of npyalloc's temporary files: `.<name>.<host>.<pid>.<random>.npyalloc-tmp`. */
export const TEMP_SUFFIX = ".npyalloc-tmp";

/**
 * The name of a temporary file for `target`, in the same folder, marked with this host and
 * process so a later run can tell a dead run's leftovers from a live one's.
 *
 * @param target The final path.
 * @returns A path beside it.
 */
export function tempPathFor(target: string): string {
  const random = Math.floor(Math.random() * 2 ** 32).toString(36);
  const host = os.hostname().replace(/[^A-Za-z0-9_-]/g, "_");
  return path.join(
    path.dirname(target),
    `.${path.basename(target)}.${host}.${process.pid}.${random}${TEMP_SUFFIX}`,
  );
}

/**
 * Writes the header and lays out the data of `layout` on an open, empty file.
 *
 * @param fd A writable file descriptor of an empty file.
 * @param layout The planned array.
 * @param platform Provides `fallocate`.
 * @param signal Stops writing between chunks.
 * @returns What was done.
 * @throws {NpyallocError} On any OS error, or `E_INTERRUPTED`.
 */
export async function writeArrayData(
  fd: number,
  layout: ArrayLayout,
  platform: Platform,
  signal?: AbortSignal,
): Promise<WriteResult> {
  const headerBytes = BigInt(layout.header.length);
  writeAll(fd, layout.header);
  const options = signal === undefined ? {} : { signal };
  switch (layout.allocation) {
    case "sparse":
      fs.ftruncateSync(fd, Number(layout.fileBytes));
      return { allocatedBy: "truncate", bytesWritten: headerBytes, bytesReserved: 0n };
    case "reserve": {
      if (
        layout.dataBytes > 0n &&
        platform.preallocate(fd, headerBytes, layout.dataBytes) === "fallocate"
      ) {
        return {
          allocatedBy: "fallocate",
          bytesWritten: headerBytes,
          bytesReserved: layout.dataBytes,
        };
      }
      if (layout.dataBytes === 0n) {
        return { allocatedBy: "fallocate", bytesWritten: headerBytes, bytesReserved: 0n };
      }
      const written = await writeZeros(fd, headerBytes, layout.dataBytes, options);
      return { allocatedBy: "zeros", bytesWritten: headerBytes + written, bytesReserved: 0n };
    }
    case "write": {
      const count = layout.dtype.itemsize === 0
        ? 0n
        : layout.dataBytes / BigInt(layout.dtype.itemsize);
      const written = await writePattern(fd, headerBytes, count, layout.element, options);
      return { allocatedBy: "write", bytesWritten: headerBytes + written, bytesReserved: 0n };
    }
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) {
    const n = fs.writeSync(fd, bytes, done, bytes.length - done, done);
    if (n <= 0) throw new NpyallocError("E_IO", "Cannot write the header: no progress");
    done += n;
  }
}

/**
 * fsyncs a folder so that a link or rename inside it survives a crash.
 *
 * @param dir The folder.
 * @throws {NpyallocError} When the folder cannot be opened or synced.
 */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch (err) {
    // Some filesystems cannot fsync a folder; the data itself was synced.
    if (osErrorCode(err) !== "EINVAL" && osErrorCode(err) !== "EOPNOTSUPP") {
      throw mapOsError(err, `Cannot sync folder '${dir}'`);
    }
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Creates the .npy file of `layout` at `target`: parent folders as needed, the data in a
 * temporary file beside it, fsynced, then linked into place. No partial file ever appears at
 * `target`; on any failure the temporary file is removed.
 *
 * @param target Where the file goes.
 * @param layout The planned array.
 * @param platform Provides `fallocate`.
 * @param options fsync, replace, abort.
 * @returns What was done.
 * @throws {NpyallocError} `E_EXISTS` when `target` exists and `replace` is not set; OS errors
 *   mapped by `mapOsError` (`E_NO_SPACE`, `E_PERMISSION`, ...); `E_INTERRUPTED`.
 */
export async function createArrayFile(
  target: string,
  layout: ArrayLayout,
  platform: Platform,
  options: CreateOptions = {},
): Promise<WriteResult> {
  const fsync = options.fsync ?? true;
  const dir = path.dirname(target);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw mapOsError(err, `Cannot create folder '${dir}'`);
  }
  const temp = tempPathFor(target);
  let fd: number | undefined;
  let linked = false;
  try {
    try {
      fd = fs.openSync(temp, "wx", 0o666);
    } catch (err) {
      throw mapOsError(err, `Cannot create '${target}'`);
    }
    let result: WriteResult;
    try {
      result = await writeArrayData(fd, layout, platform, options.signal);
      if (fsync) fs.fsyncSync(fd);
    } catch (err) {
      throw inContext(err, `Cannot write '${target}'`);
    }
    fs.closeSync(fd);
    fd = undefined;
    try {
      if (options.replace) {
        fs.renameSync(temp, target);
      } else {
        fs.linkSync(temp, target);
      }
      linked = true;
    } catch (err) {
      if (osErrorCode(err) === "EEXIST") {
        throw new NpyallocError("E_EXISTS", `Cannot create '${target}': it already exists`, {
          cause: err,
        });
      }
      throw mapOsError(err, `Cannot create '${target}'`);
    }
    if (!options.replace) removeQuietly(temp);
    if (fsync) fsyncDir(dir);
    return result;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
    if (!linked) removeQuietly(temp);
  }
}

/** Re-words an OS failure from deeper down (which names a file descriptor) to name the file. */
function inContext(err: unknown, action: string): NpyallocError {
  const os = err instanceof NpyallocError ? err.cause : err;
  if (osErrorCode(os) !== undefined) return mapOsError(os, action);
  return mapOsError(err, action);
}

function removeQuietly(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    // Never created, or already gone: nothing to clean.
  }
}
