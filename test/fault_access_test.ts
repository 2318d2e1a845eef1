// The OS refusing to write (EROFS, EACCES): each array fails cleanly with a stable code in the
// report (E_READ_ONLY, E_PERMISSION), the others are still created, nothing partial is left,
// and the exit code is 1.
//
// The read-only case bind-mounts a folder read-only (root; never skipped with CI=true). Root
// ignores permission bits, so the EACCES case runs the CLI as `nobody` (via setpriv).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { assertCompleteFill, u8Entry, writeManifest } from "./_support/fault.ts";
import { listFiles } from "./_support/temp.ts";
import { readReport } from "./_support/report.ts";
import { runCli } from "./_support/cli.ts";
import { mountSkip, rootSkip, skipNamed, withReadOnlyBind } from "./_support/mounts.ts";

/** Bun stops a test after 5 s unless told otherwise; these start processes and mount filesystems. */
const TIMEOUT_MS = 60_000;

const NOBODY = 65534;

/** A fresh folder that `nobody` can enter and write (mode 0777), removed afterwards. */
async function withOpenFolder(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "npyalloc-fault-access-"));
  fs.chmodSync(dir, 0o777);
  try {
    await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("the OS refuses to write", () => {
  const readOnlySkip = mountSkip("a read-only bind mount");
  test(
    skipNamed(
      "a read-only filesystem: E_READ_ONLY per array, exit 1, nothing written",
      readOnlySkip,
    ),
    {
      skip: readOnlySkip,
      timeout: TIMEOUT_MS,
    },
    async () => {
      await withOpenFolder(async (outside) => {
        const source = path.join(outside, "source");
        fs.mkdirSync(path.join(source, "existing"), { recursive: true });
        await withReadOnlyBind(source, async (readOnly) => {
          const manifest = writeManifest(path.join(outside, "m.yaml"), readOnly, [
            u8Entry("existing/a.npy", 4096, { fill: 3 }),
            u8Entry("new-folder/b.npy", 4096, { allocation: "reserve" }),
            u8Entry("c.npy", 1 << 20, { allocation: "sparse" }),
          ]);
          const run = await runCli(["run", manifest]);
          assert.equal(run.status, 1, run.stderr);
          assert.doesNotMatch(run.stderr, /\n\s+at |internal error/);
          const report = readReport(path.join(outside, "npyalloc-report.json"));
          assert.equal(report.exit_code, 1);
          assert.deepEqual(
            report.arrays.map((a) => [a.path, a.status, a.error?.code]),
            [
              ["existing/a.npy", "failed", "E_READ_ONLY"],
              ["new-folder/b.npy", "failed", "E_READ_ONLY"],
              ["c.npy", "failed", "E_READ_ONLY"],
            ],
          );
          for (const a of report.arrays) {
            assert.match(a.error?.message ?? "", /read-only filesystem \(EROFS\)/);
          }
          assert.equal(report.summary.failed, 3);
          assert.deepEqual(listFiles(source), [], "nothing was written");
          assert.deepEqual(fs.readdirSync(source), ["existing"]);
        });
      });
    },
  );

  const nobodySkip = rootSkip("running the CLI as nobody");
  test(
    skipNamed(
      "a folder without write permission: E_PERMISSION per array, the others created",
      nobodySkip,
    ),
    {
      skip: nobodySkip,
      timeout: TIMEOUT_MS,
    },
    async () => {
      await withOpenFolder(async (outside) => {
        const root = path.join(outside, "root");
        fs.mkdirSync(path.join(root, "locked"), { recursive: true });
        fs.mkdirSync(path.join(root, "open"));
        fs.chmodSync(root, 0o777);
        fs.chmodSync(path.join(root, "open"), 0o777);
        fs.chmodSync(path.join(root, "locked"), 0o555);
        const home = path.join(outside, "home");
        fs.mkdirSync(home, { mode: 0o777 });
        fs.chmodSync(home, 0o777);
        const manifest = writeManifest(path.join(outside, "m.yaml"), root, [
          u8Entry("locked/a.npy", 4096, { fill: 3 }),
          u8Entry("locked/sub/b.npy", 4096, { allocation: "reserve" }),
          u8Entry("open/c.npy", 4096, { fill: 5 }),
          u8Entry("open/sub/d.npy", 4096),
        ]);
        const run = await runCli(["run", manifest], {
          asUser: NOBODY,
          // Deno and Bun keep caches in the home folder.
          env: { HOME: home, DENO_DIR: path.join(home, "deno") },
        });
        assert.equal(run.status, 1, run.stderr);
        assert.doesNotMatch(run.stderr, /\n\s+at |internal error/);
        const report = readReport(path.join(outside, "npyalloc-report.json"));
        assert.deepEqual(
          report.arrays.map((a) => [a.path, a.status, a.error?.code]),
          [
            ["locked/a.npy", "failed", "E_PERMISSION"],
            ["locked/sub/b.npy", "failed", "E_PERMISSION"],
            ["open/c.npy", "created", undefined],
            ["open/sub/d.npy", "created", undefined],
          ],
        );
        for (const a of report.arrays.slice(0, 2)) {
          assert.match(a.error?.message ?? "", /permission denied \(EACCES\)/);
        }
        assert.deepEqual(
          fs.readdirSync(path.join(root, "locked")),
          [],
          "nothing in the locked folder",
        );
        assertCompleteFill(path.join(root, "open", "c.npy"), 4096, 5);
        assertCompleteFill(path.join(root, "open", "sub", "d.npy"), 4096, 0);
        assert.equal(fs.statSync(path.join(root, "open", "c.npy")).uid, NOBODY);
      });
    },
  );
});
