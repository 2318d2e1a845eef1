/**
 * The one interface through which the runtime-free core reaches what only a
 * particular runtime can do, plus the shared logic of the FFI adapters.
 *
 * How it works: the Deno and Bun adapters each bind a few libc symbols
 * (`fallocate`, `pwrite`, `linkat`, `access`, `__errno_location`) and hand them to
 * {@linkcode preallocateWithLibc} and {@linkcode fileLinkerWithLibc}, which
 * validate the arguments, retry on EINTR, turn "this filesystem cannot do it"
 * into `"unsupported"` and every other errno into an error. Reading errno
 * right after the call is sound because both runtimes run synchronous FFI
 * calls on the calling JavaScript thread and errno is thread-local.
 *
 * @module
 */

import fs from "node:fs";
import process from "node:process";
import { mapOsError } from "../errors.ts";

/** What the core needs from the runtime it runs on. Get one with `loadPlatform()` from `mod.ts`. */
export interface Platform {
  /** The runtime and its version, e.g. `"deno 2.9.6"`, `"bun 1.4.5"`, `"node 20.20.2"`. */
  readonly runtime: string;
  /**
   * Reserves blocks for `[offset, offset + length)` of an open file with
   * `fallocate(2)` mode 0, which also extends the file size when the range
   * ends past it. The reserved range reads as zeros.
   *
   * A `length` of `0n` reserves nothing and calls nothing: it returns
   * `"fallocate"` when the runtime could call `fallocate`, `"unsupported"`
   * otherwise.
   *
   * @param fd An open file descriptor, writable.
   * @param offset First byte of the range, `>= 0n`.
   * @param length Bytes to reserve, `>= 0n`; `offset + length` must be `< 2^63`.
   * @returns `"fallocate"` when the blocks are reserved; `"unsupported"` when
   * this runtime has no FFI (or no permission to use it), libc has no
   * `fallocate`, or the filesystem does not support it (EOPNOTSUPP, ENOSYS),
   * in which case the caller writes zeros instead.
   * @throws {NpyallocError} Any other OS error: `E_NO_SPACE` (ENOSPC, EDQUOT,
   * EFBIG), `E_PERMISSION`, `E_READ_ONLY`, `E_IO` (EIO, EBADF, EINVAL, ...).
   * @throws {TypeError} `fd` is not a non-negative integer.
   * @throws {RangeError} `offset` or `length` is negative, or their sum is `>= 2^63`.
   */
  preallocate(fd: number, offset: bigint, length: bigint): "fallocate" | "unsupported";
  /**
   * Binds the call that gives a name to a file opened without one (Linux
   * `O_TMPFILE`): `linkat(fd, "", AT_FDCWD, target, AT_EMPTY_PATH)`, or on a
   * kernel older than 6.10 `linkat(AT_FDCWD, "/proc/self/fd/<fd>", AT_FDCWD,
   * target, AT_SYMLINK_FOLLOW)`. A file written that way appears at its path
   * complete, in one directory operation, and a killed process leaves nothing
   * behind.
   *
   * Optional: a platform without it (Node.js, which has no FFI) creates files
   * under a temporary name and links them into place instead.
   *
   * @returns The linker, or `null` when this runtime cannot call `linkat`
   * (no FFI, no permission to use it, no glibc, no `/proc`). The linker throws
   * the OS error like `node:fs` does (`code` `"EEXIST"` when `target` exists,
   * never replacing it) and returns once the file has its name.
   */
  fileLinker?(): FileLinker | null;
  /**
   * Writes `bytes` at `position` of an open file with `pwrite(2)`, once (it may write fewer).
   * Optional: without it, callers use `node:fs`'s `writeSync`, which on Deno serializes the
   * writes of all threads of a process.
   *
   * @param fd An open, writable file descriptor.
   * @param bytes What to write.
   * @param position Where, in bytes from the start of the file.
   * @returns How many bytes were written.
   * @throws {Error} The OS error like `node:fs` throws it (`code` `"ENOSPC"`, ...).
   */
  writeAt?(fd: number, bytes: Uint8Array, position: number): number;
  /**
   * Direct I/O (`O_DIRECT`), for large writes that must reach the disk anyway: the data goes from
   * the caller's buffer to the device, without a copy into the page cache that would then be
   * written back. Optional: without it (Node.js), every write goes through the page cache.
   *
   * @returns The calls, or `null` when this runtime cannot make them.
   */
  directIo?(): DirectIo | null;
}

