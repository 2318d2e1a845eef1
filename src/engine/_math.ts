/**
 * The arrays a runtime without FFI cannot generate: NumPy's normal generators call the C
 * library's `exp` and `log1p`, which only FFI reaches (docs/generated-fills.md). Found before
 * anything is touched.
 *
 * @module
 */

import { NpyallocError } from "../errors.ts";
import { needsMath } from "../generate/layout.ts";
import type { ManifestArray } from "../manifest/types.ts";
import type { Platform } from "../platform/platform.ts";

/**
 * Why these arrays cannot be generated here, or `null`.
 *
 * @param arrays The arrays of the command.
 * @param platform The platform.
 * @returns An `E_FILL` error naming the first such array, or `null`.
 */
export function mathProblem(
  arrays: readonly ManifestArray[],
  platform: Pick<Platform, "math">,
): NpyallocError | null {
  const first = arrays.find((a) => a.generated !== null && needsMath(a.generated));
  if (first === undefined || platform.math() !== null) return null;
  return new NpyallocError(
    "E_FILL",
    `Cannot generate '${first.path}' (fill '${first.generated?.fill.kind}') here: NumPy's ` +
      "values need the C library's exp and log1p, which this runtime reaches only through FFI " +
      "(Deno: grant --allow-ffi; Node.js: install the optional dependency koffi); nothing was touched",
  );
}
