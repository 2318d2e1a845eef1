/** `--var NAME=VALUE` options. */
import { NpyallocError } from "../errors.ts";

/**
 * Parses repeated `--var NAME=VALUE` options.
 *
 * @param command The command, for messages.
 * @param entries The option values.
 * @returns The variables; a later one overrides an earlier one of the same name.
 * @throws {NpyallocError} `E_USAGE` for an entry without `=` or with a bad name.
 */
export function parseVars(
  command: string,
  entries: readonly string[] | undefined,
): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const entry of entries ?? []) {
    const eq = entry.indexOf("=");
    const name = eq < 0 ? "" : entry.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new NpyallocError("E_USAGE", `${command}: --var needs NAME=VALUE, got '${entry}'`);
    }
    vars[name] = entry.slice(eq + 1);
  }
  return vars;
}
