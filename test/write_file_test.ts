// The atomic writer (SPEC 3.3): where the platform can name an open file (Deno and Bun, through
// linkat), the data goes to a file with no name that appears at its path complete; elsewhere
// (Node.js, or a platform without the linker) to a temporary name that is linked into place.
// Both give the same bytes, refuse to clobber, and leave nothing behind on failure.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { NpyallocError } from "../src/errors.ts";
import { parseDType } from "../src/npy/dtype.ts";
import { layoutArray } from "../src/npy/layout.ts";
import { loadPlatform } from "../src/platform/mod.ts";
import type { Platform } from "../src/platform/platform.ts";
import { PatternBuffers } from "../src/run/fill_writer.ts";
import { FolderCache } from "../src/run/folders.ts";
import {
  createArrayFile,
  type FileRequest,
  TEMP_SUFFIX,
  writeArrayFiles,
} from "../src/run/write_file.ts";
import { openFilesBelow } from "./_support/fault.ts";
import { withTempDir } from "./_support/temp.ts";

const platform = await loadPlatform();
const hasFfi = /^(deno|bun) /.test(platform.runtime);
/** The same runtime without the linker of unnamed files: what a runtime without FFI does. */
const named: Platform = { ...platform, linkUnnamed: null };

/** 40 MiB of float32 1.5: three chunks of the fill writer, so the folder can be seen mid-write. */
const layout = layoutArray({
  shape: [10n * 1024n * 1024n],
  dtype: parseDType("float32"),
  fill: 1.5,
});

/** What a folder holds while the write is under way, seen at each chunk. */
async function writeWatching(
  dir: string,
  target: string,
  on: Platform,
): Promise<{ seen: string[][]; open: string[][] }> {
  const seen: string[][] = [];
  const open: string[][] = [];
  await createArrayFile(target, layout, on, {
    fsync: false,
    onProgress: () => {
      seen.push(fs.readdirSync(dir).sort());
      open.push(openFilesBelow(process.pid, dir).map((f) => f.path));
    },
  });
  return { seen, open };
}

