/**
 * The executor: writes every planned array with a concurrency limit (p-limit), each through
 * the atomic writer, then syncs each changed folder once. A run that loses a race to another
 * run (the file appeared at the target while it was writing) re-checks the winner's file and
 * reports it `unchanged` when it matches. When the signal aborts, arrays not yet started are
 * `interrupted` without being touched and writes in progress stop at the next chunk; no
 * temporary file is left behind. Every array's outcome is kept whatever fails afterwards (a
 * folder that cannot be synced is reported beside them).
 *
 * @module
 */

import pLimit from "p-limit";
import { NpyallocError, toNpyallocError } from "../errors.ts";
import type { ManifestArray } from "../manifest/types.ts";
import { classifyTargets, type PlannedArray, type PlanQueries } from "../plan/targets.ts";
import type { Platform } from "../platform/platform.ts";
import type { PatternBuffers } from "./fill_writer.ts";
import type { FolderCache } from "./folders.ts";
import type { AllocatedBy, FileRequest, WriteResult } from "./write_file.ts";
import { writeArrayFile } from "./write_file.ts";
import { type PoolItem, WriterPool } from "./writer_pool.ts";

/** What became of one array: a report entry in the making. */
export type ArrayStatus =
  | "planned"
  | "created"
  | "unchanged"
  | "replaced"
  | "failed"
  | "interrupted";

/** What became of one array, as the executor (or the plan) knows it. */
export interface ArrayOutcome {
  readonly array: ManifestArray;
  readonly status: ArrayStatus;
  /** @default {null} */
  readonly allocatedBy?: AllocatedBy | null;
  /** Why the file was replaced, conflicts, or is unchanged after a race. @default {null} */
  readonly reason?: string | null;
  /** @default {null} */
  readonly durationMs?: number | null;
  /** @default {0n} */
  readonly bytesWritten?: bigint;
  /** @default {0n} */
  readonly bytesReserved?: bigint;
  /** @default {null} */
  readonly error?: { readonly code: NpyallocError["code"]; readonly message: string } | null;
}

/** What a finished array tells progress. */
export interface FinishedArray {
  readonly path: string;
  readonly status: ArrayStatus;
  readonly fileBytes: bigint;
  /** How the data was laid out, in words: `reserved`, `written`, ... */
  readonly how: string;
  readonly durationMs: number;
  readonly error: string | null;
  /**
   * Bytes of this array done and not already counted with `bytes()`: the rest of a file that
   * was written, nothing for one that failed, was interrupted or was left unchanged.
   */
  readonly uncountedBytes: bigint;
}

/** Receives what a run does, as it does it (the CLI draws it; the library may listen). */
export interface ProgressSink {
  /** The run starts writing: every array of the plan, and the bytes of those it writes. */
  begin?(totals: { readonly files: number; readonly bytes: bigint }): void;
  /** An array starts being written (on this thread: its bytes follow). */
  started?(path: string, fileBytes: bigint): void;
  /** More bytes were written. */
  bytes(bytes: number): void;
  /** An array is done, one way or another. */
  finished(done: FinishedArray): void;
}

/** Options of {@linkcode executePlan}. */
export interface ExecuteOptions {
  readonly platform: Platform;
  /** The run's open folders: files are created in them, and the changed ones synced. */
  readonly folders: FolderCache;
  /** The run's fill buffers. */
  readonly buffers: PatternBuffers;
  /** Arrays written at once. */
  readonly jobs: number;
  /** fsync files and folders. */
  readonly fsync: boolean;
  /** Stops scheduling and aborts writes in progress. */
  readonly signal?: AbortSignal;
  /** Receives bytes written and finished arrays. */
  readonly progress?: ProgressSink;
  /**
   * Worker threads to write the small arrays on (from {@linkcode startWriters}; they use the
   * platform `loadPlatform()` gives them, not `platform`). The caller closes it.
   */
  readonly pool?: WriterPool | null;
}

/** What {@linkcode executePlan} did. */
export interface ExecuteResult {
  /** One outcome per planned array, in plan order. */
  readonly outcomes: ArrayOutcome[];
  /** A folder whose new entries could not be made durable (`fsync`), if one failed. */
  readonly syncError: NpyallocError | null;
}

/**
 * Below this many arrays to write, starting worker threads (tens of milliseconds) costs more
 * than it saves: one small array takes tens of microseconds.
 */
export const MIN_ARRAYS_FOR_THREADS = 512;

