/**
 * The temporary files this thread has named and not yet linked or removed, so that a process
 * that must exit at once (a second SIGINT) removes them first: no temporary file is left behind
 * even then (docs/guarantees.md, "signals").
 *
 * @module
 */

import type { Platform } from "../platform/platform.ts";

/** Absolute paths of the named temporary files in use on this thread. */
export const liveTemps: Set<string> = new Set();

/**
 * What else must be removed at once on the way out: the temporary files of writer threads,
 * which only they know by name (see `WriterPool`).
 */
export const lastCleanups: Set<(platform: Platform) => void> = new Set();

/**
 * Removes every temporary file in {@linkcode liveTemps}, and runs {@linkcode lastCleanups}, at
 * once and synchronously: for a process about to exit.
 *
 * @param platform Removes them.
 * @returns How many were removed.
 */
export function removeLiveTemps(platform: Platform): number {
  let removed = 0;
  for (const cleanup of lastCleanups) {
    try {
      cleanup(platform);
    } catch {
      // Best effort, on the way out.
    }
  }
  for (const temp of liveTemps) {
    try {
      platform.removeFile(temp);
      removed++;
    } catch {
      // Already linked and removed, or never created.
    }
  }
  liveTemps.clear();
  return removed;
}
