/**
 * The few C library functions npyalloc calls through a runtime's FFI: one table of their
 * signatures, from which each adapter binds them, and the logic on top of them that every
 * runtime shares (argument checks, EINTR retries, "this filesystem cannot" read as
 * "unsupported").
 *
 * Reading errno right after a call is sound because the three runtimes make synchronous FFI
 * calls on the calling JavaScript thread, and errno is thread-local.
 *
 * @module
 */

import { errnoError } from "../errors.ts";
import { MAX_INT64 } from "../limits.ts";
import type { DirectIo, Folder, MathLib, PreallocateResult } from "./platform.ts";

/** A C type in a signature: 32/64-bit integers, a pointer to bytes, a pointer, floats. */
export type CType = "i32" | "i64" | "usize" | "isize" | "buffer" | "pointer" | "f32" | "f64";

/** One C function: the library it is in, its parameters and its result. */
export interface Signature {
  readonly library: "libc.so.6" | "libm.so.6";
  readonly parameters: readonly CType[];
  readonly result: CType;
}

/**
 * Every function bound, with its signature. glibc's `fallocate` and `pwrite` take a 64-bit
 * `off_t` on x86-64 and aarch64. Adding a function is one line here, one in {@linkcode Libc},
 * and nothing in the adapters.
 */
export const SIGNATURES = {
  openat: { library: "libc.so.6", parameters: ["i32", "buffer", "i32", "i32"], result: "i32" },
  mkdirat: { library: "libc.so.6", parameters: ["i32", "buffer", "i32"], result: "i32" },
  renameat: {
    library: "libc.so.6",
    parameters: ["i32", "buffer", "i32", "buffer"],
    result: "i32",
  },
  unlinkat: { library: "libc.so.6", parameters: ["i32", "buffer", "i32"], result: "i32" },
  faccessat: { library: "libc.so.6", parameters: ["i32", "buffer", "i32", "i32"], result: "i32" },
  fsync: { library: "libc.so.6", parameters: ["i32"], result: "i32" },
  sync_file_range: {
    library: "libc.so.6",
    parameters: ["i32", "i64", "i64", "i32"],
    result: "i32",
  },
  close: { library: "libc.so.6", parameters: ["i32"], result: "i32" },
  ftruncate: { library: "libc.so.6", parameters: ["i32", "i64"], result: "i32" },
  fallocate: { library: "libc.so.6", parameters: ["i32", "i32", "i64", "i64"], result: "i32" },
  linkat: {
    library: "libc.so.6",
    parameters: ["i32", "buffer", "i32", "buffer", "i32"],
    result: "i32",
  },
  pwrite: { library: "libc.so.6", parameters: ["i32", "buffer", "usize", "i64"], result: "isize" },
  access: { library: "libc.so.6", parameters: ["buffer", "i32"], result: "i32" },
  fcntl: { library: "libc.so.6", parameters: ["i32", "i32", "i32"], result: "i32" },
  flock: { library: "libc.so.6", parameters: ["i32", "i32"], result: "i32" },
  __errno_location: { library: "libc.so.6", parameters: [], result: "pointer" },
  exp: { library: "libm.so.6", parameters: ["f64"], result: "f64" },
  log1p: { library: "libm.so.6", parameters: ["f64"], result: "f64" },
  log1pf: { library: "libm.so.6", parameters: ["f32"], result: "f32" },
} as const satisfies Record<string, Signature>;

/** The name of a bound function. */
export type SymbolName = keyof typeof SIGNATURES;

/**
 * The bound functions, as JavaScript sees them: integers as numbers (64-bit arguments as
 * bigints), byte buffers as `Uint8Array`s. Each adapter also says where a buffer is in memory
 * and what errno is.
 */
