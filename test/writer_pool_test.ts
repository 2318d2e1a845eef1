// Writer threads: many small arrays are written on worker threads that load the same module,
// with the same results, errors and bytes as on the main thread; an abort refuses what has not
// started and leaves no partial file.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";
import process from "node:process";
import { NpyallocError } from "../src/errors.ts";
import { parseDType } from "../src/npy/dtype.ts";
import { layoutArray } from "../src/npy/layout.ts";
import { loadPlatform } from "../src/platform/mod.ts";
import { createArrayFile, type WriteResult } from "../src/run/write_file.ts";
import { type PoolItem, type PoolOutcome, WriterPool } from "../src/run/writer_pool.ts";
import { openFilesBelow } from "./_support/fault.ts";
import { runCli } from "./_support/cli.ts";
import { withTempDir } from "./_support/temp.ts";

const platform = await loadPlatform();
const pools: WriterPool[] = [];
after(async () => {
  for (const pool of pools) await pool.close();
});

function startPool(threads: number): WriterPool {
  const pool = new WriterPool(threads, (why) => assert.fail(`a writer thread stopped: ${why}`));
  pools.push(pool);
  return pool;
}

/** Writes `items` on `pool`, each outcome at its item's index. */
async function writeAll(pool: WriterPool, items: PoolItem[]): Promise<PoolOutcome[]> {
  const outcomes = new Array<PoolOutcome>(items.length);
  await pool.writeEach(items, (i, outcome) => void (outcomes[i] = outcome));
  return outcomes;
}

/** A request for the pool to write `target` (in a folder without symbolic links). */
function item(target: string, layout: PoolItem["layout"], fsync = false): PoolItem {
  return {
    folder: path.dirname(target),
    name: path.basename(target),
    label: target,
    layout,
    generated: null,
    fsync,
    replace: false,
  };
}

/** The result of an outcome that must be `written`. */
function written(outcome: PoolOutcome | undefined): WriteResult {
  assert.equal(
    outcome?.kind,
    "written",
    outcome?.kind === "failed" ? outcome.error.message : `${outcome?.kind}`,
  );
  return (outcome as { result: WriteResult }).result;
}

const layouts = [
  layoutArray({ shape: [64n, 64n], dtype: parseDType("float32") }),
  layoutArray({ shape: [7n], dtype: parseDType("<i2"), fill: -3 }),
  layoutArray({ shape: [2n, 3n], dtype: parseDType(">f8"), order: "F", allocation: "sparse" }),
];

