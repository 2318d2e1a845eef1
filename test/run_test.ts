/**
 * `npyalloc run`, `plan`, `validate`, `verify` and `schema` as a user runs
 * them: a real process on real files, NumPy reading the results, the report
 * checked against its schema.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ArrayReport, Report } from "../src/report/report.ts";
import { parseDType } from "../src/npy/dtype.ts";
import { layoutArray } from "../src/npy/layout.ts";
import { runCliProcess } from "./_support/cli.ts";
import { runPython } from "./_support/numpy.ts";
import { firstDifference, numpyFiles, oracleManifest } from "./_support/oracle.ts";
import { oracleCases } from "./_support/oracle_cases.ts";
import { listFiles, manifestFolders, tempDir } from "./_support/temp.ts";
import { assertValidReport, readReport } from "./_support/report.ts";

const { dir: base, remove } = tempDir("run");
after(remove);
const manifestDir = manifestFolders(base);

/** The report entry of one array. */
function entry(report: Report, arrayPath: string): ArrayReport {
  const found = report.arrays.find((a) => a.path === arrayPath);
  assert.ok(found, `no report entry for ${arrayPath}`);
  return found;
}

const SMALL = `version: 1
root: out
vars:
  N: 6
arrays:
  - path: a/x.npy
    shape: ["\${N}", 4]
    dtype: float32
    fill: 1.5
  - path: a/y.npy
    shape: 3
    dtype: int64
  - path: b/part-{i:02d}.npy
    foreach: { i: { range: [0, 3] } }
    shape: [2, 2]
    dtype: uint8
    fill: 7
`;
/** The files SMALL makes below its root. */
const SMALL_FILES = ["a/x.npy", "a/y.npy", "b/part-00.npy", "b/part-01.npy", "b/part-02.npy"];

