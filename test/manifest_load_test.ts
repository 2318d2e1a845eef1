/** Valid manifests: expansion, interpolation, defaults, roots and exact values. */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { loadManifest } from "../src/manifest/mod.ts";
import { folderOf } from "../src/manifest/paths.ts";
import { loadText, withManifest } from "./_support/manifest.ts";

const paths = async (lines: string[], options = {}) =>
  (await loadText(lines, options)).arrays.map((a) => a.path);

describe("the SPEC example", () => {
  const lines = [
    "# yaml-language-server: $schema=../schemas/manifest.schema.json",
    "version: 1",
    "root: data",
    "vars:",
    "  N: 60000",
    "defaults:",
    "  dtype: float32",
    "  order: C",
    "arrays:",
    "  - path: train/images.npy",
    '    shape: ["${N}", 28, 28]',
    "    dtype: uint8",
    "  - path: train/labels.npy",
    '    shape: "${N}"',
    "    dtype: int64",
    "    fill: -1",
    "  - path: shards/part-{i:03d}.npy",
    "    foreach: { i: { range: [0, 16] } }",
    "    shape: [1024, 768]",
    "    allocation: sparse",
  ];

  test("loads every array with its layout", async () => {
    await withManifest(lines, async (file, dir) => {
      const manifest = await loadManifest(file);
      assert.equal(manifest.file, file);
      assert.equal(manifest.absolutePath, path.resolve(file));
      assert.equal(manifest.root, path.join(dir, "data"));
      assert.equal(
        manifest.sha256,
        createHash("sha256").update(fs.readFileSync(file)).digest("hex"),
      );
      assert.equal(manifest.arrays.length, 18);
      const [images, labels, first] = manifest.arrays;
      assert.deepEqual(images?.shape, [60000n, 28n, 28n]);
      assert.equal(images?.layout.descr, "|u1");
      assert.equal(images?.layout.allocation, "reserve");
      assert.equal(images?.target, path.join(dir, "data", "train", "images.npy"));
      assert.deepEqual(images?.location, { file, line: 10, column: 5 });
      assert.equal(images?.jsonPath, "arrays[0]");
      assert.deepEqual(labels?.shape, [60000n]);
      assert.equal(labels?.fill, -1n);
      assert.equal(labels?.layout.allocation, "write");
      assert.equal(first?.path, "shards/part-000.npy");
      assert.equal(first?.layout.descr, "<f4");
      assert.equal(first?.layout.allocation, "sparse");
      assert.equal(first?.jsonPath, "arrays[2]{i=0}");
      assert.equal(manifest.arrays[17]?.path, "shards/part-015.npy");
      assert.equal(manifest.arrays[17]?.layout.dataBytes, 1024n * 768n * 4n);
    });
  });
});

describe("foreach", () => {
  test("lists, ranges with steps, and the cartesian product (first name outermost)", async () => {
    assert.deepEqual(
      await paths([
        "version: 1",
        "arrays:",
        "  - path: '{split}/{i}.npy'",
        "    shape: 1",
        "    foreach: { split: [train, test], i: { range: [10, 0, -4] } }",
        "  - path: s{k}.npy",
        "    shape: 1",
        "    foreach: { k: { range: [1, 8, 3] } }",
        "  - path: e{k}.npy",
        "    shape: 1",
        "    foreach: { k: { range: [5, 5] } }",
      ]),
      [
        "train/10.npy",
        "train/6.npy",
        "train/2.npy",
        "test/10.npy",
        "test/6.npy",
        "test/2.npy",
        "s1.npy",
        "s4.npy",
        "s7.npy",
      ],
    );
  });

  test("formats: {i:03d}, {i:x}, {i:X}, widths, fill and align, and literal braces", async () => {
    assert.deepEqual(
      await paths([
        "version: 1",
        "arrays:",
        "  - path: 'a-{i:03d}-{i:x}-{i:X}-{i:>4}-{i:*<4}-{{{i}}}.npy'",
        "    shape: 1",
        "    foreach: { i: [255, 7] }",
      ]),
      ["a-255-ff-FF- 255-255*-{255}.npy", "a-007-7-7-   7-7***-{7}.npy"],
    );
  });

  test("placeholders in shape entries make per-array shapes", async () => {
    const manifest = await loadText([
      "version: 1",
      "arrays:",
      "  - path: p{n}.npy",
      '    shape: ["{n}", 2]',
      "    foreach: { n: [0, 3] }",
    ]);
    assert.deepEqual(manifest.arrays.map((a) => a.shape), [[0n, 2n], [3n, 2n]]);
    assert.deepEqual(manifest.arrays.map((a) => a.layout.dataBytes), [0n, 48n]);
  });

  test("foreach values may be interpolated", async () => {
    assert.deepEqual(
      await paths([
        "version: 1",
        "arrays:",
        "  - path: p{n}.npy",
        "    shape: 1",
        '    foreach: { n: ["${A}", b] }',
      ], { vars: { A: "a" } }),
      ["pa.npy", "pb.npy"],
    );
    assert.deepEqual(
      await paths([
        "version: 1",
        "arrays:",
        "  - path: p{i}.npy",
        "    shape: 1",
        '    foreach: { i: { range: [0, "${N}"] } }',
      ], { vars: { N: "3" } }),
      ["p0.npy", "p1.npy", "p2.npy"],
    );
  });

  test("100,000 arrays", async () => {
    const manifest = await loadText([
      "version: 1",
      "arrays:",
      "  - path: d{j}/p-{i:05d}.npy",
      "    foreach: { j: { range: [0, 10] }, i: { range: [0, 10000] } }",
      '    shape: [4, "{i}"]',
      "    dtype: int16",
      "    fill: 3",
    ]);
    assert.equal(manifest.arrays.length, 100_000);
    assert.equal(manifest.arrays[99_999]?.path, "d9/p-09999.npy");
    assert.deepEqual(manifest.arrays[99_999]?.shape, [4n, 9999n]);
    assert.equal(manifest.arrays[99_999]?.jsonPath, "arrays[0]{j=9,i=9999}");
  });
});

