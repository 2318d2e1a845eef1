// .npy headers: byte-identical to NumPy's writer, and read back as NumPy reads them.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NpyallocError } from "../src/errors.ts";
import type { Descr } from "../src/npy/dtype.ts";
import { dtypeToDescr } from "../src/npy/dtype.ts";
import {
  decodeHeader,
  decodeHeaderInfo,
  encodeHeader,
  fortranOrderFlag,
  headerLength,
  type NpyVersion,
} from "../src/npy/header.ts";
import { readHeaderFromFile, readHeaderInfoFromFile } from "../src/api/read_header.ts";
import { parsePyLiteral } from "../src/npy/py_literal.ts";
import { PyTuple } from "../src/npy/py_repr.ts";
import { pythonJson } from "./_support/numpy.ts";

type Version = "auto" | NpyVersion;

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function fromHex(text: string): Uint8Array {
  return new Uint8Array((text.match(/../g) ?? []).map((h) => parseInt(h, 16)));
}

function assertNotNpy(fn: () => unknown, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof NpyallocError, `not an NpyallocError: ${String(err)}`);
    assert.equal(err.code, "E_NOT_NPY", err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

// ---------------------------------------------------------------- cases

const NAMES = [
  "a",
  "it's",
  'say "hi"',
  `both ' and "`,
  "back\\slash",
  "new\nline",
  "tab\tx",
  "del\x7f",
  "é",
  "中文",
  "😀",
  "nb\u00a0sp",
  "ls\u2028",
  "e\u0301",
  "zw\u200b",
  "\x85",
];

const DESCRS: Descr[] = [
  "<f8",
  "|b1",
  ">i2",
  "<u8",
  "|S10",
  "<U7",
  "|V16",
  "<M8[ns]",
  ">m8[10ms]",
  "<c16",
  "<f16",
  [["a", "<f4"], ["b", "<i8", [2, 3]]],
  [["", "|V4"], ["x", "<f4"]],
  [[["My title", "x"], "<f8"], [["it's", "y"], "|u1", [4]]],
  [["outer", [["inner", "<i4"], ["deep", [["z", "<f2"]], [1]]], [2]]],
  // Fields whose dtype is itself a subarray, as NumPy 2 writes them.
  [["c", ["<f8", [5]], [2]]],
  [["x", [[["a", "|i1"], ["", "|V3"]], [3]], [4]], ["y", [["<u2", [2]], [1]], [2]]],
  ...NAMES.map((n): Descr => [[n, "<f4"]]),
  [[["tïtle", "中"], "<i2"]],
];

const SHAPES: string[][] = [
  [],
  ["0"],
  ["5"],
  ["3", "4"],
  ["2", "3", "4", "5", "6"],
  [String(2n ** 62n)],
  ["1", String(2n ** 62n)],
  [String(2n ** 62n), "3"],
  [String(10n ** 20n), "1"],
  ["7", String(10n ** 21n)],
];

const VERSIONS: Version[] = ["auto", "1.0", "2.0", "3.0"];

interface EncodeCase {
  descr: Descr;
  fortran: boolean;
  shape: string[];
  version: Version;
}

function manyFields(n: number, extra: string): Descr {
  return Array.from(
    { length: n },
    (_, i): [string, Descr] => [`field_${i}${i === 0 ? extra : ""}`, "<f8"],
  );
}

const ENCODE_CASES: EncodeCase[] = [];
for (const descr of DESCRS) {
  for (const shape of SHAPES) {
    for (const fortran of [false, true]) {
      for (const version of VERSIONS) ENCODE_CASES.push({ descr, fortran, shape, version });
    }
  }
}
// Long headers: over 10,000 characters (v1 still), over 65,535 bytes (v2), and non-latin-1 (v3).
for (
  const descr of [
    manyFields(500, ""),
    manyFields(4000, ""),
    manyFields(4000, "中"),
    manyFields(500, "中"),
  ]
) {
  for (const version of VERSIONS) {
    ENCODE_CASES.push({ descr, fortran: false, shape: ["10"], version });
  }
}

const ENCODE_SCRIPT = `
import sys, json, io, warnings
from numpy.lib import _format_impl as fmt

def to_descr(x):
    if isinstance(x, str):
        return x
    if len(x) == 2 and isinstance(x[1], list) and all(isinstance(i, int) for i in x[1]):
        return (to_descr(x[0]), tuple(x[1]))
    out = []
    for f in x:
        name = tuple(f[0]) if isinstance(f[0], list) else f[0]
        t = (name, to_descr(f[1]))
        if len(f) == 3:
            t += (tuple(f[2]),)
        out.append(t)
    return out

res = []
for c in json.load(sys.stdin):
    d = {"descr": to_descr(c["descr"]), "fortran_order": c["fortran"],
         "shape": tuple(int(s) for s in c["shape"])}
    v = None if c["version"] == "auto" else tuple(int(p) for p in c["version"].split("."))
    buf = io.BytesIO()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            fmt._write_array_header(buf, d, v)
        except ValueError as e:
            res.append({"error": str(e)})
            continue
    data = buf.getvalue()
    major = data[6]
    plen = 10 if major == 1 else 12
    chars = len(data[plen:].decode("utf8" if major == 3 else "latin1"))
    res.append({"hex": data.hex(), "warnings": len(w), "chars": chars})
print(json.dumps(res))
`;

const SAVE_DTYPES: string[] = [
  "float64",
  "float32",
  "<f2",
  ">i8",
  "uint8",
  "bool",
  "complex64",
  "clongdouble",
  "longdouble",
  "S3",
  "U2",
  "V5",
  "M8[us]",
  "m8[2h]",
  "i4,f8",
  "[('a', '<i4'), ('b', '>f8', (2, 2))]",
  "{'names': ['x', 'y'], 'formats': ['u1', '<i8'], 'offsets': [0, 8], 'itemsize': 24}",
  "{'names': ['x'], 'formats': ['<f4'], 'titles': ['The X']}",
  "[('n\u00e9', '<i2'), ('\u4e2d', 'u1')]",
  "[('c', ('<f8', (5,)), (2,))]",
  "[('x', ([('a', 'i1'), ('b', '>f2', (2,))], (3,)), (2,)), ('y', '(2,)u1')]",
];
const SAVE_SHAPES: number[][] = [[], [0], [3], [2, 3], [1, 2, 1, 3], [3, 1], [0, 3], [2, 0, 2]];

const SAVE_SCRIPT = `
import sys, json, io, ast
import numpy as np
from numpy.lib import _format_impl as fmt

def jsonable(x):
    if isinstance(x, (list, tuple)):
        return [jsonable(i) for i in x]
    return x

res = []
inp = json.load(sys.stdin)
for spec in inp["dtypes"]:
    dt = np.dtype(ast.literal_eval(spec) if spec[0] in "[{" else spec)
    for shape in inp["shapes"]:
        for order in "CF":
            a = np.zeros(shape, dtype=dt, order=order)
            buf = io.BytesIO()
            np.save(buf, a)
            data = buf.getvalue()
            header_len = len(data) - a.nbytes
            res.append({"dtype": spec, "shape": shape, "order": order,
                        "descr": jsonable(fmt.dtype_to_descr(dt)),
                        "fortran": bool(fmt.header_data_from_array_1_0(a)["fortran_order"]),
                        "hex": data[:header_len].hex(), "nbytes": a.nbytes})
print(json.dumps(res))
`;

// Header texts wrapped in a format-1.0 (or given) prefix and read by NumPy's reader.
interface DecodeCase {
  text: string;
  version?: NpyVersion;
  /** Where npyalloc is deliberately stricter than NumPy. */
  stricter?: true;
}

const DECODE_CASES: DecodeCase[] = [
  { text: "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }" },
  { text: '{"descr": "<f8", "fortran_order": True, "shape": (3, 4)}' },
  { text: "{'shape': (), 'fortran_order': False, 'descr': '|u1'}" },
  { text: "{\n  'descr' :\t'<i4' ,\n 'fortran_order':False,\n 'shape':(\n2 ,\n)\n}\n" },
  { text: "{'descr': '<f8', 'fortran_order': False, 'shape': (3L, 4L), }" },
  { text: "{'descr': '<f8', 'fortran_order': False, 'shape': (3L, 4L), }", version: "3.0" },
  { text: "{'descr': '<f8', 'fortran_order': False, 'shape': (3l,), }" },
  { text: "{u'descr': u'<f8', 'fortran_order': False, 'shape': (0x10, 0o7, 0b1, 1_000)}" },
  { text: "{'descr': '\\x3cf\\u0038', 'fortran_order': False, 'shape': (2,)}" },
  { text: "{'descr': '<' 'f8', 'fortran_order': False, 'shape': (2,)} # comment" },
  { text: "{'descr': r'<f8', 'fortran_order': False, 'shape': (2,)}" },
  { text: "{'descr': '''<f8''', 'fortran_order': False, 'shape': (+2,)}" },
  { text: "{'descr': [('a', '<f4'), ('b', '<i8', (2,))], 'fortran_order': False, 'shape': (2,)}" },
  { text: "{'descr': [['a', '<f4'], ['b', '<i8', [2]]], 'fortran_order': False, 'shape': (2,)}" },
  { text: "{'descr': [('a', '<f4', 3)], 'fortran_order': False, 'shape': (2,)}" },
  { text: "{'descr': [(('T', 'a'), '<f4'), ('', '|V4')], 'fortran_order': False, 'shape': (1,)}" },
  { text: "{'descr': [('n\\xe9\\n\\'', '<f4')], 'fortran_order': False, 'shape': (1,)}" },
  { text: "{'descr': [('\\u4e2d\\U0001f600', '<f4')], 'fortran_order': False, 'shape': (1,)}" },
  { text: "{'descr': [('中', '<f4')], 'fortran_order': False, 'shape': (1,)}", version: "3.0" },
  { text: "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'descr': '<i4'}" },
  { text: "{'descr': '<f8', 'fortran_order': False, 'shape': [2]}" },
  { text: "{'descr': '<f8', 'fortran_order': 0, 'shape': (2,)}" },
  { text: "{'descr': '<f8', 'fortran_order': False}" },
  { text: "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'extra': 1}" },
  { text: "{'descr': '<f8', 'fortran_order': False, 'shape': (2.0,)}" },
  { text: "{'descr': 'float7', 'fortran_order': False, 'shape': (2,)}" },
  { text: "{'descr': '<f8', 'fortran_order': False, 'shape': (007,)}" },
  { text: "{'descr': '<f8', 'fortran_order': False, 'shape': (2,)" },
  { text: "{'descr': '<f8' 'fortran_order': False, 'shape': (2,)}" },
  { text: "{'descr': '<f8', 'fortran_order': False, 'shape': (2,)} {}" },
  { text: "[('descr', '<f8')]" },
  { text: "" },
  { text: "{1: 2}" },
  { text: "{'descr': '<f8', 'fortran_order': False, 'shape': (2,)}\x00" },
  { text: "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}", stricter: true },
  { text: "{'descr': '<f8', 'fortran_order': False, 'shape': (True,)}", stricter: true },
  { text: "{'descr': '|O', 'fortran_order': False, 'shape': (2,)}", stricter: true },
  {
    text: "{'descr': '\\N{LESS-THAN SIGN}f8', 'fortran_order': False, 'shape': (2,)}",
    stricter: true,
  },
  { text: "{'descr': [('c', ('<f8', (5,)), (2,))], 'fortran_order': False, 'shape': (3,)}" },
  { text: "{'descr': [('c', (('<f8', (5,)), 1), 2)], 'fortran_order': False, 'shape': (3,)}" },
  {
    text:
      "{'descr': [('x', ([('a', '|i1'), ('', '|V3')], (3,)), (4,))], 'fortran_order': True, 'shape': (2, 3)}",
  },
  {
    text:
      "{'descr': [('', '<i4', (2,)), ('b', ('<f8', ()))], 'fortran_order': False, 'shape': (1,)}",
  },
  { text: "{'descr': [('c', ('<f8',), (2,))], 'fortran_order': False, 'shape': (3,)}" },
  { text: "{'descr': [('c', ['<f8', (5,)])], 'fortran_order': False, 'shape': (3,)}" },
  { text: "{'descr': [('c', ('<f8', (-5,)))], 'fortran_order': False, 'shape': (3,)}" },
  // NumPy ignores a third item here, and loads a whole-array subarray only with mmap_mode.
  {
    text: "{'descr': [('c', ('<f8', (5,), 3))], 'fortran_order': False, 'shape': (3,)}",
    stricter: true,
  },
  { text: "{'descr': ('<i4', (2,)), 'fortran_order': False, 'shape': (3,)}", stricter: true },
  { text: "{'descr': '<f8', 'fortran_order': False, 'shape': (2**70,)}" },
  { text: `{'descr': '<f8', 'fortran_order': False, 'shape': (${2n ** 61n}, 4)}` },
  { text: `{'descr': '<f8', 'fortran_order': False, 'shape': (${2n ** 59n}, 0, ${2n ** 59n})}` },
];

const DECODE_SCRIPT = `
import sys, json, io, struct, warnings
from numpy.lib import _format_impl as fmt
warnings.simplefilter("ignore")

def jsonable(x):
    if isinstance(x, (list, tuple)):
        return [jsonable(i) for i in x]
    return x

res = []
for c in json.load(sys.stdin):
    major = int(c["version"][0])
    body = c["text"].encode("utf8" if major == 3 else "latin1")
    data = struct.pack("<H" if major == 1 else "<I", len(body)) + body
    try:
        shape, fortran, dt = fmt._read_array_header(io.BytesIO(data), (major, 0), max_header_size=10**9)
        import numpy as np
        # NumPy's own size check, without allocating anything big.
        np.empty([s if s == 0 else 1 for s in shape] if 0 not in shape else shape, dt)
        n = dt.itemsize
        for s in shape:
            n *= s
        if n >= 2**63:
            raise ValueError("too big")
        res.append({"shape": [str(s) for s in shape], "fortran": fortran,
                    "descr": jsonable(fmt.dtype_to_descr(dt)), "nbytes": str(n)})
    except Exception as e:
        res.append({"error": type(e).__name__ + ": " + str(e)[:200]})
print(json.dumps(res))
`;

function wrapText(text: string, version: NpyVersion): Uint8Array {
  const body = version === "3.0"
    ? new TextEncoder().encode(text)
    : Uint8Array.from(text, (c) => c.charCodeAt(0));
  const prefix = version === "1.0" ? 10 : 12;
  const out = new Uint8Array(prefix + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, Number(version[0]), 0]);
  const view = new DataView(out.buffer);
  if (version === "1.0") view.setUint16(8, body.length, true);
  else view.setUint32(8, body.length, true);
  out.set(body, prefix);
  return out;
}

