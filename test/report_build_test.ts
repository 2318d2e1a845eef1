import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { NpyallocError } from "../src/errors.ts";
import type { PlannedArray } from "../src/plan/targets.ts";
import { buildReport, fillToJson, plannedOutcome, type ReportInput } from "../src/report/report.ts";
import { toJson } from "../src/json.ts";
import { reportText, writeReport } from "../src/report/write_report.ts";
import { VERSION } from "../src/version.ts";
import { withTempDir } from "./_support/temp.ts";
import { loadPlatform } from "../src/platform/mod.ts";

const platform = await loadPlatform();
import { manifestArray } from "./_support/arrays.ts";

function input(arrays: ReportInput["arrays"], exitCode = 0): ReportInput {
  return {
    runtime: "bun 1.4.5",
    manifest: { path: "data.yaml", sha256: "0".repeat(64) },
    startedAt: new Date("2026-01-02T03:04:05.000Z"),
    finishedAt: new Date("2026-01-02T03:04:06.500Z"),
    options: {
      jobs: 2,
      dry_run: false,
      force: false,
      fsync: true,
      min_free: "0",
      min_free_bytes: 0,
    },
    arrays,
    exitCode,
  };
}

const images = manifestArray("/data", "train/images.npy", {
  shape: [60000, 28, 28],
  dtype: "uint8",
});

describe("buildReport", () => {
  test("carries the fields of SPEC section 4 for a created array", () => {
    const report = buildReport(input([{
      array: images,
      status: "created",
      allocatedBy: "fallocate",
      durationMs: 3.1,
      bytesWritten: 128n,
      bytesReserved: 47040000n,
    }]));
    assert.equal(report.report_version, 1);
    assert.deepEqual(report.tool, { name: "npyalloc", version: VERSION, runtime: "bun 1.4.5" });
    assert.equal(report.started_at, "2026-01-02T03:04:05.000Z");
    assert.equal(report.finished_at, "2026-01-02T03:04:06.500Z");
    assert.equal(report.duration_ms, 1500);
    assert.equal(report.shard, null);
    assert.deepEqual(report.filesystems, []);
    assert.deepEqual(report.warnings, []);
    assert.equal(report.error, null);
    assert.deepEqual(report.arrays, [{
      path: "train/images.npy",
      shape: [60000, 28, 28],
      descr: "|u1",
      order: "C",
      fill: 0,
      allocation: "reserve",
      allocated_by: "fallocate",
      header_version: "1.0",
      header_bytes: 128,
      data_bytes: 47040000,
      file_bytes: 47040128,
      status: "created",
      reason: null,
      duration_ms: 3.1,
      error: null,
    }]);
    assert.deepEqual(report.summary, {
      arrays: 1,
      created: 1,
      unchanged: 0,
      replaced: 0,
      failed: 0,
      planned: 0,
      interrupted: 0,
      conflicts: 0,
      bytes_written: 128,
      bytes_reserved: 47040000,
    });
    assert.equal(report.ok, true);
    assert.equal(report.exit_code, 0);
  });

  test("counts every status and sums the bytes; ok follows the exit code", () => {
    const report = buildReport(input([
      { array: images, status: "created", bytesWritten: 10n, bytesReserved: 5n },
      { array: images, status: "unchanged" },
      { array: images, status: "replaced", bytesWritten: 7n },
      { array: images, status: "planned" },
      { array: images, status: "interrupted", error: new NpyallocError("E_INTERRUPTED", "Stop") },
      { array: images, status: "failed", error: { code: "E_IO", message: "Cannot write: EIO" } },
    ], 1));
    const { summary } = report;
    assert.deepEqual(
      [summary.created, summary.unchanged, summary.replaced, summary.planned, summary.interrupted],
      [1, 1, 1, 1, 1],
    );
    assert.equal(summary.failed, 1);
    assert.equal(summary.conflicts, 0);
    assert.equal(summary.bytes_written, 17);
    assert.equal(summary.bytes_reserved, 5);
    assert.equal(report.ok, false);
    assert.deepEqual(report.arrays[4]?.error, { code: "E_INTERRUPTED", message: "Stop" });
  });

  test("plannedOutcome: conflicts are failed with their code, nothing else is", () => {
    const base = { array: images, newFolders: [], replaceable: true };
    const planned: PlannedArray[] = [
      { ...base, action: "create", reason: null, code: null },
      { ...base, action: "unchanged", reason: null, code: null },
      { ...base, action: "replace", reason: "a folder is in the way", code: null },
      { ...base, action: "conflict", reason: "shape (3,) differs from (4,)", code: "E_CONFLICT" },
      {
        ...base,
        action: "conflict",
        reason: "'/a' is a file, not a folder",
        code: "E_NOT_A_DIRECTORY",
      },
    ];
    const report = buildReport(input(planned.map(plannedOutcome), 4));
    assert.deepEqual(report.arrays.map((a) => a.status), [
      "planned",
      "unchanged",
      "planned",
      "failed",
      "failed",
    ]);
    assert.equal(report.arrays[2]?.reason, "a folder is in the way");
    assert.deepEqual(report.arrays[3]?.error, {
      code: "E_CONFLICT",
      message: "Conflict at 'train/images.npy': shape (3,) differs from (4,)",
    });
    assert.equal(report.arrays[4]?.error?.code, "E_NOT_A_DIRECTORY");
    assert.equal(report.summary.conflicts, 2);
    assert.equal(report.summary.failed, 2);
    assert.equal(report.summary.planned, 2);
  });

  test("fill: as declared, NaN and infinities as strings, integers exact, zero when omitted", () => {
    assert.equal(fillToJson(undefined), 0);
    assert.equal(fillToJson(null), 0);
    assert.equal(fillToJson(NaN), "nan");
    assert.equal(fillToJson(Infinity), "inf");
    assert.equal(fillToJson(-Infinity), "-inf");
    assert.equal(fillToJson(1.5), 1.5);
    assert.equal(fillToJson(true), true);
    assert.equal(fillToJson("2020-01-01"), "2020-01-01");
    assert.equal(fillToJson(2n ** 64n - 1n), 2n ** 64n - 1n);
    assert.deepEqual(fillToJson([1, NaN]), [1, "nan"]);
    assert.deepEqual(fillToJson({ a: -Infinity, b: { c: [null, 2n] } }), {
      a: "-inf",
      b: { c: [0, 2] },
    });
  });

  test("the text keeps integers past 2^53 exact", () => {
    const huge = manifestArray("/data", "huge.npy", {
      shape: [2],
      dtype: "uint64",
      fill: 2n ** 64n - 1n,
    });
    const wide = manifestArray("/data", "wide.npy", { shape: [0, 2n ** 60n], dtype: "uint8" });
    const nan = manifestArray("/data", "nan.npy", { shape: [1], dtype: "float16", fill: NaN });
    const text = reportText(buildReport(input([
      { array: huge, status: "planned" },
      { array: wide, status: "planned" },
      { array: nan, status: "planned" },
    ])));
    assert.ok(text.includes('"fill":18446744073709551615'));
    assert.ok(text.includes("1152921504606846976"));
    assert.ok(text.includes('"fill":"nan"'));
    assert.ok(text.endsWith("}\n"));
    assert.equal(JSON.parse(text).arrays[0].fill, Number(2n ** 64n - 1n));
  });

  test("the text has one line per array and per filesystem, the rest indented", () => {
    const text = reportText(buildReport(input([
      { array: images, status: "planned" },
      { array: images, status: "planned" },
    ])));
    const lines = text.split("\n");
    const arrays = lines.indexOf('  "arrays": [');
    assert.ok(arrays > 0, text);
    assert.match(lines[arrays + 1]!, /^ {4}\{"path":.*\},$/);
    assert.match(lines[arrays + 2]!, /^ {4}\{"path":.*\}$/);
    assert.equal(lines[arrays + 3], "  ],");
    assert.ok(lines.includes('  "report_version": 1,'));
    assert.ok(lines.includes('    "created": 0,'), "the summary is indented");
    assert.deepEqual(
      JSON.parse(text),
      JSON.parse(toJson(buildReport(input([
        { array: images, status: "planned" },
        { array: images, status: "planned" },
      ])))),
    );
  });
});