export interface Libc {
  openat(dir: number, path: Uint8Array, flags: number, mode: number): number;
  mkdirat(dir: number, path: Uint8Array, mode: number): number;
  renameat(oldDir: number, oldPath: Uint8Array, newDir: number, newPath: Uint8Array): number;
  unlinkat(dir: number, path: Uint8Array, flags: number): number;
  faccessat(dir: number, path: Uint8Array, mode: number, flags: number): number;
  fsync(fd: number): number;
  sync_file_range(fd: number, offset: bigint, length: bigint, flags: number): number;
  close(fd: number): number;
  ftruncate(fd: number, length: bigint): number;
  fallocate(fd: number, mode: number, offset: bigint, length: bigint): number;
  linkat(
    oldDir: number,
    oldPath: Uint8Array,
    newDir: number,
    newPath: Uint8Array,
    flags: number,
  ): number;
  pwrite(fd: number, bytes: Uint8Array, count: number, offset: bigint): number;
  access(path: Uint8Array, mode: number): number;
  fcntl(fd: number, cmd: number, arg: number): number;
  flock(fd: number, operation: number): number;
  exp(x: number): number;
  log1p(x: number): number;
  log1pf(x: number): number;
  /** The calling thread's errno, read right after a failed call. */
  errno(): number;
  /** The address of the first byte of `bytes`. */
  address(bytes: Uint8Array): bigint;
  /**
   * `pwrite` on another thread, where the runtime's FFI can call it so (Deno's nonblocking
   * symbols): it resolves with what `pwrite` returned. Without it, `node:fs`'s asynchronous
   * write is used, which takes any descriptor on Bun and Node.js.
   */
  pwriteAsync?(fd: number, bytes: Uint8Array, count: number, offset: bigint): Promise<number>;
}

const EINTR = 4;
const EIO = 5;
const EAGAIN = 11;
const ENOENT = 2;
const EINVAL = 22;
/** Errnos that mean "this filesystem (or kernel) cannot do it", not "it failed". */
const UNSUPPORTED: ReadonlySet<number> = new Set([38, 95]); // ENOSYS, EOPNOTSUPP
/** Errnos of `flock` on a filesystem without locks. */
const NO_LOCKS: ReadonlySet<number> = new Set([37, 38, 95, EINVAL]); // ENOLCK, ENOSYS, EOPNOTSUPP

/**
 * Makes a libc call again for as long as a signal interrupts it (EINTR): an interrupted call is
 * never taken for a failure, nor for the user's interrupt.
 *
 * @param call The call: it returns -1 when it fails, and sets errno.
 * @param errno Reads the calling thread's errno right after a failed call.
 * @returns What the call returned, or the errno negated when it failed (EIO when errno says
 *   nothing, so that a failure never reads as a result).
 */
export function uninterrupted(call: () => number, errno: () => number): number {
  for (;;) {
    const result = call();
    if (result !== -1) return result;
    const code = errno();
    if (code !== EINTR) return -(code === 0 ? EIO : code);
  }
}

/**
 * Checks the arguments of `Platform.preallocate`, so that every platform, with FFI or without,
 * rejects the same inputs.
 *
 * @param fd The file descriptor.
 * @param offset First byte of the range.
 * @param length Bytes in the range.
 * @throws {TypeError} `fd` is not a non-negative integer.
 * @throws {RangeError} `offset` or `length` is negative, or `offset + length >= 2^63`.
 */
export function checkPreallocateArgs(fd: number, offset: bigint, length: bigint): void {
  if (!Number.isSafeInteger(fd) || fd < 0) {
    throw new TypeError(`Cannot preallocate: fd must be a non-negative integer, got ${fd}`);
  }
  if (offset < 0n || length < 0n) {
    throw new RangeError(`Cannot preallocate: offset ${offset} and length ${length} must be >= 0`);
  }
  if (offset + length > MAX_INT64) {
    throw new RangeError(`Cannot preallocate: range end ${offset + length} exceeds 2^63 - 1`);
  }
}

/**
 * `Platform.preallocate` on top of a bound `fallocate`.
 *
 * @param libc The bound functions, or `null` without FFI.
 * @param fd An open, writable file descriptor.
 * @param offset First byte of the range.
 * @param length Bytes to reserve.
 * @returns `"fallocate"` or `"unsupported"`.
 * @throws {Error} Any errno other than EINTR, EOPNOTSUPP and ENOSYS, with its name as `code`.
 */
