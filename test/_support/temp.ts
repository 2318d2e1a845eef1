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

/**
 * Runs `fn` with a fresh temporary folder that is always removed.
 *
 * @param prefix A name for the folder.
 * @param fn Gets the folder.
 * @returns What `fn` returns.
 */
export async function withTempDir<T>(
  prefix: string,
  fn: (dir: string) => Promise<T> | T,
): Promise<T> {
  const { dir, remove } = tempDir(prefix);
  try {
    return await fn(dir);
  } finally {
    remove();
  }
}

/**
 * Makes fresh folders below `base`, each holding a `manifest.yaml` with the given text.
 *
 * @param base The parent folder.
 * @returns A function that makes one such folder and returns it and the manifest's path.
 */
export function manifestFolders(base: string): (text: string) => { dir: string; manifest: string } {
  let counter = 0;
  return (text) => {
    const dir = path.join(base, `m${counter++}`);
    fs.mkdirSync(dir);
    const manifest = path.join(dir, "manifest.yaml");
    fs.writeFileSync(manifest, text);
    return { dir, manifest };
  };
}

/**
 * Every regular file below `dir` (none when it does not exist; symbolic links are not
 * followed), relative with `/` separators, sorted.
 *
 * @param dir The folder.
 * @returns The relative paths.
 */
export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => fs.lstatSync(path.join(dir, f)).isFile())
    .map((f) => f.split(path.sep).join("/"))
    .sort();
}
