import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readFileSync,
  readSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { errnoError, mapOsError, NpyallocError } from "../src/errors.ts";
import { loadPlatform } from "../src/platform/mod.ts";
import { createNodePlatform } from "../src/platform/node.ts";
import {
  directIoWithLibc,
  type Libc,
  linkerWithLibc,
  preallocateWithLibc,
  writeAtWithLibc,
} from "../src/platform/_libc.ts";
import { withTempDir } from "./_support/temp.ts";
import { mountSkip, withTmpfs } from "./_support/mounts.ts";

const MiB = 1024 * 1024;
const platform = await loadPlatform();
const hasFfi = /^(deno|bun) /.test(platform.runtime);

const skipTinyFs = mountSkip("a 16 MiB tmpfs");

/** A fake libc answering with the given errnos, then success. */
function fakeLibc(errnos: number[]): Pick<Libc, "fallocate" | "errno"> & { calls: number } {
  let last = 0;
  const libc = {
    calls: 0,
    fallocate() {
      libc.calls++;
      const e = errnos.shift();
      if (e === undefined) return 0;
      last = e;
      return -1;
    },
    errno: () => last,
  };
  return libc;
}

describe("loadPlatform", () => {
  test("names the runtime it runs on", () => {
    assert.match(platform.runtime, /^(deno|bun|node) \d+\.\d+\.\d+/);
    const g = globalThis as { Deno?: unknown; Bun?: unknown };
    if (g.Deno !== undefined) assert.match(platform.runtime, /^deno /);
    else if (g.Bun !== undefined) assert.match(platform.runtime, /^bun /);
  });
});

describe("preallocate", () => {
  test("reserves real blocks and grows the file on Deno and Bun", async () => {
    await withTempDir("platform", (dir) => {
      const path = join(dir, "a.bin");
      const fd = openSync(path, "w+");
      try {
        const result = platform.preallocate(fd, 0n, BigInt(8 * MiB));
        assert.equal(result, hasFfi ? "fallocate" : "unsupported");
        if (!hasFfi) return;
        const st = fstatSync(fd);
        assert.equal(st.size, 8 * MiB);
        assert.ok(st.blocks * 512 >= 8 * MiB, `only ${st.blocks * 512} bytes allocated`);
        const head = new Uint8Array(4096).fill(9);
        readSync(fd, head, 0, head.length, 4 * MiB);
        assert.ok(head.every((b) => b === 0), "reserved range must read as zeros");
      } finally {
        closeSync(fd);
      }
    });
  });

  test(
    "reserves a range past the end and keeps existing bytes",
    { skip: !hasFfi && "no FFI" },
    async () => {
      await withTempDir("platform", (dir) => {
        const path = join(dir, "b.bin");
        writeFileSync(path, new Uint8Array([1, 2, 3, 4, 5]));
        const fd = openSync(path, "r+");
        try {
          assert.equal(platform.preallocate(fd, 128n, BigInt(MiB)), "fallocate");
          const st = fstatSync(fd);
          assert.equal(st.size, 128 + MiB);
          assert.ok(st.blocks * 512 >= MiB);
          const head = new Uint8Array(8);
          readSync(fd, head, 0, 8, 0);
          assert.deepEqual([...head], [1, 2, 3, 4, 5, 0, 0, 0]);
        } finally {
          closeSync(fd);
        }
      });
    },
  );

  test("a zero length reserves nothing", async () => {
    await withTempDir("platform", (dir) => {
      const fd = openSync(join(dir, "c.bin"), "w");
      try {
        assert.equal(platform.preallocate(fd, 100n, 0n), hasFfi ? "fallocate" : "unsupported");
        assert.equal(fstatSync(fd).size, 0);
      } finally {
        closeSync(fd);
      }
    });
  });

  test(
    "a file opened read-only fails with the OS's EBADF",
    { skip: !hasFfi && "no FFI" },
    async () => {
      await withTempDir("platform", (dir) => {
        const path = join(dir, "d.bin");
        writeFileSync(path, "");
        const fd = openSync(path, "r");
        try {
          assert.throws(() => platform.preallocate(fd, 0n, 4096n), (err: unknown) => {
            assert.equal((err as { code?: string }).code, "EBADF");
            return true;
          });
        } finally {
          closeSync(fd);
        }
      });
    },
  );

  test("rejects bad arguments before calling anything", () => {
    assert.throws(() => platform.preallocate(-1, 0n, 1n), TypeError);
    assert.throws(() => platform.preallocate(1.5, 0n, 1n), TypeError);
    assert.throws(() => platform.preallocate(0, -1n, 1n), RangeError);
    assert.throws(() => platform.preallocate(0, 0n, -1n), RangeError);
    assert.throws(() => platform.preallocate(0, 1n << 62n, 1n << 62n), RangeError);
  });

  test(`a full filesystem fails with E_NO_SPACE${skipTinyFs ? ` (skipped: ${skipTinyFs})` : ""}`, {
    skip: skipTinyFs,
  }, async () => {
    if (!hasFfi) return;
    await withTmpfs({ size: "16m" }, (dir) => {
      const fd = openSync(join(dir, "big.bin"), "w");
      try {
        assert.throws(() => platform.preallocate(fd, 0n, BigInt(64 * MiB)), (err: unknown) => {
          assert.equal((err as { code?: string }).code, "ENOSPC");
          assert.equal(mapOsError(err, "Cannot reserve").code, "E_NO_SPACE");
          return true;
        });
      } finally {
        closeSync(fd);
      }
    });
  });

  // Runs Deno itself in a child process, so the Bun run of the suite checks it too.
  test("without FFI permission, Deno answers unsupported and never prompts", async () => {
    await withTempDir("platform", (dir) => {
      const script = join(dir, "probe.ts");
      const mod = pathToFileURL(join(import.meta.dirname ?? ".", "../src/platform/mod.ts")).href;
      writeFileSync(
        script,
        `import { openSync } from "node:fs";\n` +
          `import { loadPlatform } from ${JSON.stringify(mod)};\n` +
          `const p = await loadPlatform();\n` +
          `console.log(p.preallocate(openSync(${
            JSON.stringify(join(dir, "e.bin"))
          }, "w"), 0n, 4096n));\n`,
      );
      const deno = platform.runtime.startsWith("deno ")
        ? process.execPath
        : join(import.meta.dirname ?? ".", "../node_modules/.bin/deno");
      const out = execFileSync(deno, ["run", "--allow-read", "--allow-write", script], {
        stdio: ["ignore", "pipe", "pipe"],
        encoding: "utf8",
      });
      assert.equal(out.trim(), "unsupported");
    });
  });
});

