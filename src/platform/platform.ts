/**
 * The one interface through which npyalloc reaches the operating system. Everything the
 * manifest loader, the plan, the writer, the report and the commands do to files goes through a
 * {@linkcode Platform}; `node:fs` is used nowhere else, so the rest of the code can be run
 * against a fake filesystem.
 *
 * How it works: one implementation (`_system.ts`) serves Deno, Bun and Node.js alike through
 * `node:fs`, and takes from the runtime's FFI what `node:fs` cannot do (`fallocate`, `linkat`
 * with `AT_EMPTY_PATH`, `pwrite` without a global lock, `fcntl` for `O_DIRECT`, `flock`). The
 * only runtime-specific code is the binding of those few libc symbols (`deno.ts`, `bun.ts`,
 * `node.ts`), made from one table of signatures (`_libc.ts`).
 *
 * Errors: every method throws what the OS said, as `node:fs` does (an `Error` with the errno
 * name as `code`), for `mapOsError` in `errors.ts` to turn into a message.
 *
 * @module
 */

/** What kind of thing a path names. */
export type FileKind =
  | "file"
  | "folder"
  | "link"
  | "fifo"
  | "socket"
  | "char-device"
  | "block-device"
  | "other";

/** What `stat`/`lstat`/`fstat` tell about a file. */
export interface FileInfo {
  readonly kind: FileKind;
  /** Size in bytes. */
  readonly size: bigint;
  /** Bytes of storage allocated to it (`st_blocks * 512`). */
  readonly allocated: bigint;
  /** Device of the filesystem it is on. */
  readonly dev: bigint;
  readonly ino: bigint;
  /** Hard links to it: 0 for a file no name refers to. */
  readonly nlink: number;
  /** Last change of its data, in milliseconds since the epoch. */
  readonly mtimeMs: number;
}

/** What `statfs` tells about a filesystem. */
export interface FilesystemInfo {
  /** `f_type`, the filesystem's magic number (see `filesystemName`). */
  readonly type: number;
  /** Block size in bytes. */
  readonly blockSize: bigint;
  /** Blocks in all. */
  readonly blocks: bigint;
  /** Blocks available to an unprivileged user. */
  readonly available: bigint;
  /** Inodes in all; 0 when the filesystem does not count them. */
  readonly files: bigint;
  /** Free inodes. */
  readonly freeFiles: bigint;
}

/** One entry of a folder listing. */
export interface DirEntry {
  readonly name: string;
  readonly kind: FileKind;
}

/**
 * An open folder. Names inside it are resolved relative to the open folder itself, not to its
 * path: a symbolic link put in place of the folder, or of one of its parents, after it was
 * opened cannot redirect them (see {@linkcode Platform.pinned}).
 */
export interface Folder {
  /** The folder's path when it was opened, for messages. */
  readonly path: string;
  /** Its file descriptor. */
  readonly fd: number;
}

/** What the runtime can do beyond `node:fs`, fixed once the platform is loaded. */
export interface Capabilities {
  /** libc is bound through the runtime's FFI: `fallocate`, `linkat`, `pwrite`, `flock`. */
  readonly ffi: boolean;
  /**
   * Names inside a {@linkcode Folder} resolve through its descriptor (`/proc/self/fd/N/name`,
   * which the kernel resolves as `openat(N, name)` does); `false` where `/proc` is out of reach
   * (no procfs, or Deno without `--allow-all`): then they resolve through its path.
   */
  readonly pinned: boolean;
}

/** How {@linkcode Platform.preallocate} laid out the range. */
export type PreallocateResult = "fallocate" | "unsupported";

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

/**
 * `exp`, `log1p` and `log1pf` exactly as the C library (glibc's libm) computes them. NumPy's
 * ziggurat calls them in its rare tail and wedge steps (`random_standard_normal` in
 * numpy/random/src/distributions/distributions.c); a result one ulp off changes the bytes
 * written, and JavaScript's `Math` functions are not the C library's on every runtime.
 */