describe("createArrayFile", () => {
  test(
    "a synced fill of 64 MiB or more goes to the disk with O_DIRECT, the same bytes",
    { skip: !hasFfi && "no FFI: no direct I/O" },
    async () => {
      const io = platform.directIo();
      assert.ok(io, "the platform has direct I/O");
      const switched: boolean[] = [];
      const spying: Platform = {
        ...platform,
        directIo: () => ({
          setDirect: (fd, on) => (switched.push(on), io.setDirect(fd, on)),
          alignedBuffer: (length, alignment) => io.alignedBuffer(length, alignment),
        }),
      };
      // 68 MiB of int16 -3 plus one element, so that the data ends off a 4 KiB boundary.
      const big = layoutArray({
        shape: [34n * 1024n * 1024n + 1n],
        dtype: parseDType("<i2"),
        fill: -3,
      });
      await withTempDir("write-file", async (dir) => {
        const synced = await createArrayFile(path.join(dir, "synced.npy"), big, spying, {
          fsync: true,
        });
        assert.deepEqual(switched, [true, false]);
        await createArrayFile(path.join(dir, "cached.npy"), big, spying, { fsync: false });
        assert.deepEqual(switched, [true, false], "not without fsync");
        assert.equal(synced.allocatedBy, "write");
        assert.equal(synced.bytesWritten, big.fileBytes);
        assert.ok(
          fs.readFileSync(path.join(dir, "synced.npy")).equals(
            fs.readFileSync(path.join(dir, "cached.npy")),
          ),
        );
        const small = layoutArray({ shape: [1000n], dtype: parseDType("<i2"), fill: -3 });
        await createArrayFile(path.join(dir, "small.npy"), small, spying, { fsync: true });
        assert.deepEqual(switched, [true, false], "not under 64 MiB");
      });
    },
  );

  test(
    "writes a file with no name and links it when complete on Deno and Bun",
    { skip: !hasFfi && "no FFI: no linker of unnamed files" },
    async () => {
      assert.ok(platform.linkUnnamed, "the platform has a linker");
      await withTempDir("write-file", async (dir) => {
        const target = path.join(dir, "a.npy");
        const { seen, open } = await writeWatching(dir, target, platform);
        assert.ok(seen.length >= 3);
        // Nothing at all is named in the folder until the file is complete...
        for (const names of seen) assert.deepEqual(names, []);
        // ...while the process writes an unnamed file there.
        for (const files of open) {
          assert.equal(files.length, 1);
          assert.match(files[0]!, /\/#\d+ \(deleted\)$/);
        }
        assert.deepEqual(fs.readdirSync(dir), ["a.npy"]);
        assert.equal(fs.statSync(target).size, Number(layout.fileBytes));
      });
    },
  );

  test("without a linker, writes under a temporary name, then links it", async () => {
    await withTempDir("write-file", async (dir) => {
      const target = path.join(dir, "a.npy");
      const { seen } = await writeWatching(dir, target, named);
      assert.ok(seen.length >= 3);
      for (const names of seen) {
        assert.equal(names.length, 1);
        const name = names[0]!;
        assert.ok(name.startsWith(".a.npy.") && name.endsWith(TEMP_SUFFIX), name);
      }
      assert.deepEqual(fs.readdirSync(dir), ["a.npy"]);
    });
  });

  for (const fsync of [false, true]) {
    test(`a named file's data is closed before its name is linked, the lock held (fsync ${fsync})`, async () => {
      await withTempDir("write-file", async (dir) => {
        const calls: string[] = [];
        const dataFds = new Set<number>();
        const recording: Platform = {
          ...named,
          createFile: (folder, name) => {
            const fd = named.createFile(folder, name);
            dataFds.add(fd);
            calls.push("create");
            return fd;
          },
          lock: (fd) => {
            calls.push(dataFds.has(fd) ? "lock data" : "lock other");
            return named.lock(fd);
          },
          sync: (fd) => {
            if (dataFds.has(fd)) calls.push("sync data");
            named.sync(fd);
          },
          close: (fd) => {
            calls.push(dataFds.has(fd) ? "close data" : "close other");
            named.close(fd);
          },
          link: (folder, from, to) => {
            calls.push("link");
            named.link(folder, from, to);
          },
          unlink: (folder, name) => {
            calls.push("unlink");
            named.unlink(folder, name);
          },
        };
        const target = path.join(dir, "a.npy");
        const small = layoutArray({ shape: [1000n], dtype: parseDType("<f4"), fill: 1.5 });
        await createArrayFile(target, small, recording, { fsync });
        // Locks are only there with FFI; the portable path has none to take, nor a descriptor
        // to hold one.
        const locks = recording.capabilities().ffi;
        const expected = [
          "create",
          ...(locks ? ["lock other"] : []),
          ...(fsync ? ["sync data"] : []),
          "close data",
          "link",
          "unlink",
          ...(locks ? ["close other"] : []),
        ];
        assert.deepEqual(calls, expected);
        assert.ok(
          !calls.includes("lock data"),
          "the lock is on the descriptor that outlives the data",
        );
        assert.deepEqual(fs.readdirSync(dir), ["a.npy"]);
        assert.equal(fs.statSync(target).size, Number(small.fileBytes));
      });
    });
  }

  test("both ways give the same bytes, sparse, reserved and written", async () => {
    await withTempDir("write-file", async (dir) => {
      for (const allocation of ["sparse", "reserve", "write"] as const) {
        const small = layoutArray({ shape: [3n, 1000n], dtype: parseDType("<i8"), allocation });
        const a = path.join(dir, `${allocation}-platform.npy`);
        const b = path.join(dir, `${allocation}-named.npy`);
        await createArrayFile(a, small, platform);
        await createArrayFile(b, small, named);
        assert.ok(fs.readFileSync(a).equals(fs.readFileSync(b)), allocation);
      }
      assert.equal(fs.readdirSync(dir).length, 6);
    });
  });

  for (const [label, on] of [["the platform", platform], ["no linker", named]] as const) {
    test(`refuses to clobber an existing file and leaves nothing behind (${label})`, async () => {
      await withTempDir("write-file", async (dir) => {
        const target = path.join(dir, "a.npy");
        fs.writeFileSync(target, "mine");
        await assert.rejects(createArrayFile(target, layout, on, { fsync: false }), (err) => {
          assert.ok(err instanceof NpyallocError);
          assert.equal(err.code, "E_EXISTS");
          assert.equal(err.message, `Cannot create '${target}': it already exists`);
          return true;
        });
        assert.deepEqual(fs.readdirSync(dir), ["a.npy"]);
        assert.equal(fs.readFileSync(target, "utf8"), "mine");
        assert.deepEqual(openFilesBelow(process.pid, dir), [], "no file is left open");
      });
    });

    test(`an abort mid-write leaves nothing behind (${label})`, async () => {
      await withTempDir("write-file", async (dir) => {
        const controller = new AbortController();
        await assert.rejects(
          createArrayFile(path.join(dir, "sub", "a.npy"), layout, on, {
            fsync: false,
            signal: controller.signal,
            onProgress: () => controller.abort(new Error("stop")),
          }),
          (err) => err instanceof NpyallocError && err.code === "E_INTERRUPTED",
        );
        assert.deepEqual(fs.readdirSync(path.join(dir, "sub")), []);
        assert.deepEqual(openFilesBelow(process.pid, dir), []);
      });
    });
  }

  test("replacing renames a named file over the old one", async () => {
    await withTempDir("write-file", async (dir) => {
      const target = path.join(dir, "a.npy");
      fs.writeFileSync(target, "old");
      const small = layoutArray({ shape: [4n], dtype: parseDType("u1"), fill: 9 });
      await createArrayFile(target, small, platform, { replace: true });
      assert.deepEqual(fs.readdirSync(dir), ["a.npy"]);
      assert.deepEqual([...fs.readFileSync(target).subarray(-4)], [9, 9, 9, 9]);
    });
  });
});

/**
 * The platform, recording the calls that matter for durability, in order, each with the file
 * descriptor it was about: a header or data write, the start of writeback, fsync, naming.
 */
function recording(on: Platform, failSyncOf?: (fd: number) => boolean) {
  const calls: { readonly call: string; readonly fd: number }[] = [];
  const fdOfTemp = new Map<string, number>();
  const linker = on.linkUnnamed;
  const spy: Platform = {
    ...on,
    createFile(folder, name) {
      const fd = on.createFile(folder, name);
      fdOfTemp.set(name, fd);
      return fd;
    },
    writeAt(fd, bytes, position) {
      calls.push({ call: "write", fd });
      return on.writeAt(fd, bytes, position);
    },
    startWriteback(fd) {
      calls.push({ call: "writeback", fd });
      on.startWriteback(fd);
    },
    sync(fd) {
      if (failSyncOf?.(fd)) {
        calls.push({ call: "sync-failed", fd });
        throw Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO", errno: -5 });
      }
      calls.push({ call: "sync", fd });
      on.sync(fd);
    },
    linkUnnamed: linker === null ? null : (fd, folder, name) => {
      calls.push({ call: "name", fd });
      linker(fd, folder, name);
    },
    link(folder, from, to) {
      calls.push({ call: "name", fd: fdOfTemp.get(from) ?? -1 });
      on.link(folder, from, to);
    },
  };
  return { spy, calls };
}

/** Requests for `count` small float32 arrays of 1.5 in `dir`. */
function smallRequests(dir: string, count: number, fsync: boolean): FileRequest[] {
  const small = layoutArray({ shape: [64n, 64n], dtype: parseDType("float32"), fill: 1.5 });
  return Array.from({ length: count }, (_, i) => ({
    folder: dir,
    name: `x-${i}.npy`,
    label: `x-${i}.npy`,
    layout: small,
    generated: null,
    fsync,
    replace: false,
  }));
}

async function writeGroup(on: Platform, requests: readonly FileRequest[]) {
  const folders = new FolderCache(on);
  try {
    return await writeArrayFiles(requests, {
      platform: on,
      folders,
      buffers: new PatternBuffers(1),
    });
  } finally {
    folders.close();
  }
}

describe("writeArrayFiles (group commit)", () => {
  for (const [label, on] of [["the platform", platform], ["no linker", named]] as const) {
    test(`no file is named before it is fsynced, and none before all are (${label})`, async () => {
      await withTempDir("group-commit", async (dir) => {
        const { spy, calls } = recording(on);
        const outcomes = await writeGroup(spy, smallRequests(dir, 20, true));
        assert.deepEqual(outcomes.filter((o) => !o.ok), []);
        const files = new Set(calls.map((c) => c.fd));
        assert.equal(files.size, 20, "one descriptor per file");
        for (const fd of files) {
          const own = calls.filter((c) => c.fd === fd).map((c) => c.call);
          const synced = own.indexOf("sync");
          assert.ok(synced >= 0, `file ${fd} is fsynced`);
          assert.ok(own.indexOf("write") < synced, `file ${fd}: written, then fsynced`);
          assert.ok(synced < own.indexOf("name"), `file ${fd}: fsynced, then named`);
        }
        const firstName = calls.findIndex((c) => c.call === "name");
        const lastSync = calls.findLastIndex((c) => c.call === "sync");
        assert.ok(lastSync < firstName, "the whole group is durable before any name appears");
        const firstSync = calls.findIndex((c) => c.call === "sync");
        const kicked = calls.slice(0, firstSync).filter((c) => c.call === "writeback");
        assert.equal(kicked.length, 20, "writeback of all started before the first fsync");
        const small = layoutArray({ shape: [64n, 64n], dtype: parseDType("float32"), fill: 1.5 });
        assert.equal(fs.readdirSync(dir).length, 20);
        for (let i = 0; i < 20; i++) {
          const bytes = fs.readFileSync(path.join(dir, `x-${i}.npy`));
          assert.equal(bytes.length, Number(small.fileBytes));
          assert.ok(bytes.subarray(0, small.header.length).equals(small.header));
        }
      });
    });

    test(`a file whose fsync fails is never named; the others are (${label})`, async () => {
      await withTempDir("group-commit", async (dir) => {
        let syncs = 0;
        const { spy, calls } = recording(on, () => ++syncs === 3);
        const outcomes = await writeGroup(spy, smallRequests(dir, 5, true));
        assert.deepEqual(outcomes.map((o) => o.ok), [true, true, false, true, true]);
        const failed = outcomes[2]!;
        assert.ok(!failed.ok && failed.error.code === "E_IO", String(!failed.ok && failed.error));
        const bad = calls.find((c) => c.call === "sync-failed")!.fd;
        assert.ok(!calls.some((c) => c.call === "name" && c.fd === bad), "never named");
        assert.deepEqual(fs.readdirSync(dir).sort(), [
          "x-0.npy",
          "x-1.npy",
          "x-3.npy",
          "x-4.npy",
        ]);
        assert.deepEqual(openFilesBelow(process.pid, dir), [], "no file is left open");
      });
    });
  }

  test("without fsync, each file is named as soon as it is written, nothing synced", async () => {
    await withTempDir("group-commit", async (dir) => {
      const { spy, calls } = recording(platform);
      const outcomes = await writeGroup(spy, smallRequests(dir, 4, false));
      assert.ok(outcomes.every((o) => o.ok));
      assert.deepEqual(
        calls.map((c) => c.call).filter((c) => c !== "write"),
        ["name", "name", "name", "name"],
      );
      assert.equal(fs.readdirSync(dir).length, 4);
    });
  });
});
