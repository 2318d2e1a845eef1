/**
 * Command-line parsing on top of `node:util`'s `parseArgs`, with npyalloc's
 * own one-line usage errors.
 */
import { parseArgs } from "node:util";
import { NpyallocError } from "../errors.ts";

/** One option: a flag or an option with a value. */
export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
  readonly multiple?: boolean;
}

/** Parsed arguments. */
export interface ParsedArgs {
  readonly values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  readonly positionals: string[];
}

/**
 * Parses `args` for `command`. Unknown options, missing values and `--no-x` for an option that
 * has no negation are usage errors.
 *
 * @param command The command's name, for messages.
 * @param args The arguments after the command name.
 * @param options The options it takes (`help` is added).
 * @returns Values and positionals.
 * @throws {NpyallocError} `E_USAGE` with one clear line.
 */
export function parseCommandArgs(
  command: string,
  args: readonly string[],
  options: Record<string, OptionSpec>,
): ParsedArgs {
  try {
    const parsed = parseArgs({
      args: attachValues(args, options),
      options: { help: { type: "boolean", short: "h" }, ...options },
      allowPositionals: true,
      strict: true,
    });
    return { values: parsed.values as ParsedArgs["values"], positionals: parsed.positionals };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new NpyallocError("E_USAGE", `${command}: ${usageText(message)}`);
  }
}

/**
 * Joins every value-taking option with the argument after it (`--fill -inf` becomes
 * `--fill=-inf`), so values may start with a dash as users expect of `--fill -1`.
 */
function attachValues(args: readonly string[], options: Record<string, OptionSpec>): string[] {
  const takesValue = new Set<string>();
  for (const [name, spec] of Object.entries(options)) {
    if (spec.type !== "string") continue;
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

/** parseArgs' messages, shortened to one line and without its hints about `--`. */
function usageText(message: string): string {
  const first = message.split("\n")[0] ?? message;
  return first
    .replace(/\. To specify a positional argument.*$/, "")
    .replace(/\.$/, "")
    .replace(/^Unknown option '(.*)'$/, "unknown option '$1'")
    .replace(/^Option '(.*)' argument missing$/, "option '$1' needs a value");
}

/**
 * Reads a string option, or its default.
 *
 * @param values Parsed values.
 * @param name Option name.
 * @returns The value, if given.
 */
export function stringOption(values: ParsedArgs["values"], name: string): string | undefined {
  const value = values[name];
  if (Array.isArray(value)) return value.at(-1) as string | undefined;
  return typeof value === "string" ? value : undefined;
}

/**
 * Checks that a string option is one of `choices`.
 *
 * @param command The command, for messages.
 * @param name The option.
 * @param value Its value.
 * @param choices The allowed values.
 * @returns The value, typed.
 * @throws {NpyallocError} `E_USAGE` otherwise.
 */
export function choiceOption<T extends string>(
  command: string,
  name: string,
  value: string,
  choices: readonly T[],
): T {
  const found = choices.find((c) => c === value);
  if (found === undefined) {
    throw new NpyallocError(
      "E_USAGE",
      `${command}: --${name} must be one of ${choices.join(", ")}, got '${value}'`,
    );
  }
  return found;
}
