/**
 * `validate`: schema and semantic checks of manifests; touches nothing, and looks at neither
 * free space nor existing files.
 *
 * @module
 */

import { EXIT, type ExitCode, NpyallocError } from "../errors.ts";
import { loadManifest, ManifestError } from "../manifest/mod.ts";
import type { LoadedManifest } from "../manifest/types.ts";
import { type EngineDeps, say } from "./deps.ts";
import { CHECK_DEFAULTS, type CheckSettings, checkVars, positiveInteger } from "./settings.ts";

/** What `validate` found of one manifest. */
export interface ValidatedManifest {
  readonly file: string;
  /** The manifest, or `null` when it is invalid. */
  readonly manifest: LoadedManifest | null;
  /** Its problems, when it is invalid. */
  readonly error: ManifestError | null;
}

/** What `validate` did. */
export interface ValidateResult {
  /** 0 every manifest is valid; 2 some is not; 130 interrupted. */
  readonly exitCode: ExitCode;
  readonly manifests: readonly ValidatedManifest[];
}

/**
 * Loads each manifest and reports its problems; touches nothing.
 *
 * @param given The settings (`manifests` at least).
 * @param deps Platform, environment, signal, messages.
 * @returns Per manifest, its arrays or its problems.
 * @throws {NpyallocError} `E_USAGE` for settings that cannot work; `E_INTERRUPTED` when the
 *   signal aborts the reading of a manifest.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { loadPlatform } from "../platform/mod.ts";
 * import { validateManifests } from "./validate.ts";
 * const dir = mkdtempSync(join(tmpdir(), "npyalloc-example-"));
 * writeFileSync(join(dir, "m.yaml"), "version: 1\narrays:\n  - { path: a.npy, shape: [-1] }\n");
 * const deps = { platform: await loadPlatform(), env: {} };
 * const result = await validateManifests({ manifests: [join(dir, "m.yaml")] }, deps);
 * assert.equal(result.exitCode, 2);
 * rmSync(dir, { recursive: true });
 * ```
 */
export async function validateManifests(
  given: Partial<CheckSettings> & Pick<CheckSettings, "manifests">,
  deps: EngineDeps,
): Promise<ValidateResult> {
  const settings: CheckSettings = { ...CHECK_DEFAULTS, ...given };
  positiveInteger("max arrays", settings.maxArrays);
  checkVars(settings.vars);
  const manifests: ValidatedManifest[] = [];
  for (const file of settings.manifests) {
    try {
      const manifest = await loadManifest(file, {
        vars: settings.vars,
        env: deps.env,
        allowOutsideRoot: settings.allowOutsideRoot,
        maxArrays: settings.maxArrays,
        platform: deps.platform,
        ...(deps.signal === undefined ? {} : { signal: deps.signal }),
      });
      manifests.push({ file, manifest, error: null });
    } catch (err) {
      if (deps.signal?.aborted) throw interrupted(err);
      if (!(err instanceof ManifestError)) throw err;
      say(deps, err.message, true);
      manifests.push({ file, manifest: null, error: err });
    }
  }
  return {
    exitCode: manifests.every((m) => m.error === null) ? EXIT.ok : EXIT.usage,
    manifests,
  };
}

/** The error of a command stopped by the signal. */
export function interrupted(cause: unknown): NpyallocError {
  return new NpyallocError("E_INTERRUPTED", "Interrupted by a signal", { cause });
}
