/**
 * Writing a small file (a report) atomically: a reader never sees half of it, and a file
 * already there is replaced only by a complete one.
 *
 * @module
 */

import path from "node:path";
import { mapOsError, NpyallocError } from "../errors.ts";
import { realPlace } from "../manifest/paths.ts";
import type { Platform } from "../platform/platform.ts";
import { FolderCache } from "./folders.ts";
import { tempNameFor } from "./_temp_name.ts";
import { liveTemps } from "./temps.ts";

/**
 * Writes `bytes` to `file`: into a locked temporary file in the same folder (named as the run's
 * own temporary files, so a later run cleans it up if this one is killed), fsynced, renamed over
 * `file`, and the folder fsynced. Missing folders are created.
 *
 * @param platform The platform.
 * @param file Where, absolute or relative to the current folder.
 * @param bytes What.
 * @param fsync Sync the file and its folder.
 * @throws {NpyallocError} When the folder or the file cannot be created or written
 *   (`E_PERMISSION`, `E_NO_SPACE`, `E_NOT_A_DIRECTORY`, ...), with the OS's reason.
 */
export function writeFileAtomically(
  platform: Platform,
  file: string,
  bytes: Uint8Array,
  fsync: boolean,
): void {
  const target = path.resolve(file);
  const place = realPlace(path.dirname(target), platform);
  if (place.problem !== undefined) {
    throw new NpyallocError("E_NOT_A_DIRECTORY", `Cannot write '${file}': ${place.problem}`);
  }
  const folders = new FolderCache(platform);
  const name = path.basename(target);
  const temp = tempNameFor(name, platform.capabilities().ffi);
  let folder;
  let fd: number | undefined;
  let renamed = false;
  try {
    folder = folders.acquire(place.real);
    fd = platform.createFile(folder, temp);
    liveTemps.add(platform.pathIn(folder, temp));
    platform.lock(fd);
    let done = 0;
    while (done < bytes.length) {
      const n = platform.writeAt(fd, done === 0 ? bytes : bytes.subarray(done), done);
      if (n <= 0) throw new NpyallocError("E_IO", `Cannot write '${file}': no progress`);
      done += n;
    }
    if (fsync) platform.sync(fd);
    platform.rename(folder, temp, name);
    renamed = true;
    folders.changed(place.real);
    if (fsync) folders.syncChanged();
  } catch (err) {
    if (err instanceof NpyallocError) throw err;
    throw mapOsError(err, `Cannot write '${file}'`);
  } finally {
    if (folder !== undefined) {
      if (!renamed && fd !== undefined) {
        try {
          platform.unlink(folder, temp);
        } catch {
          // Never created, or left for the next run's cleanup, which finds it unlocked.
        }
      }
      liveTemps.delete(platform.pathIn(folder, temp));
      if (fd !== undefined) platform.close(fd);
      folders.release(folder);
    }
    folders.close();
  }
}
