/**
 * `npyalloc report merge`: shard reports of real runs joined into one valid report; missing
 * shards named (exit 5), failures carried (exit 1), and every report set that does not come
 * from one split refused (exit 2) with one line and nothing written.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { toJson } from "../src/json.ts";
import type { FilesystemBudget } from "../src/plan/space.ts";
import {
  formatRanges,
  mergeReports,
  type NamedReport,
  parseJsonExact,
  parseReport,
} from "../src/report/merge.ts";
import { buildReport, type Report } from "../src/report/report.ts";
import { runCliProcess } from "./_support/cli.ts";
import { tempDir } from "./_support/temp.ts";
import { assertValidReport, readReport } from "./_support/report.ts";

const { dir: base, remove } = tempDir("report-merge");
after(remove);
let counter = 0;
/** These tests start several processes: more than bun's default 5 s on a busy machine. */
const SLOW = { timeout: 120_000 };

function writeJson(file: string, value: unknown): void {
  fs.writeFileSync(file, toJson(value, 2));
}

const MANIFEST = `version: 1
root: out
vars:
  N: 8
arrays:
  - path: a/x-{i:02d}.npy
    foreach: { i: { range: [0, 12] } }
    shape: ["\${N}", "{i}"]
    dtype: float32
    fill: 0.5
  - path: b/y-{i}.npy
    foreach: { i: { range: [0, 6] } }
    shape: [3, "{i}"]
`;

/** Runs shards `ks` of `count` of a fresh copy of `text`; returns the folder and report paths. */
function shardRuns(
  count: number,
  ks: number[],
  text = MANIFEST,
  extra: (k: number) => string[] = () => [],
): { dir: string; manifest: string; reports: string[] } {
  const dir = path.join(base, `m${counter++}`);
  fs.mkdirSync(dir);
  const manifest = path.join(dir, "manifest.yaml");
  fs.writeFileSync(manifest, text);
  const reports = ks.map((k) => {
    const run = runCliProcess(["run", manifest, "-q", "--shard", `${k}/${count}`, ...extra(k)]);
    assert.ok(run.status === 0 || run.status === 4, run.stderr);
    return path.join(dir, `npyalloc-report.shard-${k}-of-${count}.json`);
  });
  return { dir, manifest, reports };
}

function merge(args: string[]) {
  return runCliProcess(["report", "merge", ...args]);
}

