/**
 * encodeFill against real NumPy: a Python script builds every case with
 * `np.full((), fill, dtype)` (or `np.zeros` plus field assignment for
 * structured dtypes) and prints the dtype's descr, the fill and the bytes.
 * NumPy leaves the 6 padding bytes of a longdouble uninitialised, so the
 * script zeroes them in its expected bytes (npyalloc writes zeros there).
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { NpyallocError } from "../src/errors.ts";
import {
  type Descr,
  type DType,
  type ElementDType,
  isSubarrayDescr,
  parseDType,
  type ScalarDType,
  type ScalarKind,
  type StructField,
} from "../src/npy/dtype.ts";
import { encodeFill, type FillValue, isZeroFill } from "../src/npy/fill.ts";
import { runPythonJson } from "./_support/numpy.ts";

const ORACLE = String.raw`
import json, random, sys, warnings
import numpy as np
from numpy.lib.format import dtype_to_descr
warnings.simplefilter("ignore")

class Big(int):
    """An int the TypeScript side receives as a bigint."""

def enc(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, Big) or (isinstance(v, int) and abs(v) >= 2**53):
        return {"$big": str(int(v))}
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if v != v:
            return {"$float": "nan"}
        if v in (float("inf"), float("-inf")):
            return {"$float": "inf" if v > 0 else "-inf"}
        return v
    if isinstance(v, complex):
        return [enc(v.real), enc(v.imag)]
    if isinstance(v, str):
        return v
    if isinstance(v, (list, tuple)):
        return [enc(x) for x in v]
    if isinstance(v, dict):
        return {k: enc(x) for k, x in v.items()}
    raise TypeError(repr(v))

def padding(dt, base, out):
    """Offsets of longdouble padding bytes, which NumPy leaves uninitialised."""
    if dt.names is not None:
        for name in dt.names:
            fdt, off = dt.fields[name][:2]
            padding(fdt, base + off, out)
    elif dt.subdtype is not None:
        sub, shape = dt.subdtype
        for i in range(int(np.prod(shape))):
            padding(sub, base + i * sub.itemsize, out)
    elif dt.kind in "fc" and dt.itemsize in (16, 32) and not (dt.kind == "c" and dt.itemsize == 16):
        for part in range(0, dt.itemsize, 16):
            pad = range(0, 6) if dt.byteorder == ">" else range(10, 16)
            out.update(base + part + p for p in pad)

def plain(v):
    """The fill as NumPy should see it: Big is an int subclass, which NumPy converts differently."""
    if isinstance(v, Big):
        return int(v)
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    return v

def assign(view, v):
    if isinstance(v, dict):
        for k, x in v.items():
            assign(view[k], x)
    elif isinstance(v, list) and view.dtype.names is not None:
        for i, x in enumerate(v):
            assign(view[i, ...], x)
    else:
        view[...] = v

cases = []
def case(group, dtype, fill):
    dt = np.dtype(dtype)
    if dt.names is not None:
        a = np.zeros((), dt)
        assign(a, plain(fill))
    else:
        a = np.full((), plain(fill), dt)
    raw = bytearray(a.tobytes())
    pad = set()
    padding(dt, 0, pad)
    for p in pad:
        raw[p] = 0
    cases.append({"group": group, "descr": dtype_to_descr(dt), "itemsize": dt.itemsize,
                  "fill": enc(fill), "hex": raw.hex()})

nan, inf = float("nan"), float("inf")

# bool
for f in [True, False, 1, 0]:
    case("bool", "?", f)

# integers: every size and byte order
for kind in "iu":
    for size in (1, 2, 4, 8):
        lo, hi = (-(2 ** (8 * size - 1)), 2 ** (8 * size - 1) - 1) if kind == "i" else (0, 2 ** (8 * size) - 1)
        for order in (("|",) if size == 1 else ("<", ">")):
            values = [lo, hi, 0, 1, 0x12345678 % (hi + 1), Big(hi), Big(lo), Big(1)]
            if kind == "i":
                values += [-1, -2, lo + 1, Big(-1)]
            for v in values:
                case("int", f"{order}{kind}{size}", v)

# float16
half = [65504.0, 65505.0, 65519.99, 65520.0, -65520.0, 65536.0, 1e300, -1e300, 6e-8, 5.96e-8,
        2.98e-8, 2.0 ** -24, 2.0 ** -25, 3 * 2.0 ** -25, 2.0 ** -25 + 2.0 ** -60, 2.0 ** -14,
        2.0 ** -14 - 2.0 ** -25, 2.0 ** -14 - 2.0 ** -24, 2.0 ** -14 - 2.0 ** -26, 6.1e-5,
        1 / 3, 0.1, -0.0, 0.0, 1.0, -1.0, 1 + 2.0 ** -11, 1 + 3 * 2.0 ** -11, 1 + 2.0 ** -11 + 2.0 ** -30,
        1 + 2.0 ** -11 - 2.0 ** -40, 2049.0, 2051.0, 2050.0, 4097.0, 4099.0, 5e-324, -5e-324, 1e-300,
        nan, inf, -inf, "nan", "inf", "-inf", "+inf", "Infinity", "INF", "NaN",
        3, -7, Big(2 ** 60 + 1), Big(65519), Big(65520), Big(-2049)]
rng = random.Random(20240101)
for _ in range(150):
    half.append(rng.uniform(-70000, 70000))
    half.append(rng.choice([-1, 1]) * 2.0 ** rng.uniform(-26, 16))
for order in "<>":
    for v in half:
        case("float16", order + "f2", v)

# float32
single = [1e300, -1e300, 3.4028234663852886e38, 3.4028235677973366e38, 3.4028235e38,
          3.4028235677973362e38, 1e-45, 1.401298464324817e-45, 7.006492321624085e-46,
          7.006492321624087e-46, 1.1754943508222875e-38, 0.1, 1 / 3, -0.0, 16777217.0, 16777219.0,
          1 + 2.0 ** -24, 1 + 3 * 2.0 ** -24, nan, inf, -inf, "nan", "-inf", 12, Big(16777217),
          Big(2 ** 60 + 2 ** 36 + 1), Big(2 ** 128), Big(-(2 ** 127))]
for _ in range(100):
    single.append(rng.choice([-1, 1]) * 2.0 ** rng.uniform(-150, 129))
for order in "<>":
    for v in single:
        case("float32", order + "f4", v)

# float64
double = [0.1, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -0.0, nan, inf, -inf,
          "nan", "inf", "-Infinity", 2 ** 53 + 1, Big(2 ** 53 + 1), Big(2 ** 53 + 3), Big(2 ** 64 - 1),
          Big(-(2 ** 1023) * 3 // 2), Big(10 ** 300), 42, -1e-310]
for order in "<>":
    for v in double:
        case("float64", order + "f8", v)

# longdouble: exact from the double, integers rounded once
longd = [1.0, 0.1, -0.0, 0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 2.225073858507201e-308,
         1e-310, 1.7976931348623157e308, -1.7976931348623157e308, nan, inf, -inf, "nan", "-inf",
         1e300, 1 / 3, 3, -3, Big(2 ** 60 + 1), Big(2 ** 64 - 1), Big(2 ** 64 + 1), Big(2 ** 64 + 3),
         Big(2 ** 65 + 2), Big(2 ** 65 + 6), Big(2 ** 65 + 5), Big(2 ** 64 * 3 + 1), Big(10 ** 400),
         Big(-(10 ** 30) + 7), Big(2 ** 64 - 2 ** 0)]
for _ in range(40):
    longd.append(rng.choice([-1, 1]) * 2.0 ** rng.uniform(-1074, 1023))
for order in "<>":
    for v in longd:
        case("longdouble", order + "f16", v)

# complex
cplx = [complex(1, 2), complex(-0.0, nan), complex(inf, -inf), complex(0.1, 1e300), complex(1 / 3, -5e-324),
        2.5, -0.0, nan, "nan", "-inf", complex(0, 1), 7]
for order in "<>":
    for size in (8, 16, 32):
        for v in cplx:
            case("complex", f"{order}c{size}", v)

# bytes and unicode
for dtype, values in [("S1", ["a", "\x7f", "\x00"]), ("S5", ["", "a", "hello", "a\x00b", "AB CD"]),
                      ("S10", ["hello", "0123456789"])]:
    for v in values:
        case("bytes", dtype, v)
for dtype, values in [("<U1", ["a", "\u00e9", "\U0001F600"]), ("<U3", ["", "abc", "\u65e5\u672c", "a\U0001F600b",
                      "\U0001F600\U0001F600\U0001F600", "\U0010FFFF"]), (">U3", ["abc", "\u00e9", "a\U0001F600b"]),
                      ("<U5", ["hi", "\u0000x"])]:
    for v in values:
        case("unicode", dtype, v)

# datetime64: ISO strings, NaT, counts, in every unit
dt_texts = {
    "Y": ["2024", "1969", "-0001", "1970-01", "+10000", "2001-01-01T00:00"],
    "M": ["2024-02", "1969-12", "1900-03-01", "1582-10"],
    "W": ["1970-01-01", "1970-01-08", "1969-12-25", "2024-01-04", "1900-03-01T00:00"],
    "D": ["2024-02-29", "2000-02-29", "1900-02-28", "1969-12-31", "0001-01-01", "-0100-03-01", "2024-01-01T00",
          "2024-01-01T23:00-01:00"],
    "h": ["2024-01-01T12", "1969-12-31T23", "2024-01-01 05:00", "2024-01-01T01:00+01:00"],
    "m": ["2024-01-01T12:34", "1960-06-15T00:01", "2024-01-01T00:00Z", "2024-01-01T00:00-0130"],
    "s": ["2024-01-01T12:34:56", "1900-01-01T00:00:01", "2024-02-29T23:59:59.000"],
    "ms": ["2024-01-01T12:34:56.789", "1969-12-31T23:59:59.999", "2024-01-01T00:00:00.5"],
    "us": ["2024-01-01T12:34:56.789012", "1970-01-01T00:00:00.000001"],
    "ns": ["2024-01-01T12:34:56.789012345", "1677-09-22T00:00:00", "2262-04-11T23:47:16.854775807"],
    "ps": ["1970-01-01T00:00:00.000000000001", "1970-03-01T01:02:03.123456789012"],
    "fs": ["1970-01-01T00:00:00.000000000000001", "1969-12-31T23:59:59.999999999999999", "1970-01-01T02:00"],
    "as": ["1970-01-01T00:00:00.000000000000000001", "1970-01-01T00:00:09.223372036854775807",
           "1969-12-31T23:59:51"],
    "10ms": ["2024-01-01T00:00:00.01", "1969-12-31T23:59:59.99", "2024-01-01"],
    "2W": ["1970-01-15", "1969-12-18"],
    "3M": ["1970-04", "1969-10", "2024-01"],
    "15m": ["2024-01-01T00:45", "1969-12-31T23:45"],
}
for unit, texts in dt_texts.items():
    for order in "<>":
        for v in texts + ["NaT", "nat", 5, -5, Big(2 ** 63 - 1), Big(-(2 ** 63) + 1)]:
            case("datetime64", f"{order}M8[{unit}]", v)
case("datetime64", "M8", "NaT")

# timedelta64
for unit in ["Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as", "10ms", "2W"]:
    for order in "<>":
        for v in [1, -1, 123456789, Big(2 ** 63 - 1), Big(-(2 ** 63) + 1), "NaT", "NAT"]:
            case("timedelta64", f"{order}m8[{unit}]", v)
case("timedelta64", "m8", "NaT")

# structured
flat = [("a", "<i4"), ("b", ">f8"), ("c", "S3")]
for f in [{"a": 5, "b": 1.5, "c": "xy"}, {"b": nan}, {}, {"c": "abc", "a": -1}]:
    case("struct", flat, f)
nested = [("x", [("y", "<u2", (2,)), ("z", [("w", "<f2")])]), ("t", "<M8[ms]"), ("u", "<U2", (2, 2)),
          ("v", "V3"), ("cc", "<c16", (2,)), ("s", [("p", "<i2"), ("q", ">f4")], (3,)), ("b", "?")]
for f in [
    {"x": {"y": [1, 2], "z": {"w": 0.1}}, "t": "2024-01-01T00:00:00.001",
     "u": [["a", "b"], ["\U0001F600", "cd"]], "cc": [complex(1, 2), complex(3, 4)], "b": True},
    {"x": {"y": 7}, "u": "zz", "cc": [complex(0, 0), complex(1, 0)], "s": {"p": 1}},
    {"s": [{"p": 1}, {"p": 2, "q": 0.5}, {"q": -inf}], "t": "NaT", "x": {"z": {"w": 65520.0}}},
    {"cc": [complex(nan, 0), complex(-0.0, 0)]},
    # [re, im] on a complex subarray field is one value for every item.
    {"cc": complex(0, 1)},
    {"cc": complex(nan, -0.0)},
    {"cc": 2.5, "u": "\U0001F600"},
]:
    case("struct", nested, f)
aligned = np.dtype([("a", "u1"), ("b", "<f8"), ("c", "<u2")], align=True)
case("struct", aligned, {"a": 255, "b": -2.0, "c": 513})
case("struct", [(("Title A", "a"), "<i4"), ("g", "<f16"), ("h", ">c32", (2,)), ("k", ">f16", (2, 1))],
     {"a": 9, "g": 0.1, "h": [complex(1, nan), complex(-inf, 5e-324)], "k": [[1 / 3], [Big(2 ** 64 + 1)]]})
# Fields whose dtype is itself a subarray, as NumPy 2 writes them: ('c', ('<f8', (5,)), (2,)).
nested_sub = [("c", ("<f8", (5,)), (2,)), ("z", "<c8", (3, 2)),
              ("r", ([("a", "<i2"), ("b", ">c16", (2,))], (2,)), (3,)), ("w", (("|u1", (2,)), (1,)), (2,))]
for f in [
    {"c": 1.5, "w": 7},
    {"c": [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]], "w": [[[1, 2]], [[3, 4]]]},
    {"z": complex(0, 1)},
    {"z": complex(-2.5, inf), "r": {"a": 3, "b": complex(1, -1)}},
    {"z": [[complex(1, 2), 3], [4, complex(5, -6)], [7, 8]]},
    {"r": [[{"a": i + 2 * j, "b": [complex(i, j), complex(j, i)]} for i in range(2)] for j in range(3)]},
]:
    case("struct", nested_sub, f)
case("struct", [("deep", [("d1", [("d2", [("d3", "<i8", (2,))], (2,))])])],
     {"deep": {"d1": {"d2": [{"d3": [1, Big(2 ** 62)]}, {"d3": -1}]}}})

json.dump(cases, sys.stdout)
`;

interface OracleCase {
  group: string;
  descr: Descr;
  itemsize: number;
  fill: unknown;
  hex: string;
}

function runOracle(): OracleCase[] {
  return runPythonJson<OracleCase[]>(ORACLE);
}

let oracle: OracleCase[] = [];
let oracleError: unknown = null;
try {
  oracle = runOracle();
} catch (err) {
  oracleError = err;
}

/** Decodes the oracle's JSON: `{$big}` to bigint, `{$float}` to NaN and infinities. */
function decodeFill(v: unknown): FillValue {
  if (Array.isArray(v)) return v.map(decodeFill);
  if (typeof v === "object" && v !== null) {
    const o = v as Record<string, unknown>;
    if (typeof o.$big === "string") return BigInt(o.$big);
    if (typeof o.$float === "string") {
      return o.$float === "nan" ? NaN : o.$float === "inf" ? Infinity : -Infinity;
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, decodeFill(x)]));
  }
  return v as FillValue;
}

