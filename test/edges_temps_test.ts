// Whose temporary file is it (SPEC 3.3, 3.11)? A run's temporary files are judged by their lock
// (`flock`), not by the pid in their name, which means nothing across PID namespaces:
// - a run in another PID namespace (`unshare --pid`) writing under a temporary name keeps its
//   file while a run in this namespace, writing into the same folder, cleans stale temporary
//   files; the first run then completes;
// - a temporary file its run marked as locked, that no process holds locked, is a dead run's
//   even when a live process of this namespace has the pid in its name: `plan` says it will be
//   removed, and `run` removes it.
//
// These need root (a PID namespace, a tmpfs); with CI=true they never skip.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { TEMP_SUFFIX } from "../src/run/_temp_name.ts";
import {
  assertCompleteFill,
  openFilesBelow,
  tempFilesBelow,
  tempNameOf,
  u8Entry,
  waitFor,
  writeManifest,
} from "./_support/fault.ts";
import { readReport } from "./_support/report.ts";
import { runCli, startCli } from "./_support/cli.ts";
import { mountSkip, skipNamed, withTmpfs } from "./_support/mounts.ts";

/** Bun stops a test after 5 s unless told otherwise; these start processes and mount filesystems. */
const TIMEOUT_MS = 60_000;
const MiB = 1024 * 1024;

/** Whether a process of this pid exists in this test's PID namespace. */
function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code !== "ESRCH";
  }
}

/** A pid that no process of this namespace has now, high in the range the kernel gives. */
function freePid(): number {
  const max = Number(fs.readFileSync("/proc/sys/kernel/pid_max", "utf8"));
  for (let pid = Math.min(max, 32768) - 100; pid > 1000; pid--) {
    if (!pidExists(pid) && !pidExists(pid - 1)) return pid;
  }
  throw new Error("no free pid");
}

/**
 * Starts `npyalloc <args>` in a new PID namespace (with its own /proc), as process `nsPid` of
 * that namespace: its temporary files carry that pid, which no process here has.
 */
function startInPidNamespace(args: string[], nsPid: number) {
  // The namespace's first process sets the pid its next child gets, then starts the CLI.
  // (Not the last command of the script, so that the shell forks it rather than becoming it.)
  const script = `echo ${nsPid - 1} > /proc/sys/kernel/ns_last_pid && "$@"; exit $?`;
  return startCli(args, {
    within: ["unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", script, "sh"],
  });
}

/** `pid` and its descendants, from `/proc/<pid>/task/<tid>/children`. */
function processTree(pid: number): number[] {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    let tasks: string[];
    try {
      tasks = fs.readdirSync(`/proc/${tree[i]}/task`);
    } catch {
      continue; // Ended meanwhile.
    }
    for (const task of tasks) {
      try {
        const text = fs.readFileSync(`/proc/${tree[i]}/task/${task}/children`, "utf8");
        for (const child of text.split(" ").filter(Boolean)) tree.push(Number(child));
      } catch {
        // Ended meanwhile.
      }
    }
  }
  return tree;
}

/** The pid, in this namespace, of the process below `root` that has `file` open. */
function holderOf(root: number, file: string): number | null {
  for (const pid of processTree(root)) {
    if (openFilesBelow(pid, path.dirname(file)).some((f) => f.path === file)) return pid;
  }
  return null;
}