describe("writeReport", () => {
  test("writes the file atomically, creating folders, and replaces an older report", async () => {
    await withTempDir("report-build", (dir) => {
      const report = buildReport(input([{ array: images, status: "planned" }]));
      const file = path.join(dir, "a", "b", "report.json");
      const text = writeReport(platform, report, file);
      assert.equal(fs.readFileSync(file, "utf8"), text);
      assert.equal(JSON.parse(text).summary.planned, 1);
      fs.writeFileSync(file, "old");
      writeReport(platform, report, file, false);
      assert.equal(fs.readFileSync(file, "utf8"), text);
      assert.deepEqual(fs.readdirSync(path.dirname(file)), ["report.json"], "no temp file left");
    });
  });

  test("a destination below a file fails with a clear error and leaves nothing", async () => {
    await withTempDir("report-build", (dir) => {
      fs.writeFileSync(path.join(dir, "file"), "x");
      const report = buildReport(input([]));
      assert.throws(
        () => writeReport(platform, report, path.join(dir, "file", "r.json")),
        (err) => {
          assert.ok(err instanceof NpyallocError);
          assert.equal(err.code, "E_NOT_A_DIRECTORY");
          assert.match(
            err.message,
            /^Cannot write the report '.*r\.json': .* is a file, not a folder$/,
          );
          return true;
        },
      );
      assert.throws(() => writeReport(platform, report, dir), (err) => {
        assert.ok(err instanceof NpyallocError);
        return true;
      });
      assert.deepEqual(fs.readdirSync(dir), ["file"]);
    });
  });
});
