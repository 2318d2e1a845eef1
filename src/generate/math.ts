/**
 * The math functions NumPy's normal generators take from the C library.
 *
 * @module
 */

/**
 * `exp`, `log1p` and `log1pf` exactly as the platform's C library (glibc's libm on Linux)
 * computes them. NumPy's ziggurat calls them in its rare tail and wedge steps
 * (`random_standard_normal` in numpy/random/src/distributions/distributions.c); a result one ulp
 * off changes the bytes written. JavaScript's `Math.exp`/`Math.log1p` are not the C library's on
 * every runtime (V8 has its own), so the engine binds libm through FFI and passes it in.
 */
export interface MathLib {
  /** C `double exp(double)`. */
  exp(x: number): number;
  /** C `double log1p(double)`. */
  log1p(x: number): number;
  /** C `float log1pf(float)`: the argument is a float32 value, and so is the result. */
  log1pf(x: number): number;
}
