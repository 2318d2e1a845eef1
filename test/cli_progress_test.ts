import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Progress } from "../src/cli/progress.ts";
import fs from "node:fs";
import path from "node:path";
import { runManifest } from "../src/mod.ts";
import type { ArrayStatus, FinishedArray } from "../src/run/execute.ts";
import { withTempDir } from "./_support/temp.ts";

function recorder(): { out: string[]; write(text: string): void } {
  const out: string[] = [];
  return { out, write: (text: string) => void out.push(text) };
}

const done = (path: string, status: ArrayStatus = "created", error: string | null = null) => ({
  path,
  status,
  fileBytes: 1024n * 1024n,
  how: "reserved",
  durationMs: 3,
  error,
  uncountedBytes: 0n,
});

/** A progress display that has been told the run's totals. */
function withTotals(p: Progress, totals: { files: number; bytes: bigint }): Progress {
  p.begin(totals);
  return p;
}

describe("progress", () => {
  test("outside a terminal: one line per finished array", () => {
    const r = recorder();
    const p = withTotals(new Progress("lines", r.write), { files: 2, bytes: 2n * 1024n * 1024n });
    p.bytes(1024);
    p.finished(done("a.npy"));
    p.finished(done("b.npy", "failed", "Cannot write 'b.npy': no space left on device (ENOSPC)"));
    p.close();
    assert.deepEqual(r.out, [
      "created a.npy (1.0 MiB, reserved, 3 ms)\n",
      "failed b.npy (Cannot write 'b.npy': no space left on device (ENOSPC))\n",
    ]);
  });

  test("on a terminal: one live line with files, bytes, throughput and ETA, at most 10 redraws a second", () => {
    const r = recorder();
    let now = 0;
    const p = withTotals(
      new Progress("live", r.write, {
        now: () => now,
      }),
      { files: 4, bytes: 4n * 1024n * 1024n },
    );
    now = 1000;
    p.bytes(1024 * 1024);
    assert.equal(r.out.at(-1), "\r\u001b[2K0/4 files, 1.0 MiB / 4.0 MiB, 1.0 MiB/s, ETA 3s");
    const drawn = r.out.length;
    now = 1050;
    p.bytes(1024);
    assert.equal(r.out.length, drawn, "redrawn within 100 ms");
    now = 2000;
    p.finished(done("a.npy"));
    assert.ok(
      r.out.at(-1)!.startsWith("\r\u001b[2K1/4 files, 1.0 MiB / 4.0 MiB"),
      String(r.out.at(-1)),
    );
    p.finished(done("b.npy", "failed", "boom"));
    assert.ok(r.out.includes("failed b.npy: boom\n"), "a failure gets its own line");
    p.close();
    assert.equal(r.out.at(-1), "\n");
  });

  test("colour only when asked, for status words", () => {
    const r = recorder();
    withTotals(new Progress("lines", r.write, { color: true }), { files: 1, bytes: 0n }).finished(
      done("a.npy"),
    );
    assert.equal(r.out[0], "\u001b[32mcreated\u001b[0m a.npy (1.0 MiB, reserved, 3 ms)\n");
  });

  test("quiet prints nothing", () => {
    const r = recorder();
    const p = withTotals(new Progress("quiet", r.write), { files: 1, bytes: 10n });
    p.bytes(10);
    p.finished(done("a.npy"));
    p.close();
    assert.deepEqual(r.out, []);
  });
});

describe("in a CI log", () => {
  test("a long array prints a line at least every 5 seconds while it is written", () => {
    const r = recorder();
    let now = 0;
    const p = new Progress("lines", r.write, { now: () => now });
    p.begin({ files: 1, bytes: 6n * 1024n ** 3n });
    p.started("big.npy", 6n * 1024n ** 3n);
    for (let second = 1; second <= 12; second++) {
      now = second * 1000;
      p.bytes(512 * 1024 * 1024);
    }
    p.close();
    assert.deepEqual(r.out, [
      "writing: 0/1 files, 2.5 GiB / 6.0 GiB, 512.0 MiB/s, ETA 7s\n",
      "writing: 0/1 files, 5.0 GiB / 6.0 GiB, 512.0 MiB/s, ETA 2s\n",
    ]);
  });
});

describe("after an interrupt", () => {
  test("the bytes shown are the bytes written, not the interrupted array's size", async () => {
    await withTempDir("progress-interrupt", async (dir) => {
      const manifest = path.join(dir, "m.yaml");
      fs.writeFileSync(
        manifest,
        "version: 1\nroot: data\narrays:\n" +
          "  - {path: big.npy, dtype: uint8, shape: [1073741824], fill: 7}\n",
      );
      const controller = new AbortController();
      let counted = 0n;
      const finished: FinishedArray[] = [];
      const result = await runManifest(manifest, {
        fsync: false,
        signal: controller.signal,
        progress: {
          bytes(n) {
            counted += BigInt(n);
            if (counted >= 64n * 1024n * 1024n) controller.abort();
          },
          finished: (done) => void finished.push(done),
        },
      });
      assert.equal(result.exitCode, 130);
      assert.equal(finished.length, 1);
      const [done] = finished as [FinishedArray];
      assert.equal(done.status, "interrupted");
      assert.equal(done.uncountedBytes, 0n, "nothing is added for an array that did not finish");
      assert.ok(counted < done.fileBytes, `${counted} bytes counted of ${done.fileBytes}`);

      // And the line drawn from those events says so.
      const out: string[] = [];
      const progress = new Progress("live", (t) => void out.push(t), { now: () => 0 });
      progress.begin({ files: 1, bytes: done.fileBytes });
      progress.bytes(counted);
      progress.finished(done);
      progress.close();
      const last = out.join("").split("\r").at(-1) ?? "";
      assert.match(last, /\/1 files, [0-9.]+ MiB \/ 1\.0 GiB/);
    });
  });
});
