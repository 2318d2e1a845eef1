// The space guarantees on real, small filesystems (SPEC 3.1, 3.2): tmpfs, a loop-mounted ext4
// image and a loop-mounted xfs image, each mounted by the test (root; never skipped with CI=true).
//
// - A manifest that does not fit exits 3 before touching anything, naming the filesystem and the
//   shortfall; one that fits exactly (sizes computed from statfs, block rounding and the
//   documented metadata allowance) succeeds; inodes are checked the same way.
// - `reserve` allocates real blocks; `sparse` of a file far larger than the filesystem succeeds and
//   is reported as committed but not reserved.
// - ENOSPC in the middle of a run (the run stopped with SIGSTOP, the filesystem filled, SIGCONT):
//   the arrays that fail say E_NO_SPACE, exit 1, every file at a target is complete with its fill,
//   no temporary file is left, and a re-run once space is freed completes.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  assertCompleteFill,
  sendSignal,
  tempFilesBelow,
  u8Entry,
  waitFor,
  writeManifest,
} from "./_support/fault.ts";
import { listFiles } from "./_support/temp.ts";
import { readReport } from "./_support/report.ts";
import { runCli, startCli } from "./_support/cli.ts";
import {
  fillFilesystem,
  freeSpace,
  mountSkip,
  skipNamed,
  withLoopFilesystem,
  withTmpfs,
  xfsSkip,
} from "./_support/mounts.ts";

/** Bun stops a test after 5 s unless told otherwise; these start processes and mount filesystems. */
const TIMEOUT_MS = 60_000;

const MiB = 1024n * 1024n;
const GiB = 1024n * MiB;

type Kind = "tmpfs" | "ext4" | "xfs";

interface Filesystem {
  readonly kind: Kind;
  readonly skip: false | string;
  /** Mounts a fresh, empty filesystem of this kind for `fn`. */
  readonly mount: <T>(fn: (dir: string) => Promise<T>) => Promise<T>;
}

const FILESYSTEMS: readonly Filesystem[] = [
  {
    kind: "tmpfs",
    skip: mountSkip("a tmpfs"),
    mount: (fn) => withTmpfs({ size: "16m" }, fn),
  },
  {
    kind: "ext4",
    skip: mountSkip("an ext4 image"),
    mount: (fn) => withLoopFilesystem("ext4", { sizeMiB: 32 }, fn),
  },
  {
    kind: "xfs",
    skip: xfsSkip(),
    mount: (fn) => withLoopFilesystem("xfs", { sizeMiB: 64 }, fn),
  },
];

