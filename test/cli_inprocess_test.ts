/**
 * Every command run in this process through `runCli`, as `src/cli.ts` runs it, with its output
 * captured, its environment given (none of this process's) and its signal ours: the same engine
 * as a separate process, without one.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, describe, test } from "node:test";
import { runCli, runInProcess } from "./_support/cli.ts";
import { readReport } from "./_support/report.ts";
import { runManifest } from "../src/mod.ts";
import type { Report } from "../src/report/report.ts";
import { listFiles, tempDir } from "./_support/temp.ts";

const { dir, remove } = tempDir("cli-inprocess");
after(remove);

const MANIFEST = `version: 1
root: out
arrays:
  - path: "a-{i}.npy"
    foreach: { i: [0, 1] }
    shape: [4, "\${N}"]
    dtype: float32
    fill: 1.5
  - path: r.npy
    shape: 100
    fill: { random: { seed: 3 } }
`;

function work(name: string): { folder: string; manifest: string } {
  const folder = path.join(dir, name);
  fs.mkdirSync(folder);
  fs.writeFileSync(path.join(folder, "m.yaml"), MANIFEST);
  return { folder, manifest: path.join(folder, "m.yaml") };
}

describe("commands in process", () => {
  const { folder, manifest } = work("main");

  test("run: the environment given is the only one; files, report, summary", async () => {
    const run = await runInProcess(["run", manifest, "-q"], { env: { N: "3" } });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, "");
    assert.deepEqual(fs.readdirSync(path.join(folder, "out")).sort(), [
      "a-0.npy",
      "a-1.npy",
      "r.npy",
    ]);
    assert.equal(fs.statSync(path.join(folder, "out", "a-0.npy")).size, 128 + 4 * 3 * 4);
    const report = JSON.parse(fs.readFileSync(path.join(folder, "npyalloc-report.json"), "utf8"));
    assert.equal(report.summary.created, 3);
    // Without N in the environment given, the manifest cannot be expanded.
    const bare = await runInProcess(["validate", manifest]);
    assert.equal(bare.status, 2);
    assert.match(bare.stderr, /m\.yaml:6:\d+: .*Variable 'N' is not set/);
  });

  test("verify: 0 when the disk matches, 1 naming what differs", async () => {
    const same = await runInProcess(["verify", manifest, "--deep"], { env: { N: "3" } });
    assert.equal(same.status, 0, same.stdout + same.stderr);
    assert.match(same.stdout, /all 3 arrays match/);
    fs.rmSync(path.join(folder, "out", "a-1.npy"));
    const differs = await runInProcess(["verify", manifest], { env: { N: "3" } });
    assert.equal(differs.status, 1);
    assert.match(differs.stdout, /differs: a-1\.npy: missing/);
    assert.match(differs.stdout, /1 of 3 arrays differs/);
  });

  test("plan: exit 3 when the headroom asked for cannot be kept; nothing touched", async () => {
    const before = listFiles(folder);
    const plan = await runInProcess(["plan", manifest, "--min-free", "100%", "-r", "-"], {
      env: { N: "3" },
    });
    assert.equal(plan.status, 3, plan.stderr);
    assert.match(plan.stderr, /SHORT/);
    assert.equal(JSON.parse(plan.stdout).exit_code, 3);
    assert.deepEqual(listFiles(folder), before);
  });

  test("create and inspect --json", async () => {
    const file = path.join(folder, "one.npy");
    const made = await runInProcess(["create", file, "--shape", "2,3", "--dtype", ">i2", "-q"]);
    assert.equal(made.status, 0, made.stderr);
    const info = await runInProcess(["inspect", "--json", file]);
    assert.equal(info.status, 0, info.stderr);
    const parsed = JSON.parse(info.stdout);
    assert.equal(parsed.descr, ">i2");
    assert.deepEqual(parsed.shape, [2, 3]);
    assert.equal(parsed.ok, true);
    const again = await runInProcess(["create", file, "--shape", "2,3", "--dtype", ">i2"]);
    assert.equal(again.status, 4);
  });

  test("schema, help, and a mistyped command", async () => {
    const schema = await runInProcess(["schema", "report"]);
    assert.equal(schema.status, 0);
    assert.equal(JSON.parse(schema.stdout).type, "object");
    const help = await runInProcess(["help", "run"]);
    const flag = await runInProcess(["run", "--help"]);
    assert.equal(help.status, 0);
    assert.equal(help.stdout, flag.stdout);
    assert.match(help.stdout, /^Usage: npyalloc run <manifest.yaml>/);
    const option = await runInProcess(["run", manifest, "--dryrun"]);
    assert.equal(option.status, 2);
    assert.equal(
      option.stderr,
      "npyalloc: run: Unknown option '--dryrun' (did you mean '--dry-run'?)\n",
    );
    const typo = await runInProcess(["rn", manifest]);
    assert.equal(typo.status, 2);
    assert.equal(
      typo.stderr,
      "npyalloc: Unknown command 'rn' (did you mean 'run'?) (see 'npyalloc --help')\n",
    );
  });

  test("report merge of two shards", async () => {
    const sharded = work("sharded");
    for (const shard of ["0/2", "1/2"]) {
      const run = await runInProcess(["run", sharded.manifest, "-q", "--shard", shard], {
        env: { N: "2" },
      });
      assert.equal(run.status, 0, run.stderr);
    }
    const reports = ["0", "1"].map((k) =>
      path.join(sharded.folder, `npyalloc-report.shard-${k}-of-2.json`)
    );
    const merged = await runInProcess(["report", "merge", ...reports, "-q"]);
    assert.equal(merged.status, 0, merged.stderr);
    const report = JSON.parse(merged.stdout);
    assert.equal(report.shard, null);
    assert.equal(report.summary.created, 3);
  });

  test("create of an existing folder says it is a folder, and touches it not", async () => {
    const folder = path.join(dir, "a-folder");
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, "keep.txt"), "mine\n");
    for (const extra of [[], ["--force"]]) {
      const made = await runInProcess([
        "create",
        folder,
        "--shape",
        "3",
        "--dtype",
        "int8",
        ...extra,
      ]);
      assert.equal(made.status, 4, made.stderr);
      assert.equal(made.stderr, `npyalloc: Cannot create '${folder}': it is a folder\n`);
      assert.deepEqual(fs.readdirSync(folder), ["keep.txt"]);
    }
  });

  test("an aborted signal: exit 130, no array, no temporary file", async () => {
    const aborted = work("aborted");
    const controller = new AbortController();
    controller.abort();
    const run = await runInProcess(["run", aborted.manifest, "-q"], {
      env: { N: "3" },
      signal: controller.signal,
    });
    assert.equal(run.status, 130, run.stderr);
    const left = listFiles(aborted.folder).filter((f) => f.endsWith(".npy") || /tmp/.test(f));
    assert.deepEqual(left, []);
  });
});

describe("the library and the command line", () => {
  test("runManifest(file, { vars }) gives the report of `npyalloc run file --var`", async () => {
    const manifest = "version: 1\nroot: data\narrays:\n" +
      '  - {path: "a{i}.npy", foreach: {i: {range: [0, "${N}"]}}, dtype: float32, shape: [4], ' +
      "fill: 1.5}\n" +
      "  - {path: sub/b.npy, dtype: int16, shape: [2, 3], allocation: reserve}\n";
    const [cliDir, libDir] = [tempDir("cli-vs-lib"), tempDir("cli-vs-lib")];
    try {
      for (const { dir } of [cliDir, libDir]) fs.writeFileSync(path.join(dir, "m.yaml"), manifest);
      const cliReport = path.join(cliDir.dir, "r.json");
      const cli = await runCli([
        "run",
        path.join(cliDir.dir, "m.yaml"),
        "--var",
        "N=3",
        "-r",
        cliReport,
      ]);
      assert.equal(cli.status, 0, cli.stderr);
      const lib = await runManifest(path.join(libDir.dir, "m.yaml"), { vars: { N: "3" } });
      assert.equal(lib.exitCode, 0, lib.messages.join("\n"));
      /** The report without what differs between two runs: times, folders and free space. */
      const comparable = (report: Report) => {
        const json = JSON.parse(
          JSON.stringify(report, (_k, v) => typeof v === "bigint" ? Number(v) : v),
        );
        for (const key of ["started_at", "finished_at", "duration_ms"]) delete json[key];
        delete json.manifest.path;
        for (const a of json.arrays) delete a.duration_ms;
        for (const f of json.filesystems) {
          for (const key of ["path", "available_bytes", "free_inodes"]) delete f[key];
        }
        return json;
      };
      assert.deepEqual(comparable(lib.report), comparable(readReport(cliReport)));
      assert.deepEqual(
        listFiles(path.join(libDir.dir, "data")),
        listFiles(path.join(cliDir.dir, "data")),
      );
    } finally {
      cliDir.remove();
      libDir.remove();
    }
  });
});