describe("interpolation", () => {
  const lines = [
    "version: 1",
    "vars:",
    "  A: from-vars",
    "  B: from-vars",
    '  C: "${A}-c"',
    "arrays:",
    '  - path: "${A}/${B}/${C}/${D}/${E:-dflt}/$$x-$${{x}}.npy"',
    "    shape: 1",
  ];

  test("--var over vars over the environment; defaults; $$", async () => {
    assert.deepEqual(
      await paths(lines, { vars: { A: "from-cli" }, env: { B: "from-env", D: "env-d" } }),
      ["from-cli/from-vars/from-cli-c/env-d/dflt/$x-${x}.npy"],
    );
  });

  test("a var that --var overrides is not read", async () => {
    assert.deepEqual(
      await paths([
        "version: 1",
        "vars:",
        '  A: "${UNSET}"',
        "arrays:",
        "  - path: ${A}.npy",
        "    shape: 1",
      ], { vars: { A: "a" }, env: {} }),
      ["a.npy"],
    );
  });

  test("root, dtype and fill strings are interpolated", async () => {
    await withManifest([
      "version: 1",
      "root: ${OUT}",
      "arrays:",
      "  - path: x.npy",
      "    shape: 1",
      "    dtype: ${DT}",
      '    fill: "${F}"',
    ], async (file, dir) => {
      const vars = { OUT: "out", DT: "uint64", F: "7" };
      const manifest = await loadManifest(file, { vars, env: {} });
      assert.equal(manifest.root, path.join(dir, "out"));
      assert.equal(manifest.arrays[0]?.layout.descr, "<u8");
      assert.equal(manifest.arrays[0]?.fill, 7n);
    });
  });
});

