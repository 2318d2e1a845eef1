/**
 * Generated fills: seeded, reproducible array content, byte-identical to what NumPy writes for
 * the same expression on x86-64 Linux, streamed in bounded memory.
 *
 * | fill | the values of |
 * | --- | --- |
 * | `{arange: {start, step}}` | `np.arange(start, start + (n + 1) * step, step, dtype)[:n]` |
 * | `{linspace: {start, stop, endpoint}}` | `np.linspace(start, stop, n, endpoint=endpoint, dtype=dtype)` |
 * | `{random: {seed}}` | `rng.random(n, dtype)` (float32/64), else `rng.random(n).astype(dtype)` |
 * | `{uniform: {seed, low, high}}` | `rng.uniform(low, high, n).astype(dtype)` |
 * | `{integers: {seed, low, high, endpoint}}` | `rng.integers(low, high, size=n, dtype=dtype, endpoint=endpoint)` |
 * | `{standard_normal: {seed}}` | `rng.standard_normal(n, dtype)` (float32/64), else `.astype(dtype)` of the float64 draw |
 * | `{normal: {seed, loc, scale}}` | `rng.normal(loc, scale, n).astype(dtype)` |
 *
 * with `rng = np.random.default_rng(seed)`, reshaped to the array's shape in C order and stored in
 * the array's order (order F: `np.asfortranarray`) and byte order.
 *
 * Usage: {@link parseGeneratedFill} reads the manifest's value, {@link checkGeneratedFill} checks it
 * against the array before anything is written, {@link openSource} streams the data bytes.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDType } from "../npy/dtype.ts";
 * import { checkGeneratedFill, openSource, parseGeneratedFill } from "./mod.ts";
 * const dtype = parseDType("<f8");
 * const fill = parseGeneratedFill({ random: { seed: 7n } }, dtype)!;
 * checkGeneratedFill(fill, dtype, [2n, 3n], "C");
 * const math = { exp: Math.exp, log1p: Math.log1p, log1pf: Math.log1p }; // bind libm in real use
 * const source = openSource(fill, dtype, [2n, 3n], "C", math);
 * const out = new Uint8Array(48);
 * assert.equal(source.next(out), 48);
 * // np.random.default_rng(7).random(6)[0] == 0.625095466604667
 * assert.equal(new DataView(out.buffer).getFloat64(0, true), 0.625095466604667);
 * ```
 *
 * ## How it works
 *
 * - Seeding (`seed_sequence.ts`): `SeedSequence` of numpy/random/bit_generator.pyx:
 *   `_coerce_to_uint32_array` (integers of any size split into 32-bit words, lists concatenated),
 *   `mix_entropy` with `hashmix`/`mix`, then `generate_state(4, np.uint64)`.
 * - Bit generator (`pcg64.ts`, `pcg64.wat`): PCG64 of numpy/random/_pcg64.pyx and
 *   src/pcg64/pcg64.h, pcg64.c: `pcg64_set_seed` (`pcg_setseq_128_srandom_r`), the 128-bit LCG
 *   step and XSL RR output, `pcg_advance_lcg_128` for jumps. Draws are computed by a WebAssembly
 *   kernel with the state as two 64-bit halves (no bigint in the hot loop), from four interleaved
 *   lanes so the multiplies overlap. `pcg64_next32` (the low half of a draw first, the high half
 *   kept for the next call) is kept by the callers (`_draws.ts`, `_generators.ts`).
 * - Uniform draws (`_generators.ts`): `next_double` (`(x >> 11) * 2^-53`) and `next_float`
 *   (`(x32 >> 8) * 2^-24`) of distributions.c, as `random_standard_uniform_fill(_f)`;
 *   `random_uniform` is `low + (high - low) * u`, with `Generator.uniform`'s checks of
 *   numpy/random/_generator.pyx (the range must be finite and not negative).
 * - Normal draws (`_ziggurat.ts`): `random_standard_normal(_f)` of distributions.c, the ziggurat
 *   with its tail and wedge, over the tables of ziggurat_constants.h (copied into
 *   `_ziggurat_constants.ts` by scripts/ziggurat_constants.ts). The tail calls `log1p` (`log1pf`
 *   for float32) and the wedge `exp`: these come from the injected {@link MathLib}, the C
 *   library's functions, because a result one ulp off changes the bytes. `random_normal` is
 *   `loc + scale * x` (the scale must not be negative, as `Generator.normal` checks).
 * - Bounded integers (`_generators.ts`): `random_bounded_uint{64,32,16,8}_fill` and
 *   `random_bounded_bool_fill` of distributions.c as `_rand_*` of _bounded_integers.pyx.in calls
 *   them (Lemire's method, `use_masked=False`): a closed range `[off, off + rng]`; no draw for a
 *   range of 0; 32-bit draws for 64-bit types whose range fits 32 bits; the 8- and 16-bit types
 *   and bool from a 32-bit buffer; the full 32- and 64-bit ranges take raw draws.
 * - `arange` (`_resolve.ts`): the length as `_calc_length` of numpy/_core/src/multiarray/ctors.c
 *   computes it on the Python objects (too few values is an error); the first two elements set
 *   from Python objects (`setitem`), the rest as `@NAME@_fill` of arraytypes.c.src does:
 *   `start + i*delta` in the dtype's own arithmetic (float16 through float32, `HALF_fill`;
 *   longdouble emulated exactly in x87 extended precision, `_extended.ts`). datetime64 and
 *   timedelta64 follow `datetime_arange` of datetime.c (with the dtype's byte order honoured:
 *   NumPy stores native bytes there even for a byte-swapped dtype).
 * - `linspace` (`_resolve.ts`): numpy/_core/function_base.py in float64 (`step = delta / div`, or
 *   `/ div * delta` when the step underflows; `+ start`; the endpoint set to `stop`), floored for
 *   integer dtypes, then cast.
 * - Casts (`_encode.ts`): float64 to float32 and float16 round once to nearest even, to
 *   longdouble exactly; integer values that would wrap are refused before anything is written.
 * - Streaming (`source.ts`): order C writes elements one after the other; order F goes through
 *   the file in blocks, each computed by strided runs of C indices along its longest axis. The
 *   generators with a fixed number of draws per element (`arange`, `linspace`, `random`,
 *   `uniform`, and `integers` whose count of values is a power of two, which never rejects) have
 *   random access, which order F and {@link SourceRange} use; the others (`standard_normal`,
 *   `normal`, other `integers`) are sequential only.
 *
 * @module
 */

export {
  type GeneratedFill,
  GENERATOR_DTYPES,
  type GeneratorName,
  GENERATORS,
  parseGeneratedFill,
  type PyNumber,
} from "./fill.ts";
export type { MathLib } from "./math.ts";
export type { Seed } from "./seed_sequence.ts";
export {
  checkGeneratedFill,
  type GeneratedSource,
  MAX_GENERATED_ELEMENTS,
  openSource,
  type SourceRange,
  supportsRange,
} from "./source.ts";
