/**
 * `${NAME}` interpolation of manifest strings, and the variables it reads.
 *
 * Syntax: `${NAME}`, `${NAME:-default}` (the default when NAME is unset or
 * empty), `${NAME:?message}` (an error with that message when NAME is unset
 * or empty), `$$` for a literal `$`. A default or a message may itself use
 * interpolation, evaluated only when needed. `$NAME` without braces is an
 * error (it is almost always a forgotten pair of braces); any other `$` is
 * literal. NAME is letters, digits and `_`, not starting with a digit.
 *
 * @module
 */

/** Looks a variable up; `undefined` when it is not set. */
export type Lookup = (name: string) => string | undefined;

/** The result of interpolating one string. */
export type Interpolation =
  | { readonly ok: true; readonly text: string; readonly substituted: boolean }
  | { readonly ok: false; readonly message: string };

/** What a variable name looks like. */
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const NAME_AT = /[A-Za-z_][A-Za-z0-9_]*/y;

class Failure extends Error {}

/**
 * Interpolates `${...}` references in a string.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { interpolate } from "./interpolate.ts";
 * const vars: Record<string, string> = { N: "60000" };
 * const result = interpolate("${N}-${M:-1}-$$", (name) => vars[name]);
 * assert.ok(result.ok && result.text === "60000-1-$");
 * ```
 *
 * @param template The string as written.
 * @param lookup Where variables come from.
 * @param unsetHint Extra words for the error about an unset variable.
 * @returns The text and whether any `${...}` was replaced, or an error message.
 */
export function interpolate(
  template: string,
  lookup: Lookup,
  unsetHint?: (name: string) => string | undefined,
): Interpolation {
  if (!template.includes("$")) return { ok: true, text: template, substituted: false };
  let substituted = false;

  /** Parses from `start` to the end, or to the `}` that closes a reference when `nested`. */
  const parse = (start: number, opened: number, active: boolean): [string, number] => {
    const nested = opened >= 0;
    let out = "";
    let i = start;
    while (i < template.length) {
      const c = template[i];
      if (nested && c === "}") return [out, i];
      if (c !== "$") {
        out += c;
        i++;
        continue;
      }
      const next = template[i + 1];
      if (next === "$") {
        out += "$";
        i += 2;
      } else if (next === "{") {
        const [text, end] = reference(i, active);
        out += text;
        i = end;
      } else if (next !== undefined && /[A-Za-z_]/.test(next)) {
        NAME_AT.lastIndex = i + 1;
        const name = NAME_AT.exec(template)?.[0] ?? next;
        throw new Failure(
          `'$${name}' is not interpolated: write '\${${name}}', or '$$' for a literal '$'`,
        );
      } else {
        out += "$";
        i++;
      }
    }
    if (nested) throw new Failure(`'\${' at character ${opened + 1} is never closed with '}'`);
    return [out, i];
  };

  /** Parses `${...}` at `at`; returns its value and the index after it. */
  const reference = (at: number, active: boolean): [string, number] => {
    NAME_AT.lastIndex = at + 2;
    const name = NAME_AT.exec(template)?.[0];
    if (name === undefined) {
      throw new Failure(
        `'\${' at character ${at + 1} must be followed by a variable name ` +
          `(letters, digits and _), or write '$$' for a literal '$'`,
      );
    }
    let i = at + 2 + name.length;
    const value = active ? lookup(name) : "";
    if (active) substituted = true;
    if (template[i] === "}") {
      if (value === undefined) {
        const hint = unsetHint?.(name);
        throw new Failure(
          `variable '${name}' is not set` +
            (hint ?? `: give it with --var ${name}=VALUE, in vars, or in the environment`),
        );
      }
      return [value, i + 1];
    }
    const operator = template.slice(i, i + 2);
    if (operator !== ":-" && operator !== ":?") {
      throw new Failure(
        `'\${${name}' must be followed by '}', ':-default' or ':?message'`,
      );
    }
    i += 2;
    const empty = value === undefined || value === "";
    const [argument, end] = parse(i, at, active && empty);
    if (active && empty && operator === ":?") {
      throw new Failure(`variable '${name}' is not set${argument === "" ? "" : `: ${argument}`}`);
    }
    return [empty ? argument : value, end + 1];
  };

  try {
    const [text] = parse(0, -1, true);
    return { ok: true, text, substituted };
  } catch (err) {
    if (err instanceof Failure) return { ok: false, message: err.message };
    throw err;
  }
}

/**
 * Reads a decimal integer written as text (optional sign, digits, surrounding
 * spaces), exactly.
 *
 * @param text The text.
 * @returns The integer, or `undefined` when the text is not one.
 */
export function parseDecimal(text: string): bigint | undefined {
  const trimmed = text.trim();
  return /^[+-]?[0-9]+$/.test(trimmed) ? BigInt(trimmed) : undefined;
}