// koffi loads on Deno and Bun too, so every run of the suite checks the Node.js adapter's
// bindings in process; test/packaging_test.ts runs them on Node.js itself, and without koffi.
describe("the Node.js adapter, through koffi", () => {
  const O_TMPFILE = 0o20000000 | constants.O_DIRECTORY | constants.O_WRONLY;
  const node = createNodePlatform();

  test("reserves real blocks with fallocate", async () => {
    const p = await node;
    assert.match(p.runtime, /^node \d+\.\d+\.\d+$/);
    await withTempDir("platform", (dir) => {
      const fd = openSync(join(dir, "n.bin"), "w+");
      try {
        assert.equal(p.preallocate(fd, 0n, BigInt(8 * MiB)), "fallocate");
        const st = fstatSync(fd);
        assert.equal(st.size, 8 * MiB);
        assert.ok(st.blocks * 512 >= 8 * MiB, `only ${st.blocks * 512} bytes allocated`);
        assert.equal(p.preallocate(fd, 100n, 0n), "fallocate");
      } finally {
        closeSync(fd);
      }
    });
    assert.throws(() => p.preallocate(0, -1n, 1n), RangeError);
  });

  test("reads errno after a failed call: EBADF for a read-only file", async () => {
    const p = await node;
    await withTempDir("platform", (dir) => {
      writeFileSync(join(dir, "r.bin"), "");
      const fd = openSync(join(dir, "r.bin"), "r");
      try {
        assert.throws(() => p.preallocate(fd, 0n, 4096n), (err: unknown) => {
          assert.equal((err as { code?: string }).code, "EBADF");
          return true;
        });
        assert.throws(() => p.writeAt(fd, new Uint8Array(1), 0), (err: unknown) => {
          assert.equal((err as { code?: string }).code, "EBADF");
          return true;
        });
      } finally {
        closeSync(fd);
      }
    });
  });

  test("names an unnamed file with linkat, and refuses to clobber with EEXIST", async () => {
    const p = await node;
    const link = p.linkUnnamed;
    assert.ok(link !== null, "glibc and /proc are here");
    await withTempDir("platform", (dir) => {
      const folder = p.openFolder(dir);
      const fd = openSync(dir, O_TMPFILE, 0o644);
      try {
        writeFileSync(fd, "data");
        link(fd, folder, "named.bin");
        assert.equal(readFileSync(join(dir, "named.bin"), "utf8"), "data");
        assert.throws(() => link(fd, folder, "named.bin"), (err: unknown) => {
          assert.equal((err as { code?: string }).code, "EEXIST");
          return true;
        });
      } finally {
        closeSync(fd);
        p.closeFolder(folder);
      }
    });
  });

  test("writes with pwrite from aligned memory with O_DIRECT", async () => {
    const p = await node;
    const io = p.directIo();
    assert.ok(io, "koffi gives fcntl and buffer addresses");
    const buf = io.alignedBuffer(65536, 4096);
    assert.equal(buf.length, 65536);
    await withTempDir("platform", (dir) => {
      const file = join(dir, "d.bin");
      writeFileSync(file, "abcdef");
      const fd = openSync(file, "r+");
      try {
        assert.equal(p.writeAt(fd, new TextEncoder().encode("XY"), 2), 2);
        assert.equal(io.setDirect(fd, true), true, "ext4 and tmpfs take O_DIRECT");
        buf.fill(7);
        // An unaligned buffer would be refused with EINVAL.
        assert.equal(p.writeAt(fd, buf, 4096), 65536);
        assert.equal(io.setDirect(fd, false), true);
      } finally {
        closeSync(fd);
      }
      const bytes = readFileSync(file);
      assert.equal(bytes.subarray(0, 6).toString(), "abXYef");
      assert.equal(bytes.length, 4096 + 65536);
      assert.ok(bytes.subarray(4096).every((b) => b === 7));
    });
  });
});

