/**
 * Sources that start and stop inside an array (for splitting one array between writers): the
 * pieces, concatenated, are NumPy's bytes, in orders C and F. And the WebAssembly bytes
 * committed are those the `.wat` source assembles to.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { assemblePcg64 } from "../scripts/pcg64_wasm.ts";
import { PCG64_WASM_BASE64 } from "../src/generate/_pcg64_wasm.ts";
import { openSource, parseGeneratedFill, supportsRange } from "../src/generate/mod.ts";
import { parseDType } from "../src/npy/dtype.ts";
import { caseLabel, type GenCase, numpyDigests } from "./_support/generated.ts";
import { libm } from "./_support/libm.ts";

const cases: GenCase[] = [];
for (const order of ["C", "F"] as const) {
  for (const shape of [[1001], [37, 29], [5, 7, 3, 11]]) {
    cases.push(
      { fill: { random: { seed: 3n } }, dtype: "<f8", shape, order },
      { fill: { random: { seed: 3n } }, dtype: ">f4", shape, order },
      { fill: { random: { seed: 3n } }, dtype: "<f16", shape, order },
      { fill: { uniform: { seed: 4n, low: -1n, high: 1n } }, dtype: "<f2", shape, order },
      { fill: { arange: { start: 0.5, step: 0.25 } }, dtype: "<f4", shape, order },
      { fill: { linspace: { start: -50n, stop: 50n } }, dtype: ">i4", shape, order },
      { fill: { integers: { seed: 5n, low: 0n, high: 2n } }, dtype: "|b1", shape, order },
      { fill: { integers: { seed: 5n, low: -64n, high: 64n } }, dtype: "|i1", shape, order },
      { fill: { integers: { seed: 5n, low: 0n, high: 4096n } }, dtype: "<u2", shape, order },
      { fill: { integers: { seed: 5n, low: 0n, high: 2n ** 20n } }, dtype: "<i8", shape, order },
      { fill: { integers: { seed: 5n, low: 0n, high: 2n ** 50n } }, dtype: ">u8", shape, order },
      {
        fill: { integers: { seed: 5n, low: 9n, high: 9n, endpoint: true } },
        dtype: "<u4",
        shape,
        order,
      },
    );
  }
}

test("pieces of a source from any element on join into NumPy's bytes", () => {
  const expected = numpyDigests(cases);
  for (const [i, c] of cases.entries()) {
    const dtype = parseDType(c.dtype);
    const fill = parseGeneratedFill(c.fill, dtype)!;
    const shape = c.shape.map(BigInt);
    assert.ok(supportsRange(fill, dtype, shape, c.order), caseLabel(c));
    const n = c.shape.reduce((a, b) => a * b, 1);
    const cuts = [0, 1, 2 + (i % 7), Math.floor(n / 3), Math.floor(n / 2) + 1, n - 3, n].sort((
      a,
      b,
    ) => a - b);
    const hash = createHash("sha256");
    const buffer = new Uint8Array(dtype.itemsize * 53);
    for (let k = 0; k + 1 < cuts.length; k++) {
      const source = openSource(fill, dtype, shape, c.order, libm, {
        from: BigInt(cuts[k]!),
        to: BigInt(cuts[k + 1]!),
      });
      let bytes = 0;
      for (let got; (got = source.next(buffer)) > 0;) {
        hash.update(buffer.subarray(0, got));
        bytes += got;
      }
      assert.equal(bytes, (cuts[k + 1]! - cuts[k]!) * dtype.itemsize);
      assert.equal(source.remaining, 0n);
    }
    assert.equal(hash.digest("hex"), expected[i], caseLabel(c));
  }
});

test("the committed WebAssembly is what pcg64.wat assembles to", async () => {
  const bytes = await assemblePcg64();
  assert.equal(btoa(String.fromCharCode(...bytes)), PCG64_WASM_BASE64);
});
