import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { NpyallocError } from "../src/errors.ts";
import type { ManifestArray } from "../src/manifest/types.ts";
import { parseDType } from "../src/npy/dtype.ts";
import { type Allocation, layoutArray } from "../src/npy/layout.ts";
import {
  type FilesystemBudget,
  formatSpaceFailure,
  parseSize,
  planSpace,
  spaceFailure,
  spaceWarnings,
} from "../src/plan/space.ts";
import { classifyTargets, type PlannedArray } from "../src/plan/targets.ts";
import { withTempDir } from "./_support/temp.ts";
import { mountSkip, withTmpfs } from "./_support/mounts.ts";
import { runCliProcess } from "./_support/cli.ts";
import { loadPlatform } from "../src/platform/mod.ts";

const platform = await loadPlatform();

const BLOCK = 4096n;
const MiB = 1024n * 1024n;

const skipTinyFs = mountSkip("a 16 MiB tmpfs");

/** A `uint8` array of exactly `fileBytes` bytes at `rel` (1-d u1 headers are 128 bytes). */
function arrayOfSize(
  root: string,
  rel: string,
  fileBytes: bigint,
  allocation: Allocation = "auto",
): ManifestArray {
  const shape = [fileBytes - 128n];
  const dtype = parseDType("uint8");
  const layout = layoutArray({ shape, dtype, allocation });
  assert.equal(layout.fileBytes, fileBytes);
  const target = path.join(root, ...rel.split("/"));
  return {
    path: rel,
    target,
    real: { folder: path.dirname(target), name: path.basename(target) },
    shape,
    dtype,
    order: "C",
    fill: undefined,
    allocation,
    headerVersion: "auto",
    layout,
    generated: null,
    location: { file: "test.yaml", line: 1, column: 1 },
    jsonPath: "arrays[0]",
  };
}

function plan(arrays: ManifestArray[]): Promise<PlannedArray[]> {
  return classifyTargets(arrays, { force: false, fs: platform });
}

function only(budgets: FilesystemBudget[]): FilesystemBudget {
  assert.equal(budgets.length, 1);
  return budgets[0] as FilesystemBudget;
}

/** Free bytes and inodes of the filesystem of `dir`, as statfs says. */
function free(dir: string): { bytes: bigint; inodes: bigint; total: bigint } {
  const s = fs.statfsSync(dir, { bigint: true });
  return { bytes: s.bavail * s.bsize, inodes: s.ffree, total: s.blocks * s.bsize };
}

