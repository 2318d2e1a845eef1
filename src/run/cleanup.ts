/**
 * Removes the temporary files of runs that died on this host (docs/guarantees.md, "temporary
 * files").
 *
 * A temporary file is named `.<name>.<host>.<pid>.<random>.npyalloc-tmp`, and a run that can
 * lock (FFI and a filesystem with `flock`) holds its own locked while they exist, marking their
 * names. Such a file is a dead run's exactly when its lock can be taken: the kernel drops the
 * locks of a process however it ends, in whatever PID namespace it ran. Where there are no
 * locks, a file belongs to a dead run when its host is this one and no process of that pid
 * exists (which a run in another PID namespace on the same host can fool). Files of other hosts
 * (shared filesystems) are left alone.
 *
 * @module
 */

import type { Platform } from "../platform/platform.ts";
import { parseTempName, tempHostTag } from "./_temp_name.ts";
import type { FolderCache } from "./folders.ts";

/** What {@linkcode findStaleTemps} and {@linkcode removeStaleTemps} look at. */
export type CleanupCalls = Pick<
  Platform,
  "readdir" | "openRead" | "closeRead" | "openFile" | "lock" | "close" | "processExists" | "unlink"
>;

/** Whether the temporary file `name` in `folder` belongs to a dead run; call with it open. */
function isStale(
  fs: CleanupCalls,
  fd: number,
  temp: { pid: number; locked: boolean },
): boolean {
  if (temp.locked) {
    const free = fs.lock(fd);
    if (free !== null) return free;
  }
  return !fs.processExists(temp.pid);
}

/** The temporary files of this host's runs in `folder` (a real path), by name. */
function candidates(fs: CleanupCalls, folder: string) {
  const host = tempHostTag();
  let names: string[];
  try {
    names = fs.readdir(folder).filter((e) => e.kind === "file").map((e) => e.name);
  } catch {
    return [];
  }
  const found: { name: string; pid: number; locked: boolean }[] = [];
  for (const name of names) {
    const temp = parseTempName(name);
    if (temp !== null && temp.host === host) found.push({ name, ...temp });
  }
  return found;
}

/**
 * The temporary files of dead runs of this host in the given folders, for `plan` to mention.
 * Touches nothing (a lock taken to ask is let go at once).
 *
 * @param fs The platform.
 * @param folders Real folders to look in (missing ones are passed over).
 * @returns Their paths.
 */
export function findStaleTemps(fs: CleanupCalls, folders: Iterable<string>): string[] {
  const stale: string[] = [];
  for (const folder of new Set(folders)) {
    for (const temp of candidates(fs, folder)) {
      const file = `${folder}/${temp.name}`;
      let fd: number;
      try {
        fd = fs.openRead(file);
      } catch {
        continue;
      }
      try {
        if (isStale(fs, fd, temp)) stale.push(file);
      } finally {
        fs.closeRead(fd);
      }
    }
  }
  return stale;
}

/**
 * Removes the temporary files of dead runs of this host from the given folders, through the
 * run's pinned folders. A file is removed while this run holds its lock, so a run that starts
 * writing it at that moment sees it gone and starts again.
 *
 * @param fs The platform.
 * @param folders Real folders to look in (missing ones are passed over).
 * @param cache The run's open folders.
 * @returns The paths removed.
 */
export function removeStaleTemps(
  fs: CleanupCalls,
  folders: Iterable<string>,
  cache: Pick<FolderCache, "acquire" | "release">,
): string[] {
  const removed: string[] = [];
  for (const folder of new Set(folders)) {
    const found = candidates(fs, folder);
    if (found.length === 0) continue;
    let open;
    try {
      open = cache.acquire(folder);
    } catch {
      continue;
    }
    try {
      for (const temp of found) {
        let fd: number;
        try {
          fd = fs.openFile(open, temp.name);
        } catch {
          continue;
        }
        try {
          if (!isStale(fs, fd, temp)) continue;
          fs.unlink(open, temp.name);
          removed.push(`${folder}/${temp.name}`);
        } catch {
          // Removed by another run at the same moment, or not ours to remove.
        } finally {
          fs.close(fd);
        }
      }
    } finally {
      cache.release(open);
    }
  }
  return removed;
}
