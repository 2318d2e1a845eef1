/**
 * `verify`: do the files on disk match the manifest? Reads headers and sizes; with `deep`,
 * streams every file and checks that each element holds the declared fill. Writes nothing.
 *
 * @module
 */

import { EXIT, type ExitCode } from "../errors.ts";
import { loadManifest, ManifestError } from "../manifest/mod.ts";
import { classifyTargets } from "../plan/targets.ts";
import { findDataMismatch } from "../run/verify_data.ts";
import { type EngineDeps, say } from "./deps.ts";
import { mathProblem } from "./_math.ts";
import { CHECK_DEFAULTS, type CheckSettings, checkVars } from "./settings.ts";
import { interrupted } from "./validate.ts";

/** One array that differs from the manifest. */
export interface Difference {
  /** The array's path, as declared. */
  readonly path: string;
  /** How it differs: `missing`, a header difference, or where the data differs. */
  readonly problem: string;
}

/** What `verify` found. */
export interface VerifyResult {
  /** 0 the disk matches; 1 some array differs; 2 invalid manifest; 130 interrupted. */
  readonly exitCode: ExitCode;
  /** Arrays checked. */
  readonly arrays: number;
  readonly differences: readonly Difference[];
}

/**
 * Checks every array a manifest declares against the disk.
 *
 * @param given The settings (`manifests`: exactly one).
 * @param deps Platform, environment, signal, messages.
 * @returns The differences found.
 * @throws {NpyallocError} `E_INTERRUPTED` when the signal aborts; OS errors reading files.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { loadPlatform } from "../platform/mod.ts";
 * import { verifyManifest } from "./verify.ts";
 * const dir = mkdtempSync(join(tmpdir(), "npyalloc-example-"));
 * writeFileSync(join(dir, "m.yaml"), "version: 1\narrays:\n  - { path: a.npy, shape: [4] }\n");
 * const deps = { platform: await loadPlatform(), env: {} };
 * const result = await verifyManifest({ manifests: [join(dir, "m.yaml")] }, deps);
 * assert.deepEqual(result.differences, [{ path: "a.npy", problem: "missing" }]);
 * rmSync(dir, { recursive: true });
 * ```
 */
export async function verifyManifest(
  given: Partial<CheckSettings> & Pick<CheckSettings, "manifests">,
  deps: EngineDeps,
): Promise<VerifyResult> {
  const settings: CheckSettings = { ...CHECK_DEFAULTS, ...given };
  checkVars(settings.vars);
  const file = settings.manifests[0] as string;
  let manifest;
  try {
    manifest = await loadManifest(file, {
      vars: settings.vars,
      env: deps.env,
      allowOutsideRoot: settings.allowOutsideRoot,
      maxArrays: settings.maxArrays,
      platform: deps.platform,
      ...(deps.signal === undefined ? {} : { signal: deps.signal }),
    });
  } catch (err) {
    if (deps.signal?.aborted) throw interrupted(err);
    if (!(err instanceof ManifestError)) throw err;
    say(deps, err.message, true);
    return { exitCode: EXIT.usage, arrays: 0, differences: [] };
  }
  const noMath = settings.deep ? mathProblem(manifest.arrays, deps.platform) : null;
  if (noMath !== null) {
    say(deps, `npyalloc: ${noMath.message.replace("Cannot generate", "Cannot check")}`, true);
    return { exitCode: EXIT.usage, arrays: 0, differences: [] };
  }
  const plan = await classifyTargets(manifest.arrays, { force: false, fs: deps.platform });
  const differences: Difference[] = [];
  for (const planned of plan) {
    if (deps.signal?.aborted) throw interrupted(deps.signal.reason);
    let problem: string | null = null;
    if (planned.action === "create") {
      problem = "missing";
    } else if (planned.action !== "unchanged") {
      problem = planned.reason ?? "differs";
    } else if (settings.deep) {
      const mismatch = await findDataMismatch(
        deps.platform,
        planned.array.target,
        planned.array.layout,
        deps.signal,
        planned.array.generated,
        deps.platform.math(),
      );
      if (mismatch !== null) {
        problem =
          `data differs from the fill at element ${mismatch.element} (byte ${mismatch.offset})`;
      }
    }
    if (problem !== null) differences.push({ path: planned.array.path, problem });
  }
  return {
    exitCode: differences.length === 0 ? EXIT.ok : EXIT.failed,
    arrays: plan.length,
    differences,
  };
}
