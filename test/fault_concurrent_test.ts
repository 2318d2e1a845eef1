// Three runs of one manifest at the same time (SPEC 3.3): every file is created exactly once
// (by one run; the others find it and report it unchanged), every file is complete with its
// fill, and no temporary file is left. The manifest makes the runs race for the same new
// folders, the same small files and the same large ones. Each run is held (SIGSTOP) at its first
// write until all are writing, and the test checks that some run did lose a race (wrote a file
// that another run had linked into place first).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import {
  assertCompleteFill,
  isWritingBelow,
  sendSignal,
  tempFilesBelow,
  u8Entry,
  waitFor,
  writeManifest,
} from "./_support/fault.ts";
import { listFiles } from "./_support/temp.ts";
import { readReport } from "./_support/report.ts";
import { startCli } from "./_support/cli.ts";
import { withScratch } from "./_support/mounts.ts";

/** Bun stops a test after 5 s unless told otherwise. */
const TIMEOUT_MS = 120_000;
const ROUNDS = 2;
const RUNS = 3;

interface Target {
  readonly path: string;
  readonly bytes: number;
  readonly fill: number;
}

/** 300 arrays: many small ones in shared new folders, and a few of several MiB. */
const TARGETS: readonly Target[] = Array.from({ length: 300 }, (_, i) => ({
  path: `g${i % 5}/h${i % 3}/f${String(i).padStart(3, "0")}.npy`,
  bytes: i % 25 === 0 ? (4 << 20) + i : 200 + i * 13,
  fill: i % 7 === 3 ? 0 : 1 + (i % 250),
}));

describe("concurrent runs of one manifest", () => {
  test(
    `${RUNS} runs at once, ${ROUNDS} rounds: each file created exactly once, all complete, no temp`,
    {
      timeout: TIMEOUT_MS,
    },
    async () => {
      await withScratch("1g", async (dir) => {
        const root = path.join(dir, "data");
        const manifest = writeManifest(
          path.join(dir, "m.yaml"),
          "data",
          TARGETS.map((t) =>
            u8Entry(t.path, t.bytes, t.fill === 0 ? { allocation: "reserve" } : { fill: t.fill })
          ),
        );
        let racesLost = 0;
        for (let round = 0; round < ROUNDS; round++) {
          fs.rmSync(root, { recursive: true, force: true });
          // Each run is stopped (SIGSTOP) as soon as it writes its first file, so that all of
          // them have planned to create every file; then all go on at once (SIGCONT).
          // Different concurrency per run, rotated each round.
          const runs = Array.from({ length: RUNS }, (_, k) => {
            const jobs = [1, 4, 16][(k + round) % 3]!;
            return startCli([
              "run",
              manifest,
              "-q",
              "-j",
              String(jobs),
              "-r",
              path.join(dir, `r${k}.json`),
            ]);
          });
          const stopped = new Set<number>();
          try {
            await waitFor(() => {
              for (const [k, run] of runs.entries()) {
                if (!stopped.has(k) && isWritingBelow(run.pid, root)) {
                  sendSignal(run, "SIGSTOP");
                  stopped.add(k);
                }
              }
              return stopped.size === RUNS;
            }, "every run to start writing");
          } finally {
            for (const run of runs) sendSignal(run, "SIGCONT");
          }
          const exits = await Promise.all(runs.map((r) => r.exited));
          for (const [k, exit] of exits.entries()) {
            assert.equal(exit.status, 0, `round ${round}, run ${k}: ${exit.stderr}`);
          }
          const reports = Array.from(
            { length: RUNS },
            (_, k) => readReport(path.join(dir, `r${k}.json`)),
          );
          const createdBy = new Map<string, number[]>();
          for (const [k, report] of reports.entries()) {
            assert.equal(report.summary.failed, 0, `round ${round}, run ${k}`);
            assert.equal(report.summary.created + report.summary.unchanged, TARGETS.length);
            for (const a of report.arrays) {
              if (a.status === "created") {
                createdBy.set(a.path, [...(createdBy.get(a.path) ?? []), k]);
              }
              if (a.status === "unchanged" && /another run/.test(a.reason ?? "")) {
                racesLost++;
              }
            }
          }
          const total = reports.reduce((sum, r) => sum + r.summary.created, 0);
          assert.equal(total, TARGETS.length, `round ${round}: the runs' created add up`);
          for (const t of TARGETS) {
            assert.equal(
              createdBy.get(t.path)?.length,
              1,
              `round ${round}: ${t.path} created by ${createdBy.get(t.path)}`,
            );
            assertCompleteFill(path.join(root, t.path), t.bytes, t.fill);
          }
          assert.equal(listFiles(root).length, TARGETS.length);
          assert.deepEqual(tempFilesBelow(dir), [], `round ${round}: no temporary file is left`);
        }
        // The runs really raced: some wrote a file that another run linked into place first.
        assert.ok(racesLost > 0, "no run lost a race");
      });
    },
  );
});