/** What writing with `O_DIRECT` needs; see {@linkcode Platform.directIo}. */
export interface DirectIo {
  /**
   * Turns `O_DIRECT` on or off for an open file (`fcntl(F_SETFL)`).
   *
   * @param fd An open file descriptor.
   * @param on Whether writes through `fd` bypass the page cache from now on.
   * @returns `false` when the filesystem does not support direct I/O (EINVAL); nothing changed.
   * @throws {Error} Any other OS error, with its errno name as `code`.
   */
  setDirect(fd: number, on: boolean): boolean;
  /**
   * A new buffer whose first byte's address is a multiple of `alignment`, as direct I/O requires
   * of the memory it writes from. It never moves.
   *
   * @param length Bytes.
   * @param alignment A power of two.
   * @returns The buffer, zero-filled.
   */
  alignedBuffer(length: number, alignment: number): Uint8Array;
}

/** Gives the open, unnamed file `fd` the name `target`; see {@linkcode Platform.fileLinker}. */
export type FileLinker = (fd: number, target: string) => void;

/** What {@linkcode Platform.preallocate} reports. */
export type PreallocateResult = "fallocate" | "unsupported";

/**
 * The two libc entry points an FFI adapter binds.
 * `fallocate` returns 0 or -1 with errno set, as in C.
 */
export interface LibcFallocate {
  /** `int fallocate(int fd, int mode, off_t offset, off_t len)` (64-bit `off_t`). */
  fallocate(fd: number, mode: number, offset: bigint, length: bigint): number;
  /** The calling thread's `errno`, read right after a failed call. */
  errno(): number;
}

/** Every libc entry point an FFI adapter binds. */
export type Libc = LibcFallocate & LibcLinkat & LibcPwrite & LibcDirect;

/** The libc entry point behind {@linkcode Platform.directIo}, and where a buffer is. */
export interface LibcDirect {
  /** `int fcntl(int fd, int cmd, int arg)`. */
  fcntl(fd: number, cmd: number, arg: number): number;
  /** The address of the first byte of `bytes`, from the runtime's FFI. */
  address(bytes: Uint8Array): bigint;
  /** The calling thread's `errno`, read right after a failed call. */
  errno(): number;
}

/**
 * The {@linkcode Platform} of an FFI adapter: `fallocate`, the file linker and `pwrite` on top of
 * libc, bound on first use (so that a run that needs none of them needs no FFI permission).
 *
 * @param runtime The runtime and its version, e.g. `"deno 2.9.6"`.
 * @param bind Binds libc; `null` when it cannot (no FFI, no permission, no glibc).
 * @returns The platform.
 */
export function libcPlatform(runtime: string, bind: () => Libc | null): Platform {
  let libc: Libc | null | undefined;
  const bound = () => (libc === undefined ? (libc = bind()) : libc);
  return {
    runtime,
    preallocate: (fd, offset, length) => preallocateWithLibc(bound(), fd, offset, length),
    fileLinker: () => fileLinkerWithLibc(bound()),
    writeAt(fd, bytes, position) {
      const l = bound();
      if (l === null) return fs.writeSync(fd, bytes, 0, bytes.length, position);
      return writeAtWithLibc(l, fd, bytes, position);
    },
    directIo: () => directIoWithLibc(bound()),
  };
}

const F_GETFL = 3;
const F_SETFL = 4;
const EINVAL = 22;

/** `O_DIRECT`, which differs between architectures. */
function oDirect(): number | null {
  switch (process.arch) {
    case "x64":
      return 0o40000;
    case "arm64":
      return 0o200000;
    default:
      return null;
  }
}

/**
 * Implements {@linkcode Platform.directIo} on top of a bound `fcntl`.
 *
 * @param libc The bound symbols, or `null`.
 * @returns The calls, or `null` without libc or on an architecture whose `O_DIRECT` is unknown.
 */
