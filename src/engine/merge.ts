/**
 * `report merge`: joins the reports of the shards of one sharded run into one report of the
 * whole manifest (docs/sharding.md).
 *
 * @module
 */

import { EXIT, type ExitCode, mapOsError, NpyallocError } from "../errors.ts";
import { MAX_REPORT_BYTES } from "../limits.ts";
import { formatRanges, mergeReports, type NamedReport, parseReport } from "../report/merge.ts";
import type { Report } from "../report/report.ts";
import { reportText, writeReport } from "../report/write_report.ts";
import { type EngineDeps, say } from "./deps.ts";
import { reportPathProblem } from "./_report_path.ts";
import { MERGE_DEFAULTS, type MergeSettings } from "./settings.ts";
import { interrupted } from "./validate.ts";

/** What `report merge` did. */
export interface MergeResult {
  /**
   * 0 every shard is there and every array is present as declared; 1 every shard is there but
   * some did not succeed, or the merged report could not be written; 2 bad or unmergeable
   * reports (nothing written); 5 shards are missing (the merged report is written).
   */
  readonly exitCode: ExitCode;
  /** The merged report, or `null` when the reports could not be merged. */
  readonly report: Report | null;
  /** Its text, when it goes to the caller (`output: "-"`). */
  readonly reportText: string | null;
}

/**
 * Reads, checks and joins shard reports, and writes the merged one.
 *
 * @param given The settings (`reports` at least).
 * @param deps Platform, signal, messages.
 * @returns The merged report and the exit code.
 * @throws {NpyallocError} `E_INTERRUPTED` when the signal aborts.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { loadPlatform } from "../platform/mod.ts";
 * import { mergeReportFiles } from "./merge.ts";
 * const dir = mkdtempSync(join(tmpdir(), "npyalloc-example-"));
 * writeFileSync(join(dir, "r.json"), "{}");
 * const deps = { platform: await loadPlatform(), env: {} };
 * const result = await mergeReportFiles({ reports: [join(dir, "r.json")] }, deps);
 * assert.equal(result.exitCode, 2);
 * rmSync(dir, { recursive: true });
 * ```
 */
export async function mergeReportFiles(
  given: Partial<MergeSettings> & Pick<MergeSettings, "reports">,
  deps: EngineDeps,
): Promise<MergeResult> {
  const settings: MergeSettings = { ...MERGE_DEFAULTS, ...given };
  const fail = (message: string): MergeResult => {
    say(deps, `npyalloc: report merge: ${message}`, true);
    return { exitCode: EXIT.usage, report: null, reportText: null };
  };
  const inputs: NamedReport[] = [];
  for (const file of settings.reports) {
    let bytes: Uint8Array;
    try {
      bytes = await deps.platform.readFile(file, MAX_REPORT_BYTES, deps.signal);
    } catch (err) {
      if (deps.signal?.aborted) throw interrupted(err);
      return fail(mapOsError(err, `Cannot read report '${file}'`).message);
    }
    if (bytes.length > MAX_REPORT_BYTES) {
      return fail(`Cannot read report '${file}': it is more than ${MAX_REPORT_BYTES} bytes`);
    }
    try {
      inputs.push({ name: file, report: parseReport(new TextDecoder().decode(bytes), file) });
    } catch (err) {
      if (err instanceof NpyallocError) return fail(err.message);
      throw err;
    }
  }
  let merged;
  try {
    merged = mergeReports(inputs);
  } catch (err) {
    if (err instanceof NpyallocError) return fail(`${err.message}; nothing was written`);
    throw err;
  }
  const { report, count, present, missing } = merged;
  let text: string | null = null;
  if (settings.output === "-") {
    text = reportText(report);
  } else {
    const problem = await reportPathProblem(deps.platform, settings.output, "-o", null, []);
    if (problem !== null) return fail(problem.message);
    try {
      writeReport(deps.platform, report, settings.output, settings.fsync);
    } catch (err) {
      if (!(err instanceof NpyallocError)) throw err;
      say(deps, `npyalloc: report merge: ${err.message}`, true);
      return { exitCode: EXIT.failed, report, reportText: null };
    }
  }
  if (missing.length > 0) {
    say(
      deps,
      `npyalloc: report merge: missing shard reports: ${formatRanges(missing)} of ${count} ` +
        `(${present.length} of ${count} given)`,
      true,
    );
  }
  const s = report.summary;
  const shards = present.length === count
    ? `all ${count} shards`
    : `${present.length} of ${count} shards`;
  say(
    deps,
    `npyalloc: merged ${shards}: ${s.arrays} arrays, ${s.created} created, ` +
      `${s.unchanged} unchanged, ${s.replaced} replaced, ${s.failed} failed` +
      `${s.planned > 0 ? `, ${s.planned} planned` : ""}` +
      `${s.interrupted > 0 ? `, ${s.interrupted} interrupted` : ""}; ` +
      `${report.ok ? "ok" : `not ok (exit_code ${report.exit_code})`}` +
      `${settings.output === "-" ? "" : `; report: ${settings.output}`}`,
  );
  return { exitCode: merged.exitCode, report, reportText: text };
}
