/**
 * `{name}` and `{name:03d}` placeholders in paths and shape entries, with a
 * subset of Python's format-spec mini-language: `[[fill]align][0][width][type]`,
 * where align is `<`, `>`, `^` or `=`, and type is `d`, `x`, `X`, `o`, `b`
 * (integers) or `s` (text). `{{` and `}}` are literal braces.
 *
 * How it works: a template is compiled once per manifest entry into literal
 * parts and placeholders bound to the index of their foreach name, then
 * rendered once per expanded array with the values of that combination.
 *
 * @module
 */

/** A value a placeholder takes: from a foreach list or a range. */
export type PlaceholderValue = bigint | number | boolean | string;

interface FormatSpec {
  readonly fill: string;
  readonly align: "<" | ">" | "^" | "=" | undefined;
  readonly width: number;
  readonly type: "d" | "x" | "X" | "o" | "b" | "s" | undefined;
}

interface Placeholder {
  /** Index of the foreach name. */
  readonly index: number;
  /** As written, e.g. `{i:03d}`. */
  readonly raw: string;
  readonly spec: FormatSpec;
}

/** A compiled template. */
export interface Template {
  readonly parts: readonly (string | Placeholder)[];
  /** Indexes of the foreach names it uses. */
  readonly uses: ReadonlySet<number>;
}

/** A result or an error message. */
export type Result<T> = { ok: true; value: T } | { ok: false; message: string };

const FORMAT_SPEC = /^(?:([\s\S])?([<>=^]))?(0)?([0-9]+)?([dxXobs])?$/;
const MAX_WIDTH = 1000;

/**
 * Compiles a template.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileTemplate, renderTemplate } from "./placeholders.ts";
 * const compiled = compileTemplate("part-{i:03d}.npy", ["i"]);
 * if (!compiled.ok) throw new Error(compiled.message);
 * const rendered = renderTemplate(compiled.value, [7n]);
 * assert.ok(rendered.ok && rendered.value === "part-007.npy");
 * ```
 *
 * @param text The text, after `${...}` interpolation.
 * @param names The foreach names, in order.
 * @returns The template, or an error message.
 */
export function compileTemplate(text: string, names: readonly string[]): Result<Template> {
  const parts: (string | Placeholder)[] = [];
  const uses = new Set<number>();
  let literal = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === "}") {
      if (text[i + 1] === "}") {
        literal += "}";
        i += 2;
        continue;
      }
      return fail(`single '}' at character ${i + 1}: write '}}' for a literal brace`);
    }
    if (c !== "{") {
      literal += c;
      i++;
      continue;
    }
    if (text[i + 1] === "{") {
      literal += "{";
      i += 2;
      continue;
    }
    const close = text.indexOf("}", i);
    if (close < 0) {
      return fail(`'{' at character ${i + 1} is never closed: write '{{' for a literal brace`);
    }
    const raw = text.slice(i, close + 1);
    const body = text.slice(i + 1, close);
    const colon = body.indexOf(":");
    const name = colon < 0 ? body : body.slice(0, colon);
    const specText = colon < 0 ? "" : body.slice(colon + 1);
    if (name === "") return fail(`empty placeholder '${raw}': write '{{' for a literal brace`);
    const index = names.indexOf(name);
    if (index < 0) {
      return fail(
        names.length === 0
          ? `unknown placeholder '${raw}': this entry has no foreach (write '{{' and '}}' for literal braces)`
          : `unknown placeholder '${raw}': foreach defines ${
            names.map((n) => `'${n}'`).join(", ")
          }`,
      );
    }
    const spec = parseSpec(specText);
    if (spec === undefined) {
      return fail(
        `unsupported format '${raw}': use [[fill]align][0][width][type] with type d, x, X, o, b or s, ` +
          `e.g. '{${name}:03d}'`,
      );
    }
    if (literal !== "") parts.push(literal);
    literal = "";
    parts.push({ index, raw, spec });
    uses.add(index);
    i = close + 1;
  }
  if (literal !== "" || parts.length === 0) parts.push(literal);
  return { ok: true, value: { parts, uses } };
}

