/**
 * `run` and `plan`: load and check the manifest, plan every target against the disk, check
 * space per filesystem, then (unless planning) write every array, and always make the report,
 * written where the settings say (also when the run fails, but never over the manifest, an
 * array or a file that is not a report).
 *
 * @module
 */

import path from "node:path";
import { EXIT, type ExitCode, NpyallocError, toNpyallocError } from "../errors.ts";
import { formatBytes } from "../format.ts";
import { loadManifest, ManifestError, realPlace } from "../manifest/mod.ts";
import type { LoadedManifest, ManifestArray } from "../manifest/types.ts";
import type { FilesystemBudget } from "../plan/space.ts";
import { buildReport, plannedOutcome, type Report, type ReportOptions } from "../report/report.ts";
import { reportText, writeReport } from "../report/write_report.ts";
import type { ArrayOutcome } from "../run/execute.ts";
import {
  reportPath,
  reportPathWarning,
  resolveShard,
  selectShard,
  type ShardReport,
  type ShardSelection,
  WHOLE_MANIFEST_WARNING,
} from "../shard/mod.ts";
import { type EngineDeps, say } from "./deps.ts";
import { plural } from "../format.ts";
import { planAndWrite } from "./_pipeline.ts";
import { reportPathProblem } from "./_report_path.ts";
import { type CheckedRunSettings, checkRunSettings, type RunSettings } from "./settings.ts";

/** What a run or plan did. */
export interface RunResult {
  /** The exit code (docs/cli.md): 0, 1, 2, 3, 4 or 130. */
  readonly exitCode: ExitCode;
  /** The report (integers past 2^53 as `bigint`). */
  readonly report: Report;
  /** The report's text, when the settings send it to the caller (`report: "-"`). */
  readonly reportText: string | null;
  /** Where the report was written, if it was written to a file. */
  readonly reportFile: string | null;
}

/**
 * Runs (or plans) a manifest: the whole of `npyalloc run` and `npyalloc plan`.
 *
 * @param given The settings (`manifest` at least); the rest default as documented in
 *   {@linkcode RunSettings}.
 * @param deps Platform, environment, signal, progress, messages.
 * @returns The exit code and the report. Never throws for a bad manifest, a conflict, a full
 *   disk or a failed write: the exit code and the report say what happened.
 * @throws {NpyallocError} `E_USAGE` for settings that cannot work (before anything is read).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { loadPlatform } from "../platform/mod.ts";
 * import { runPlan } from "./run.ts";
 * const dir = mkdtempSync(join(tmpdir(), "npyalloc-example-"));
 * writeFileSync(join(dir, "m.yaml"), "version: 1\narrays:\n  - { path: a.npy, shape: [4] }\n");
 * const deps = { platform: await loadPlatform(), env: {} };
 * const planned = await runPlan({ manifest: join(dir, "m.yaml"), report: null, dryRun: true }, deps);
 * assert.equal(planned.report.summary.planned, 1);
 * const done = await runPlan({ manifest: join(dir, "m.yaml"), report: null }, deps);
 * assert.equal(done.exitCode, 0);
 * rmSync(dir, { recursive: true });
 * ```
 */