export function preallocateWithLibc(
  libc: Pick<Libc, "fallocate" | "errno"> | null,
  fd: number,
  offset: bigint,
  length: bigint,
): PreallocateResult {
  checkPreallocateArgs(fd, offset, length);
  if (libc === null) return "unsupported";
  if (length === 0n) return "fallocate";
  const result = uninterrupted(() => libc.fallocate(fd, 0, offset, length), libc.errno);
  if (result >= 0) return "fallocate";
  if (UNSUPPORTED.has(-result)) return "unsupported";
  throw errnoError(-result, "fallocate");
}

/**
 * `Platform.writeAt` on top of a bound `pwrite`.
 *
 * @param libc The bound functions.
 * @param fd An open, writable file descriptor.
 * @param bytes What to write.
 * @param position Where.
 * @returns How many bytes were written.
 * @throws {Error} The OS error, with its errno name as `code`.
 */
export function writeAtWithLibc(
  libc: Pick<Libc, "pwrite" | "errno">,
  fd: number,
  bytes: Uint8Array,
  position: number,
): number {
  const n = uninterrupted(() => libc.pwrite(fd, bytes, bytes.length, BigInt(position)), libc.errno);
  if (n < 0) throw errnoError(-n, "pwrite");
  return n;
}

const LOCK_EX = 2;
const LOCK_NB = 4;

/**
 * `Platform.lock` on top of a bound `flock`.
 *
 * @param libc The bound functions, or `null` without FFI.
 * @param fd An open file descriptor.
 * @returns `true` locked, `false` held by another process, `null` no locks here.
 * @throws {Error} Any other OS error, with its errno name as `code`.
 */
export function lockWithLibc(
  libc: Pick<Libc, "flock" | "errno"> | null,
  fd: number,
): boolean | null {
  if (libc === null) return null;
  const result = uninterrupted(() => libc.flock(fd, LOCK_EX | LOCK_NB), libc.errno);
  if (result >= 0) return true;
  if (-result === EAGAIN) return false;
  if (NO_LOCKS.has(-result)) return null;
  throw errnoError(-result, "flock");
}

/** `SYNC_FILE_RANGE_WRITE` of `<fcntl.h>`: start writeback of the dirty pages, do not wait. */
const SYNC_FILE_RANGE_WRITE = 2;

/**
 * Starts the writeback of a file's dirty pages without waiting for it
 * (`sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE)`). Only a hint, which makes no data
 * durable: a later `fsync` does, and reports any error. Started for many files before any of
 * them is fsynced, the writes and the journal updates of all go out together, and each fsync
 * then finds most of its work done (docs/guarantees.md, "group commit").
 *
 * @param libc The bound functions, or `null` without FFI (then it does nothing).
 * @param fd An open file descriptor.
 */
export function startWritebackWithLibc(
  libc: Pick<Libc, "sync_file_range" | "errno"> | null,
  fd: number,
): void {
  if (libc === null) return;
  uninterrupted(() => libc.sync_file_range(fd, 0n, 0n, SYNC_FILE_RANGE_WRITE), libc.errno);
}

const F_GETFL = 3;
const F_SETFL = 4;

/** `O_DIRECT`, which differs between architectures. */
function oDirect(arch: string): number | null {
  switch (arch) {
    case "x64":
      return 0o40000;
    case "arm64":
      return 0o200000;
    default:
      return null;
  }
}

/**
 * `Platform.directIo` on top of a bound `fcntl`.
 *
 * @param libc The bound functions, or `null`.
 * @param arch The CPU architecture (`process.arch`).
 * @returns The calls, or `null` without libc or on an architecture whose `O_DIRECT` is unknown.
 */
