// Pinned folders and the outcomes of a run whose folders misbehave (SPEC 3.7, 3.9):
// - a folder swapped for a symbolic link to a folder outside the root while an earlier array is
//   being written: nothing appears outside the root, and the report says honestly what became of
//   the later arrays (created in the folder the run pinned, or failed with E_NOT_A_DIRECTORY);
// - a folder whose fsync fails (mode 0333, the CLI run as `nobody`: it can create files there but
//   not open the folder to sync it): the report keeps every array's outcome, its error names the
//   folder, stderr says what failed, exit 1.
//
// The swap runs on a tmpfs when this process may mount one (root), else in the system temp
// folder; the fsync case needs root (root ignores permission bits, so the CLI runs as nobody).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  assertCompleteFill,
  openFilesBelow,
  sendSignal,
  u8Entry,
  waitFor,
  writeManifest,
} from "./_support/fault.ts";
import { listFiles } from "./_support/temp.ts";
import { readReport } from "./_support/report.ts";
import { runCli, startCli } from "./_support/cli.ts";
import { rootSkip, skipNamed, withScratch } from "./_support/mounts.ts";

/** Bun stops a test after 5 s unless told otherwise; these start processes and mount filesystems. */
const TIMEOUT_MS = 60_000;

const MiB = 1024 * 1024;
const NOBODY = 65534;

describe("a folder swapped for a symbolic link during the run", () => {
  test("later arrays never land outside the root, and the report says where they are", {
    timeout: TIMEOUT_MS,
  }, async () => {
    await withScratch("1g", async (dir) => {
      const data = path.join(dir, "data");
      const outside = path.join(dir, "outside");
      for (const folder of ["data/a", "data/b", "outside"]) {
        fs.mkdirSync(path.join(dir, folder), { recursive: true });
      }
      const bigBytes = 400 * MiB;
      const manifest = writeManifest(path.join(dir, "m.yaml"), "data", [
        u8Entry("a/big.npy", bigBytes, { fill: 7 }),
        u8Entry("b/x.npy", 4096, { fill: 3 }),
        u8Entry("b/sub/y.npy", 4096, { fill: 5 }),
      ]);
      const run = startCli(["run", manifest, "-j", "1"]);
      // Held still while the first array is being written, so that the swap lands mid-run.
      await waitFor(
        () => openFilesBelow(run.pid, path.join(data, "a")).length > 0,
        "the first write to start",
      );
      sendSignal(run, "SIGSTOP");
      try {
        assert.equal(fs.existsSync(path.join(data, "a", "big.npy")), false, "still writing");
        fs.renameSync(path.join(data, "b"), path.join(data, "b-moved"));
        fs.symlinkSync(outside, path.join(data, "b"));
      } finally {
        sendSignal(run, "SIGCONT");
      }
      const exit = await run.exited;
      assert.doesNotMatch(exit.stderr, /\n\s+at |internal error/);

      assert.deepEqual(listFiles(outside), [], "nothing was written outside the root");
      assertCompleteFill(path.join(data, "a", "big.npy"), bigBytes, 7);
      const report = readReport(path.join(dir, "npyalloc-report.json"));
      const byPath = new Map(report.arrays.map((a) => [a.path, a]));
      assert.equal(byPath.get("a/big.npy")?.status, "created");
      let failed = 0;
      for (const [declared, fill] of [["b/x.npy", 3], ["b/sub/y.npy", 5]] as const) {
        const outcome = byPath.get(declared);
        assert.ok(outcome, declared);
        const pinned = path.join(data, "b-moved", declared.slice(2));
        if (outcome.status === "created") {
          // Written into the folder the run had pinned, which is inside the root.
          assertCompleteFill(pinned, 4096, fill);
        } else {
          failed++;
          assert.equal(outcome.status, "failed", `${declared}: ${outcome.status}`);
          assert.equal(outcome.error?.code, "E_NOT_A_DIRECTORY", outcome.error?.message ?? "");
          assert.match(outcome.error?.message ?? "", /no longer a folder/);
          assert.match(outcome.error?.message ?? "", /data\/b'/);
          assert.equal(fs.existsSync(pinned), false, `${declared} failed, yet it is there`);
        }
      }
      assert.equal(report.summary.failed, failed);
      assert.equal(report.summary.created, 3 - failed);
      assert.equal(exit.status, failed > 0 ? 1 : 0, exit.stderr);
      assert.equal(report.exit_code, exit.status);
    });
  });
});

describe("a folder that cannot be synced after its files were linked", () => {
  const nobodySkip = rootSkip("running the CLI as nobody");
  test(
    skipNamed(
      "mode 0333: every array keeps its outcome, the error names the folder, exit 1",
      nobodySkip,
    ),
    { skip: nobodySkip, timeout: TIMEOUT_MS },
    async () => {
      const outer = fs.mkdtempSync(path.join(os.tmpdir(), "npyalloc-edges-folders-"));
      try {
        fs.chmodSync(outer, 0o777);
        const root = path.join(outer, "root");
        const folder = path.join(root, "write-only");
        fs.mkdirSync(folder, { recursive: true });
        fs.chmodSync(root, 0o777);
        // Write and search, no read: nobody can create files in it, but open(O_RDONLY) of the
        // folder, which its fsync needs, fails with EACCES.
        fs.chmodSync(folder, 0o333);
        const home = path.join(outer, "home");
        fs.mkdirSync(home, { mode: 0o777 });
        fs.chmodSync(home, 0o777);
        const manifest = writeManifest(path.join(outer, "m.yaml"), root, [
          u8Entry("write-only/a.npy", 4096, { fill: 3 }),
          u8Entry("write-only/b.npy", 8192, { allocation: "reserve" }),
        ]);
        // --allow-outside-root: the check for symbolic links lists the folder, which nobody
        // cannot do here.
        const run = await runCli(["run", manifest, "--allow-outside-root"], {
          asUser: NOBODY,
          env: { HOME: home, DENO_DIR: path.join(home, "deno") },
        });
        assert.equal(run.status, 1, run.stderr);
        assert.doesNotMatch(run.stderr, /\n\s+at |internal error/);
        assert.match(
          run.stderr,
          /Cannot sync folder '[^']*\/root\/write-only': permission denied \(EACCES\)/,
        );

        const report = readReport(path.join(outer, "npyalloc-report.json"));
        assert.equal(report.exit_code, 1);
        assert.equal(report.ok, false);
        assert.deepEqual(
          report.arrays.map((a) => [a.path, a.status]),
          [["write-only/a.npy", "created"], ["write-only/b.npy", "created"]],
          "each array keeps its outcome",
        );
        assert.equal(report.summary.created, 2);
        assert.equal(report.error?.code, "E_PERMISSION");
        assert.match(report.error?.message ?? "", /Cannot sync folder '[^']*\/root\/write-only'/);
        fs.chmodSync(folder, 0o755);
        assertCompleteFill(path.join(folder, "a.npy"), 4096, 3);
        assertCompleteFill(path.join(folder, "b.npy"), 8192, 0);
      } finally {
        fs.rmSync(outer, { recursive: true, force: true });
      }
    },
  );
});
