/**
 * The Bun adapter: `fallocate` and `linkat` from glibc through `bun:ffi`.
 *
 * `bun:ffi` is imported by a specifier held in a variable so that `deno
 * check` and bundlers for other runtimes never try to resolve it, and it is
 * described by the tiny {@linkcode BunFfi} interface below instead of Bun's
 * own types. The library is opened on first use; when it cannot be opened (no
 * glibc), reservations answer `"unsupported"` and there is no file linker.
 *
 * @module
 */

import { type Libc, libcPlatform, type Platform } from "./platform.ts";

/** The few parts of `bun:ffi` this adapter uses. */
interface BunFfi {
  dlopen(
    path: string,
    symbols: Record<string, { args: readonly number[]; returns: number }>,
  ): { symbols: Record<string, (...args: unknown[]) => unknown> };
  FFIType: { i32: number; i64: number; u64: number; ptr: number };
  read: { i32(ptr: unknown, byteOffset: number): number };
  ptr(view: Uint8Array): number;
}

/** The `Bun` global, reduced to what is read here. */
interface BunGlobal {
  version: string;
}

/** glibc's soname; its `fallocate` takes a 64-bit `off_t` on x86-64 and aarch64. */
const LIBC = "libc.so.6";

function openLibc(ffi: BunFfi | null): Libc | null {
  if (ffi === null) return null;
  try {
    const { i32, i64, u64, ptr } = ffi.FFIType;
    const { symbols } = ffi.dlopen(LIBC, {
      fallocate: { args: [i32, i32, i64, i64], returns: i32 },
      linkat: { args: [i32, ptr, i32, ptr, i32], returns: i32 },
      pwrite: { args: [i32, ptr, u64, i64], returns: i64 },
      access: { args: [ptr, i32], returns: i32 },
      fcntl: { args: [i32, i32, i32], returns: i32 },
      __errno_location: { args: [], returns: ptr },
    });
    const { fallocate, linkat, pwrite, access, fcntl } = symbols;
    const errnoLocation = symbols.__errno_location;
    if (
      fallocate === undefined || linkat === undefined || pwrite === undefined ||
      access === undefined || fcntl === undefined || errnoLocation === undefined
    ) {
      return null;
    }
    return {
      fallocate: (fd, mode, offset, length) => Number(fallocate(fd, mode, offset, length)),
      // Bun passes a typed array given for a `ptr` argument as a pointer to its bytes.
      linkat: (oldDir, oldPath, newDir, newPath, flags) =>
        Number(linkat(oldDir, oldPath, newDir, newPath, flags)),
      pwrite: (fd, bytes, count, offset) => Number(pwrite(fd, bytes, count, offset)),
      access: (path, mode) => Number(access(path, mode)),
      fcntl: (fd, cmd, arg) => Number(fcntl(fd, cmd, arg)),
      address: (bytes) => BigInt(ffi.ptr(bytes)),
      errno: () => {
        const p = errnoLocation();
        return p === null || p === 0 ? 0 : ffi.read.i32(p, 0);
      },
    };
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
  return libcPlatform(`bun ${bun.version}`, () => openLibc(ffi));
}
