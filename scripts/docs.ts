/**
 * The parts of `docs/` that are made from the code: every command's options and exit codes (from
 * the command tables the parser and `--help` use), every error code (from `ERROR_CODES`), and
 * every key of the manifest and the report (from the JSON Schemas' descriptions). Each part sits
 * in its page between `<!-- generated: NAME -->` and `<!-- end generated -->`.
 *
 * `npm run docs` (`deno run -A scripts/docs.ts`) writes them; test/docs_test.ts fails while a page
 * is out of date.
 *
 * @module
 */

import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { COMMANDS } from "../src/cli/commands.ts";
import { optionLabel, optionText } from "../src/cli/spec.ts";
import { ERROR_CODES, EXIT } from "../src/errors.ts";
import manifestSchema from "../schemas/manifest.schema.json" with { type: "json" };
import reportSchema from "../schemas/report.schema.json" with { type: "json" };

/** The repository's root folder. */
export const ROOT: string = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");

type Schema = Record<string, unknown>;

/** A Markdown table, its columns padded so that the source reads as a table too. */
function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const cell = (text: string) => text.replaceAll("|", "\\|").replaceAll("\n", " ");
  const all = [head, ...rows].map((row) => row.map(cell));
  const widths = head.map((_, i) => Math.max(3, ...all.map((row) => row[i]!.length)));
  const line = (row: readonly string[]) =>
    `| ${row.map((text, i) => text.padEnd(widths[i]!)).join(" | ")} |`;
  return [
    line(all[0]!),
    `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`,
    ...all.slice(1).map(line),
  ].join("\n");
}

/** Every command: usage, what it does, options with defaults, notes, exit codes. */
export function commandsReference(): string {
  const parts: string[] = [];
  for (const spec of COMMANDS) {
    parts.push(`### \`npyalloc ${spec.name}\``, "");
    parts.push("```", `npyalloc ${spec.name} ${spec.usage}`, "```", "");
    parts.push(spec.description, "");
    const options = Object.entries(spec.options);
    if (options.length > 0) {
      parts.push(
        table(
          ["option", "meaning", "default"],
          options.map(([name, option]) => {
            const { default: given, ...withoutDefault } = option;
            return [
              `\`${optionLabel(name, option).trim()}\``,
              optionText(withoutDefault),
              given ?? "",
            ];
          }),
        ),
        "",
      );
    }
    if (spec.notes !== undefined) parts.push(spec.notes, "");
    parts.push(
      table(["exit", "meaning"], spec.exits.map(([code, meaning]) => [`\`${code}\``, meaning])),
      "",
    );
  }
  return parts.join("\n").trimEnd();
}

/** Every error code with the exit code it gives and what it means. */
export function errorCodesReference(): string {
  return table(
    ["code", "exit", "meaning"],
    Object.entries(ERROR_CODES).map(([code, info]) => [
      `\`${code}\``,
      `\`${info.exit}\``,
      info.description,
    ]),
  );
}

/** Every exit code, with its name in the library's `EXIT`. */
export function exitCodesReference(): string {
  const meaning: Record<string, string> = {
    ok: "everything is as declared",
    failed: "something failed while writing, verifying or inspecting, or the report could not " +
      "be written; whatever else could be done was done",
    usage: "bad usage or an invalid manifest; nothing was touched",
    noSpace: "not enough free space or inodes, found before anything was touched",
    conflict: "existing files conflict with the request and --force was not given; nothing " +
      "was touched",
    missingShards: "`report merge`: some shard's report is missing (the merged report names them)",
    interrupted: "interrupted by SIGINT or SIGTERM; no partial file is left at any target",
  };
  return table(
    ["exit", "`EXIT.`", "meaning"],
    Object.entries(EXIT).map(([name, code]) => [`\`${code}\``, `\`${name}\``, meaning[name]!]),
  );
}

/** The type of a schema node, in a few words. */
function typeOf(node: Schema, root: Schema): string {
  const ref = node.$ref as string | undefined;
  if (ref !== undefined) return typeOf(resolve(ref, root), root);
  if (Array.isArray(node.enum)) {
    if (node.enum.every((v) => typeof v === "string" && v.startsWith("E_"))) {
      return "an [error code](errors.md)";
    }
    return node.enum.map((v) => `\`${JSON.stringify(v)}\``).join(", ");
  }
  if (node.const !== undefined) return `\`${JSON.stringify(node.const)}\``;
  const alternatives = (node.anyOf ?? node.oneOf) as Schema[] | undefined;
  if (alternatives !== undefined) {
    return [...new Set(alternatives.map((alt) => typeOf(alt, root)))].join(" or ");
  }
  const type = node.type;
  if (Array.isArray(type)) return type.join(" or ");
  if (type === "array") {
    const items = node.items as Schema | undefined;
    return items === undefined ? "list" : `list of ${typeOf(items, root)}`;
  }
  return typeof type === "string" ? type : "any";
}

