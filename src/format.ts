/** Human-readable numbers for messages, plans and progress. */

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/**
 * A byte count in binary units: `512 B`, `4.0 MiB`, `1.5 TiB`.
 *
 * @param bytes The count.
 * @returns The text.
 */
export function formatBytes(bytes: bigint | number): string {
  let value = Number(bytes);
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/**
 * A count with its noun, in the singular for one: `1 array`, `2 arrays`.
 *
 * @param count How many.
 * @param noun The noun in the singular (plural by adding `s`).
 * @returns The text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { plural } from "./format.ts";
 * assert.equal(plural(1, "inode"), "1 inode");
 * assert.equal(plural(0, "array"), "0 arrays");
 * ```
 */
export function plural(count: number | bigint, noun: string): string {
  return `${count} ${noun}${count === 1 || count === 1n ? "" : "s"}`;
}