/** A folder outside the filesystem under test, for manifests and reports. */
async function withOutside(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "npyalloc-fault-space-"));
  try {
    await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What the up-front check charges on a filesystem, computed here from its documented rule (the
 * README's "Guarantees"): each file rounded up to whole blocks; on ext4 and xfs also one block
 * per new folder, one block per file plus one per GiB of it, and 16 blocks per write in flight.
 */
function charged(
  kind: Kind,
  block: bigint,
  fileBytes: readonly bigint[],
  newFolders: number,
  jobs: number,
): bigint {
  const roundUp = (n: bigint) => ((n + block - 1n) / block) * block;
  const data = fileBytes.reduce((sum, n) => sum + roundUp(n), 0n);
  if (kind === "tmpfs") return data;
  const perFile = fileBytes.reduce((sum, n) => sum + 1n + roundUp(n) / GiB, 0n);
  const inFlight = BigInt(Math.min(jobs, fileBytes.length));
  return data + block * (perFile + BigInt(newFolders) + 16n * inFlight);
}

/** `n` file sizes that end mid-block and add up to `total` blocks once rounded. */
function sizesFilling(totalBlocks: bigint, n: number, block: bigint): bigint[] {
  const per = totalBlocks / BigInt(n);
  return Array.from({ length: n }, (_, i) => {
    const blocks = i === n - 1 ? totalBlocks - per * BigInt(n - 1) : per;
    return blocks * block - BigInt(1 + i * 7);
  });
}

describe("the up-front space check on real filesystems", () => {
  for (const filesystem of FILESYSTEMS) {
    const { kind } = filesystem;
    test(
      skipNamed(
        `${kind}: one block too many is exit 3 naming the shortfall, nothing touched; an exact fit succeeds`,
        filesystem.skip,
      ),
      {
        skip: filesystem.skip,
        timeout: TIMEOUT_MS,
      },
      async () => {
        await withOutside(async (outside) => {
          await filesystem.mount(async (mount) => {
            const before = fs.readdirSync(mount).sort();
            const { blockSize, bytes } = freeSpace(mount);
            const jobs = 2;
            // Five files in three new folders (data, data/deep, data/deep/er), the first two
            // reserved, the others written with a fill.
            const n = 5;
            const overhead = charged(kind, blockSize, Array(n).fill(1n), 3, jobs) -
              BigInt(n) * blockSize;
            const sizes = sizesFilling((bytes - overhead) / blockSize, n, blockSize);
            assert.equal(charged(kind, blockSize, sizes, 3, jobs), bytes, "the plan fits exactly");
            const entries = (list: bigint[]) =>
              list.map((size, i) =>
                u8Entry(`deep/er/a${i}.npy`, size, i < 2 ? { allocation: "reserve" } : { fill: i })
              );
            const manifest = path.join(outside, "m.yaml");
            const report = path.join(outside, "npyalloc-report.json");

            // The last file made a few bytes longer, so that it takes one more block.
            const over = [...sizes];
            over[n - 1] = over[n - 1]! + BigInt(n * 7);
            writeManifest(manifest, path.join(mount, "data"), entries(over));
            const refused = await runCli(["run", manifest, "-j", String(jobs)]);
            assert.equal(refused.status, 3, refused.stderr);
            assert.deepEqual(fs.readdirSync(mount).sort(), before, "nothing was created");
            assert.match(refused.stderr, /Not enough free space or inodes on 1 of 1 filesystem/);
            assert.ok(refused.stderr.includes(mount), `the filesystem is named: ${refused.stderr}`);
            assert.match(refused.stderr, /shortfall/);
            assert.ok(
              refused.stderr.includes(`(${blockSize} bytes)`),
              `the shortfall is one block (${blockSize} bytes): ${refused.stderr}`,
            );
            const r = readReport(report);
            assert.equal(r.exit_code, 3);
            assert.equal(r.error?.code, "E_NO_SPACE");
            assert.equal(r.filesystems.length, 1);
            assert.equal(r.filesystems[0]?.path, mount);
            assert.equal(BigInt(r.filesystems[0]!.available_bytes), bytes);
            assert.equal(BigInt(r.filesystems[0]!.shortfall_bytes), blockSize);
            assert.ok(r.arrays.every((a) => a.status === "planned"));

            writeManifest(manifest, path.join(mount, "data"), entries(sizes));
            const exact = await runCli(["run", manifest, "-j", String(jobs)]);
            assert.equal(exact.status, 0, exact.stderr);
            for (const [i, size] of sizes.entries()) {
              assertCompleteFill(
                path.join(mount, "data", "deep", "er", `a${i}.npy`),
                Number(size),
                i < 2 ? 0 : i,
              );
            }
            assert.deepEqual(tempFilesBelow(mount), []);
            assert.equal(readReport(report).summary.created, n);
          });
        });
      },
    );
  }

  for (const filesystem of FILESYSTEMS.filter((f) => f.kind !== "xfs")) {
    const { kind } = filesystem;
    test(
      skipNamed(
        `${kind} with few inodes: one file too many is exit 3 (E_NO_INODES); an exact fit succeeds`,
        filesystem.skip,
      ),
      {
        skip: filesystem.skip,
        timeout: TIMEOUT_MS,
      },
      async () => {
        const mount = <T>(fn: (dir: string) => Promise<T>) =>
          kind === "ext4"
            ? withLoopFilesystem("ext4", { sizeMiB: 32, inodes: 64 }, fn)
            : withTmpfs({ size: "16m", inodes: 64 }, fn);
        await withOutside(async (outside) => {
          await mount(async (dir) => {
            const before = fs.readdirSync(dir).sort();
            const inodes = Number(freeSpace(dir).inodes);
            assert.ok(inodes > 10 && inodes < 200, `${inodes} free inodes`);
            // Deno and Bun create files unnamed, whose first link tmpfs does not count as an
            // inode (a file under a temporary name would take two while it is linked).
            const jobs = 4;
            const fitting = inodes;
            const manifest = path.join(outside, "m.yaml");
            const files = (n: number) =>
              Array.from({ length: n }, (_, i) => u8Entry(`f${i}.npy`, 128 + i % 3, { fill: 1 }));

            writeManifest(manifest, dir, files(fitting + 1));
            const refused = await runCli(["run", manifest, "-j", String(jobs)]);
            assert.equal(refused.status, 3, refused.stderr);
            assert.match(
              refused.stderr,
              new RegExp(`${inodes + 1} / ${inodes} .*SHORT of 1 inode\\b`),
            );
            assert.deepEqual(fs.readdirSync(dir).sort(), before, "nothing was created");
            const r = readReport(path.join(outside, "npyalloc-report.json"));
            assert.equal(r.error?.code, "E_NO_INODES");
            assert.equal(r.filesystems[0]?.shortfall_inodes, 1);

            writeManifest(manifest, dir, files(fitting));
            const exact = await runCli(["run", manifest, "-j", String(jobs)]);
            assert.equal(exact.status, 0, exact.stderr);
            assert.equal(freeSpace(dir).inodes, BigInt(inodes - fitting));
            for (let i = 0; i < fitting; i++) {
              assertCompleteFill(path.join(dir, `f${i}.npy`), 128 + i % 3, 1);
            }

            // create is a one-array run: the same check, before anything is touched.
            const full = fs.readdirSync(dir).sort();
            const one = path.join(dir, "one-more.npy");
            const created = await runCli(["create", one, "--shape", "4", "--dtype", "uint8"]);
            assert.equal(created.status, 3, created.stderr);
            assert.match(
              created.stderr,
              /Not enough free inodes .*: 1 required, 0 free \(short by 1\)/,
            );
            assert.deepEqual(fs.readdirSync(dir).sort(), full, "create touched nothing");
          });
        });
      },
    );
  }
});

describe("reserve and sparse on real filesystems", () => {
  for (const filesystem of FILESYSTEMS) {
    const { kind } = filesystem;
    test(
      skipNamed(
        `${kind}: reserve allocates real blocks; a sparse file far larger than the filesystem is committed, not reserved`,
        filesystem.skip,
      ),
      {
        skip: filesystem.skip,
        timeout: TIMEOUT_MS,
      },
      async () => {
        await withOutside(async (outside) => {
          await filesystem.mount(async (mount) => {
            const manifest = path.join(outside, "m.yaml");
            const reportFile = path.join(outside, "npyalloc-report.json");
            const reserved = 8n * MiB;
            writeManifest(manifest, mount, [
              u8Entry("reserved.npy", reserved, { allocation: "reserve" }),
            ]);
            const freeBefore = freeSpace(mount).bytes;
            const run = await runCli(["run", manifest]);
            assert.equal(run.status, 0, run.stderr);
            const st = fs.statSync(path.join(mount, "reserved.npy"));
            assert.equal(BigInt(st.size), reserved);
            assert.ok(
              BigInt(st.blocks) * 512n >= reserved - 4096n,
              `only ${st.blocks * 512} bytes allocated`,
            );
            assert.ok(
              freeBefore - freeSpace(mount).bytes >= reserved - 4096n,
              "the free space went down",
            );
            const r = readReport(reportFile);
            assert.equal(r.arrays[0]?.allocated_by, "fallocate");
            assert.equal(BigInt(r.summary.bytes_reserved), reserved - 128n);

            const huge = 1n << 40n; // 1 TiB on a filesystem of tens of MiB
            writeManifest(manifest, mount, [u8Entry("sparse.npy", huge, { allocation: "sparse" })]);
            const sparse = await runCli(["run", manifest]);
            assert.equal(sparse.status, 0, sparse.stderr);
            const sst = fs.statSync(path.join(mount, "sparse.npy"));
            assert.equal(BigInt(sst.size), huge);
            assert.ok(sst.blocks * 512 <= 1024 * 1024, `${sst.blocks * 512} bytes allocated`);
            const warning = new RegExp(
              `Sparse files on the filesystem of '${mount}' commit 1024\\.0 GiB \\(${
                huge - 4096n
              } bytes\\) not reserved: ` +
                `writing all their data needs .* more than is available now`,
            );
            assert.match(sparse.stderr, warning);
            const s = readReport(reportFile);
            assert.ok(s.warnings.some((w) => warning.test(w)), JSON.stringify(s.warnings));
            assert.ok(BigInt(s.filesystems[0]!.committed_bytes) >= huge - 4096n);
            assert.equal(s.arrays[0]?.allocated_by, "truncate");
            assert.equal(BigInt(s.summary.bytes_reserved), 0n);
            assert.equal(s.summary.created, 1);
          });
        });
      },
    );
  }
});

describe("ENOSPC in the middle of a run", () => {
  for (const filesystem of FILESYSTEMS) {
    const { kind } = filesystem;
    test(
      skipNamed(
        `${kind}: the failed arrays say E_NO_SPACE, exit 1, every target complete, no temp; a re-run completes`,
        filesystem.skip,
      ),
      {
        skip: filesystem.skip,
        timeout: TIMEOUT_MS,
      },
      async () => {
        await withOutside(async (outside) => {
          await filesystem.mount(async (mount) => {
            const data = path.join(mount, "data");
            const count = 150;
            const size = freeSpace(mount).bytes / BigInt(count + 50);
            const fill = (i: number) => 1 + (i % 200);
            const manifest = writeManifest(path.join(outside, "m.yaml"), data, [
              u8Entry("first.npy", 1000, { fill: 9 }),
              ...Array.from(
                { length: count },
                (_, i) => u8Entry(`sub/a${i}.npy`, size, { fill: fill(i) }),
              ),
            ]);
            const reportFile = path.join(outside, "npyalloc-report.json");
            const run = startCli(["run", manifest, "-j", "1"]);
            await waitFor(() => fs.existsSync(path.join(data, "first.npy")), "the first array");
            sendSignal(run, "SIGSTOP");
            let filler: string;
            try {
              filler = path.join(mount, "filler");
              fillFilesystem(filler);
            } finally {
              sendSignal(run, "SIGCONT");
            }
            const exit = await run.exited;
            assert.equal(exit.status, 1, exit.stderr);
            assert.doesNotMatch(exit.stderr, /\n\s+at /, "no stack trace");

            const report = readReport(reportFile);
            assert.equal(report.exit_code, 1);
            const failed = report.arrays.filter((a) => a.status === "failed");
            assert.ok(failed.length > 0, "some arrays failed");
            for (const a of failed) {
              assert.equal(a.error?.code, "E_NO_SPACE", JSON.stringify(a.error));
            }
            assert.equal(report.summary.failed, failed.length);
            assert.equal(report.summary.created + failed.length, count + 1);
            assert.deepEqual(tempFilesBelow(mount), [], "no temporary file is left");
            const present = listFiles(data);
            assert.equal(present.length, report.summary.created);
            for (const a of report.arrays) {
              const file = path.join(data, a.path);
              if (a.status === "created") {
                const i = a.path === "first.npy" ? -1 : Number(/a(\d+)/.exec(a.path)?.[1]);
                assertCompleteFill(file, i < 0 ? 1000 : Number(size), i < 0 ? 9 : fill(i));
              } else {
                assert.equal(fs.existsSync(file), false, `${a.path} failed, yet exists`);
              }
            }

            fs.rmSync(filler);
            const again = await runCli(["run", manifest, "-j", "1"]);
            assert.equal(again.status, 0, again.stderr);
            const after = readReport(reportFile);
            assert.equal(after.summary.created, failed.length);
            assert.equal(after.summary.unchanged, count + 1 - failed.length);
            for (let i = 0; i < count; i++) {
              assertCompleteFill(path.join(data, "sub", `a${i}.npy`), Number(size), fill(i));
            }
            assert.deepEqual(tempFilesBelow(mount), []);
          });
        });
      },
    );
  }
});
