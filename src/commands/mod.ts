/**
 * The command dispatcher: `npyalloc <command> [args]` to the command's
 * function. Returns an exit code; prints only through the given `CommandIo`.
 *
 * @module
 */

import { type ErrorCode, NpyallocError } from "../errors.ts";
import { VERSION } from "../version.ts";
import type { CommandIo } from "./_io.ts";

export type { CommandIo } from "./_io.ts";

/** `npyalloc --help`. */
export const MAIN_HELP =
  `npyalloc ${VERSION}: create NumPy .npy files of any size, byte for byte as NumPy writes them

Usage:
  npyalloc run <manifest.yaml> [options]       create every array the manifest declares
  npyalloc plan <manifest.yaml> [options]      what run would do and the space it needs
  npyalloc validate <manifest.yaml>...         schema and semantic checks only
  npyalloc verify <manifest.yaml> [--deep]     do the files on disk match the manifest?
  npyalloc create <file.npy> --shape 1000,1000 [--dtype float32] [--order C|F] [--fill VALUE]
                  [--allocation auto|sparse|reserve|write]
  npyalloc inspect <file.npy>... [--json]      header, layout, sizes, allocated blocks
  npyalloc schema [manifest|report]            print a JSON Schema
  npyalloc report merge <report.json>... [-o FILE]
                                               join the reports of the shards of a run
  npyalloc --version | --help

Run 'npyalloc <command> --help' for the options of a command.
`;

// Each command is imported when it runs, so that `--version` and `create` do not load (and
// evaluate) the manifest code, yaml and ajv: start-up is part of every invocation.
const COMMANDS: Record<string, (args: readonly string[], io: CommandIo) => Promise<number>> = {
  run: async (args, io) => (await import("./run.ts")).runCommand("run", args, io),
  plan: async (args, io) => (await import("./run.ts")).runCommand("plan", args, io),
  validate: async (args, io) => (await import("./validate.ts")).validateCommand(args, io),
  verify: async (args, io) => (await import("./verify.ts")).verifyCommand(args, io),
  create: async (args, io) => (await import("./create.ts")).createCommand(args, io),
  inspect: async (args, io) => (await import("./inspect.ts")).inspectCommand(args, io),
  schema: async (args, io) => (await import("./schema.ts")).schemaCommand(args, io),
  report: async (args, io) => (await import("./report_merge.ts")).reportCommand(args, io),
};

/** Exit codes by error code: 2 for bad input, 3 for space, 4 for conflicts, 130 for signals. */
const EXIT_CODES: Partial<Record<ErrorCode, number>> = {
  E_USAGE: 2,
  E_MANIFEST: 2,
  E_DTYPE: 2,
  E_SHAPE: 2,
  E_FILL: 2,
  E_ALLOCATION: 2,
  E_HEADER: 2,
  E_NO_INODES: 3,
  E_EXISTS: 4,
  E_CONFLICT: 4,
  E_INTERRUPTED: 130,
};

/**
 * The exit code for an error a command threw.
 *
 * @param err The error.
 * @returns 2, 3, 4, 130, or 1 for anything that failed while writing.
 */
export function exitCodeFor(err: NpyallocError): number {
  return EXIT_CODES[err.code] ?? 1;
}

/**
 * Runs one npyalloc command line.
 *
 * @param args The arguments after the program name.
 * @param io Output and platform.
 * @param debug Print stack traces of unexpected errors.
 * @returns The exit code.
 */
export async function runCli(
  args: readonly string[],
  io: CommandIo,
  debug = false,
): Promise<number> {
  const [first, ...rest] = args;
  try {
    if (first === undefined || first === "--help" || first === "-h" || first === "help") {
      io.stdout(MAIN_HELP);
      return first === undefined ? 2 : 0;
    }
    if (first === "--version" || first === "-V") {
      io.stdout(`npyalloc ${VERSION}\n`);
      return 0;
    }
    const command = COMMANDS[first];
    if (command === undefined) {
      throw new NpyallocError("E_USAGE", `Unknown command '${first}' (see 'npyalloc --help')`);
    }
    return await command(rest, io);
  } catch (err) {
    if (err instanceof NpyallocError) {
      io.stderr(`npyalloc: ${err.message}\n`);
      if (debug && err.cause instanceof Error && err.cause.stack) io.stderr(`${err.cause.stack}\n`);
      return exitCodeFor(err);
    }
    const message = err instanceof Error ? err.message : String(err);
    io.stderr(
      `npyalloc: internal error: ${message.split("\n")[0]} (run with --debug for details)\n`,
    );
    if (debug && err instanceof Error && err.stack) io.stderr(`${err.stack}\n`);
    return 1;
  }
}
