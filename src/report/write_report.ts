/**
 * Writing the report: to standard output, or atomically to a file (a reader never sees half a
 * report, and a previous report is replaced only by a complete one).
 *
 * @module
 */

import { mkdir, open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { mapOsError } from "../errors.ts";
import { toJson } from "../json.ts";
import { fsyncDir, tempPathFor } from "../run/write_file.ts";
import type { Report } from "./report.ts";

/** Where {@linkcode writeReport} prints and how it writes. */
export interface ReportIo {
  /** Receives the text when the destination is `-`. */
  readonly stdout?: (text: string) => void;
  /** fsync the report and its folder. @default {true} */
  readonly fsync?: boolean;
}

/** Lists written one entry per line: a report of many arrays stays readable and greppable. */
const ONE_PER_LINE: ReadonlySet<string> = new Set(["arrays", "filesystems"]);

/**
 * The report as text: JSON indented by 2 spaces, except that each entry of `arrays` and
 * `filesystems` is one line of compact JSON; integers exact, with a final newline.
 *
 * Besides being easy to grep, this is fast: `JSON.stringify` without indentation takes a
 * sixth of the time on Deno (5 against 30 ms for a report of 10,000 arrays).
 *
 * @param report The report.
 * @returns The text.
 */
export function reportText(report: Report): string {
  const members = Object.entries(report).map(([key, value]) => {
    const name = `  ${JSON.stringify(key)}: `;
    if (ONE_PER_LINE.has(key) && Array.isArray(value) && value.length > 0) {
      return `${name}[\n${value.map((entry) => `    ${toJson(entry)}`).join(",\n")}\n  ]`;
    }
    return name + toJson(value, 2).replaceAll("\n", "\n  ");
  });
  return `{\n${members.join(",\n")}\n}\n`;
}

/**
 * Writes the report to `destination`, or to standard output when it is `-`. A file is written
 * to a temporary file in the same folder (named as the run's own temporary files, so a later
 * run cleans it up if this one is killed), fsynced, then renamed over `destination`; missing
 * folders are created.
 *
 * @param report The report.
 * @param destination A file path, or `-` for standard output.
 * @param io `stdout` receives the text for `-`; `fsync`.
 * @returns The text written (for `-` without `io.stdout`, the caller prints it).
 * @throws {NpyallocError} When the folder or the file cannot be created or written
 *   (`E_PERMISSION`, `E_NO_SPACE`, `E_NOT_A_DIRECTORY`, ...).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildReport } from "./report.ts";
 * import { writeReport } from "./write_report.ts";
 * const report = buildReport({
 *   runtime: "deno 2.9.6",
 *   manifest: null,
 *   startedAt: new Date(0),
 *   finishedAt: new Date(5),
 *   options: { jobs: 4, dry_run: true, force: false, fsync: true, min_free: "0", min_free_bytes: 0 },
 *   arrays: [],
 *   exitCode: 0,
 * });
 * let printed = "";
 * await writeReport(report, "-", { stdout: (text) => void (printed += text) });
 * assert.equal(JSON.parse(printed).exit_code, 0);
 * ```
 */
export async function writeReport(
  report: Report,
  destination: string,
  io: ReportIo = {},
): Promise<string> {
  const text = reportText(report);
  if (destination === "-") {
    io.stdout?.(text);
    return text;
  }
  const fsync = io.fsync ?? true;
  const target = path.resolve(destination);
  const dir = path.dirname(target);
  const temp = tempPathFor(target);
  let renamed = false;
  try {
    await mkdir(dir, { recursive: true });
    const handle = await open(temp, "wx", 0o666);
    try {
      await handle.writeFile(text);
      if (fsync) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
    renamed = true;
    if (fsync) fsyncDir(dir);
  } catch (err) {
    throw mapOsError(err, `Cannot write the report '${destination}'`);
  } finally {
    if (!renamed) await rm(temp, { force: true }).catch(() => {});
  }
  return text;
}
