/**
 * The one error class npyalloc raises for user-facing failures, and the one place where error
 * codes, exit codes and operating-system errors are tabled: {@linkcode ERROR_CODES} (every
 * stable code, what it means, the exit code it gives), {@linkcode EXIT} (every exit code) and
 * the errno table behind {@linkcode mapOsError} and {@linkcode errnoError}.
 *
 * @module
 */

/**
 * Every exit code of every command (docs/cli.md lists them per command).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EXIT } from "./errors.ts";
 * assert.equal(EXIT.noSpace, 3);
 * ```
 */
export const EXIT = {
  /** Everything is as declared. */
  ok: 0,
  /** Something failed while writing (or verifying, or inspecting), or the report was not written. */
  failed: 1,
  /** Bad usage or an invalid manifest: nothing was touched. */
  usage: 2,
  /** Not enough free space or inodes, found before anything was touched. */
  noSpace: 3,
  /** Existing files conflict with the request and `--force` was not given: nothing touched. */
  conflict: 4,
  /** `report merge`: some shard's report is missing. */
  missingShards: 5,
  /** Interrupted by SIGINT or SIGTERM. */
  interrupted: 130,
} as const;

/** One of the exit codes of {@linkcode EXIT}. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** What a code means, and the exit code of a command that it stops before anything is written. */
interface CodeInfo {
  readonly exit: ExitCode;
  readonly description: string;
}

/**
 * Every stable error code. They appear in reports (`error.code`) and are part of the contract;
 * the report schema's enum lists exactly these (a test keeps them equal), and docs/errors.md is
 * generated from this table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ERROR_CODES } from "./errors.ts";
 * assert.equal(ERROR_CODES.E_CONFLICT.exit, 4);
 * ```
 */
export const ERROR_CODES = {
  E_USAGE: {
    exit: EXIT.usage,
    description: "Bad command-line usage: an unknown option, a missing or malformed value",
  },
  E_MANIFEST: {
    exit: EXIT.usage,
    description: "The manifest is invalid; the message carries file:line:column and the JSON path",
  },
  E_DTYPE: {
    exit: EXIT.usage,
    description: "A dtype NumPy does not accept, or one a memory-mappable .npy file cannot hold",
  },
  E_SHAPE: {
    exit: EXIT.usage,
    description: "A shape that is not a list of integers >= 0, or whose byte size is too large",
  },
  E_FILL: { exit: EXIT.usage, description: "A fill value that does not fit the dtype exactly" },
  E_ALLOCATION: {
    exit: EXIT.usage,
    description: "An allocation that cannot be combined with the fill, e.g. sparse with a fill",
  },
  E_HEADER: {
    exit: EXIT.usage,
    description: "A header the requested .npy format version cannot hold",
  },
  E_NOT_NPY: {
    exit: EXIT.failed,
    description: "A file that is not a well-formed .npy file: bad magic, malformed or truncated",
  },
  E_NO_SPACE: {
    exit: EXIT.noSpace,
    description:
      "Not enough free space: the up-front check failed (exit 3), or the OS said ENOSPC, EDQUOT or EFBIG while writing (exit 1)",
  },
  E_NO_INODES: {
    exit: EXIT.noSpace,
    description: "Not enough free inodes on a filesystem for the new files and folders",
  },
  E_PERMISSION: { exit: EXIT.failed, description: "The OS refused access: EACCES or EPERM" },
  E_READ_ONLY: { exit: EXIT.failed, description: "The filesystem is mounted read-only: EROFS" },
  E_NOT_A_DIRECTORY: {
    exit: EXIT.conflict,
    description:
      "A parent of a target path is a file, not a folder (ENOTDIR); --force does not change that",
  },
  E_NOT_FOUND: { exit: EXIT.failed, description: "A path that should exist does not: ENOENT" },
  E_EXISTS: {
    exit: EXIT.conflict,
    description:
      "A file is already at the path (create without --force), or appeared there while the run was writing (another run got there first)",
  },
  E_CONFLICT: {
    exit: EXIT.conflict,
    description:
      "An existing file or folder at a target path differs from the manifest; nothing was written (or replaced with --force)",
  },
  E_INTERRUPTED: {
    exit: EXIT.interrupted,
    description: "Stopped by SIGINT or SIGTERM; no partial file was left at the target",
  },
  E_IO: {
    exit: EXIT.failed,
    description: "Any other error from the OS; the message names its errno",
  },
} as const satisfies Record<string, CodeInfo>;

