/**
 * The {@linkcode Platform} of every runtime: `node:fs`, which Deno, Bun and Node.js all have,
 * plus the libc functions an adapter binds through its FFI (`_libc.ts`).
 *
 * How folders are pinned: a {@linkcode Folder} is an open descriptor (`O_PATH`), and every name
 * inside it is reached through that descriptor, never through a path, so a symbolic link put in
 * place of the folder or one of its parents later cannot redirect it. With FFI the calls are
 * libc's own `openat`, `mkdirat`, `linkat`, `renameat`, `unlinkat` (`_libc.ts`), and the files
 * they open are written through libc too. Without FFI they go through `node:fs` as
 * `/proc/self/fd/<fd>/<name>`, which the kernel resolves through the open folder just as
 * `openat(fd, name)` does; where `/proc` cannot be used (no procfs), through the folder's path,
 * and `capabilities().pinned` says so.
 *
 * @module
 */

import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { osErrorCode } from "../errors.ts";
import {
  type Descriptors,
  directIoWithLibc,
  type Libc,
  libcDescriptors,
  linkerWithLibc,
  lockWithLibc,
  mathWithLibc,
  preallocateWithLibc,
  startWritebackWithLibc,
} from "./_libc.ts";
import type {
  Capabilities,
  DirEntry,
  FileInfo,
  FileKind,
  FilesystemInfo,
  Folder,
  Platform,
} from "./platform.ts";

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
/** `O_TMPFILE` (x86-64 and aarch64): `node:fs` has no constant for it. */
const O_TMPFILE = 0o20000000 | O_DIRECTORY;
/**
 * `O_PATH`: a folder opened only to be a place, which needs no read permission on it (a folder
 * of mode 0333 can still be written in) and cannot be read or synced through.
 */
const O_PATH = 0o10000000;

/** Bytes read per call by `readFile`. */
const READ_CHUNK = 1024 * 1024;

function kindOf(stats: fs.Stats | fs.BigIntStats | fs.Dirent): FileKind {
  if (stats.isFile()) return "file";
  if (stats.isDirectory()) return "folder";
  if (stats.isSymbolicLink()) return "link";
  if (stats.isFIFO()) return "fifo";
  if (stats.isSocket()) return "socket";
  if (stats.isCharacterDevice()) return "char-device";
  if (stats.isBlockDevice()) return "block-device";
  return "other";
}

function info(stats: fs.BigIntStats): FileInfo {
  return {
    kind: kindOf(stats),
    size: stats.size,
    allocated: stats.blocks * 512n,
    dev: stats.dev,
    ino: stats.ino,
    nlink: Number(stats.nlink),
    mtimeMs: Number(stats.mtimeMs),
  };
}

function entries(list: fs.Dirent[]): DirEntry[] {
  return list.map((entry) => ({ name: entry.name, kind: kindOf(entry) }));
}

