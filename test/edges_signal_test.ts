// SIGINT and SIGTERM for every command (SPEC 1, 3.6), beyond the `run` of fault_signal_test.ts:
// `create` in the middle of a multi-GiB write stops within two seconds with exit 130 and leaves
// no file and no temporary file; `validate`, `plan` and `verify` of a manifest that is a FIFO
// nobody writes stop on SIGTERM, and `inspect` of such a FIFO never waits for it; a second SIGINT
// soon after the first, while a file is written under a temporary name (`create --force`), still
// leaves no temporary file and the replaced file as it was; an interrupted write names its file.
//
// The writes go to a tmpfs when this process may mount one (root), else to the system temp
// folder.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import {
  openFilesBelow,
  sendSignal,
  sleep,
  tempFilesBelow,
  u8Entry,
  waitFor,
  writeManifest,
} from "./_support/fault.ts";
import { listFiles } from "./_support/temp.ts";
import { readReport } from "./_support/report.ts";
import { type CliExit, type CliProcess, runCli, startCli } from "./_support/cli.ts";
import { withScratch } from "./_support/mounts.ts";

/** Bun stops a test after 5 s unless told otherwise; these start processes and mount filesystems. */
const TIMEOUT_MS = 60_000;

/** How long a command may take to stop after the signal (SPEC 1: "within a second or two"). */
const STOP_WITHIN_MS = 2000;
const MiB = 1024 * 1024;

/**
 * Sends `signal` to `proc` and waits at most {@linkcode STOP_WITHIN_MS} for it to end; one that
 * is still there then is killed (so that a failing test does not hang) and the test fails.
 */
async function signalAndWait(proc: CliProcess, signal: string): Promise<CliExit> {
  const sentAt = performance.now();
  sendSignal(proc, signal);
  const late = Symbol("late");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ended = await Promise.race([
    proc.exited,
    new Promise<typeof late>((
      resolve,
    ) => (timer = setTimeout(() => resolve(late), STOP_WITHIN_MS))),
  ]);
  clearTimeout(timer);
  if (ended === late) {
    sendSignal(proc, "SIGKILL");
    const exit = await proc.exited;
    assert.fail(`still running ${STOP_WITHIN_MS} ms after ${signal}; stderr: ${exit.stderr}`);
  }
  const tookMs = ended.endedAt - sentAt;
  assert.ok(tookMs < STOP_WITHIN_MS, `it took ${tookMs.toFixed(0)} ms to stop after ${signal}`);
  assert.doesNotMatch(ended.stderr, /\n\s+at |internal error/, "no stack trace");
  return ended;
}

/** Whether `proc` has ended. */
function endedFlag(proc: CliProcess): () => boolean {
  let ended = false;
  void proc.exited.then(() => (ended = true));
  return () => ended;
}