/**
 * The largest array written on a worker thread. Bigger ones stay on the calling thread, where
 * their writes run asynchronously and report progress chunk by chunk.
 */
export const MAX_BYTES_ON_THREADS = 4n * 1024n * 1024n;

/** Whether an array is small enough to be written on a worker thread. */
function isSmall(array: ManifestArray): boolean {
  return array.layout.fileBytes <= MAX_BYTES_ON_THREADS;
}

/**
 * Starts writer threads when a run has enough small arrays to gain from them. Called as soon
 * as the manifest is loaded, so that the threads start while the plan is checked.
 *
 * @param arrays The run's arrays.
 * @param threads Threads asked for (`--threads`); at most `jobs` are started.
 * @param jobs Arrays written at once (`--jobs`).
 * @param onWarning Told when a thread fails, which the run survives.
 * @param module The module the threads load (see `WriterPool`).
 * @returns The pool, or `null` for a run to write on its own thread.
 */
export function startWriters(
  arrays: readonly ManifestArray[],
  threads: number,
  jobs: number,
  onWarning: (text: string) => void,
  module?: URL,
): WriterPool | null {
  const count = Math.min(threads, jobs);
  if (count <= 1) return null;
  let small = 0;
  for (const array of arrays) if (isSmall(array)) small++;
  if (small < MIN_ARRAYS_FOR_THREADS) return null;
  return new WriterPool(
    count,
    (why) =>
      onWarning(
        `a writer thread stopped (${why}); the other threads or the main thread wrote its arrays`,
      ),
    ...(module === undefined ? [] : [module]),
  );
}

/** The file request of a planned array. */
export function fileRequest(planned: PlannedArray, fsync: boolean): FileRequest {
  const { array } = planned;
  return {
    folder: array.real.folder,
    name: array.real.name,
    label: array.target,
    layout: array.layout,
    generated: array.generated,
    fsync,
    replace: planned.action === "replace",
  };
}

/** How the data of an array was laid out, in words, for progress. */
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

/** Why a target that appeared while this run wrote it is `unchanged`, by default. */
const ANOTHER_RUN = "created by another run at the same time";

/**
 * Why a target is `unchanged` that appeared while this run wrote it again after the writer
 * thread that had it failed: that thread had named it.
 */
const FAILED_THREAD = "written by a writer thread of this run before it stopped";

/** Why a target that appeared while it was written again is `unchanged`: see above. */
function raceReason(retried: boolean): string {
  return retried ? FAILED_THREAD : ANOTHER_RUN;
}