export function directIoWithLibc(
  libc: Pick<Libc, "fcntl" | "errno" | "address"> | null,
  arch: string,
): DirectIo | null {
  const flag = oDirect(arch);
  if (libc === null || flag === null) return null;
  const fcntl = (fd: number, cmd: number, arg: number) =>
    uninterrupted(() => libc.fcntl(fd, cmd, arg), libc.errno);
  return {
    setDirect(fd, on) {
      if (!Number.isSafeInteger(fd) || fd < 0) {
        throw new TypeError(`Cannot set O_DIRECT: fd must be a non-negative integer, got ${fd}`);
      }
      const flags = fcntl(fd, F_GETFL, 0);
      if (flags < 0) throw errnoError(-flags, "fcntl");
      const result = fcntl(fd, F_SETFL, on ? flags | flag : flags & ~flag);
      if (result === -EINVAL) return false;
      if (result < 0) throw errnoError(-result, "fcntl");
      return true;
    },
    alignedBuffer(length, alignment) {
      const buffer = new Uint8Array(length + alignment);
      const misaligned = Number(libc.address(buffer) % BigInt(alignment));
      const start = misaligned === 0 ? 0 : alignment - misaligned;
      return buffer.subarray(start, start + length);
    },
  };
}

/**
 * `Platform.math` on top of bound libm functions.
 *
 * @param libc The bound functions, or `null`.
 * @returns The functions, or `null`.
 */
export function mathWithLibc(libc: Libc | null): MathLib | null {
  if (libc === null) return null;
  return { exp: libc.exp, log1p: libc.log1p, log1pf: libc.log1pf };
}

const AT_FDCWD = -100;
const F_OK = 0;
const AT_SYMLINK_FOLLOW = 0x400;
const AT_EMPTY_PATH = 0x1000;
const encoder = new TextEncoder();
const EMPTY_PATH = new Uint8Array(1);

/** `text` as a NUL-terminated C string. */
function cString(text: string): Uint8Array {
  return encoder.encode(`${text}\0`);
}

/**
 * `Platform.linkUnnamed` on top of a bound `linkat`.
 *
 * The linker names the descriptor itself (`linkat(fd, "", dir, name, AT_EMPTY_PATH)`), which
 * since Linux 6.10 any process may do for a file it opened, and which costs less kernel time
 * than the path through `/proc/self/fd/<fd>` (no lookup in /proc, no symbolic link to follow:
 * about 7% of creating a small file on ext4). An older kernel refuses it with ENOENT to a
 * process without CAP_DAC_READ_SEARCH; then the linker takes the path through /proc, which
 * works for everyone, from then on. The new name is made relative to the open folder, so it is
 * pinned like every other name (see `Folder`).
 *
 * @param libc The bound functions, or `null`.
 * @returns The linker, or `null` when `libc` is `null` or `/proc/self/fd` is missing (the
 *   fallback needs it). Never throws.
 */
export function linkerWithLibc(
  libc: Pick<Libc, "linkat" | "access" | "errno"> | null,
): ((fd: number, folder: Folder, name: string) => void) | null {
  // Asked of libc, not node:fs: Deno lets node:fs into /proc only with --allow-all, while the
  // link itself goes through FFI and needs no more than --allow-ffi.
  if (libc === null || libc.access(cString("/proc/self/fd"), F_OK) !== 0) return null;
  let emptyPath = true;
  /** Calls `linkat`; returns 0 or the errno. */
  const link = (fromDir: number, from: Uint8Array, dir: number, to: Uint8Array, flags: number) =>
    -uninterrupted(() => libc.linkat(fromDir, from, dir, to, flags), libc.errno);
  return (fd, folder, name) => {
    if (!Number.isSafeInteger(fd) || fd < 0) {
      throw new TypeError(`Cannot link: fd must be a non-negative integer, got ${fd}`);
    }
    const to = cString(name);
    let errno = emptyPath ? link(fd, EMPTY_PATH, folder.fd, to, AT_EMPTY_PATH) : ENOENT;
    if (errno === ENOENT) {
      // Refused by the kernel, or the folder is gone: the path through /proc tells which.
      errno = link(AT_FDCWD, cString(`/proc/self/fd/${fd}`), folder.fd, to, AT_SYMLINK_FOLLOW);
      if (errno === 0) emptyPath = false;
    }
    if (errno !== 0) {
      throw Object.assign(errnoError(errno, "linkat"), { path: `${folder.path}/${name}` });
    }
  };
}