// One python3 run per oracle.
const encodeOracle = pythonJson(ENCODE_SCRIPT, ENCODE_CASES) as (
  | { hex: string; warnings: number; chars: number }
  | { error: string }
)[];
const saveOracle = pythonJson(SAVE_SCRIPT, { dtypes: SAVE_DTYPES, shapes: SAVE_SHAPES }) as {
  dtype: string;
  shape: number[];
  order: "C" | "F";
  descr: Descr;
  fortran: boolean;
  hex: string;
  nbytes: number;
}[];
const decodeOracle = pythonJson(
  DECODE_SCRIPT,
  DECODE_CASES.map((c) => ({ text: c.text, version: c.version ?? "1.0" })),
) as ({ shape: string[]; fortran: boolean; descr: Descr; nbytes: string } | { error: string })[];

// ---------------------------------------------------------------- tests

describe("encodeHeader", () => {
  test(`matches numpy _write_array_header byte for byte (${ENCODE_CASES.length} cases)`, () => {
    let errors = 0;
    ENCODE_CASES.forEach((c, i) => {
      const expected = encodeOracle[i];
      assert.ok(expected);
      const label = `case ${i}: ${JSON.stringify(c).slice(0, 200)}`;
      const shape = c.shape.map((s) => BigInt(s));
      if ("error" in expected) {
        errors++;
        assert.throws(
          () => encodeHeader(c.descr, c.fortran, shape, c.version),
          (err: unknown) => err instanceof NpyallocError && err.code === "E_HEADER",
          `${label}: NumPy said ${expected.error}`,
        );
        return;
      }
      const got = encodeHeader(c.descr, c.fortran, shape, c.version);
      assert.equal(hex(got.bytes), expected.hex, label);
      assert.equal(got.version, `${expected.hex.slice(13, 14)}.0`, label);
      assert.equal(got.bytes.length % 64, 0, label);
      const versionWarnings = got.warnings.filter((w) => w.startsWith("Header format")).length;
      const sizeWarnings = got.warnings.filter((w) => w.includes("max_header_size")).length;
      // NumPy warns about 2.0/3.0 only when it picked the version itself.
      if (c.version === "auto") assert.equal(versionWarnings, expected.warnings, label);
      assert.equal(versionWarnings, got.version === "1.0" ? 0 : 1, label);
      assert.equal(sizeWarnings, expected.chars > 10000 ? 1 : 0, label);
      // Number shapes give the same bytes as bigint shapes.
      if (shape.every((n) => n < 2n ** 53n)) {
        assert.deepEqual(
          encodeHeader(c.descr, c.fortran, shape.map(Number), c.version),
          got,
          label,
        );
      }
    });
    assert.ok(errors > 50, `only ${errors} error cases`);
  });

  test("picks 1.0, 2.0 and 3.0 as NumPy does", () => {
    assert.equal(encodeHeader("<f8", false, [1], "auto").version, "1.0");
    assert.equal(encodeHeader(manyFields(4000, ""), false, [1], "auto").version, "2.0");
    assert.equal(encodeHeader([["中", "<f8"]], false, [1], "auto").version, "3.0");
    assert.equal(encodeHeader([["é", "<f8"]], false, [1], "auto").version, "1.0");
  });

  test("explicit versions that cannot hold the header throw E_HEADER", () => {
    for (
      const [descr, version] of [
        [[["中", "<f8"]], "1.0"],
        [[["中", "<f8"]], "2.0"],
        [manyFields(4000, ""), "1.0"],
      ] as [Descr, NpyVersion][]
    ) {
      assert.throws(
        () => encodeHeader(descr, false, [1], version),
        (err: unknown) =>
          err instanceof NpyallocError && err.code === "E_HEADER" && /format/.test(err.message),
      );
    }
  });

  test("bad shape entries throw E_SHAPE", () => {
    for (const shape of [[-1], [1.5], [Number.NaN], [2 ** 60], [-1n]]) {
      assert.throws(
        () => encodeHeader("<f8", false, shape, "auto"),
        (err: unknown) => err instanceof NpyallocError && err.code === "E_SHAPE",
        String(shape),
      );
    }
  });
});

