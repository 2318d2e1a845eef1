/**
 * `random_standard_normal` and `random_standard_normal_f` of
 * numpy/random/src/distributions/distributions.c: the ziggurat with its tail and wedge, drawing
 * from {@link Draws} and calling the injected math library where NumPy calls libm.
 *
 * @module
 */

import type { Draws } from "./_draws.ts";
import type { MathLib } from "./math.ts";
import {
  fiDouble,
  fiFloat,
  kiDouble,
  kiFloat,
  wiDouble,
  wiFloat,
  zigguratNorInvR,
  zigguratNorInvRF,
  zigguratNorR,
  zigguratNorRF,
} from "./_ziggurat_constants.ts";

const fround = Math.fround;

/**
 * One standard normal double (`random_standard_normal`).
 *
 * @param d The draws.
 * @param math `exp` and `log1p` as the C library computes them.
 * @returns The value.
 */
export function standardNormal(d: Draws, math: MathLib): number {
  for (;;) {
    d.next64();
    const lo = d.lo;
    const idx = lo & 0xff;
    // r >>= 8; sign = r & 1; rabs = (r >> 1) & 0x000fffffffffffff: bits 9..60 of the draw.
    const rabs = (lo >>> 9) + (d.hi & 0x1fffffff) * 8388608;
    let x = rabs * wiDouble[idx]!;
    if ((lo >>> 8) & 1) x = -x;
    if (rabs < kiDouble[idx]!) return x;
    if (idx === 0) {
      for (;;) {
        const xx = -zigguratNorInvR * math.log1p(-d.nextDouble());
        const yy = -math.log1p(-d.nextDouble());
        if (yy + yy > xx * xx) {
          return (lo >>> 17) & 1 ? -(zigguratNorR + xx) : zigguratNorR + xx;
        }
      }
    }
    if (
      (fiDouble[idx - 1]! - fiDouble[idx]!) * d.nextDouble() + fiDouble[idx]! <
        math.exp(-0.5 * x * x)
    ) {
      return x;
    }
  }
}

/**
 * One standard normal float32 (`random_standard_normal_f`), as a number.
 *
 * @param d The draws.
 * @param math `log1pf` (float32) and `exp` (double, as NumPy's wedge test uses).
 * @returns The value, exactly a float32.
 */
export function standardNormalF(d: Draws, math: MathLib): number {
  for (;;) {
    const r = d.next32();
    const idx = r & 0xff;
    const rabs = (r >>> 9) & 0x7fffff;
    let x = fround(rabs * wiFloat[idx]!);
    if ((r >>> 8) & 1) x = -x;
    if (rabs < kiFloat[idx]!) return x;
    if (idx === 0) {
      for (;;) {
        const xx = fround(-zigguratNorInvRF * math.log1pf(-d.nextFloat()));
        const yy = -math.log1pf(-d.nextFloat());
        if (fround(yy + yy) > fround(xx * xx)) {
          return (rabs >>> 8) & 1 ? -fround(zigguratNorRF + xx) : fround(zigguratNorRF + xx);
        }
      }
    }
    // The comparison is in float promoted to double; exp is the double one.
    const f = fround(
      fround(fround(fiFloat[idx - 1]! - fiFloat[idx]!) * d.nextFloat()) + fiFloat[idx]!,
    );
    if (f < math.exp(-0.5 * x * x)) return x;
  }
}