/** `open(2)` flags and `*at` constants of Linux, by architecture (they differ on aarch64). */
const OPEN_FLAGS = {
  x64: { directory: 0o200000, nofollow: 0o400000 },
  arm64: { directory: 0o40000, nofollow: 0o100000 },
} as const;

const O_RDONLY = 0;
const O_WRONLY = 1;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const O_PATH = 0o10000000;
const O_TMPFILE_BASE = 0o20000000;
const AT_SYMLINK_NOFOLLOW = 0x100;

/**
 * The calls on open folders and files that a {@linkcode Platform} makes through one kind of
 * descriptor: libc's own (`openat` and friends, here), or `node:fs`'s (`_system.ts`). A
 * descriptor one kind opened is only ever used by that kind (Deno's `node:fs` refuses any other).
 */
export interface Descriptors {
  /** Whether names resolve through the open folder, whatever its path leads to later. */
  readonly pinned: boolean;
  openFolder(path: string): Folder;
  openFolderAt(parent: Folder, name: string): Folder;
  makeFolderAt(parent: Folder, name: string): void;
  syncFolder(folder: Folder): void;
  closeFolder(folder: Folder): void;
  createUnnamed(folder: Folder): number;
  createFile(folder: Folder, name: string): number;
  openFile(folder: Folder, name: string): number;
  exists(folder: Folder, name: string): boolean;
  link(folder: Folder, from: string, to: string): void;
  rename(folder: Folder, from: string, to: string): void;
  unlink(folder: Folder, name: string): void;
  writeAt(fd: number, bytes: Uint8Array, position: number): number;
  write(fd: number, bytes: Uint8Array, position: number): Promise<number>;
  truncate(fd: number, length: number): void;
  sync(fd: number): void;
  close(fd: number): void;
}

/**
 * The descriptor calls through libc: every name inside a folder goes through `openat` and
 * friends with the folder's descriptor, never through a path, so folders are pinned on every
 * runtime with FFI (with or without access to `/proc`).
 *
 * @param libc The bound functions.
 * @param arch The CPU architecture (`process.arch`), for the flags that differ.
 * @param writeAsync The asynchronous write to use when libc has none of its own.
 * @returns The calls, or `null` on an architecture whose flags are not known here.
 */
