/** Planned arrays built by hand, for tests of the plan and the report. */
import path from "node:path";
import type { ManifestArray } from "../../src/manifest/types.ts";
import { type DTypeSpec, parseDType } from "../../src/npy/dtype.ts";
import type { FillValue } from "../../src/npy/fill.ts";
import { type Allocation, layoutArray, type Order } from "../../src/npy/layout.ts";

/** What {@linkcode manifestArray} builds. */
export interface ArraySpec {
  shape: readonly (number | bigint)[];
  dtype?: DTypeSpec;
  order?: Order;
  fill?: FillValue;
  allocation?: Allocation;
}

/**
 * A ManifestArray as the loader would produce it, built by hand (its folder taken as real: no
 * symbolic links on the way).
 *
 * @param root The manifest's root folder, without symbolic links.
 * @param rel The array's path below it, `/`-separated.
 * @param spec Shape, dtype, order, fill, allocation.
 * @returns The array.
 */
export function manifestArray(root: string, rel: string, spec: ArraySpec): ManifestArray {
  const shape = spec.shape.map(BigInt);
  const dtype = parseDType(spec.dtype ?? "float64");
  const order = spec.order ?? "C";
  const allocation = spec.allocation ?? "auto";
  const layout = layoutArray({
    shape,
    dtype,
    order,
    allocation,
    ...(spec.fill === undefined ? {} : { fill: spec.fill }),
  });
  const target = path.join(root, ...rel.split("/"));
  return {
    path: rel,
    target,
    real: { folder: path.dirname(target), name: path.basename(target) },
    shape,
    dtype,
    order,
    fill: spec.fill,
    allocation,
    headerVersion: "auto",
    layout,
    generated: null,
    location: { file: "test.yaml", line: 1, column: 1 },
    jsonPath: "arrays[0]",
  };
}