/** Re-checks a target that appeared (made by another run, or as `reason` says) while writing. */
async function raceLoser(
  planned: PlannedArray,
  err: NpyallocError,
  fs: PlanQueries,
  reason = ANOTHER_RUN,
): Promise<ArrayOutcome | null> {
  if (err.code !== "E_EXISTS") return null;
  const [again] = await classifyTargets([planned.array], { force: false, fs });
  if (again?.action === "unchanged") return { array: planned.array, status: "unchanged", reason };
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

/** The outcome of an array written as planned. */
function writtenOutcome(
  planned: PlannedArray,
  result: WriteResult,
  durationMs: number,
): ArrayOutcome {
  return {
    array: planned.array,
    status: planned.action === "replace" ? "replaced" : "created",
    reason: planned.reason,
    allocatedBy: result.allocatedBy,
    bytesWritten: result.bytesWritten,
    bytesReserved: result.bytesReserved,
    durationMs,
  };
}

/** The outcome of an array whose write failed, after a re-check when another run won a race. */
async function failedOutcome(
  planned: PlannedArray,
  error: NpyallocError,
  durationMs: number,
  fs: PlanQueries,
  reason?: string,
): Promise<ArrayOutcome> {
  const { array } = planned;
  if (error.code === "E_INTERRUPTED") return { array, status: "interrupted", error, durationMs };
  let lost: ArrayOutcome | null;
  try {
    lost = await raceLoser(planned, error, fs, reason);
  } catch (err) {
    lost = { array, status: "failed", error: toNpyallocError(err) };
  }
  return { ...(lost ?? { array, status: "failed", error }), durationMs };
}

async function executeOne(
  planned: PlannedArray,
  options: ExecuteOptions,
  onProgress: (bytes: number) => void,
  reason?: string,
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
  options.progress?.started?.(array.path, array.layout.fileBytes);
  try {
    const result = await writeArrayFile(fileRequest(planned, options.fsync), {
      platform: options.platform,
      folders: options.folders,
      buffers: options.buffers,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    }, onProgress);
    return writtenOutcome(planned, result, performance.now() - started);
  } catch (err) {
    return await failedOutcome(
      planned,
      toNpyallocError(err),
      performance.now() - started,
      options.platform,
      reason,
    );
  }
}

/**
 * Writes every planned array, then syncs the folders whose entries changed. Never throws for
 * one array's failure, nor for a folder that cannot be synced: the result says what happened.
 *
 * @param plan The planned arrays (conflicts must have been dealt with; they are reported failed).
 * @param options Platform, folders, buffers, jobs, writer pool, fsync, signal and progress.
 * @returns One outcome per planned array, in plan order, and the folder sync's failure.
 */
export async function executePlan(
  plan: readonly PlannedArray[],
  options: ExecuteOptions,
): Promise<ExecuteResult> {
  const limit = pLimit(options.jobs);
  const outcomes = new Array<ArrayOutcome>(plan.length);
  let bytes = 0n;
  for (const p of plan) {
    if (p.action === "create" || p.action === "replace") bytes += p.array.layout.fileBytes;
  }
  options.progress?.begin?.({ files: plan.length, bytes });
  const finish = (index: number, outcome: ArrayOutcome, counted = 0n) => {
    outcomes[index] = outcome;
    const { array } = plan[index] as PlannedArray;
    const done = outcome.status === "created" || outcome.status === "replaced";
    options.progress?.finished({
      uncountedBytes: done ? array.layout.fileBytes - counted : 0n,
      path: array.path,
      status: outcome.status,
      fileBytes: array.layout.fileBytes,
      how: describeHow(outcome),
      durationMs: outcome.durationMs ?? 0,
      error: outcome.error ? outcome.error.message : null,
    });
  };
  const onThread = (index: number, reason?: string) =>
    limit(async () => {
      const planned = plan[index] as PlannedArray;
      let counted = 0n;
      const outcome = await executeOne(planned, options, (n) => {
        counted += BigInt(n);
        options.progress?.bytes(n);
      }, reason);
      finish(index, outcome, counted);
    });

  const pool = options.pool ?? null;
  const usePool = pool?.alive === true && !options.signal?.aborted;
  const stop = () => pool?.abort();
  options.signal?.addEventListener("abort", stop);
  try {
    // Small arrays go to the pool all at once, and come back in batches (no promise per
    // array); the others take turns on this thread, `jobs` at a time.
    const pooled: number[] = [];
    const here: Promise<void>[] = [];
    plan.forEach((p, index) => {
      if (usePool && (p.action === "create" || p.action === "replace") && isSmall(p.array)) {
        pooled.push(index);
      } else {
        here.push(onThread(index));
      }
    });
    // Awaited as one from now on, so that a failure while the pool works is not unhandled.
    const others = Promise.all(here);
    const rechecks: Promise<void>[] = [];
    const lost: { index: number; retried: boolean }[] = [];
    await pool?.writeEach(
      pooled.map((index): PoolItem => fileRequest(plan[index] as PlannedArray, options.fsync)),
      (k, outcome) => {
        const index = pooled[k] as number;
        const planned = plan[index] as PlannedArray;
        if (outcome.kind === "lost") {
          lost.push({ index, retried: outcome.retried });
        } else if (outcome.kind === "written") {
          finish(index, writtenOutcome(planned, outcome.result, outcome.durationMs));
        } else {
          const recheck = failedOutcome(
            planned,
            outcome.error,
            outcome.durationMs,
            options.platform,
            raceReason(outcome.retried),
          ).then((o) => finish(index, o));
          // Awaited below with the rest; handled now, so that a failure meanwhile is not
          // reported as unhandled (which ends a Deno process).
          recheck.catch(() => {});
          rechecks.push(recheck);
        }
      },
    );
    // What no worker was left to write is written here.
    await Promise.all([
      others,
      ...rechecks,
      ...lost.map(({ index, retried }) => onThread(index, raceReason(retried))),
    ]);
  } finally {
    options.signal?.removeEventListener("abort", stop);
  }
  // One fsync per changed folder, deepest first, so that every link is durable before the
  // report says it is done.
  let syncError: NpyallocError | null = null;
  if (options.fsync) {
    for (const folder of pool?.changedFolders ?? []) options.folders.changed(folder);
    try {
      options.folders.syncChanged();
    } catch (err) {
      syncError = toNpyallocError(err);
    }
  }
  return { outcomes, syncError };
}