export function libcDescriptors(
  libc: Libc,
  arch: string,
  writeAsync: (fd: number, bytes: Uint8Array, position: number) => Promise<number>,
): Descriptors | null {
  const flags = OPEN_FLAGS[arch as keyof typeof OPEN_FLAGS];
  if (flags === undefined) return null;
  const folderFlags = O_PATH | flags.directory | flags.nofollow | O_CLOEXEC;
  const call = (name: string, run: () => number): number => {
    const result = uninterrupted(run, libc.errno);
    if (result < 0) throw errnoError(-result, name);
    return result;
  };
  return {
    pinned: true,
    openFolder: (path) => ({
      path,
      fd: call(
        "open",
        () => libc.openat(AT_FDCWD, cString(path), O_PATH | flags.directory | O_CLOEXEC, 0),
      ),
    }),
    openFolderAt: (parent, name) => ({
      path: parent.path === "/" ? `/${name}` : `${parent.path}/${name}`,
      fd: call("openat", () => libc.openat(parent.fd, cString(name), folderFlags, 0)),
    }),
    makeFolderAt: (parent, name) =>
      void call("mkdirat", () => libc.mkdirat(parent.fd, cString(name), 0o777)),
    syncFolder(folder) {
      const fd = call(
        "openat",
        () => libc.openat(folder.fd, cString("."), O_RDONLY | flags.directory | O_CLOEXEC, 0),
      );
      try {
        call("fsync", () => libc.fsync(fd));
      } finally {
        libc.close(fd);
      }
    },
    closeFolder: (folder) => void libc.close(folder.fd),
    createUnnamed: (folder) =>
      call(
        "openat",
        () =>
          libc.openat(
            folder.fd,
            cString("."),
            O_TMPFILE_BASE | flags.directory | O_WRONLY | O_CLOEXEC,
            0o666,
          ),
      ),
    createFile: (folder, name) =>
      call(
        "openat",
        () =>
          libc.openat(
            folder.fd,
            cString(name),
            O_CREAT | O_EXCL | O_WRONLY | flags.nofollow | O_CLOEXEC,
            0o666,
          ),
      ),
    openFile: (folder, name) =>
      call(
        "openat",
        () =>
          libc.openat(
            folder.fd,
            cString(name),
            O_RDONLY | O_NONBLOCK | flags.nofollow | O_CLOEXEC,
            0,
          ),
      ),
    exists(folder, name) {
      const result = uninterrupted(
        () => libc.faccessat(folder.fd, cString(name), F_OK, AT_SYMLINK_NOFOLLOW),
        libc.errno,
      );
      if (result >= 0) return true;
      if (-result === ENOENT) return false;
      throw errnoError(-result, "faccessat");
    },
    link: (folder, from, to) =>
      void call("linkat", () => libc.linkat(folder.fd, cString(from), folder.fd, cString(to), 0)),
    rename: (folder, from, to) =>
      void call("renameat", () => libc.renameat(folder.fd, cString(from), folder.fd, cString(to))),
    unlink: (folder, name) =>
      void call("unlinkat", () => libc.unlinkat(folder.fd, cString(name), 0)),
    writeAt: (fd, bytes, position) => writeAtWithLibc(libc, fd, bytes, position),
    async write(fd, bytes, position) {
      if (libc.pwriteAsync === undefined) return await writeAsync(fd, bytes, position);
      const n = await libc.pwriteAsync(fd, bytes, bytes.length, BigInt(position));
      // errno of a call on another thread cannot be read here: the write is made again on this
      // thread, which fails the same way (ENOSPC, EIO) and tells why.
      return n < 0 ? writeAtWithLibc(libc, fd, bytes, position) : n;
    },
    truncate: (fd, length) => void call("ftruncate", () => libc.ftruncate(fd, BigInt(length))),
    sync: (fd) => void call("fsync", () => libc.fsync(fd)),
    close(fd) {
      // Never again on EINTR: Linux has closed the descriptor already, and its number may be
      // another file's by now.
      if (libc.close(fd) < 0) {
        const errno = libc.errno();
        if (errno !== EINTR) throw errnoError(errno, "close");
      }
    },
  };
}

/**
 * The {@linkcode Libc} of functions an adapter bound by the names of {@linkcode SIGNATURES}:
 * integer results as numbers (a runtime may give 64-bit ones as bigints), float results as they
 * come.
 *
 * @param bound The bound functions, by name.
 * @param errno Reads the calling thread's errno.
 * @param address The address of a buffer's first byte.
 * @param pwriteAsync `pwrite` on another thread, where the FFI has that.
 * @returns The functions.
 * @throws {Error} When a function of the table is missing.
 */
export function libcOf(
  bound: Readonly<Record<string, ((...args: unknown[]) => unknown) | undefined>>,
  errno: () => number,
  address: (bytes: Uint8Array) => bigint,
  pwriteAsync?: Libc["pwriteAsync"],
): Libc {
  const out: Record<string, unknown> = { errno, address };
  for (const [name, signature] of Object.entries(SIGNATURES)) {
    if (name === "__errno_location") continue;
    const f = bound[name];
    if (f === undefined) throw new Error(`libc has no ${name}`);
    const float = signature.result === "f32" || signature.result === "f64";
    out[name] = float ? f : (...args: unknown[]) => Number(f(...args));
  }
  if (pwriteAsync !== undefined) out.pwriteAsync = pwriteAsync;
  return out as unknown as Libc;
}
