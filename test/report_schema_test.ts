import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { ERROR_CODES, EXIT, NpyallocError } from "../src/errors.ts";
import { toJson } from "../src/json.ts";
import { planSpace } from "../src/plan/space.ts";
import { classifyTargets } from "../src/plan/targets.ts";

import {
  type ArrayOutcome,
  buildReport,
  plannedOutcome,
  type Report,
  type ReportInput,
  type ReportOptions,
} from "../src/report/report.ts";
import { manifestArray } from "./_support/arrays.ts";
import { loadPlatform } from "../src/platform/mod.ts";

const platform = await loadPlatform();

const schemaPath = new URL("../schemas/report.schema.json", import.meta.url);
const schema = JSON.parse(fs.readFileSync(schemaPath, "utf8")) as Record<string, unknown>;
const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);

/** Validates the report as a reader sees it: the JSON text, parsed. */
function assertValid(report: Report): void {
  const ok = validate(JSON.parse(toJson(report)));
  assert.ok(ok, JSON.stringify(validate.errors, null, 2));
}

function assertInvalid(value: unknown): void {
  assert.equal(validate(value), false);
}

const OPTIONS: ReportOptions = {
  jobs: 4,
  dry_run: false,
  force: false,
  fsync: true,
  min_free: "0",
  min_free_bytes: 0,
};

const SHA = "a".repeat(64);

function input(overrides: Partial<ReportInput> & Pick<ReportInput, "arrays">): ReportInput {
  return {
    runtime: "deno 2.9.6",
    manifest: { path: "data.yaml", sha256: SHA },
    startedAt: new Date("2026-01-02T03:04:05.000Z"),
    finishedAt: new Date("2026-01-02T03:04:05.812Z"),
    options: OPTIONS,
    exitCode: 0,
    ...overrides,
  };
}

const ROOT = "/data";
const images = manifestArray(ROOT, "train/images.npy", { shape: [60000, 28, 28], dtype: "uint8" });
const labels = manifestArray(ROOT, "train/labels.npy", {
  shape: [60000],
  dtype: "int64",
  fill: -1,
});
const weird = manifestArray(ROOT, "weird.npy", {
  shape: [0, 2n ** 50n],
  dtype: [["a", "<f4"], [["title", "b"], "<i8", [2, 3]], ["c", [["d", "S3"]]]],
  order: "F",
});
const nan = manifestArray(ROOT, "nan.npy", { shape: [2], dtype: "float32", fill: NaN });
const huge = manifestArray(ROOT, "huge.npy", {
  shape: [2],
  dtype: "uint64",
  fill: 2n ** 64n - 1n,
});

