/**
 * The few Deno APIs the Deno adapter uses, declared by hand so that the
 * adapter also type-checks outside Deno (the Node.js build) and depends on
 * nothing it does not call.
 */

import type { Libc } from "./platform.ts";

/** `Deno.dlopen`'s symbol definitions, as the adapter uses them. */
export interface DenoForeignFunction {
  readonly parameters: readonly string[];
  readonly result: string;
}

/** The subset of the `Deno` namespace the adapter calls. */
export interface DenoApi {
  readonly version: { readonly deno: string };
  readonly permissions: { querySync(descriptor: { name: "ffi" }): { readonly state: string } };
  dlopen(path: string, symbols: Record<string, DenoForeignFunction>): {
    // The libc signatures, but for what Deno returns of an `isize` and a pointer.
    readonly symbols: Omit<Libc, "errno" | "pwrite" | "address"> & {
      pwrite(fd: number, bytes: Uint8Array, count: number, offset: bigint): number | bigint;
      __errno_location(): unknown;
    };
  };
  readonly UnsafePointerView: new (pointer: unknown) => { getInt32(): number };
  readonly UnsafePointer: {
    of(bytes: Uint8Array): unknown;
    value(pointer: unknown): number | bigint;
  };
}

/** The running Deno's API (call only on Deno). */
export function denoApi(): DenoApi {
  return (globalThis as unknown as { Deno: DenoApi }).Deno;
}
