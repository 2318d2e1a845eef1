/**
 * Manifest problems: the error that carries them, their one-line format, and
 * the list that collects them while a manifest is loaded.
 *
 * @module
 */

import { NpyallocError } from "../errors.ts";
import type { ManifestProblem, SourceLocation } from "./types.ts";

/** A line and column in the manifest (1-based); line 0 stands for the whole file. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/**
 * Formats one problem as `file:line:column: json.path: message`. The
 * position is left out for problems about the whole file (line 0), and the
 * JSON path when it is empty (the document itself).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatProblem } from "./problems.ts";
 * const text = formatProblem({
 *   location: { file: "data.yaml", line: 14, column: 12 },
 *   jsonPath: "arrays[3].shape[1]",
 *   message: "Must be an integer >= 0, got -4",
 * });
 * assert.ok(text === "data.yaml:14:12: arrays[3].shape[1]: Must be an integer >= 0, got -4");
 * ```
 *
 * @param problem The problem.
 * @returns One line of text.
 */
export function formatProblem(problem: ManifestProblem): string {
  const { file, line, column } = problem.location;
  const where = line > 0 ? `${file}:${line}:${column}` : file;
  const path = problem.jsonPath === "" ? "" : `${problem.jsonPath}: `;
  return `${where}: ${path}${problem.message}`;
}

/**
 * An invalid manifest: every problem found (up to the limit), each with the
 * position of the offending YAML node and the JSON path of the value.
 *
 * Its message is the problems, formatted by {@linkcode formatProblem}, one per
 * line, in the order they appear in the file; when the limit cut the list
 * short, a last line says so.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ManifestError } from "./problems.ts";
 * const err = new ManifestError([{
 *   location: { file: "m.yaml", line: 2, column: 1 },
 *   jsonPath: "",
 *   message: "Unknown key 'arrayz' (did you mean 'arrays'?)",
 * }]);
 * assert.ok(err.code === "E_MANIFEST");
 * assert.ok(err.message === "m.yaml:2:1: Unknown key 'arrayz' (did you mean 'arrays'?)");
 * ```
 */
export class ManifestError extends NpyallocError {
  /** Every problem found, ordered by position. */
  readonly problems: readonly ManifestProblem[];
  /** Whether more problems were found than `problems` holds. */
  readonly truncated: boolean;

  /**
   * @param problems The problems, at least one.
   * @param options `truncated` when the list was cut at the limit; the underlying cause, if any.
   */
  constructor(
    problems: readonly ManifestProblem[],
    options: { truncated?: boolean; cause?: unknown } = {},
  ) {
    const lines = problems.map(formatProblem);
    const truncated = options.truncated ?? false;
    if (truncated) lines.push(`Stopped after ${problems.length} problems`);
    super("E_MANIFEST", lines.join("\n"), { cause: options.cause });
    this.name = "ManifestError";
    this.problems = problems;
    this.truncated = truncated;
  }
}

/**
 * Collects problems while a manifest is checked: drops exact repeats (the
 * same message at the same place, as every item of a foreach makes), and
 * throws them all, sorted by position, as one {@linkcode ManifestError}.
 */
