/**
 * glibc's libm (`exp`, `log1p`, `log1pf`) bound through the runtime's FFI, for the normal
 * generators in tests: `Deno.dlopen` on Deno, `bun:ffi` on Bun.
 */
import type { MathLib } from "../../src/generate/math.ts";

const LIBM = "libm.so.6";

interface BunFfi {
  dlopen(
    path: string,
    symbols: Record<string, { args: number[]; returns: number }>,
  ): { symbols: Record<string, (x: number) => number> };
  FFIType: { f64: number; f32: number };
}

async function bind(): Promise<MathLib> {
  const deno = (globalThis as { Deno?: typeof Deno }).Deno;
  if (deno !== undefined) {
    const lib = deno.dlopen(
      LIBM,
      {
        exp: { parameters: ["f64"], result: "f64" },
        log1p: { parameters: ["f64"], result: "f64" },
        log1pf: { parameters: ["f32"], result: "f32" },
      } as const,
    );
    return { exp: lib.symbols.exp, log1p: lib.symbols.log1p, log1pf: lib.symbols.log1pf };
  }
  if ((globalThis as { Bun?: unknown }).Bun !== undefined) {
    // A variable specifier, so that deno check does not try to resolve bun:ffi.
    const specifier = "bun:ffi";
    const ffi = (await import(specifier)) as BunFfi;
    const { f64, f32 } = ffi.FFIType;
    const lib = ffi.dlopen(LIBM, {
      exp: { args: [f64], returns: f64 },
      log1p: { args: [f64], returns: f64 },
      log1pf: { args: [f32], returns: f32 },
    });
    const s = lib.symbols;
    return { exp: s.exp!, log1p: s.log1p!, log1pf: s.log1pf! };
  }
  throw new Error("libm can be bound only on Deno and Bun");
}

/** glibc's libm, bound once. */
export const libm: MathLib = await bind();

/** JavaScript's own functions in place of libm (float32 through a double): not exact. */
export const jsMath: MathLib = {
  exp: Math.exp,
  log1p: Math.log1p,
  log1pf: (x) => Math.fround(Math.log1p(x)),
};
