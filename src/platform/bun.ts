/**
 * The Bun adapter: the libc functions of `_libc.ts` through `bun:ffi`.
 *
 * `bun:ffi` is imported by a specifier held in a variable so that `deno check` and bundlers for
 * other runtimes never try to resolve it, and it is described by the tiny {@linkcode BunFfi}
 * interface below instead of Bun's own types. The libraries are opened on first use; when they
 * cannot be opened (no glibc), the platform works through `node:fs` alone.
 *
 * @module
 */

import { type CType, type Libc, libcOf, SIGNATURES } from "./_libc.ts";
import { systemPlatform } from "./_system.ts";
import type { Platform } from "./platform.ts";

/** The few parts of `bun:ffi` this adapter uses. */
interface BunFfi {
  dlopen(
    path: string,
    symbols: Record<string, { args: readonly number[]; returns: number }>,
  ): { symbols: Record<string, ((...args: unknown[]) => unknown) | undefined> };
  FFIType: Record<"i32" | "i64" | "u64" | "ptr" | "f32" | "f64", number>;
  read: { i32(ptr: unknown, byteOffset: number): number };
  ptr(view: Uint8Array): number;
}

/** The `Bun` global, reduced to what is read here. */
interface BunGlobal {
  version: string;
}

function openLibc(ffi: BunFfi | null): Libc | null {
  if (ffi === null) return null;
  try {
    const t = ffi.FFIType;
    // Bun passes a typed array given for a `ptr` argument as a pointer to its bytes.
    const types: Record<CType, number> = {
      i32: t.i32,
      i64: t.i64,
      usize: t.u64,
      isize: t.i64,
      buffer: t.ptr,
      pointer: t.ptr,
      f32: t.f32,
      f64: t.f64,
    };
    const bound: Record<string, ((...args: unknown[]) => unknown) | undefined> = {};
    for (const library of ["libc.so.6", "libm.so.6"]) {
      const wanted: Record<string, { args: number[]; returns: number }> = {};
      for (const [name, s] of Object.entries(SIGNATURES)) {
        if (s.library === library) {
          wanted[name] = { args: s.parameters.map((p) => types[p]), returns: types[s.result] };
        }
      }
      Object.assign(bound, ffi.dlopen(library, wanted).symbols);
    }
    const errnoLocation = bound.__errno_location;
    if (errnoLocation === undefined) return null;
    return libcOf(
      bound,
      () => {
        const p = errnoLocation();
        return p === null || p === 0 ? 0 : ffi.read.i32(p, 0);
      },
      (bytes) => BigInt(ffi.ptr(bytes)),
    );
  } catch {
    // No glibc (musl, macOS) or a missing symbol.
    return null;
  }
}

/**
 * Creates the Bun {@linkcode Platform}. Call it only on Bun.
 *
 * @returns The platform, e.g. with `runtime` `"bun 1.4.5"`.
 */
export async function createBunPlatform(): Promise<Platform> {
  const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
  const specifier = "bun:ffi";
  let ffi: BunFfi | null;
  try {
    ffi = (await import(specifier)) as BunFfi;
  } catch {
    ffi = null;
  }
  return systemPlatform(`bun ${bun.version}`, () => openLibc(ffi));
}