/** A message in sentence case, as every message is (its control characters escaped). */
function sentence(message: string): string {
  const text = escapeControls(message);
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export class ProblemList {
  readonly #file: string;
  readonly #max: number;
  readonly #problems: { problem: ManifestProblem; order: number }[] = [];
  readonly #seen = new Set<string>();
  /** Values read from the environment, by variable name: never shown (docs/manifest.md, "interpolation"). */
  readonly #hidden = new Map<string, string>();

  /**
   * @param file The manifest file as the user named it.
   * @param max How many problems to report at most.
   */
  constructor(file: string, max: number) {
    this.#file = file;
    this.#max = Math.max(1, max);
  }

  /** The manifest file as the user named it. */
  get file(): string {
    return this.#file;
  }

  /** How many problems are collected. */
  get count(): number {
    return this.#problems.length;
  }

  /** Whether enough problems are collected to stop looking for more. */
  get full(): boolean {
    return this.#problems.length > this.#max;
  }

  /**
   * Hides a value read from the environment: wherever a message quotes it ('...'), the message
   * names the variable (`${NAME}`) instead, so that a token in the environment never reaches
   * stderr or the report.
   *
   * @param name The variable's name.
   * @param value Its value.
   */
  hide(name: string, value: string): void {
    if (value !== "") this.#hidden.set(name, value);
  }

  /**
   * A value as a message shows it: `'text'`, `'text' (from 'source')` when the source used
   * variables, or only `'source'` when one of them came from the environment (its value is hidden).
   *
   * @param text The value after interpolation.
   * @param source The value as written in the manifest.
   * @returns The words to put after "got".
   */
  shown(text: string, source: string): string {
    if (text === source) return `'${text}'`;
    if (this.hides(source)) return `'${source}' (the value of an environment variable, not shown)`;
    return `'${text}' (from '${source}')`;
  }

  /** Whether `source` uses a variable whose value came from the environment. */
  hides(source: string): boolean {
    // `${NAME}`, `${NAME:-…}` or `${NAME:?…}`; not `${NAMES}`.
    for (const name of this.#hidden.keys()) {
      if (source.includes(`\${${name}}`) || source.includes(`\${${name}:`)) return true;
    }
    return false;
  }

  /** The message with every hidden value inside quotes replaced by its variable's name. */
  #redact(message: string): string {
    if (this.#hidden.size === 0) return message;
    const hidden = [...this.#hidden].sort((a, b) => b[1].length - a[1].length);
    const named = (text: string, short: boolean): string => {
      let out = text;
      for (const [name, value] of hidden) {
        if (short || value.length >= 4) out = out.split(value).join(`\${${name}}`);
      }
      return out;
    };
    // Inside quotes any value; elsewhere only values too long to be an ordinary word or number.
    return named(message.replace(/'[^']*'/g, (quoted) => named(quoted, true)), false);
  }

  /**
   * Records one problem.
   *
   * @param at Where the offending node is.
   * @param jsonPath The JSON path of the value.
   * @param message What is wrong.
   * @param same Problems at the same place with the same `same` are reported
   *   once (default: the message).
   */
  add(at: Position, jsonPath: string, message: string, same: string = message): void {
    const key = `${at.line}:${at.column}:${same}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    const location: SourceLocation = { file: this.#file, line: at.line, column: at.column };
    this.#problems.push({
      problem: {
        location,
        jsonPath: escapeControls(jsonPath),
        message: sentence(this.#redact(message)),
      },
      order: this.#problems.length,
    });
  }

  /**
   * Throws the problems collected so far, if there are any.
   *
   * @param cause The underlying error, if any.
   * @throws {ManifestError} When at least one problem was recorded.
   */
  throwIfAny(cause?: unknown): void {
    if (this.#problems.length === 0) return;
    const sorted = [...this.#problems].sort((a, b) =>
      a.problem.location.line - b.problem.location.line ||
      a.problem.location.column - b.problem.location.column ||
      a.order - b.order
    ).map((entry) => entry.problem);
    const truncated = sorted.length > this.#max;
    throw new ManifestError(sorted.slice(0, this.#max), { truncated, cause });
  }
}

// Line breaks, terminal escapes and bidirectional overrides, which values quoted in a message
// may carry: each problem must stay one line, shown as written.
// deno-lint-ignore no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `text` with control characters written as escapes (`\n`, `\u001B`). */
function escapeControls(text: string): string {
  return text.replace(CONTROLS, (c) => {
    const escaped = JSON.stringify(c).slice(1, -1);
    if (escaped.length > 1) return escaped;
    return `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
  });
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Appends a key or an index to a JSON path: `arrays` + 3 is `arrays[3]`,
 * `vars` + `N` is `vars.N`, and a key that is not an identifier is quoted
 * (`vars["a.b"]`).
 *
 * @param base The path so far; `""` for the document.
 * @param key A mapping key or a list index.
 * @returns The longer path.
 */
export function jsonPathJoin(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  if (!IDENTIFIER.test(key)) return `${base}[${JSON.stringify(key)}]`;
  return base === "" ? key : `${base}.${key}`;
}

/**
 * Shows a value in a message the way a user wrote it in YAML: strings
 * quoted, lists and mappings named rather than dumped.
 *
 * @param value A value from the manifest.
 * @returns A short description.
 */
export function showValue(value: unknown): string {
  if (typeof value === "string") {
    const text = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return `'${text}'`;
  }
  if (value === null || value === undefined) return "null (no value)";
  if (typeof value === "number") {
    if (Number.isNaN(value)) return ".nan";
    if (value === Infinity) return ".inf";
    if (value === -Infinity) return "-.inf";
    return String(value);
  }
  if (typeof value === "bigint" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return "an empty list";
    return value.length === 1 ? "a list of 1 item" : `a list of ${value.length} items`;
  }
  return "a mapping";
}
