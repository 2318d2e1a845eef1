/** Writing manifests into throwaway folders and reading their problems back. */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { loadManifest, type LoadOptions, ManifestError } from "../../src/manifest/mod.ts";
import type { LoadedManifest } from "../../src/manifest/types.ts";
import { tempDir } from "./temp.ts";

/**
 * Runs `fn` with a manifest written to a fresh temp folder, then removes the folder.
 *
 * @param text The manifest's YAML, or lines of it.
 * @param fn Gets the manifest path and its folder.
 * @returns What `fn` returns.
 */
export async function withManifest<T>(
  text: string | string[],
  fn: (file: string, dir: string) => Promise<T> | T,
): Promise<T> {
  const { dir, remove } = tempDir("manifest");
  try {
    const file = path.join(dir, "m.yaml");
    fs.writeFileSync(file, Array.isArray(text) ? text.join("\n") + "\n" : text);
    return await fn(file, dir);
  } finally {
    remove();
  }
}

/**
 * Loads a manifest that must be invalid and returns its problems as
 * `line:column jsonPath: message` (the file name left out).
 *
 * @param file The manifest.
 * @param options Load options.
 * @returns One string per problem, in the error's order.
 */
export async function problemsOf(file: string, options: LoadOptions = {}): Promise<string[]> {
  try {
    await loadManifest(file, options);
  } catch (err) {
    assert.ok(err instanceof ManifestError, `expected a ManifestError, got ${err}`);
    assert.equal(err.code, "E_MANIFEST");
    for (const problem of err.problems) assert.equal(problem.location.file, file);
    return err.problems.map((p) =>
      `${p.location.line}:${p.location.column} ${p.jsonPath}: ${p.message}`
    );
  }
  assert.fail("the manifest loaded without problems");
}

/**
 * Loads manifest text and returns its problems (see {@linkcode problemsOf}).
 *
 * @param text The manifest's YAML, or lines of it.
 * @param options Load options.
 * @returns One string per problem.
 */
export function problemsOfText(
  text: string | string[],
  options: LoadOptions = {},
): Promise<string[]> {
  return withManifest(text, (file) => problemsOf(file, options));
}

/**
 * Loads manifest text that must be valid.
 *
 * @param text The manifest's YAML, or lines of it.
 * @param options Load options.
 * @returns The loaded manifest (its folder is already removed).
 */
export function loadText(
  text: string | string[],
  options: LoadOptions = {},
): Promise<LoadedManifest> {
  return withManifest(text, (file) => loadManifest(file, options));
}
