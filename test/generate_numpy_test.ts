/**
 * Generated fills against NumPy itself: for every generator, every dtype it takes, both byte
 * orders, many seeds, shapes from 0-d to 5-d in orders C and F, the streamed bytes equal those
 * `np.save` writes for the fill's NumPy expression, whatever the buffer size.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDType } from "../src/npy/dtype.ts";
import { caseLabel, type GenCase, numpyDigests, ourDigest } from "./_support/generated.ts";
import { libm } from "./_support/libm.ts";

const SEEDS: unknown[] = [
  0n,
  1n,
  42n,
  2n ** 32n,
  2n ** 64n + 5n,
  2n ** 130n + 7n,
  [1n, 2n, 3n],
  "12345",
];
const FLOATS = ["<f2", ">f2", "<f4", ">f4", "<f8", ">f8", "<f16", ">f16"];
const INTS = ["|i1", "|u1", "<i2", ">u2", "<i4", ">u4", "<i8", ">i8", "<u8", ">u8"];
const SHAPES: number[][] = [[], [0], [1], [7], [3, 5], [4, 1, 6], [2, 3, 4, 5], [2, 1, 3, 2, 5], [
  5,
  0,
  3,
], [33, 7]];

const cases: GenCase[] = [];
const add = (
  fill: GenCase["fill"],
  dtype: string,
  shape: readonly number[],
  order: "C" | "F" = "C",
) => cases.push({ fill, dtype, shape, order });

// random, uniform, standard_normal, normal: every float dtype and seed.
for (const dtype of FLOATS) {
  for (const [i, seed] of SEEDS.entries()) {
    const shape = SHAPES[i % SHAPES.length]!;
    add({ random: { seed } }, dtype, [1001]);
    add({ random: { seed } }, dtype, shape, "F");
    add({ uniform: { seed, low: -2.5, high: 7 } }, dtype, [999]);
    add({ standard_normal: { seed } }, dtype, [2001]);
    add({ normal: { seed, loc: -3, scale: 0.25 } }, dtype, [1003]);
  }
}
for (const shape of SHAPES) {
  for (const order of ["C", "F"] as const) {
    add({ random: { seed: 7n } }, "<f8", shape, order);
    add({ random: { seed: 7n } }, "<f4", shape, order);
    add({ uniform: { seed: 8n, low: 1e-3, high: 2n } }, ">f4", shape, order);
    add({ arange: { start: -7n, step: 3n } }, "<i8", shape, order);
    add({ arange: { start: 0.25, step: -0.125 } }, "<f4", shape, order);
    add({ linspace: { start: -1n, stop: 2.5 } }, "<f8", shape, order);
    add({ linspace: { start: 0n, stop: 60n, endpoint: false } }, "|u1", shape, order);
    add({ integers: { seed: 3n, low: 0n, high: 2n } }, "|b1", shape, order);
    add({ integers: { seed: 3n, low: -8n, high: 8n } }, "|i1", shape, order);
    add({ integers: { seed: 3n, low: 0n, high: 2n ** 40n } }, "<u8", shape, order);
  }
  add({ standard_normal: { seed: 9n } }, "<f8", shape);
  add({ integers: { seed: 9n, low: 0n, high: 1000n } }, "<i4", shape);
}
// Larger F-order arrays: tall, wide, odd strides (float32 and bools take parts of draws).
for (const shape of [[1001, 3], [3, 1001], [257, 9, 5], [2, 40000], [40000, 2], [6, 7, 8, 9, 10]]) {
  add({ random: { seed: 11n } }, "<f4", shape, "F");
  add({ random: { seed: 11n } }, ">f8", shape, "F");
  add({ integers: { seed: 11n, low: 0n, high: 2n } }, "|b1", shape, "F");
  add({ integers: { seed: 11n, low: -32768n, high: 32767n, endpoint: true } }, "<i2", shape, "F");
  add({ arange: { start: 1.5, step: 0.1 } }, "<f2", shape, "F");
}

// integers: ranges 1, 2, 255, 256, 2^32, full int64/uint64, endpoint both ways, negative lows.
const RANGES: [bigint, bigint][] = [
  [0n, 1n],
  [5n, 7n],
  [-100n, 155n],
  [0n, 256n],
  [-3n, 2n ** 32n - 3n],
  [0n, 2n ** 32n - 1n],
  [7n, 2n ** 33n + 12345n],
  [0n, 10n ** 18n],
];
for (const dtype of INTS) {
  const t = parseDType(dtype);
  const bits = BigInt(t.itemsize * 8);
  const min = t.kind === "i" ? -(1n << (bits - 1n)) : 0n;
  const max = t.kind === "i" ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  for (const [i, seed] of SEEDS.entries()) {
    add({ integers: { seed, low: min, high: max, endpoint: true } }, dtype, [1001]);
    add({ integers: { seed, low: min, high: max } }, dtype, [1001]);
    for (const [low, high] of RANGES.slice(i % 3, (i % 3) + 6)) {
      const lo = t.kind === "u" ? low < 0n ? -low : low : low;
      const width = high - low;
      if (lo + width > max) continue;
      add({ integers: { seed, low: lo, high: lo + width } }, dtype, [1003]);
      add({ integers: { seed, low: lo, high: lo + width - 1n, endpoint: true } }, dtype, [517]);
    }
  }
  add({ integers: { seed: 1n, low: min + 1n, high: min + 2n } }, dtype, [100]);
  add({ arange: { start: max - 99n, step: 1n } }, dtype, [100]);
  add({ arange: { start: max, step: -3n } }, dtype, [40], "F");
  add({ arange: { start: min, step: 7n } }, dtype, [6, 6], "F");
  // float64 holds neither end of the 64-bit ranges: 2^62 is as far as linspace goes there.
  const [lmin, lmax] = t.itemsize === 8
    ? [t.kind === "i" ? -(2n ** 62n) : 0n, 2n ** 62n]
    : [min, max];
  add({ linspace: { start: lmin, stop: lmax } }, dtype, [1, 255]);
  add({ linspace: { start: lmax, stop: lmin, endpoint: false } }, dtype, [97]);
  add({ linspace: { start: 3n, stop: 3n } }, dtype, [5]);
}
for (const seed of SEEDS) {
  add({ integers: { seed, low: 0n, high: 2n } }, "|b1", [1001]);
  add({ integers: { seed, low: 0n, high: 1n, endpoint: true } }, "|b1", [77]);
  add({ integers: { seed, low: 1n, high: 2n } }, "|b1", [9]);
}

// arange: fractional steps in float32 and float16, negative steps, datetimes, timedeltas.
for (const dtype of FLOATS) {
  add({ arange: { start: 0.1, step: 0.3 } }, dtype, [1001]);
  add({ arange: { start: 10n, step: -0.7 } }, dtype, [333]);
  add({ arange: { start: -1e4, step: 3n } }, dtype, [2, 3, 4]);
  add({ arange: { start: 65000n, step: 17n } }, dtype, [50]);
  add({ arange: { start: 2n ** 70n + 1n, step: 3n } }, dtype, [5]);
  add({ linspace: { start: 0n, stop: 1n } }, dtype, [1001]);
  add({ linspace: { start: -2.5, stop: 1e5, endpoint: false } }, dtype, [999]);
  add({ linspace: { start: 1n, stop: 5n } }, dtype, [1]);
  add({ linspace: { start: 1n, stop: 5n, endpoint: false } }, dtype, [1]);
  add({ linspace: { start: 0n, stop: 1e-320 } }, dtype, [9]);
}
for (
  const [dtype, start, before] of [
    ["<M8[D]", "2024-02-28", "1969-12-31"],
    [">M8[s]", "2024-02-28T23:59:58", "1969-12-31T23:00"],
    ["<M8[10ms]", "2024-02-28T00:00:00.01", "1900-01-01"],
    ["<M8[M]", "2024-02", "1969-11"],
    ["<M8[ns]", "2262-04-11T23:47:16", "1677-09-22"],
  ]
) {
  add({ arange: { start, step: 1n } }, dtype!, [400]);
  add({ arange: { start: before, step: -7n } }, dtype!, [5, 4], "F");
}
for (const dtype of ["<m8[h]", ">m8[ns]", "<m8[10s]"]) {
  add({ arange: { start: -50n, step: 3n } }, dtype, [300]);
}

test(`${cases.length} generated fills are byte-identical to NumPy in any buffer size`, () => {
  const expected = numpyDigests(cases);
  let checked = 0;
  for (const [i, c] of cases.entries()) {
    const itemsize = parseDType(c.dtype).itemsize;
    const chunks = i % 5 === 0 ? [itemsize, itemsize * 37, 1 << 20] : [itemsize * (1 + (i % 13))];
    for (const chunk of chunks) {
      let ours;
      try {
        ours = ourDigest(c, libm, chunk);
      } catch (err) {
        throw new Error(`${caseLabel(c)}: ${err}`);
      }
      assert.equal(ours.hex, expected[i], `${caseLabel(c)} read ${chunk} bytes at a time`);
      checked++;
    }
  }
  assert.ok(checked >= cases.length);
});
