/**
 * `npyalloc schema [manifest|report]`: prints a JSON Schema.
 *
 * @module
 */

import manifestSchema from "../../schemas/manifest.schema.json" with { type: "json" };
import reportSchema from "../../schemas/report.schema.json" with { type: "json" };
import { NpyallocError } from "../errors.ts";
import { parseCommandArgs } from "./_args.ts";
import type { CommandIo } from "./_io.ts";

/** `npyalloc schema --help`. */
export const SCHEMA_HELP = `Usage: npyalloc schema [manifest|report]

Print the JSON Schema (draft 2020-12) of manifests (the default) or of reports. Editors use the
manifest schema through a first line such as
  # yaml-language-server: $schema=./manifest.schema.json
`;

/**
 * Runs `npyalloc schema`.
 *
 * @param args The arguments after `schema`.
 * @param io Output.
 * @returns 0.
 * @throws {NpyallocError} `E_USAGE` for anything but `manifest` or `report`.
 */
export function schemaCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs("schema", args, {});
  if (values.help) {
    io.stdout(SCHEMA_HELP);
    return Promise.resolve(0);
  }
  const which = positionals[0] ?? "manifest";
  if (positionals.length > 1 || (which !== "manifest" && which !== "report")) {
    throw new NpyallocError(
      "E_USAGE",
      `schema: expected 'manifest' or 'report', got '${positionals.join(" ")}'`,
    );
  }
  io.stdout(JSON.stringify(which === "manifest" ? manifestSchema : reportSchema, null, 2) + "\n");
  return Promise.resolve(0);
}