function resolve(ref: string, root: Schema): Schema {
  let node: unknown = root;
  for (const part of ref.replace(/^#\//, "").split("/")) node = (node as Schema)[part];
  return node as Schema;
}

/** The object a property leads to, through `$ref`, `items` and nullable `anyOf`. */
function objectBelow(node: Schema, root: Schema): Schema | null {
  if (typeof node.$ref === "string") return objectBelow(resolve(node.$ref, root), root);
  if (node.properties !== undefined) return node;
  if (node.items !== undefined) return objectBelow(node.items as Schema, root);
  for (const alt of ((node.anyOf ?? node.oneOf) as Schema[] | undefined) ?? []) {
    const found = objectBelow(alt, root);
    if (found !== null) return found;
  }
  return null;
}

/**
 * One row per key of an object schema and of the objects below it: its dotted path, its type,
 * whether it is required, and its description.
 */
function keysOf(
  object: Schema,
  root: Schema,
  prefix: string,
  rows: string[][],
  seen: Set<Schema>,
): void {
  if (seen.has(object)) return;
  seen.add(object);
  const required = new Set((object.required as string[] | undefined) ?? []);
  const properties = object.properties as Record<string, Schema>;
  for (const [name, node] of Object.entries(properties)) {
    const key = `${prefix}${name}`;
    const description = String(node.description ?? resolved(node, root).description ?? "");
    rows.push([`\`${key}\``, typeOf(node, root), required.has(name) ? "yes" : "", description]);
    const below = objectBelow(node, root);
    if (below !== null) {
      const list = node.type === "array" || resolved(node, root).type === "array";
      keysOf(below, root, `${key}${list ? "[]" : ""}.`, rows, seen);
    }
  }
  seen.delete(object);
}

function resolved(node: Schema, root: Schema): Schema {
  return typeof node.$ref === "string" ? resolve(node.$ref, root) : node;
}

/** Every key of the report, from the report schema. */
export function reportKeysReference(): string {
  const rows: string[][] = [];
  keysOf(reportSchema as Schema, reportSchema as Schema, "", rows, new Set());
  return table(["key", "type", "always", "meaning"], rows);
}

/** The manifest's top-level keys and the fields of an array, from the manifest schema. */
export function manifestKeysReference(): string {
  const root = manifestSchema as Schema;
  const properties = root.properties as Record<string, Schema>;
  const required = new Set(root.required as string[]);
  const top = Object.entries(properties).map(([name, node]) => [
    `\`${name}\``,
    typeOf(node, root),
    required.has(name) ? "yes" : "",
    String(node.description ?? ""),
  ]);
  const array = objectBelow(properties.arrays!, root)!;
  const arrayRequired = new Set((array.required as string[] | undefined) ?? []);
  const fields = Object.entries(array.properties as Record<string, Schema>).map((
    [name, node],
  ) => [
    `\`${name}\``,
    typeOf(node, root),
    arrayRequired.has(name) ? "yes" : "",
    String(node.description ?? resolved(node, root).description ?? ""),
  ]);
  return [
    table(["key", "type", "required", "meaning"], top),
    "",
    "The fields of an entry of `arrays` (all but `path` and `foreach` may also go in `defaults`):",
    "",
    table(["field", "type", "required", "meaning"], fields),
  ].join("\n");
}

/** Each generated part: the page it is in and the function that makes it. */
export const GENERATED: Readonly<Record<string, Readonly<Record<string, () => string>>>> = {
  "docs/cli.md": { commands: commandsReference },
  "docs/errors.md": { "error-codes": errorCodesReference, "exit-codes": exitCodesReference },
  "docs/report.md": { "report-keys": reportKeysReference },
  "docs/manifest.md": { "manifest-keys": manifestKeysReference },
};

const BLOCK = /<!-- generated: ([\w-]+) -->\n[\s\S]*?<!-- end generated -->/g;

/**
 * A page with its generated parts made afresh.
 *
 * @param page The page's path from the repository's root, e.g. `docs/cli.md`.
 * @param text The page's text.
 * @returns The text with every generated part replaced.
 * @throws {Error} When a part the page must have is missing, or an unknown one is there.
 */
export function regenerate(page: string, text: string): string {
  const parts = GENERATED[page] ?? {};
  const found = new Set<string>();
  const out = text.replace(BLOCK, (_all, name: string) => {
    const make = parts[name];
    if (make === undefined) throw new Error(`${page}: unknown generated part '${name}'`);
    found.add(name);
    return `<!-- generated: ${name} -->\n<!-- deno-fmt-ignore-start -->\n\n${make()}\n\n` +
      `<!-- deno-fmt-ignore-end -->\n<!-- end generated -->`;
  });
  for (const name of Object.keys(parts)) {
    if (!found.has(name)) throw new Error(`${page}: the generated part '${name}' is missing`);
  }
  return out;
}

if (import.meta.main) {
  for (const page of Object.keys(GENERATED)) {
    const file = path.join(ROOT, page);
    const text = fs.readFileSync(file, "utf8");
    const next = regenerate(page, text);
    if (next !== text) {
      fs.writeFileSync(file, next);
      process.stdout.write(`updated ${page}\n`);
    }
  }
}
