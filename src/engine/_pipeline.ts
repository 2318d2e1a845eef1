/**
 * The steps every writing command shares, `run` and `create` alike (docs/guarantees.md): look
 * at every target, stop on conflicts (exit 4), remove dead runs' temporary files, check space
 * and inodes on every filesystem (exit 3), then write every array with the concurrency limit,
 * pinned folders, atomic placement and the signal, and sync the folders.
 *
 * @module
 */

import { EXIT, type ExitCode, NpyallocError } from "../errors.ts";
import { formatBytes, plural } from "../format.ts";
import type { ManifestArray } from "../manifest/types.ts";
import {
  type FilesystemBudget,
  planSpace,
  type SizeSpec,
  spaceFailure,
  spaceWarnings,
} from "../plan/space.ts";
import { classifyTargets, type PlannedArray } from "../plan/targets.ts";
import { findStaleTemps, removeStaleTemps } from "../run/cleanup.ts";
import { type ArrayOutcome, executePlan, startWriters } from "../run/execute.ts";
import { PatternBuffers } from "../run/fill_writer.ts";
import { FolderCache } from "../run/folders.ts";
import type { WriterPool } from "../run/writer_pool.ts";
import { type EngineDeps, say } from "./deps.ts";
import { mathProblem } from "./_math.ts";

/** What the shared steps need to know. */
export interface PipelineInput {
  readonly arrays: readonly ManifestArray[];
  readonly force: boolean;
  readonly dryRun: boolean;
  readonly jobs: number;
  readonly threads: number;
  readonly fsync: boolean;
  readonly minFree: SizeSpec;
  /**
   * `create`: a file already there is in the way, even one that matches (the user asked to
   * create it), unless `force` replaces it. `run` leaves a matching file `unchanged`.
   */
  readonly imperative?: boolean;
  /** More folders to clean of dead runs' temporary files (the report's), as real paths. */
  readonly moreFolders?: readonly string[];
  /**
   * The lines that say what conflicts, and the one-line summary: by default one line per
   * conflict and a count.
   */
  readonly describeConflicts?: (conflicts: readonly PlannedArray[]) => {
    readonly lines: readonly string[];
    readonly summary: string;
  };
}

/** How far the steps went, and what they found. */
export interface PipelineResult {
  readonly exitCode: ExitCode;
  /** Per array: what the plan decided (empty when a step before it failed). */
  readonly plan: readonly PlannedArray[];
  /** Per filesystem: the space check. */
  readonly budgets: readonly FilesystemBudget[];
  /** Per array: what happened (plan outcomes for a dry run or a run stopped before writing). */
  readonly outcomes: readonly ArrayOutcome[] | null;
  /** Why the command stopped or failed as a whole, if it did. */
  readonly error: NpyallocError | null;
  /** What the user should know, for the report. */
  readonly warnings: readonly string[];
}

/** The outcome of a planned array that was not written. */
export type PlannedOutcome = (planned: PlannedArray) => ArrayOutcome;

/**
 * Runs the shared steps.
 *
 * @param input The arrays and the settings.
 * @param deps Platform, signal, progress, messages.
 * @param plannedOutcome The outcome of an array the run did not write.
 * @returns How far it went.
 */
