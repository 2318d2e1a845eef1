/**
 * Names of temporary files: `.<name>.<host>.<pid>.<random>.npyalloc-tmp`, in
 * the target's folder. A live run holds its temporary files locked; the host and
 * pid tell a later run whose leftovers they are where locks cannot be taken
 * (`cleanup.ts`). A long `<name>` is cut short so that the whole name fits in
 * 255 bytes.
 */
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { MAX_NAME_BYTES } from "../limits.ts";

/** The suffix of npyalloc's temporary files. */
export const TEMP_SUFFIX = ".npyalloc-tmp";

let hostTag: string | undefined;

/** This host's name as it appears in temporary file names (no dots). */
export function tempHostTag(): string {
  // Asked once per process: a run names thousands of temporary files.
  return hostTag ??= os.hostname().replace(/[^A-Za-z0-9_-]/g, "_");
}

/**
 * A fresh temporary name for a file that will be named `name`, in the same folder.
 *
 * @param name The final name.
 * @param locked Whether the run will hold it locked while it exists (where it can lock).
 * @returns The temporary name.
 */
export function tempNameFor(name: string, locked = true): string {
  // Base 36 has no capitals: a leading "L" marks a file its run holds locked.
  const random = `${locked ? "L" : ""}${Math.floor(Math.random() * 2 ** 32).toString(36)}`;
  const tail = `.${tempHostTag()}.${process.pid}.${random}${TEMP_SUFFIX}`;
  // A name may have 255 bytes: the target's name is cut short to leave room for the rest.
  const room = MAX_NAME_BYTES - 1 - byteLength(tail);
  return `.${truncateUtf8(name, room)}${tail}`;
}

/**
 * A fresh temporary path beside `target`.
 *
 * @param target The final path.
 * @returns The temporary path.
 */
export function tempPathFor(target: string): string {
  return path.join(path.dirname(target), tempNameFor(path.basename(target)));
}

const utf8 = new TextEncoder();

function byteLength(text: string): number {
  return utf8.encode(text).length;
}

/** The longest start of `text` that is at most `max` bytes in UTF-8, cut between characters. */
function truncateUtf8(text: string, max: number): string {
  if (byteLength(text) <= max) return text;
  let out = "";
  let bytes = 0;
  for (const char of text) {
    bytes += byteLength(char);
    if (bytes > max) break;
    out += char;
  }
  return out;
}

/**
 * Reads the host, the pid and the lock mark out of a temporary file name.
 *
 * @param name A file name (no folder).
 * @returns Host, pid and whether its run locks it, or `null` when it is not a temporary file
 *   name.
 */
export function parseTempName(
  name: string,
): { host: string; pid: number; locked: boolean } | null {
  if (!name.startsWith(".") || !name.endsWith(TEMP_SUFFIX)) return null;
  const parts = name.slice(0, -TEMP_SUFFIX.length).split(".");
  const pid = Number(parts.at(-2));
  const host = parts.at(-3);
  if (parts.length < 5 || host === undefined || !Number.isSafeInteger(pid) || pid <= 0) return null;
  return { host, pid, locked: parts.at(-1)?.startsWith("L") === true };
}
