/**
 * The Node.js adapter. Node has no FFI, so `fallocate` is out of reach and
 * every reservation falls back to writing zeros.
 *
 * @module
 */

import process from "node:process";
import { checkPreallocateArgs, type Platform } from "./platform.ts";

/**
 * Creates the Node.js {@linkcode Platform}: `preallocate` always answers
 * `"unsupported"` once its arguments are checked.
 *
 * @returns The platform, e.g. with `runtime` `"node 20.20.2"`.
 */
export function createNodePlatform(): Platform {
  return {
    runtime: `node ${process.versions.node}`,
    preallocate(fd: number, offset: bigint, length: bigint): "unsupported" {
      checkPreallocateArgs(fd, offset, length);
      return "unsupported";
    },
  };
}
