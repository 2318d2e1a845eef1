/**
 * The Deno adapter: `fallocate` and `linkat` from glibc through `Deno.dlopen`.
 *
 * The library is opened on first use, not at load time, so that a run that
 * never reserves or links needs no FFI permission. Without `--allow-ffi`
 * (the permission is queried, never prompted for) or without a glibc to open,
 * reservations answer `"unsupported"` and the caller writes zeros.
 *
 * @module
 */

import { denoApi } from "./_deno_api.ts";
import { type Libc, libcPlatform, type Platform } from "./platform.ts";

/** glibc's soname; its `fallocate` takes a 64-bit `off_t` on x86-64 and aarch64. */
const LIBC = "libc.so.6";

const SYMBOLS = {
  fallocate: { parameters: ["i32", "i32", "i64", "i64"], result: "i32" },
  linkat: { parameters: ["i32", "buffer", "i32", "buffer", "i32"], result: "i32" },
  access: { parameters: ["buffer", "i32"], result: "i32" },
  pwrite: { parameters: ["i32", "buffer", "usize", "i64"], result: "isize" },
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

function openLibc(): Libc | null {
  const Deno = denoApi();
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
    const { symbols } = Deno.dlopen(LIBC, SYMBOLS);
    return {
      fallocate: (fd, mode, offset, length) => symbols.fallocate(fd, mode, offset, length),
      linkat: (oldDir, oldPath, newDir, newPath, flags) =>
        symbols.linkat(oldDir, oldPath, newDir, newPath, flags),
      pwrite: (fd, bytes, count, offset) => Number(symbols.pwrite(fd, bytes, count, offset)),
      access: (path, mode) => symbols.access(path, mode),
      fcntl: (fd, cmd, arg) => symbols.fcntl(fd, cmd, arg),
      address: (bytes) => BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes))),
      errno: () => {
        const p = symbols.__errno_location();
        return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
      },
    };
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
  return libcPlatform(`deno ${denoApi().version.deno}`, openLibc);
}
