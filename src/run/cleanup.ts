/**
 * Removes the temporary files of runs that died on this host. A temporary
 * file is named `.<name>.<host>.<pid>.<random>.npyalloc-tmp`; it belongs to a
 * dead run when the host is this one and no process with that pid exists.
 * Files of other hosts (shared filesystems) and of live processes are left
 * alone.
 *
 * @module
 */

import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { osErrorCode } from "../errors.ts";
import { parseTempName, tempHostTag } from "./_temp_name.ts";

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return osErrorCode(err) === "EPERM";
  }
}

/**
 * Removes stale temporary files from the given folders. Folders that do not exist are skipped.
 *
 * @param folders Folders to look in (each is read once).
 * @returns The paths removed.
 */
export function removeStaleTemps(folders: Iterable<string>): string[] {
  const host = tempHostTag();
  const removed: string[] = [];
  for (const folder of new Set(folders)) {
    let names: string[];
    try {
      names = fs.readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of names) {
      const temp = parseTempName(name);
      if (temp === null || temp.host !== host || isAlive(temp.pid)) continue;
      const file = path.join(folder, name);
      try {
        fs.unlinkSync(file);
        removed.push(file);
      } catch {
        // Removed by another run at the same moment, or not ours to remove.
      }
    }
  }
  return removed;
}