describe("report merge", () => {
  test("joins every shard of a run into one valid report of the whole manifest", SLOW, () => {
    const { dir, reports } = shardRuns(3, [2, 0, 1]);
    const out = path.join(dir, "merged.json");
    const run = merge([...reports, "-o", out]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /merged all 3 shards: 18 arrays, 18 created.*; ok; report: /);
    const merged = readReport(out);
    assertValidReport(merged);
    assert.equal(merged.shard, null);
    assert.equal(merged.ok, true);
    assert.equal(merged.exit_code, 0);
    assert.equal(merged.error, null);
    const parts = reports.map(readReport);
    assert.equal(merged.manifest?.sha256, parts[0]?.manifest?.sha256);
    const paths = merged.arrays.map((a) => a.path);
    assert.deepEqual(paths, [...paths].sort());
    assert.deepEqual(
      [...paths].sort(),
      parts.flatMap((p) => p.arrays.map((a) => a.path)).sort(),
    );
    assert.equal(merged.summary.arrays, 18);
    assert.equal(merged.summary.created, 18);
    const sum = (key: "bytes_written" | "bytes_reserved") =>
      parts.reduce((total, p) => total + Number(p.summary[key]), 0);
    assert.equal(merged.summary.bytes_written, sum("bytes_written"));
    assert.equal(merged.summary.bytes_reserved, sum("bytes_reserved"));
    assert.equal(merged.started_at, parts.map((p) => p.started_at).sort()[0]);
    assert.equal(merged.finished_at, parts.map((p) => p.finished_at).sort().at(-1));
    // One filesystem, seen by all three shards: required bytes add up.
    assert.equal(merged.filesystems.length, 1);
    assert.equal(
      merged.filesystems[0]?.required_bytes,
      parts.reduce((total, p) => total + Number(p.filesystems[0]?.required_bytes ?? 0), 0),
    );
    assert.equal(merged.filesystems[0]?.ok, true);
    // Without -o, the merged report goes to standard output.
    const stdout = merge(reports);
    assert.equal(stdout.status, 0, stdout.stderr);
    assert.deepEqual(JSON.parse(stdout.stdout).arrays, merged.arrays);
  });

  test("missing shards are named, the partial report is written, exit 5", SLOW, () => {
    const { dir, reports } = shardRuns(5, [0, 2, 4]);
    const out = path.join(dir, "merged.json");
    const run = merge([...reports, "-o", out]);
    assert.equal(run.status, 5, run.stderr);
    assert.match(run.stderr, /missing shard reports: 1, 3 of 5 \(3 of 5 given\)/);
    const merged = readReport(out);
    assertValidReport(merged);
    assert.equal(merged.ok, false);
    assert.equal(merged.exit_code, 1);
    assert.equal(merged.error?.code, "E_NOT_FOUND");
    assert.match(
      merged.error?.message ?? "",
      /Missing shard reports: 1, 3 of 5 \(\d+ of 18 arrays/,
    );
    assert.equal(
      merged.summary.arrays,
      reports.map(readReport).reduce((n, r) => n + r.arrays.length, 0),
    );
  });

  test("a shard that failed makes the merge exit 1, with the shard's exit code kept", SLOW, () => {
    // A file in the way of an array of shard 0 stops shard 0 with exit 4 (conflict).
    const probe = shardRuns(2, []);
    const plan = runCliProcess(["plan", probe.manifest, "--shard", "0/2", "-r", "-", "-q"]);
    const victim = (JSON.parse(plan.stdout) as Report).arrays[0]!.path;
    const dir = path.dirname(probe.manifest);
    fs.mkdirSync(path.join(dir, "out", path.dirname(victim)), { recursive: true });
    fs.writeFileSync(path.join(dir, "out", victim), "in the way");
    const reports = [0, 1].map((k) => {
      const run = runCliProcess(["run", probe.manifest, "-q", "--shard", `${k}/2`]);
      assert.equal(run.status, k === 0 ? 4 : 0, run.stderr);
      return path.join(dir, `npyalloc-report.shard-${k}-of-2.json`);
    });
    const out = path.join(dir, "merged.json");
    const run = merge([...reports, "-o", out]);
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /not ok \(exit_code 4\)/);
    const merged = readReport(out);
    assertValidReport(merged);
    assert.equal(merged.exit_code, 4);
    assert.equal(merged.ok, false);
    assert.equal(merged.error?.code, "E_CONFLICT");
    assert.match(merged.error?.message ?? "", /^Shard 0: /);
    assert.equal(merged.summary.conflicts, 1);
  });

  test("reports that do not come from one split are refused, nothing written", SLOW, () => {
    const a = shardRuns(2, [0, 1]);
    const other = shardRuns(2, [1], MANIFEST.replace("range: [0, 6]", "range: [0, 7]"));
    const vars = shardRuns(2, [1], MANIFEST, () => ["--var", "N=9"]);
    const three = shardRuns(3, [1]);
    const out = path.join(a.dir, "merged.json");
    const cases: [string[], RegExp][] = [
      [[a.reports[0]!, a.reports[0]!], /Shard 0 of 2 appears twice/],
      [[a.reports[0]!, other.reports[0]!], /Cannot merge reports of different manifests/],
      [[a.reports[0]!, vars.reports[0]!], /split different arrays.*--var/],
      [[a.reports[0]!, three.reports[0]!], /different splits: .* shard 0 of 2, .* shard 1 of 3/],
    ];
    // Shard 1's report claiming an array of shard 0: an overlap.
    const shard0 = readReport(a.reports[0]!);
    const shard1 = readReport(a.reports[1]!);
    const overlap = path.join(a.dir, "overlap.json");
    writeJson(overlap, { ...shard1, arrays: [...shard1.arrays, shard0.arrays[0]] });
    cases.push([[a.reports[0]!, overlap], /Array '.*' is in two shards: 0 .* and 1/]);
    // A complete set whose arrays are not the split's (an array left out of one report).
    const short = path.join(a.dir, "short.json");
    writeJson(short, { ...shard1, arrays: shard1.arrays.slice(1) });
    cases.push([[a.reports[0]!, short], /hold 17 arrays, but the manifest has 18/]);
    for (const [inputs, message] of cases) {
      const run = merge([...inputs, "-o", out]);
      assert.equal(run.status, 2, `${inputs}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.match(run.stderr, /nothing was written/);
      assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
      assert.equal(fs.existsSync(out), false);
    }
  });

  test("unreadable, invalid and manifest-less reports are exit 2", SLOW, () => {
    const { dir, reports } = shardRuns(2, [0]);
    const notJson = path.join(dir, "not.json");
    fs.writeFileSync(notJson, "{ nope");
    const notReport = path.join(dir, "other.json");
    writeJson(notReport, { hello: "world" });
    const bad = path.join(dir, "bad.yaml");
    fs.writeFileSync(bad, "version: 1\narrays: 3\n");
    const invalid = runCliProcess(["run", bad, "-q"]);
    assert.equal(invalid.status, 2);
    const noManifest = path.join(dir, "npyalloc-report.json");
    assert.equal(readReport(noManifest).manifest, null);
    const cases: [string, RegExp][] = [
      [path.join(dir, "missing.json"), /Cannot read report '.*missing\.json': no such file/],
      [notJson, /Cannot read report '.*not\.json': not JSON/],
      [notReport, /Cannot read report '.*other\.json': not an npyalloc report/],
      [noManifest, /its run stopped before it read a manifest \(exit 2/],
    ];
    for (const [input, message] of cases) {
      const run = merge([reports[0]!, input]);
      assert.equal(run.status, 2, run.stderr);
      assert.match(run.stderr, message);
      assert.equal(run.stdout, "");
    }
    assert.equal(merge([]).status, 2);
    assert.equal(runCliProcess(["report"]).status, 2);
    assert.match(runCliProcess(["report", "split"]).stderr, /unknown subcommand 'split'/);
    const help = runCliProcess(["report", "merge", "--help"]);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Exit codes:\n\s+0\s.*\n\s+5\s+shards are missing/s);
    assert.match(runCliProcess(["--help"]).stdout, /report merge <report\.json>\.\.\./);
  });

  test("a report of the whole manifest merges alone as shard 0 of 1", SLOW, () => {
    const dir = path.join(base, `m${counter++}`);
    fs.mkdirSync(dir);
    const manifest = path.join(dir, "manifest.yaml");
    fs.writeFileSync(manifest, MANIFEST);
    assert.equal(runCliProcess(["run", manifest, "-q"]).status, 0);
    const run = merge([path.join(dir, "npyalloc-report.json")]);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).summary.created, 18);
  });

  test("integers past 2^53 stay exact through a merge", SLOW, () => {
    const { dir, reports } = shardRuns(
      2,
      [0, 1],
      `version: 1
arrays:
  - path: empty-{i}.npy
    foreach: { i: [0, 1, 2] }
    shape: [0, 1152921504606846977]
    dtype: uint8
`,
    );
    const text = fs.readFileSync(reports[0]!, "utf8") + fs.readFileSync(reports[1]!, "utf8");
    assert.match(text, /1152921504606846977/);
    const run = merge(reports);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.match(/1152921504606846977/g)?.length, 3);
    assert.ok(fs.existsSync(path.join(dir, "empty-0.npy")));
  });
});

describe("merge internals", () => {
  test("parseJsonExact keeps big integers and leaves everything else as JSON.parse does", () => {
    const text =
      '{"a": 9007199254740993, "b": -18446744073709551615, "c": 1.5e300, "d": 0.12345678901234567, "e": "12345678901234567890", "f": [1, 9007199254740991]}';
    assert.deepEqual(parseJsonExact(text), {
      a: 9007199254740993n,
      b: -18446744073709551615n,
      c: 1.5e300,
      d: 0.12345678901234567,
      e: "12345678901234567890",
      f: [1, 9007199254740991],
    });
    assert.deepEqual(parseJsonExact('{"s": "a \\" 12345678901234567890 \\\\"}'), {
      s: 'a " 12345678901234567890 \\',
    });
  });

  test("formatRanges", () => {
    assert.equal(formatRanges([]), "");
    assert.equal(formatRanges([3]), "3");
    assert.equal(formatRanges([0, 1, 2, 5, 7, 8]), "0-2, 5, 7-8");
  });

  test("filesystems are joined by device: required summed, available the largest seen", () => {
    const budget = (device: string, path: string, available: bigint, required: bigint) =>
      ({
        path,
        device,
        type: "ext4",
        block_size: 4096,
        available_bytes: available,
        required_bytes: required,
        metadata_bytes: 0n,
        committed_bytes: 0n,
        min_free_bytes: 0n,
        free_inodes: 100,
        required_inodes: 60,
        ok: true,
        shortfall_bytes: 0n,
        shortfall_inodes: 0,
      }) as unknown as FilesystemBudget;
    const shard = (index: number, filesystems: FilesystemBudget[]): NamedReport => ({
      name: `r${index}.json`,
      report: parseReport(
        toJson(buildReport({
          runtime: index === 0 ? "deno 2.9.6" : "bun 1.4.5",
          manifest: { path: "m.yaml", sha256: "c".repeat(64) },
          startedAt: new Date(1000 * index),
          finishedAt: new Date(1000 * index + 500),
          options: {
            jobs: 4,
            dry_run: false,
            force: false,
            fsync: index === 0,
            min_free: "0",
            min_free_bytes: 0,
          },
          shard: { index, count: 2, arrays_total: 0 },
          filesystems,
          arrays: [],
          warnings: ["same warning"],
          exitCode: 0,
        })),
        `r${index}.json`,
      ),
    });
    const result = mergeReports([
      shard(1, [budget("7", "/data/a/b", 900n, 50n), budget("9", "/scratch", 10n ** 18n, 1n)]),
      shard(0, [budget("7", "/data", 1000n, 70n)]),
    ]);
    const merged = result.report;
    assertValidReport(JSON.parse(toJson(merged)));
    assert.equal(result.exitCode, 0);
    assert.deepEqual(result.present, [0, 1]);
    assert.deepEqual(
      merged.filesystems.map((f) => [
        f.device,
        f.path,
        f.available_bytes,
        f.required_bytes,
        f.required_inodes,
        f.ok,
        f.shortfall_inodes,
      ]),
      [["7", "/data", 1000, 120, 120, false, 20], ["9", "/scratch", 10n ** 18n, 1, 60, true, 0]],
    );
    assert.equal(merged.tool.runtime, "deno 2.9.6, bun 1.4.5");
    assert.equal(merged.duration_ms, 1500);
    assert.equal(merged.options.fsync, true);
    assert.deepEqual(merged.warnings, [
      "same warning",
      "Shard 1 ran with other options than shard 0 (fsync); the merged report shows those of shard 0",
    ]);
  });
});
