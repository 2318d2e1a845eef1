/**
 * The one error class npyalloc raises for user-facing failures, and the one
 * place where operating-system errors are mapped to it.
 *
 * @module
 */

/** Stable error codes. They appear in reports and are part of the contract. */
export type ErrorCode =
  /** Bad command-line usage. */
  | "E_USAGE"
  /** The manifest is invalid; the message carries `file:line:column`. */
  | "E_MANIFEST"
  /** A dtype NumPy does not accept, or one that cannot be stored in a .npy file npyalloc writes. */
  | "E_DTYPE"
  /** A shape that is not a list of non-negative integers, or whose byte size is too large. */
  | "E_SHAPE"
  /** A fill value that does not fit the dtype exactly. */
  | "E_FILL"
  /** An allocation that cannot be combined with the other settings (e.g. sparse with a fill). */
  | "E_ALLOCATION"
  /** A header that the requested format version cannot hold. */
  | "E_HEADER"
  /** A file that is not a well-formed .npy file (malformed, truncated, unsupported). */
  | "E_NOT_NPY"
  /** ENOSPC / EDQUOT: no space left. */
  | "E_NO_SPACE"
  /** Not enough free inodes on a filesystem. */
  | "E_NO_INODES"
  /** EACCES / EPERM. */
  | "E_PERMISSION"
  /** EROFS. */
  | "E_READ_ONLY"
  /** ENOTDIR: a path component that should be a folder is not one. */
  | "E_NOT_A_DIRECTORY"
  /** ENOENT: a path that should exist does not. */
  | "E_NOT_FOUND"
  /** EEXIST: a path that should not exist does. */
  | "E_EXISTS"
  /** An existing file conflicts with the requested array. */
  | "E_CONFLICT"
  /** The operation was interrupted by a signal. */
  | "E_INTERRUPTED"
  /** Any other error from the operating system; the message names its errno. */
  | "E_IO";

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

const OS_CODES: Record<string, [ErrorCode, string]> = {
  ENOSPC: ["E_NO_SPACE", "no space left on device"],
  EDQUOT: ["E_NO_SPACE", "disk quota exceeded"],
  EFBIG: ["E_NO_SPACE", "file too large for this filesystem"],
  EACCES: ["E_PERMISSION", "permission denied"],
  EPERM: ["E_PERMISSION", "operation not permitted"],
  EROFS: ["E_READ_ONLY", "read-only filesystem"],
  ENOTDIR: ["E_NOT_A_DIRECTORY", "a path component is not a folder"],
  ENOENT: ["E_NOT_FOUND", "no such file or folder"],
  EEXIST: ["E_EXISTS", "file already exists"],
  EISDIR: ["E_IO", "is a folder"],
  EIO: ["E_IO", "input/output error"],
  EINTR: ["E_INTERRUPTED", "interrupted"],
};

/**
 * Returns `err` as an {@linkcode NpyallocError}: unchanged when it is one, else `E_IO` with its
 * message and `err` as the cause.
 *
 * @param err What was thrown.
 * @returns The error to report.
 */
export function toNpyallocError(err: unknown): NpyallocError {
  if (err instanceof NpyallocError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new NpyallocError("E_IO", message, { cause: err });
}

/** Returns the `code` property of an OS error (`"ENOSPC"`, ...), if it has one. */
export function osErrorCode(err: unknown): string | undefined {
  if (typeof err === "object" && err !== null && "code" in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

/**
 * Maps an error thrown by a file-system call to an {@linkcode NpyallocError}.
 * An `NpyallocError` is returned unchanged.
 *
 * @param err What the call threw.
 * @param action What failed, e.g. `Cannot create 'data/x.npy'`.
 * @returns The mapped error, with `err` as its cause.
 */
export function mapOsError(err: unknown, action: string): NpyallocError {
  if (err instanceof NpyallocError) return err;
  const errno = osErrorCode(err);
  if (errno !== undefined) {
    const known = OS_CODES[errno];
    if (known) {
      return new NpyallocError(known[0], `${action}: ${known[1]} (${errno})`, { cause: err });
    }
    return new NpyallocError("E_IO", `${action}: ${errno}`, { cause: err });
  }
  const text = err instanceof Error ? err.message : String(err);
  return new NpyallocError("E_IO", `${action}: ${text}`, { cause: err });
}
