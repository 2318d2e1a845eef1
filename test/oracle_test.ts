/**
 * The byte-for-byte contract: every array in the oracle matrix is written by
 * npyalloc and by NumPy, and the two files must be identical. The only bytes
 * not compared are the 6 padding bytes of each x87 long double, which NumPy
 * leaves uninitialised (npyalloc writes zeros there).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { parseDType } from "../src/npy/dtype.ts";
import type { FillValue } from "../src/npy/fill.ts";
import { layoutArray } from "../src/npy/layout.ts";
import { loadPlatform } from "../src/platform/mod.ts";
import { createArrayFile } from "../src/run/write_file.ts";
import { runPython } from "./_support/numpy.ts";
import { firstDifference, numpyFiles, toFill } from "./_support/oracle.ts";
import { type OracleCase, oracleCases } from "./_support/oracle_cases.ts";
import { tempDir } from "./_support/temp.ts";

describe("npyalloc writes what NumPy writes", () => {
  const cases: OracleCase[] = oracleCases();
  const { dir, remove } = tempDir("oracle");
  let expected: Uint8Array[] = [];
  before(() => {
    expected = numpyFiles(cases);
  });
  after(remove);

  test(`${cases.length} arrays, byte for byte`, async () => {
    const platform = await loadPlatform();
    const families = new Set<string>();
    for (const [i, c] of cases.entries()) {
      const label = `case ${i}: ${JSON.stringify(c).slice(0, 160)}`;
      const dtype = parseDType(c.dtype as string);
      families.add(dtype.kind);
      const layout = layoutArray({
        shape: c.shape.map(BigInt),
        dtype,
        order: c.order,
        ...(c.fill === undefined ? {} : { fill: toFill(c.fill) }),
        ...(c.headerVersion === undefined ? {} : { headerVersion: c.headerVersion }),
      });
      const file = path.join(dir, `case-${i}.npy`);
      await createArrayFile(file, layout, platform, { fsync: false });
      const ours = new Uint8Array(fs.readFileSync(file));
      const difference = firstDifference(ours, expected[i]!, dtype, layout.header.length);
      if (difference !== null) assert.fail(`${label}: ${difference}`);
    }
    assert.deepEqual([...families].sort(), [
      "M",
      "S",
      "U",
      "V",
      "b",
      "c",
      "f",
      "i",
      "m",
      "struct",
      "u",
    ]);
  });
});

describe("files open with np.load(mmap_mode='r+')", () => {
  const { dir, remove } = tempDir("mmap");
  after(remove);

  test("read, written through the memory map, read back", async () => {
    const platform = await loadPlatform();
    const specs: [string, bigint[], "C" | "F", FillValue | undefined][] = [
      ["<f4", [64n, 33n], "C", 1.5],
      [">i8", [5n, 7n, 3n], "F", -3n],
      ["<c16", [17n], "C", [1, -2]],
      ["<M8[ms]", [4n, 4n], "C", "2024-02-29T12:00:00.250"],
      ["<U5", [3n, 2n], "F", "h\u00e9llo"],
      ["|b1", [10n], "C", true],
      ["<f8", [1000n, 10n], "C", undefined],
    ];
    const files = [];
    for (const [i, [dtype, shape, order, fill]] of specs.entries()) {
      const file = path.join(dir, `m${i}.npy`);
      const layout = layoutArray({
        shape,
        dtype: parseDType(dtype),
        order,
        ...(fill === undefined ? {} : { fill }),
      });
      await createArrayFile(file, layout, platform, { fsync: false });
      files.push({
        file,
        dtype,
        shape: shape.map(Number),
        order,
        fill: fill === undefined ? 0 : typeof fill === "bigint" ? Number(fill) : fill,
      });
    }
    const out = runPython(
      `
for s in json.load(sys.stdin):
    fill = complex(*s["fill"]) if isinstance(s["fill"], list) else s["fill"]
    want = np.full(tuple(s["shape"]), fill, s["dtype"], order=s["order"])
    m = np.load(s["file"], mmap_mode="r+")
    assert m.dtype == want.dtype and m.shape == want.shape, s
    assert m.flags.f_contiguous == want.flags.f_contiguous, s
    assert np.array_equal(m, want), s
    m.flat[-1] = want.flat[0]
    m.flat[0] = np.zeros((), want.dtype)
    m.flush()
    del m
    back = np.load(s["file"])
    want.flat[0] = np.zeros((), want.dtype)
    assert np.array_equal(back, want), s
print("ok", len(json.load(open("/dev/null")) if False else []) )
`,
      JSON.stringify(files),
    );
    assert.match(out, /^ok/);
  });
});