export async function runPlan(
  given: Partial<RunSettings> & { readonly manifest: string },
  deps: EngineDeps,
): Promise<RunResult> {
  const settings = checkRunSettings(given);
  const shard = resolveShardSetting(settings, deps);
  const startedAt = new Date();
  const started = performance.now();
  const warnings: string[] = [];
  let manifest: LoadedManifest | null = null;
  let shardInfo: ShardReport | null = null;
  let budgets: readonly FilesystemBudget[] = [];
  let outcomes: readonly ArrayOutcome[] = [];
  let error: NpyallocError | null = null;
  let exitCode: ExitCode = EXIT.ok;
  const destination = settings.report === null
    ? null
    : reportPath(settings.report, settings.manifest, shard);
  let written: string | null = null;

  try {
    try {
      manifest = await loadManifest(settings.manifest, {
        vars: settings.vars,
        env: deps.env,
        allowOutsideRoot: settings.allowOutsideRoot,
        maxArrays: settings.maxArrays,
        platform: deps.platform,
        ...(deps.signal === undefined ? {} : { signal: deps.signal }),
      });
    } catch (err) {
      if (err instanceof ManifestError) {
        for (const line of err.message.split("\n")) say(deps, line, true);
        say(
          deps,
          `npyalloc: ${manifestName(settings.manifest)} is not valid; nothing was touched`,
          true,
        );
        error = err;
        exitCode = EXIT.usage;
        return result();
      }
      throw err;
    }

    if (destination !== null && destination !== "-") {
      const problem = await reportPathProblem(
        deps.platform,
        destination,
        "-r",
        settings.manifest === "-" ? null : manifest.absolutePath,
        manifest.arrays,
      );
      if (problem !== null) {
        // The report has nowhere to go: it is given back, not written.
        say(deps, `npyalloc: ${problem.message}`, true);
        error = problem;
        exitCode = EXIT.usage;
        return result(false);
      }
    }

    let arrays: readonly ManifestArray[] = manifest.arrays;
    if (shard !== null) {
      const part = selectShard(manifest.arrays, shard);
      arrays = part.arrays;
      shardInfo = part.info;
      say(
        deps,
        `npyalloc: shard ${shard.index} of ${shard.count} (${shard.origin}): ` +
          `${arrays.length} of ${manifest.arrays.length} arrays, ` +
          `${formatBytes(part.info.bytes ?? 0)} of ${formatBytes(part.info.bytes_total ?? 0)} ` +
          `(split imbalance ${part.info.imbalance}: largest shard / mean)`,
      );
    } else if (settings.shard !== null) {
      warnings.push(WHOLE_MANIFEST_WARNING);
      say(deps, `npyalloc: warning: ${WHOLE_MANIFEST_WARNING}`);
    }
    const pathWarning = reportPathWarning(settings.report ?? undefined, shard);
    if (pathWarning !== null) {
      warnings.push(pathWarning);
      say(deps, `npyalloc: warning: ${pathWarning}`);
    }

    const run = await planAndWrite(
      {
        arrays,
        force: settings.force,
        dryRun: settings.dryRun,
        jobs: settings.jobs,
        threads: settings.threads,
        fsync: settings.fsync,
        minFree: settings.minFreeSize,
        moreFolders: destination === null || destination === "-"
          ? []
          : [realPlace(path.dirname(path.resolve(destination)), deps.platform).real],
      },
      deps,
      plannedOutcome,
    );
    budgets = run.budgets;
    outcomes = run.outcomes ?? [];
    warnings.push(...run.warnings);
    error = run.error;
    exitCode = run.exitCode;
    return result();
  } catch (err) {
    error = toNpyallocError(err);
    exitCode = error.code === "E_USAGE" ? EXIT.usage : EXIT.failed;
    if (deps.signal?.aborted && error.code !== "E_USAGE") {
      error = new NpyallocError("E_INTERRUPTED", "Interrupted by a signal", { cause: err });
      exitCode = EXIT.interrupted;
    }
    say(deps, `npyalloc: ${error.message}`, true);
    return result();
  }

  /** Builds the report, writes it where it goes, and sums the run up. */
  function result(writable = true): RunResult {
    const build = () =>
      buildReport({
        runtime: deps.platform.runtime,
        manifest: manifest === null ? null : { path: settings.manifest, sha256: manifest.sha256 },
        startedAt,
        finishedAt: new Date(),
        durationMs: performance.now() - started,
        options: reportOptions(settings),
        shard: shardInfo,
        filesystems: budgets,
        arrays: outcomes,
        warnings,
        error,
        exitCode,
      });
    let report = build();
    let text: string | null = null;
    if (writable && destination === "-") {
      text = reportText(report);
    } else if (writable && destination !== null) {
      try {
        writeReport(deps.platform, report, destination, settings.fsync);
        written = destination;
      } catch (err) {
        // Every array's outcome stays in the report given back; the run did not succeed.
        const failure = toNpyallocError(err);
        say(deps, `npyalloc: ${failure.message}`, true);
        if (exitCode === EXIT.ok) exitCode = EXIT.failed;
        error ??= failure;
        report = build();
      }
    }
    if (!settings.dryRun && manifest !== null && exitCode !== EXIT.usage) {
      const s = report.summary;
      say(
        deps,
        `npyalloc: ${s.created} created, ${s.unchanged} unchanged, ${s.replaced} replaced, ` +
          `${s.failed} failed${s.interrupted > 0 ? `, ${s.interrupted} interrupted` : ""} ` +
          `in ${(report.duration_ms / 1000).toFixed(2)} s` +
          (written === null ? "" : `; report: ${written}`),
      );
    }
    return { exitCode, report, reportText: text, reportFile: written };
  }
}

/** The manifest as messages name it. */
function manifestName(file: string): string {
  return file === "-" ? "The manifest on standard input" : file;
}

/** The shard the settings ask for: `K/N`, the scheduler's (`auto`), or none. */
function resolveShardSetting(settings: RunSettings, deps: EngineDeps): ShardSelection | null {
  if (settings.shard === null) return null;
  try {
    return resolveShard(settings.shard, deps.env);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new NpyallocError("E_USAGE", why, { cause: err });
  }
}

function reportOptions(s: CheckedRunSettings): ReportOptions {
  return {
    jobs: s.jobs,
    dry_run: s.dryRun,
    force: s.force,
    fsync: s.fsync,
    min_free: s.minFree,
    min_free_bytes: s.minFreeSize.kind === "bytes" ? s.minFreeSize.bytes : null,
    allow_outside_root: s.allowOutsideRoot,
    max_arrays: s.maxArrays,
  };
}

export { plural };
