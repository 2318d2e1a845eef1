/**
 * The few Deno APIs the Deno adapter uses, declared by hand so that the
 * adapter also type-checks outside Deno (the Node.js build) and depends on
 * nothing it does not call.
 */

/** A function bound by `Deno.dlopen`, as the adapter calls it. */
export type DenoForeignFunction = (...args: unknown[]) => unknown;

/** The subset of the `Deno` namespace the adapter calls. */
export interface DenoApi {
  readonly version: { readonly deno: string };
  readonly permissions: { querySync(descriptor: { name: "ffi" }): { readonly state: string } };
  dlopen(
    path: string,
    symbols: Record<string, { parameters: string[]; result: string; nonblocking?: boolean }>,
  ): { readonly symbols: Record<string, DenoForeignFunction | undefined> };
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
