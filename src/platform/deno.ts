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

import fs from "node:fs";
import { denoApi } from "./_deno_api.ts";
import {
  fileLinkerWithLibc,
  type LibcFallocate,
  type LibcLinkat,
  type LibcPwrite,
  type Platform,
  preallocateWithLibc,
  writeAtWithLibc,
} from "./platform.ts";

/** glibc's soname; its `fallocate` takes a 64-bit `off_t` on x86-64 and aarch64. */
const LIBC = "libc.so.6";

const SYMBOLS = {
  fallocate: { parameters: ["i32", "i32", "i64", "i64"], result: "i32" },
  linkat: { parameters: ["i32", "buffer", "i32", "buffer", "i32"], result: "i32" },
  pwrite: { parameters: ["i32", "buffer", "usize", "i64"], result: "isize" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

function openLibc(): (LibcFallocate & LibcLinkat & LibcPwrite) | null {
  const Deno = denoApi();
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
    const { symbols } = Deno.dlopen(LIBC, SYMBOLS);
    return {
      fallocate: (fd, mode, offset, length) => symbols.fallocate(fd, mode, offset, length),
      linkat: (oldDir, oldPath, newDir, newPath, flags) =>
        symbols.linkat(oldDir, oldPath, newDir, newPath, flags),
      pwrite: (fd, bytes, count, offset) => Number(symbols.pwrite(fd, bytes, count, offset)),
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
  let libc: (LibcFallocate & LibcLinkat & LibcPwrite) | null | undefined;
  return {
    runtime: `deno ${denoApi().version.deno}`,
    preallocate(fd: number, offset: bigint, length: bigint) {
      if (libc === undefined) libc = openLibc();
      return preallocateWithLibc(libc, fd, offset, length);
    },
    fileLinker() {
      if (libc === undefined) libc = openLibc();
      return fileLinkerWithLibc(libc);
    },
    writeAt(fd: number, bytes: Uint8Array, position: number) {
      if (libc === undefined) libc = openLibc();
      if (libc === null) return fs.writeSync(fd, bytes, 0, bytes.length, position);
      return writeAtWithLibc(libc, fd, bytes, position);
    },
  };
}
