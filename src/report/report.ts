/**
 * The JSON report of a `run` or `plan` (docs/report.md): its types, and how it is built from
 * what the run knows. Pure: writing it is `write_report.ts`'s job.
 *
 * @module
 */

import type { ErrorCode, NpyallocError } from "../errors.ts";
import { exactNumber } from "../json.ts";
import type { Descr } from "../npy/dtype.ts";
import type { FillValue } from "../npy/fill.ts";
import type { Order, ResolvedAllocation } from "../npy/layout.ts";
import type { FilesystemBudget } from "../plan/space.ts";
import type { PlannedArray } from "../plan/targets.ts";
import type { ArrayOutcome, ArrayStatus } from "../run/execute.ts";
import type { AllocatedBy } from "../run/write_file.ts";
import type { ShardReport } from "../shard/select.ts";
import { VERSION } from "../version.ts";

export type { ArrayOutcome, ArrayStatus } from "../run/execute.ts";
export type { ShardReport } from "../shard/select.ts";

/** The version of the report format; bumped on incompatible changes. */
export const REPORT_VERSION = 1;

/** An integer that is a JSON number, exact beyond 2^53 (written by `toJson`). */
export type ReportInteger = number | bigint;

/** A failure with a stable code. */
export interface ReportError {
  readonly code: ErrorCode;
  readonly message: string;
}

/** The fill as declared, in JSON: NaN and infinities as `"nan"`, `"inf"`, `"-inf"`. */
export type ReportFill =
  | boolean
  | number
  | bigint
  | string
  | ReportFill[]
  | { [key: string]: ReportFill };

/** One array in the report. */
export interface ArrayReport {
  readonly path: string;
  readonly shape: ReportInteger[];
  readonly descr: Descr;
  readonly order: Order;
  readonly fill: ReportFill;
  readonly allocation: ResolvedAllocation;
  readonly allocated_by: AllocatedBy | null;
  readonly header_version: "1.0" | "2.0" | "3.0";
  readonly header_bytes: number;
  readonly data_bytes: ReportInteger;
  readonly file_bytes: ReportInteger;
  readonly status: ArrayStatus;
  /** Why the existing file was replaced, or conflicts. */
  readonly reason: string | null;
  readonly duration_ms: number | null;
  readonly error: ReportError | null;
}

/** One filesystem's space check in the report. */
export interface FilesystemReport {
  readonly path: string;
  readonly device: string;
  /** The filesystem's name from `statfs`'s `f_type` (`ext4`, `xfs`, `nfs`, ...), or `unknown`. */
  readonly type: string;
  readonly block_size: number;
  readonly available_bytes: ReportInteger;
  readonly required_bytes: ReportInteger;
  readonly committed_bytes: ReportInteger;
  readonly min_free_bytes: ReportInteger;
  readonly free_inodes: ReportInteger | null;
  readonly required_inodes: number;
  readonly ok: boolean;
  readonly shortfall_bytes: ReportInteger;
  readonly shortfall_inodes: number;
}

/** The options a run was given, as the report records them. */
export interface ReportOptions {
  readonly jobs: number;
  readonly dry_run: boolean;
  readonly force: boolean;
  readonly fsync: boolean;
  /** `--min-free` as given (`"0"` by default). */
  readonly min_free: string;
  /** The headroom in bytes, or `null` for a percentage (see each filesystem's `min_free_bytes`). */
  readonly min_free_bytes: ReportInteger | null;
  readonly allow_outside_root?: boolean;
  readonly max_arrays?: number;
}

/** Counts over `arrays`. */
export interface ReportSummary {
  readonly arrays: number;
  readonly created: number;
  readonly unchanged: number;
  readonly replaced: number;
  readonly failed: number;
  readonly planned: number;
  readonly interrupted: number;
  /** Arrays that failed with `E_CONFLICT` or `E_NOT_A_DIRECTORY` (also counted in `failed`). */
  readonly conflicts: number;
  readonly bytes_written: ReportInteger;
  readonly bytes_reserved: ReportInteger;
}

/** The report, as written to `npyalloc-report.json`. */
export interface Report {
  readonly report_version: 1;
  readonly tool: { readonly name: "npyalloc"; readonly version: string; readonly runtime: string };
  readonly manifest: { readonly path: string; readonly sha256: string } | null;
  readonly started_at: string;
  readonly finished_at: string;
  readonly duration_ms: number;
  readonly options: ReportOptions;
  readonly shard: ShardReport | null;
  readonly filesystems: FilesystemReport[];
  readonly arrays: ArrayReport[];
  readonly summary: ReportSummary;
  readonly warnings: string[];
  /** A failure that is not one array's (an invalid manifest, a failed space check), or `null`. */
  readonly error: ReportError | null;
  readonly ok: boolean;
  readonly exit_code: number;
}

