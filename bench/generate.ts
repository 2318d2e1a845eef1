/**
 * Throughput of the generators alone (no file): MB of output per second for a few fills, next to
 * NumPy generating the same values in chunks of 2^21 elements.
 *
 * Run `deno run -A bench/generate.ts` or `bun bench/generate.ts`. Normal fills use JavaScript's
 * Math here (the speed is the same as with libm; the bytes can differ, see src/generate/math.ts).
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { openSource, parseGeneratedFill } from "../src/generate/mod.ts";
import { parseDType } from "../src/npy/dtype.ts";

const math = {
  exp: Math.exp,
  log1p: Math.log1p,
  log1pf: (x: number) => Math.fround(Math.log1p(x)),
};
const CASES: [string, unknown, string, string][] = [
  ["random f8", { random: { seed: 7n } }, "<f8", "rng.random(k, out=o)"],
  ["random f4", { random: { seed: 7n } }, "<f4", "rng.random(k, np.float32, out=o)"],
  ["uniform f8", { uniform: { seed: 7n, low: -1n, high: 1n } }, "<f8", "rng.uniform(-1, 1, k)"],
  ["standard_normal f8", { standard_normal: { seed: 7n } }, "<f8", "rng.standard_normal(k, out=o)"],
  [
    "integers i8 [0,1000)",
    { integers: { seed: 7n, low: 0n, high: 1000n } },
    "<i8",
    "rng.integers(0, 1000, k)",
  ],
  ["arange f8", { arange: { start: 0n, step: 1n } }, "<f8", "np.arange(0, k, 1.0)"],
];
const BYTES = 1 << 30;
const runtime = "Deno" in globalThis ? "deno" : "bun";
for (const [name, value, descr, numpyExpr] of CASES) {
  const dtype = parseDType(descr);
  const n = BYTES / dtype.itemsize;
  const source = openSource(parseGeneratedFill(value)!, dtype, [BigInt(n)], "C", math);
  const buffer = new Uint8Array(2 << 20);
  const t0 = performance.now();
  while (source.next(buffer) > 0);
  const ours = BYTES / ((performance.now() - t0) / 1000) / 1e6;
  const py = `
import numpy as np, time
rng = np.random.default_rng(7)
k = 2**21
o = np.empty(k, dtype='${descr}')
t = time.perf_counter()
for _ in range(${n} // k):
    ${numpyExpr}
print(${BYTES} / (time.perf_counter() - t) / 1e6)
`;
  const numpy = Number(spawnSync("python3", ["-c", py], { encoding: "utf8" }).stdout);
  console.log(
    `${runtime}  ${name.padEnd(22)} ${ours.toFixed(0).padStart(6)} MB/s   numpy ${
      numpy.toFixed(0).padStart(6)
    } MB/s`,
  );
}
