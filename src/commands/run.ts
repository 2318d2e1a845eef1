/**
 * `npyalloc run <manifest.yaml>` and `npyalloc plan <manifest.yaml>`: load and
 * check the manifest, plan every target against the disk, check space per
 * filesystem, then (unless planning) write every array, and always write the
 * JSON report.
 *
 * @module
 */

import os from "node:os";
import path from "node:path";
import { NpyallocError } from "../errors.ts";
import { loadManifest, ManifestError } from "../manifest/mod.ts";
import { folderOf } from "../manifest/paths.ts";
import type { LoadedManifest } from "../manifest/types.ts";
import {
  type FilesystemBudget,
  parseSize,
  planSpace,
  type SizeSpec,
  spaceFailure,
  spaceWarnings,
} from "../plan/space.ts";
import { classifyTargets, type PlannedArray } from "../plan/targets.ts";
import {
  type ArrayOutcome,
  buildReport,
  plannedOutcome,
  type ReportOptions,
  type ShardReport,
} from "../report/report.ts";
import { writeReport } from "../report/write_report.ts";
import { removeStaleTemps } from "../run/cleanup.ts";
import { executePlan, startWriters } from "../run/execute.ts";
import { writesUnnamedFiles } from "../run/write_file.ts";
import type { WriterPool } from "../run/writer_pool.ts";
import { Progress, type ProgressMode } from "../run/progress.ts";
import {
  reportPath,
  reportPathWarning,
  resolveShard,
  selectShard,
  type ShardSelection,
  WHOLE_MANIFEST_WARNING,
} from "../shard/mod.ts";
import { parseCommandArgs, stringOption } from "./_args.ts";
import { formatBytes } from "../format.ts";
import type { CommandIo } from "./_io.ts";
import { parseVars } from "./_vars.ts";

const RUN_OPTIONS = `Options:
  -j, --jobs N            arrays written at once (default 4)
      --threads N         writer threads for runs of 512 or more arrays of up to 4 MiB, at most
                          --jobs (default one per CPU core; 1 writes on the main thread only)
  -r, --report FILE       where the JSON report goes; - for standard output; {shard} and {count}
                          stand for K and N (default npyalloc-report.json beside the manifest,
                          npyalloc-report.shard-K-of-N.json for a shard)
      --shard K/N|auto    only shard K of N (0 <= K < N) of the arrays, split by bytes; auto
                          reads K and N from a Slurm job array or srun tasks, a Grid Engine or
                          LSF array job, an AWS Batch array job, Google Cloud Batch, a
                          Kubernetes Indexed Job (with NPYALLOC_SHARD_COUNT) or
                          NPYALLOC_SHARD=K/N, else runs the whole manifest
      --dry-run           plan and check space, write nothing but the report (run only)
      --force             replace existing files whose header or size differs from the manifest
      --var NAME=VALUE    set or override a manifest variable (repeatable)
      --min-free SIZE     headroom to keep free on every filesystem: 512MiB, 2GB, 1% (default 0)
      --no-fsync          skip fsync of files and folders (faster, not crash-durable)
      --allow-outside-root  allow array paths that leave the manifest's root
      --max-arrays N      refuse manifests that expand to more arrays (default 1000000)
  -q, --quiet             no progress output
      --json              print the report to standard output too
  -h, --help              show this help

Exit codes: 0 every array is present as declared; 1 some array failed while writing; 2 bad usage
or invalid manifest (nothing touched); 3 not enough free space or inodes (nothing touched);
4 existing files conflict with the manifest and --force was not given (nothing touched);
130 interrupted by SIGINT or SIGTERM (no partial file left).
`;

/** `npyalloc run --help`. */
export const RUN_HELP = `Usage: npyalloc run <manifest.yaml> [options]

Create every array the manifest declares. Nothing is touched unless the whole manifest is valid,
no existing file conflicts with it, and every filesystem has room. Arrays already present as
declared are left untouched.

${RUN_OPTIONS}`;

/** `npyalloc plan --help`. */
export const PLAN_HELP = `Usage: npyalloc plan <manifest.yaml> [options]

What 'npyalloc run' would do, and the space it needs on each filesystem, without writing
anything but the report (the same as 'npyalloc run --dry-run').

${RUN_OPTIONS}`;