describe("WriterPool", () => {
  test("writes what the main thread writes, byte for byte, with the same results", async () => {
    const pool = startPool(2);
    await withTempDir("pool", async (dir) => {
      const outcomes = await writeAll(
        pool,
        Array.from(
          { length: 300 },
          (_, i) =>
            item(path.join(dir, "threads", `d${i % 4}`, `a${i}.npy`), layouts[i % 3]!, i % 2 === 0),
        ),
      );
      const results = outcomes.map(written);
      for (const [i, result] of results.entries()) {
        const alone = await createArrayFile(
          path.join(dir, "main", `d${i % 4}`, `a${i}.npy`),
          layouts[i % 3]!,
          platform,
          { fsync: false },
        );
        assert.equal(result.allocatedBy, alone.allocatedBy);
        assert.equal(result.bytesWritten, alone.bytesWritten);
        assert.equal(result.bytesReserved, alone.bytesReserved);
        assert.ok(
          fs.readFileSync(path.join(dir, "threads", `d${i % 4}`, `a${i}.npy`))
            .equals(fs.readFileSync(path.join(dir, "main", `d${i % 4}`, `a${i}.npy`))),
          `a${i}.npy`,
        );
      }
      // The folders the threads created or linked into are reported, for the main thread to sync.
      assert.ok(pool.changedFolders.includes(path.join(dir, "threads")));
      assert.ok(pool.changedFolders.includes(path.join(dir, "threads", "d3")));
    });
  });

  test("an error on a thread arrives with its code and message", async () => {
    const pool = startPool(1);
    await withTempDir("pool", async (dir) => {
      const target = path.join(dir, "taken.npy");
      fs.writeFileSync(target, "mine");
      const [outcome] = await writeAll(pool, [item(target, layouts[0]!)]);
      assert.equal(outcome?.kind, "failed");
      const err = (outcome as { error: unknown }).error;
      assert.ok(err instanceof NpyallocError);
      assert.equal(err.code, "E_EXISTS");
      assert.equal(err.message, `Cannot create '${target}': it already exists`);
      assert.equal(fs.readFileSync(target, "utf8"), "mine");
    });
  });

  test("an abort refuses what has not started; every file is complete or absent", async () => {
    const pool = startPool(2);
    await withTempDir("pool", async (dir) => {
      const writes = writeAll(
        pool,
        Array.from({ length: 4000 }, (_, i) => item(path.join(dir, `a${i}.npy`), layouts[1]!)),
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
      pool.abort();
      const outcomes = (await writes).map((o) =>
        o.kind === "written" ? "created" : o.kind === "failed" ? o.error.code : o.kind
      );
      const created = outcomes.filter((o) => o === "created").length;
      assert.equal(created + outcomes.filter((o) => o === "E_INTERRUPTED").length, 4000);
      assert.ok(created < 4000, "the abort stopped the pool before the end");
      const files = fs.readdirSync(dir);
      assert.equal(files.length, created);
      for (const file of files) {
        assert.equal(fs.statSync(path.join(dir, file)).size, Number(layouts[1]!.fileBytes));
      }
      assert.deepEqual(openFilesBelow(process.pid, dir), []);
    });
  });
});

/** An array's fate in a run whose writer threads fail, as `_support/pool_failure.ts` prints it. */
interface Fate {
  path: string;
  status: string;
  reason: string | null;
  error: string | null;
  size: number;
  expected: number;
}

/**
 * Runs 600 arrays on writer threads that fail, in a process of its own: the runtime prints the
 * threads' uncaught errors, on purpose here, to that process's stderr, captured.
 */
function runWithFailingThreads(kind: "failing" | "dying", dir: string) {
  const script = new URL("./_support/pool_failure.ts", import.meta.url).pathname;
  const args = "Deno" in globalThis ? ["run", "-A", script, kind, dir] : [script, kind, dir];
  const run = spawnSync(process.execPath, args, { encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as { lost: string[]; outcomes: Fate[] };
}

describe("executePlan with writer threads", () => {
  test("arrays that no thread is left to write are written on the main thread", async () => {
    await withTempDir("pool-lost", (dir) => {
      const { lost, outcomes } = runWithFailingThreads("failing", dir);
      assert.ok(lost.length >= 1, "the threads' failure was reported");
      assert.match(lost[0]!, /fails on purpose/);
      assert.equal(outcomes.length, 600);
      for (const outcome of outcomes) {
        assert.equal(outcome.status, "created", outcome.error ?? outcome.path);
        assert.equal(outcome.size, outcome.expected);
      }
    });
  });
});

describe("executePlan with a writer thread that dies after writing", () => {
  test("the files it named are its run's, not another run's; the rest are created", async () => {
    await withTempDir("pool-died", (dir) => {
      const { lost, outcomes } = runWithFailingThreads("dying", dir);
      assert.equal(lost.length, 1);
      assert.match(lost[0]!, /dies on purpose/);
      const byStatus = new Map<string, number>();
      for (const outcome of outcomes) {
        byStatus.set(outcome.status, (byStatus.get(outcome.status) ?? 0) + 1);
        assert.equal(outcome.size, outcome.expected);
        if (outcome.status === "unchanged") {
          assert.equal(outcome.reason, "written by a writer thread of this run before it stopped");
        } else {
          assert.equal(outcome.status, "created", outcome.error ?? outcome.path);
        }
      }
      assert.ok((byStatus.get("unchanged") ?? 0) > 0, "the thread wrote some files before dying");
      assert.ok((byStatus.get("created") ?? 0) > 0, "the main thread wrote the rest");
    });
  });
});

describe("npyalloc run on writer threads", () => {
  const manifest = (count: number) =>
    `version: 1\nroot: \${OUT}\narrays:\n  - path: d{j}/x-{i:04d}.npy\n` +
    `    foreach: { j: { range: [0, 3] }, i: { range: [0, ${count}] } }\n` +
    `    shape: [16, 16]\n    dtype: "<f4"\n    fill: "\${FILL:-0}"\n`;

  test("writes the same files and report with --threads 2 as with --threads 1", async () => {
    await withTempDir("pool-run", async (dir) => {
      const file = path.join(dir, "m.yaml");
      fs.writeFileSync(file, manifest(200));
      const reports: Record<string, unknown>[] = [];
      for (
        const [out, threads, fill] of [["one", "1", "0"], ["two", "2", "0"], ["w2", "2", "2.5"]]
      ) {
        const r = await runCli([
          "run",
          file,
          "-q",
          "--threads",
          threads!,
          "--var",
          `OUT=${out}`,
          "--var",
          `FILL=${fill}`,
          "-r",
          path.join(dir, `${out}.json`),
        ]);
        assert.equal(r.status, 0, r.stderr);
        reports.push(JSON.parse(fs.readFileSync(path.join(dir, `${out}.json`), "utf8")));
      }
      const strip = (report: Record<string, unknown>) =>
        (report.arrays as Record<string, unknown>[]).map((a) => ({
          ...a,
          duration_ms: 0,
        }));
      assert.deepEqual(strip(reports[1]!), strip(reports[0]!));
      assert.deepEqual((reports[1] as { warnings: string[] }).warnings, []);
      for (const [i, name] of fs.readdirSync(path.join(dir, "one", "d1")).entries()) {
        if (i % 37 !== 0) continue;
        assert.ok(
          fs.readFileSync(path.join(dir, "one", "d1", name))
            .equals(fs.readFileSync(path.join(dir, "two", "d1", name))),
        );
      }
      const written = reports[2] as {
        summary: { created: number };
        arrays: { allocated_by: string }[];
      };
      assert.equal(written.summary.created, 600);
      assert.ok(written.arrays.every((a) => a.allocated_by === "write"));
    });
  });

  // Runs Deno itself in a child process, so the Bun run of the suite checks it too.
  for (
    const [label, ffi, allocatedBy] of [
      ["with the narrowest permissions README gives", true, "fallocate"],
      ["without --allow-ffi", false, "zeros"],
    ] as const
  ) {
    test(`works on Deno ${label}: every array written on the threads`, async () => {
      await withTempDir("pool-run", (dir) => {
        const file = path.join(dir, "m.yaml");
        fs.writeFileSync(file, manifest(200));
        const deno = "Deno" in globalThis
          ? process.execPath
          : path.join(import.meta.dirname ?? ".", "../node_modules/.bin/deno");
        const cli = path.join(import.meta.dirname ?? ".", "../src/cli.ts");
        const permissions = ["--allow-read", "--allow-write", "--allow-env", "--allow-sys"];
        const r = spawnSync(deno, [
          "run",
          ...permissions,
          ...(ffi ? ["--allow-ffi"] : []),
          cli,
          "run",
          file,
          "-q",
          "--threads",
          "2",
          "--var",
          "OUT=out",
        ], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stderr, "");
        const report = JSON.parse(
          fs.readFileSync(path.join(dir, "npyalloc-report.json"), "utf8"),
        );
        assert.equal(report.summary.created, 600);
        // Without FFI, Deno gives node:fs no way into /proc/self/fd: folders are not pinned,
        // and the report says so.
        assert.deepEqual(
          report.warnings.map((w: string) => /^Folders are opened by path/.test(w)),
          ffi ? [] : [true],
        );
        assert.ok(
          report.arrays.every((a: { allocated_by: string }) => a.allocated_by === allocatedBy),
        );
      });
    });
  }

  test("--threads takes a positive integer", async () => {
    await withTempDir("pool-run", async (dir) => {
      const file = path.join(dir, "m.yaml");
      fs.writeFileSync(file, manifest(2));
      const r = await runCli(["run", file, "--threads", "0", "--var", "OUT=x"]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /--threads/);
    });
  });
});