/** Stable error codes; see {@linkcode ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * A failure npyalloc reports to its user: a stable `code` and a one-line
 * message in sentence case without a trailing period.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NpyallocError } from "./errors.ts";
 * const err = new NpyallocError("E_DTYPE", "Cannot parse dtype 'float7'");
 * assert.ok(err.code === "E_DTYPE");
 * ```
 */
export class NpyallocError extends Error {
  /** The stable code of this failure. */
  readonly code: ErrorCode;

  /**
   * @param code The stable code.
   * @param message One line, sentence case, values quoted, no trailing period.
   * @param options The underlying cause, if any.
   */
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NpyallocError";
    this.code = code;
  }
}

/**
 * The exit code of a command that `err` stops before it has written anything.
 *
 * @param err The error.
 * @returns Its code's exit code from {@linkcode ERROR_CODES}.
 */
export function exitCodeOf(err: NpyallocError): ExitCode {
  return ERROR_CODES[err.code].exit;
}

/**
 * Linux errno numbers (x86-64 and aarch64 agree on these), their names, the code npyalloc
 * reports for them and the words of its messages. Errno 95 has two names (`EOPNOTSUPP`,
 * `ENOTSUP`): runtimes report either, and both read as the first.
 */
const ERRNOS: readonly (readonly [number, string, ErrorCode, string])[] = [
  [1, "EPERM", "E_PERMISSION", "operation not permitted"],
  [2, "ENOENT", "E_NOT_FOUND", "no such file or folder"],
  [4, "EINTR", "E_IO", "interrupted system call"],
  [5, "EIO", "E_IO", "input/output error"],
  [9, "EBADF", "E_IO", "bad file descriptor"],
  [11, "EAGAIN", "E_IO", "resource temporarily unavailable"],
  [12, "ENOMEM", "E_IO", "out of memory"],
  [13, "EACCES", "E_PERMISSION", "permission denied"],
  [16, "EBUSY", "E_IO", "device or resource busy"],
  [17, "EEXIST", "E_EXISTS", "file already exists"],
  [18, "EXDEV", "E_IO", "not on the same filesystem"],
  [20, "ENOTDIR", "E_NOT_A_DIRECTORY", "a path component is not a folder"],
  [21, "EISDIR", "E_IO", "is a folder"],
  [22, "EINVAL", "E_IO", "invalid argument"],
  [24, "EMFILE", "E_IO", "too many open files"],
  [27, "EFBIG", "E_NO_SPACE", "file too large for this filesystem"],
  [28, "ENOSPC", "E_NO_SPACE", "no space left on device"],
  [30, "EROFS", "E_READ_ONLY", "read-only filesystem"],
  [31, "EMLINK", "E_IO", "too many links"],
  [36, "ENAMETOOLONG", "E_IO", "name too long"],
  [37, "ENOLCK", "E_IO", "no locks available"],
  [38, "ENOSYS", "E_IO", "function not implemented"],
  [39, "ENOTEMPTY", "E_IO", "folder not empty"],
  [40, "ELOOP", "E_IO", "too many levels of symbolic links"],
  [95, "EOPNOTSUPP", "E_IO", "operation not supported"],
  [122, "EDQUOT", "E_NO_SPACE", "disk quota exceeded"],
];

const BY_NAME = new Map(ERRNOS.map((e) => [e[1], e]));
const BY_NUMBER = new Map(ERRNOS.map((e) => [e[0], e]));
/** Other names runtimes give an errno, and the name this table knows it by. */
const ALIASES: ReadonlyMap<string, string> = new Map([
  ["ENOTSUP", "EOPNOTSUPP"],
  ["EWOULDBLOCK", "EAGAIN"],
]);