describe("np.save of real arrays", () => {
  test(`header, fortran flag and descr match (${saveOracle.length} arrays)`, () => {
    for (const c of saveOracle) {
      const label = `${c.dtype} ${JSON.stringify(c.shape)} ${c.order}`;
      assert.equal(fortranOrderFlag(c.shape, c.order), c.fortran, label);
      const got = encodeHeader(c.descr, c.fortran, c.shape, "auto");
      assert.equal(hex(got.bytes), c.hex, label);
      const h = decodeHeader(fromHex(c.hex));
      assert.deepEqual(h.descr, c.descr, label);
      assert.deepEqual(dtypeToDescr(h.dtype), c.descr, label);
      assert.deepEqual(h.shape, c.shape.map(BigInt), label);
      assert.equal(h.fortranOrder, c.fortran, label);
      assert.equal(h.dataBytes, BigInt(c.nbytes), label);
      assert.equal(h.headerBytes, got.bytes.length, label);
    }
  });

  test("fortranOrderFlag agrees with NumPy on every shape up to 4-d with extents 0..3", () => {
    const shapes: number[][] = [[]];
    for (let d = 0; d < 4; d++) {
      for (const s of [...shapes]) {
        if (s.length === d) { for (const n of [0, 1, 2, 3]) shapes.push([...s, n]); }
      }
    }
    const flags = pythonJson(
      `
import sys, json
import numpy as np
from numpy.lib import _format_impl as fmt
print(json.dumps([fmt.header_data_from_array_1_0(np.zeros(s, order="F"))["fortran_order"] for s in json.load(sys.stdin)]))
`,
      shapes,
    ) as boolean[];
    assert.equal(flags.length, 341);
    shapes.forEach((s, i) => {
      assert.equal(fortranOrderFlag(s, "F"), flags[i], JSON.stringify(s));
      assert.equal(fortranOrderFlag(s, "C"), false);
    });
    assert.equal(fortranOrderFlag([2n ** 62n, 2], "F"), true);
  });
});

