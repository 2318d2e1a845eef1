/**
 * Array shapes and sizes. Dimensions are `bigint`: a dimension, or a byte
 * size, can pass 2^53 long before it passes the 2^63 that .npy files allow.
 *
 * @module
 */

import { NpyallocError } from "../errors.ts";
import { MAX_INT64 } from "../limits.ts";

/** The largest byte size of an array's data: NumPy sizes are signed 64-bit. */
export const MAX_DATA_BYTES: bigint = MAX_INT64;

/**
 * Parses a shape written on the command line: `1000,1000`, `5` (1-d), `` (0-d), also with
 * surrounding brackets or parentheses and spaces (`(3, 4)`, `[3,4]`).
 *
 * @param text The shape text.
 * @returns The dimensions.
 * @throws {NpyallocError} `E_SHAPE` when a dimension is not a non-negative decimal integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseShapeText } from "./shape.ts";
 * assert.ok(parseShapeText("3, 4").length === 2);
 * assert.ok(parseShapeText("").length === 0);
 * ```
 */
export function parseShapeText(text: string): bigint[] {
  let body = text.trim();
  if (/^\(.*\)$|^\[.*\]$/s.test(body)) body = body.slice(1, -1).trim();
  if (body === "") return [];
  const parts = body.split(",").map((p) => p.trim());
  if (parts.length > 1 && parts.at(-1) === "") parts.pop();
  return parts.map((part) => {
    if (!/^\d+$/.test(part)) {
      throw new NpyallocError(
        "E_SHAPE",
        `Cannot parse shape '${text}': '${part}' is not an integer >= 0`,
      );
    }
    return BigInt(part);
  });
}

/**
 * The number of elements of a shape (1 for a 0-d array).
 *
 * @param shape The dimensions.
 * @returns Their product.
 */
export function elementCount(shape: readonly bigint[]): bigint {
  return shape.reduce((a, b) => a * b, 1n);
}

/**
 * The byte size of an array's data, checked against the 2^63 limit of NumPy.
 *
 * @param shape The dimensions.
 * @param itemsize The size of one element.
 * @returns `itemsize * product(shape)`.
 * @throws {NpyallocError} `E_SHAPE` when the size does not fit in 2^63 - 1 bytes.
 */
export function dataBytes(shape: readonly bigint[], itemsize: number): bigint {
  // A zero dimension makes the whole array empty, however large the others are,
  // but NumPy still refuses shapes whose dimensions multiply past intp.
  let product = 1n;
  for (const dim of shape) {
    if (dim < 0n) throw new NpyallocError("E_SHAPE", `Shape dimension ${dim} is negative`);
    if (dim !== 0n) product *= dim;
    if (product > MAX_DATA_BYTES) break;
  }
  if (product > MAX_DATA_BYTES || product * BigInt(itemsize) > MAX_DATA_BYTES) {
    throw new NpyallocError(
      "E_SHAPE",
      `Shape (${
        shape.join(", ")
      }) with ${itemsize}-byte items is larger than the 2^63 bytes a .npy file can hold`,
    );
  }
  return shape.includes(0n) ? 0n : product * BigInt(itemsize);
}

/**
 * The shape as Python prints it: `()`, `(5,)`, `(3, 4)`.
 *
 * @param shape The dimensions.
 * @returns The tuple text.
 */
export function formatShape(shape: readonly bigint[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(", ")})`;
}
