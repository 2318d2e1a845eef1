/**
 * The executor: writes every planned array with a concurrency limit
 * (p-limit), each through the atomic writer, then syncs each changed folder
 * once. A run that loses a race to another run (the file appeared at the
 * target while it was writing) re-checks the winner's file and reports it
 * `unchanged` when it matches. When the signal aborts, arrays not yet started
 * are `interrupted` without being touched and writes in progress stop at the
 * next chunk; no temporary file is left behind.
 *
 * @module
 */

import pLimit from "p-limit";
import { NpyallocError } from "../errors.ts";
import type { PlannedArray } from "../plan/targets.ts";
import { classifyTargets } from "../plan/targets.ts";
import type { Platform } from "../platform/platform.ts";
import type { ArrayOutcome } from "../report/report.ts";
import { fsyncDir } from "./write_file.ts";
import { createArrayFile } from "./write_file.ts";
import type { Progress } from "./progress.ts";

/** Options of {@linkcode executePlan}. */
export interface ExecuteOptions {
  readonly platform: Platform;
  /** Arrays written at once. */
  readonly jobs: number;
  /** fsync files and folders. */
  readonly fsync: boolean;
  /** Stops scheduling and aborts writes in progress. */
  readonly signal?: AbortSignal;
  /** Receives bytes written and finished arrays. */
  readonly progress?: Progress;
}

function describeHow(outcome: ArrayOutcome): string {
  switch (outcome.allocatedBy) {
    case "fallocate":
      return "reserved";
    case "zeros":
      return "reserved by writing zeros";
    case "truncate":
      return "sparse";
    case "write":
      return "written";
    default:
      return outcome.status;
  }
}

function asError(err: unknown): NpyallocError {
  if (err instanceof NpyallocError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new NpyallocError("E_IO", message, { cause: err });
}

/** Re-checks a target that another run created while this one was writing it. */
async function raceLoser(planned: PlannedArray, err: NpyallocError): Promise<ArrayOutcome | null> {
  if (err.code !== "E_EXISTS") return null;
  const [again] = await classifyTargets([planned.array], { force: false });
  if (again?.action === "unchanged") {
    return {
      array: planned.array,
      status: "unchanged",
      reason: "created by another run at the same time",
    };
  }
  return {
    array: planned.array,
    status: "failed",
    error: new NpyallocError(
      "E_CONFLICT",
      `Cannot create '${planned.array.path}': another process created a different file there (${
        again?.reason ?? "it changed"
      })`,
    ),
  };
}

async function executeOne(
  planned: PlannedArray,
  options: ExecuteOptions,
  folders: Set<string>,
  onProgress: (bytes: number) => void,
): Promise<ArrayOutcome> {
  const { array } = planned;
  if (planned.action === "unchanged") return { array, status: "unchanged" };
  if (planned.action === "conflict") {
    return {
      array,
      status: "failed",
      reason: planned.reason,
      error: new NpyallocError(planned.code ?? "E_CONFLICT", planned.reason ?? "conflict"),
    };
  }
  if (options.signal?.aborted) {
    return {
      array,
      status: "interrupted",
      error: new NpyallocError("E_INTERRUPTED", "Interrupted before it started"),
    };
  }
  const started = performance.now();
  try {
    const result = await createArrayFile(array.target, array.layout, options.platform, {
      fsync: options.fsync,
      syncFolder: false,
      replace: planned.action === "replace",
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      onProgress,
    });
    for (const folder of result.changedFolders) folders.add(folder);
    return {
      array,
      status: planned.action === "replace" ? "replaced" : "created",
      reason: planned.reason,
      allocatedBy: result.allocatedBy,
      bytesWritten: result.bytesWritten,
      bytesReserved: result.bytesReserved,
      durationMs: performance.now() - started,
    };
  } catch (err) {
    const error = asError(err);
    const durationMs = performance.now() - started;
    if (error.code === "E_INTERRUPTED") return { array, status: "interrupted", error, durationMs };
    const lost = await raceLoser(planned, error);
    return { ...(lost ?? { array, status: "failed", error }), durationMs };
  }
}

/**
 * Writes every planned array. Never throws for one array's failure: each outcome says what
 * happened.
 *
 * @param plan The planned arrays (conflicts must have been dealt with; they are reported failed).
 * @param options Platform, jobs, fsync, signal and progress.
 * @returns One outcome per planned array, in plan order.
 * @throws {NpyallocError} Only when a changed folder cannot be synced at the end.
 */
export async function executePlan(
  plan: readonly PlannedArray[],
  options: ExecuteOptions,
): Promise<ArrayOutcome[]> {
  const limit = pLimit(Math.max(1, options.jobs));
  const folders = new Set<string>();
  const outcomes = await Promise.all(plan.map((planned) =>
    limit(async () => {
      let counted = 0n;
      const outcome = await executeOne(planned, options, folders, (n) => {
        counted += BigInt(n);
        options.progress?.bytes(n);
      });
      options.progress?.finished({
        uncountedBytes: planned.array.layout.fileBytes - counted,
        path: planned.array.path,
        status: outcome.status,
        fileBytes: planned.array.layout.fileBytes,
        how: describeHow(outcome),
        durationMs: outcome.durationMs ?? 0,
        error: outcome.error ? outcome.error.message : null,
      });
      return outcome;
    })
  ));
  // One fsync per changed folder, deepest first, so that every link is durable before the
  // report says it is done.
  if (options.fsync) {
    for (const folder of [...folders].sort((a, b) => b.length - a.length)) fsyncDir(folder);
  }
  return outcomes;
}
