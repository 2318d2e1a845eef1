/**
 * `create`: one array, no manifest. A one-array run: the same target check, space and inode
 * check, atomic writer, pinned folder and signal handling as `run`, without a report.
 *
 * @module
 */

import path from "node:path";
import { EXIT, type ExitCode, NpyallocError, toNpyallocError } from "../errors.ts";
import { formatBytes } from "../format.ts";
import { realPlace } from "../manifest/paths.ts";
import type { ManifestArray } from "../manifest/types.ts";
import { type DType, dtypeLabel, type DTypeSpec, parseDType } from "../npy/dtype.ts";
import type { FillValue } from "../npy/fill.ts";
import type { ArrayLayout } from "../npy/layout.ts";
import { type ContentLayout, type GeneratedContent, layoutContent } from "../generate/layout.ts";
import { formatShape } from "../npy/shape.ts";
import type { PlannedArray } from "../plan/targets.ts";
import type { ArrayOutcome } from "../run/execute.ts";
import type { AllocatedBy } from "../run/write_file.ts";
import { type EngineDeps, say } from "./deps.ts";
import { planAndWrite } from "./_pipeline.ts";
import { CREATE_DEFAULTS, type CreateSettings } from "./settings.ts";
import { parseSize } from "../plan/space.ts";

/** What `create` did. */
export interface CreateResult {
  /** 0 created or replaced; 1 failed while writing; 2 bad settings; 3 not enough space or
   * inodes; 4 something is in the way; 130 interrupted. */
  readonly exitCode: ExitCode;
  /** The array's header, sizes and fill bytes; `null` when the settings were refused. */
  readonly layout: ArrayLayout | null;
  /** `created`, `replaced`, `failed`, `interrupted`, or `planned` when it stopped before. */
  readonly status: ArrayOutcome["status"] | null;
  /** How the data was laid out. */
  readonly allocatedBy: AllocatedBy | null;
  readonly bytesWritten: bigint;
  readonly bytesReserved: bigint;
  /** Why it failed, when it did. */
  readonly error: NpyallocError | null;
  /** One line on what was made: `created x.npy: <f4 (3, 4) C, 176 B, write`. */
  readonly summary: string | null;
}

function isDType(value: DTypeSpec | DType): value is DType {
  return typeof value === "object" && !Array.isArray(value);
}

/**
 * Lays out the array `create` asks for.
 *
 * @param settings The settings.
 * @returns The layout, and the generated content when the fill is generated.
 * @throws {NpyallocError} `E_DTYPE`, `E_SHAPE`, `E_FILL`, `E_ALLOCATION`, `E_HEADER`.
 */
export function createLayout(
  settings: Pick<
    CreateSettings,
    "shape" | "dtype" | "order" | "fill" | "allocation" | "headerVersion"
  >,
): ContentLayout {
  return layoutContent({
    shape: settings.shape,
    dtype: isDType(settings.dtype) ? settings.dtype : parseDType(settings.dtype),
    order: settings.order,
    ...(settings.fill === undefined ? {} : { fill: settings.fill as FillValue }),
    allocation: settings.allocation,
    headerVersion: settings.headerVersion,
  });
}

/**
 * Creates one `.npy` file, byte for byte what `np.save(file, np.full(shape, fill, dtype,
 * order))` writes, without building the array in memory: the whole of `npyalloc create`.
 *
 * @param given The settings (`file` and `shape` at least); the rest default as documented in
 *   {@linkcode CreateSettings}.
 * @param deps Platform, signal, progress, messages.
 * @returns What was done. Never throws for a failure the exit code can say.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { loadPlatform } from "../platform/mod.ts";
 * import { createOne } from "./create.ts";
 * const dir = mkdtempSync(join(tmpdir(), "npyalloc-example-"));
 * const deps = { platform: await loadPlatform(), env: {} };
 * const made = await createOne({ file: join(dir, "x.npy"), shape: [3n], fill: 7, dtype: "u1" }, deps);
 * assert.equal(made.status, "created");
 * const again = await createOne({ file: join(dir, "x.npy"), shape: [3n] }, deps);
 * assert.equal(again.exitCode, 4);
 * rmSync(dir, { recursive: true });
 * ```
 */
