/**
 * The Node.js adapter: the same libc platform as the Deno and Bun adapters
 * (`fallocate`, `O_TMPFILE` + `linkat`, `pwrite`, `O_DIRECT`), through koffi,
 * an FFI package whose prebuilt binaries come from the npm registry.
 *
 * How it works: {@linkcode LIBC} is a table of C signatures, one line a
 * symbol; {@linkcode bindLibrary} turns each line into a koffi function, and
 * the table's types give each function its TypeScript signature, so the
 * compiler checks the table against `Libc`. koffi is imported when the
 * platform is created (never for `--version`, `inspect` or `validate`), and
 * libc is opened on first use. Where either fails (no koffi binary for this
 * OS or CPU, an install without optional dependencies, no glibc), the
 * platform is the portable one: reservations answer `"unsupported"` and the
 * caller writes zeros, files get temporary names, writes go through
 * `node:fs`. `errno` is read through koffi right after each call, on the
 * calling thread, as in the other adapters.
 *
 * @module
 */

import process from "node:process";
import { type Libc, libcPlatform, type Platform } from "./platform.ts";

/** koffi's module, as far as this adapter uses it. */
interface Koffi {
  load(path: string): {
    func(
      name: string,
      result: string,
      parameters: readonly string[],
    ): (...args: never[]) => unknown;
  };
  /** The calling thread's `errno`. */
  errno(): number;
  /** The address of the first byte of a typed array. */
  address(value: Uint8Array): bigint;
}

/**
 * The C types the tables use, and the JavaScript values they stand for in a
 * call through koffi. koffi takes a number or a bigint for a 64-bit integer,
 * and gives one back as a number below 2^53 (every byte count), a bigint above.
 */
interface CTypes {
  /** `int`. */
  int: number;
  /** `off_t`: 64 bits on x86-64 and aarch64 Linux. */
  int64_t: bigint;
  /** `size_t`. */
  size_t: number;
  /** `ssize_t`: as a result, a byte count or -1, so always a number. */
  intptr_t: number;
  /** Any pointer: koffi passes the address of the typed array's bytes, without a copy. */
  "void *": Uint8Array;
  /** `double`, for libm. */
  double: number;
}

/** A C function's signature: its result type and its parameter types. */
type Signature = readonly [result: keyof CTypes, parameters: readonly (keyof CTypes)[]];

/** The JavaScript values of a list of C parameter types. */
type Arguments<P extends Signature[1]> = {
  -readonly [I in keyof P]: P[I] extends keyof CTypes ? CTypes[P[I]] : never;
};

/** The JavaScript signature of a C function of signature `S`, called through koffi. */
type Bound<S extends Signature> = (...args: Arguments<S[1]>) => CTypes[S[0]];

/** The functions a table of signatures binds to, by name. */
type BoundTable<T extends Record<string, Signature>> = { [K in keyof T]: Bound<T[K]> };

/** glibc's soname; its `fallocate` and `pwrite` take a 64-bit `off_t` on x86-64 and aarch64. */
const LIBC_SONAME = "libc.so.6";

/** The libc symbols the adapter binds, with their C signatures: one line a symbol. */
const LIBC = {
  fallocate: ["int", ["int", "int", "int64_t", "int64_t"]],
  linkat: ["int", ["int", "void *", "int", "void *", "int"]],
  pwrite: ["intptr_t", ["int", "void *", "size_t", "int64_t"]],
  access: ["int", ["void *", "int"]],
  fcntl: ["int", ["int", "int", "int"]],
} as const satisfies Record<string, Signature>;

/**
 * Opens a shared library and binds every symbol of `table` in it.
 *
 * @param koffi The koffi module.
 * @param soname The library, e.g. `"libc.so.6"`.
 * @param table Symbol names and their C signatures.
 * @returns The bound functions, by name.
 * @throws {Error} The library cannot be opened, or lacks one of the symbols.
 */
function bindLibrary<T extends Record<string, Signature>>(
  koffi: Koffi,
  soname: string,
  table: T,
): BoundTable<T> {
  const library = koffi.load(soname);
  const bound: Record<string, unknown> = {};
  for (const [name, [result, parameters]] of Object.entries(table)) {
    bound[name] = library.func(name, result, parameters);
  }
  return bound as BoundTable<T>;
}

/** Binds libc, or `null` when koffi or glibc is missing. */
function openLibc(koffi: Koffi | null): Libc | null {
  if (koffi === null) return null;
  try {
    return {
      ...bindLibrary(koffi, LIBC_SONAME, LIBC),
      address: (bytes) => koffi.address(bytes),
      errno: () => koffi.errno(),
    };
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
 * Creates the Node.js {@linkcode Platform}: the libc platform through koffi,
 * or, where koffi cannot be loaded, one whose `preallocate` answers
 * `"unsupported"` and which has no file linker, `pwrite` or direct I/O.
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
  return libcPlatform(`node ${process.versions.node}`, () => openLibc(koffi));
}
