/**
 * Writes one planned array to disk without a partial file ever appearing at
 * its path: the data goes to a file with no name in the target's folder
 * (`O_TMPFILE`) or, where that cannot be done, one with a temporary name; it
 * is fsynced and then linked into place (`linkat(2)`/`link(2)` refuse to
 * clobber an existing file; `--force` renames over it instead), and the folder
 * is fsynced.
 *
 * @module
 */

import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { mapOsError, NpyallocError, osErrorCode } from "../errors.ts";
import type { ArrayLayout } from "../npy/layout.ts";
import type { FileLinker, Platform } from "../platform/platform.ts";
import { DIRECT_MIN_BYTES, writePattern, writePatternDirect, writeZeros } from "./fill_writer.ts";
import { tempPathFor } from "./_temp_name.ts";

/**
 * How the data of an array was laid out: `fallocate` (reserved, reads as zeros), `zeros`
 * (reserve fell back to writing zeros), `write` (the fill written out), `truncate` (sparse).
 */
export type AllocatedBy = "fallocate" | "zeros" | "write" | "truncate";

/** The parts of an {@linkcode ArrayLayout} that writing its file needs. */
export type WritableLayout =
  & Pick<ArrayLayout, "header" | "allocation" | "dataBytes" | "element">
  & { readonly dtype: { readonly itemsize: number } };

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
 * @param direct The file is synced right after: a large fill may then bypass the page cache
 *   (`O_DIRECT`, where the platform and the filesystem allow it).
 * @returns What was done.
 * @throws {NpyallocError} On any OS error, or `E_INTERRUPTED`.
 */
export async function writeArrayData(
  fd: number,
  layout: WritableLayout,
  platform: Platform,
  signal?: AbortSignal,
  onProgress?: (bytes: number) => void,
  direct = false,
): Promise<WriteResult> {
  const headerBytes = BigInt(layout.header.length);
  // Blocks are reserved before the header goes into the first of them: written first, the
  // header is a delayed allocation that fallocate then has to resolve, and creating a small
  // file on ext4 takes about 10% more kernel time. With no data, preallocate calls nothing but
  // still says whether it could have.
  const reserved = layout.allocation === "reserve" &&
    platform.preallocate(fd, headerBytes, layout.dataBytes) === "fallocate";
  writeAll(fd, layout.header, platform);
  if (reserved) {
    return { allocatedBy: "fallocate", bytesWritten: headerBytes, bytesReserved: layout.dataBytes };
  }
  const options = {
    ...(signal === undefined ? {} : { signal }),
    ...(onProgress === undefined ? {} : { onProgress }),
  };
  switch (layout.allocation) {
    case "sparse":
      fs.ftruncateSync(fd, layout.header.length + Number(layout.dataBytes));
      return { allocatedBy: "truncate", bytesWritten: headerBytes, bytesReserved: 0n };
    case "reserve": {
      const written = await writeZeros(fd, headerBytes, layout.dataBytes, options);
      return { allocatedBy: "zeros", bytesWritten: headerBytes + written, bytesReserved: 0n };
    }
    case "write": {
      const count = layout.dtype.itemsize === 0
        ? 0n
        : layout.dataBytes / BigInt(layout.dtype.itemsize);
      // Data that is synced right away goes to the disk with direct I/O where it can.
      const io = direct && layout.dataBytes >= DIRECT_MIN_BYTES ? platform.directIo?.() : null;
      const written =
        (io && platform.writeAt
          ? await writePatternDirect(fd, headerBytes, count, layout.element, {
            io,
            writeAt: platform.writeAt,
          }, options)
          : null) ?? await writePattern(fd, headerBytes, count, layout.element, options);
      return { allocatedBy: "write", bytesWritten: headerBytes + written, bytesReserved: 0n };
    }
  }
}