export async function planAndWrite(
  input: PipelineInput,
  deps: EngineDeps,
  plannedOutcome: PlannedOutcome,
): Promise<PipelineResult> {
  const { platform } = deps;
  const warnings: string[] = [];
  const warn = (text: string) => {
    warnings.push(text);
    say(deps, `npyalloc: warning: ${text}`);
  };
  let pool: WriterPool | null = null;
  const folders = new FolderCache(platform);
  try {
    // Writer threads take tens of milliseconds to start: they do while the plan is checked.
    if (!input.dryRun) {
      pool = startWriters(input.arrays, input.threads, input.jobs, warn, deps.workerModule);
    }
    const layoutWarnings: string[] = [];
    for (const array of input.arrays) {
      for (const warning of array.layout.warnings) layoutWarnings.push(`${array.path}: ${warning}`);
    }

    const noMath = mathProblem(input.arrays, platform);
    if (noMath !== null) {
      say(deps, `npyalloc: ${noMath.message}`, true);
      return {
        exitCode: EXIT.usage,
        plan: [],
        budgets: [],
        outcomes: [],
        error: noMath,
        warnings: [...layoutWarnings, ...warnings],
      };
    }
    let plan = await classifyTargets(input.arrays, { force: input.force, fs: platform });
    if (input.imperative) plan = plan.map((p) => inTheWay(p, input.force));
    const conflicts = plan.filter((p) => p.action === "conflict");
    if (conflicts.length > 0) {
      const { lines, summary } = (input.describeConflicts ?? describeConflicts)(conflicts);
      for (const line of lines) say(deps, `npyalloc: ${line}`, true);
      return {
        exitCode: EXIT.conflict,
        plan,
        budgets: [],
        outcomes: plan.map(plannedOutcome),
        error: new NpyallocError(conflicts[0]?.code ?? "E_CONFLICT", summary),
        warnings: [...layoutWarnings, ...warnings],
      };
    }

    // A dead run's temporary files hold space that the check must not count against this run;
    // removing them touches no target. The report's folder holds a dead run's report temp.
    const targetFolders = new Set(plan.map((p) => p.array.real.folder));
    for (const folder of input.moreFolders ?? []) targetFolders.add(folder);
    if (input.dryRun) {
      const stale = findStaleTemps(platform, targetFolders);
      if (stale.length > 0) {
        say(
          deps,
          `plan: ${plural(stale.length, "temporary file")} of runs that died will be removed ` +
            `by the run: ${stale.slice(0, 3).join(", ")}${stale.length > 3 ? ", ..." : ""}`,
        );
      }
    } else {
      removeStaleTemps(platform, targetFolders, folders);
    }
    const budgets = planSpace(plan, {
      fs: platform,
      minFree: input.minFree,
      jobs: input.jobs,
      unnamedFiles: () => platform.linkUnnamed !== null,
    });
    const noSpace = spaceFailure(budgets, input.imperative === true);
    if (noSpace !== null) {
      say(deps, `npyalloc: ${noSpace.message}`, true);
      return {
        exitCode: EXIT.noSpace,
        plan,
        budgets,
        outcomes: plan.map(plannedOutcome),
        error: noSpace,
        warnings: [...layoutWarnings, ...warnings],
      };
    }
    const more = [...layoutWarnings, ...spaceWarnings(budgets)];
    if (!input.dryRun && !platform.capabilities().pinned && plan.some(writes)) {
      more.push(
        "Folders are opened by path on this runtime (no access to /proc/self/fd): a symbolic " +
          "link put in place of a folder while the run writes could redirect a file",
      );
    }
    for (const warning of more) warn(warning);

    if (input.dryRun) {
      const toWrite = plan.filter(writes);
      const bytes = toWrite.reduce((sum, p) => sum + p.array.layout.fileBytes, 0n);
      say(
        deps,
        `plan: ${toWrite.length} of ${plural(plan.length, "array")} to write ` +
          `(${formatBytes(bytes)}), ${plan.length - toWrite.length} unchanged`,
      );
      for (const b of budgets) {
        say(
          deps,
          `  ${b.path} (${b.type}): ${formatBytes(b.required_bytes)} required, ${
            formatBytes(b.available_bytes)
          } available, ${plural(b.required_inodes, "inode")}`,
        );
      }
      return {
        exitCode: EXIT.ok,
        plan,
        budgets,
        outcomes: plan.map(plannedOutcome),
        error: null,
        warnings,
      };
    }

    const { outcomes, syncError } = await executePlan(plan, {
      platform,
      folders,
      buffers: new PatternBuffers(input.jobs),
      jobs: input.jobs,
      pool,
      fsync: input.fsync,
      ...(deps.signal === undefined ? {} : { signal: deps.signal }),
      ...(deps.progress === undefined ? {} : { progress: deps.progress }),
    });
    const failed = outcomes.some((o) => o.status === "failed");
    const interrupted = outcomes.some((o) => o.status === "interrupted") ||
      deps.signal?.aborted === true;
    let error: NpyallocError | null = null;
    let exitCode: ExitCode = EXIT.ok;
    if (interrupted) {
      error = new NpyallocError("E_INTERRUPTED", "Interrupted by a signal");
      exitCode = EXIT.interrupted;
    } else if (syncError !== null) {
      say(
        deps,
        `npyalloc: ${syncError.message}: the files are complete, but may not survive a crash`,
        true,
      );
      error = syncError;
      exitCode = EXIT.failed;
    } else if (failed) {
      exitCode = EXIT.failed;
    }
    return { exitCode, plan, budgets, outcomes, error, warnings };
  } finally {
    await pool?.close();
    folders.close();
  }
}

/** One line per conflict, and the count, with a hint at `--force` where it would help. */
function describeConflicts(conflicts: readonly PlannedArray[]) {
  const canForce = conflicts.some((c) => c.replaceable);
  const summary =
    `${plural(conflicts.length, "existing path")} conflict${
      conflicts.length === 1 ? "s" : ""
    } with the manifest; nothing was touched` +
    (canForce ? " (use --force to replace files)" : "");
  return {
    lines: [...conflicts.map((c) => `conflict: ${c.array.path}: ${c.reason}`), summary],
    summary,
  };
}

/** Whether the plan writes an array's file. */
function writes(p: PlannedArray): boolean {
  return p.action === "create" || p.action === "replace";
}

/** For `create`: a file at the target is in the way, whatever it holds. */
function inTheWay(planned: PlannedArray, force: boolean): PlannedArray {
  const file = planned.action === "unchanged" ||
    (planned.action === "conflict" && planned.replaceable);
  if (!file) return planned;
  if (force) return { ...planned, action: "replace", reason: planned.reason ?? "a file was there" };
  return {
    ...planned,
    action: "conflict",
    reason: "a file is already there",
    code: "E_EXISTS",
  };
}