describe("create: a signal during a multi-GiB write", () => {
  for (const signal of ["SIGINT", "SIGTERM"]) {
    test(`${signal}: exit 130 within ${STOP_WITHIN_MS} ms, no file, no temp`, {
      timeout: TIMEOUT_MS,
    }, async () => {
      await withScratch("8g", async (dir) => {
        const target = path.join(dir, "big.npy");
        const create = startCli([
          "create",
          target,
          "--shape",
          "6000000000",
          "--dtype",
          "uint8",
          "--fill",
          "7",
        ]);
        const ended = endedFlag(create);
        // Well under way: the file being written (unnamed, or under a temporary name) holds
        // 256 MiB of its 6 GB.
        await waitFor(
          () => ended() || openFilesBelow(create.pid, dir).some((f) => f.size >= 256 * MiB),
          "the 6 GB write to start",
        );
        assert.equal(ended(), false, "the write ended before the signal");
        const exit = await signalAndWait(create, signal);
        assert.equal(exit.status, 130, `exit ${exit.status} (${exit.signal}): ${exit.stderr}`);
        assert.deepEqual(listFiles(dir), [], "no file and no temporary file is left");
        // The message names the file, not a descriptor.
        assert.match(exit.stderr, /big\.npy' interrupted/);
        assert.doesNotMatch(exit.stderr, /file descriptor/);
      });
    });
  }
});

describe("a command reading a FIFO that never gets a writer", () => {
  for (const command of ["validate", "plan", "verify"]) {
    test(`${command}: SIGTERM stops it with exit 130 within ${STOP_WITHIN_MS} ms`, {
      timeout: TIMEOUT_MS,
    }, async () => {
      await withScratch("16m", async (dir) => {
        const fifo = path.join(dir, "manifest.yaml");
        assert.equal(spawnSync("mkfifo", [fifo]).status, 0, "mkfifo");
        const proc = startCli([command, fifo]);
        const ended = endedFlag(proc);
        await sleep(800);
        assert.equal(ended(), false, `${command} ended before the signal: it did not wait`);
        const exit = await signalAndWait(proc, "SIGTERM");
        assert.equal(exit.status, 130, `exit ${exit.status} (${exit.signal}): ${exit.stderr}`);
        assert.match(exit.stderr, /Interrupted/);
      });
    });
  }

  test(`inspect: a clear error at once, or exit 130 within ${STOP_WITHIN_MS} ms of SIGTERM`, {
    timeout: TIMEOUT_MS,
  }, async () => {
    await withScratch("16m", async (dir) => {
      const fifo = path.join(dir, "data.npy");
      assert.equal(spawnSync("mkfifo", [fifo]).status, 0, "mkfifo");
      const proc = startCli(["inspect", fifo]);
      const ended = endedFlag(proc);
      await sleep(800);
      if (ended()) {
        // It never opened the FIFO for reading: it said what the file is instead.
        const exit = await proc.exited;
        assert.equal(exit.status, 1, exit.stderr);
        assert.match(exit.stdout, /not a regular file \(a FIFO\)/);
        return;
      }
      const exit = await signalAndWait(proc, "SIGTERM");
      assert.equal(exit.status, 130, `exit ${exit.status} (${exit.signal}): ${exit.stderr}`);
    });
  });
});

describe("a second SIGINT soon after the first", () => {
  for (const gapMs of [5, 50, 200]) {
    test(
      `${gapMs} ms apart, writing under a temporary name: exit 130, no temp, the old file kept`,
      {
        timeout: TIMEOUT_MS,
      },
      async () => {
        await withScratch("4g", async (dir) => {
          const target = path.join(dir, "big.npy");
          const small = await runCli(["create", target, "--shape", "10", "--dtype", "uint8"]);
          assert.equal(small.status, 0, small.stderr);
          const before = fs.readFileSync(target);
          // --force replaces through a temporary name beside the target, renamed over it at the end.
          const create = startCli([
            "create",
            target,
            "--shape",
            "3000000000",
            "--dtype",
            "uint8",
            "--fill",
            "7",
            "--force",
          ]);
          const ended = endedFlag(create);
          await waitFor(
            () =>
              ended() ||
              tempFilesBelow(dir).some((t) => fs.statSync(path.join(dir, t)).size >= 64 * MiB),
            "the write under a temporary name to start",
          );
          assert.equal(ended(), false, "the write ended before the signal");
          sendSignal(create, "SIGINT");
          await sleep(gapMs);
          const exit = await signalAndWait(create, "SIGINT");
          // Exit 130; or, when the second signal comes once the command has cleaned up and is on
          // its way out (its handlers gone), the signal's own ending, which a shell reports as
          // 130 too.
          assert.ok(
            exit.status === 130 || (exit.status === null && exit.signal === "SIGINT"),
            `exit ${exit.status} (${exit.signal}): ${exit.stderr}`,
          );
          assert.deepEqual(tempFilesBelow(dir), [], "no temporary file is left");
          assert.deepEqual(listFiles(dir), ["big.npy"]);
          assert.ok(
            fs.readFileSync(target).equals(before),
            "the file it would replace is as it was",
          );
        });
      },
    );
  }
});

describe("run: the interrupted write's message", () => {
  test("names the array's file, not a file descriptor", { timeout: TIMEOUT_MS }, async () => {
    await withScratch("4g", async (dir) => {
      const data = path.join(dir, "data");
      const manifest = writeManifest(path.join(dir, "m.yaml"), "data", [
        u8Entry("a/big.npy", 3n * 1024n ** 3n, { fill: 7 }),
      ]);
      const run = startCli(["run", manifest, "-j", "1"]);
      const ended = endedFlag(run);
      await waitFor(
        () => ended() || openFilesBelow(run.pid, data).some((f) => f.size >= 64 * MiB),
        "the 3 GiB write to start",
      );
      assert.equal(ended(), false, "the write ended before the signal");
      const exit = await signalAndWait(run, "SIGINT");
      assert.equal(exit.status, 130, exit.stderr);
      const report = readReport(path.join(dir, "npyalloc-report.json"));
      const [big] = report.arrays;
      assert.equal(big?.status, "interrupted");
      assert.equal(big?.error?.code, "E_INTERRUPTED");
      const message = big?.error?.message ?? "";
      assert.match(message, /Write of '[^']*\/data\/a\/big\.npy' interrupted at offset \d+/);
      assert.doesNotMatch(message, /file descriptor/);
      assert.match(exit.stderr, /interrupted a\/big\.npy \(Write of '[^']*big\.npy'/);
    });
  });
});
