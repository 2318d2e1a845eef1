/**
 * How a command of the command line is declared: one table per command gives its usage, its
 * options with their types, defaults and descriptions, and its exit codes. The parser, the
 * defaults shown in help and the help text itself are all made from it (`args.ts`,
 * {@linkcode renderHelp}), and docs/cli.md is generated from the same tables, so none of them
 * can disagree.
 *
 * @module
 */

/** One option of a command. */
export interface OptionSpec {
  /** `boolean`: a flag; `string`: a value; `integer`: a whole number >= `min`; `list`: repeatable. */
  readonly type: "boolean" | "string" | "integer" | "list";
  /** One-letter alias: `j` for `-j`. */
  readonly short?: string;
  /** The value's name in help: `N`, `FILE`, `NAME=VALUE`. */
  readonly value?: string;
  /** What it does, in a few words (help wraps it). */
  readonly help: string;
  /** The default as help shows it, when it has one worth showing. */
  readonly default?: string;
  /** The smallest value of an `integer`. @default {1} */
  readonly min?: number;
  /** The values a `string` may take. */
  readonly choices?: readonly string[];
}

/** One command. */
export interface CommandSpec {
  /** `run`, `report merge`. */
  readonly name: string;
  /** What follows the name in the usage line: `<manifest.yaml> [options]`. */
  readonly usage: string;
  /** One line for the list of commands. */
  readonly summary: string;
  /** What it does, in a paragraph. */
  readonly description: string;
  /** How many positional arguments it takes, and their name for messages. */
  readonly positionals: { readonly min: number; readonly max: number; readonly name: string };
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Its exit codes and what each means. */
  readonly exits: readonly (readonly [number, string])[];
  /** Lines after the options (notes, examples). */
  readonly notes?: string;
}

const WIDTH = 100;
const OPTION_COLUMN = 26;

/** Words of `text` in lines of at most `width` characters. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}

/** `-j, --jobs N`: how an option is written in help. */
export function optionLabel(name: string, spec: OptionSpec): string {
  const value = spec.type === "boolean" ? "" : ` ${spec.value ?? "VALUE"}`;
  return `${spec.short === undefined ? "    " : `-${spec.short}, `}--${name}${value}`;
}

/** The description of an option with its default, as help shows it. */
export function optionText(spec: OptionSpec): string {
  const choices = spec.choices === undefined ? "" : `: ${spec.choices.join(" | ")}`;
  const given = spec.default === undefined ? "" : ` (default ${spec.default})`;
  return `${spec.help}${choices}${given}`;
}

/**
 * The `--help` text of a command.
 *
 * @param spec The command.
 * @returns The text, ending with a newline.
 */
export function renderHelp(spec: CommandSpec): string {
  const out = [`Usage: npyalloc ${spec.name} ${spec.usage}`, ""];
  out.push(...wrap(spec.description, WIDTH), "");
  const options: [string, OptionSpec][] = [
    ...Object.entries(spec.options),
    ["help", { type: "boolean", short: "h", help: "show this help" }],
  ];
  out.push("Options:");
  for (const [name, option] of options) {
    const label = `  ${optionLabel(name, option)}`;
    const text = wrap(optionText(option), WIDTH - OPTION_COLUMN);
    if (label.length < OPTION_COLUMN) {
      out.push(`${label.padEnd(OPTION_COLUMN)}${text[0] ?? ""}`);
    } else {
      out.push(label, `${" ".repeat(OPTION_COLUMN)}${text[0] ?? ""}`);
    }
    for (const line of text.slice(1)) out.push(`${" ".repeat(OPTION_COLUMN)}${line}`);
  }
  if (spec.notes !== undefined) out.push("", ...spec.notes.split("\n"));
  out.push("", "Exit codes:");
  for (const [code, meaning] of spec.exits) {
    const text = wrap(meaning, WIDTH - 8);
    out.push(`  ${String(code).padStart(3)}   ${text[0] ?? ""}`);
    for (const line of text.slice(1)) out.push(`${" ".repeat(8)}${line}`);
  }
  return out.join("\n") + "\n";
}
