/**
 * Manifest loading: a YAML manifest in, every array it declares out,
 * expanded, interpolated, validated and laid out, or a {@linkcode ManifestError}
 * listing every problem with its `file:line:column` and JSON path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import fs from "node:fs";
 * import os from "node:os";
 * import path from "node:path";
 * import { loadManifest, ManifestError } from "./mod.ts";
 * const dir = fs.mkdtempSync(path.join(os.tmpdir(), "npyalloc-doc-"));
 * const file = path.join(dir, "data.yaml");
 * fs.writeFileSync(file, "version: 1\narrays:\n  - path: x.npy\n    shape: [3, -4]\n");
 * try {
 *   await loadManifest(file);
 * } catch (err) {
 *   assert.ok(err instanceof ManifestError);
 *   assert.ok((err as ManifestError).problems[0]?.jsonPath === "arrays[0].shape[1]");
 * }
 * fs.rmSync(dir, { recursive: true });
 * ```
 *
 * @module
 */

export {
  loadManifest,
  type LoadOptions,
  parseManifest,
  type ParseOptions,
  STDIN_NAME,
} from "./load.ts";
export { folderOf, type PathQueries, realPlace, type RealTarget, RootGuard } from "./paths.ts";
export { formatProblem, ManifestError } from "./problems.ts";
export { MANIFEST_SCHEMA } from "./schema.ts";
export type { LoadedManifest, ManifestArray, ManifestProblem, SourceLocation } from "./types.ts";