describe("planSpace on a real 16 MiB tmpfs", { skip: skipTinyFs }, () => {
  test("a plan that fits exactly passes; one byte more fails by a block", async () => {
    await withTmpfs({ size: "16m", inodes: 64 }, async (dir) => {
      const { bytes } = free(dir);
      assert.equal(bytes, 16n * MiB);
      const exact = only(
        planSpace(await plan([arrayOfSize(dir, "a.npy", bytes)]), { fs: platform }),
      );
      assert.equal(exact.path, dir);
      assert.equal(exact.device, fs.statSync(dir, { bigint: true }).dev.toString());
      assert.equal(exact.block_size, 4096);
      assert.equal(exact.available_bytes, bytes);
      assert.equal(exact.required_bytes, bytes);
      assert.equal(exact.required_inodes, 2, "the file, and its link in flight (tmpfs)");
      assert.equal(exact.ok, true);
      assert.equal(exact.shortfall_bytes, 0n);
      assert.equal(spaceFailure([exact]), null);

      const over = only(
        planSpace(await plan([arrayOfSize(dir, "a.npy", bytes + 1n)]), { fs: platform }),
      );
      assert.equal(over.required_bytes, bytes + BLOCK, "rounded up to the block size");
      assert.equal(over.ok, false);
      assert.equal(over.shortfall_bytes, BLOCK);
      const err = spaceFailure([over]);
      assert.ok(err instanceof NpyallocError);
      assert.equal(err.code, "E_NO_SPACE");
      assert.match(err.message, /^Not enough free space/);
      assert.match(err.message, /4\.0 KiB \(4096 bytes\)/);
      assert.ok(err.message.includes(dir));
    });
  });

  test("every file is rounded up to the block size", async () => {
    await withTmpfs({ size: "16m", inodes: 64 }, async (dir) => {
      const arrays = [1n, 4096n, 4097n, 129n].map((n, i) =>
        arrayOfSize(dir, `a${i}.npy`, n + 127n)
      );
      const budget = only(planSpace(await plan(arrays), { fs: platform }));
      // 128 B, 4223 B, 4224 B and 256 B files: 1 + 2 + 2 + 1 blocks.
      assert.equal(budget.required_bytes, 6n * BLOCK);
      assert.equal(budget.required_inodes, 5, "4 files and one link in flight (tmpfs)");
    });
  });

  test("min-free in bytes: exactly at the limit passes, one byte more is short by one", async () => {
    await withTmpfs({ size: "16m", inodes: 64 }, async (dir) => {
      const { bytes } = free(dir);
      const planned = await plan([arrayOfSize(dir, "a.npy", 8n * MiB)]);
      const fits = only(
        planSpace(planned, { fs: platform, minFree: parseSize(`${bytes - 8n * MiB}`) }),
      );
      assert.equal(fits.min_free_bytes, 8n * MiB);
      assert.equal(fits.ok, true);
      const short = only(
        planSpace(planned, { fs: platform, minFree: parseSize(`${bytes - 8n * MiB + 1n}`) }),
      );
      assert.equal(short.ok, false);
      assert.equal(short.shortfall_bytes, 1n);
      assert.match(formatSpaceFailure([short]), /incl\. min-free 8\.0 MiB/);
    });
  });

  test("min-free in percent of the filesystem size", async () => {
    await withTmpfs({ size: "16m", inodes: 64 }, async (dir) => {
      const { bytes, total } = free(dir);
      assert.equal(total, 16n * MiB);
      const planned = await plan([arrayOfSize(dir, "a.npy", bytes - 163840n)]);
      // 1% of 16 MiB is 167772.16 bytes, rounded up.
      const onePercent = only(planSpace(planned, { fs: platform, minFree: parseSize("1%") }));
      assert.equal(onePercent.min_free_bytes, 167773n);
      assert.equal(onePercent.ok, false);
      assert.equal(onePercent.shortfall_bytes, 167773n - 163840n);
      const less = only(planSpace(planned, { fs: platform, minFree: parseSize("0.5%") }));
      assert.equal(less.min_free_bytes, 83887n);
      assert.equal(less.ok, true);
    });
  });

  test("too many new files and folders is an inode shortfall", async () => {
    await withTmpfs({ size: "16m", inodes: 64 }, async (dir) => {
      const { inodes } = free(dir);
      const n = Number(inodes);
      // tmpfs counts a hard link as an inode: the file being linked into place needs one more.
      const files = Array.from({ length: n - 1 }, (_, i) => arrayOfSize(dir, `a${i}.npy`, 128n));
      const fits = only(planSpace(await plan(files), { fs: platform }));
      assert.equal(fits.free_inodes, n);
      assert.equal(fits.required_inodes, n, "n - 1 files and one link in flight");
      assert.equal(fits.ok, true);

      // Unnamed files are linked once, which tmpfs does not charge: n files fit.
      const all = Array.from({ length: n }, (_, i) => arrayOfSize(dir, `a${i}.npy`, 128n));
      const unnamed = only(planSpace(await plan(all), { fs: platform, unnamedFiles: () => true }));
      assert.equal(unnamed.required_inodes, n);
      assert.equal(unnamed.ok, true);
      const named = only(planSpace(await plan(all), { fs: platform, unnamedFiles: () => false }));
      assert.equal(named.required_inodes, n + 1, "n files and one link in flight");
      assert.equal(named.ok, false);

      // The same count, but in a new folder: one inode more.
      const nested = Array.from(
        { length: n - 1 },
        (_, i) => arrayOfSize(dir, `sub/a${i}.npy`, 128n),
      );
      const short = only(planSpace(await plan(nested), { fs: platform }));
      assert.equal(short.path, dir);
      assert.equal(short.required_inodes, n + 1);
      assert.equal(short.ok, false);
      assert.equal(short.shortfall_bytes, 0n);
      assert.equal(short.shortfall_inodes, 1);
      const err = spaceFailure([short]);
      assert.equal(err?.code, "E_NO_INODES");
      assert.match(err?.message ?? "", /SHORT of 1 inode\b/);
    });
  });

  test("a filesystem that reports no inodes skips the inode check and says so", async () => {
    await withTmpfs({ size: "16m", inodes: 0 }, async (dir) => {
      const files = Array.from({ length: 100 }, (_, i) => arrayOfSize(dir, `a${i}.npy`, 128n));
      const budget = only(planSpace(await plan(files), { fs: platform }));
      assert.equal(budget.free_inodes, null);
      assert.equal(budget.required_inodes, 100);
      assert.equal(budget.ok, true);
      assert.deepEqual(spaceWarnings([budget]), [
        `The filesystem of '${dir}' does not report inodes: the inode check was skipped`,
      ]);
    });
  });

  test("sparse files count their header only; the rest is committed and warned about", async () => {
    await withTmpfs({ size: "16m", inodes: 64 }, async (dir) => {
      const sparse = arrayOfSize(dir, "s.npy", 64n * MiB, "sparse");
      const budget = only(planSpace(await plan([sparse]), { fs: platform }));
      assert.equal(budget.required_bytes, BLOCK);
      assert.equal(budget.committed_bytes, 64n * MiB - BLOCK);
      assert.equal(budget.ok, true);
      const [warning] = spaceWarnings([budget]);
      assert.match(warning ?? "", /commit 64\.0 MiB \(67104768 bytes\) not reserved/);
      assert.match(warning ?? "", /needs 48\.0 MiB \(50331648 bytes\) more than is available/);
    });
  });

  test("unchanged and conflicting files cost nothing; replaced files cost in full", async () => {
    await withTmpfs({ size: "16m", inodes: 64 }, async (dir) => {
      const same = arrayOfSize(dir, "same.npy", 2n * MiB);
      const other = arrayOfSize(dir, "other.npy", 2n * MiB);
      fs.writeFileSync(same.target, Buffer.alloc(0));
      fs.writeFileSync(other.target, "x");
      const h = Buffer.from(same.layout.header);
      fs.writeFileSync(same.target, Buffer.concat([h, Buffer.alloc(2 * 1024 * 1024 - 128)]));
      const arrays = [same, other];
      assert.equal(
        planSpace(await classifyTargets(arrays, { force: false, fs: platform }), { fs: platform })
          .length,
        0,
      );
      const replaced = only(
        planSpace(await classifyTargets(arrays, { force: true, fs: platform }), { fs: platform }),
      );
      assert.equal(replaced.required_bytes, 2n * MiB);
      assert.equal(replaced.required_inodes, 1);
    });
  });

  test("targets on two filesystems get one budget each, in order of first use", async () => {
    await withTmpfs({ size: "16m", inodes: 64 }, async (tiny) => {
      await withTempDir("plan-space", async (other) => {
        if (fs.statSync(other).dev === fs.statSync(tiny).dev) assert.fail("same device");
        const arrays = [
          arrayOfSize(tiny, "x/y/a.npy", 8n * MiB),
          arrayOfSize(other, "b.npy", 4096n),
          arrayOfSize(tiny, "x/y/c.npy", 9n * MiB),
          arrayOfSize(tiny, "z.npy", 128n),
        ];
        const budgets = planSpace(await plan(arrays), { fs: platform });
        assert.equal(budgets.length, 2);
        const [first, second] = budgets as [FilesystemBudget, FilesystemBudget];
        assert.equal(first.path, tiny);
        assert.equal(first.required_bytes, 17n * MiB + BLOCK);
        assert.equal(
          first.required_inodes,
          3 + 2 + 1,
          "3 files, the folders x and x/y, and one link in flight (tmpfs)",
        );
        assert.equal(first.ok, false);
        assert.equal(first.shortfall_bytes, MiB + BLOCK);
        assert.equal(second.path, other);
        assert.equal(second.ok, true);
        const text = formatSpaceFailure(budgets);
        assert.match(text, /^Not enough free space or inodes on 1 of 2 filesystems/);
        const lines = text.split("\n");
        assert.equal(lines.length, 4);
        assert.ok(lines[2]?.includes(tiny) && lines[2].includes("SHORT"));
        assert.ok(lines[2]?.includes("1.0 MiB (1052672 bytes)"));
        assert.ok(lines[3]?.includes(other) && lines[3].trimEnd().endsWith("ok"));
      });
    });
  });
});

