/**
 * What a run must do at each target path: create the file, leave it alone,
 * replace it, or stop because something conflicts (docs/cli.md, "What `run` does").
 *
 * How it works: every target's folder is resolved first, through a cache of
 * promises keyed by folder, so that thousands of arrays in one folder cost one
 * `stat` of that folder. A folder that does not exist is resolved by walking up
 * to the nearest existing ancestor; the folders on the way are the ones the run
 * will create. When the folder is missing, the target cannot exist and is not
 * stat'ed at all; otherwise one `lstat` tells whether the target exists, which
 * is the only call for the common case of an absent file; a folder that holds
 * many targets is listed once instead (`readdir`), and only the names found in
 * the listing are stat'ed. An existing regular
 * file has its header read (never its data) and compared with the header
 * `np.save` would write for the array. Targets are classified a few dozen at a
 * time, so that metadata latency on network and parallel filesystems overlaps.
 *
 * @module
 */

import path from "node:path";
import { mapOsError, NpyallocError, osErrorCode } from "../errors.ts";
import { folderOf } from "../manifest/paths.ts";
import type { ManifestArray } from "../manifest/types.ts";
import type { Descr } from "../npy/dtype.ts";
import { dtypeToDescr } from "../npy/dtype.ts";
import { formatShape } from "../npy/shape.ts";
import type { FileInfo, Platform } from "../platform/platform.ts";
import { readHeader } from "./read_header.ts";

/** The filesystem calls the plan looks at targets with: it never writes. */
export type PlanQueries = Pick<Platform, "stat" | "lstat" | "readdir" | "readStart">;

/** What a run does at a target path. */
export type PlannedAction = "create" | "unchanged" | "replace" | "conflict";

/** The codes a planned array can carry. */
export type PlannedCode = "E_CONFLICT" | "E_NOT_A_DIRECTORY" | "E_EXISTS";

/** One array of the manifest and what a run must do at its path. */
export interface PlannedArray {
  /** The array as the manifest declares it. */
  readonly array: ManifestArray;
  /**
   * `create`: nothing is at the path. `unchanged`: a complete .npy file of the same dtype,
   * shape and order is there and is left alone. `replace`: a conflicting file is there and
   * `force` was given. `conflict`: something else is there, and the run must stop.
   */
  readonly action: PlannedAction;
  /** Why the path conflicts or is replaced, in words; `null` for `create` and `unchanged`. */
  readonly reason: string | null;
  /**
   * `E_NOT_A_DIRECTORY` when a parent of the path is a file, `E_CONFLICT` for any other
   * conflict; `null` unless `action` is `conflict`.
   */
  readonly code: PlannedCode | null;
  /** Whether `force` would replace what is in the way: a file, not a folder. */
  readonly replaceable: boolean;
  /** Absolute folders the run must create for this array, outermost first. */
  readonly newFolders: readonly string[];
}

/** Options of {@linkcode classifyTargets}. */
export interface ClassifyOptions {
  /** Replace conflicting files (not folders) atomically instead of stopping. */
  readonly force: boolean;
  /** The filesystem. */
  readonly fs: PlanQueries;
}

/** How many targets are examined at once. */
const CONCURRENCY = 32;

/**
 * From this many targets in one existing folder, the folder is listed once rather than each
 * target stat'ed: one `getdents` pass instead of thousands of `lstat`s.
 */
const LISTING_THRESHOLD = 256;

/** What is known about a target's folder. */
type FolderState =
  /** The folder exists; `missing` lists the folders to create below it, outermost first. */
  | { readonly kind: "ok"; readonly missing: readonly string[] }
  /** `file`, an ancestor of the folder (or the folder itself), is not a folder. */
  | { readonly kind: "blocked"; readonly file: string };

/** What was found at the target path itself. */
interface Finding {
  readonly action: "create" | "unchanged" | "conflict";
  readonly reason: string | null;
  /** Whether `force` may replace it: false for folders in the way. */
  readonly replaceable: boolean;
}