describe("npyalloc run", () => {
  test("creates every array, byte for byte what NumPy writes, and a valid report", () => {
    const { dir, manifest } = manifestDir(SMALL);
    const run = runCliProcess(["run", manifest]);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(listFiles(path.join(dir, "out")), SMALL_FILES);
    const out = runPython(`
import os
d = ${JSON.stringify(path.join(dir, "out"))}
assert (np.load(os.path.join(d, "a/x.npy")) == np.full((6, 4), 1.5, "float32")).all()
assert np.load(os.path.join(d, "a/y.npy")).dtype == np.int64
assert (np.load(os.path.join(d, "b/part-02.npy")) == 7).all()
print("ok")
`);
    assert.equal(out.trim(), "ok");
    const report = readReport(path.join(dir, "npyalloc-report.json"));
    assertValidReport(report);
    assert.equal(report.ok, true);
    assert.equal(report.exit_code, 0);
    assert.deepEqual(report.summary.created, 5);
    assert.equal(report.manifest?.path, manifest);
    assert.match(report.manifest?.sha256 ?? "", /^[0-9a-f]{64}$/);
    const x = entry(report, "a/x.npy");
    assert.deepEqual(
      [x.shape, x.descr, x.fill, x.allocation, x.allocated_by, x.status],
      [[6, 4], "<f4", 1.5, "write", "write", "created"],
    );
    assert.equal(entry(report, "a/y.npy").allocated_by, "fallocate");
    assert.match(run.stderr, /5 created, 0 unchanged, 0 replaced, 0 failed/);
  });

  test("a re-run leaves every file untouched, including data written since", () => {
    const { dir, manifest } = manifestDir(SMALL);
    assert.equal(runCliProcess(["run", manifest, "-q"]).status, 0);
    const file = path.join(dir, "out", "a", "x.npy");
    const fd = fs.openSync(file, "r+");
    fs.writeSync(fd, Buffer.from([1, 2, 3, 4]), 0, 4, 128);
    fs.closeSync(fd);
    const past = new Date("2020-01-01T00:00:00Z");
    fs.utimesSync(file, past, past);
    const before = fs.readFileSync(file);
    const again = runCliProcess(["run", manifest]);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(fs.readFileSync(file), before);
    assert.equal(fs.statSync(file).mtime.getTime(), past.getTime());
    const report = readReport(path.join(dir, "npyalloc-report.json"));
    assert.equal(report.summary.unchanged, 5);
    assert.equal(report.summary.created, 0);
    assert.match(again.stderr, /0 created, 5 unchanged/);
  });

  test("a conflicting file stops the run before anything is written; --force replaces it", () => {
    const { dir, manifest } = manifestDir(SMALL);
    fs.mkdirSync(path.join(dir, "out", "a"), { recursive: true });
    const x = path.join(dir, "out", "a", "x.npy");
    assert.equal(runCliProcess(["create", x, "--shape", "5", "--dtype", "float64"]).status, 0);
    const before = fs.readFileSync(x);
    const run = runCliProcess(["run", manifest]);
    assert.equal(run.status, 4, run.stderr);
    assert.match(
      run.stderr,
      /conflict: a\/x\.npy: .*shape differs: on disk \(5,\), manifest \(6, 4\)/,
    );
    assert.deepEqual(listFiles(path.join(dir, "out")), ["a/x.npy"]);
    assert.deepEqual(fs.readFileSync(x), before);
    const report = readReport(path.join(dir, "npyalloc-report.json"));
    assertValidReport(report);
    assert.equal(report.exit_code, 4);
    const forced = runCliProcess(["run", manifest, "--force"]);
    assert.equal(forced.status, 0, forced.stderr);
    const after = readReport(path.join(dir, "npyalloc-report.json"));
    assert.equal(after.summary.replaced, 1);
    assert.equal(after.summary.created, 4);
    assert.equal(entry(after, "a/x.npy").status, "replaced");
  });

  test("plan and --dry-run write nothing but the report", () => {
    for (const args of [["plan"], ["run", "--dry-run"]]) {
      const { dir, manifest } = manifestDir(SMALL);
      const run = runCliProcess([...args, manifest]);
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(listFiles(dir), ["manifest.yaml", "npyalloc-report.json"]);
      const report = readReport(path.join(dir, "npyalloc-report.json"));
      assertValidReport(report);
      assert.equal(report.options.dry_run, true);
      assert.equal(report.summary.planned, 5);
      assert.equal(report.filesystems.length, 1);
      assert.match(run.stderr, /plan: 5 of 5 arrays to write/);
    }
  });

  test("an invalid manifest is exit 2 with file:line:column, nothing touched, a report", () => {
    const { dir, manifest } = manifestDir(SMALL.replace("shape: [2, 2]", "shape: [2, -4]"));
    const run = runCliProcess(["run", manifest]);
    assert.equal(run.status, 2, run.stderr);
    assert.match(
      run.stderr,
      /manifest\.yaml:15:16: arrays\[2\]\.shape\[1\]: Must be an integer >= 0, got -4/,
    );
    assert.deepEqual(listFiles(dir), ["manifest.yaml", "npyalloc-report.json"]);
    const report = readReport(path.join(dir, "npyalloc-report.json"));
    assertValidReport(report);
    assert.equal(report.error?.code, "E_MANIFEST");
    assert.equal(report.exit_code, 2);
  });

  test("not enough space is exit 3 with the shortfall, nothing touched", () => {
    const { dir, manifest } = manifestDir(`version: 1
arrays:
  - path: huge.npy
    shape: [140737488355328]
  - path: small.npy
    shape: 3
`);
    const run = runCliProcess(["run", manifest]);
    assert.equal(run.status, 3, run.stderr);
    assert.match(run.stderr, /Not enough free space/);
    assert.match(run.stderr, /1\.0 PiB/);
    assert.deepEqual(listFiles(dir), ["manifest.yaml", "npyalloc-report.json"]);
    const report = readReport(path.join(dir, "npyalloc-report.json"));
    assertValidReport(report);
    assert.equal(report.error?.code, "E_NO_SPACE");
    assert.equal(report.filesystems[0]?.ok, false);
  });

  test("-r - prints the report on stdout; --json prints it too", () => {
    const { dir, manifest } = manifestDir(SMALL);
    const run = runCliProcess(["run", manifest, "-r", "-"]);
    assert.equal(run.status, 0, run.stderr);
    assertValidReport(JSON.parse(run.stdout));
    assert.equal(fs.existsSync(path.join(dir, "npyalloc-report.json")), false);
    const json = runCliProcess([
      "plan",
      manifest,
      "--json",
      "-r",
      path.join(dir, "r", "plan.json"),
    ]);
    assert.equal(json.status, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), readReport(path.join(dir, "r", "plan.json")));
  });

  test("run - reads the manifest from standard input, relative to the working folder", () => {
    const { dir } = manifestDir(SMALL);
    const run = runCliProcess(["run", "-", "-q"], { cwd: dir, input: SMALL });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(listFiles(path.join(dir, "out")), SMALL_FILES);
    // The report goes to the working folder, and says where the manifest came from.
    const report = readReport(path.join(dir, "npyalloc-report.json"));
    assert.equal(report.manifest?.path, "-");
    const bad = runCliProcess(["validate", "-"], { cwd: dir, input: "version: 1\narrays: 7\n" });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^<stdin>:2:9: arrays: /);
  });

  test("--var overrides vars; bad options are exit 2", () => {
    const { dir, manifest } = manifestDir(SMALL);
    const run = runCliProcess(["run", manifest, "--var", "N=9", "-q"]);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, "");
    const info = JSON.parse(
      runCliProcess(["inspect", "--json", path.join(dir, "out", "a", "x.npy")]).stdout,
    );
    assert.deepEqual(info.shape, [9, 4]);
    for (const bad of [["--jobs", "0"], ["--min-free", "lots"], ["--var", "oops"], ["--bogus"]]) {
      const r = runCliProcess(["run", manifest, ...bad]);
      assert.equal(r.status, 2, `${bad}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split("\n").length, 1);
    }
  });

  test("removes the temporary files a dead run left on this host", () => {
    const { dir, manifest } = manifestDir(SMALL);
    fs.mkdirSync(path.join(dir, "out", "a"), { recursive: true });
    const host = os.hostname().replace(/[^A-Za-z0-9_-]/g, "_");
    const stale = path.join(dir, "out", "a", `.x.npy.${host}.999999999.abc.npyalloc-tmp`);
    const otherHost = path.join(dir, "out", "a", `.x.npy.elsewhere.999999999.abc.npyalloc-tmp`);
    fs.writeFileSync(stale, "partial");
    fs.writeFileSync(otherHost, "partial");
    assert.equal(runCliProcess(["run", manifest, "-q"]).status, 0);
    assert.equal(fs.existsSync(stale), false);
    assert.equal(fs.existsSync(otherHost), true);
  });

  test("three concurrent runs create each file exactly once", async () => {
    const { dir, manifest } = manifestDir(`version: 1
arrays:
  - path: d{i}/f{j:03d}.npy
    foreach: { i: [0, 1], j: { range: [0, 60] } }
    shape: [100]
    dtype: float32
    fill: 2.5
`);
    const runs = await Promise.all([0, 1, 2].map((k) =>
      new Promise<number | null>((resolve) => {
        const isDeno = "Deno" in globalThis;
        const cli = path.join(import.meta.dirname ?? ".", "..", "src", "cli.ts");
        const argv = [
          ...(isDeno ? ["run", "-A"] : []),
          cli,
          "run",
          manifest,
          "-q",
          "-j",
          "8",
          "-r",
          path.join(dir, `r${k}.json`),
        ];
        spawn(process.execPath, argv, { stdio: "ignore" }).on("exit", resolve);
      })
    ));
    assert.deepEqual(runs, [0, 0, 0]);
    const created = [0, 1, 2].map((k) => readReport(path.join(dir, `r${k}.json`)).summary.created);
    assert.equal(created.reduce((a, b) => a + b, 0), 120);
    const files = listFiles(dir).filter((f) => f.endsWith(".npy"));
    assert.equal(files.length, 120);
    assert.equal(listFiles(dir).filter((f) => f.includes("npyalloc-tmp")).length, 0);
  });
});

describe("a NumPy corpus through a manifest", () => {
  test("every file of the oracle matrix, written by `run`, is byte for byte NumPy's", () => {
    const cases = oracleCases();
    const text = oracleManifest(cases, "out");
    const { dir, manifest } = manifestDir(text);
    const run = runCliProcess(["run", manifest, "-q", "--no-fsync"]);
    assert.equal(run.status, 0, run.stderr);
    const expected = numpyFiles(cases);
    for (const [i, c] of cases.entries()) {
      const dtype = parseDType(c.dtype as string);
      const headerBytes = layoutArray({
        shape: c.shape.map(BigInt),
        dtype,
        order: c.order,
        ...(c.headerVersion === undefined ? {} : { headerVersion: c.headerVersion }),
      }).header.length;
      const ours = new Uint8Array(fs.readFileSync(path.join(dir, "out", `c${i}.npy`)));
      const difference = firstDifference(ours, expected[i]!, dtype, headerBytes);
      if (difference !== null) {
        assert.fail(`case ${i} ${JSON.stringify(c).slice(0, 120)}: ${difference}`);
      }
    }
  });
});

describe("validate, verify, schema", () => {
  test("validate several manifests: all problems, exit 2", () => {
    const good = manifestDir(SMALL).manifest;
    const bad = manifestDir("version: 1\narrays:\n  - path: x.npy\n    shap: [3]\n").manifest;
    const ok = runCliProcess(["validate", good]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /ok, 5 arrays/);
    const run = runCliProcess(["validate", good, bad]);
    assert.equal(run.status, 2);
    assert.match(
      run.stderr,
      /manifest\.yaml:4:5: arrays\[0\]\.shap: Unknown key .shap. \(did you mean .shape.\?\)/,
    );
  });

  test("verify: match, missing, changed header, changed data with --deep", () => {
    const { dir, manifest } = manifestDir(SMALL);
    assert.equal(runCliProcess(["verify", manifest]).status, 1);
    assert.equal(runCliProcess(["run", manifest, "-q"]).status, 0);
    const clean = runCliProcess(["verify", manifest, "--deep"]);
    assert.equal(clean.status, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /all 5 arrays match \(headers, sizes and data\)/);
    const x = path.join(dir, "out", "a", "x.npy");
    const fd = fs.openSync(x, "r+");
    fs.writeSync(fd, Buffer.from([0, 0, 0, 0]), 0, 4, 128 + 4 * 10);
    fs.closeSync(fd);
    assert.equal(runCliProcess(["verify", manifest]).status, 0);
    const deep = runCliProcess(["verify", manifest, "--deep"]);
    assert.equal(deep.status, 1);
    assert.match(
      deep.stdout,
      /differs: a\/x\.npy: data differs from the fill at element 10 \(byte 170\)/,
    );
    fs.rmSync(path.join(dir, "out", "a", "y.npy"));
    assert.match(runCliProcess(["verify", manifest]).stdout, /differs: a\/y\.npy: missing/);
  });

  test("schema prints both schemas", () => {
    for (const which of ["manifest", "report"]) {
      const run = runCliProcess(["schema", which]);
      assert.equal(run.status, 0);
      assert.equal(JSON.parse(run.stdout).$schema, "https://json-schema.org/draft/2020-12/schema");
    }
    assert.equal(runCliProcess(["schema", "other"]).status, 2);
  });
});
