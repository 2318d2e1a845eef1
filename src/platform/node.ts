/**
 * The Node.js adapter: the libc functions of `_libc.ts` through koffi, an FFI package whose
 * prebuilt binaries come from the npm registry.
 *
 * How it works: each signature of the shared table is turned into koffi's C type names and
 * bound; `errno` is read through koffi right after each call, on the calling thread, as in the
 * other adapters. koffi is imported when the platform is created (never for `--version`), and
 * libc is opened on first use. Where either fails (no koffi binary for this OS or CPU, an
 * install without optional dependencies, no glibc), the platform works through `node:fs` alone:
 * reservations write zeros, files get temporary names.
 *
 * @module
 */

import process from "node:process";
import { type CType, type Libc, libcOf, SIGNATURES } from "./_libc.ts";
import { systemPlatform } from "./_system.ts";
import type { Platform } from "./platform.ts";

/** koffi's module, as far as this adapter uses it. */
interface Koffi {
  load(path: string): {
    func(
      name: string,
      result: string,
      parameters: readonly string[],
    ): (...args: unknown[]) => unknown;
  };
  /** The calling thread's `errno`. */
  errno(): number;
  /** The address of the first byte of a typed array. */
  address(value: Uint8Array): bigint;
}

/**
 * The table's C types in koffi's names. A pointer parameter takes a `Uint8Array`, whose bytes
 * koffi passes without a copy.
 */
const KOFFI_TYPES: Readonly<Record<CType, string>> = {
  i32: "int",
  i64: "int64_t",
  usize: "size_t",
  isize: "intptr_t",
  buffer: "void *",
  pointer: "void *",
  f32: "float",
  f64: "double",
};

/** Binds libc and libm, or `null` when koffi or glibc is missing. */
function openLibc(koffi: Koffi | null): Libc | null {
  if (koffi === null) return null;
  try {
    const libraries = new Map<string, ReturnType<Koffi["load"]>>();
    const bound: Record<string, (...args: unknown[]) => unknown> = {};
    for (const [name, s] of Object.entries(SIGNATURES)) {
      let library = libraries.get(s.library);
      if (library === undefined) {
        library = koffi.load(s.library);
        libraries.set(s.library, library);
      }
      bound[name] = library.func(
        name,
        KOFFI_TYPES[s.result],
        s.parameters.map((p) => KOFFI_TYPES[p]),
      );
    }
    return libcOf(bound, () => koffi.errno(), (bytes) => koffi.address(bytes));
  } catch {
    // No glibc (musl, macOS) or a missing symbol.
    return null;
  }
}

/** koffi's module, or `null` when it cannot be loaded here. */
async function importKoffi(): Promise<Koffi | null> {
  try {
    const module = await import("koffi");
    return (module.default ?? module) as unknown as Koffi;
  } catch {
    // No prebuilt binary for this OS, CPU or libc, or the package was left out of the install.
    return null;
  }
}

/**
 * Creates the Node.js {@linkcode Platform}: libc through koffi, or `node:fs` alone where koffi
 * cannot be loaded.
 *
 * @returns The platform, e.g. with `runtime` `"node 20.20.2"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createNodePlatform } from "./node.ts";
 * const platform = await createNodePlatform();
 * assert.match(platform.runtime, /^node \d+\./);
 * ```
 */
export async function createNodePlatform(): Promise<Platform> {
  const koffi = await importKoffi();
  return systemPlatform(`node ${process.versions.node}`, () => openLibc(koffi));
}