/**
 * The errno name of an OS error (`"ENOSPC"`, ...), with aliases folded into the name the errno
 * table uses (`ENOTSUP` is `EOPNOTSUPP`): compare errno names only through this.
 *
 * @param err What a call threw.
 * @returns The name, or `undefined` when `err` carries none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { osErrorCode } from "./errors.ts";
 * assert.ok(osErrorCode({ code: "ENOTSUP" }) === "EOPNOTSUPP");
 * assert.ok(osErrorCode(new Error("x")) === undefined);
 * ```
 */
export function osErrorCode(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null || !("code" in err)) return undefined;
  const code = (err as { code: unknown }).code;
  if (typeof code !== "string") return undefined;
  return ALIASES.get(code) ?? code;
}

/**
 * Builds the kind of error `node:fs` throws for an errno number, so that FFI failures are
 * mapped like any other OS error.
 *
 * @param errno The errno number, e.g. `28`.
 * @param syscall The failed call, e.g. `"fallocate"`.
 * @returns An `Error` whose `code` is the errno name (`"ENOSPC"`), or `"E<number>"` for a number
 *   the table does not know.
 */
export function errnoError(
  errno: number,
  syscall: string,
): Error & { code: string; errno: number; syscall: string } {
  const code = BY_NUMBER.get(errno)?.[1] ?? `E${errno}`;
  return Object.assign(new Error(`${code}: ${syscall} failed (errno ${errno})`), {
    code,
    errno,
    syscall,
  });
}

/**
 * The errno number of a name of the table (aliases accepted), e.g. for fakes in tests.
 *
 * @param name `"ENOSPC"`, `"ENOTSUP"`, ...
 * @returns The number, or `undefined` for a name the table does not know.
 */
export function errnoNumber(name: string): number | undefined {
  return BY_NAME.get(ALIASES.get(name) ?? name)?.[0];
}

/**
 * Returns `err` as an {@linkcode NpyallocError}: unchanged when it is one, an OS error mapped by
 * {@linkcode mapOsError}, else `E_IO` with its message and `err` as the cause.
 *
 * @param err What was thrown.
 * @param action What failed, for an OS error's message, e.g. `Cannot create 'data/x.npy'`.
 * @returns The error to report.
 */
export function toNpyallocError(err: unknown, action?: string): NpyallocError {
  if (err instanceof NpyallocError) return err;
  if (action !== undefined || osErrorCode(err) !== undefined) {
    return mapOsError(err, action ?? "Failed");
  }
  const message = err instanceof Error ? err.message : String(err);
  return new NpyallocError("E_IO", message, { cause: err });
}

/**
 * Maps an error thrown by a file-system call to an {@linkcode NpyallocError}: the errno
 * table's code, and `action: words (ERRNO)` as the message. An `NpyallocError` is returned
 * unchanged.
 *
 * @param err What the call threw.
 * @param action What failed, e.g. `Cannot create 'data/x.npy'`.
 * @returns The mapped error, with `err` as its cause.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mapOsError } from "./errors.ts";
 * const err = mapOsError({ code: "ENOSPC" }, "Cannot write 'x.npy'");
 * assert.ok(err.code === "E_NO_SPACE");
 * assert.ok(err.message === "Cannot write 'x.npy': no space left on device (ENOSPC)");
 * ```
 */
export function mapOsError(err: unknown, action: string): NpyallocError {
  if (err instanceof NpyallocError) return err;
  const errno = osErrorCode(err);
  if (errno !== undefined) {
    const known = BY_NAME.get(errno);
    if (known !== undefined) {
      return new NpyallocError(known[2], `${action}: ${known[3]} (${errno})`, { cause: err });
    }
    return new NpyallocError("E_IO", `${action}: ${errno}`, { cause: err });
  }
  const text = err instanceof Error ? err.message : String(err);
  return new NpyallocError("E_IO", `${action}: ${text}`, { cause: err });
}