/**
 * Decides, for every array, whether its file is to be created, is already there as declared
 * (`unchanged`), conflicts, or (with `force`) is to be replaced. Touches nothing: it only
 * stats paths and reads the headers of existing files.
 *
 * An existing file is `unchanged` when it is a well-formed .npy file whose dtype, shape and
 * `fortran_order` are those `np.save` writes for the array and whose size is that of a
 * complete file; its data is never read. Any other file at the path, a folder at the path, or
 * a parent that is a file is a conflict. With `force`, conflicting files become `replace`;
 * folders in the way and parents that are files stay conflicts, because npyalloc never
 * deletes folders.
 *
 * @param arrays The arrays of a loaded manifest, with absolute `target` paths.
 * @param options `force`.
 * @returns One entry per array, in the same order.
 * @throws {NpyallocError} When a path cannot be examined for another reason than absence
 *   (e.g. `E_PERMISSION` on a folder that cannot be searched), mapped by `mapOsError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { loadManifest } from "../manifest/mod.ts";
 * import { loadPlatform } from "../platform/mod.ts";
 * import { classifyTargets } from "./targets.ts";
 * const dir = mkdtempSync(join(tmpdir(), "npyalloc-example-"));
 * writeFileSync(join(dir, "m.yaml"), "version: 1\narrays:\n  - { path: a.npy, shape: 3 }\n");
 * writeFileSync(join(dir, "a.npy"), "not an array");
 * const fs = await loadPlatform();
 * const { arrays } = await loadManifest(join(dir, "m.yaml"));
 * const planned = await classifyTargets(arrays, { force: false, fs });
 * assert.equal(planned[0]?.action, "conflict");
 * rmSync(dir, { recursive: true });
 * ```
 */
export async function classifyTargets(
  arrays: readonly ManifestArray[],
  options: ClassifyOptions,
): Promise<PlannedArray[]> {
  // Each folder is examined once, up front, with synchronous calls (on Deno an asynchronous
  // stat costs about a hundred microseconds more, and there is nothing to overlap it with);
  // a folder that holds many targets is listed. Then most targets are decided without a
  // system call or a promise of their own: those in a folder to be created, and those a
  // listing does not name.
  const states = new Map<string, FolderState>();
  const { fs } = options;
  const folderState = (dir: string): FolderState => {
    let state = states.get(dir);
    if (state === undefined) {
      state = resolveFolder(dir, folderState, fs);
      states.set(dir, state);
    }
    return state;
  };
  const dirs = arrays.map((array) => folderOf(array.target));
  const perFolder = new Map<string, number>();
  for (const dir of dirs) perFolder.set(dir, (perFolder.get(dir) ?? 0) + 1);
  const listings = new Map<string, ReadonlySet<string> | null>();
  for (const [dir, count] of perFolder) {
    const state = folderState(dir);
    listings.set(
      dir,
      state.kind === "ok" && state.missing.length === 0 && count >= LISTING_THRESHOLD
        ? listFolder(dir, fs)
        : null,
    );
  }

  const result = new Array<PlannedArray>(arrays.length);
  const toExamine: number[] = [];
  arrays.forEach((array, index) => {
    const dir = dirs[index] as string;
    const folder = states.get(dir) as FolderState;
    if (folder.kind === "blocked") {
      result[index] = {
        array,
        action: "conflict",
        reason: `'${folder.file}' is a file, not a folder`,
        code: "E_NOT_A_DIRECTORY",
        replaceable: false,
        newFolders: [],
      };
    } else if (
      folder.missing.length > 0 || listings.get(dir)?.has(path.basename(array.target)) === false
    ) {
      result[index] = {
        array,
        action: "create",
        reason: null,
        code: null,
        replaceable: true,
        newFolders: folder.missing,
      };
    } else {
      toExamine.push(index);
    }
  });

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < toExamine.length) {
      const index = toExamine[next++] as number;
      const array = arrays[index] as ManifestArray;
      result[index] = planned(array, await examineTarget(array, fs), options);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, toExamine.length) }, worker));
  return result;
}

/** The plan for an array whose folder exists, from what was found at its path. */
function planned(array: ManifestArray, finding: Finding, options: ClassifyOptions): PlannedArray {
  if (finding.action !== "conflict") {
    return {
      array,
      action: finding.action,
      reason: null,
      code: null,
      replaceable: true,
      newFolders: [],
    };
  }
  const { reason, replaceable } = finding;
  if (options.force && replaceable) {
    return { array, action: "replace", reason, code: null, replaceable, newFolders: [] };
  }
  return { array, action: "conflict", reason, code: "E_CONFLICT", replaceable, newFolders: [] };
}