// The errno paths no real filesystem here produces on demand (EINTR,
// EOPNOTSUPP, ENOSYS), exercised through a fake libc.
describe("preallocateWithLibc", () => {
  test("retries on EINTR", () => {
    const libc = fakeLibc([4, 4]);
    assert.equal(preallocateWithLibc(libc, 3, 0n, 10n), "fallocate");
    assert.equal(libc.calls, 3);
  });

  test("EOPNOTSUPP, ENOSYS and a missing libc mean unsupported", () => {
    assert.equal(preallocateWithLibc(fakeLibc([95]), 3, 0n, 10n), "unsupported");
    assert.equal(preallocateWithLibc(fakeLibc([38]), 3, 0n, 10n), "unsupported");
    assert.equal(preallocateWithLibc(null, 3, 0n, 10n), "unsupported");
  });

  test("throws other errnos by name, and mapOsError maps them", () => {
    const cases: [number, string, RegExp][] = [
      [28, "E_NO_SPACE", /ENOSPC/],
      [122, "E_NO_SPACE", /EDQUOT/],
      [27, "E_NO_SPACE", /EFBIG/],
      [13, "E_PERMISSION", /EACCES/],
      [1, "E_PERMISSION", /EPERM/],
      [30, "E_READ_ONLY", /EROFS/],
      [5, "E_IO", /EIO/],
      [22, "E_IO", /EINVAL/],
      [999, "E_IO", /E999/],
    ];
    for (const [errno, code, text] of cases) {
      assert.throws(() => preallocateWithLibc(fakeLibc([errno]), 3, 0n, 10n), (err: unknown) => {
        assert.equal((err as { errno?: number }).errno, errno);
        const mapped = mapOsError(err, "Cannot reserve");
        assert.ok(mapped instanceof NpyallocError);
        assert.equal(mapped.code, code);
        assert.match(mapped.message, text);
        return true;
      });
    }
  });

  test("errno 95 reads as EOPNOTSUPP under either of its names", () => {
    for (const code of ["EOPNOTSUPP", "ENOTSUP"]) {
      const mapped = mapOsError({ code }, "Cannot create 'x'");
      assert.equal(mapped.message, "Cannot create 'x': operation not supported (EOPNOTSUPP)");
    }
  });

  test("errnoError carries the errno name as code", () => {
    const err = errnoError(28, "fallocate");
    assert.equal(err.code, "ENOSPC");
    assert.equal(err.errno, 28);
  });
});

