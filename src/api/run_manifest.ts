/**
 * Runs a manifest from a program: the engine of `npyalloc run` and `npyalloc plan`, with typed
 * options, the report returned instead of printed, and the same defaults as the command line.
 *
 * @module
 */

import process from "node:process";
import type { ExitCode } from "../errors.ts";
import { runPlan } from "../engine/run.ts";
import type { Env } from "../engine/deps.ts";
import { loadPlatform } from "../platform/mod.ts";
import type { Platform } from "../platform/platform.ts";
import type { Report } from "../report/report.ts";
import type { ProgressSink } from "../run/execute.ts";

/**
 * Options of {@linkcode runManifest}; each is the CLI option of the same name, with the same
 * default (docs/cli.md).
 */
export interface RunManifestOptions {
  /** Plan only (`plan` / `--dry-run`). @default {false} */
  readonly dryRun?: boolean;
  /** Arrays written at once (`--jobs`). @default {4} */
  readonly jobs?: number;
  /**
   * Worker threads that write a run's small arrays (`--threads`). They load npyalloc's own
   * writer thread module; when npyalloc is bundled into another program where that module is
   * not, the threads fail to start and the run writes on the main thread (with a warning).
   * @default one per CPU core
   */
  readonly threads?: number;
  /** `--force`. @default {false} */
  readonly force?: boolean;
  /** `--var NAME=VALUE`s. */
  readonly vars?: Readonly<Record<string, string>>;
  /** `--min-free`, e.g. `"512MiB"` or `"1%"`. @default {"0"} */
  readonly minFree?: string;
  /** fsync files and folders (`--no-fsync` is `false`). @default {true} */
  readonly fsync?: boolean;
  /** `--shard`, e.g. `"0/4"` or `"auto"`. */
  readonly shard?: string;
  /**
   * Also write the report to this file (`-r`; `{shard}` and `{count}` stand for K and N). By
   * default the report is only returned.
   */
  readonly reportFile?: string;
  /** `--allow-outside-root`. @default {false} */
  readonly allowOutsideRoot?: boolean;
  /** `--max-arrays`. @default {1000000} */
  readonly maxArrays?: number;
  /** Environment for `${VARS}` and `--shard auto`. @default process.env */
  readonly env?: Env;
  /** Stops the run as SIGINT does. */
  readonly signal?: AbortSignal;
  /** Told what the run writes, as it writes it. */
  readonly progress?: ProgressSink;
  /** The runtime adapter. @default the current runtime's */
  readonly platform?: Platform;
}

/** What {@linkcode runManifest} returns. */
export interface RunManifestResult {
  /** The exit code the CLI would return (0, 1, 2, 3, 4 or 130). */
  readonly exitCode: ExitCode;
  /** The report (integers past 2^53 as `bigint`). */
  readonly report: Report;
  /** What the CLI would print on standard error: problems, conflicts, warnings, notes. */
  readonly messages: string[];
}

/**
 * Runs (or plans) a manifest and returns the report. Never throws for a bad manifest, a
 * conflict or a full disk: the exit code and report say what happened.
 *
 * @param file The manifest.
 * @param options As the CLI options of `run`.
 * @returns Exit code, report and messages.
 * @throws {NpyallocError} `E_USAGE` for options that cannot work (`jobs: 0`, a malformed
 *   `minFree` or `shard`).
 *
 * @example
 * ```ts
 * import { runManifest } from "./run_manifest.ts";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * const dir = mkdtempSync(join(tmpdir(), "npyalloc-example-"));
 * writeFileSync(join(dir, "m.yaml"), "version: 1\narrays:\n  - { path: a.npy, shape: [4, 4] }\n");
 * const { exitCode, report } = await runManifest(join(dir, "m.yaml"));
 * assert.equal(exitCode, 0);
 * assert.equal(report.summary.created, 1);
 * rmSync(dir, { recursive: true });
 * ```
 */
export async function runManifest(
  file: string,
  options: RunManifestOptions = {},
): Promise<RunManifestResult> {
  const messages: string[] = [];
  const settings = {
    manifest: file,
    report: options.reportFile ?? null,
    ...(options.dryRun === undefined ? {} : { dryRun: options.dryRun }),
    ...(options.jobs === undefined ? {} : { jobs: options.jobs }),
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.force === undefined ? {} : { force: options.force }),
    ...(options.vars === undefined ? {} : { vars: options.vars }),
    ...(options.minFree === undefined ? {} : { minFree: options.minFree }),
    ...(options.fsync === undefined ? {} : { fsync: options.fsync }),
    ...(options.shard === undefined ? {} : { shard: options.shard }),
    ...(options.allowOutsideRoot === undefined
      ? {}
      : { allowOutsideRoot: options.allowOutsideRoot }),
    ...(options.maxArrays === undefined ? {} : { maxArrays: options.maxArrays }),
  };
  const result = await runPlan(settings, {
    platform: options.platform ?? await loadPlatform(),
    env: options.env ?? process.env,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.progress === undefined ? {} : { progress: options.progress }),
    log: (message) => void messages.push(message.text),
  });
  return { exitCode: result.exitCode, report: result.report, messages };
}
