/**
 * Parsing a command's arguments by its table (`spec.ts`), on top of `node:util`'s `parseArgs`,
 * with npyalloc's own one-line usage errors and "did you mean" for a mistyped option.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { NpyallocError } from "../errors.ts";
import { didYouMean } from "../suggest.ts";
import type { CommandSpec, OptionSpec } from "./spec.ts";

/** A parsed value: a flag, a string, an integer, or the strings of a repeated option. */
export type ArgValue = boolean | string | number | string[];

/** Parsed arguments. */
export interface ParsedArgs {
  /** By option name, only the options given. */
  readonly values: Readonly<Record<string, ArgValue>>;
  readonly positionals: readonly string[];
  /** `-h` or `--help` was given. */
  readonly help: boolean;
}

function usage(spec: CommandSpec, message: string): NpyallocError {
  // Sentence case after the command's name, like every other message.
  const text = message.charAt(0).toUpperCase() + message.slice(1);
  return new NpyallocError("E_USAGE", `${spec.name}: ${text}`);
}

/**
 * Parses the arguments after a command's name.
 *
 * @param spec The command.
 * @param args The arguments.
 * @returns Values and positionals.
 * @throws {NpyallocError} `E_USAGE` with one clear line: an unknown option (and the nearest
 *   known one), a missing or malformed value, the wrong number of positionals.
 */
export function parseCommandArgs(spec: CommandSpec, args: readonly string[]): ParsedArgs {
  const options: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean }
  > = { help: { type: "boolean", short: "h" } };
  for (const [name, option] of Object.entries(spec.options)) {
    options[name] = {
      type: option.type === "boolean" ? "boolean" : "string",
      ...(option.short === undefined ? {} : { short: option.short }),
      ...(option.type === "list" ? { multiple: true } : {}),
    };
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: attachValues(args, spec.options),
      options,
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw usage(spec, usageText(err instanceof Error ? err.message : String(err), spec));
  }
  const raw = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const help = raw.help === true;
  const values: Record<string, ArgValue> = {};
  for (const [name, option] of Object.entries(spec.options)) {
    const value = raw[name];
    if (value === undefined) continue;
    values[name] = convert(spec, name, option, value);
  }
  const { positionals } = parsed;
  if (!help) {
    const { min, max, name } = spec.positionals;
    if (positionals.length < min || positionals.length > max) {
      const count = min === max
        ? `exactly ${min === 1 ? "one" : min}`
        : max === Infinity
        ? `at least ${min === 1 ? "one" : min}`
        : `${min} to ${max}`;
      throw usage(spec, `give ${count} ${name} (see 'npyalloc ${spec.name} --help')`);
    }
  }
  return { values, positionals, help };
}

function convert(
  spec: CommandSpec,
  name: string,
  option: OptionSpec,
  value: string | boolean | string[],
): ArgValue {
  if (option.type === "boolean" || option.type === "list") return value;
  const text = Array.isArray(value) ? value.at(-1) ?? "" : String(value);
  if (option.type === "integer") {
    const min = option.min ?? 1;
    const n = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) {
      throw usage(spec, `--${name} must be an integer >= ${min}, got '${text}'`);
    }
    return n;
  }
  if (option.choices !== undefined && !option.choices.includes(text)) {
    throw usage(
      spec,
      `--${name} must be one of ${option.choices.join(", ")}, got '${text}'` +
        didYouMean(text, option.choices),
    );
  }
  return text;
}

/**
 * Joins every value-taking option with the argument after it (`--fill -inf` becomes
 * `--fill=-inf`), so values may start with a dash as users expect of `--fill -1`.
 */
function attachValues(
  args: readonly string[],
  options: Readonly<Record<string, OptionSpec>>,
): string[] {
  const takesValue = new Set<string>();
  for (const [name, spec] of Object.entries(options)) {
    if (spec.type === "boolean") continue;
    takesValue.add(`--${name}`);
    if (spec.short !== undefined) takesValue.add(`-${spec.short}`);
  }
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      out.push(...args.slice(i));
      break;
    }
    const next = args[i + 1];
    if (takesValue.has(arg) && next !== undefined && next.startsWith("-")) {
      out.push(arg.startsWith("--") ? `${arg}=${next}` : `${arg}${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** parseArgs' messages, shortened to one line, without its hints about `--`, with a suggestion. */
function usageText(message: string, spec: CommandSpec): string {
  const first = (message.split("\n")[0] ?? message)
    .replace(/\. To specify a positional argument.*$/, "")
    .replace(/\.$/, "");
  const unknown = /^Unknown option '(.*)'$/.exec(first);
  if (unknown !== null) {
    const typed = unknown[1] as string;
    const names = Object.keys(spec.options).map((n) => `--${n}`);
    return `unknown option '${typed}'${didYouMean(typed, [...names, "--help"])}`;
  }
  return first.replace(/^Option '(.*)' argument missing$/, "option '$1' needs a value");
}