describe("linkUnnamed", () => {
  const O_TMPFILE = 0o20000000 | constants.O_DIRECTORY | constants.O_WRONLY;

  test("names an unnamed file, and refuses to clobber with EEXIST, on Deno and Bun", async () => {
    const link = platform.linkUnnamed;
    assert.equal(link !== null, hasFfi);
    if (link === null) return;
    await withTempDir("platform", (dir) => {
      const folder = platform.openFolder(dir);
      const fd = openSync(dir, O_TMPFILE, 0o644);
      try {
        writeFileSync(fd, "data");
        link(fd, folder, "named.bin");
        assert.equal(readFileSync(join(dir, "named.bin"), "utf8"), "data");
        assert.throws(() => link(fd, folder, "named.bin"), (err: unknown) => {
          assert.equal((err as { code?: string }).code, "EEXIST");
          return true;
        });
      } finally {
        closeSync(fd);
        platform.closeFolder(folder);
      }
    });
  });

  const folder = { path: "/x", fd: 9 };

  test("is null without libc or without /proc, retries EINTR and throws the errno by name", () => {
    assert.equal(linkerWithLibc(null), null);
    const noProc = {
      access: (path: Uint8Array) => (new TextDecoder().decode(path) === "/proc/self/fd\0" ? -1 : 0),
      linkat: () => assert.fail("linkat must not be bound"),
      errno: () => 2,
    };
    assert.equal(linkerWithLibc(noProc), null);
    const errnos = [4, 17];
    let last = 0;
    const calls: string[] = [];
    const link = linkerWithLibc({
      access: () => 0,
      linkat(oldDir, oldPath, newDir, newPath) {
        calls.push(
          `${oldDir} ${new TextDecoder().decode(oldPath)} ${newDir} ${
            new TextDecoder().decode(newPath)
          }`,
        );
        last = errnos.shift() ?? 0;
        return last === 0 ? 0 : -1;
      },
      errno: () => last,
    });
    assert.ok(link !== null);
    assert.throws(() => link(7, folder, "a.npy"), (err: unknown) => {
      assert.equal((err as { code?: string }).code, "EEXIST");
      return true;
    });
    assert.deepEqual(calls, ["7 \0 9 a.npy\0", "7 \0 9 a.npy\0"]);
    assert.throws(() => link(-1, folder, "a.npy"), TypeError);
  });

  test("falls back to /proc/self/fd when the kernel refuses AT_EMPTY_PATH, for good", () => {
    const calls: string[] = [];
    let last = 0;
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    const link = linkerWithLibc({
      access: () => 0,
      linkat(oldDir, oldPath, newDir, newPath, flags) {
        calls.push(`${oldDir} ${decode(oldPath)} ${newDir} ${decode(newPath)} ${flags}`);
        // A kernel before 6.10, to a process without CAP_DAC_READ_SEARCH.
        last = flags === 0x1000 ? 2 : 0;
        return last === 0 ? 0 : -1;
      },
      errno: () => last,
    });
    assert.ok(link !== null);
    link(5, folder, "a.npy");
    link(6, folder, "b.npy");
    assert.deepEqual(calls, [
      "5 \0 9 a.npy\0 4096",
      "-100 /proc/self/fd/5\0 9 a.npy\0 1024",
      "-100 /proc/self/fd/6\0 9 b.npy\0 1024",
    ]);
  });

  test("an ENOENT that /proc confirms (the folder is gone) is thrown, and AT_EMPTY_PATH kept", () => {
    const flagsSeen: number[] = [];
    const link = linkerWithLibc({
      access: () => 0,
      linkat(_oldDir, _oldPath, _newDir, _newPath, flags) {
        flagsSeen.push(flags);
        return -1;
      },
      errno: () => 2,
    });
    assert.ok(link !== null);
    assert.throws(() => link(5, folder, "a.npy"), (err: unknown) => {
      assert.equal((err as { code?: string }).code, "ENOENT");
      return true;
    });
    assert.throws(() => link(5, folder, "a.npy"), /ENOENT/);
    assert.deepEqual(flagsSeen, [0x1000, 0x400, 0x1000, 0x400]);
  });
});