/**
 * Renders a template with one combination of values.
 *
 * @param template The compiled template.
 * @param values The value of each foreach name, in the order given to {@linkcode compileTemplate}.
 * @returns The text, or an error message (a value its format cannot show).
 */
export function renderTemplate(
  template: Template,
  values: readonly PlaceholderValue[],
): Result<string> {
  let out = "";
  for (const part of template.parts) {
    if (typeof part === "string") {
      out += part;
      continue;
    }
    const value = values[part.index];
    if (value === undefined) return fail(`no value for placeholder '${part.raw}'`);
    const text = formatValue(value, part.spec);
    if (text === undefined) {
      return fail(
        `placeholder '${part.raw}' needs an integer, got ${
          typeof value === "string" ? `'${value}'` : String(value)
        }`,
      );
    }
    out += text;
  }
  return { ok: true, value: out };
}

/**
 * The text of a placeholder value without a format: integers in decimal,
 * booleans as YAML writes them (`true`), strings as they are.
 *
 * @param value The value.
 * @returns Its text.
 */
export function valueText(value: PlaceholderValue): string {
  return typeof value === "string" ? value : String(value);
}

function fail<T>(message: string): Result<T> {
  return { ok: false, message };
}

function parseSpec(text: string): FormatSpec | undefined {
  const match = FORMAT_SPEC.exec(text);
  if (match === null) return undefined;
  const [, fillChar, align, zero, width, type] = match;
  const widthNumber = width === undefined ? 0 : Number(width);
  if (widthNumber > MAX_WIDTH) return undefined;
  return {
    fill: fillChar ?? (zero && align === undefined ? "0" : " "),
    align: (align ?? (zero ? "=" : undefined)) as FormatSpec["align"],
    width: widthNumber,
    type: type as FormatSpec["type"],
  };
}

/** An integer a value stands for: bigints, integral numbers and decimal strings. */
function asInteger(value: PlaceholderValue): bigint | undefined {
  if (typeof value === "bigint") return value;
  if (typeof value === "number") return Number.isInteger(value) ? BigInt(value) : undefined;
  if (typeof value === "string" && /^\s*[+-]?[0-9]+\s*$/.test(value)) return BigInt(value.trim());
  return undefined;
}

const RADIX = { d: 10, x: 16, X: 16, o: 8, b: 2 } as const;

function formatValue(value: PlaceholderValue, spec: FormatSpec): string | undefined {
  let sign = "";
  let body: string;
  let numeric: boolean;
  if (spec.type === undefined || spec.type === "s") {
    body = valueText(value);
    numeric = spec.type === undefined && (typeof value === "bigint" || typeof value === "number");
    if (numeric && body.startsWith("-")) {
      sign = "-";
      body = body.slice(1);
    }
  } else {
    const integer = asInteger(value);
    if (integer === undefined) return undefined;
    numeric = true;
    if (integer < 0n) sign = "-";
    const magnitude = integer < 0n ? -integer : integer;
    body = magnitude.toString(RADIX[spec.type]);
    if (spec.type === "X") body = body.toUpperCase();
  }
  if (spec.width === 0) return sign + body;
  // The width counts characters (code points): numbers are ASCII, only text needs counting.
  const length = sign.length + (numeric ? body.length : [...body].length);
  const pad = spec.width - length;
  if (pad <= 0) return sign + body;
  const align = spec.align ?? (numeric ? ">" : "<");
  const fill = (n: number) => spec.fill.repeat(n);
  switch (align) {
    case "<":
      return sign + body + fill(pad);
    case ">":
      return fill(pad) + sign + body;
    case "^":
      return fill(Math.floor(pad / 2)) + sign + body + fill(pad - Math.floor(pad / 2));
    case "=":
      return sign + fill(pad) + body;
  }
}