describe("values", () => {
  test("a 64-bit fill stays exact, also through a variable", async () => {
    const manifest = await loadText([
      "version: 1",
      "arrays:",
      "  - path: a.npy",
      "    shape: 2",
      "    dtype: uint64",
      "    fill: 18446744073709551615",
      "  - path: b.npy",
      "    shape: 2",
      "    dtype: int64",
      '    fill: "${F}"',
      "  - path: c.npy",
      "    shape: 2",
      "    dtype: float32",
      '    fill: "${G}"',
    ], { vars: { F: "-9223372036854775808", G: ".nan" } });
    const [a, b, c] = manifest.arrays;
    assert.equal(a?.fill, 18446744073709551615n);
    assert.deepEqual([...(a?.layout.element ?? [])], Array(8).fill(0xff));
    assert.equal(b?.fill, -9223372036854775808n);
    assert.deepEqual([...(b?.layout.element ?? [])], [0, 0, 0, 0, 0, 0, 0, 0x80]);
    assert.ok(Number.isNaN(c?.fill));
    assert.deepEqual([...(c?.layout.element ?? [])], [0, 0, 0xc0, 0x7f]);
  });

  test("defaults apply, entries override", async () => {
    const manifest = await loadText([
      "version: 1",
      "defaults:",
      "  shape: [2, 3]",
      "  dtype: int8",
      "  order: F",
      "  fill: 1",
      "  header_version: 2.0",
      "arrays:",
      "  - path: a.npy",
      "  - path: b.npy",
      "    dtype: '>u2'",
      "    shape: []",
      "    order: C",
      "    header_version: auto",
    ]);
    const [a, b] = manifest.arrays;
    assert.deepEqual(a?.shape, [2n, 3n]);
    assert.equal(a?.layout.descr, "|i1");
    assert.equal(a?.order, "F");
    assert.equal(a?.layout.fortranOrder, true);
    assert.equal(a?.fill, 1n);
    assert.equal(a?.layout.headerVersion, "2.0");
    assert.deepEqual(b?.shape, []);
    assert.equal(b?.layout.descr, ">u2");
    assert.equal(b?.order, "C");
    assert.equal(b?.layout.headerVersion, "1.0");
    assert.deepEqual([...(b?.layout.element ?? [])], [0, 1]);
  });

  test("header_version as number or string; descr-list dtypes; dtype default float64", async () => {
    const manifest = await loadText([
      "version: 1",
      "arrays:",
      "  - path: a.npy",
      "    shape: 1",
      "    header_version: 3",
      "  - path: b.npy",
      "    shape: 1",
      '    header_version: "1.0"',
      "    dtype: [[x, '<f4'], [y, '<i2', [2]]]",
      "    fill: { y: 5 }",
    ]);
    const [a, b] = manifest.arrays;
    assert.equal(a?.headerVersion, "3.0");
    assert.equal(a?.layout.descr, "<f8");
    assert.equal(b?.headerVersion, "1.0");
    assert.deepEqual(b?.layout.descr, [["x", "<f4"], ["y", "<i2", [2]]]);
    assert.deepEqual([...(b?.layout.element ?? [])], [0, 0, 0, 0, 5, 0, 5, 0]);
  });

  test("subarray dtypes: fields whose dtype is a subarray, and whole arrays folded", async () => {
    const manifest = await loadText([
      "version: 1",
      "defaults: { dtype: '2i4' }",
      "arrays:",
      "  - path: nested.npy",
      "    shape: 3",
      "    dtype: [[c, [<f8, [5]], [2]]]",
      "    fill: { c: [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]] }",
      "  - path: folded.npy",
      "    shape: [4]",
      "    dtype: (2,3)>i4",
      "    order: F",
      "  - path: list.npy",
      "    shape: []",
      "    dtype: [[[a, <i2], [b, <f4]], [2, 2]]",
      "  - path: default.npy",
      "    shape: [5]",
      "  - path: tuple.npy",
      "    shape: [2]",
      "    dtype: [<u2, 3]",
    ]);
    const [nested, folded, list, byDefault, tuple] = manifest.arrays;
    assert.deepEqual([tuple?.layout.shape, tuple?.layout.descr], [[2n, 3n], "<u2"]);
    assert.deepEqual(nested?.layout.descr, [["c", ["<f8", [5]], [2]]]);
    assert.deepEqual(nested?.layout.shape, [3n]);
    assert.equal(nested?.layout.element.length, 80);
    assert.deepEqual([folded?.layout.shape, folded?.layout.descr], [[4n, 2n, 3n], ">i4"]);
    assert.equal(folded?.layout.fortranOrder, true);
    assert.deepEqual(list?.layout.shape, [2n, 2n]);
    assert.deepEqual(list?.layout.descr, [["a", "<i2"], ["b", "<f4"]]);
    assert.deepEqual([byDefault?.layout.shape, byDefault?.layout.descr], [[5n, 2n], "<i4"]);
  });

  test("[re, im] on a complex subarray field is one value for every item", async () => {
    const manifest = await loadText([
      "version: 1",
      "arrays:",
      "  - path: z.npy",
      "    shape: 2",
      "    dtype: [[z, '<c8', [3, 2]]]",
      "    fill: { z: [~, 1] }",
    ]);
    const one = [0, 0, 0, 0, 0, 0, 0x80, 0x3f];
    assert.deepEqual([...(manifest.arrays[0]?.layout.element ?? [])], Array(6).fill(one).flat());
  });

  test("an empty arrays list is valid and declares nothing", async () => {
    assert.equal((await loadText(["version: 1", "arrays: []"])).arrays.length, 0);
  });

  test("root: relative to the manifest, or absolute", async () => {
    await withManifest(
      ["version: 1", "root: ../elsewhere/./x", "arrays: []"],
      async (file, dir) => {
        assert.equal(
          (await loadManifest(file)).root,
          path.join(path.dirname(dir), "elsewhere", "x"),
        );
      },
    );
    await withManifest(["version: 1", "root: /var/tmp/npyalloc-x", "arrays: []"], async (file) => {
      assert.equal((await loadManifest(file)).root, "/var/tmp/npyalloc-x");
    });
  });

  test("paths are normalised", async () => {
    assert.deepEqual(
      await paths(["version: 1", "arrays:", "  - path: ./a//b/./c.npy", "    shape: 1"]),
      ["a/b/c.npy"],
    );
  });

  test("folderOf is path.dirname, for every path of up to 7 of '/', 'a' and '.'", () => {
    const differ: string[] = [];
    const visit = (file: string): void => {
      if (folderOf(file) !== path.dirname(file)) differ.push(file);
      if (file.length < 7) { for (const c of ["/", "a", "."]) visit(file + c); }
    };
    visit("");
    assert.deepEqual(differ, []);
  });
});
