/**
 * npyalloc as a library: create NumPy `.npy` files of any size, byte for byte
 * what NumPy writes, without building arrays in memory; read their headers;
 * load, plan and run manifests.
 *
 * ```ts
 * import { createArray, readHeaderFromFile } from "./mod.ts";
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const dir = mkdtempSync(join(tmpdir(), "npyalloc-mod-"));
 * const file = join(dir, "x.npy");
 * await createArray(file, { shape: [1000, 1000], dtype: "float32", fill: 1.5 });
 * const header = await readHeaderFromFile(file);
 * assert.equal(header.descr, "<f4");
 * assert.deepEqual(header.shape, [1000n, 1000n]);
 * rmSync(dir, { recursive: true });
 * ```
 *
 * @module
 */

export { ERROR_CODES, type ErrorCode, EXIT, type ExitCode, NpyallocError } from "./errors.ts";
export { VERSION } from "./version.ts";

export {
  type ByteOrder,
  type DatetimeUnit,
  type DatetimeUnitSpec,
  type Descr,
  type DescrField,
  type DescrSubarray,
  descrToDType,
  type DType,
  dtypeLabel,
  type DTypeSpec,
  dtypeToDescr,
  type ElementDType,
  foldSubarray,
  isSubarrayDescr,
  MAX_DTYPE_TEXT_LENGTH,
  parseDType,
  type ScalarDType,
  type ScalarKind,
  type StructDType,
  type StructField,
  type SubarrayDType,
} from "./npy/dtype.ts";
export { encodeFill, type FillValue, isZeroFill } from "./npy/fill.ts";
export {
  decodeHeader,
  decodeHeaderInfo,
  type DecodeHeaderOptions,
  type EncodedHeader,
  encodeHeader,
  fortranOrderFlag,
  type NpyFileHeader,
  type NpyFileHeaderInfo,
  type NpyHeader,
  type NpyHeaderInfo,
  type NpyVersion,
} from "./npy/header.ts";
export { readHeaderFromFile, readHeaderInfoFromFile } from "./api/read_header.ts";
export {
  type Allocation,
  type ArrayLayout,
  type ArrayRequest,
  type HeaderVersion,
  layoutArray,
  type Order,
  type ResolvedAllocation,
} from "./npy/layout.ts";

export {
  type ArraySpec,
  createArray,
  type CreateArrayOptions,
  type CreatedArray,
} from "./api/create_array.ts";

export {
  formatProblem,
  type LoadedManifest,
  loadManifest,
  type LoadOptions,
  type ManifestArray,
  ManifestError,
  type ManifestProblem,
  type SourceLocation,
} from "./manifest/mod.ts";
export { classifyTargets, type PlannedAction, type PlannedArray } from "./plan/targets.ts";
export { type FilesystemBudget, parseSize, planSpace, type SizeSpec } from "./plan/space.ts";
export {
  runManifest,
  type RunManifestOptions,
  type RunManifestResult,
} from "./api/run_manifest.ts";
export type { ArrayReport, ArrayStatus, Report, ReportSummary } from "./report/report.ts";
export { mergeReports, parseReport } from "./report/merge.ts";
export { resolveShard, splitShards } from "./shard/mod.ts";
export type { FinishedArray, ProgressSink } from "./run/execute.ts";
export { loadPlatform, type Platform } from "./platform/mod.ts";
export {
  createOne,
  type CreateResult,
  type EngineDeps,
  inspectFiles,
  type InspectFilesResult,
  type InspectResult,
  mergeReportFiles,
  type MergeResult,
  runPlan,
  type RunResult,
  validateManifests,
  type ValidateResult,
  verifyManifest,
  type VerifyResult,
} from "./engine/mod.ts";
