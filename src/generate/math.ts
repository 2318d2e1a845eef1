/**
 * The math functions NumPy's normal generators take from the C library: the platform binds
 * them (`Platform.math`), and the generators take them as given.
 *
 * @module
 */

export type { MathLib } from "../platform/platform.ts";
