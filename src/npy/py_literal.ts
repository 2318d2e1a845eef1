/**
 * A safe parser for the Python literals a .npy header holds, standing in for
 * the `ast.literal_eval` NumPy calls on it. Nothing is evaluated.
 *
 * How it works: a recursive-descent parser over the header text, one
 * character at a time, that reads dicts, lists, tuples (a parenthesised value
 * without a comma is just that value, as in Python), strings, integers, `True`,
 * `False` and `None`. It follows Python's tokenizer where a header can differ:
 * both quote styles, triple quotes, `r`/`u` prefixes, adjacent strings that
 * concatenate, every escape but `\N{...}`, integers in any base with
 * underscores, a sign on numbers, comments, trailing commas, and newlines inside
 * brackets. Floats, complex numbers, bytes, sets and names other than `True`,
 * `False` and `None` are refused. Nesting is capped (CPython's tokenizer stops
 * at 200 levels) and so is the input length, so hostile input costs linear
 * time and bounded stack.
 *
 * @module
 */

import { NpyallocError } from "../errors.ts";
import { PyTuple } from "./py_repr.ts";

/** Options of {@linkcode parsePyLiteral}. */
export interface PyLiteralOptions {
  /**
   * Accept an `L` right after an integer (`5L`), as Python 2 wrote longs.
   * NumPy's `_filter_header` strips it when reading format 1.0 and 2.0 files.
   *
   * @default {false}
   */
  allowLongSuffix?: boolean;
  /**
   * Deepest nesting of brackets accepted.
   *
   * @default {200}
   */
  maxDepth?: number;
  /**
   * Longest input accepted, in UTF-16 code units.
   *
   * @default {16777216}
   */
  maxLength?: number;
}

/** A value parsed by {@linkcode parsePyLiteral}: ints are always `bigint`, dicts are `Map`s. */
export type PyLiteral =
  | string
  | bigint
  | boolean
  | null
  | PyTuple
  | PyLiteral[]
  | Map<string, PyLiteral>;

const DEFAULT_MAX_DEPTH = 200;
const DEFAULT_MAX_LENGTH = 1 << 24;
// CPython refuses to convert decimal strings longer than this to int.
const MAX_INT_DIGITS = 4300;

const SIMPLE_ESCAPES: Record<string, string> = {
  "\\": "\\",
  "'": "'",
  '"': '"',
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
};

// Every prefix Python 3 accepts (lowercased); only "", "r" and "u" make a str.
const STRING_PREFIXES = new Set(["", "r", "u", "b", "br", "rb", "f", "fr", "rf"]);

const DIGITS: Record<string, RegExp> = {
  x: /^[0-9a-fA-F]$/,
  o: /^[0-7]$/,
  b: /^[01]$/,
  d: /^[0-9]$/,
};

function isNameChar(ch: string | undefined): boolean {
  return ch !== undefined && /^[\p{ID_Continue}_]$/u.test(ch);
}

class Parser {
  readonly #text: string;
  readonly #allowLong: boolean;
  readonly #maxDepth: number;
  #pos = 0;
  #depth = 0;

  constructor(text: string, allowLong: boolean, maxDepth: number) {
    this.#text = text;
    this.#allowLong = allowLong;
    this.#maxDepth = maxDepth;
  }

  fail(message: string, at = this.#pos): never {
    if (at >= this.#text.length && !message.startsWith("unexpected end")) {
      message = `unexpected end of input, ${message}`;
    }
    throw new NpyallocError("E_NOT_NPY", `Cannot parse header at offset ${at}: ${message}`);
  }