export function directIoWithLibc(libc: LibcDirect | null): DirectIo | null {
  const flag = oDirect();
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

/** The libc entry point behind {@linkcode Platform.writeAt}. */
export interface LibcPwrite {
  /** `ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset)`, 64-bit `off_t`. */
  pwrite(fd: number, bytes: Uint8Array, count: number, offset: bigint): number;
  /** The calling thread's `errno`, read right after a failed call. */
  errno(): number;
}

/**
 * Implements {@linkcode Platform.writeAt} on top of a bound `pwrite`.
 *
 * @param libc The bound symbols.
 * @param fd An open, writable file descriptor.
 * @param bytes What to write.
 * @param position Where.
 * @returns How many bytes were written.
 * @throws {Error} The OS error, with its errno name as `code`.
 */
export function writeAtWithLibc(
  libc: LibcPwrite,
  fd: number,
  bytes: Uint8Array,
  position: number,
): number {
  const n = uninterrupted(() => libc.pwrite(fd, bytes, bytes.length, BigInt(position)), libc.errno);
  if (n < 0) throw errnoError(-n, "pwrite");
  return n;
}

/** The libc entry points behind {@linkcode Platform.fileLinker}. */
export interface LibcLinkat {
  /** `int access(const char *path, int mode)`: whether `/proc/self/fd` is there to link from. */
  access(path: Uint8Array, mode: number): number;
  /** `int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)`. */
  linkat(
    oldDir: number,
    oldPath: Uint8Array,
    newDir: number,
    newPath: Uint8Array,
    flags: number,
  ): number;
  /** The calling thread's `errno`, read right after a failed call. */
  errno(): number;
}

/** Linux errno numbers (x86-64 and aarch64 agree on these) and their names. */
const ERRNO_NAMES: ReadonlyMap<number, string> = new Map([
  [1, "EPERM"],
  [2, "ENOENT"],
  [4, "EINTR"],
  [5, "EIO"],
  [9, "EBADF"],
  [12, "ENOMEM"],
  [13, "EACCES"],
  [17, "EEXIST"],
  [18, "EXDEV"],
  [20, "ENOTDIR"],
  [21, "EISDIR"],
  [22, "EINVAL"],
  [27, "EFBIG"],
  [28, "ENOSPC"],
  [30, "EROFS"],
  [31, "EMLINK"],
  [36, "ENAMETOOLONG"],
  [38, "ENOSYS"],
  [40, "ELOOP"],
  [95, "EOPNOTSUPP"],
  [122, "EDQUOT"],
]);

const EINTR = 4;
const EIO = 5;

/**
 * Makes a libc call again for as long as a signal interrupts it (EINTR).
 *
 * @param call The call: it returns -1 when it fails, and sets errno.
 * @param errno Reads the calling thread's errno right after a failed call.
 * @returns What the call returned, or the errno negated when it failed (EIO when errno says
 *   nothing, so that a failure never reads as a result).
 */
function uninterrupted(call: () => number, errno: () => number): number {
  for (;;) {
    const result = call();
    if (result !== -1) return result;
    const code = errno();
    if (code !== EINTR) return -(code === 0 ? EIO : code);
  }
}
const UNSUPPORTED_ERRNOS: ReadonlySet<number> = new Set([38, 95]);
const MAX_OFF_T = (1n << 63n) - 1n;

/**
 * Builds the kind of error `node:fs` throws for an errno, so that
 * `mapOsError` can map it like any other OS error.
 *
 * @param errno The errno number, e.g. `28`.
 * @param syscall The failed call, e.g. `"fallocate"`.
 * @returns An `Error` whose `code` is the errno name (`"ENOSPC"`), or `"E<number>"` for a number this table does not know.
 */
export function errnoError(
  errno: number,
  syscall: string,
): Error & { code: string; errno: number } {
  const code = ERRNO_NAMES.get(errno) ?? `E${errno}`;
  return Object.assign(new Error(`${code}: ${syscall} failed (errno ${errno})`), {
    code,
    errno,
    syscall,
  });
}

/**
 * Checks the arguments of {@linkcode Platform.preallocate}. Every adapter
 * calls it, so that all runtimes reject the same inputs.
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
  if (offset + length > MAX_OFF_T) {
    throw new RangeError(`Cannot preallocate: range end ${offset + length} exceeds 2^63 - 1`);
  }
}

/**
 * Implements {@linkcode Platform.preallocate} on top of bound libc symbols.
 *
 * @param libc The bound symbols, or `null` when they could not be bound.
 * @param fd An open, writable file descriptor.
 * @param offset First byte of the range.
 * @param length Bytes to reserve.
 * @returns `"fallocate"` or `"unsupported"`, as {@linkcode Platform.preallocate} documents.
 * @throws {NpyallocError} Any errno other than EINTR, EOPNOTSUPP and ENOSYS.
 * @throws {TypeError} `fd` is not a non-negative integer.
 * @throws {RangeError} `offset` or `length` is out of range.
 */
export function preallocateWithLibc(
  libc: LibcFallocate | null,
  fd: number,
  offset: bigint,
  length: bigint,
): PreallocateResult {
  checkPreallocateArgs(fd, offset, length);
  if (libc === null) return "unsupported";
  if (length === 0n) return "fallocate";
  const result = uninterrupted(() => libc.fallocate(fd, 0, offset, length), libc.errno);
  if (result >= 0) return "fallocate";
  if (UNSUPPORTED_ERRNOS.has(-result)) return "unsupported";
  throw mapOsError(
    errnoError(-result, "fallocate"),
    `Cannot reserve ${length} bytes at offset ${offset} of file descriptor ${fd}`,
  );
}

const AT_FDCWD = -100;
const F_OK = 0;
const AT_SYMLINK_FOLLOW = 0x400;
const AT_EMPTY_PATH = 0x1000;
const ENOENT = 2;
const encoder = new TextEncoder();
const EMPTY_PATH = new Uint8Array(1);

/** `text` as a NUL-terminated C string. */
function cString(text: string): Uint8Array {
  return encoder.encode(`${text}\0`);
}

/**
 * Implements {@linkcode Platform.fileLinker} on top of a bound `linkat`.
 *
 * The linker names the descriptor itself (`linkat(fd, "", AT_FDCWD, target, AT_EMPTY_PATH)`),
 * which since Linux 6.10 any process may do for a file it opened, and which costs less kernel
 * time than the path through `/proc/self/fd/<fd>` (no lookup in /proc, no symbolic link to
 * follow: about 7% of creating a small file on ext4). An older kernel refuses it with ENOENT
 * to a process without CAP_DAC_READ_SEARCH; then the linker takes the path through /proc,
 * which works for everyone, from then on.
 *
 * @param libc The bound symbols, or `null` when they could not be bound.
 * @returns The linker, or `null` when `libc` is `null` or `/proc/self/fd` is missing (the
 * fallback needs it). Never throws.
 */
export function fileLinkerWithLibc(libc: LibcLinkat | null): FileLinker | null {
  // Asked of libc, not node:fs: Deno lets node:fs into /proc only with --allow-all, while the
  // link itself goes through FFI and needs no more than --allow-ffi.
  if (libc === null || libc.access(cString("/proc/self/fd"), F_OK) !== 0) return null;
  let emptyPath = true;
  /** Calls `linkat`; returns 0 or the errno. */
  const link = (fromDir: number, from: Uint8Array, to: Uint8Array, flags: number): number =>
    -uninterrupted(() => libc.linkat(fromDir, from, AT_FDCWD, to, flags), libc.errno);
  return (fd, target) => {
    if (!Number.isSafeInteger(fd) || fd < 0) {
      throw new TypeError(`Cannot link: fd must be a non-negative integer, got ${fd}`);
    }
    const to = cString(target);
    let errno = emptyPath ? link(fd, EMPTY_PATH, to, AT_EMPTY_PATH) : ENOENT;
    if (errno === ENOENT) {
      // Refused by the kernel, or the folder is gone: the path through /proc tells which.
      errno = link(AT_FDCWD, cString(`/proc/self/fd/${fd}`), to, AT_SYMLINK_FOLLOW);
      if (errno === 0) emptyPath = false;
    }
    if (errno !== 0) throw Object.assign(errnoError(errno, "linkat"), { path: target });
  };
}
