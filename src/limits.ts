/**
 * The hard limits npyalloc works within, each named once: what the .npy format, Linux and
 * JavaScript numbers allow, and the bounds that keep hostile input from costing unbounded time
 * or memory (docs/limits.md lists them all).
 *
 * @module
 */

/** The largest byte count a .npy file's data may have, and the largest `off_t`: 2^63 - 1. */
export const MAX_INT64 = (1n << 63n) - 1n;

/** The smallest signed 64-bit integer, -2^63 (also NumPy's NaT). */
export const MIN_INT64 = -(1n << 63n);

/** The largest unsigned 64-bit integer, 2^64 - 1. */
export const MAX_UINT64 = (1n << 64n) - 1n;

/**
 * The largest file npyalloc writes, 2^53 - 1 bytes (8 PiB): file positions are JavaScript
 * numbers, exact up to there.
 */
export const MAX_FILE_BYTES = BigInt(Number.MAX_SAFE_INTEGER);

/** The longest file or folder name Linux filesystems take (NAME_MAX), in bytes. */
export const MAX_NAME_BYTES = 255;

/** The longest path Linux takes (PATH_MAX), in bytes, with its final NUL. */
export const MAX_PATH_BYTES = 4096;

/** The largest manifest read, by default: 64 MiB (`LoadOptions.maxManifestBytes`). */
export const DEFAULT_MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

/** The most arrays a manifest may expand to, by default (`--max-arrays`). */
export const DEFAULT_MAX_ARRAYS = 1_000_000;

/** The most problems one invalid manifest reports. */
export const DEFAULT_MAX_PROBLEMS = 50;

/** The largest report `report merge` reads: 1 GiB (a report of 10^6 arrays is about 400 MB). */
export const MAX_REPORT_BYTES = 1024 * 1024 * 1024;

/** The largest .npy header (after its length field) read by `inspect`, `verify` and the plan. */
export const MAX_HEADER_READ_BYTES = 16 * 1024 * 1024;

/**
 * Bytes of fill pattern buffers in use at once across a whole run, whatever `--jobs` is: each
 * array being written takes a share (docs/guarantees.md, memory).
 */
export const PATTERN_BUFFER_BUDGET = 48 * 1024 * 1024;

/** The largest pattern buffer one array's writes use: 16 MiB. */
export const MAX_PATTERN_BUFFER = 16 * 1024 * 1024;

/** The smallest pattern buffer an array gets, however many share the budget: 1 MiB. */
export const MIN_PATTERN_BUFFER = 1024 * 1024;
