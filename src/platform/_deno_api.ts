/**
 * The few Deno APIs the Deno adapter uses, declared by hand so that the
 * adapter also type-checks outside Deno (the Node.js build) and depends on
 * nothing it does not call.
 */

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
    readonly symbols: {
      fallocate(fd: number, mode: number, offset: bigint, length: bigint): number;
      pwrite(fd: number, bytes: Uint8Array, count: number, offset: bigint): number | bigint;
      access(path: Uint8Array, mode: number): number;
      linkat(
        oldDir: number,
        oldPath: Uint8Array,
        newDir: number,
        newPath: Uint8Array,
        flags: number,
      ): number;
      __errno_location(): unknown;
    };
  };
  readonly UnsafePointerView: new (pointer: unknown) => { getInt32(): number };
}

/** The running Deno's API (call only on Deno). */
export function denoApi(): DenoApi {
  return (globalThis as unknown as { Deno: DenoApi }).Deno;
}
