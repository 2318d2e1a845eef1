/**
 * The Deno adapter: the libc functions of `_libc.ts` through `Deno.dlopen`.
 *
 * The libraries are opened on first use, not at load time, so that a command that never
 * reserves or links needs no FFI permission. Without `--allow-ffi` (the permission is queried,
 * never prompted for) or without a glibc to open, the platform works through `node:fs` alone.
 *
 * @module
 */

import { denoApi } from "./_deno_api.ts";
import { type Libc, libcOf, SIGNATURES } from "./_libc.ts";
import { systemPlatform } from "./_system.ts";
import type { Platform } from "./platform.ts";

/** The table of `_libc.ts`, split by library, in `Deno.dlopen`'s terms (which it shares). */
function symbolsOf(
  library: string,
): Record<string, { parameters: string[]; result: string; nonblocking?: boolean }> {
  const out: Record<string, { parameters: string[]; result: string }> = {};
  for (const [name, signature] of Object.entries(SIGNATURES)) {
    if (signature.library === library) {
      out[name] = { parameters: [...signature.parameters], result: signature.result };
    }
  }
  return out;
}

function openLibc(): Libc | null {
  const Deno = denoApi();
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
    const c = Deno.dlopen("libc.so.6", symbolsOf("libc.so.6")).symbols;
    const m = Deno.dlopen("libm.so.6", symbolsOf("libm.so.6")).symbols;
    // pwrite again, run on a thread of Deno's so that a large write does not hold up the others.
    const threaded = Deno.dlopen("libc.so.6", {
      pwrite: { ...symbolsOf("libc.so.6").pwrite!, nonblocking: true },
    }).symbols.pwrite;
    const errnoLocation = c.__errno_location;
    if (errnoLocation === undefined || threaded === undefined) return null;
    return libcOf(
      { ...c, ...m },
      () => {
        const p = errnoLocation();
        return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
      },
      (bytes) => BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes))),
      async (fd, bytes, count, offset) => Number(await threaded(fd, bytes, count, offset)),
    );
  } catch {
    // No permission, no glibc (musl, macOS) or a missing symbol.
    return null;
  }
}

/**
 * Creates the Deno {@linkcode Platform}.
 *
 * @returns The platform, e.g. with `runtime` `"deno 2.9.6"`.
 */
export function createDenoPlatform(): Platform {
  return systemPlatform(`deno ${denoApi().version.deno}`, openLibc);
}
