/**
 * `foreach`: placeholder names mapped to a list of values or a range, whose
 * cartesian product (first name outermost) makes one array per combination.
 *
 * How it works: each name becomes a dimension that knows its length and can
 * give its i-th value without building a list, so the product can be counted
 * (and refused when too large) before a single array is made, then walked
 * like an odometer.
 *
 * @module
 */

import { parseDecimal } from "./interpolate.ts";
import type { PlaceholderValue } from "./placeholders.ts";
import { jsonPathJoin, type Position, type ProblemList } from "./problems.ts";
import type { YMap, YNode } from "./yaml_source.ts";

/** One foreach name and its values. */
export interface ForeachDimension {
  readonly name: string;
  /** How many values it has. */
  readonly count: number;
  /** The i-th value, for 0 <= i < count. */
  readonly valueAt: (index: number) => PlaceholderValue;
}

/** Interpolates a string found at a position; `undefined` after recording a problem. */
export type InterpolateAt = (text: string, pos: Position, jsonPath: string) => string | undefined;

/** Counts above this are refused long before they are walked. */
const COUNT_CAP = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Reads a `foreach` mapping (already checked against the schema).
 *
 * @param node The `foreach` node.
 * @param jsonPath Its JSON path.
 * @param interpolateAt Interpolates strings in values and range bounds.
 * @param problems Where problems go: bad range bounds, a step of 0.
 * @returns The dimensions in declaration order, or `undefined` after a problem.
 */
export function parseForeach(
  node: YMap,
  jsonPath: string,
  interpolateAt: InterpolateAt,
  problems: ProblemList,
): ForeachDimension[] | undefined {
  const dims: ForeachDimension[] = [];
  let ok = true;
  for (const { key, value } of node.entries) {
    const path = jsonPathJoin(jsonPath, key);
    const dim = value.kind === "seq"
      ? listDimension(key, value.items, path, interpolateAt)
      : value.kind === "map"
      ? rangeDimension(key, value, path, interpolateAt, problems)
      : undefined;
    if (dim === undefined) ok = false;
    else dims.push(dim);
  }
  return ok ? dims : undefined;
}

function listDimension(
  name: string,
  items: readonly YNode[],
  jsonPath: string,
  interpolateAt: InterpolateAt,
): ForeachDimension | undefined {
  const values: PlaceholderValue[] = [];
  let ok = true;
  items.forEach((item, i) => {
    if (item.kind !== "scalar" || item.value === null) {
      ok = false;
      return;
    }
    const value = item.value;
    if (typeof value === "string") {
      const text = interpolateAt(value, item.pos, jsonPathJoin(jsonPath, i));
      if (text === undefined) ok = false;
      else values.push(text);
    } else {
      values.push(value);
    }
  });
  if (!ok) return undefined;
  return { name, count: values.length, valueAt: (i) => values[i] as PlaceholderValue };
}

function rangeDimension(
  name: string,
  node: YMap,
  jsonPath: string,
  interpolateAt: InterpolateAt,
  problems: ProblemList,
): ForeachDimension | undefined {
  const range = node.byKey.get("range")?.value;
  const rangePath = jsonPathJoin(jsonPath, "range");
  if (range === undefined || range.kind !== "seq") return undefined;
  const bounds: bigint[] = [];
  for (const [i, item] of range.items.entries()) {
    const itemPath = jsonPathJoin(rangePath, i);
    if (item.kind !== "scalar") return undefined;
    if (typeof item.value === "bigint") {
      bounds.push(item.value);
      continue;
    }
    if (typeof item.value !== "string") return undefined;
    const text = interpolateAt(item.value, item.pos, itemPath);
    if (text === undefined) return undefined;
    const integer = parseDecimal(text);
    if (integer === undefined) {
      problems.add(
        item.pos,
        itemPath,
        `must be an integer, got ${problems.shown(text, item.value)}`,
      );
      return undefined;
    }
    bounds.push(integer);
  }
  const [start = 0n, stop = 0n, step = 1n] = bounds;
  if (step === 0n) {
    const stepNode = range.items[2] ?? range;
    problems.add(stepNode.pos, jsonPathJoin(rangePath, 2), "the step of a range must not be 0");
    return undefined;
  }
  const span = step > 0n ? stop - start : start - stop;
  const stride = step > 0n ? step : -step;
  const count = span <= 0n ? 0n : (span + stride - 1n) / stride;
  if (count > COUNT_CAP) {
    problems.add(
      range.pos,
      rangePath,
      `range [${start}, ${stop}, ${step}] has ${count} values, far too many`,
    );
    return undefined;
  }
  return { name, count: Number(count), valueAt: (i) => start + BigInt(i) * step };
}

/**
 * How many combinations dimensions make, exactly.
 *
 * @param dims The dimensions.
 * @returns The product of their counts (1 for none).
 */
export function countCombinations(dims: readonly ForeachDimension[]): bigint {
  return dims.reduce((n, dim) => n * BigInt(dim.count), 1n);
}

/**
 * Calls `visit` with every combination of values, the first dimension
 * outermost (the last one changes fastest). The values array is reused
 * between calls: copy it to keep it.
 *
 * @param dims The dimensions.
 * @param visit Called once per combination; returning `false` stops the walk.
 */
export function forEachCombination(
  dims: readonly ForeachDimension[],
  visit: (values: readonly PlaceholderValue[]) => boolean | void,
): void {
  if (dims.some((dim) => dim.count === 0)) return;
  const indexes = dims.map(() => 0);
  const values = dims.map((dim) => dim.valueAt(0));
  for (;;) {
    if (visit(values) === false) return;
    let d = dims.length - 1;
    for (; d >= 0; d--) {
      const dim = dims[d] as ForeachDimension;
      const next = (indexes[d] as number) + 1;
      if (next < dim.count) {
        indexes[d] = next;
        values[d] = dim.valueAt(next);
        break;
      }
      indexes[d] = 0;
      values[d] = dim.valueAt(0);
    }
    if (d < 0) return;
  }
}