function writeAll(fd: number, bytes: Uint8Array, platform: Platform): void {
  let done = 0;
  while (done < bytes.length) {
    const rest = bytes.subarray(done);
    const n = platform.writeAt?.(fd, rest, done) ?? fs.writeSync(fd, rest, 0, rest.length, done);
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
 * Creates the .npy file of `layout` at `target`: parent folders as needed, the data in a file
 * that has no name yet (Linux `O_TMPFILE`, where the platform can link it) or a temporary file
 * beside the target, fsynced, then linked into place. No partial file ever appears at `target`;
 * on any failure nothing is left behind.
 *
 * @param target Where the file goes.
 * @param layout The planned array.
 * @param platform Provides `fallocate` and, optionally, the linker of unnamed files.
 * @param options fsync, replace, abort.
 * @returns What was done.
 * @throws {NpyallocError} `E_EXISTS` when `target` exists and `replace` is not set; OS errors
 *   mapped by `mapOsError` (`E_NO_SPACE`, `E_PERMISSION`, ...); `E_INTERRUPTED`.
 */
export async function createArrayFile(
  target: string,
  layout: WritableLayout,
  platform: Platform,
  options: CreateOptions = {},
): Promise<CreateResult> {
  const fsync = options.fsync ?? true;
  const dir = path.dirname(target);
  const changedFolders = [dir];
  // Replacing renames over the old file, which needs a name to rename from.
  const linker = options.replace ? null : linkerOf(platform);
  let draft: Draft | undefined;
  let open = false;
  let linked = false;
  try {
    // The folder usually exists (a run creates it for its first file): try the file first and
    // make the folders only when it is missing, which saves a mkdir and two stats per file.
    try {
      draft = openDraft(target, dir, linker);
    } catch (err) {
      if (osErrorCode(err) !== "ENOENT") throw mapOsError(err, `Cannot create '${target}'`);
      makeFolders(dir, changedFolders);
      try {
        draft = openDraft(target, dir, linker);
      } catch (err) {
        throw mapOsError(err, `Cannot create '${target}'`);
      }
    }
    open = true;
    const { fd } = draft;
    let result: WriteResult;
    try {
      result = await writeArrayData(
        fd,
        layout,
        platform,
        options.signal,
        options.onProgress,
        fsync,
      );
      if (fsync) fs.fsyncSync(fd);
    } catch (err) {
      throw inContext(err, `Cannot write '${target}'`);
    }
    try {
      if (draft.temp === null) {
        draft.link(fd, target);
      } else {
        open = false;
        fs.closeSync(fd);
        if (options.replace) fs.renameSync(draft.temp, target);
        else fs.linkSync(draft.temp, target);
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
    if (draft.temp !== null && !options.replace) removeQuietly(draft.temp);
    if (options.syncFolder ?? fsync) { for (const folder of changedFolders) fsyncDir(folder); }
    return { ...result, changedFolders };
  } finally {
    // An unnamed file that was never linked vanishes when it is closed.
    if (open && draft !== undefined) fs.closeSync(draft.fd);
    if (!linked && draft?.temp != null) removeQuietly(draft.temp);
  }
}

/** A file being written: its descriptor, and its temporary name or how to name it. */
type Draft =
  | { readonly fd: number; readonly temp: string }
  | { readonly fd: number; readonly temp: null; readonly link: FileLinker };

/** `open(2)` flags of a file with no name in a folder: `O_TMPFILE | O_WRONLY | O_CLOEXEC`. */
const UNNAMED_FLAGS = 0o20000000 | fs.constants.O_DIRECTORY | fs.constants.O_WRONLY | 0o2000000;

/** Folders whose filesystem cannot make unnamed files (the answer never changes in a run). */
const noUnnamedFiles = new Set<string>();

const linkers = new WeakMap<Platform, FileLinker | null>();

/**
 * Whether `createArrayFile` creates new files unnamed on this platform (where the filesystem
 * can; tmpfs, ext4, xfs and btrfs can), rather than under a temporary name.
 *
 * @param platform The platform files are written with.
 * @returns `true` on Linux with a platform that links unnamed files (Deno, Bun).
 */
export function writesUnnamedFiles(platform: Platform): boolean {
  return linkerOf(platform) !== null;
}

function linkerOf(platform: Platform): FileLinker | null {
  let linker = linkers.get(platform);
  if (linker === undefined) {
    linker = process.platform === "linux" ? platform.fileLinker?.() ?? null : null;
    linkers.set(platform, linker);
  }
  return linker;
}

/**
 * Opens the file the data goes to. An unnamed file needs one directory operation where a
 * temporary name needs three (create, link, unlink), and a killed run leaves nothing behind.
 */
function openDraft(target: string, dir: string, linker: FileLinker | null): Draft {
  if (linker !== null && !noUnnamedFiles.has(dir)) {
    try {
      return { fd: fs.openSync(dir, UNNAMED_FLAGS, 0o666), temp: null, link: linker };
    } catch (err) {
      // EISDIR: a kernel without O_TMPFILE; EOPNOTSUPP, EINVAL: a filesystem without it.
      const code = osErrorCode(err);
      if (code !== "EISDIR" && code !== "EOPNOTSUPP" && code !== "EINVAL") throw err;
      noUnnamedFiles.add(dir);
    }
  }
  const temp = tempPathFor(target);
  return { fd: fs.openSync(temp, "wx", 0o666), temp };
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
