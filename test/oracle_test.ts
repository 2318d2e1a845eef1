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
import { type DType, parseDType } from "../src/npy/dtype.ts";
import type { FillValue } from "../src/npy/fill.ts";
import { layoutArray } from "../src/npy/layout.ts";
import { loadPlatform } from "../src/platform/mod.ts";
import { createArrayFile } from "../src/run/write_file.ts";
import { runPython, runPythonJson } from "./_support/numpy.ts";
import { type JsonFill, type OracleCase, oracleCases } from "./_support/oracle_cases.ts";
import { tempDir } from "./_support/temp.ts";

function toFill(fill: JsonFill): FillValue {
  if (fill === null || typeof fill !== "object") return fill;
  if (Array.isArray(fill)) return fill.map(toFill);
  if ("int" in fill && typeof fill.int === "string") return BigInt(fill.int);
  return Object.fromEntries(Object.entries(fill).map(([k, v]) => [k, toFill(v as JsonFill)]));
}

/** Offsets, inside one element, of the padding bytes of every long double in it. */
function longDoublePadding(dtype: DType, base = 0, out: number[] = []): number[] {
  if (dtype.kind === "struct") {
    for (const field of dtype.fields) {
      const count = field.shape.reduce((a, b) => a * b, 1);
      for (let i = 0; i < count; i++) {
        longDoublePadding(field.dtype, base + field.offset + i * field.dtype.itemsize, out);
      }
    }
  } else if (
    (dtype.kind === "f" && dtype.itemsize === 16) || (dtype.kind === "c" && dtype.itemsize === 32)
  ) {
    for (let part = 0; part < dtype.itemsize; part += 16) {
      for (let i = 0; i < 6; i++) out.push(base + part + (dtype.byteOrder === ">" ? i : 10 + i));
    }
  }
  return out;
}

const ORACLE = `
import base64, io
cases = json.load(sys.stdin)

def pyfill(v, dt):
    if isinstance(v, dict) and set(v) == {"neg0"}:
        return -0.0
    if isinstance(v, dict) and set(v) == {"int"}:
        return int(v["int"])
    if dt.kind in "fc" and isinstance(v, str):
        return float(v)
    if dt.kind == "c" and isinstance(v, list):
        return complex(pyfill(v[0], np.dtype("f8")), pyfill(v[1], np.dtype("f8")))
    if dt.kind == "m" and isinstance(v, dict):
        return int(v["int"])
    return v

def assign(view, v, dt):
    if dt.names is not None:
        for name, sub in v.items():
            assign(view[name], sub, dt.fields[name][0].base)
    else:
        view[...] = pyfill(v, dt)

def conv(descr):
    if isinstance(descr, str):
        return descr
    out = []
    for f in descr:
        name = tuple(f[0]) if isinstance(f[0], list) else f[0]
        sub = conv(f[1])
        out.append((name, sub) if len(f) == 2 else (name, sub, tuple(f[2])))
    return out

out = []
for c in cases:
    d = c["dtype"]
    dt = np.lib.format.descr_to_dtype(conv(d)) if isinstance(d, list) else np.dtype(d)
    if dt.names is None:
        dt = np.dtype(dt.str)  # 'c' splits strings into characters; its descr is '|S1'
    a = np.zeros(tuple(c["shape"]), dt, order=c["order"])
    if "fill" in c:
        try:
            assign(a, c["fill"], dt)
        except Exception as e:
            raise SystemExit(f"case {c}: {e}")
    buf = io.BytesIO()
    v = c.get("headerVersion")
    np.lib.format.write_array(buf, a, version=None if v is None else tuple(int(x) for x in v.split(".")))
    out.append(base64.b64encode(buf.getvalue()).decode())
print(json.dumps(out))
`;

describe("npyalloc writes what NumPy writes", () => {
  const cases: OracleCase[] = oracleCases();
  const { dir, remove } = tempDir("oracle");
  let expected: string[] = [];
  before(() => {
    expected = runPythonJson<string[]>(
      ORACLE,
      JSON.stringify(cases, (_k, v) => (Object.is(v, -0) ? { neg0: true } : v)),
    );
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
      const theirs = Uint8Array.from(atob(expected[i]!), (ch) => ch.charCodeAt(0));
      assert.equal(ours.length, theirs.length, `${label}: file size`);
      const padding = longDoublePadding(dtype);
      if (padding.length > 0) {
        for (let at = layout.header.length; at < theirs.length; at += dtype.itemsize) {
          for (const offset of padding) theirs[at + offset] = 0;
        }
      }
      if (Buffer.compare(ours, theirs) !== 0) {
        const first = ours.findIndex((b, k) => b !== theirs[k]);
        assert.fail(
          `${label}: first difference at byte ${first} (header is ${layout.header.length} bytes)`,
        );
      }
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
