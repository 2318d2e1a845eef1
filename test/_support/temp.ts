/** Throwaway folders for tests, always removed. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * Makes a fresh temporary folder and returns it with a cleanup function.
 *
 * @param prefix A name for the folder.
 * @returns The folder and `remove()`.
 */
export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `npyalloc-${prefix}-`));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
