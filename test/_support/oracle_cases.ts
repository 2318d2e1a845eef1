/**
 * A broad matrix of arrays, each written both by npyalloc and by NumPy, for
 * byte-for-byte comparison: every dtype family, both byte orders, 0-d,
 * zero-size and 5-d shapes, both orders, edge fills, header versions 1 to 3.
 */

/** A fill in JSON: integers beyond 2^53 are `{ "int": "digits" }`. */
export type JsonFill = null | boolean | number | string | { int: string } | JsonFill[] | {
  [k: string]: JsonFill;
};

/** One case of the matrix. */
export interface OracleCase {
  dtype: string | unknown[];
  shape: number[];
  order: "C" | "F";
  fill?: JsonFill;
  headerVersion?: "1.0" | "2.0" | "3.0";
}

const SHAPES: number[][] = [[], [0], [3], [2, 3], [3, 1], [0, 4], [2, 1, 3, 1, 2], [7, 5]];

function big(n: bigint): JsonFill {
  return { int: n.toString() };
}

/** Fills worth trying per dtype, the first always zero-ish (omitted). */
const FAMILIES: [string[], JsonFill[]][] = [
  [["?", "bool"], [true, false]],
  [["|i1", "int8"], [-128, 127, -1]],
  [["|u1", "B"], [255, 1]],
  [["<i2", ">i2", "short"], [-32768, 32767, 258]],
  [["<u2", ">u2"], [65535, 258]],
  [["<i4", ">i4", "intc"], [-2147483648, 2147483647, 16909060]],
  [["<u4", ">u4"], [4294967295, 16909060]],
  [["<i8", ">i8", "int64"], [big(-(2n ** 63n)), big(2n ** 63n - 1n), big(72623859790382856n), -1]],
  [["<u8", ">u8", "uint64"], [big(2n ** 64n - 1n), big(2n ** 53n + 1n)]],
  [["<f2", ">f2", "half"], [1.5, 65504, 1e-7, -0.0, "nan", "-inf", 0.1, 1 + 2 ** -11, 70000]],
  [["<f4", ">f4", "single"], [1.5, 3.4028234663852886e38, 1e-45, "inf", "nan", 0.1, -0.0]],
  [["<f8", ">f8", "double"], [1.5, 5e-324, 1.7976931348623157e308, "nan", "-inf", 0.1, -0.0]],
  [["<f16", ">f16", "longdouble"], [1.5, "nan", "inf", 5e-324, -1e300, 0.1]],
  [["<c8", ">c8"], [[1.5, -2.5], ["nan", "inf"], 3]],
  [["<c16", ">c16", "complex"], [[1e300, -0.0], [0.1, 0.2]]],
  [["<c32", ">c32"], [[1.5, -2.5], ["nan", 0]]],
  [["|S1", "S5", "c"], ["a", ""]],
  [["S5"], ["hello", "hi"]],
  [["<U3", ">U3", "U1"], ["a", "\u00e9", "\u{1F600}"]],
  [["<U3", ">U3"], ["ab\u{1F600}", "\u4e2d\u6587"]],
  [["V4", "V16"], []],
  [["<M8[D]", ">M8[D]", "M8[us]"], ["2024-02-29", "1969-12-31", "NaT", "1600-03-01"]],
  [["<M8[ns]"], ["2024-02-29T12:34:56.123456789", "NaT", "1677-09-22T00:12:43.145224193"]],
  [["M8[Y]", "M8[M]"], ["2024-01-01", "1970-01-01", "NaT"]],
  [["M8[W]", ">M8[2W]"], ["1970-01-15", "2024-01-04", "NaT"]],
  [["M8[h]", "M8[m]", "M8[s]", "M8[ms]", "M8[10ms]"], ["1970-01-01T01:00", "NaT", "1900-03-01T00"]],
  [["M8[ps]", "M8[fs]", "M8[as]"], ["1970-01-01T00:00:01.5", "1969-12-31T23:59:59"]],
  [["<m8[s]", ">m8[10ms]", "m8[W]"], [big(-5n), "NaT", 86400]],
  [["m8", "M8"], ["NaT"]],
];

const STRUCTS: [unknown[], JsonFill[]][] = [
  [[["a", "<i4"], ["b", "<f8", [2]]], [{ a: 7, b: 1.5 }, { b: [1.5, -2] }]],
  [[["x", ">u2"], ["", "|V3"], ["y", "|S2"]], [{ x: 513, y: "hi" }]],
  [[["p", [["q", "<f4"], ["r", "<M8[s]"]], [2]], ["t", "?"]], [{
    p: { q: 2.5, r: "2000-01-01T00:00:01" },
    t: true,
  }]],
  [[[["Title", "n"], "<i2"], ["caf\u00e9", "<U2"]], [{ n: -2, "caf\u00e9": "\u00e9\u00e9" }]],
  [[["ld", "<f16"], ["c", ">c8"]], [{ ld: 1.5, c: [1, 2] }]],
  [["i4, (2,3)f8"], [{ f0: 1, f1: 0.5 }]],
];

/** The whole matrix. */
export function oracleCases(): OracleCase[] {
  const cases: OracleCase[] = [];
  let turn = 0;
  const next = () => SHAPES[turn++ % SHAPES.length]!;
  for (const [dtypes, fills] of FAMILIES) {
    for (const dtype of dtypes) {
      for (const fill of [undefined, ...fills]) {
        const shape = next();
        const order = turn % 3 === 0 ? "F" : "C";
        cases.push(fill === undefined ? { dtype, shape, order } : { dtype, shape, order, fill });
      }
    }
  }
  for (const [dtype, fills] of STRUCTS) {
    const list = dtype.length === 1 && typeof dtype[0] === "string" ? dtype[0] : dtype;
    for (const fill of [undefined, ...fills]) {
      const shape = next();
      cases.push(
        fill === undefined
          ? { dtype: list, shape, order: "C" }
          : { dtype: list, shape, order: "F", fill },
      );
    }
  }
  // Shapes on the growth axis of both orders, and headers in every version.
  for (const shape of [[123456789012, 0], [0, 2 ** 40], [1, 2, 3, 4, 5], [5, 4, 3, 2, 1]]) {
    for (const order of ["C", "F"] as const) cases.push({ dtype: "<f8", shape, order });
  }
  for (const headerVersion of ["1.0", "2.0", "3.0"] as const) {
    cases.push({ dtype: "<i4", shape: [3, 2], order: "C", fill: 5, headerVersion });
    cases.push({
      dtype: [["\u00e9t\u00e9", "<i4"]],
      shape: [2],
      order: "C",
      headerVersion: headerVersion === "1.0" ? "2.0" : headerVersion,
    });
  }
  cases.push({ dtype: [["\u4e2d", "<i4"]], shape: [2], order: "C", fill: { "\u4e2d": 3 } });
  const wide = Array.from({ length: 3000 }, (_, i) => [`field_${i}`, "<u1"]);
  cases.push({ dtype: wide, shape: [2], order: "C" });
  return cases;
}