export async function createOne(
  given: Partial<CreateSettings> & Pick<CreateSettings, "file" | "shape">,
  deps: EngineDeps,
): Promise<CreateResult> {
  const settings: CreateSettings = { ...CREATE_DEFAULTS, fill: undefined, ...given };
  const failed = (error: NpyallocError, exitCode: ExitCode, layout: ArrayLayout | null = null) => ({
    exitCode,
    layout,
    status: null,
    allocatedBy: null,
    bytesWritten: 0n,
    bytesReserved: 0n,
    error,
    summary: null,
  });
  let layout: ArrayLayout;
  let generated: GeneratedContent | null;
  try {
    ({ layout, generated } = createLayout(settings));
  } catch (err) {
    const error = toNpyallocError(err);
    say(deps, `npyalloc: ${error.message}`, true);
    return failed(error, EXIT.usage);
  }
  const file = settings.file;
  for (const warning of layout.warnings) say(deps, `npyalloc: warning: ${file}: ${warning}`);

  const target = path.resolve(file);
  const place = realPlace(path.dirname(target), deps.platform);
  if (place.problem !== undefined) {
    const error = new NpyallocError(
      "E_NOT_A_DIRECTORY",
      `Cannot create '${file}': ${place.problem}`,
    );
    say(deps, `npyalloc: ${error.message}`, true);
    return failed(error, EXIT.conflict, layout);
  }
  const array: ManifestArray = {
    path: file,
    target,
    real: { folder: place.real, name: path.basename(target) },
    shape: layout.shape,
    dtype: layout.dtype,
    order: settings.order,
    fill: settings.fill as FillValue | undefined,
    allocation: settings.allocation,
    headerVersion: settings.headerVersion,
    layout,
    generated,
    location: { file: "", line: 0, column: 0 },
    jsonPath: "",
  };
  let outcome: ArrayOutcome | undefined;
  let error: NpyallocError | null;
  let exitCode: ExitCode;
  try {
    const run = await planAndWrite(
      {
        arrays: [array],
        force: settings.force,
        dryRun: false,
        jobs: 1,
        threads: 1,
        fsync: settings.fsync,
        minFree: parseSize("0"),
        imperative: true,
        describeConflicts: ([c]) => {
          const line = conflictLine(file, c as PlannedArray);
          return { lines: [line], summary: line };
        },
      },
      deps,
      (planned) => ({ array: planned.array, status: "planned" }),
    );
    outcome = run.outcomes?.[0];
    error = run.error ?? asError(outcome?.error);
    exitCode = run.exitCode;
  } catch (err) {
    error = toNpyallocError(err);
    exitCode = EXIT.failed;
    say(deps, `npyalloc: ${error.message}`, true);
  }
  let summary: string | null = null;
  if (exitCode === EXIT.ok && outcome !== undefined) {
    const how = outcome.allocatedBy === "zeros"
      ? "reserve (fallocate unavailable: zeros written)"
      : layout.allocation === "reserve" && outcome.allocatedBy === "truncate"
      ? "reserve (this filesystem holds no blocks for it: sparse)"
      : layout.allocation;
    if (layout.allocation === "sparse" && layout.dataBytes > 0n) {
      say(
        deps,
        `npyalloc: warning: ${file}: sparse file: ${formatBytes(layout.dataBytes)} committed ` +
          "but not reserved; writing to it later can fail when the disk is full",
      );
    }
    summary = `${outcome.status} ${file}: ${dtypeLabel(layout.dtype)} ` +
      `${formatShape(layout.shape)} ${settings.order}, ${formatBytes(layout.fileBytes)}, ${how}`;
  } else if (outcome?.error && exitCode !== EXIT.conflict && exitCode !== EXIT.noSpace) {
    say(deps, `npyalloc: ${outcome.error.message}`, true);
  }
  return {
    exitCode,
    layout,
    status: outcome?.status ?? null,
    allocatedBy: outcome?.allocatedBy ?? null,
    bytesWritten: outcome?.bytesWritten ?? 0n,
    bytesReserved: outcome?.bytesReserved ?? 0n,
    error,
    summary,
  };
}

function asError(
  e: { readonly code: NpyallocError["code"]; readonly message: string } | null | undefined,
): NpyallocError | null {
  if (e === null || e === undefined) return null;
  return e instanceof NpyallocError ? e : new NpyallocError(e.code, e.message);
}

/** What is in the way of `create`, in one line. */
function conflictLine(file: string, conflict: PlannedArray): string {
  if (conflict.code === "E_EXISTS") {
    return `Cannot create '${file}': it already exists (use --force to replace it)`;
  }
  if (conflict.reason === "a folder is in the way") {
    return `Cannot create '${file}': it is a folder`;
  }
  if (!conflict.replaceable) {
    return `Cannot create '${file}': ${conflict.reason ?? "something is in the way"}`;
  }
  return `Cannot create '${file}': ${conflict.reason} (use --force to replace it)`;
}