export interface MathLib {
  /** C `double exp(double)`. */
  exp(x: number): number;
  /** C `double log1p(double)`. */
  log1p(x: number): number;
  /** C `float log1pf(float)`: the argument is a float32 value, and so is the result. */
  log1pf(x: number): number;
}

/** What npyalloc needs from the operating system. Get one with `loadPlatform()` (`mod.ts`). */
export interface Platform {
  /** The runtime and its version, e.g. `"deno 2.9.6"`, `"bun 1.4.5"`, `"node 20.20.2"`. */
  readonly runtime: string;
  /** What it can do beyond `node:fs`. Asking binds libc (once). */
  capabilities(): Capabilities;

  // Paths, read-only.

  /** `stat(2)`: follows symbolic links. */
  stat(path: string): FileInfo;
  /** `lstat(2)`: a symbolic link itself. */
  lstat(path: string): FileInfo;
  /** `statfs(2)` of the filesystem `path` is on. */
  statfs(path: string): FilesystemInfo;
  /** `realpath(3)`: the path with every symbolic link resolved; the path must exist. */
  realpath(path: string): string;
  /** The entries of a folder, without `.` and `..`. */
  readdir(path: string): DirEntry[];
  /** Where a symbolic link points, as written. */
  readlink(path: string): string;
  /**
   * Reads a whole file, whatever it is (a FIFO, a device, a file that grows), but never more
   * than `maxBytes + 1` bytes: a result longer than `maxBytes` tells the caller the file is too
   * large. Asynchronous, so that a signal is handled while it waits on a FIFO.
   *
   * @param path The file, or `-` for standard input.
   * @param maxBytes The most bytes wanted.
   * @param signal Stops the read; the promise rejects with the signal's reason.
   */
  readFile(path: string, maxBytes: number, signal?: AbortSignal): Promise<Uint8Array>;
  /**
   * Reads the first `length` bytes of a regular file (fewer if it is shorter) and its size, for
   * headers. Opens with `O_NONBLOCK` so that a FIFO put in place of the file cannot block.
   */
  readStart(path: string, length: number): Promise<{ bytes: Uint8Array; info: FileInfo }>;
  /** Opens a file to read (`O_RDONLY | O_NONBLOCK`), by path. */
  openRead(path: string): number;
  /** Reads into `buffer` at `position` from a file of `openRead`; resolves with the bytes read. */
  read(fd: number, buffer: Uint8Array, position: number): Promise<number>;
  /** `fstat(2)` of a file of `openRead`. */
  fstat(fd: number): FileInfo;
  /** Closes a file of `openRead` (and only those: see `close`). */
  closeRead(fd: number): void;

  // Folders.

  /** Opens a folder by path (following symbolic links). */
  openFolder(path: string): Folder;
  /**
   * Opens `name` inside `parent`, refusing a symbolic link (`O_DIRECTORY | O_NOFOLLOW`: ELOOP
   * or ENOTDIR when `name` is a link or not a folder).
   */
  openFolderAt(parent: Folder, name: string): Folder;
  /** Creates the folder `name` in `parent` (`mkdirat`, mode 0777 less the umask). */
  makeFolderAt(parent: Folder, name: string): void;
  /** `fsync(2)` of a folder, so that the links made in it survive a crash. */
  syncFolder(folder: Folder): void;
  /** Closes a folder. */
  closeFolder(folder: Folder): void;
  /** `parent`'s path joined with `name`, for messages. */
  pathIn(parent: Folder, name: string): string;

  // Files in folders.

