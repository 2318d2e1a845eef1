// SIGINT and SIGTERM in the middle of a multi-GiB write (SPEC 3.6): the run stops within a
// second or two with exit 130, leaves no partial file at any target and no temporary file, and
// writes a report whose arrays are `interrupted`.
//
// The write goes to a 4 GiB tmpfs when this process may mount one (root), else to the system
// temp folder; the run is interrupted once 256 MiB of its 3 GiB are written.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { openFilesBelow, sendSignal, u8Entry, waitFor, writeManifest } from "./_support/fault.ts";
import { listFiles } from "./_support/temp.ts";
import { readReport } from "./_support/report.ts";
import { startCli } from "./_support/cli.ts";
import { withScratch } from "./_support/mounts.ts";

/** Bun stops a test after 5 s unless told otherwise; these start processes and mount filesystems. */
const TIMEOUT_MS = 60_000;

const GiB = 1024n ** 3n;
const STARTED_BYTES = 256 * 1024 * 1024;
/** How long the run may take to stop after the signal. */
const STOP_WITHIN_MS = 2000;

describe("a signal during a multi-GiB write", () => {
  for (const signal of ["SIGINT", "SIGTERM"]) {
    test(`${signal}: exit 130 within ${STOP_WITHIN_MS} ms, no partial file, no temp, a report`, {
      timeout: TIMEOUT_MS,
    }, async () => {
      await withScratch("4g", async (dir) => {
        const data = path.join(dir, "data");
        const manifest = writeManifest(path.join(dir, "m.yaml"), "data", [
          u8Entry("big/three-gib.npy", 3n * GiB, { fill: 7 }),
          u8Entry("after-1.npy", 4096, { fill: 7 }),
          u8Entry("after-2.npy", 4096),
        ]);
        const run = startCli(["run", manifest, "-j", "1"]);
        // Wait until the big array is well under way: the file being written holds 256 MiB.
        await waitFor(
          () => openFilesBelow(run.pid, data).some((f) => f.size >= STARTED_BYTES),
          "the 3 GiB write to start",
        );
        const sentAt = performance.now();
        sendSignal(run, signal);
        const exit = await run.exited;
        const tookMs = exit.endedAt - sentAt;
        assert.equal(exit.status, 130, `exit ${exit.status} (${exit.signal}): ${exit.stderr}`);
        assert.ok(tookMs < STOP_WITHIN_MS, `the run took ${tookMs.toFixed(0)} ms to stop`);
        assert.doesNotMatch(exit.stderr, /\n\s+at /, "no stack trace");

        assert.deepEqual(listFiles(data), [], "no target and no temporary file is left");
        const report = readReport(path.join(dir, "npyalloc-report.json"));
        assert.equal(report.exit_code, 130);
        assert.equal(report.ok, false);
        assert.equal(report.error?.code, "E_INTERRUPTED");
        assert.deepEqual(
          report.arrays.map((a) => [a.path, a.status, a.error?.code]),
          [
            ["big/three-gib.npy", "interrupted", "E_INTERRUPTED"],
            ["after-1.npy", "interrupted", "E_INTERRUPTED"],
            ["after-2.npy", "interrupted", "E_INTERRUPTED"],
          ],
        );
        assert.equal(report.summary.interrupted, 3);
        assert.equal(report.summary.created, 0);
        assert.match(exit.stderr, /3 interrupted/);
      });
    });
  }
});