const OPTIONS = {
  jobs: { type: "string", short: "j" },
  threads: { type: "string" },
  report: { type: "string", short: "r" },
  "dry-run": { type: "boolean" },
  force: { type: "boolean" },
  var: { type: "string", multiple: true },
  "min-free": { type: "string" },
  "no-fsync": { type: "boolean" },
  "allow-outside-root": { type: "boolean" },
  "max-arrays": { type: "string" },
  shard: { type: "string" },
  quiet: { type: "boolean", short: "q" },
  json: { type: "boolean" },
} as const;

/** The options of one run, parsed. */
interface RunSettings {
  manifestFile: string;
  jobs: number;
  threads: number;
  reportTo: string;
  /** `-r` as given, for the shard warning. */
  reportOption: string | undefined;
  /** The shard to run, or `null` for the whole manifest. */
  shard: ShardSelection | null;
  /** Whether `--shard auto` found no shard in the environment. */
  shardAutoWhole: boolean;
  dryRun: boolean;
  force: boolean;
  vars: Record<string, string>;
  minFree: SizeSpec;
  minFreeText: string;
  fsync: boolean;
  allowOutsideRoot: boolean;
  maxArrays: number;
  quiet: boolean;
  json: boolean;
}

function positiveInteger(command: string, name: string, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new NpyallocError(
      "E_USAGE",
      `${command}: --${name} must be an integer >= 1, got '${text}'`,
    );
  }
  return Number(text);
}

function parseSettings(
  command: "run" | "plan",
  args: readonly string[],
  env: CommandIo["env"],
): RunSettings | "help" {
  const { values, positionals } = parseCommandArgs(command, args, OPTIONS);
  if (values.help) return "help";
  if (positionals.length !== 1) {
    throw new NpyallocError(
      "E_USAGE",
      `${command}: give exactly one <manifest.yaml> (see 'npyalloc ${command} --help')`,
    );
  }
  const manifestFile = positionals[0]!;
  const vars = parseVars(command, values.var as string[] | undefined);
  const minFreeText = stringOption(values, "min-free") ?? "0";
  let minFree: SizeSpec;
  try {
    minFree = parseSize(minFreeText);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new NpyallocError("E_USAGE", `${command}: --min-free: ${why}`);
  }
  const shardText = stringOption(values, "shard");
  let shard: ShardSelection | null = null;
  if (shardText !== undefined) {
    try {
      shard = resolveShard(shardText, env);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new NpyallocError("E_USAGE", `${command}: ${why}`);
    }
  }
  const reportOption = stringOption(values, "report");
  const reportTo = reportPath(reportOption, manifestFile, shard);
  return {
    manifestFile,
    jobs: positiveInteger(command, "jobs", stringOption(values, "jobs") ?? "4"),
    threads: positiveInteger(
      command,
      "threads",
      stringOption(values, "threads") ?? String(os.availableParallelism()),
    ),
    reportTo,
    reportOption,
    shard,
    shardAutoWhole: shardText !== undefined && shard === null,
    dryRun: command === "plan" || values["dry-run"] === true,
    force: values.force === true,
    vars,
    minFree,
    minFreeText,
    fsync: values["no-fsync"] !== true,
    allowOutsideRoot: values["allow-outside-root"] === true,
    maxArrays: positiveInteger(
      command,
      "max-arrays",
      stringOption(values, "max-arrays") ?? "1000000",
    ),
    quiet: values.quiet === true || (values.json === true && reportTo === "-"),
    json: values.json === true,
  };
}

function reportOptions(s: RunSettings): ReportOptions {
  return {
    jobs: s.jobs,
    dry_run: s.dryRun,
    force: s.force,
    fsync: s.fsync,
    min_free: s.minFreeText,
    min_free_bytes: s.minFree.kind === "bytes" ? s.minFree.bytes : null,
    allow_outside_root: s.allowOutsideRoot,
    max_arrays: s.maxArrays,
  };
}

