/**
 * JSON output that keeps integers exact: a `bigint` is written as its digits,
 * which JSON allows and NumPy's and Python's `json` read back exactly.
 *
 * @module
 */

/**
 * Like `JSON.stringify(value, null, indent)`, with `bigint` values written as plain integers.
 *
 * @param value The value.
 * @param indent Spaces per level; 0 for one line.
 * @returns The JSON text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toJson } from "./json.ts";
 * assert.ok(toJson({ n: 2n ** 64n }) === '{"n":18446744073709551616}');
 * ```
 */
export function toJson(value: unknown, indent = 0): string {
  const marker = "\u0000bigint:";
  const text = JSON.stringify(
    value,
    (_key, v) => (typeof v === "bigint" ? `${marker}${v}` : v),
    indent === 0 ? undefined : indent,
  );
  return text.replace(/"\\u0000bigint:(-?\d+)"/g, "$1");
}

/**
 * A `bigint` as a JSON-friendly value: a number when exact, else the bigint itself (which
 * {@linkcode toJson} writes as digits).
 *
 * @param n The integer.
 * @returns `number` or `bigint`.
 */
export function exactNumber(n: bigint): number | bigint {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(n)
    : n;
}
