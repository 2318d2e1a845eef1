/**
 * Python's `repr()` of the values a .npy header holds: `str`, `int`, `bool`,
 * `None`, `tuple`, `list` and `dict`. NumPy writes its header with `repr()`,
 * so npyalloc must spell every value exactly as CPython does to write files
 * byte-identical to `np.save`.
 *
 * How it works: JavaScript has no tuples, so a tuple is a {@linkcode PyTuple}
 * and a JS array is a Python list; a `Map` with string keys is a dict. Strings
 * follow CPython's `unicode_repr`: single quotes unless the text holds `'` and
 * no `"`; `\\`, `\n`, `\r`, `\t` and the chosen quote are escaped; other
 * characters are kept when `str.isprintable()` holds for them, otherwise they
 * become `\xhh`, `\uhhhh` or `\Uhhhhhhhh`. Printability comes from the
 * JavaScript engine's Unicode tables, which may be newer than those of the
 * Python that wrote a given file: characters assigned in between print
 * differently (CPython escapes code points it considers unassigned).
 *
 * @module
 */

/**
 * A Python tuple. JavaScript arrays stand for Python lists, so tuples need
 * their own wrapper.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PyTuple, pyRepr } from "./py_repr.ts";
 * assert.ok(pyRepr(new PyTuple([5])) === "(5,)");
 * ```
 */
export class PyTuple {
  /** The items of the tuple, in order. */
  readonly items: readonly PyValue[];

  /** @param items The items of the tuple, in order. */
  constructor(items: readonly PyValue[]) {
    this.items = items;
  }
}

/**
 * A Python value that can appear in a .npy header: `str` (string), `int`
 * (integer number or bigint), `bool`, `None` (null), `tuple` ({@linkcode PyTuple}),
 * `list` (array) or `dict` (`Map` with string keys, in insertion order).
 */
export type PyValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | PyTuple
  | readonly PyValue[]
  | ReadonlyMap<string, PyValue>;

// Characters for which CPython's str.isprintable() is false: categories
// Other (Cc, Cf, Cs, Co, Cn) and Separator (Zl, Zp, Zs), except ASCII space.
const NON_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;

/**
 * Whether Python's `str.isprintable()` holds for one code point.
 *
 * @param ch One code point (a lone surrogate counts as one).
 * @returns `true` when `repr()` keeps the character as it is.
 */
export function isPyPrintable(ch: string): boolean {
  return ch === " " || !NON_PRINTABLE.test(ch);
}

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, "0");
}

/**
 * Python's `repr()` of a `str`.
 *
 * @param text The string; lone surrogates are escaped as CPython escapes them.
 * @returns The quoted literal, e.g. `'a'`, `"it's"`, `'\n'`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pyStrRepr } from "./py_repr.ts";
 * assert.ok(pyStrRepr("it's") === `"it's"`);
 * assert.ok(pyStrRepr("a\tb\u00a0") === "'a\\tb\\xa0'");
 * ```
 */
export function pyStrRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    if (ch === quote || ch === "\\") out += "\\" + ch;
    else if (ch === "\t") out += "\\t";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (code < 0x20 || code === 0x7f) out += "\\x" + hex(code, 2);
    else if (code < 0x7f) out += ch;
    else if (isPyPrintable(ch)) out += ch;
    else if (code <= 0xff) out += "\\x" + hex(code, 2);
    else if (code <= 0xffff) out += "\\u" + hex(code, 4);
    else out += "\\U" + hex(code, 8);
  }
  return out + quote;
}

/**
 * Python's `repr()` of a header value.
 *
 * @param value The value; numbers must be integers (Python `int`).
 * @returns The text CPython's `repr()` gives for the same value.
 * @throws {RangeError} When a number is not an integer: floats never appear in
 * a .npy header.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PyTuple, pyRepr } from "./py_repr.ts";
 * assert.ok(pyRepr(new PyTuple([3, 4n])) === "(3, 4)");
 * assert.ok(pyRepr([new PyTuple(["a", "<f4"])]) === "[('a', '<f4')]");
 * assert.ok(pyRepr(new Map([["k", true]])) === "{'k': True}");
 * ```
 */
export function pyRepr(value: PyValue): string {
  if (typeof value === "string") return pyStrRepr(value);
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    if (!Number.isInteger(value)) {
      throw new RangeError(`Cannot write ${value} as a Python int`);
    }
    return BigInt(value).toString();
  }
  if (value === null) return "None";
  if (value instanceof PyTuple) {
    const parts = value.items.map(pyRepr);
    return parts.length === 1 ? `(${parts[0]},)` : `(${parts.join(", ")})`;
  }
  if (value instanceof Map) {
    const parts: string[] = [];
    for (const [key, item] of value as ReadonlyMap<string, PyValue>) {
      parts.push(`${pyStrRepr(key)}: ${pyRepr(item)}`);
    }
    return `{${parts.join(", ")}}`;
  }
  return `[${(value as readonly PyValue[]).map(pyRepr).join(", ")}]`;
}
