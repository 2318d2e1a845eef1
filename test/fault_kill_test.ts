// kill -9 at random moments (SPEC 3.3): whenever a run dies, every target is absent or a
// complete file holding its fill, and the next run completes and removes the dead runs'
// temporary files (where files are written under a temporary name rather than unnamed), also
// when those would not leave room for the next run's space check. Runs are killed three at a
// time, then one completes.
//
// KILL_TRIALS (default 24) sets the number of runs killed, KILL_SEED (default 9) the seed. The
// runs write to a tmpfs when this process may mount one (root), else to the system temp folder.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import {
  assertCompleteFill,
  deadPid,
  isWritingBelow,
  seededRandom,
  sendSignal,
  sleep,
  tempFilesBelow,
  tempNameOf,
  u8Entry,
  waitFor,
  writeManifest,
} from "./_support/fault.ts";
import { listFiles } from "./_support/temp.ts";
import { readReport } from "./_support/report.ts";
import { runCli, startCli } from "./_support/cli.ts";
import { mountSkip, skipNamed, withScratch, withTmpfs } from "./_support/mounts.ts";

/** Bun stops a test after 5 s unless told otherwise; these start processes and mount filesystems. */
const TIMEOUT_MS = 60_000;

const TRIALS = Number(process.env.KILL_TRIALS ?? 24);
const SEED = Number(process.env.KILL_SEED ?? 9);
const KiB = 1024;
const MiB = 1024 * KiB;

interface Target {
  readonly path: string;
  readonly bytes: number;
  /** The value of every data byte. */
  readonly fill: number;
  readonly extra: Record<string, string | number>;
}

/** 24 arrays in nested folders: written with a fill, reserved, and one sparse. */
function targets(random: () => number): Target[] {
  return Array.from({ length: 24 }, (_, i) => {
    const bytes = 4 * KiB + Math.floor(random() * 12 * MiB);
    const kind = i === 5 ? "sparse" : i % 4 === 1 ? "reserve" : "write";
    const fill = kind === "write" ? 1 + i : 0;
    return {
      path: `p${i % 3}/q${i % 2}/a${i}.npy`,
      bytes,
      fill,
      extra: kind === "write" ? { fill } : { allocation: kind },
    };
  });
}

/** Every file below `root` is a target, complete with its fill; returns how many there are. */
function checkTargets(root: string, list: readonly Target[], label: string): number {
  const byPath = new Map(list.map((t) => [t.path, t]));
  let present = 0;
  for (const file of listFiles(root)) {
    if (file.endsWith(".npyalloc-tmp")) continue;
    const target = byPath.get(file);
    assert.ok(target, `${label}: unexpected file ${file}`);
    assertCompleteFill(path.join(root, file), target.bytes, target.fill);
    present++;
  }
  return present;
}

describe("kill -9 at random moments", () => {
  test(
    `${TRIALS} runs killed (seed ${SEED}): targets absent or complete; the next run completes and cleans up`,
    {
      timeout: 30_000 + TRIALS * 3000,
    },
    async () => {
      const random = seededRandom(SEED);
      const list = targets(random);
      await withScratch("512m", async (dir) => {
        const root = path.join(dir, "data");
        const manifest = writeManifest(
          path.join(dir, "m.yaml"),
          "data",
          list.map((t) => u8Entry(t.path, t.bytes, t.extra)),
        );
        const run = ["run", manifest, "-q", "-j", "4"];
        // How long a whole run takes, and how long until it starts writing.
        const t0 = performance.now();
        const first = startCli(run);
        await waitFor(() => fs.existsSync(root), "the first run to start writing");
        const writingAfter = performance.now() - t0;
        assert.equal((await first.exited).status, 0);
        const whole = performance.now() - t0;

        let killedWhileWriting = 0;
        for (let trial = 0; trial < TRIALS; trial++) {
          const label = `trial ${trial} (seed ${SEED})`;
          // Some work for each run: about a third of the files removed (all of them at times).
          for (const t of list) {
            if (trial % 6 === 0 || random() < 0.35) {
              fs.rmSync(path.join(root, t.path), { force: true });
            }
          }
          const victim = startCli(run);
          let ended = false;
          void victim.exited.then(() => (ended = true));
          if (trial % 2 === 0) {
            // Anywhere in a run, from its start to past its end.
            await sleep(random() * whole * 1.1);
          } else {
            // While it writes: once it writes its first file.
            await waitFor(() => ended || isWritingBelow(victim.pid, root), `${label}: a write`);
            await sleep(random() * (whole - writingAfter) / 2);
          }
          const writing = isWritingBelow(victim.pid, root);
          sendSignal(victim, "SIGKILL");
          await victim.exited;
          checkTargets(root, list, label);
          if (writing) killedWhileWriting++;
          if (trial % 3 !== 2 && trial !== TRIALS - 1) continue;

          const next = await runCli(run);
          assert.equal(next.status, 0, `${label}: ${next.stderr}`);
          assert.equal(
            checkTargets(root, list, label),
            list.length,
            `${label}: every array is there`,
          );
          assert.deepEqual(
            tempFilesBelow(dir),
            [],
            `${label}: the dead runs' temporary files are gone`,
          );
          const report = readReport(path.join(dir, "npyalloc-report.json"));
          assert.equal(report.summary.created + report.summary.unchanged, list.length, label);
        }
        // The trials must have hit runs in the middle of their writes.
        assert.ok(
          killedWhileWriting >= TRIALS / 4,
          `only ${killedWhileWriting} kills landed mid-write`,
        );
      });
    },
  );

  const tmpfsSkip = mountSkip("a 16 MiB tmpfs");
  test(
    skipNamed(
      "a dead run's temporary files do not count against the next run's space check",
      tmpfsSkip,
    ),
    {
      skip: tmpfsSkip,
      timeout: TIMEOUT_MS,
    },
    async () => {
      await withTmpfs({ size: "16m" }, async (mount) => {
        await withScratch("1m", async (outside) => {
          const target = path.join(mount, "a.npy");
          const stale = tempNameOf(target, deadPid());
          fs.writeFileSync(stale, Buffer.alloc(12 * MiB, 1));
          const manifest = writeManifest(path.join(outside, "m.yaml"), mount, [
            u8Entry("a.npy", 8 * MiB, { fill: 2 }),
          ]);
          const run = await runCli(["run", manifest]);
          assert.equal(run.status, 0, run.stderr);
          assert.equal(fs.existsSync(stale), false);
          assertCompleteFill(target, 8 * MiB, 2);
        });
      });
    },
  );

  test("a dead run's report temporary file is removed by the next run", {
    timeout: TIMEOUT_MS,
  }, async () => {
    await withScratch("16m", async (dir) => {
      const manifest = writeManifest(path.join(dir, "m.yaml"), "data", [u8Entry("a.npy", 4096)]);
      const report = path.join(dir, "reports", "run.json");
      fs.mkdirSync(path.dirname(report));
      const stale = tempNameOf(report, deadPid());
      const live = tempNameOf(report, process.pid);
      fs.writeFileSync(stale, "{");
      fs.writeFileSync(live, "{");
      const run = await runCli(["run", manifest, "-r", report]);
      assert.equal(run.status, 0, run.stderr);
      assert.equal(fs.existsSync(stale), false, "the dead run's report temp is removed");
      assert.equal(fs.existsSync(live), true, "a live run's temp is left alone");
      assert.equal(readReport(report).exit_code, 0);
    });
  });
});
