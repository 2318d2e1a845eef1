/**
 * Every error a generated fill can raise: one line, code E_FILL, with the value quoted and a
 * "did you mean" for near misses; and the values that are plain fills, not generated ones.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { NpyallocError } from "../src/errors.ts";
import {
  checkGeneratedFill,
  openSource,
  parseGeneratedFill,
  supportsRange,
} from "../src/generate/mod.ts";
import { parseDType } from "../src/npy/dtype.ts";
import { jsMath } from "./_support/libm.ts";

function fillError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof NpyallocError, `not an NpyallocError: ${err}`);
    assert.equal(err.code, "E_FILL");
    assert.ok(!err.message.includes("\n") && !err.message.endsWith("."), err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

function check(fill: unknown, dtype: string, shape: number[], order: "C" | "F" = "C"): void {
  const dt = parseDType(dtype);
  const parsed = parseGeneratedFill(fill, dt);
  assert.ok(parsed !== null);
  checkGeneratedFill(parsed, dt, shape.map(BigInt), order);
}

test("plain fill values are not generated fills", () => {
  for (const value of [0, 1.5, 7n, "nan", true, [1, 2], null, { a: 1n, b: 2n }]) {
    assert.equal(parseGeneratedFill(value), null);
  }
  const struct = parseDType([["random", "<f8"], ["b", "<i4"]]);
  assert.equal(parseGeneratedFill({ random: { seed: 1n } }, struct), null);
  assert.equal(parseGeneratedFill({ arnage: { x: 1n } }, struct), null);
});

test("unknown generators and parameters, with did you mean", () => {
  fillError(
    () => parseGeneratedFill({ arnage: { start: 0n } }),
    /Unknown generated fill 'arnage' \(did you mean 'arange'\?\)/,
  );
  fillError(
    () => parseGeneratedFill({ standard_nromal: { seed: 1n } }),
    /did you mean 'standard_normal'/,
  );
  fillError(
    () => parseGeneratedFill({ random: { sed: 1n } }),
    /Unknown parameter 'sed' of fill 'random' \(did you mean 'seed'\?\)/,
  );
  fillError(
    () => parseGeneratedFill({ random: { seed: 1n, low: 0n } }),
    /Unknown parameter 'low' of fill 'random'; it takes seed/,
  );
  fillError(
    () => parseGeneratedFill({ random: 5n }),
    /Fill 'random' must be a mapping of its parameters, got 5/,
  );
});

test("missing and malformed parameters", () => {
  fillError(() => parseGeneratedFill({ random: {} }), /Fill 'random' needs 'seed'/);
  fillError(() => parseGeneratedFill({ normal: { loc: 1n } }), /Fill 'normal' needs 'seed'/);
  fillError(() => parseGeneratedFill({ integers: { seed: 1n, low: 0n } }), /needs 'high'/);
  fillError(() => parseGeneratedFill({ arange: { step: 1n } }), /needs 'start'/);
  fillError(
    () => parseGeneratedFill({ random: { seed: -1n } }),
    /seed must be a non-negative integer, got -1/,
  );
  fillError(
    () => parseGeneratedFill({ random: { seed: 1.5 } }),
    /seed must be a non-negative integer or a list of them, got 1.5/,
  );
  fillError(() => parseGeneratedFill({ random: { seed: "x1" } }), /got 'x1'/);
  fillError(
    () => parseGeneratedFill({ random: { seed: [1n, -2n] } }),
    /seed\[1\] must be a non-negative integer/,
  );
  fillError(
    () => parseGeneratedFill({ linspace: { start: 0n, stop: 1n, endpoint: "yes" } }),
    /endpoint must be true or false/,
  );
  fillError(
    () => parseGeneratedFill({ uniform: { seed: 1n, low: NaN } }),
    /low must be a finite number, got nan/,
  );
  fillError(
    () => parseGeneratedFill({ normal: { seed: 1n, scale: "wide" } }),
    /scale must be a number, got 'wide'/,
  );
  fillError(
    () => parseGeneratedFill({ integers: { seed: 1n, low: 0.5, high: 3n } }),
    /low must be an integer/,
  );
  // Strings that interpolated to numbers are numbers; decimal strings are seeds.
  assert.deepEqual(parseGeneratedFill({ random: { seed: "2" } }), { kind: "random", seed: 2n });
  assert.deepEqual(parseGeneratedFill({ uniform: { seed: [1n, "2"], low: "-1", high: "2.5" } }), {
    kind: "uniform",
    seed: [1n, 2n],
    low: -1n,
    high: 2.5,
  });
});

test("dtypes a generator does not take", () => {
  fillError(
    () => check({ random: { seed: 1n } }, "complex64", [3]),
    /Fill 'random' cannot fill dtype '<c8': it takes float dtypes/,
  );
  fillError(() => check({ random: { seed: 1n } }, "int32", [3]), /cannot fill dtype '<i4'/);
  fillError(
    () => check({ arange: { start: 0n } }, "S10", [3]),
    /'arange' cannot fill dtype '\|S10'/,
  );
  fillError(
    () => check({ arange: { start: 0n } }, "bool", [3]),
    /'arange' cannot fill dtype '\|b1'/,
  );
  fillError(
    () => check({ linspace: { start: 0n, stop: 1n } }, "V8", [3]),
    /cannot fill dtype '\|V8'/,
  );
  fillError(
    () => check({ linspace: { start: 0n, stop: 1n } }, "M8[D]", [3]),
    /cannot fill dtype '<M8\[D\]'/,
  );
  fillError(
    () => check({ integers: { seed: 1n, low: 0n, high: 2n } }, "float32", [3]),
    /it takes bool or integer dtypes/,
  );
  fillError(() => check({ normal: { seed: 1n } }, "U3", [3]), /cannot fill dtype '<U3'/);
  fillError(() => check({ arange: { start: "2020-01-01" } }, "datetime64", [3]), /give the unit/);
  const struct = parseDType([["a", "<f8"]]);
  fillError(
    () => checkGeneratedFill({ kind: "random", seed: 1n }, struct, [3n], "C"),
    /cannot fill dtype structured/,
  );
});

test("integers: bounds and empty ranges", () => {
  check({ integers: { seed: 1n, low: 5n, high: 5n, endpoint: true } }, "int8", [3]);
  check({ integers: { seed: 1n, low: 0n, high: 256n } }, "uint8", [3]);
  check({ integers: { seed: 1n, low: -(2n ** 63n), high: 2n ** 63n } }, "int64", [3]);
  fillError(
    () => check({ integers: { seed: 1n, low: 5n, high: 5n } }, "int8", [3]),
    /needs low < high, got low 5 and high 5/,
  );
  fillError(
    () => check({ integers: { seed: 1n, low: 5n, high: 4n, endpoint: true } }, "int8", [3]),
    /needs low <= high, got low 5 and high 4/,
  );
  fillError(
    () => check({ integers: { seed: 1n, low: -129n, high: 0n } }, "int8", [3]),
    /low -129 is out of bounds for dtype '\|i1'/,
  );
  fillError(
    () => check({ integers: { seed: 1n, low: 0n, high: 257n } }, "uint8", [3]),
    /high 257 is out of bounds for dtype '\|u1'/,
  );
  fillError(
    () => check({ integers: { seed: 1n, low: 0n, high: 256n, endpoint: true } }, "uint8", [3]),
    /out of bounds/,
  );
  fillError(
    () => check({ integers: { seed: 1n, low: 0n, high: 3n } }, "bool", [3]),
    /high 3 is out of bounds/,
  );
  fillError(
    () => check({ integers: { seed: 1n, low: -1n, high: 2n ** 64n } }, "uint64", [3]),
    /low -1 is out of bounds/,
  );
});

test("arange and linspace values that would wrap, exactly at 64 bits", () => {
  fillError(
    () => check({ arange: { start: 120n, step: 1n } }, "int8", [10]),
    /value 129 does not fit dtype '\|i1' \(-128 to 127; NumPy would wrap\)/,
  );
  check({ arange: { start: 2n ** 64n - 10n, step: 1n } }, "uint64", [10]);
  fillError(
    () => check({ arange: { start: 2n ** 64n - 10n, step: 1n } }, "uint64", [11]),
    /value 18446744073709551616 does not fit/,
  );
  check({ arange: { start: 2n ** 63n - 1n, step: -1n } }, ">i8", [3]);
  fillError(
    () => check({ arange: { start: -(2n ** 63n), step: -1n } }, "int64", [2]),
    /does not fit/,
  );
  fillError(
    () => check({ arange: { start: 0n, step: 0n } }, "int16", [2]),
    /step must not be zero/,
  );
  fillError(
    () => check({ arange: { start: 0.5, step: 0n } }, "float32", [2]),
    /step must not be zero/,
  );
  fillError(
    () => check({ arange: { start: 0.5, step: 1n } }, "int16", [2]),
    /must be integers for dtype '<i2'/,
  );
  fillError(
    () => check({ arange: { start: 1e20, step: 1.0 } }, "float64", [10]),
    /gives only 0 values for 10 elements/,
  );
  fillError(
    () => check({ linspace: { start: 0n, stop: 300n } }, "uint8", [4]),
    /value 300 does not fit dtype '\|u1'/,
  );
  fillError(
    () => check({ linspace: { start: -1n, stop: 3n } }, "uint32", [4]),
    /value -1 does not fit/,
  );
  fillError(
    () => check({ linspace: { start: 0n, stop: 2n ** 63n } }, "int64", [4]),
    /does not fit dtype '<i8'/,
  );
  check({ linspace: { start: 0n, stop: 2n ** 63n } }, "uint64", [4]);
  fillError(() => check({ arange: { start: "NaT" } }, "M8[s]", [2]), /cannot start at NaT/);
  fillError(
    () => check({ arange: { start: "2020-01-01", step: 1.5 } }, "M8[D]", [2]),
    /step must be an integer count/,
  );
  fillError(
    () => check({ arange: { start: 5n } }, "M8[D]", [2]),
    /must be an ISO 8601 date string/,
  );
  fillError(
    () => check({ arange: { start: "2020-01-01T12" } }, "M8[D]", [2]),
    /not a whole number/,
  );
  fillError(
    () => check({ arange: { start: 2n ** 62n, step: 2n ** 61n } }, "m8[s]", [2]),
    /leave the range/,
  );
});

test("uniform and normal parameters NumPy refuses", () => {
  fillError(
    () => check({ uniform: { seed: 1n, low: 2n, high: 1n } }, "float64", [3]),
    /needs low <= high, got low 2 and high 1/,
  );
  fillError(
    () => check({ uniform: { seed: 1n, low: -1.7e308, high: 1.7e308 } }, "float64", [3]),
    /exceeds the double range/,
  );
  fillError(
    () => check({ normal: { seed: 1n, scale: -1n } }, "float64", [3]),
    /scale must not be negative, got -1/,
  );
  fillError(
    () => check({ normal: { seed: 1n, scale: -0 } }, "float64", [3]),
    /must not be negative/,
  );
  check({ uniform: { seed: 1n, low: 3n, high: 3n } }, "float32", [3]);
});

test("order F where a generator refuses it", () => {
  fillError(
    () => check({ standard_normal: { seed: 1n } }, "float64", [3, 4], "F"),
    /Fill 'standard_normal' does not support order F; use order C/,
  );
  fillError(
    () => check({ normal: { seed: 1n } }, "float32", [2, 1, 2], "F"),
    /'normal' does not support order F/,
  );
  fillError(
    () => check({ integers: { seed: 1n, low: 0n, high: 10n } }, "int32", [3, 4], "F"),
    /only when the count of possible values is a power of two, got 10/,
  );
  check({ integers: { seed: 1n, low: -4n, high: 4n } }, "int32", [3, 4], "F");
  check({ integers: { seed: 1n, low: 3n, high: 3n, endpoint: true } }, "int32", [3, 4], "F");
  check({ standard_normal: { seed: 1n } }, "float64", [1, 7, 1], "F");
});

test("too many elements, and ranges a source does not support", () => {
  fillError(
    () => check({ random: { seed: 1n } }, "float64", [2 ** 27, 2 ** 27]),
    /at most 2\^53 elements/,
  );
  const f8 = parseDType("float64");
  const normal = parseGeneratedFill({ standard_normal: { seed: 1n } })!;
  assert.equal(supportsRange(normal, f8, [10n], "C"), false);
  assert.throws(() => openSource(normal, f8, [10n], "C", jsMath, { from: 1n }), RangeError);
  const random = parseGeneratedFill({ random: { seed: 1n } })!;
  assert.equal(supportsRange(random, f8, [10n], "C"), true);
  assert.throws(
    () => openSource(random, f8, [10n], "C", jsMath, { from: 5n, to: 11n }),
    RangeError,
  );
  assert.throws(
    () => openSource(random, f8, [10n], "C", jsMath).next(new Uint8Array(7)),
    RangeError,
  );
});
