/**
 * Names of temporary files: `.<name>.<host>.<pid>.<random>.npyalloc-tmp`, in
 * the target's folder, so that a later run on the same host can tell a dead
 * run's leftovers from a live run's.
 */
import os from "node:os";
import path from "node:path";
import process from "node:process";

/** The suffix of npyalloc's temporary files. */
export const TEMP_SUFFIX = ".npyalloc-tmp";

/** This host's name as it appears in temporary file names (no dots). */
export function tempHostTag(): string {
  return os.hostname().replace(/[^A-Za-z0-9_-]/g, "_");
}

/**
 * A fresh temporary path beside `target`.
 *
 * @param target The final path.
 * @returns The temporary path.
 */
export function tempPathFor(target: string): string {
  const random = Math.floor(Math.random() * 2 ** 32).toString(36);
  const name = `.${path.basename(target)}.${tempHostTag()}.${process.pid}.${random}${TEMP_SUFFIX}`;
  return path.join(path.dirname(target), name);
}

/**
 * Reads the host and pid out of a temporary file name.
 *
 * @param name A file name (no folder).
 * @returns Host and pid, or `null` when it is not a temporary file name.
 */
export function parseTempName(name: string): { host: string; pid: number } | null {
  if (!name.startsWith(".") || !name.endsWith(TEMP_SUFFIX)) return null;
  const parts = name.slice(0, -TEMP_SUFFIX.length).split(".");
  const pid = Number(parts.at(-2));
  const host = parts.at(-3);
  if (parts.length < 5 || host === undefined || !Number.isSafeInteger(pid) || pid <= 0) return null;
  return { host, pid };
}