/** `fs.read` as a promise. */
function readAsync(
  fd: number,
  buffer: Uint8Array,
  offset: number,
  length: number,
  position: number | null,
) {
  return new Promise<number>((resolve, reject) => {
    fs.read(fd, buffer, offset, length, position, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

/** A promise that rejects when `signal` aborts, with a way to stop listening. */
function aborted(signal: AbortSignal | undefined): { promise: Promise<never>; done(): void } {
  if (signal === undefined) return { promise: new Promise<never>(() => {}), done() {} };
  let onAbort = () => {};
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  promise.catch(() => {});
  return { promise, done: () => signal.removeEventListener("abort", onAbort) };
}

/** Reads standard input to its end, or to `maxBytes + 1` bytes. */
async function readStdin(maxBytes: number, signal?: AbortSignal): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  const stop = aborted(signal);
  const stream = process.stdin;
  try {
    const reading = (async () => {
      for await (const chunk of stream) {
        const bytes = typeof chunk === "string"
          ? new TextEncoder().encode(chunk)
          : chunk as Uint8Array;
        parts.push(bytes);
        total += bytes.length;
        if (total > maxBytes) break;
      }
    })();
    await Promise.race([reading, stop.promise]);
  } finally {
    stop.done();
    stream.pause?.();
  }
  return concat(parts, Math.min(total, maxBytes + 1));
}

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    if (at >= length) break;
    const take = Math.min(part.length, length - at);
    out.set(take === part.length ? part : part.subarray(0, take), at);
    at += take;
  }
  return out;
}

/** Reads a file to its end, or to `maxBytes + 1` bytes. */
async function readPath(file: string, maxBytes: number, signal?: AbortSignal): Promise<Uint8Array> {
  const stop = aborted(signal);
  // Opening a FIFO waits for a writer: the open runs on an I/O thread, and the signal is heard.
  let fd: number | undefined;
  const opening = new Promise<number>((resolve, reject) => {
    fs.open(file, O_RDONLY, (err, opened) => (err ? reject(err) : resolve(opened)));
  });
  try {
    fd = await Promise.race([opening, stop.promise]);
    const parts: Uint8Array[] = [];
    let total = 0;
    while (total <= maxBytes) {
      const chunk = new Uint8Array(Math.min(READ_CHUNK, maxBytes + 1 - total));
      const n = await Promise.race([readAsync(fd, chunk, 0, chunk.length, null), stop.promise]);
      if (n === 0) break;
      parts.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      total += n;
    }
    return concat(parts, total);
  } finally {
    stop.done();
    if (fd !== undefined) fs.close(fd, () => {});
    else opening.then((late) => fs.close(late, () => {}), () => {});
  }
}

/**
 * The descriptor calls through `node:fs`, for a runtime without FFI: a name inside a folder is
 * reached as `/proc/self/fd/<fd>/<name>`, which the kernel resolves through the open folder, or
 * through the folder's path where `/proc` cannot be used (then `pinned` is false).
 */
function nodeDescriptors(): Descriptors {
  let pinned: boolean | undefined;
  /** Whether `/proc/self/fd/<fd>` reaches an open folder here; asked once. */
  const procReaches = (folder: Folder): boolean => {
    if (pinned === undefined) {
      try {
        pinned = fs.statSync(`/proc/self/fd/${folder.fd}`).isDirectory();
      } catch {
        pinned = false;
      }
    }
    return pinned;
  };
  /** Where `name` inside `folder` is, for `node:fs`. */
  const at = (folder: Folder, name: string): string =>
    procReaches(folder)
      ? (name === "" ? `/proc/self/fd/${folder.fd}` : `/proc/self/fd/${folder.fd}/${name}`)
      : (name === "" ? folder.path : path.join(folder.path, name));
  const descriptors: Descriptors = {
    get pinned() {
      if (pinned === undefined) {
        const probe = descriptors.openFolder("/");
        procReaches(probe);
        descriptors.closeFolder(probe);
      }
      return pinned === true;
    },
    openFolder: (dir) => ({ path: dir, fd: fs.openSync(dir, O_PATH | O_DIRECTORY) }),
    openFolderAt: (parent, name) => ({
      path: path.join(parent.path, name),
      fd: fs.openSync(at(parent, name), O_PATH | O_DIRECTORY | O_NOFOLLOW),
    }),
    makeFolderAt: (parent, name) => fs.mkdirSync(at(parent, name)),
    syncFolder(folder) {
      const fd = fs.openSync(at(folder, ""), O_RDONLY | O_DIRECTORY);
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    },
    closeFolder: (folder) => fs.closeSync(folder.fd),
    createUnnamed: (folder) => fs.openSync(at(folder, ""), O_TMPFILE | O_WRONLY, 0o666),
    createFile: (folder, name) =>
      fs.openSync(at(folder, name), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o666),
    openFile: (folder, name) => fs.openSync(at(folder, name), O_RDONLY | O_NONBLOCK | O_NOFOLLOW),
    exists(folder, name) {
      try {
        fs.lstatSync(at(folder, name));
        return true;
      } catch (err) {
        if (osErrorCode(err) === "ENOENT") return false;
        throw err;
      }
    },
    link: (folder, from, to) => fs.linkSync(at(folder, from), at(folder, to)),
    rename: (folder, from, to) => fs.renameSync(at(folder, from), at(folder, to)),
    unlink: (folder, name) => fs.unlinkSync(at(folder, name)),
    writeAt: (fd, bytes, position) => fs.writeSync(fd, bytes, 0, bytes.length, position),
    write: nodeWrite,
    truncate: (fd, length) => fs.ftruncateSync(fd, length),
    sync: (fd) => fs.fsyncSync(fd),
    close: (fd) => fs.closeSync(fd),
  };
  return descriptors;
}

/** `node:fs`'s asynchronous positional write, as a promise. */
function nodeWrite(fd: number, bytes: Uint8Array, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.write(fd, bytes, 0, bytes.length, position, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

/**
 * Builds the platform of a runtime.
 *
 * @param runtime The runtime and its version, e.g. `"deno 2.9.6"`.
 * @param bind Binds libc through the runtime's FFI; `null` when it cannot (no FFI, no
 *   permission, no glibc). Called once, on first use.
 * @returns The platform.
 */
export function systemPlatform(runtime: string, bind: () => Libc | null): Platform {
  let libc: Libc | null | undefined;
  const bound = () => (libc === undefined ? (libc = bind()) : libc);
  let linker: Platform["linkUnnamed"] | undefined;
  let chosen: Descriptors | undefined;
  /** libc's descriptors where libc is bound on Linux, else `node:fs`'s; chosen once. */
  const d = (): Descriptors => {
    if (chosen === undefined) {
      const l = process.platform === "linux" ? bound() : null;
      chosen = (l === null ? null : libcDescriptors(l, process.arch, nodeWrite)) ??
        nodeDescriptors();
    }
    return chosen;
  };

  const platform: Platform = {
    runtime,
    capabilities(): Capabilities {
      return { ffi: bound() !== null, pinned: d().pinned };
    },

    stat: (file) => info(fs.statSync(file, { bigint: true })),
    lstat: (file) => info(fs.lstatSync(file, { bigint: true })),
    statfs(file): FilesystemInfo {
      const s = fs.statfsSync(file, { bigint: true });
      return {
        type: Number(s.type),
        blockSize: s.bsize,
        blocks: s.blocks,
        available: s.bavail,
        files: s.files,
        freeFiles: s.ffree,
      };
    },
    realpath: (file) => fs.realpathSync(file),
    readdir: (dir) => entries(fs.readdirSync(dir, { withFileTypes: true })),
    readlink: (file) => fs.readlinkSync(file),
    readFile: (file, maxBytes, signal) =>
      file === "-" ? readStdin(maxBytes, signal) : readPath(file, maxBytes, signal),
    async readStart(file, length) {
      const fd = fs.openSync(file, O_RDONLY | O_NONBLOCK);
      try {
        const stats = info(fs.fstatSync(fd, { bigint: true }));
        if (stats.kind !== "file") return { bytes: new Uint8Array(0), info: stats };
        const want = Number(stats.size < BigInt(length) ? stats.size : BigInt(length));
        const bytes = new Uint8Array(want);
        let got = 0;
        while (got < want) {
          const n = await readAsync(fd, bytes, got, want - got, got);
          if (n === 0) break;
          got += n;
        }
        return { bytes: got === want ? bytes : bytes.subarray(0, got), info: stats };
      } finally {
        fs.closeSync(fd);
      }
    },
    openRead: (file) => fs.openSync(file, O_RDONLY | O_NONBLOCK),
    read: (fd, buffer, position) => readAsync(fd, buffer, 0, buffer.length, position),
    fstat: (fd) => info(fs.fstatSync(fd, { bigint: true })),
    closeRead: (fd) => fs.closeSync(fd),

    openFolder: (dir) => d().openFolder(dir),
    openFolderAt: (parent, name) => d().openFolderAt(parent, name),
    makeFolderAt: (parent, name) => d().makeFolderAt(parent, name),
    syncFolder: (folder) => d().syncFolder(folder),
    closeFolder: (folder) => d().closeFolder(folder),
    pathIn: (parent, name) => path.join(parent.path, name),

    createUnnamed: (folder) => d().createUnnamed(folder),
    get linkUnnamed() {
      if (linker === undefined) {
        linker = process.platform === "linux" ? linkerWithLibc(bound()) : null;
      }
      return linker;
    },
    createFile: (folder, name) => d().createFile(folder, name),
    openFile: (folder, name) => d().openFile(folder, name),
    exists: (folder, name) => d().exists(folder, name),
    link: (folder, from, to) => d().link(folder, from, to),
    rename: (folder, from, to) => d().rename(folder, from, to),
    unlink: (folder, name) => d().unlink(folder, name),
    removeFile: (file) => fs.unlinkSync(file),

    writeAt: (fd, bytes, position) => d().writeAt(fd, bytes, position),
    write: (fd, bytes, position) => d().write(fd, bytes, position),
    preallocate: (fd, offset, length) => preallocateWithLibc(bound(), fd, offset, length),
    truncate: (fd, length) => d().truncate(fd, length),
    sync: (fd) => d().sync(fd),
    startWriteback: (fd) => startWritebackWithLibc(bound(), fd),
    close: (fd) => d().close(fd),
    lock: (fd) => lockWithLibc(bound(), fd),
    directIo: () => directIoWithLibc(bound(), process.arch),
    math: () => mathWithLibc(bound()),

    processExists(pid) {
      if (pid === process.pid) return true;
      try {
        process.kill(pid, 0);
        return true;
      } catch (err) {
        // EPERM: the process exists but belongs to someone else.
        return osErrorCode(err) === "EPERM";
      }
    },
  };
  return platform;
}