describe("directIoWithLibc", () => {
  const O_DIRECT = process.arch === "arm64" ? 0o200000 : 0o40000;

  test("sets and clears O_DIRECT, keeping the other flags; EINVAL means unsupported", () => {
    let flags = 0o100001;
    let refuse = false;
    let last = 0;
    const calls: string[] = [];
    const io = directIoWithLibc({
      fcntl(fd: number, cmd: number, arg: number) {
        calls.push(`${fd} ${cmd} ${arg}`);
        if (cmd === 3) return flags;
        if (refuse) {
          last = 22;
          return -1;
        }
        flags = arg;
        return 0;
      },
      address: () => 0n,
      errno: () => last,
    }, process.arch);
    assert.ok(io !== null);
    assert.equal(io.setDirect(5, true), true);
    assert.equal(flags, 0o100001 | O_DIRECT);
    assert.equal(io.setDirect(5, false), true);
    assert.equal(flags, 0o100001);
    refuse = true;
    assert.equal(io.setDirect(5, true), false);
    assert.equal(flags, 0o100001);
    assert.deepEqual(calls.slice(0, 2), ["5 3 0", `5 4 ${0o100001 | O_DIRECT}`]);
    assert.throws(() => io.setDirect(-1, true), TypeError);
  });

  test("retries EINTR and throws other errnos by name", () => {
    const errnos = [4, 9];
    let last = 0;
    const io = directIoWithLibc({
      fcntl: () => {
        last = errnos.shift() ?? 0;
        return last === 0 ? 0 : -1;
      },
      address: () => 0n,
      errno: () => last,
    }, process.arch);
    assert.ok(io !== null);
    assert.throws(() => io.setDirect(3, true), (err: unknown) => {
      assert.equal((err as { code?: string }).code, "EBADF");
      return true;
    });
  });

  test("aligned buffers start at a multiple of the alignment", () => {
    assert.equal(directIoWithLibc(null, process.arch), null);
    for (const base of [0n, 1n, 4095n, 4096n, 12345n]) {
      let seen: Uint8Array | undefined;
      const io = directIoWithLibc({
        fcntl: () => 0,
        address: (bytes: Uint8Array) => ((seen = bytes), base),
        errno: () => 0,
      }, process.arch);
      const buf = io!.alignedBuffer(10_000, 4096);
      assert.equal(buf.length, 10_000);
      assert.equal(buf.buffer, seen!.buffer);
      assert.equal((base + BigInt(buf.byteOffset)) % 4096n, 0n);
    }
  });

  test("the real one gives aligned memory on Deno and Bun", {
    skip: !/^(deno|bun) /.test(platform.runtime) && "no FFI: no direct I/O",
  }, async () => {
    const real = await loadPlatform();
    const io = real.directIo();
    assert.ok(io, "FFI platforms have direct I/O");
    const buf = io.alignedBuffer(65536, 4096);
    assert.equal(buf.length, 65536);
    await withTempDir("platform", (dir) => {
      const fd = openSync(join(dir, "d.bin"), "w");
      try {
        assert.equal(io.setDirect(fd, true), true, "ext4 and tmpfs take O_DIRECT");
        buf.fill(7);
        // An unaligned buffer would be refused with EINVAL.
        assert.equal(real.writeAt(fd, buf, 4096), 65536);
        assert.equal(io.setDirect(fd, false), true);
      } finally {
        closeSync(fd);
      }
      assert.equal(readFileSync(join(dir, "d.bin")).subarray(4096).every((b) => b === 7), true);
    });
  });
});

describe("writeAt", () => {
  test("writes at a position without moving anything else", async () => {
    await withTempDir("platform", (dir) => {
      const file = join(dir, "w.bin");
      writeFileSync(file, "abcdef");
      const fd = openSync(file, "r+");
      try {
        assert.equal(platform.writeAt(fd, new TextEncoder().encode("XY"), 2), 2);
      } finally {
        closeSync(fd);
      }
      assert.equal(readFileSync(file, "utf8"), "abXYef");
    });
  });

  test("retries EINTR and throws other errnos by name", () => {
    const errnos = [4, 28];
    let last = 0;
    const libc = {
      pwrite: () => {
        last = errnos.shift() ?? 0;
        return last === 0 ? 3 : -1;
      },
      errno: () => last,
    };
    assert.throws(() => writeAtWithLibc(libc, 3, new Uint8Array(3), 0), (err: unknown) => {
      assert.equal((err as { code?: string }).code, "ENOSPC");
      return true;
    });
    assert.equal(writeAtWithLibc(libc, 3, new Uint8Array(3), 0), 3);
    // A failure that leaves errno at 0 still fails, as EIO.
    assert.throws(
      () => writeAtWithLibc({ pwrite: () => -1, errno: () => 0 }, 3, new Uint8Array(3), 0),
      (err: unknown) => (err as { code?: string }).code === "EIO",
    );
  });
});