describe("report schema", () => {
  test("a successful run validates", () => {
    const outcomes: ArrayOutcome[] = [
      {
        array: images,
        status: "created",
        allocatedBy: "fallocate",
        durationMs: 3.1,
        bytesWritten: 128n,
        bytesReserved: images.layout.dataBytes,
      },
      {
        array: labels,
        status: "created",
        allocatedBy: "write",
        durationMs: 5,
        bytesWritten: labels.layout.fileBytes,
      },
      { array: weird, status: "unchanged" },
      { array: nan, status: "replaced", reason: "shape (3,) differs from (2,)", durationMs: 0.2 },
      { array: huge, status: "created", allocatedBy: "write", durationMs: 0.1 },
    ];
    const report = buildReport(input({ arrays: outcomes, warnings: ["a warning"] }));
    assertValid(report);
    assert.equal(report.ok, true);
    assert.equal(report.summary.created, 3);
    assert.equal(report.summary.unchanged, 1);
    assert.equal(report.summary.replaced, 1);
  });

  test("a run where an array failed while writing validates", () => {
    const report = buildReport(input({
      arrays: [
        { array: images, status: "created", allocatedBy: "zeros", durationMs: 1 },
        {
          array: labels,
          status: "failed",
          durationMs: 2,
          error: new NpyallocError("E_NO_SPACE", "Cannot write 'x': no space left on device"),
        },
        { array: nan, status: "interrupted", error: { code: "E_INTERRUPTED", message: "Stopped" } },
      ],
      exitCode: 1,
    }));
    assertValid(report);
    assert.equal(report.ok, false);
    assert.deepEqual(report.arrays[1]?.error, {
      code: "E_NO_SPACE",
      message: "Cannot write 'x': no space left on device",
    });
  });

  test("a dry run with a real space check and conflicts validates", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "npyalloc-report-schema-"));
    try {
      const arrays = [
        manifestArray(dir, "a.npy", { shape: [10] }),
        manifestArray(dir, "sub/b.npy", { shape: [10], allocation: "sparse" }),
        manifestArray(dir, "c.npy", { shape: [10] }),
        manifestArray(dir, "d.npy", { shape: [10] }),
      ];
      fs.writeFileSync(arrays[2]!.target, "not npy");
      fs.mkdirSync(arrays[3]!.target);
      const planned = await classifyTargets(arrays, { force: true, fs: platform });
      const report = buildReport(input({
        options: { ...OPTIONS, dry_run: true, force: true, min_free: "1%", min_free_bytes: null },
        filesystems: planSpace(planned, { fs: platform }),
        arrays: planned.map(plannedOutcome),
        exitCode: 4,
      }));
      assertValid(report);
      assert.deepEqual(report.arrays.map((a) => a.status), [
        "planned",
        "planned",
        "planned",
        "failed",
      ]);
      assert.equal(report.filesystems.length, 1);
      assert.equal(report.summary.conflicts, 1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a sharded report, a merged one and a report without a manifest validate", () => {
    const shard = buildReport(input({
      arrays: [{ array: images, status: "planned" }],
      shard: { index: 1, count: 4, arrays_total: 7 },
    }));
    assertValid(shard);
    assert.deepEqual(shard.shard, { index: 1, count: 4, arrays_total: 7 });
    assertValid(buildReport(input({ arrays: [], shard: null })));
    const usage = buildReport(input({
      manifest: null,
      arrays: [],
      error: { code: "E_MANIFEST", message: "data.yaml:3:5: arrays[0].shape: required" },
      exitCode: 2,
    }));
    assertValid(usage);
    assert.equal(usage.manifest, null);
  });

  test("reports that break the contract do not validate", () => {
    const good = JSON.parse(
      toJson(buildReport(input({ arrays: [{ array: images, status: "created" }] }))),
    );
    assertInvalid({ ...good, report_version: 2 });
    assertInvalid({ ...good, extra: 1 });
    assertInvalid({ ...good, exit_code: 5 });
    assertInvalid({ ...good, started_at: "yesterday" });
    assertInvalid({ ...good, arrays: [{ ...good.arrays[0], status: "conflict" }] });
    assertInvalid({
      ...good,
      arrays: [{ ...good.arrays[0], error: { code: "E_NOPE", message: "x" } }],
    });
    assertInvalid({ ...good, manifest: { path: "x.yaml", sha256: "xyz" } });
    const { summary: _, ...noSummary } = good;
    assertInvalid(noSummary);
  });

  test("every property and definition has a description", () => {
    const missing: string[] = [];
    const walk = (node: unknown, where: string): void => {
      if (Array.isArray(node)) {
        node.forEach((item, i) => walk(item, `${where}[${i}]`));
        return;
      }
      if (typeof node !== "object" || node === null) return;
      const object = node as Record<string, unknown>;
      for (const key of ["properties", "$defs"]) {
        const children = object[key];
        if (typeof children !== "object" || children === null) continue;
        for (const [name, child] of Object.entries(children)) {
          const description = (child as Record<string, unknown>).description;
          if (typeof description !== "string" || description.length < 10) {
            missing.push(`${where}.${key}.${name}`);
          }
        }
      }
      for (const [key, child] of Object.entries(object)) walk(child, `${where}.${key}`);
    };
    walk(schema, "#");
    assert.deepEqual(missing, []);
    assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
    assert.equal(typeof schema.description, "string");
  });

  test("every key is snake_case", () => {
    const bad: string[] = [];
    const walk = (node: unknown): void => {
      if (typeof node !== "object" || node === null) return;
      const object = node as Record<string, unknown>;
      const properties = object.properties as Record<string, unknown> | undefined;
      for (const name of Object.keys(properties ?? {})) {
        if (!/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/.test(name)) bad.push(name);
      }
      for (const child of Object.values(object)) walk(child);
    };
    walk(schema);
    assert.deepEqual(bad, []);
  });

  test("the error codes of the schema are exactly ERROR_CODES", () => {
    const defs = schema.$defs as Record<string, { properties: { code: { enum: string[] } } }>;
    const codes = defs.error?.properties.code.enum ?? [];
    assert.deepEqual([...codes].sort(), Object.keys(ERROR_CODES).sort());
    for (const [code, { description, exit }] of Object.entries(ERROR_CODES)) {
      assert.match(code, /^E_[A-Z_]+$/);
      assert.ok(description.length > 10 && !description.includes("\n"), code);
      assert.ok(Object.values(EXIT).includes(exit), code);
    }
  });
});