/**
 * Builds a DType from a descr by hand, as a stand-in for the dtype parser:
 * array-protocol strings and packed descr lists where unnamed fields are padding,
 * and fields whose descr is a nested subarray `[descr, shape]`.
 */
function dtypeFromDescr(descr: Descr): ElementDType {
  if (typeof descr === "string") return scalar(descr);
  if (isSubarrayDescr(descr)) throw new Error("Test helper reads subarrays only in fields");
  const fields: StructField[] = [];
  let offset = 0;
  for (const entry of descr) {
    const [rawName, sub, shape = []] = entry;
    const nesting: number[][] = shape.length > 0 ? [shape] : [];
    let inner = sub;
    while (isSubarrayDescr(inner)) {
      nesting.push(inner[1]);
      inner = inner[0];
    }
    const dtype = dtypeFromDescr(inner);
    const [title, name] = typeof rawName === "string" ? [null, rawName] : rawName;
    const all = nesting.flat();
    if (name !== "") fields.push({ name, title, offset, dtype, shape: all, nesting });
    offset += dtype.itemsize * all.reduce((a, b) => a * b, 1);
  }
  return { kind: "struct", itemsize: offset, fields };
}

function scalar(str: string): ScalarDType {
  const m = /^([<>|])([biufcSUVMm])(\d+)(?:\[(\d*)(\w+)\])?$/.exec(str);
  if (!m) throw new Error(`Test helper cannot read dtype '${str}'`);
  const [, order = "|", kind = "V", size = "0", count, unit] = m;
  return {
    kind: kind as ScalarKind,
    byteOrder: order as ScalarDType["byteOrder"],
    itemsize: kind === "U" ? 4 * Number(size) : Number(size),
    unit: unit === undefined ? null : {
      unit: unit as NonNullable<ScalarDType["unit"]>["unit"],
      count: count ? Number(count) : 1,
    },
    str,
  };
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function show(fill: unknown): string {
  return JSON.stringify(fill, (_k, v) => typeof v === "bigint" ? `${v}n` : v);
}

const GROUPS = [
  "bool",
  "int",
  "float16",
  "float32",
  "float64",
  "longdouble",
  "complex",
  "bytes",
  "unicode",
  "datetime64",
  "timedelta64",
  "struct",
];

describe("encodeFill matches NumPy", () => {
  test("the NumPy oracle runs", () => {
    if (oracleError !== null) throw oracleError;
    assert.ok(oracle.length > 1000, `only ${oracle.length} oracle cases`);
    assert.deepEqual(new Set(oracle.map((c) => c.group)), new Set(GROUPS));
  });

  for (const group of GROUPS) {
    test(group, () => {
      if (oracleError !== null) throw oracleError;
      const cases = oracle.filter((c) => c.group === group);
      assert.ok(cases.length > 0, `no oracle cases for ${group}`);
      const mismatches: string[] = [];
      for (const c of cases) {
        const dtype = dtypeFromDescr(c.descr);
        assert.equal(dtype.itemsize, c.itemsize, `itemsize of ${JSON.stringify(c.descr)}`);
        const fill = decodeFill(c.fill);
        let got: string;
        try {
          got = hex(encodeFill(dtype, fill));
        } catch (err) {
          got = `threw ${(err as Error).message}`;
        }
        if (got !== c.hex) {
          mismatches.push(
            `${JSON.stringify(c.descr)} fill ${show(fill)}: got ${got}, NumPy ${c.hex}`,
          );
        }
      }
      assert.deepEqual(mismatches, []);
    });
  }
});

const u1 = scalar("|u1");
const f4 = scalar("<f4");
const structured = dtypeFromDescr([
  ["a", [["b", "<i2"], ["c", "<f8", [2]]]],
  ["d", "|S2"],
  ["v", "|V2"],
]);
const ALL: DType[] = [
  "|b1",
  "<i8",
  ">u2",
  "<f2",
  ">f16",
  "<c32",
  "|S3",
  ">U2",
  "|V5",
  "<M8[ns]",
  "<M8",
  ">m8[s]",
].map((str): DType => scalar(str)).concat([structured]);

describe("zero fills", () => {
  test("omitted, null, 0 and 0n are all zeros for every dtype", () => {
    for (const dtype of ALL) {
      for (const fill of [undefined, null, 0, 0n]) {
        const bytes = encodeFill(dtype, fill);
        assert.equal(bytes.length, dtype.itemsize);
        assert.ok(isZeroFill(bytes), `${JSON.stringify(dtype)} ${String(fill)}`);
      }
    }
  });

  test("isZeroFill tells zero bytes from others", () => {
    assert.equal(isZeroFill(new Uint8Array(0)), true);
    assert.equal(isZeroFill(new Uint8Array(8)), true);
    assert.equal(isZeroFill(encodeFill(f4, -0)), false);
    assert.equal(isZeroFill(encodeFill(u1, 1)), false);
    assert.equal(isZeroFill(encodeFill(structured, { a: { b: 0, c: [0, 0] }, d: "" })), true);
  });

  test("a structured fill with only zero fields and padding is zero", () => {
    assert.ok(isZeroFill(encodeFill(structured, {})));
    assert.ok(isZeroFill(encodeFill(structured, { v: 0, d: null })));
  });
});

describe("encodeFill errors", () => {
  const cases: [DType, FillValue, string][] = [
    [u1, 300, "Fill 300 does not fit dtype '|u1' (0 to 255)"],
    [u1, -1, "Fill -1 does not fit dtype '|u1' (0 to 255)"],
    [scalar("<i1"), 128n, "Fill 128 does not fit dtype '<i1' (-128 to 127)"],
    [
      scalar(">i8"),
      2n ** 63n,
      "Fill 9223372036854775808 does not fit dtype '>i8' (-9223372036854775808 to 9223372036854775807)",
    ],
    [
      scalar("<u8"),
      2n ** 64n,
      "Fill 18446744073709551616 does not fit dtype '<u8' (0 to 18446744073709551615)",
    ],
    [scalar("<i4"), 1.5, "Fill 1.5 does not fit dtype '<i4' (not an integer)"],
    [scalar("<i4"), NaN, "Fill nan does not fit dtype '<i4' (not an integer)"],
    [
      scalar("<i8"),
      2 ** 60,
      "Fill 1152921504606847000 does not fit dtype '<i8' exactly " +
      "(an integer beyond 2^53 that was read as a floating-point number)",
    ],
    [scalar("<i4"), "5", "Fill '5' is not valid for dtype '<i4' (expected an integer)"],
    [scalar("<i4"), true, "Fill true is not valid for dtype '<i4' (expected an integer)"],
    [scalar("|b1"), 2, "Fill 2 is not valid for dtype '|b1' (expected true or false)"],
    [scalar("|b1"), "true", "Fill 'true' is not valid for dtype '|b1' (expected true or false)"],
    [
      f4,
      "1.5",
      "Fill '1.5' is not valid for dtype '<f4' (expected a number, 'nan', 'inf' or '-inf')",
    ],
    [
      f4,
      "-nan",
      "Fill '-nan' is not valid for dtype '<f4' (expected a number, 'nan', 'inf' or '-inf')",
    ],
    [
      f4,
      false,
      "Fill false is not valid for dtype '<f4' (expected a number, 'nan', 'inf' or '-inf')",
    ],
    [
      scalar("<f8"),
      10n ** 400n,
      `Fill ${10n ** 400n} does not fit dtype '<f8' (too large to convert to a float)`,
    ],
    [scalar("<f16"), 2n ** 16384n, `Fill ${2n ** 16384n} does not fit dtype '<f16' (too large)`],
    [
      scalar("<c8"),
      [1, 2, 3],
      "Fill [1,2,3] is not valid for dtype '<c8' (expected a number or [re, im])",
    ],
    [
      scalar("<c8"),
      [1, "x"],
      "Fill 'x' is not valid for dtype '<c8' (expected a number, 'nan', 'inf' or '-inf')",
    ],
    [scalar("|S3"), "abcd", "Fill 'abcd' does not fit dtype '|S3' (4 bytes, at most 3)"],
    [scalar("|S3"), "é", "Fill 'é' is not valid for dtype '|S3' (only ASCII characters)"],
    [scalar("|S3"), 5, "Fill 5 is not valid for dtype '|S3' (expected a string)"],
    [scalar("<U2"), "😀😀😀", "Fill '😀😀😀' does not fit dtype '<U2' (3 characters, at most 2)"],
    [scalar("<U2"), ["a"], `Fill ["a"] is not valid for dtype '<U2' (expected a string)`],
    [scalar("|V4"), 1, "Fill 1 is not valid for dtype '|V4' (void takes only zeros)"],
    [scalar("|V4"), "ab", "Fill 'ab' is not valid for dtype '|V4' (void takes only zeros)"],
    [
      scalar("<M8[D]"),
      "2024-01-01T12:00",
      "Datetime '2024-01-01T12:00' is not a whole number of datetime64[D] (NumPy would truncate it)",
    ],
    [
      scalar("<M8[D]"),
      "now",
      "Datetime 'now' depends on when the file is written; write the date out",
    ],
    [
      scalar("<M8[D]"),
      -(2n ** 63n),
      "Fill -9223372036854775808 does not fit dtype '<M8[D]' (-9223372036854775807 to 9223372036854775807)",
    ],
    [
      scalar("<M8[D]"),
      true,
      "Fill true is not valid for dtype '<M8[D]' (expected an ISO 8601 string, 'NaT' or an integer count)",
    ],
    [scalar("<M8"), 5, "Fill 5 is not valid for dtype '<M8' (a generic unit holds only 'NaT')"],
    [
      scalar("<M8"),
      "2024",
      "Datetime '2024' needs a unit: generic datetime64 holds only NaT",
    ],
    [
      scalar("<m8[s]"),
      "1 day",
      "Fill '1 day' is not valid for dtype '<m8[s]' (expected an integer count of the unit or 'NaT')",
    ],
    [
      scalar("<m8[s]"),
      2n ** 63n,
      "Fill 9223372036854775808 does not fit dtype '<m8[s]' (-9223372036854775807 to 9223372036854775807)",
    ],
    [scalar("<m8[s]"), 0.5, "Fill 0.5 does not fit dtype '<m8[s]' (not an integer)"],
    [
      structured,
      5,
      "Fill 5 is not valid for a structured dtype (expected a mapping of field names)",
    ],
    [
      structured,
      [1],
      "Fill [1] is not valid for a structured dtype (expected a mapping of field names)",
    ],
    [structured, { x: 1 }, "Fill names unknown field 'x' (fields there: 'a', 'd', 'v')"],
    [structured, { a: { z: 1 } }, "Fill names unknown field 'a.z' (fields there: 'b', 'c')"],
    [
      structured,
      { a: { b: 40000 } },
      "Fill for field 'a.b': 40000 does not fit dtype '<i2' (-32768 to 32767)",
    ],
    [
      structured,
      { a: { c: [1, 2, 3] } },
      "Fill for field 'a.c': nested list [1,2,3] does not match the field's shape (2,) " +
      "(expected a list of 2 at depth 1, or one value for every item)",
    ],
    [
      structured,
      { a: { c: [1, "x"] } },
      "Fill for field 'a.c': 'x' is not valid for dtype '<f8' (expected a number, 'nan', 'inf' or '-inf')",
    ],
    [
      structured,
      { d: "abc" },
      "Fill for field 'd': 'abc' does not fit dtype '|S2' (3 bytes, at most 2)",
    ],
    [
      structured,
      { v: 1 },
      "Fill for field 'v': 1 is not valid for dtype '|V2' (void takes only zeros)",
    ],
    [
      structured,
      { a: 3 },
      "Fill for field 'a': 3 is not valid for a structured dtype (expected a mapping of field names)",
    ],
    [
      dtypeFromDescr([["t", "<M8[h]"]]),
      { t: "2024-13" },
      "Fill for field 't': month out of range in datetime '2024-13'",
    ],
    [
      dtypeFromDescr([["m", [["n", "<u1", [2, 2]]]]]),
      { m: { n: [[1, 2], 3] } },
      "Fill for field 'm.n': nested list [[1,2],3] does not match the field's shape (2, 2) " +
      "(expected a list of 2 at depth 2, or one value for every item)",
    ],
    [
      dtypeFromDescr([["z", "<c16", [3, 2]]]),
      { z: [[1, 2], [3, 4]] },
      "Fill for field 'z': nested list [[1,2],[3,4]] does not match the field's shape (3, 2) " +
      "(expected a list of 3 at depth 1, or one value for every item: a number or [re, im])",
    ],
  ];
  for (const [dtype, fill, message] of cases) {
    test(message, () => {
      assert.throws(() => encodeFill(dtype, fill), (err: unknown) => {
        assert.ok(err instanceof NpyallocError);
        assert.equal(err.code, "E_FILL");
        assert.equal(err.message, message);
        return true;
      });
    });
  }
});

describe("encodeFill details", () => {
  test("[re, im] on a complex subarray field is one value for every item", () => {
    const pair = dtypeFromDescr([["z", "<c8", [2]]]);
    const both = "00000000" + "0000803f";
    assert.equal(hex(encodeFill(pair, { z: [0, 1] })), both + both);
    // One value per item: a nested list whose innermost entries are [re, im] (or numbers).
    assert.equal(
      hex(encodeFill(pair, { z: [[0, 0], [1, 0]] })),
      "0".repeat(16) + "0000803f00000000",
    );
    assert.equal(hex(encodeFill(pair, { z: [[0, 0], 1] })), "0".repeat(16) + "0000803f00000000");
    // The field of the issue: shape (3, 2), one [re, im] whose real part is null (zero).
    const wide = dtypeFromDescr([["z", "<c8", [3, 2]]]);
    assert.equal(hex(encodeFill(wide, { z: [null, 1] })), both.repeat(6));
    // Any other nested list of the shape gives one number per item: six reals here.
    const reals = encodeFill(wide, { z: [[1, 2], [3, 4], [5, 6]] });
    const view = new DataView(reals.buffer);
    const parts = Array.from({ length: 12 }, (_, i) => view.getFloat32(4 * i, true));
    assert.deepEqual(parts, [1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0]);
    // A nested subarray field takes nested lists of its joined shape (2, 5), or one value.
    const nested = parseDType([["c", ["<f8", [5]], [2]]]);
    const one = encodeFill(nested, { c: 2 });
    const each = encodeFill(nested, { c: [[2, 2, 2, 2, 2], [2, 2, 2, 2, 2]] });
    assert.equal(hex(one), hex(each));
    assert.equal(one.length, 80);
  });

  test("a subarray dtype takes one value for all its items", () => {
    assert.equal(hex(encodeFill(parseDType("(2,)<i2"), 3)), "03000300");
    assert.equal(hex(encodeFill(parseDType("2<c8"), [1, 0])), "0000803f00000000".repeat(2));
  });

  test("every NaN is written as np.nan", () => {
    assert.equal(hex(encodeFill(scalar("<f8"), -NaN)), "000000000000f87f");
    assert.equal(hex(encodeFill(scalar("<f4"), "NAN")), "0000c07f");
    assert.equal(hex(encodeFill(scalar("<f2"), NaN)), "007e");
  });

  test("big-endian longdouble puts the 6 zero padding bytes first", () => {
    assert.equal(hex(encodeFill(scalar(">f16"), 1)), "0000000000003fff8000000000000000");
    assert.equal(hex(encodeFill(scalar("<f16"), 1)), "0000000000000080ff3f000000000000");
  });
});