/** Everything {@linkcode buildReport} needs. */
export interface ReportInput {
  /** The runtime, e.g. `Platform.runtime` (`"deno 2.9.6"`). */
  readonly runtime: string;
  /** @default {VERSION} */
  readonly version?: string;
  /** The manifest as the user named it and the SHA-256 of its bytes, or `null` when unknown. */
  readonly manifest: { readonly path: string; readonly sha256: string } | null;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  /** A precise duration (e.g. from `performance.now()`). @default finishedAt - startedAt */
  readonly durationMs?: number;
  readonly options: ReportOptions;
  /** @default {null} */
  readonly shard?: ShardReport | null;
  /** @default {[]} */
  readonly filesystems?: readonly FilesystemBudget[];
  readonly arrays: readonly ArrayOutcome[];
  /** @default {[]} */
  readonly warnings?: readonly string[];
  /** @default {null} */
  readonly error?: ReportError | NpyallocError | null;
  readonly exitCode: number;
}

const CONFLICT_CODES: ReadonlySet<string> = new Set(["E_CONFLICT", "E_NOT_A_DIRECTORY"]);

/**
 * Counts the arrays of a report by status.
 *
 * @param arrays The report's arrays.
 * @param bytesWritten Bytes written with write(2), over all arrays.
 * @param bytesReserved Bytes reserved with fallocate(2), over all arrays.
 * @returns The summary.
 */
export function summarize(
  arrays: readonly ArrayReport[],
  bytesWritten: bigint,
  bytesReserved: bigint,
): ReportSummary {
  const counts: Record<ArrayStatus, number> = {
    planned: 0,
    created: 0,
    unchanged: 0,
    replaced: 0,
    failed: 0,
    interrupted: 0,
  };
  let conflicts = 0;
  for (const a of arrays) {
    counts[a.status]++;
    if (a.error !== null && CONFLICT_CODES.has(a.error.code)) conflicts++;
  }
  return {
    arrays: arrays.length,
    created: counts.created,
    unchanged: counts.unchanged,
    replaced: counts.replaced,
    failed: counts.failed,
    planned: counts.planned,
    interrupted: counts.interrupted,
    conflicts,
    bytes_written: exactNumber(bytesWritten),
    bytes_reserved: exactNumber(bytesReserved),
  };
}

/**
 * Builds the report of a run or plan. Byte counts past 2^53 stay `bigint`s; write the report
 * with `toJson` (as `writeReport` does) to keep them exact.
 *
 * @param input What the run knows.
 * @returns The report; `ok` is `exitCode === 0`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildReport } from "./report.ts";
 * const report = buildReport({
 *   runtime: "deno 2.9.6",
 *   manifest: null,
 *   startedAt: new Date(0),
 *   finishedAt: new Date(5),
 *   options: { jobs: 4, dry_run: true, force: false, fsync: true, min_free: "0", min_free_bytes: 0 },
 *   arrays: [],
 *   exitCode: 0,
 * });
 * assert.ok(report.ok && report.duration_ms === 5 && report.summary.arrays === 0);
 * ```
 */
export function buildReport(input: ReportInput): Report {
  const arrays = input.arrays.map(arrayReport);
  let bytesWritten = 0n;
  let bytesReserved = 0n;
  for (const outcome of input.arrays) {
    bytesWritten += outcome.bytesWritten ?? 0n;
    bytesReserved += outcome.bytesReserved ?? 0n;
  }
  return {
    report_version: REPORT_VERSION,
    tool: { name: "npyalloc", version: input.version ?? VERSION, runtime: input.runtime },
    manifest: input.manifest === null
      ? null
      : { path: input.manifest.path, sha256: input.manifest.sha256 },
    started_at: input.startedAt.toISOString(),
    finished_at: input.finishedAt.toISOString(),
    duration_ms: microseconds(
      input.durationMs ?? Math.max(0, input.finishedAt.getTime() - input.startedAt.getTime()),
    ),
    options: reportOptions(input.options),
    shard: input.shard ?? null,
    filesystems: (input.filesystems ?? []).map(filesystemReport),
    arrays,
    summary: summarize(arrays, bytesWritten, bytesReserved),
    warnings: [...(input.warnings ?? [])],
    error: reportError(input.error ?? null),
    ok: input.exitCode === 0,
    exit_code: input.exitCode,
  };
}