  /**
   * Opens a new file without a name in `folder` (`O_TMPFILE | O_WRONLY`), which
   * {@linkcode Platform.linkUnnamed} names once it is complete. Throws EOPNOTSUPP, EISDIR or
   * EINVAL where the filesystem or the kernel cannot make one.
   */
  createUnnamed(folder: Folder): number;
  /**
   * Gives the unnamed file `fd` the name `name` in `folder` (`linkat` with `AT_EMPTY_PATH`),
   * never replacing a file there (EEXIST). `null` where the runtime has no FFI: then files are
   * created under a temporary name.
   */
  readonly linkUnnamed: ((fd: number, folder: Folder, name: string) => void) | null;
  /** Creates `name` in `folder` to write (`O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW`). */
  createFile(folder: Folder, name: string): number;
  /** Opens the existing file `name` in `folder`, to lock it (`O_RDONLY | O_NOFOLLOW`). */
  openFile(folder: Folder, name: string): number;
  /** Whether `name` is in `folder` (a symbolic link counts; it is not followed). */
  exists(folder: Folder, name: string): boolean;
  /** `linkat(2)` of `from` to `to` in one folder; EEXIST when `to` exists. */
  link(folder: Folder, from: string, to: string): void;
  /** `renameat(2)` of `from` over `to` in one folder. */
  rename(folder: Folder, from: string, to: string): void;
  /** `unlinkat(2)` of a file. */
  unlink(folder: Folder, name: string): void;
  /** `unlink(2)` of a file by its path: for a process that must clean up on its way out. */
  removeFile(path: string): void;

  // Open files: those of `createUnnamed`, `createFile` and `openFile` (the descriptors of
  // `openRead` are another kind: on Deno, `node:fs` refuses libc's and the other way round).

  /**
   * Writes `bytes` at `position` with `pwrite(2)`, once (it may write fewer).
   *
   * @returns How many bytes were written.
   */
  writeAt(fd: number, bytes: Uint8Array, position: number): number;
  /** The same, asynchronously (on the runtime's I/O threads). */
  write(fd: number, bytes: Uint8Array, position: number): Promise<number>;
  /**
   * Reserves blocks for `[offset, offset + length)` of an open file with `fallocate(2)` mode
   * 0, which also extends the file when the range ends past it; the range reads as zeros.
   *
   * A `length` of `0n` reserves nothing and calls nothing: it says whether it could have.
   *
   * @returns `"fallocate"` when the blocks are reserved; `"unsupported"` when this runtime has
   *   no FFI, or the filesystem does not support it (EOPNOTSUPP, ENOSYS): then the caller writes
   *   zeros.
   * @throws {Error} Any other OS error (ENOSPC, EDQUOT, EFBIG, ...), with its errno name as `code`.
   * @throws {TypeError} `fd` is not a non-negative integer.
   * @throws {RangeError} `offset` or `length` is negative, or their sum is `>= 2^63`.
   */
  preallocate(fd: number, offset: bigint, length: bigint): PreallocateResult;
  /** `ftruncate(2)`. */
  truncate(fd: number, length: number): void;
  /** `fsync(2)`. */
  sync(fd: number): void;
  /**
   * Starts writing a file's dirty pages to disk without waiting (`sync_file_range(2)` with
   * `SYNC_FILE_RANGE_WRITE`), so that the fsyncs of a group of files that follow find their
   * data on its way. A hint: it makes nothing durable, never throws, and does nothing without
   * FFI.
   */
  startWriteback(fd: number): void;
  /** `close(2)`. */
  close(fd: number): void;
  /**
   * Takes an exclusive lock on an open file without waiting (`flock(LOCK_EX | LOCK_NB)`). The
   * lock goes when the file is closed or the process ends, however it ends.
   *
   * @returns `true` when locked, `false` when another process holds a lock on it, `null` when
   *   locks cannot be taken here (no FFI, or a filesystem without them: ENOLCK, EOPNOTSUPP).
   */
  lock(fd: number): boolean | null;
  /** Direct I/O, or `null` where the runtime cannot set `O_DIRECT` (no FFI). */
  directIo(): DirectIo | null;
  /** The C library's math functions, or `null` without FFI. */
  math(): MathLib | null;

  // Processes.

  /** Whether a process with this pid exists in this PID namespace. */
  processExists(pid: number): boolean;
}
