/**
 * The Node.js adapter. Without an FFI, the platform works through `node:fs` alone: no
 * `fallocate` (reservations write zeros), no unnamed files (files are written under a
 * temporary name), no `flock`.
 *
 * @module
 */

import process from "node:process";
import { systemPlatform } from "./_system.ts";
import type { Platform } from "./platform.ts";

/**
 * Creates the Node.js {@linkcode Platform}.
 *
 * @returns The platform, e.g. with `runtime` `"node 20.20.2"`.
 */
export function createNodePlatform(): Platform {
  return systemPlatform(`node ${process.versions.node}`, () => null);
}
