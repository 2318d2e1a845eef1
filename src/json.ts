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
  const space = indent === 0 ? undefined : indent;
  // Most values hold no bigint (exactNumber makes numbers of the small ones), and without a
  // replacer JSON.stringify is two to three times as fast (a report of 10,000 arrays is 4 MB).
  // A bigint makes it throw a TypeError; then the replacer writes it (and a cycle throws again).
  // In a report, bigints are rare: byte counts past 8 PiB, fills past 2^53.
  try {
    return JSON.stringify(value, null, space);
  } catch {
    const marker = "\u0000bigint:";
    const text = JSON.stringify(
      value,
      (_key, v) => (typeof v === "bigint" ? `${marker}${v}` : v),
      space,
    );
    return text.replace(/"\\u0000bigint:(-?\d+)"/g, "$1");
  }
}

/**
 * A `bigint` as a JSON-friendly value: a number when exact, else the bigint itself (which
 * {@linkcode toJson} writes as digits).
 *
 * @param n The integer.
 * @returns `number` or `bigint`.
 */
export function exactNumber(n: bigint): number | bigint {
  return n >= MIN_SAFE && n <= MAX_SAFE ? Number(n) : n;
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