describe("decodeHeader", () => {
  test(`agrees with NumPy's reader on hand-written headers (${DECODE_CASES.length} cases)`, () => {
    let accepted = 0;
    DECODE_CASES.forEach((c, i) => {
      const expected = decodeOracle[i];
      assert.ok(expected);
      const label = `case ${i}: ${JSON.stringify(c.text)}`;
      const bytes = wrapText(c.text, c.version ?? "1.0");
      if ("error" in expected || c.stricter) {
        assertNotNpy(() => decodeHeader(bytes));
        return;
      }
      const h = decodeHeader(bytes);
      accepted++;
      assert.deepEqual(h.shape.map(String), expected.shape, label);
      assert.equal(h.fortranOrder, expected.fortran, label);
      assert.deepEqual(dtypeToDescr(h.dtype), expected.descr, label);
      assert.equal(String(h.dataBytes), expected.nbytes, label);
    });
    assert.ok(accepted >= 15 && accepted <= DECODE_CASES.length - 15, `${accepted} accepted`);
  });

  test("round-trips every encoded header", () => {
    let n = 0;
    for (const c of ENCODE_CASES) {
      if (c.version !== "auto" || typeof c.descr !== "string" || c.descr === "<f16") continue;
      const shape = c.shape.map(BigInt);
      const product = shape.reduce((a, b) => a * b, 1n);
      if (product * 16n >= 2n ** 63n) continue;
      const bytes = encodeHeader(c.descr, c.fortran, shape, "auto").bytes;
      const h = decodeHeader(bytes);
      assert.equal(h.descr, c.descr);
      assert.deepEqual(h.shape, shape);
      assert.equal(h.fortranOrder, c.fortran);
      assert.equal(h.headerBytes, bytes.length);
      n++;
    }
    assert.ok(n > 50);
  });

  test("keeps odd field names intact", () => {
    for (const name of [...NAMES, "\ud800", "\x00", "\\N"]) {
      const descr: Descr = [[name, "<f4"], [["titl'e\"", "n2"], "<i8", [2]]];
      const h = decodeHeader(encodeHeader(descr, false, [2], "auto").bytes);
      assert.deepEqual(h.descr, descr, JSON.stringify(name));
    }
  });

  test("magic, version, length and encoding errors", () => {
    const good = encodeHeader("<f8", false, [3], "auto").bytes;
    assertNotNpy(
      () => decodeHeader(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])),
      /magic/,
    );
    const v4 = good.slice();
    v4[6] = 4;
    assertNotNpy(() => decodeHeader(v4), /version 4\.0/);
    const v11 = good.slice();
    v11[7] = 1;
    assertNotNpy(() => decodeHeader(v11), /version 1\.1/);
    assertNotNpy(() => decodeHeader(good.subarray(0, 5)), /^Truncated header/);
    assertNotNpy(
      () => decodeHeader(good.subarray(0, 100)),
      /^Truncated header: the header needs 128 bytes, got 100/,
    );
    assertNotNpy(() => decodeHeader(new Uint8Array(0)), /^Truncated header/);
    const badUtf8 = wrapText("{'descr': '<f8', 'fortran_order': False, 'shape': (2,)}  ", "3.0");
    badUtf8[badUtf8.length - 1] = 0xff;
    assertNotNpy(() => decodeHeader(badUtf8), /UTF-8/);
    const big = encodeHeader(manyFields(4000, ""), false, [1], "auto").bytes;
    assertNotNpy(() => decodeHeader(big, { maxHeaderBytes: 1000 }), /limit of 1000 bytes/);
    assert.equal(decodeHeader(big).version, "2.0");
    assertNotNpy(
      () =>
        decodeHeader(wrapText("{'descr': '<f8', 'fortran_order': False, 'shape': (2,)}", "2.0"), {
          maxHeaderBytes: 10,
        }),
      /limit/,
    );
  });

  test("latin-1 bytes above 0x7f decode as NumPy decodes them", () => {
    const h = decodeHeader(
      wrapText("{'descr': [('\xe9\x85', '<f4')], 'fortran_order': False, 'shape': (1,)}", "1.0"),
    );
    assert.deepEqual(h.descr, [["\xe9\x85", "<f4"]]);
  });

  test("data sizes of 2^63 bytes or more are refused", () => {
    assertNotNpy(
      () => decodeHeader(encodeHeader("<f8", false, [2n ** 60n], "auto").bytes),
      /too large/,
    );
    assert.equal(
      decodeHeader(encodeHeader("<f8", false, [2n ** 59n], "auto").bytes).dataBytes,
      2n ** 62n,
    );
    // As NumPy: the extents that are not 0 must still fit.
    assertNotNpy(
      () => decodeHeader(encodeHeader("<f8", false, [2n ** 70n, 0], "auto").bytes),
      /too large/,
    );
    assertNotNpy(
      () => decodeHeader(encodeHeader("<f8", false, [2n ** 62n, 0, 2], "auto").bytes),
      /too large/,
    );
    assert.equal(
      decodeHeader(encodeHeader("<f8", false, [2n ** 59n, 0], "auto").bytes).dataBytes,
      0n,
    );
  });
});

