/**
 * The normal generators need the C library's `exp`, `log1p` and `log1pf`: with JavaScript's
 * `Math` the bytes differ from NumPy's, with glibc's libm (bound through FFI) they do not. And
 * one long float64 `random` stream does not drift from NumPy's.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { openSource } from "../src/generate/mod.ts";
import { parseDType } from "../src/npy/dtype.ts";
import { type GenCase, numpyDigests, ourDigest } from "./_support/generated.ts";
import { jsMath, libm } from "./_support/libm.ts";
import { runPython } from "./_support/numpy.ts";

const MILLION = 1_000_000;
// Seeds whose first million draws reach the tail, where libm and Math.log1p/log1pf part.
const f32: GenCase = {
  fill: { standard_normal: { seed: 4n } },
  dtype: "<f4",
  shape: [MILLION],
  order: "C",
};
const f64: GenCase = {
  fill: { standard_normal: { seed: 0n } },
  dtype: "<f8",
  shape: [MILLION],
  order: "C",
};
const scaled: GenCase = {
  fill: { normal: { seed: 0n, loc: 2n, scale: 3n } },
  dtype: "<f2",
  shape: [MILLION],
  order: "C",
};

test("standard_normal needs libm: JavaScript's Math gives other bytes", () => {
  const [numpyF32, numpyF64, numpyScaled] = numpyDigests([f32, f64, scaled]);
  assert.equal(ourDigest(f32, libm, 1 << 20).hex, numpyF32);
  assert.equal(ourDigest(f64, libm, 1 << 20).hex, numpyF64);
  assert.equal(ourDigest(scaled, libm, 1 << 20).hex, numpyScaled);
  // float32: rounding Math.log1p to float32 is not glibc's log1pf, on every runtime.
  assert.notEqual(ourDigest(f32, jsMath, 1 << 20).hex, numpyF32);
  // float64: V8 (Deno, Node.js) has its own log1p; JavaScriptCore (Bun) calls the C library's.
  const v8 = (globalThis as { Bun?: unknown }).Bun === undefined;
  const withMath = ourDigest(f64, jsMath, 1 << 20).hex;
  if (v8) assert.notEqual(withMath, numpyF64);
  else assert.equal(withMath, numpyF64);
});

test("10^8 float64 random values hash to NumPy's (no drift)", () => {
  const n = 100_000_000;
  const theirs = runPython(`
import hashlib
rng = np.random.default_rng(7)
h = hashlib.sha256()
left = ${n}
while left:
    k = min(left, 2**21)
    h.update(rng.random(k).tobytes())
    left -= k
print(h.hexdigest())
`).trim();
  const source = openSource(
    { kind: "random", seed: 7n },
    parseDType("<f8"),
    [BigInt(n)],
    "C",
    libm,
  );
  const hash = createHash("sha256");
  const buffer = new Uint8Array(3 << 20);
  let bytes = 0;
  for (let k; (k = source.next(buffer)) > 0;) {
    hash.update(buffer.subarray(0, k));
    bytes += k;
  }
  assert.equal(bytes, n * 8);
  assert.equal(hash.digest("hex"), theirs);
});