  parseAll(): PyLiteral {
    // ast.literal_eval strips leading blanks, then the tokenizer skips blank
    // lines; the line holding the value must not be indented.
    while (this.#peek() === " " || this.#peek() === "\t") this.#pos++;
    while (this.#blankLine(false));
    const value = this.#value();
    while (" \t\f".includes(this.#peek() ?? "_")) this.#pos++;
    if (this.#peek() === "#") this.#skipComment();
    if (this.#pos < this.#text.length) {
      if (this.#peek() !== "\n") this.#unexpected();
      this.#pos++;
      while (this.#blankLine(true));
      if (this.#pos < this.#text.length) this.#unexpected();
    }
    return value;
  }

  /**
   * Skips one line of only blanks and a comment, as Python's tokenizer does
   * outside brackets. Fails on an indented line that holds anything else, and
   * (like CPython) on an indented last line without a newline.
   */
  #blankLine(atEnd: boolean): boolean {
    const start = this.#pos;
    let column = 0;
    for (;;) {
      const ch = this.#peek();
      if (ch === " ") column++;
      else if (ch === "\t") column = (Math.floor(column / 8) + 1) * 8;
      else if (ch === "\f") column = 0;
      else break;
      this.#pos++;
    }
    const ch = this.#peek();
    if (ch === "#") {
      this.#skipComment();
    } else if (ch !== "\n" && column > 0 && (ch !== undefined || atEnd)) {
      this.fail("unexpected indent", start);
    }
    if (this.#peek() === "\n") {
      this.#pos++;
      return true;
    }
    if (this.#peek() === undefined) return false;
    if (ch === "#") return true;
    // Not blank: leave it to the caller.
    if (atEnd) this.#unexpected();
    return false;
  }

  #skipComment(): void {
    while (this.#pos < this.#text.length && this.#peek() !== "\n") this.#pos++;
  }

  #peek(offset = 0): string | undefined {
    return this.#text[this.#pos + offset];
  }

  #unexpected(): never {
    const ch = this.#peek();
    if (ch === undefined) this.fail("unexpected end of input");
    this.fail(`unexpected character ${JSON.stringify(ch)}`);
  }

  /** Skips blanks and comments, and newlines inside brackets. */
  #skipSpace(): void {
    const text = this.#text;
    const newlines = this.#depth > 0;
    for (;;) {
      const ch = text[this.#pos];
      if (ch === " " || ch === "\t" || ch === "\f") this.#pos++;
      else if (newlines && (ch === "\n" || ch === "\r")) this.#pos++;
      else if (ch === "\\" && (text[this.#pos + 1] === "\n" || text[this.#pos + 1] === "\r")) {
        this.#pos += text.startsWith("\\\r\n", this.#pos) ? 3 : 2;
      } else if (ch === "#") {
        while (this.#pos < text.length && text[this.#pos] !== "\n" && text[this.#pos] !== "\r") {
          this.#pos++;
        }
      } else return;
    }
  }

  #expect(ch: string): void {
    if (this.#peek() !== ch) this.fail(`expected ${JSON.stringify(ch)}`);
    this.#pos++;
  }

  #enter(): void {
    if (++this.#depth > this.#maxDepth) this.fail(`nesting deeper than ${this.#maxDepth} levels`);
    this.#pos++;
    this.#skipSpace();
  }

  #value(): PyLiteral {
    const ch = this.#peek();
    switch (ch) {
      case "{":
        return this.#dict();
      case "[":
        return this.#list();
      case "(":
        return this.#paren();
      case "'":
      case '"':
        return this.#strings();
      case "-":
      case "+": {
        this.#pos++;
        this.#skipSpace();
        if (!/^[0-9]$/.test(this.#peek() ?? "")) this.fail("expected a number after the sign");
        const n = this.#int();
        return ch === "-" ? -n : n;
      }
      case undefined:
        return this.#unexpected();
    }
    if (/^[0-9]$/.test(ch)) return this.#int();
    if (ch === ".") this.fail("float literals are not allowed");
    if (isNameChar(ch)) return this.#name();
    return this.#unexpected();
  }

  #dict(): Map<string, PyLiteral> {
    this.#enter();
    const out = new Map<string, PyLiteral>();
    while (this.#peek() !== "}") {
      const keyAt = this.#pos;
      const key = this.#value();
      if (typeof key !== "string") this.fail("dict keys must be strings", keyAt);
      this.#skipSpace();
      this.#expect(":");
      this.#skipSpace();
      out.set(key, this.#value());
      this.#skipSpace();
      if (this.#peek() === ",") {
        this.#pos++;
        this.#skipSpace();
      } else if (this.#peek() !== "}") this.fail("expected ',' or '}'");
    }
    this.#pos++;
    this.#depth--;
    return out;
  }

  #list(): PyLiteral[] {
    this.#enter();
    const out: PyLiteral[] = [];
    while (this.#peek() !== "]") {
      out.push(this.#value());
      this.#skipSpace();
      if (this.#peek() === ",") {
        this.#pos++;
        this.#skipSpace();
      } else if (this.#peek() !== "]") this.fail("expected ',' or ']'");
    }
    this.#pos++;
    this.#depth--;
    return out;
  }

  #paren(): PyLiteral {
    this.#enter();
    const items: PyLiteral[] = [];
    let comma = false;
    while (this.#peek() !== ")") {
      items.push(this.#value());
      this.#skipSpace();
      if (this.#peek() === ",") {
        comma = true;
        this.#pos++;
        this.#skipSpace();
      } else if (this.#peek() !== ")") this.fail("expected ',' or ')'");
    }
    this.#pos++;
    this.#depth--;
    // `(x)` is x itself; only a comma (or nothing at all) makes a tuple.
    if (items.length === 1 && !comma) return items[0] as PyLiteral;
    return new PyTuple(items);
  }

  #name(): PyLiteral {
    const start = this.#pos;
    while (isNameChar(this.#peek())) this.#pos++;
    const name = this.#text.slice(start, this.#pos);
    const next = this.#peek();
    if ((next === "'" || next === '"') && /^[rRuUbBfF]{1,2}$/.test(name)) {
      this.#pos = start;
      return this.#strings();
    }
    if (name === "True") return true;
    if (name === "False") return false;
    if (name === "None") return null;
    return this.fail(`unexpected name ${JSON.stringify(name)}`, start);
  }

  #int(): bigint {
    const text = this.#text;
    const start = this.#pos;
    let base = "d";
    if (text[start] === "0" && /^[xXoObB]$/.test(text[start + 1] ?? "")) {
      base = (text[start + 1] as string).toLowerCase();
      this.#pos += 2;
      if (this.#peek() === "_") this.#pos++;
    }
    const digit = DIGITS[base] as RegExp;
    const digitsAt = this.#pos;
    for (;;) {
      const ch = this.#peek();
      if (ch !== undefined && digit.test(ch)) this.#pos++;
      else if (ch === "_" && digit.test(this.#peek(1) ?? "") && this.#pos > digitsAt) this.#pos++;
      else break;
    }
    if (this.#pos === digitsAt) this.fail("invalid integer literal", start);
    const digits = text.slice(digitsAt, this.#pos).replaceAll("_", "");
    if (digits.length > MAX_INT_DIGITS) {
      this.fail(`integer literal longer than ${MAX_INT_DIGITS} digits`, start);
    }
    if (base === "d" && digits.length > 1 && digits[0] === "0" && /[1-9]/.test(digits)) {
      this.fail("leading zeros in a decimal integer are not allowed", start);
    }
    const next = this.#peek();
    if (next === "." || next === "e" || next === "E" || next === "j" || next === "J") {
      this.fail("float and complex literals are not allowed", start);
    }
    if (next === "L" && this.#allowLong && !isNameChar(this.#peek(1))) this.#pos++;
    else if (isNameChar(next)) this.fail("invalid integer literal", start);
    const prefix = base === "d" ? "" : `0${base}`;
    return BigInt(prefix + digits);
  }

  /** One or more adjacent string literals, concatenated as Python does. */
  #strings(): string {
    let out = this.#string();
    for (;;) {
      const save = this.#pos;
      this.#skipSpace();
      const m = /^[rRuUbBfF]{0,2}['"]/.exec(this.#text.slice(this.#pos, this.#pos + 3));
      if (m === null) {
        this.#pos = save;
        return out;
      }
      out += this.#string();
    }
  }

  #string(): string {
    const text = this.#text;
    const start = this.#pos;
    while (this.#peek() !== "'" && this.#peek() !== '"') this.#pos++;
    const prefix = text.slice(start, this.#pos).toLowerCase();
    if (prefix.includes("b") && STRING_PREFIXES.has(prefix)) {
      this.fail("bytes literals are not allowed", start);
    }
    if (prefix.includes("f") && STRING_PREFIXES.has(prefix)) {
      this.fail("f-strings are not allowed", start);
    }
    if (prefix !== "" && prefix !== "r" && prefix !== "u") {
      this.fail(`invalid string prefix ${JSON.stringify(prefix)}`, start);
    }
    const raw = prefix === "r";
    const q = this.#peek() as string;
    const triple = text.startsWith(q.repeat(3), this.#pos);
    const close = triple ? q.repeat(3) : q;
    this.#pos += close.length;
    let out = "";
    for (;;) {
      // Copy the run of plain characters in one slice.
      let end = this.#pos;
      while (end < text.length) {
        const c = text[end];
        if (c === "\\" || c === q || (!triple && (c === "\n" || c === "\r"))) break;
        end++;
      }
      out += text.slice(this.#pos, end);
      this.#pos = end;
      const ch = this.#peek();
      if (ch === undefined || ch === "\n" || ch === "\r") {
        this.fail("unterminated string literal", start);
      }
      if (ch === q) {
        if (text.startsWith(close, this.#pos)) {
          this.#pos += close.length;
          return out;
        }
        out += ch;
        this.#pos++;
        continue;
      }
      out += this.#escape(raw);
    }
  }

  /** Reads one backslash escape, the backslash at the current position. */
  #escape(raw: boolean): string {
    const text = this.#text;
    const at = this.#pos;
    const next = text[at + 1];
    if (next === undefined) this.fail("unterminated string literal", at);
    if (raw) {
      // A raw string keeps the backslash, but it still protects the next character.
      this.#pos += 2;
      return "\\" + next;
    }
    if (next === "\n" || next === "\r") {
      this.#pos += text.startsWith("\r\n", at + 1) ? 3 : 2;
      return "";
    }
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      this.#pos += 2;
      return simple;
    }
    if (/^[0-7]$/.test(next)) {
      const m = /^[0-7]{1,3}/.exec(text.slice(at + 1, at + 4)) as RegExpExecArray;
      this.#pos += 1 + m[0].length;
      return String.fromCodePoint(parseInt(m[0], 8));
    }
    const width = next === "x" ? 2 : next === "u" ? 4 : next === "U" ? 8 : 0;
    if (width > 0) {
      const digits = text.slice(at + 2, at + 2 + width);
      if (!new RegExp(`^[0-9a-fA-F]{${width}}$`).test(digits)) {
        this.fail(`truncated \\${next} escape`, at);
      }
      const code = parseInt(digits, 16);
      if (code > 0x10ffff) this.fail(`illegal Unicode character in \\${next} escape`, at);
      this.#pos += 2 + width;
      return String.fromCodePoint(code);
    }
    if (next === "N") this.fail("\\N{...} escapes are not supported", at);
    // Python keeps unknown escapes as they are (with a warning).
    this.#pos += 1;
    return "\\";
  }
}

/**
 * Parses a Python literal as `ast.literal_eval` would, for the subset a .npy
 * header uses, without evaluating anything.
 *
 * @param text The literal, e.g. a .npy header's dict.
 * @param options Limits, and whether Python 2's `5L` is accepted.
 * @returns The value: ints as `bigint`, tuples as {@linkcode PyTuple}, lists
 * as arrays, dicts as `Map`s (a repeated key keeps its last value, as in Python).
 * @throws {NpyallocError} `E_NOT_NPY` for anything that is not such a literal,
 * with the offset where parsing failed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePyLiteral } from "./py_literal.ts";
 * const d = parsePyLiteral("{'shape': (3, 4), 'ok': True}") as Map<string, unknown>;
 * assert.ok(d.get("ok") === true);
 * ```
 */
export function parsePyLiteral(text: string, options: PyLiteralOptions = {}): PyLiteral {
  const maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
  if (text.length > maxLength) {
    throw new NpyallocError(
      "E_NOT_NPY",
      `Cannot parse header: ${text.length} characters is more than the limit of ${maxLength}`,
    );
  }
  const nul = text.indexOf("\0");
  if (nul >= 0) {
    throw new NpyallocError("E_NOT_NPY", `Cannot parse header at offset ${nul}: null character`);
  }
  // CPython encodes the source to UTF-8 first, which lone surrogates cannot survive.
  const surrogate = /[\ud800-\udfff]/u.exec(text);
  if (surrogate !== null) {
    throw new NpyallocError(
      "E_NOT_NPY",
      `Cannot parse header at offset ${surrogate.index}: lone surrogate character`,
    );
  }
  // Python's tokenizer reads "\r\n" and "\r" as "\n" (inside triple-quoted strings too).
  const parser = new Parser(
    text.includes("\r") ? text.replace(/\r\n?/g, "\n") : text,
    options.allowLongSuffix ?? false,
    options.maxDepth ?? DEFAULT_MAX_DEPTH,
  );
  return parser.parseAll();
}
