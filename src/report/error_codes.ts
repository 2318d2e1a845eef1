/**
 * The stable error codes, each with the one line the docs and the report schema show.
 *
 * @module
 */

import type { ErrorCode } from "../errors.ts";

/**
 * Every `E_*` code npyalloc reports, with a one-line description. The report schema's enum of
 * `error.code` lists exactly these (a test keeps them equal).
 */
export const ERROR_CODES: Readonly<Record<ErrorCode, string>> = {
  E_USAGE: "Bad command-line usage: an unknown option, a missing or malformed value (exit 2)",
  E_MANIFEST:
    "The manifest is invalid; the message carries file:line:column and the JSON path (exit 2)",
  E_DTYPE: "A dtype NumPy does not accept, or one a memory-mappable .npy file cannot hold (exit 2)",
  E_SHAPE: "A shape that is not a list of integers >= 0, or whose byte size is too large (exit 2)",
  E_FILL: "A fill value that does not fit the dtype exactly (exit 2)",
  E_ALLOCATION:
    "An allocation that cannot be combined with the fill, e.g. sparse with a fill (exit 2)",
  E_HEADER: "A header the requested .npy format version cannot hold (exit 2)",
  E_NOT_NPY: "A file that is not a well-formed .npy file: bad magic, malformed or truncated header",
  E_NO_SPACE:
    "Not enough free space: the up-front check failed (exit 3) or the OS said ENOSPC/EDQUOT/EFBIG while writing (exit 1)",
  E_NO_INODES: "Not enough free inodes on a filesystem for the new files and folders (exit 3)",
  E_PERMISSION: "The OS refused access: EACCES or EPERM",
  E_READ_ONLY: "The filesystem is mounted read-only: EROFS",
  E_NOT_A_DIRECTORY:
    "A parent of a target path is a file, not a folder (ENOTDIR); --force does not change that (exit 4)",
  E_NOT_FOUND: "A path that should exist does not: ENOENT",
  E_EXISTS:
    "A file appeared at a target path while the run was writing (another run got there first)",
  E_CONFLICT:
    "An existing file or folder at a target path differs from the manifest; nothing was written (exit 4, or replaced with --force)",
  E_INTERRUPTED: "Stopped by SIGINT or SIGTERM; no partial file was left at the target (exit 130)",
  E_IO: "Any other error from the OS; the message names its errno",
};
