/**
 * Runs a manifest from a program: the same code path as `npyalloc run` and
 * `npyalloc plan`, with the report returned instead of printed.
 *
 * @module
 */

import process from "node:process";
import type { Report } from "../report/report.ts";
import { parseJsonExact } from "../report/merge.ts";
import { loadPlatform } from "../platform/mod.ts";
import type { Platform } from "../platform/platform.ts";

/** Options of {@linkcode runManifest}; each matches the CLI option of the same name. */
export interface RunManifestOptions {
  /** Plan only (`plan` / `--dry-run`). @default {false} */
  readonly dryRun?: boolean;
  /** @default {4} */
  readonly jobs?: number;
  /**
   * Worker threads that write a run's small arrays (`--threads`), with the current runtime's
   * platform. They load npyalloc's own module file: keep 1 when npyalloc is bundled into
   * another program, whose own code a thread would then run. @default {1}
   */
  readonly threads?: number;
  /** @default {false} */
  readonly force?: boolean;
  /** `--var NAME=VALUE`s. */
  readonly vars?: Readonly<Record<string, string>>;
  /** `--min-free`, e.g. `"512MiB"` or `"1%"`. @default {"0"} */
  readonly minFree?: string;
  /** @default {true} */
  readonly fsync?: boolean;
  /** `--shard`, e.g. `"0/4"` or `"auto"`. */
  readonly shard?: string;
  /** Also write the report to this file. */
  readonly reportFile?: string;
  /** @default {false} */
  readonly allowOutsideRoot?: boolean;
  readonly maxArrays?: number;
  /** Environment for `${VARS}` and `--shard auto`. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Stops the run as SIGINT does. */
  readonly signal?: AbortSignal;
  /** The runtime adapter. @default the current runtime's */
  readonly platform?: Platform;
}

/** What {@linkcode runManifest} returns. */
export interface RunManifestResult {
  /** The exit code the CLI would return (0, 1, 2, 3, 4 or 130). */
  readonly exitCode: number;
  /** The report (integers past 2^53 as `bigint`); `null` only for invalid options. */
  readonly report: Report | null;
  /** What the CLI would print on standard error: problems, conflicts, warnings. */
  readonly messages: string[];
}

/**
 * Runs (or plans) a manifest and returns the report. Never throws for a bad manifest, a
 * conflict or a full disk: the exit code and report say what happened.
 *
 * @param file The manifest.
 * @param options As the CLI options of `run`.
 * @returns Exit code, report and messages.
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
 * assert.equal(report?.summary.created, 1);
 * rmSync(dir, { recursive: true });
 * ```
 */
export async function runManifest(
  file: string,
  options: RunManifestOptions = {},
): Promise<RunManifestResult> {
  const args = [file, "-r", "-", "--quiet"];
  if (options.dryRun) args.push("--dry-run");
  if (options.jobs !== undefined) args.push("--jobs", String(options.jobs));
  args.push("--threads", String(options.threads ?? 1));
  if (options.force) args.push("--force");
  for (const [name, value] of Object.entries(options.vars ?? {})) {
    args.push("--var", `${name}=${value}`);
  }
  if (options.minFree !== undefined) args.push("--min-free", options.minFree);
  if (options.fsync === false) args.push("--no-fsync");
  if (options.shard !== undefined) args.push("--shard", options.shard);
  if (options.allowOutsideRoot) args.push("--allow-outside-root");
  if (options.maxArrays !== undefined) args.push("--max-arrays", String(options.maxArrays));
  let stdout = "";
  const messages: string[] = [];
  const platform = options.platform ?? await loadPlatform();
  // Loaded here so the library's entry point does not pull in the CLI.
  const { runCommand } = await import("../commands/run.ts");
  const { NpyallocError } = await import("../errors.ts");
  let exitCode: number;
  try {
    exitCode = await runCommand("run", args, {
      stdout: (text) => void (stdout += text),
      stderr: (text) => void messages.push(...text.split("\n").filter((l) => l !== "")),
      env: options.env ?? process.env,
      isTTY: false,
      platform: () => Promise.resolve(platform),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  } catch (err) {
    if (!(err instanceof NpyallocError)) throw err;
    return { exitCode: 2, report: null, messages: [err.message] };
  }
  const report = stdout === "" ? null : (parseJsonExact(stdout) as Report);
  if (report !== null && options.reportFile !== undefined) {
    const { writeReport } = await import("../report/write_report.ts");
    await writeReport(report, options.reportFile, { fsync: options.fsync ?? true });
  }
  return { exitCode, report, messages };
}
