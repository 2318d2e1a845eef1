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
import { NpyallocError, toNpyallocError } from "../errors.ts";
import type { PlannedArray } from "../plan/targets.ts";
import { classifyTargets } from "../plan/targets.ts";
import type { Platform } from "../platform/platform.ts";
import type { ArrayOutcome } from "../report/report.ts";
import { fsyncDir } from "./write_file.ts";
import { createArrayFile, type CreateResult, type WritableLayout } from "./write_file.ts";
import type { Progress } from "./progress.ts";
import { type PoolItem, WriterPool } from "./writer_pool.ts";

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
  /**
   * Worker threads to write the small arrays on (from {@linkcode startWriters}; they use the
   * platform `loadPlatform()` gives them, not `platform`). The caller closes it.
   */
  readonly pool?: WriterPool | null;
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
function isSmall(array: PlannedArray["array"]): boolean {
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
 * @returns The pool, or `null` for a run to write on its own thread.
 */
export function startWriters(
  arrays: readonly PlannedArray["array"][],
  threads: number,
  jobs: number,
  onWarning: (text: string) => void,
): WriterPool | null {
  const count = Math.min(threads, jobs);
  if (count <= 1) return null;
  let small = 0;
  for (const array of arrays) if (isSmall(array)) small++;
  if (small < MIN_ARRAYS_FOR_THREADS) return null;
  return new WriterPool(count, (why) =>
    onWarning(
      `a writer thread stopped (${why}); the other threads or the main thread wrote its arrays`,
    ));
}

/** Creates one file: on the calling thread, or on a worker of a pool. */
type FileWriter = (
  target: string,
  layout: WritableLayout,
  options: { fsync: boolean; replace: boolean; onProgress: (bytes: number) => void },
) => Promise<CreateResult>;

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
  reason = ANOTHER_RUN,
): Promise<ArrayOutcome | null> {
  if (err.code !== "E_EXISTS") return null;
  const [again] = await classifyTargets([planned.array], { force: false });
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
  result: CreateResult,
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
  raceReason?: string,
): Promise<ArrayOutcome> {
  const { array } = planned;
  if (error.code === "E_INTERRUPTED") return { array, status: "interrupted", error, durationMs };
  const lost = await raceLoser(planned, error, raceReason);
  return { ...(lost ?? { array, status: "failed", error }), durationMs };
}

async function executeOne(
  planned: PlannedArray,
  options: ExecuteOptions,
  write: FileWriter,
  folders: Set<string>,
  onProgress: (bytes: number) => void,
  raceReason?: string,
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
    const result = await write(array.target, array.layout, {
      fsync: options.fsync,
      replace: planned.action === "replace",
      onProgress,
    });
    for (const folder of result.changedFolders) folders.add(folder);
    return writtenOutcome(planned, result, performance.now() - started);
  } catch (err) {
    return await failedOutcome(
      planned,
      toNpyallocError(err),
      performance.now() - started,
      raceReason,
    );
  }
}

/**
 * Writes every planned array. Never throws for one array's failure: each outcome says what
 * happened.
 *
 * @param plan The planned arrays (conflicts must have been dealt with; they are reported failed).
 * @param options Platform, jobs, writer pool, fsync, signal and progress.
 * @returns One outcome per planned array, in plan order.
 * @throws {NpyallocError} Only when a changed folder cannot be synced at the end.
 */
export async function executePlan(
  plan: readonly PlannedArray[],
  options: ExecuteOptions,
): Promise<ArrayOutcome[]> {
  const limit = pLimit(Math.max(1, options.jobs));
  const folders = new Set<string>();
  const onThisThread: FileWriter = (target, layout, writeOptions) =>
    createArrayFile(target, layout, options.platform, {
      ...writeOptions,
      syncFolder: false,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  const outcomes = new Array<ArrayOutcome>(plan.length);
  const finish = (index: number, outcome: ArrayOutcome, counted = 0n) => {
    outcomes[index] = outcome;
    const { array } = plan[index] as PlannedArray;
    options.progress?.finished({
      uncountedBytes: array.layout.fileBytes - counted,
      path: array.path,
      status: outcome.status,
      fileBytes: array.layout.fileBytes,
      how: describeHow(outcome),
      durationMs: outcome.durationMs ?? 0,
      error: outcome.error ? outcome.error.message : null,
    });
  };
  const onThread = (index: number, raceReason?: string) =>
    limit(async () => {
      const planned = plan[index] as PlannedArray;
      let counted = 0n;
      const outcome = await executeOne(planned, options, onThisThread, folders, (n) => {
        counted += BigInt(n);
        options.progress?.bytes(n);
      }, raceReason);
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
      pooled.map((index): PoolItem => {
        const { array, action } = plan[index] as PlannedArray;
        return {
          target: array.target,
          layout: array.layout,
          fsync: options.fsync,
          replace: action === "replace",
        };
      }),
      (k, outcome) => {
        const index = pooled[k] as number;
        const planned = plan[index] as PlannedArray;
        if (outcome.kind === "lost") {
          lost.push({ index, retried: outcome.retried });
        } else if (outcome.kind === "written") {
          for (const folder of outcome.result.changedFolders) folders.add(folder);
          finish(index, writtenOutcome(planned, outcome.result, outcome.durationMs));
        } else {
          const recheck = failedOutcome(
            planned,
            outcome.error,
            outcome.durationMs,
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
  if (options.fsync) {
    for (const folder of [...folders].sort((a, b) => b.length - a.length)) fsyncDir(folder);
  }
  return outcomes;
}