function resolveFolder(
  dir: string,
  folderState: (dir: string) => FolderState,
  fs: PlanQueries,
): FolderState {
  let stats: FileInfo;
  try {
    stats = fs.stat(dir);
  } catch (err) {
    const errno = osErrorCode(err);
    const parent = path.dirname(dir);
    if ((errno === "ENOENT" || errno === "ENOTDIR") && parent !== dir) {
      const above = folderState(parent);
      if (above.kind === "blocked") return above;
      // ENOTDIR below an existing folder: the folder itself is something else (a race).
      if (errno === "ENOTDIR") return { kind: "blocked", file: dir };
      return { kind: "ok", missing: [...above.missing, dir] };
    }
    throw mapOsError(err, `Cannot examine folder '${dir}'`);
  }
  return stats.kind === "folder" ? { kind: "ok", missing: [] } : { kind: "blocked", file: dir };
}

/** The names in a folder; `null` when it cannot be listed (then each target is stat'ed). */
function listFolder(dir: string, fs: PlanQueries): ReadonlySet<string> | null {
  try {
    return new Set(fs.readdir(dir).map((entry) => entry.name));
  } catch {
    return null;
  }
}

/** Looks at the path of an array whose folder exists. */
async function examineTarget(array: ManifestArray, fs: PlanQueries): Promise<Finding> {
  const target = array.target;
  let link: FileInfo;
  try {
    link = fs.lstat(target);
  } catch (err) {
    if (osErrorCode(err) === "ENOENT") return { action: "create", reason: null, replaceable: true };
    throw mapOsError(err, `Cannot examine '${target}'`);
  }
  let stats = link;
  if (link.kind === "link") {
    try {
      stats = fs.stat(target);
    } catch (err) {
      const errno = osErrorCode(err);
      if (errno === "ENOENT" || errno === "ENOTDIR" || errno === "ELOOP") {
        return conflict("a symbolic link to nothing is in the way");
      }
      throw mapOsError(err, `Cannot examine '${target}'`);
    }
  }
  if (stats.kind === "folder") {
    return {
      action: "conflict",
      reason: link.kind === "link"
        ? "a symbolic link to a folder is in the way"
        : "a folder is in the way",
      replaceable: false,
    };
  }
  // Never open a FIFO, socket or device: opening or reading one may block or have effects.
  if (stats.kind !== "file") return conflict(`not a regular file (${fileKind(stats)})`);
  return await compareHeader(array, fs);
}

function conflict(reason: string): Finding {
  return { action: "conflict", reason, replaceable: true };
}

/** A file that is not regular or a folder, in words. */
export function fileKind(stats: FileInfo): string {
  switch (stats.kind) {
    case "fifo":
      return "a FIFO";
    case "socket":
      return "a socket";
    case "char-device":
      return "a character device";
    case "block-device":
      return "a block device";
    default:
      return "an unknown kind of file";
  }
}

async function compareHeader(array: ManifestArray, fs: PlanQueries): Promise<Finding> {
  let header;
  try {
    header = await readHeader(fs, array.target);
  } catch (err) {
    if (err instanceof NpyallocError && err.code === "E_NOT_NPY") {
      return conflict(`not a .npy file: ${err.message}`);
    }
    if (err instanceof NpyallocError) return conflict(`cannot read its header: ${err.message}`);
    throw err;
  }
  const layout = array.layout;
  const differences: string[] = [];
  const fileDescr = header.descr;
  if (!sameDescr(fileDescr, layout.descr) && !sameDescr(dtypeToDescr(header.dtype), layout.descr)) {
    differences.push(
      `dtype differs: on disk ${showDescr(fileDescr)}, manifest ${showDescr(layout.descr)}`,
    );
  }
  if (!sameShape(header.shape, layout.shape)) {
    differences.push(
      `shape differs: on disk ${formatShape(header.shape)}, manifest ${formatShape(layout.shape)}`,
    );
  }
  if (header.fortranOrder !== layout.fortranOrder) {
    differences.push(
      `fortran_order differs: on disk ${pyBool(header.fortranOrder)}, manifest ${
        pyBool(layout.fortranOrder)
      }`,
    );
  }
  if (differences.length > 0) return conflict(differences.join("; "));
  if (header.fileBytes !== header.expectedFileBytes) {
    const how = header.fileBytes < header.expectedFileBytes
      ? "truncated"
      : `${header.fileBytes - header.expectedFileBytes} extra bytes at the end`;
    return conflict(
      `file is ${header.fileBytes} bytes, a complete file is ${header.expectedFileBytes} (${how})`,
    );
  }
  return { action: "unchanged", reason: null, replaceable: true };
}

function sameDescr(a: Descr, b: Descr): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function showDescr(descr: Descr): string {
  return typeof descr === "string" ? `'${descr}'` : JSON.stringify(descr);
}

function sameShape(a: readonly bigint[], b: readonly bigint[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

function pyBool(value: boolean): string {
  return value ? "True" : "False";
}