describe("temporary files across PID namespaces", () => {
  const nsSkip = mountSkip("a tmpfs, and a PID namespace");
  test(
    skipNamed(
      "a live run in another PID namespace keeps its temporary file when a run here cleans up",
      nsSkip,
    ),
    { skip: nsSkip, timeout: TIMEOUT_MS },
    async () => {
      await withTmpfs({ size: "2g" }, async (dir) => {
        const data = path.join(dir, "data");
        fs.mkdirSync(data);
        const target = path.join(data, "a.npy");
        const small = await runCli(["create", target, "--shape", "10", "--dtype", "uint8"]);
        assert.equal(small.status, 0, small.stderr);
        const bigBytes = 1024 * MiB;
        const nsPid = freePid();
        // --force: the replacement is written under a temporary name, renamed over the file at
        // the end.
        const writer = startInPidNamespace([
          "create",
          target,
          "--shape",
          String(bigBytes - 128),
          "--dtype",
          "uint8",
          "--fill",
          "7",
          "--force",
        ], nsPid);
        let writerEnded = false;
        void writer.exited.then(() => (writerEnded = true));
        let temp = "";
        await waitFor(() => {
          if (writerEnded) return true;
          const found = tempFilesBelow(data)[0];
          if (found === undefined) return false;
          temp = path.join(data, found);
          // Data comes after the lock: a temporary file that holds some is locked.
          return (fs.statSync(temp, { throwIfNoEntry: false })?.size ?? 0) > 0;
        }, "the other namespace's write under a temporary name");
        // Held still (its lock held) while a run here cleans the folder's stale temporary files.
        const tree = processTree(writer.pid);
        for (const pid of tree) process.kill(pid, "SIGSTOP");
        try {
          if (writerEnded) assert.fail(`the write ended early: ${(await writer.exited).stderr}`);
          // The pid of its namespace in its name, one no process here has.
          assert.match(
            path.basename(temp),
            new RegExp(`\\.${nsPid}\\.[0-9A-Za-z]+\\${TEMP_SUFFIX}$`),
          );
          assert.equal(pidExists(nsPid), false, "no process here has the pid in its name");
          assert.ok(
            holderOf(writer.pid, temp) !== null,
            "the writer holds its temporary file open",
          );
          const manifest = writeManifest(path.join(dir, "m.yaml"), "data", [
            u8Entry("b.npy", 4096, { fill: 2 }),
          ]);
          const plan = await runCli(["plan", manifest]);
          assert.equal(plan.status, 0, plan.stderr);
          assert.doesNotMatch(plan.stderr, /temporary file/, "plan counts no stale file");
          const run = await runCli(["run", manifest]);
          assert.equal(run.status, 0, run.stderr);
          assert.equal(fs.existsSync(temp), true, "the live run's temporary file is still there");
          assertCompleteFill(path.join(data, "b.npy"), 4096, 2);
        } finally {
          for (const pid of tree) process.kill(pid, "SIGCONT");
        }
        const done = await writer.exited;
        assert.equal(done.status, 0, done.stderr);
        assert.deepEqual(tempFilesBelow(data), []);
        assertCompleteFill(target, bigBytes, 7);
      });
    },
  );

  const tmpfsSkip = mountSkip("a tmpfs");
  test(
    skipNamed(
      "a locked-run temporary file nobody holds is a dead run's, whatever pid its name has",
      tmpfsSkip,
    ),
    { skip: tmpfsSkip, timeout: TIMEOUT_MS },
    async () => {
      await withTmpfs({ size: "16m" }, async (dir) => {
        const data = path.join(dir, "data");
        fs.mkdirSync(data);
        // Left by a run that died in another PID namespace, where it was process 1: here pid 1
        // is alive, so only the lock tells that the run is gone.
        const stale = tempNameOf(path.join(data, "a.npy"), 1).replace(
          `.x1y2z3${TEMP_SUFFIX}`,
          `.Lx1y2z3${TEMP_SUFFIX}`,
        );
        fs.writeFileSync(stale, Buffer.alloc(MiB, 1));
        assert.ok(pidExists(1));
        const manifest = writeManifest(path.join(dir, "m.yaml"), "data", [
          u8Entry("a.npy", 4096, { fill: 4 }),
        ]);
        const plan = await runCli(["plan", manifest]);
        assert.equal(plan.status, 0, plan.stderr);
        assert.match(
          plan.stderr,
          new RegExp(
            `1 temporary file of runs that died will be removed by the run: .*${
              path.basename(stale).replaceAll(".", "\\.")
            }`,
          ),
        );
        assert.equal(fs.existsSync(stale), true, "plan removes nothing");
        const run = await runCli(["run", manifest]);
        assert.equal(run.status, 0, run.stderr);
        assert.equal(fs.existsSync(stale), false, "the run removed the dead run's file");
        assertCompleteFill(path.join(data, "a.npy"), 4096, 4);
        assert.equal(readReport(path.join(dir, "npyalloc-report.json")).summary.created, 1);
      });
    },
  );
});
