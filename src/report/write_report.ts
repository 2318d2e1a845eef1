/**
 * The report as text, and written atomically to a file (a reader never sees half a report, and
 * a previous report is replaced only by a complete one).
 *
 * @module
 */

import { NpyallocError, toNpyallocError } from "../errors.ts";
import { toJson } from "../json.ts";
import type { Platform } from "../platform/platform.ts";
import { writeFileAtomically } from "../run/atomic_file.ts";
import type { Report } from "./report.ts";

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
 * Writes the report to a file, atomically (see `writeFileAtomically`): a reader never sees
 * half a report, and a previous report is replaced only by a complete one. Missing folders are
 * created.
 *
 * @param platform The platform.
 * @param report The report.
 * @param file Where it goes.
 * @param fsync Sync the report and its folder. @default {true}
 * @returns The text written.
 * @throws {NpyallocError} When the folder or the file cannot be created or written
 *   (`E_PERMISSION`, `E_NO_SPACE`, `E_NOT_A_DIRECTORY`, ...), with the OS's reason.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, readFileSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { loadPlatform } from "../platform/mod.ts";
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
 * const dir = mkdtempSync(join(tmpdir(), "npyalloc-example-"));
 * writeReport(await loadPlatform(), report, join(dir, "r", "report.json"));
 * assert.equal(JSON.parse(readFileSync(join(dir, "r", "report.json"), "utf8")).exit_code, 0);
 * rmSync(dir, { recursive: true });
 * ```
 */
export function writeReport(
  platform: Platform,
  report: Report,
  file: string,
  fsync = true,
): string {
  const text = reportText(report);
  try {
    writeFileAtomically(platform, file, new TextEncoder().encode(text), fsync);
  } catch (err) {
    const mapped = toNpyallocError(err);
    throw new NpyallocError(
      mapped.code,
      mapped.message.replace(/^Cannot write '/, "Cannot write the report '"),
      { cause: err },
    );
  }
  return text;
}
