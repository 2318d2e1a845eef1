/**
 * The engine: one function per command, each taking typed settings and its dependencies
 * (platform, environment, signal, progress and message sinks) and returning a result. The CLI
 * and the library both call these, and nothing else, so every guarantee is enforced once.
 *
 * @module
 */

export { createLayout, createOne, type CreateResult } from "./create.ts";
export type { EngineDeps, Env, Message } from "./deps.ts";
export {
  inspectFile,
  inspectFiles,
  type InspectFilesResult,
  type InspectResult,
} from "./inspect.ts";
export { mergeReportFiles, type MergeResult } from "./merge.ts";
export { runPlan, type RunResult } from "./run.ts";
export {
  CHECK_DEFAULTS,
  type CheckSettings,
  CREATE_DEFAULTS,
  type CreateSettings,
  MERGE_DEFAULTS,
  type MergeSettings,
  RUN_DEFAULTS,
  type RunSettings,
} from "./settings.ts";
export { type ValidatedManifest, validateManifests, type ValidateResult } from "./validate.ts";
export { type Difference, verifyManifest, type VerifyResult } from "./verify.ts";
