/**
 * `npyalloc run --shard` and `plan --shard` as a user runs them: real processes, real files,
 * NumPy reading the results. Shards touch only their arrays, check space only for them, agree
 * on the split across processes, and can run at once into the same folders.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { loadManifest } from "../src/manifest/mod.ts";
import type { Report } from "../src/report/report.ts";
import { selectShard } from "../src/shard/mod.ts";
import { type CliRun, runCliProcess } from "./_support/cli.ts";
import { runPython } from "./_support/numpy.ts";
import { listFiles, manifestFolders, tempDir } from "./_support/temp.ts";
import { assertValidReport, readReport } from "./_support/report.ts";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.join(HERE, "..", "src", "cli.ts");
const { dir: base, remove } = tempDir("shard-run");
after(remove);
/** These tests start several processes: more than bun's default 5 s on a busy machine. */
const SLOW = { timeout: 120_000 };

const manifestDir = manifestFolders(base);

/** Runs the CLI without waiting, so that several run at once. */
function runCliAsync(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const argv = "Deno" in globalThis ? ["run", "-A", CLI, ...args] : [CLI, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, {
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** 30 arrays of varied sizes in two folders. */
const MIXED = `version: 1
root: out
arrays:
  - path: a/x-{i:02d}.npy
    foreach: { i: { range: [0, 20] } }
    shape: [64, "{i}"]
    dtype: float32
    fill: 1.5
  - path: b/y-{i}.npy
    foreach: { i: { range: [0, 10] } }
    shape: ["{i}"]
    dtype: int64
`;

describe("run --shard", () => {
  test("shards 0..N-1 create every array once; each report holds its shard only", SLOW, () => {
    const { dir, manifest } = manifestDir(MIXED);
    const seen: string[] = [];
    for (let k = 0; k < 3; k++) {
      const run = runCliProcess(["run", manifest, "--shard", `${k}/3`]);
      assert.equal(run.status, 0, run.stderr);
      assert.match(
        run.stderr,
        new RegExp(`shard ${k} of 3 \\(--shard ${k}/3\\): \\d+ of 30 arrays`),
      );
      const report = readReport(path.join(dir, `npyalloc-report.shard-${k}-of-3.json`));
      assertValidReport(report);
      assert.equal(report.ok, true);
      assert.deepEqual(
        {
          index: report.shard?.index,
          count: report.shard?.count,
          total: report.shard?.arrays_total,
        },
        { index: k, count: 3, total: 30 },
      );
      assert.equal(report.shard?.source, "option");
      assert.ok((report.shard?.imbalance ?? 0) >= 1 && (report.shard?.imbalance ?? 9) < 1.1);
      assert.equal(report.summary.arrays, report.arrays.length);
      assert.equal(report.summary.created, report.arrays.length);
      const bytes = report.arrays.reduce((sum, a) => sum + Number(a.file_bytes), 0);
      assert.equal(report.shard?.bytes, bytes);
      seen.push(...report.arrays.map((a) => a.path));
      // After shard k, exactly the arrays of shards 0..k exist: others are untouched.
      assert.deepEqual(listFiles(path.join(dir, "out")), [...seen].sort());
    }
    assert.equal(new Set(seen).size, 30);
    assert.equal(fs.existsSync(path.join(dir, "npyalloc-report.json")), false);
    const ok = runPython(`
import glob, os
files = sorted(glob.glob(os.path.join(${JSON.stringify(path.join(dir, "out"))}, "*", "*.npy")))
assert len(files) == 30, len(files)
for f in files:
    a = np.load(f, mmap_mode="r")
    if "/a/" in f:
        assert a.dtype == np.float32 and a.shape[0] == 64 and (a == 1.5).all(), f
    else:
        assert a.dtype == np.int64 and (a == 0).all(), f
print("ok")
`);
    assert.equal(ok.trim(), "ok");
  });

  test("separate processes agree on the split, and so does the library", SLOW, async () => {
    const { manifest } = manifestDir(MIXED);
    const expected = (await loadManifest(manifest)).arrays;
    const union: string[] = [];
    for (let k = 0; k < 4; k++) {
      const run = runCliProcess(["plan", manifest, "--shard", `${k}/4`, "-r", "-", "-q"]);
      assert.equal(run.status, 0, run.stderr);
      const report = JSON.parse(run.stdout) as Report;
      assertValidReport(report);
      const paths = report.arrays.map((a) => a.path);
      const mine = selectShard(expected, { index: k, count: 4, source: "option", origin: "" });
      assert.deepEqual(paths, mine.arrays.map((a) => a.path));
      assert.equal(report.shard?.split_sha256, mine.info.split_sha256);
      union.push(...paths);
    }
    assert.deepEqual([...union].sort(), expected.map((a) => a.path).sort());
  });

  test("-r takes {shard} and {count}; a report path without {shard} is warned about", SLOW, () => {
    const { dir, manifest } = manifestDir(MIXED);
    const run = runCliProcess([
      "plan",
      manifest,
      "--shard",
      "1/2",
      "-r",
      path.join(dir, "reports", "part-{shard}-of-{count}.json"),
    ]);
    assert.equal(run.status, 0, run.stderr);
    assertValidReport(readReport(path.join(dir, "reports", "part-1-of-2.json")));
    const same = runCliProcess([
      "plan",
      manifest,
      "--shard",
      "1/2",
      "-r",
      path.join(dir, "r.json"),
    ]);
    assert.equal(same.status, 0, same.stderr);
    assert.match(
      readReport(path.join(dir, "r.json")).warnings.join("\n"),
      /no \{shard\} placeholder/,
    );
  });

  test(
    "--shard auto reads NPYALLOC_SHARD and Slurm; without them, the whole manifest",
    SLOW,
    () => {
      const { dir, manifest } = manifestDir(MIXED);
      const env = { NPYALLOC_SHARD: "1/2" };
      const fromVar = runCliProcess(["plan", manifest, "--shard", "auto"], { env });
      assert.equal(fromVar.status, 0, fromVar.stderr);
      assert.match(fromVar.stderr, /shard 1 of 2 \(NPYALLOC_SHARD=1\/2\)/);
      assert.equal(
        readReport(path.join(dir, "npyalloc-report.shard-1-of-2.json")).shard?.source,
        "NPYALLOC_SHARD",
      );
      const slurm = {
        SLURM_ARRAY_TASK_ID: "12",
        SLURM_ARRAY_TASK_MIN: "10",
        SLURM_ARRAY_TASK_MAX: "13",
        SLURM_ARRAY_TASK_COUNT: "4",
      };
      const fromSlurm = runCliProcess(["plan", manifest, "--shard", "auto"], { env: slurm });
      assert.equal(fromSlurm.status, 0, fromSlurm.stderr);
      assert.match(fromSlurm.stderr, /shard 2 of 4 \(SLURM_ARRAY_TASK_ID=12 in 10\.\.13\)/);
      const clean = Object.fromEntries(
        Object.keys(process.env)
          // Whatever scheduler runs the suite, none of its variables reach the run.
          .filter((k) =>
            /^(SLURM_|SGE_TASK_|LSB_JOBINDEX|AWS_BATCH_JOB_ARRAY_|BATCH_TASK_|JOB_COMPLETION_INDEX$|NPYALLOC_SHARD)/
              .test(k)
          )
          .map((k) => [k, ""]),
      );
      const whole = runCliProcess(["plan", manifest, "--shard", "auto"], { env: clean });
      assert.equal(whole.status, 0, whole.stderr);
      assert.match(whole.stderr, /--shard auto: no Slurm job array.*running the whole manifest/);
      const report = readReport(path.join(dir, "npyalloc-report.json"));
      assert.equal(report.shard, null);
      assert.equal(report.arrays.length, 30);
      assert.match(report.warnings.join("\n"), /running the whole manifest/);
    },
  );

  test("inconsistent shards are exit 2 with one line, nothing touched", SLOW, () => {
    const { dir, manifest } = manifestDir(MIXED);
    const cases: [string[], Record<string, string>, RegExp][] = [
      [
        ["--shard", "3/3"],
        {},
        /run: --shard 3\/3: shard 3 does not exist, shards are numbered 0 to 2/,
      ],
      [["--shard", "0/0"], {}, /at least 1/],
      [["--shard", "x"], {}, /--shard must be K\/N/],
      [["--shard", "auto"], { NPYALLOC_SHARD: "5/2" }, /NPYALLOC_SHARD 5\/2/],
      [
        ["--shard", "auto"],
        { SLURM_ARRAY_TASK_ID: "9", SLURM_ARRAY_TASK_MIN: "0", SLURM_ARRAY_TASK_MAX: "3" },
        /SLURM_ARRAY_TASK_ID=9 is outside/,
      ],
      [["--shard", "auto"], { SLURM_PROCID: "0", SLURM_NTASKS: "4", SLURM_STEP_ID: "" }, /srun/],
    ];
    for (const [args, env, message] of cases) {
      const run = runCliProcess(["run", manifest, ...args], { env });
      assert.equal(run.status, 2, `${args} ${JSON.stringify(env)}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
    }
    assert.deepEqual(listFiles(dir), ["manifest.yaml"]);
  });

  test("space is checked for the shard's own arrays only", SLOW, () => {
    // One array of 1 PiB and many small ones: the split puts the big one alone in shard 0.
    const { dir, manifest } = manifestDir(`version: 1
arrays:
  - path: huge.npy
    shape: [1125899906842624]
    dtype: uint8
  - path: small/s-{i}.npy
    foreach: { i: { range: [0, 12] } }
    shape: [10]
`);
    const whole = runCliProcess(["plan", manifest, "-q"]);
    assert.equal(whole.status, 3, whole.stderr);
    const big = runCliProcess(["run", manifest, "--shard", "0/2", "-q"]);
    assert.equal(big.status, 3, big.stderr);
    assert.match(big.stderr, /Not enough free space/);
    assert.deepEqual(listFiles(path.join(dir, "small")), []);
    const small = runCliProcess(["run", manifest, "--shard", "1/2", "-q"]);
    assert.equal(small.status, 0, small.stderr);
    assert.equal(listFiles(path.join(dir, "small")).length, 12);
    assert.equal(fs.existsSync(path.join(dir, "huge.npy")), false);
    const report = readReport(path.join(dir, "npyalloc-report.shard-1-of-2.json"));
    assert.equal(report.filesystems.length, 1);
    assert.ok(Number(report.filesystems[0]?.required_bytes) < 1_000_000);
  });

  test("a conflict in another shard's array does not stop this shard", SLOW, () => {
    const { dir, manifest } = manifestDir(MIXED);
    const plan = runCliProcess(["plan", manifest, "--shard", "0/2", "-r", "-", "-q"]);
    const victim = (JSON.parse(plan.stdout) as Report).arrays[0]!.path;
    fs.mkdirSync(path.dirname(path.join(dir, "out", victim)), { recursive: true });
    fs.writeFileSync(path.join(dir, "out", victim), "not a .npy file");
    const other = runCliProcess(["run", manifest, "--shard", "1/2", "-q"]);
    assert.equal(other.status, 0, other.stderr);
    const mine = runCliProcess(["run", manifest, "--shard", "0/2", "-q"]);
    assert.equal(mine.status, 4, mine.stderr);
    assert.match(mine.stderr, new RegExp(`conflict: ${victim.replaceAll(".", "\\.")}`));
  });
});

describe("many tasks into the same folders at once", () => {
  // 400 arrays in 8 deep folders that do not exist yet: every task creates the same folders.
  const MANY = `version: 1
root: out
arrays:
  - path: deep/a/b/c/d{j}/e/x-{i:03d}.npy
    foreach: { j: { range: [0, 4] }, i: { range: [0, 60] } }
    shape: [16, "{i}"]
    dtype: float32
    fill: 1.5
  - path: deep/a/b/c/d{j}/f/y-{i:03d}.npy
    foreach: { j: { range: [0, 4] }, i: { range: [0, 40] } }
    shape: ["{i}"]
    dtype: int64
`;

  for (const round of [1, 2]) {
    test(`4 shards at once, plus a duplicate of one (round ${round})`, SLOW, async () => {
      const { dir, manifest } = manifestDir(MANY);
      const shardRun = (k: number, report: string) =>
        runCliAsync(["run", manifest, "--shard", `${k}/4`, "-j", "8", "-q", "-r", report]);
      const runs = await Promise.all([
        ...[0, 1, 2, 3].map((k) => shardRun(k, path.join(dir, `r-${k}.json`))),
        // The same shard twice at once (e.g. a retried task): both must end well.
        shardRun(2, path.join(dir, "r-2-again.json")),
      ]);
      for (const run of runs) assert.equal(run.status, 0, run.stderr);
      const files = listFiles(path.join(dir, "out"));
      assert.equal(files.length, 400);
      assert.equal(files.filter((f) => !f.endsWith(".npy")).length, 0, "no temporary file left");
      const hidden = (fs.readdirSync(path.join(dir, "out"), { recursive: true }) as string[])
        .filter((f) => f.includes("npyalloc-tmp"));
      assert.deepEqual(hidden, []);
      const reports = [0, 1, 2, 3].map((k) => readReport(path.join(dir, `r-${k}.json`)));
      assert.equal(reports.reduce((sum, r) => sum + r.summary.arrays, 0), 400);
      const again = readReport(path.join(dir, "r-2-again.json"));
      assert.equal(again.ok, true);
      assert.equal(
        again.summary.created + reports[2]!.summary.created,
        reports[2]!.summary.arrays,
        "each array of shard 2 created once",
      );
      const merged = runCliProcess([
        "report",
        "merge",
        ...[0, 1, 2, 3].map((k) => path.join(dir, `r-${k}.json`)),
        "-o",
        path.join(dir, "merged.json"),
      ]);
      assert.equal(merged.status, 0, merged.stderr);
      const out = runPython(`
import os
root = ${JSON.stringify(path.join(dir, "out"))}
report = json.load(open(${JSON.stringify(path.join(dir, "merged.json"))}))
assert len(report["arrays"]) == 400
for entry in report["arrays"]:
    a = np.load(os.path.join(root, entry["path"]), mmap_mode="r")
    assert list(a.shape) == entry["shape"], entry
    assert a.dtype.str == entry["descr"], entry
    assert os.path.getsize(os.path.join(root, entry["path"])) == entry["file_bytes"]
    if entry["descr"] == "<f4":
        assert (a == 1.5).all(), entry["path"]
print("ok")
`);
      assert.equal(out.trim(), "ok");
    });
  }
});

describe("examples/slurm", () => {
  const EXAMPLE = path.join(HERE, "..", "examples", "slurm");

  test("the example manifest validates and plans, whole and per shard", SLOW, () => {
    const names = fs.readdirSync(EXAMPLE).filter((f) => f.endsWith(".yaml"));
    assert.ok(names.length > 0);
    for (const name of names) {
      const text = fs.readFileSync(path.join(EXAMPLE, name), "utf8");
      assert.match(
        text,
        /^# yaml-language-server: \$schema=\.\.\/\.\.\/schemas\/manifest\.schema\.json\n/,
      );
      const { dir, manifest } = manifestDir(text);
      const validate = runCliProcess(["validate", manifest]);
      assert.equal(validate.status, 0, validate.stdout + validate.stderr);
      const plan = runCliProcess(["plan", manifest, "-q"]);
      assert.equal(plan.status, 0, plan.stderr);
      const whole = readReport(path.join(dir, "npyalloc-report.json"));
      assert.ok(whole.arrays.length >= 100, `${whole.arrays.length} arrays`);
      let arrays = 0;
      for (let k = 0; k < 4; k++) {
        const shard = runCliProcess(["plan", manifest, "-q", "--shard", "auto"], {
          env: { SLURM_ARRAY_TASK_ID: String(k), SLURM_ARRAY_TASK_COUNT: "4" },
        });
        assert.equal(shard.status, 0, shard.stderr);
        const report = readReport(path.join(dir, `npyalloc-report.shard-${k}-of-4.json`));
        arrays += report.arrays.length;
        assert.ok((report.shard?.imbalance ?? 9) < 1.05, `imbalance ${report.shard?.imbalance}`);
      }
      assert.equal(arrays, whole.arrays.length);
      assert.deepEqual(listFiles(dir).filter((f) => f.endsWith(".npy")), []);
    }
  });

  test(
    "the scripts are executable bash scripts that use --shard auto and report merge",
    SLOW,
    () => {
      const sbatch = fs.readFileSync(path.join(EXAMPLE, "npyalloc.sbatch"), "utf8");
      assert.match(sbatch, /^#!\/bin\/bash\n/);
      assert.match(sbatch, /#SBATCH --array=/);
      assert.match(sbatch, /--shard auto/);
      const submit = fs.readFileSync(path.join(EXAMPLE, "submit.sh"), "utf8");
      assert.match(submit, / plan /);
      assert.match(submit, /report merge/);
      for (const name of ["npyalloc.sbatch", "submit.sh"]) {
        assert.ok((fs.statSync(path.join(EXAMPLE, name)).mode & 0o111) !== 0, `${name} executable`);
      }
    },
  );
});