describe("decodeHeaderInfo: what the header says, also when it cannot be memory-mapped", () => {
  const text = (descr: string, shape: string) =>
    wrapText(`{'descr': ${descr}, 'fortran_order': True, 'shape': ${shape}, }`, "2.0");

  test("object arrays: descr, shape and order, no dtype, a problem", () => {
    for (
      const descr of [
        "'|O'",
        "'O'",
        "'|O8'",
        "[('a', '|O'), ('b', '<i4')]",
        "[('c', ('|O', (2,)))]",
      ]
    ) {
      const info = decodeHeaderInfo(text(descr, "(2, 3)"));
      assert.deepEqual([info.shape, info.fortranOrder, info.dtype, info.dataBytes], [
        [2n, 3n],
        true,
        null,
        null,
      ]);
      assert.match(
        info.problem ?? "",
        /holds Python objects: the data is a pickle, which cannot be memory-mapped/,
      );
      assertNotNpy(() => decodeHeader(text(descr, "(2, 3)")), /holds Python objects/);
    }
    assert.equal(decodeHeaderInfo(text("'|O'", "()")).descr, "|O");
  });

  test("data of 2^63 bytes or more: the exact shape and size", () => {
    const big = 2n ** 62n;
    const info = decodeHeaderInfo(text("'<f8'", `(${big}, 3)`));
    assert.deepEqual(info.shape, [big, 3n]);
    assert.equal(info.dataBytes, big * 24n);
    assert.equal(info.dtype !== null && info.dtype.kind, "f");
    assert.match(info.problem ?? "", /^Header shape \(4611686018427387904, 3\) is too large/);
    // NumPy's check counts non-zero extents only; the size is still exact.
    const empty = decodeHeaderInfo(text("'<f8'", `(${big}, 0, ${big})`));
    assert.equal(empty.dataBytes, 0n);
    assert.match(empty.problem ?? "", /too large/);
    // A hostile shape does not make it multiply huge numbers: the size stops at 2^256 bytes.
    const digits = "9".repeat(4000);
    const hostile = decodeHeaderInfo(text("'<f8'", `(${Array(400).fill(digits).join(", ")})`));
    assert.equal(hostile.dataBytes, null);
    assert.equal(hostile.shape.length, 400);
  });

  test("descrs npyalloc does not read: kept as written, with the reason", () => {
    const float7 = decodeHeaderInfo(text("'float7'", "(2,)"));
    assert.deepEqual([float7.descr, float7.dtype], ["float7", null]);
    assert.match(
      float7.problem ?? "",
      /^Header descr is not a supported dtype: Cannot parse dtype 'float7'/,
    );
    const sub = decodeHeaderInfo(text("('<i4', (2,))", "(3,)"));
    assert.deepEqual(sub.descr, ["<i4", [2]]);
    assert.match(
      sub.problem ?? "",
      /subarray dtype for the whole array, which np.load cannot read/,
    );
    // A header that is not NumPy's still throws.
    assertNotNpy(() => decodeHeaderInfo(text("5", "(2,)")), /not a string, a list of fields/);
    assertNotNpy(() => decodeHeaderInfo(text("'<f8'", "(-2,)")), /shape/);
  });

  test("NumPy's own object array files (numpy/lib/tests/data), and np.save of one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "npyalloc-header-info-"));
    try {
      const files = pythonJson(
        `
import sys, json, os, numpy as np
d = json.load(sys.stdin)
data = os.path.join(os.path.dirname(np.lib.__file__), "tests", "data")
out = [os.path.join(data, f) for f in ["py2-np0-objarr.npy", "py2-objarr.npy", "py3-objarr.npy"]]
assert all(os.path.exists(f) for f in out), out
np.save(d + "/obj.npy", np.array([[None, "x"], [1, 2.5], [b"z", {}]], dtype=object, order="F"))
out.append(d + "/obj.npy")
print(json.dumps(out))
`,
        dir,
      ) as string[];
      for (const file of files) {
        const info = await readHeaderInfoFromFile(file);
        assert.match(info.descr as string, /^\|O8?$/, file);
        assert.deepEqual(info.shape, file.endsWith("obj.npy") ? [3n, 2n] : [4n], file);
        assert.equal(info.fortranOrder, file.endsWith("obj.npy"), file);
        assert.equal(info.expectedFileBytes, null);
        assert.ok(info.fileBytes > BigInt(info.headerBytes));
        assert.match(info.problem ?? "", /pickle/);
        await assert.rejects(readHeaderFromFile(file), /holds Python objects/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("headerLength", () => {
  test("needs 10 bytes for 1.0 and 12 for 2.0/3.0", () => {
    const v1 = encodeHeader("<f8", false, [3], "1.0").bytes;
    const v2 = encodeHeader("<f8", false, [3], "2.0").bytes;
    for (let n = 0; n < 10; n++) assert.equal(headerLength(v1.subarray(0, n)), null);
    assert.equal(headerLength(v1.subarray(0, 10)), 128);
    assert.equal(headerLength(v2.subarray(0, 11)), null);
    assert.equal(headerLength(v2.subarray(0, 12)), 128);
    assertNotNpy(() => headerLength(new Uint8Array([0x93, 0x4e, 0x55, 0x4e])), /magic/);
    assertNotNpy(() => headerLength(new TextEncoder().encode("PK\x03\x04")), /magic/);
  });
});

describe("readHeaderFromFile", () => {
  test("reads files np.save wrote, and reports truncation and OS errors", async () => {
    const dir = mkdtempSync(join(tmpdir(), "npyalloc-header-"));
    try {
      pythonJson(
        `
import sys, json, numpy as np
d = json.load(sys.stdin)
np.save(d + "/a.npy", np.zeros((3, 4), dtype="<i2", order="F"))
np.save(d + "/b.npy", np.zeros(5, dtype=[("中", "<f4")]))
print("null")
`,
        dir,
      );
      const a = await readHeaderFromFile(join(dir, "a.npy"));
      assert.deepEqual(a.shape, [3n, 4n]);
      assert.equal(a.fortranOrder, true);
      assert.equal(a.descr, "<i2");
      assert.equal(a.fileBytes, 128n + 24n);
      assert.equal(a.expectedFileBytes, a.fileBytes);
      const b = await readHeaderFromFile(join(dir, "b.npy"));
      assert.equal(b.version, "3.0");
      assert.deepEqual(b.descr, [["中", "<f4"]]);

      writeFileSync(
        join(dir, "short.npy"),
        encodeHeader("<f8", false, [3], "auto").bytes.subarray(0, 70),
      );
      await assert.rejects(readHeaderFromFile(join(dir, "short.npy")), (err: unknown) => {
        return err instanceof NpyallocError && err.code === "E_NOT_NPY" &&
          /^Truncated header/.test(err.message);
      });
      writeFileSync(join(dir, "tiny.npy"), new Uint8Array([0x93, 0x4e]));
      await assert.rejects(readHeaderFromFile(join(dir, "tiny.npy")), /Truncated header/);
      writeFileSync(join(dir, "text.npy"), "hello world, not numpy");
      await assert.rejects(readHeaderFromFile(join(dir, "text.npy")), /magic/);
      const huge = encodeHeader(manyFields(4000, ""), false, [1], "auto").bytes;
      writeFileSync(join(dir, "huge.npy"), huge);
      await assert.rejects(
        readHeaderFromFile(join(dir, "huge.npy"), { maxHeaderBytes: 4096 }),
        /limit/,
      );
      assert.equal((await readHeaderFromFile(join(dir, "huge.npy"))).headerBytes, huge.length);
      await assert.rejects(readHeaderFromFile(join(dir, "missing.npy")), (err: unknown) => {
        return err instanceof NpyallocError && err.code === "E_NOT_FOUND";
      });
      await assert.rejects(readHeaderFromFile(dir), (err: unknown) => err instanceof NpyallocError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("parsePyLiteral", () => {
  test("Python literal details", () => {
    assert.equal(parsePyLiteral("(5)"), 5n);
    assert.deepEqual(parsePyLiteral("(5,)"), new PyTuple([5n]));
    assert.deepEqual(parsePyLiteral("()"), new PyTuple([]));
    assert.equal(parsePyLiteral("- 5"), -5n);
    assert.equal(parsePyLiteral("'a\\\nb'"), "ab");
    assert.equal(parsePyLiteral("'\\777'"), "\u01ff");
    assert.equal(parsePyLiteral("'\\q'"), "\\q");
    assert.equal(parsePyLiteral("r'\\''"), "\\'");
    assert.equal(parsePyLiteral("0_0"), 0n);
    assert.deepEqual(parsePyLiteral("{'a': 1, 'a': 2}"), new Map([["a", 2n]]));
    assert.equal(parsePyLiteral("5L", { allowLongSuffix: true }), 5n);
    assertNotNpy(() => parsePyLiteral("5L"));
    assertNotNpy(() => parsePyLiteral("1__0"), /offset 0/);
    assertNotNpy(() => parsePyLiteral("[1, 2"), /offset 5: unexpected end/);
    assertNotNpy(() => parsePyLiteral("'abc"), /unterminated/);
    assertNotNpy(() => parsePyLiteral("1.5"), /float/);
    assertNotNpy(() => parsePyLiteral("b'x'"), /bytes/);
    assertNotNpy(() => parsePyLiteral("'\\N{DIGIT ONE}'"), /\\N/);
    assertNotNpy(() => parsePyLiteral("'\\x4'"), /truncated/);
    assertNotNpy(() => parsePyLiteral("'\\U00110000'"), /illegal/);
    assertNotNpy(() => parsePyLiteral("foo"), /unexpected name "foo"/);
    assertNotNpy(() => parsePyLiteral("[".repeat(201) + "]".repeat(201)), /nesting/);
    assert.equal((parsePyLiteral("[".repeat(200) + "]".repeat(200)) as unknown[]).length, 1);
    assertNotNpy(() => parsePyLiteral("1".repeat(5000)), /4300/);
    assertNotNpy(() => parsePyLiteral("x".repeat(100), { maxLength: 10 }), /limit/);
  });
});
