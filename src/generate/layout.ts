/**
 * The layout of an array whose fill may be generated: a constant fill is laid out as
 * `npy/layout.ts` lays it out; a generated one (`{random: {seed: 7}}`, ...) gets the same
 * header and sizes, is always written (`auto` is `write`; `sparse` and `reserve` are refused),
 * and carries what the writer needs to stream its values.
 *
 * @module
 */

import { NpyallocError } from "../errors.ts";
import type { DType } from "../npy/dtype.ts";
import { type ArrayLayout, type ArrayRequest, layoutArray, type Order } from "../npy/layout.ts";
import { type GeneratedFill, parseGeneratedFill } from "./fill.ts";
import { checkGeneratedFill } from "./source.ts";

/** What the writer needs to stream an array's generated values. */
export interface GeneratedContent {
  readonly fill: GeneratedFill;
  /** The array's element dtype and shape (subarray dtypes folded into the shape). */
  readonly dtype: DType;
  readonly shape: readonly bigint[];
  readonly order: Order;
}

/** An array's layout, and its generated content when its fill is generated. */
export interface ContentLayout {
  readonly layout: ArrayLayout;
  readonly generated: GeneratedContent | null;
}

/** The generators that call the C library's `exp` and `log1p` (see `MathLib`). */
const NEED_MATH: ReadonlySet<GeneratedFill["kind"]> = new Set(["standard_normal", "normal"]);

/**
 * Whether generating this content needs the C library's math functions, which only a platform
 * with FFI has.
 *
 * @param content The content.
 * @returns `true` for `standard_normal` and `normal`.
 */
export function needsMath(content: GeneratedContent): boolean {
  return NEED_MATH.has(content.fill.kind);
}

/**
 * Lays out one array, its fill constant or generated. Pure: touches nothing.
 *
 * @param request The array, as `layoutArray` takes it.
 * @returns The layout, and the generated content or `null`.
 * @throws {NpyallocError} As `layoutArray`; `E_FILL` for a generated fill that does not fit the
 *   array (an unknown generator or parameter, a seed that is not one, a dtype the generator does
 *   not allow, values that would wrap, order F where the generator refuses it);
 *   `E_ALLOCATION` for `sparse` or `reserve` with a generated fill.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDType } from "../npy/dtype.ts";
 * import { layoutContent } from "./layout.ts";
 * const { layout, generated } = layoutContent({
 *   shape: [1000n],
 *   dtype: parseDType("float64"),
 *   fill: { random: { seed: 7n } },
 * });
 * assert.equal(layout.allocation, "write");
 * assert.equal(generated?.fill.kind, "random");
 * ```
 */
export function layoutContent(request: ArrayRequest): ContentLayout {
  const fill = parseGeneratedFill(request.fill, request.dtype);
  if (fill === null) return { layout: layoutArray(request), generated: null };
  const asked = request.allocation ?? "auto";
  if (asked === "sparse" || asked === "reserve") {
    throw new NpyallocError(
      "E_ALLOCATION",
      `Allocation '${asked}' leaves the data as zeros, but the fill '${fill.kind}' is generated: ` +
        "use 'write' or 'auto'",
    );
  }
  const { fill: _given, ...rest } = request;
  const layout = layoutArray({ ...rest, allocation: "write" });
  const order = request.order ?? "C";
  checkGeneratedFill(fill, layout.dtype, layout.shape, order);
  return {
    layout: { ...layout, zeroFill: false },
    generated: { fill, dtype: layout.dtype, shape: layout.shape, order },
  };
}
