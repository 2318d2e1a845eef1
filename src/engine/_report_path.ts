/**
 * Where a report may go (docs/guarantees.md, "the report"): never over the manifest, never over
 * an array the manifest declares (of any shard), never over a file that is not an npyalloc
 * report. Checked before anything is touched.
 *
 * @module
 */

import path from "node:path";
import { NpyallocError } from "../errors.ts";
import { realPlace } from "../manifest/paths.ts";
import type { ManifestArray } from "../manifest/types.ts";
import type { Platform } from "../platform/platform.ts";

/** How a report starts, as `reportText` writes it (and `report merge` too). */
const REPORT_START =
  /^\{\s*"report_version"\s*:\s*\d+\s*,\s*"tool"\s*:\s*\{\s*"name"\s*:\s*"npyalloc"/;

/** Bytes read of an existing file to tell whether it is a report. */
const SNIFF_BYTES = 256;

/** Where a path really is: its folder through `realpath`, and its name. */
function realPathOf(platform: Platform, file: string): string {
  const absolute = path.resolve(file);
  return path.join(realPlace(path.dirname(absolute), platform).real, path.basename(absolute));
}

/**
 * Checks that a report may be written to `file`.
 *
 * @param platform The filesystem.
 * @param file The report's path, as given.
 * @param option Names the option in messages (`-r`, `-o`).
 * @param manifest The manifest's absolute path, if there is a manifest file.
 * @param arrays Every array of the manifest (every shard's).
 * @returns Why it may not, as an `E_USAGE` error, or `null`.
 */
export async function reportPathProblem(
  platform: Platform,
  file: string,
  option: string,
  manifest: string | null,
  arrays: readonly ManifestArray[],
): Promise<NpyallocError | null> {
  const refuse = (why: string) =>
    new NpyallocError("E_USAGE", `${option} ${file}: ${why}; nothing was touched`);
  const real = realPathOf(platform, file);
  if (manifest !== null && real === realPathOf(platform, manifest)) {
    return refuse("that is the manifest");
  }
  for (const array of arrays) {
    if (real === path.join(array.real.folder, array.real.name)) {
      return refuse(`that is the array '${array.path}' of the manifest`);
    }
  }
  let kind;
  try {
    kind = platform.stat(file).kind;
  } catch {
    return null; // Nothing there (or nothing readable, which writing will report).
  }
  if (kind === "folder") return refuse("that is a folder");
  if (kind !== "file") return refuse("that is not a regular file");
  let start: Uint8Array;
  try {
    start = (await platform.readStart(file, SNIFF_BYTES)).bytes;
  } catch {
    return null;
  }
  const text = new TextDecoder().decode(start);
  if (!REPORT_START.test(text)) {
    return refuse(
      "a file is there that is not an npyalloc report (remove it, or choose another path)",
    );
  }
  return null;
}