function progressMode(s: RunSettings, io: CommandIo): ProgressMode {
  if (s.quiet) return "quiet";
  return io.isTTY ? "live" : "lines";
}

/**
 * Runs `npyalloc run` (or `plan`, which is `run --dry-run`).
 *
 * @param command `run` or `plan`.
 * @param args The arguments after the command.
 * @param io Output, environment, platform and the interrupt signal.
 * @returns The exit code (SPEC section 1).
 * @throws {NpyallocError} `E_USAGE` for bad arguments, before anything else happens.
 */
export async function runCommand(
  command: "run" | "plan",
  args: readonly string[],
  io: CommandIo,
): Promise<number> {
  const settings = parseSettings(command, args, io.env);
  if (settings === "help") {
    io.stdout(command === "run" ? RUN_HELP : PLAN_HELP);
    return 0;
  }
  const s = settings;
  const startedAt = new Date();
  const started = performance.now();
  const platform = await io.platform();
  const warnings: string[] = [];
  let manifest: LoadedManifest | null = null;
  let shardInfo: ShardReport | null = null;
  let budgets: FilesystemBudget[] = [];
  let outcomes: ArrayOutcome[] = [];
  let error: NpyallocError | null = null;
  let exitCode = 0;
  let pool: WriterPool | null = null;

  const say = (text: string) => {
    if (!s.quiet) io.stderr(text);
  };

  try {
    try {
      manifest = loadManifest(s.manifestFile, {
        vars: s.vars,
        env: io.env,
        allowOutsideRoot: s.allowOutsideRoot,
        maxArrays: s.maxArrays,
      });
    } catch (err) {
      if (err instanceof ManifestError) {
        for (const line of err.message.split("\n")) io.stderr(`${line}\n`);
        io.stderr(`npyalloc: ${s.manifestFile} is not valid; nothing was touched\n`);
        error = err;
        exitCode = 2;
        return exitCode;
      }
      throw err;
    }
    let arrays = manifest.arrays;
    if (s.shard !== null) {
      const part = selectShard(manifest.arrays, s.shard);
      arrays = part.arrays;
      shardInfo = part.info;
      say(
        `npyalloc: shard ${s.shard.index} of ${s.shard.count} (${s.shard.origin}): ` +
          `${arrays.length} of ${manifest.arrays.length} arrays, ` +
          `${formatBytes(part.info.bytes ?? 0)} of ${formatBytes(part.info.bytes_total ?? 0)} ` +
          `(split imbalance ${part.info.imbalance}: largest shard / mean)\n`,
      );
    } else if (s.shardAutoWhole) {
      warnings.push(WHOLE_MANIFEST_WARNING);
    }
    // Writer threads take tens of milliseconds to start: they do while the plan is checked.
    if (!s.dryRun) {
      pool = startWriters(arrays, s.threads, s.jobs, (text) => {
        warnings.push(text);
        say(`npyalloc: warning: ${text}\n`);
      });
    }
    const reportWarning = reportPathWarning(s.reportOption, s.shard);
    if (reportWarning !== null) warnings.push(reportWarning);
    for (const array of arrays) {
      for (const warning of array.layout.warnings) warnings.push(`${array.path}: ${warning}`);
    }

    const plan: PlannedArray[] = await classifyTargets(arrays, { force: s.force });
    const conflicts = plan.filter((p) => p.action === "conflict");
    if (conflicts.length > 0) {
      for (const c of conflicts) io.stderr(`npyalloc: conflict: ${c.array.path}: ${c.reason}\n`);
      io.stderr(
        `npyalloc: ${conflicts.length} existing path${
          conflicts.length === 1 ? "" : "s"
        } conflict with the ` +
          `manifest; nothing was touched (use --force to replace files)\n`,
      );
      outcomes = plan.map(plannedOutcome);
      error = new NpyallocError(
        "E_CONFLICT",
        `${conflicts.length} existing paths conflict with the manifest`,
      );
      exitCode = 4;
      return exitCode;
    }

    // A dead run's temporary files hold space that the check must not count against this run;
    // removing them touches no target. The report's folder holds a dead run's report temp.
    if (!s.dryRun) {
      const folders = new Set(plan.map((p) => folderOf(p.array.target)));
      if (s.reportTo !== "-") folders.add(path.dirname(path.resolve(s.reportTo)));
      removeStaleTemps(folders);
    }
    budgets = planSpace(plan, {
      minFree: s.minFree,
      jobs: s.jobs,
      unnamedFiles: () => writesUnnamedFiles(platform),
    });
    warnings.push(...spaceWarnings(budgets));
    const noSpace = spaceFailure(budgets);
    if (noSpace !== null) {
      io.stderr(`npyalloc: ${noSpace.message}\n`);
      outcomes = plan.map(plannedOutcome);
      error = noSpace;
      exitCode = 3;
      return exitCode;
    }
    for (const warning of warnings) say(`npyalloc: warning: ${warning}\n`);

    const toWrite = plan.filter((p) => p.action === "create" || p.action === "replace");
    const bytes = toWrite.reduce((sum, p) => sum + p.array.layout.fileBytes, 0n);
    if (s.dryRun) {
      outcomes = plan.map(plannedOutcome);
      const unchanged = plan.length - toWrite.length;
      say(
        `plan: ${toWrite.length} of ${plan.length} arrays to write (${formatBytes(bytes)}), ` +
          `${unchanged} unchanged\n`,
      );
      for (const b of budgets) {
        say(
          `  ${b.path}: ${formatBytes(b.required_bytes)} required, ${
            formatBytes(b.available_bytes)
          } available, ` +
            `${b.required_inodes} inodes\n`,
        );
      }
      return exitCode;
    }

    const allBytes = plan.reduce((sum, p) => sum + p.array.layout.fileBytes, 0n);
    const progress = new Progress(progressMode(s, io), io.stderr, {
      files: plan.length,
      bytes: allBytes,
    }, {
      color: io.isTTY && io.env.NO_COLOR === undefined,
    });
    try {
      outcomes = await executePlan(plan, {
        platform,
        jobs: s.jobs,
        pool,
        fsync: s.fsync,
        ...(io.signal === undefined ? {} : { signal: io.signal }),
        progress,
      });
    } finally {
      progress.close();
    }
    const failed = outcomes.filter((o) => o.status === "failed").length;
    const interrupted = outcomes.filter((o) => o.status === "interrupted").length;
    if (interrupted > 0 || io.signal?.aborted) {
      error = new NpyallocError("E_INTERRUPTED", "Interrupted by a signal");
      exitCode = 130;
    } else if (failed > 0) {
      exitCode = 1;
    }
    return exitCode;
  } catch (err) {
    error = err instanceof NpyallocError
      ? err
      : new NpyallocError("E_IO", String(err), { cause: err });
    exitCode = err instanceof NpyallocError && err.code === "E_USAGE" ? 2 : 1;
    io.stderr(`npyalloc: ${error.message}\n`);
    return exitCode;
  } finally {
    await pool?.close();
    const report = buildReport({
      runtime: platform.runtime,
      manifest: manifest === null ? null : { path: s.manifestFile, sha256: manifest.sha256 },
      startedAt,
      finishedAt: new Date(),
      durationMs: performance.now() - started,
      options: reportOptions(s),
      shard: shardInfo,
      filesystems: budgets,
      arrays: outcomes,
      warnings,
      error,
      exitCode,
    });
    try {
      await writeReport(report, s.reportTo, { stdout: io.stdout, fsync: s.fsync });
      if (s.json && s.reportTo !== "-") await writeReport(report, "-", { stdout: io.stdout });
    } catch (err) {
      io.stderr(`npyalloc: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    if (!s.dryRun && manifest !== null && exitCode !== 2) {
      const sm = report.summary;
      say(
        `npyalloc: ${sm.created} created, ${sm.unchanged} unchanged, ${sm.replaced} replaced, ` +
          `${sm.failed} failed${sm.interrupted > 0 ? `, ${sm.interrupted} interrupted` : ""} ` +
          `in ${(report.duration_ms / 1000).toFixed(2)} s` +
          (s.reportTo === "-" ? "\n" : `; report: ${s.reportTo}\n`),
      );
    }
  }
}
