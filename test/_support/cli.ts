/** Runs the real CLI as a separate process, under the runtime running the tests. */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "cli.ts");

/** What a CLI run printed and returned. */
export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `npyalloc <args>` with the runtime that runs the test (Deno or Bun).
 *
 * @param args Command-line arguments.
 * @param options Working folder and extra environment.
 * @returns Exit status and output.
 */
export function runCliProcess(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): CliRun {
  const isDeno = "Deno" in globalThis;
  const argv = isDeno ? ["run", "-A", CLI, ...args] : [CLI, ...args];
  const result = spawnSync(process.execPath, argv, {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    encoding: "utf8",
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
