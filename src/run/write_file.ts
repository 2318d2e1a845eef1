/**
 * Writes one planned array to disk without a partial file ever appearing at
 * its path: the data goes to a temporary file in the target's folder, which
 * is fsynced and then linked into place (`link(2)` refuses to clobber an
 * existing file; `--force` renames over it instead), and the folder is fsynced.
 *
 * @module
 */

import fs from "node:fs";
import path from "node:path";
import { mapOsError, NpyallocError, osErrorCode } from "../errors.ts";
import type { ArrayLayout } from "../npy/layout.ts";
import type { Platform } from "../platform/platform.ts";
import { writePattern, writeZeros } from "./fill_writer.ts";
import { tempPathFor } from "./_temp_name.ts";

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

/** What creating an array file did. */
export interface CreateResult extends WriteResult {
  /**
   * Folders whose entries changed: the target's folder, and the parent of every folder that was
   * created for it. Already synced unless `syncFolder` was false.
   */
  readonly changedFolders: readonly string[];
}

/** Options of {@linkcode createArrayFile}. */
export interface CreateOptions {
  /** fsync the file and its folder before returning. @default {true} */
  readonly fsync?: boolean;
  /** Replace an existing file at the path (atomically). @default {false} */
  readonly replace?: boolean;
  /** Stops the write between chunks; the temporary file is removed. */
  readonly signal?: AbortSignal;
  /**
   * fsync the folder after linking. A caller that writes many files into one folder turns this
   * off and syncs each folder once with {@linkcode fsyncDir}. @default the value of `fsync`
   */
  readonly syncFolder?: boolean;
  /** Told the size of each chunk of data once it is written. */
  readonly onProgress?: (bytes: number) => void;
}

export { TEMP_SUFFIX, tempPathFor } from "./_temp_name.ts";

/**
 * Writes the header and lays out the data of `layout` on an open, empty file.
 *
 * @param fd A writable file descriptor of an empty file.
 * @param layout The planned array.
 * @param platform Provides `fallocate`.
 * @param signal Stops writing between chunks.
 * @param onProgress Told the size of each chunk of data once it is written.
 * @returns What was done.
 * @throws {NpyallocError} On any OS error, or `E_INTERRUPTED`.
 */
export async function writeArrayData(
  fd: number,
  layout: ArrayLayout,
  platform: Platform,
  signal?: AbortSignal,
  onProgress?: (bytes: number) => void,
): Promise<WriteResult> {
  const headerBytes = BigInt(layout.header.length);
  writeAll(fd, layout.header);
  const options = {
    ...(signal === undefined ? {} : { signal }),
    ...(onProgress === undefined ? {} : { onProgress }),
  };
  switch (layout.allocation) {
    case "sparse":
      fs.ftruncateSync(fd, Number(layout.fileBytes));
      return { allocatedBy: "truncate", bytesWritten: headerBytes, bytesReserved: 0n };
    case "reserve": {
      // With no data, preallocate calls nothing but still says whether it could have.
      if (platform.preallocate(fd, headerBytes, layout.dataBytes) === "fallocate") {
        return {
          allocatedBy: "fallocate",
          bytesWritten: headerBytes,
          bytesReserved: layout.dataBytes,
        };
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
): Promise<CreateResult> {
  const fsync = options.fsync ?? true;
  const dir = path.dirname(target);
  const changedFolders = [dir];
  const temp = tempPathFor(target);
  let fd: number | undefined;
  let linked = false;
  try {
    // The folder usually exists (a run creates it for its first file): try the file first and
    // make the folders only when it is missing, which saves a mkdir and two stats per file.
    try {
      fd = openTemp(temp);
    } catch (err) {
      if (osErrorCode(err) !== "ENOENT") throw mapOsError(err, `Cannot create '${target}'`);
      makeFolders(dir, changedFolders);
      try {
        fd = openTemp(temp);
      } catch (err) {
        throw mapOsError(err, `Cannot create '${target}'`);
      }
    }
    let result: WriteResult;
    try {
      result = await writeArrayData(fd, layout, platform, options.signal, options.onProgress);
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
    if (options.syncFolder ?? fsync) { for (const folder of changedFolders) fsyncDir(folder); }
    return { ...result, changedFolders };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
    if (!linked) removeQuietly(temp);
  }
}

function openTemp(temp: string): number {
  return fs.openSync(temp, "wx", 0o666);
}

/** Creates `dir` and its missing parents; adds the parent of each created folder to `changed`. */
function makeFolders(dir: string, changed: string[]): void {
  try {
    const first = fs.mkdirSync(dir, { recursive: true });
    for (let created = first === undefined ? undefined : dir; created !== undefined;) {
      const parent = path.dirname(created);
      changed.push(parent);
      created = created === first || parent === created ? undefined : parent;
    }
  } catch (err) {
    throw mapOsError(err, `Cannot create folder '${dir}'`);
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