describe("parseSize", () => {
  const bytes = (text: string) => {
    const size = parseSize(text);
    assert.equal(size.kind, "bytes", text);
    return size.kind === "bytes" ? size.bytes : -1n;
  };

  test("byte counts with binary and decimal units", () => {
    assert.equal(bytes("4096"), 4096n);
    assert.equal(bytes("0"), 0n);
    assert.equal(bytes("4096B"), 4096n);
    assert.equal(bytes("512MiB"), 512n * MiB);
    assert.equal(bytes("2GB"), 2_000_000_000n);
    assert.equal(bytes("1.5TiB"), 1_649_267_441_664n);
    assert.equal(bytes("1.5 TiB"), 1_649_267_441_664n);
    assert.equal(bytes("10k"), 10240n);
    assert.equal(bytes("3M"), 3n * MiB);
    assert.equal(bytes("1kb"), 1000n);
    assert.equal(bytes("2EiB"), 2n ** 61n);
    assert.equal(bytes("0.1KiB"), 103n, "a fraction of a byte is rounded up");
    assert.equal(bytes(".5K"), 512n);
  });

  test("percentages of the filesystem size", () => {
    assert.deepEqual(parseSize("1%"), { kind: "percent", percent: 1 });
    assert.deepEqual(parseSize("0.5%"), { kind: "percent", percent: 0.5 });
    assert.deepEqual(parseSize("100%"), { kind: "percent", percent: 100 });
  });

  test("anything else is E_USAGE naming the text", () => {
    for (const text of ["", "abc", "-1", "1.5", "101%", "5XB", "1e3", "1,5G", "%", "1 2"]) {
      assert.throws(() => parseSize(text), (err: unknown) => {
        assert.ok(err instanceof NpyallocError, text);
        assert.equal(err.code, "E_USAGE");
        assert.ok(err.message.startsWith(`Cannot parse size '${text}': `), err.message);
        return true;
      });
    }
  });
});

describe("npyalloc run on an inode-limited tmpfs", { skip: skipTinyFs }, () => {
  test("Deno and Bun fill it to the last inode (unnamed files cost no link)", async () => {
    await withTempDir("space-inodes", async (outside) => {
      await withTmpfs({ size: "16m", inodes: 64 }, (dir) => {
        const n = Number(free(dir).inodes);
        const manifest = path.join(outside, "m.yaml");
        fs.writeFileSync(
          manifest,
          `version: 1\nroot: ${JSON.stringify(dir)}\narrays:\n  - path: a{i}.npy\n` +
            `    foreach: { i: { range: [0, ${n}] } }\n    shape: [4]\n`,
        );
        const run = runCliProcess(["run", manifest, "-q", "-r", path.join(outside, "r.json")]);
        assert.equal(run.status, 0, run.stderr);
        assert.equal(fs.readdirSync(dir).length, n);
        assert.equal(free(dir).inodes, 0n);
      });
    });
  });
});