/**
 * The outcome of an array that a run planned but did not write (a dry run, or a run stopped by
 * a failed space check or by conflicts): `create` and `replace` are `planned`, `unchanged`
 * stays `unchanged`, a conflict is `failed` with its code (`E_CONFLICT`, `E_NOT_A_DIRECTORY`)
 * and reason.
 *
 * @param planned One entry of `classifyTargets`.
 * @returns The outcome to give {@linkcode buildReport}.
 */
export function plannedOutcome(planned: PlannedArray): ArrayOutcome {
  const { array, reason } = planned;
  switch (planned.action) {
    case "create":
      return { array, status: "planned" };
    case "replace":
      return { array, status: "planned", reason };
    case "unchanged":
      return { array, status: "unchanged" };
    case "conflict":
      return {
        array,
        status: "failed",
        reason,
        error: {
          code: planned.code ?? "E_CONFLICT",
          message: `Conflict at '${array.path}': ${reason ?? "it differs from the manifest"}`,
        },
      };
  }
}

/**
 * The fill as declared, in JSON terms: omitted or `null` is `0`; NaN and the infinities are the
 * strings `"nan"`, `"inf"`, `"-inf"`; integers stay exact (numbers up to 2^53, then bigints, as
 * `exactNumber` gives them); lists and mappings recursively.
 *
 * @param fill The fill of a manifest array.
 * @returns The value for the report's `fill`.
 */
export function fillToJson(fill: FillValue | undefined): ReportFill {
  if (fill === undefined || fill === null) return 0;
  if (typeof fill === "number") {
    if (Number.isNaN(fill)) return "nan";
    if (fill === Infinity) return "inf";
    if (fill === -Infinity) return "-inf";
    return fill;
  }
  if (typeof fill === "bigint") return exactNumber(fill);
  if (typeof fill !== "object") return fill;
  if (Array.isArray(fill)) return fill.map(fillToJson);
  const out: { [key: string]: ReportFill } = {};
  for (const [key, value] of Object.entries(fill)) out[key] = fillToJson(value);
  return out;
}

function arrayReport(outcome: ArrayOutcome): ArrayReport {
  const { array } = outcome;
  const layout = array.layout;
  return {
    path: array.path,
    shape: layout.shape.map(exactNumber),
    descr: layout.descr,
    order: array.order,
    fill: fillToJson(array.fill),
    allocation: layout.allocation,
    allocated_by: outcome.allocatedBy ?? null,
    header_version: layout.headerVersion,
    header_bytes: layout.header.length,
    data_bytes: exactNumber(layout.dataBytes),
    file_bytes: exactNumber(layout.fileBytes),
    status: outcome.status,
    reason: outcome.reason ?? null,
    duration_ms: outcome.durationMs == null ? null : microseconds(outcome.durationMs),
    error: reportError(outcome.error ?? null),
  };
}

/** The options with `min_free_bytes` a number when exact, as the report's other integers. */
function reportOptions(options: ReportOptions): ReportOptions {
  const bytes = options.min_free_bytes;
  return typeof bytes === "bigint" ? { ...options, min_free_bytes: exactNumber(bytes) } : options;
}

function reportError(error: ReportError | NpyallocError | null): ReportError | null {
  if (error === null) return null;
  return { code: error.code, message: error.message };
}

function filesystemReport(budget: FilesystemBudget): FilesystemReport {
  return {
    path: budget.path,
    device: budget.device,
    type: budget.type,
    block_size: budget.block_size,
    available_bytes: exactNumber(budget.available_bytes),
    required_bytes: exactNumber(budget.required_bytes),
    committed_bytes: exactNumber(budget.committed_bytes),
    min_free_bytes: exactNumber(budget.min_free_bytes),
    free_inodes: budget.free_inodes === null ? null : exactNumber(BigInt(budget.free_inodes)),
    required_inodes: budget.required_inodes,
    ok: budget.ok,
    shortfall_bytes: exactNumber(budget.shortfall_bytes),
    shortfall_inodes: budget.shortfall_inodes,
  };
}

/** Milliseconds rounded to the microsecond: what a clock here can tell, without float noise. */
function microseconds(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
