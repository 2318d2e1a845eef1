/**
 * "Did you mean" for mistyped names: manifest keys, commands, options, dtypes.
 *
 * @module
 */

/**
 * The known name nearest to a mistyped one, if one is near enough: at most one edit for names
 * of up to 5 characters, two up to 8, three beyond (a swap of neighbours is one edit; case is
 * ignored).
 *
 * @param typed What the user typed.
 * @param known The names it could have meant.
 * @returns The suggestion, or `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { closest } from "./suggest.ts";
 * assert.equal(closest("flaot32", ["float32", "float64", "int32"]), "float32");
 * assert.equal(closest("rn", ["run", "plan"]), "run");
 * assert.equal(closest("banana", ["run", "plan"]), undefined);
 * ```
 */
export function closest(typed: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = typed.toLowerCase();
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const limit = Math.max(1, Math.min(3, Math.floor(typed.length / 3)));
  return bestDistance <= limit ? best : undefined;
}

/**
 * ` (did you mean 'x'?)`, or `""` when nothing is near enough.
 *
 * @param typed What the user typed.
 * @param known The names it could have meant.
 * @returns The hint, with a leading space.
 */
export function didYouMean(typed: string, known: Iterable<string>): string {
  const suggestion = closest(typed, known);
  return suggestion === undefined ? "" : ` (did you mean '${suggestion}'?)`;
}

/** Levenshtein distance, with a swap of two neighbours counting as one edit. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const up = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(
        (up[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (up[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row.push(value);
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}
