/**
 * What a loaded manifest is: the arrays it declares, fully expanded,
 * interpolated, validated and laid out.
 *
 * @module
 */

import type { FillValue } from "../npy/fill.ts";
import type { Allocation, ArrayLayout, HeaderVersion, Order } from "../npy/layout.ts";
import type { DType } from "../npy/dtype.ts";
import type { RealTarget } from "./paths.ts";
import type { GeneratedContent } from "../generate/layout.ts";

/** Where something was written in a manifest. */
export interface SourceLocation {
  /** The manifest file, as the user named it. */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
}

/** One problem found in a manifest. */
export interface ManifestProblem {
  readonly location: SourceLocation;
  /** JSON path of the offending value, e.g. `arrays[3].shape[1]`. */
  readonly jsonPath: string;
  /** What is wrong, in words a user understands. */
  readonly message: string;
}

/** One array a manifest declares, after expansion. */
export interface ManifestArray {
  /** The path as declared after expansion, relative to `root`, with `/` separators. */
  readonly path: string;
  /** The absolute path on disk, as declared (not resolved through links). */
  readonly target: string;
  /** Where the file really is: the target's folder resolved through links, and its name. */
  readonly real: RealTarget;
  readonly shape: readonly bigint[];
  readonly dtype: DType;
  readonly order: Order;
  /** The fill as written (after interpolation); `undefined` for zeros. */
  readonly fill: FillValue | undefined;
  readonly allocation: Allocation;
  readonly headerVersion: HeaderVersion;
  /** Header, sizes, fill bytes and resolved allocation. */
  readonly layout: ArrayLayout;
  /** What the writer streams, when the fill is generated (`{random: {seed}}`, ...). */
  readonly generated: GeneratedContent | null;
  /** Where the array's entry is in the manifest. */
  readonly location: SourceLocation;
  /** The JSON path of the entry, e.g. `arrays[2]`, plus the foreach values that made it. */
  readonly jsonPath: string;
}

/** A manifest, loaded. */
export interface LoadedManifest {
  /** The manifest file as the user named it. */
  readonly file: string;
  /** Its absolute path. */
  readonly absolutePath: string;
  /** SHA-256 of its bytes, hex. */
  readonly sha256: string;
  /** The absolute root folder every array path is relative to. */
  readonly root: string;
  /** Every array, in declaration and expansion order. */
  readonly arrays: readonly ManifestArray[];
}
