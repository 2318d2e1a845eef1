/**
 * `npyalloc validate <manifest.yaml>...`: schema and semantic checks only;
 * touches nothing.
 *
 * @module
 */

import { NpyallocError } from "../errors.ts";
import { loadManifest, ManifestError } from "../manifest/mod.ts";
import { parseCommandArgs } from "./_args.ts";
import { formatBytes } from "../format.ts";
import type { CommandIo } from "./_io.ts";
import { parseVars } from "./_vars.ts";

/** `npyalloc validate --help`. */
export const VALIDATE_HELP = `Usage: npyalloc validate <manifest.yaml>... [options]

Check manifests against the schema and the rules npyalloc enforces (paths inside the root,
dtypes, fills, sizes), reporting every problem as file:line:column: path: message. Touches
nothing; does not look at free space or existing files (use 'npyalloc plan' for that).

Options:
  --var NAME=VALUE        set or override a manifest variable (repeatable)
  --allow-outside-root    allow array paths that leave the manifest's root
  --max-arrays N          refuse manifests that expand to more arrays (default 1000000)
  -q, --quiet             print only problems
  -h, --help              show this help

Exit codes: 0 every manifest is valid; 2 some manifest is not, or bad usage.
`;

/**
 * Runs `npyalloc validate`.
 *
 * @param args The arguments after `validate`.
 * @param io Output and environment.
 * @returns 0 when every manifest is valid, else 2.
 * @throws {NpyallocError} `E_USAGE` for bad arguments.
 */
export function validateCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs("validate", args, {
    var: { type: "string", multiple: true },
    "allow-outside-root": { type: "boolean" },
    "max-arrays": { type: "string" },
    quiet: { type: "boolean", short: "q" },
  });
  if (values.help) {
    io.stdout(VALIDATE_HELP);
    return Promise.resolve(0);
  }
  if (positionals.length === 0) {
    throw new NpyallocError("E_USAGE", "validate: give at least one <manifest.yaml>");
  }
  const vars = parseVars("validate", values.var as string[] | undefined);
  const maxText = typeof values["max-arrays"] === "string" ? values["max-arrays"] : "1000000";
  if (!/^[1-9]\d*$/.test(maxText)) {
    throw new NpyallocError(
      "E_USAGE",
      `validate: --max-arrays must be an integer >= 1, got '${maxText}'`,
    );
  }
  let code = 0;
  for (const file of positionals) {
    try {
      const manifest = loadManifest(file, {
        vars,
        env: io.env,
        allowOutsideRoot: values["allow-outside-root"] === true,
        maxArrays: Number(maxText),
      });
      const bytes = manifest.arrays.reduce((sum, a) => sum + a.layout.fileBytes, 0n);
      if (values.quiet !== true) {
        io.stdout(`${file}: ok, ${manifest.arrays.length} arrays, ${formatBytes(bytes)}\n`);
      }
    } catch (err) {
      if (!(err instanceof ManifestError)) throw err;
      io.stderr(`${err.message}\n`);
      code = 2;
    }
  }
  return Promise.resolve(code);
}
