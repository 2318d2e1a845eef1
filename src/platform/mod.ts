/**
 * Picks the {@linkcode Platform} adapter of the runtime this code runs on.
 * This is the only place in npyalloc that asks which runtime that is; the
 * core receives a `Platform` and never asks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadPlatform } from "./mod.ts";
 * const platform = await loadPlatform();
 * assert.ok(/^(deno|bun|node) /.test(platform.runtime));
 * ```
 *
 * @module
 */

import process from "node:process";
import type { Platform } from "./platform.ts";

export type * from "./platform.ts";
export { type FilesystemKind, filesystemKind } from "./filesystems.ts";

let loaded: Promise<Platform> | undefined;

/**
 * Loads the adapter of the current runtime (once per thread): Deno, then Bun (both of which
 * also set `process.versions.node`), then Node.js.
 *
 * @returns The platform of the current runtime.
 * @throws {Error} On a runtime that is none of Deno, Bun and Node.js.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadPlatform } from "./mod.ts";
 * const platform = await loadPlatform();
 * assert.equal(typeof platform.capabilities().pinned, "boolean");
 * ```
 */
export function loadPlatform(): Promise<Platform> {
  return loaded ??= pick();
}

async function pick(): Promise<Platform> {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  if (typeof g.Deno === "object" && g.Deno !== null) {
    return (await import("./deno.ts")).createDenoPlatform();
  }
  if (typeof g.Bun === "object" && g.Bun !== null) {
    return await (await import("./bun.ts")).createBunPlatform();
  }
  if (typeof process?.versions?.node === "string") {
    return await (await import("./node.ts")).createNodePlatform();
  }
  throw new Error("Cannot load a platform: this runtime is none of Deno, Bun and Node.js");
}
