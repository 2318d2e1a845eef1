/**
 * The command line: arguments in, engine call, output out. Each command's arguments are parsed
 * by its table (`commands.ts`) into typed settings, the engine does the work, and this module
 * prints what it returns. Everything it reads or writes of the outside world comes through a
 * {@linkcode CliIo}, so that tests call commands in process with captured output; only
 * `src/cli.ts` reads `process.argv`, installs signal handlers and sets the exit code.
 *
 * @module
 */

import { parse as parseYaml } from "yaml";
import manifestSchema from "../../schemas/manifest.schema.json" with { type: "json" };
import reportSchema from "../../schemas/report.schema.json" with { type: "json" };
import { EXIT, exitCodeOf, NpyallocError } from "../errors.ts";
import { formatBytes, plural } from "../format.ts";
import { toJson } from "../json.ts";
import { formatShape, parseShapeText } from "../npy/shape.ts";
import type { Platform } from "../platform/platform.ts";
import { didYouMean } from "../suggest.ts";
import { VERSION } from "../version.ts";
import type { EngineDeps, Env, Message } from "../engine/deps.ts";
import type { InspectResult } from "../engine/inspect.ts";
import type { Allocation, HeaderVersion, Order } from "../npy/layout.ts";
import { parseCommandArgs, type ParsedArgs } from "./args.ts";
import { COMMANDS, commandSpec } from "./commands.ts";
import { Progress } from "./progress.ts";
import { renderHelp } from "./spec.ts";

/** What a command needs from the outside world. */
export interface CliIo {
  /** Writes text to standard output (no newline added). */
  stdout(text: string): void;
  /** Writes text to standard error (no newline added). */
  stderr(text: string): void;
  /** Environment variables. */
  readonly env: Env;
  /** Whether standard error is a terminal (live progress, colour). */
  readonly isTTY: boolean;
  /** The runtime's platform adapter, loaded on first use. */
  platform(): Promise<Platform>;
  /** Aborts when the user interrupts (SIGINT, SIGTERM). */
  readonly signal?: AbortSignal;
  /** The module writer threads load (the program's entry file). */
  readonly workerModule?: URL;
}

/** `npyalloc --help`. */
export function mainHelp(): string {
  const lines = [
    `npyalloc ${VERSION}: create NumPy .npy files of any size, byte for byte as NumPy writes them`,
    "",
    "Usage:",
  ];
  for (const spec of COMMANDS) {
    const head = `  npyalloc ${spec.name} ${spec.usage}`;
    lines.push(
      head.length < 47
        ? `${head.padEnd(47)}${spec.summary}`
        : `${head}\n${" ".repeat(47)}${spec.summary}`,
    );
  }
  lines.push(
    "  npyalloc --version | --help",
    "",
    "Run 'npyalloc <command> --help' or 'npyalloc help <command>' for the options of a command.",
    "Docs: README.md and docs/ (the reference, docs/README.md lists it) in the package or the clone",
  );
  return lines.join("\n") + "\n";
}

type Handler = (parsed: ParsedArgs, io: CliIo, deps: EngineDeps) => Promise<number>;

/** The words after `npyalloc` that name a command, and the rest. */
function splitCommand(args: readonly string[]): [string, string[]] {
  const [first = "", second, ...rest] = args;
  if (first === "report" && second !== undefined && !second.startsWith("-")) {
    return [`report ${second}`, rest];
  }
  return [first, second === undefined ? [] : [second, ...rest]];
}

/**
 * Runs one npyalloc command line.
 *
 * @param args The arguments after the program name.
 * @param io Output, environment, platform, signal.
 * @param debug Print stack traces of unexpected errors.
 * @returns The exit code.
 */
export async function runCli(args: readonly string[], io: CliIo, debug = false): Promise<number> {
  try {
    const [first] = args;
    if (first === undefined || first === "--help" || first === "-h") {
      io.stdout(mainHelp());
      return first === undefined ? EXIT.usage : EXIT.ok;
    }
    if (first === "--version" || first === "-V") {
      io.stdout(`npyalloc ${VERSION}\n`);
      return EXIT.ok;
    }
    if (first === "help") return help(args.slice(1), io);
    if (first === "report" && (args[1] === undefined || args[1] === "--help" || args[1] === "-h")) {
      io.stdout(
        "Usage: npyalloc report merge <report.json>... [-o FILE]\n\nCommands on " +
          "reports:\n  merge    join the reports of the shards of a sharded run into one report\n\n" +
          "Run 'npyalloc report merge --help' for its options.\n",
      );
      return args[1] === undefined ? EXIT.usage : EXIT.ok;
    }
    const [name, rest] = splitCommand(args);
    const spec = commandSpec(name);
    const handler = HANDLERS[name];
    if (spec === undefined || handler === undefined) {
      const known = COMMANDS.map((c) => c.name.split(" ")[0] as string);
      const word = name.startsWith("report ") ? name.slice(7) : name;
      throw new NpyallocError(
        "E_USAGE",
        name.startsWith("report ")
          ? `report: unknown subcommand '${word}'${
            didYouMean(word, ["merge"])
          } (see 'npyalloc report --help')`
          : `Unknown command '${name}'${
            didYouMean(name, [...known, "help"])
          } (see 'npyalloc --help')`,
      );
    }
    const parsed = parseCommandArgs(spec, rest);
    if (parsed.help) {
      io.stdout(renderHelp(spec));
      return EXIT.ok;
    }
    const platform = await io.platform();
    const quiet = parsed.values.quiet === true;
    const deps: EngineDeps = {
      platform,
      env: io.env,
      ...(io.signal === undefined ? {} : { signal: io.signal }),
      ...(io.workerModule === undefined ? {} : { workerModule: io.workerModule }),
      log: (message: Message) => {
        if (message.important || !quiet) io.stderr(`${message.text}\n`);
      },
    };
    try {
      return await handler(parsed, io, deps);
    } catch (err) {
      // Settings the engine refuses are named after the command, as the parser's are.
      if (
        err instanceof NpyallocError && err.code === "E_USAGE" &&
        !err.message.startsWith(`${name}:`)
      ) {
        throw new NpyallocError("E_USAGE", `${name}: ${err.message}`, { cause: err });
      }
      throw err;
    }
  } catch (err) {
    if (err instanceof NpyallocError) {
      io.stderr(`npyalloc: ${err.message}\n`);
      if (debug && err.cause instanceof Error && err.cause.stack) io.stderr(`${err.cause.stack}\n`);
      return exitCodeOf(err);
    }
    const message = err instanceof Error ? err.message : String(err);
    io.stderr(
      `npyalloc: internal error: ${message.split("\n")[0]} (run with --debug for details)\n`,
    );
    if (debug && err instanceof Error && err.stack) io.stderr(`${err.stack}\n`);
    return EXIT.failed;
  }
}

/** `npyalloc help [command]`. */
function help(args: readonly string[], io: CliIo): number {
  if (args.length === 0) {
    io.stdout(mainHelp());
    return EXIT.ok;
  }
  const name = args.join(" ");
  const spec = commandSpec(name) ?? (name === "report" ? commandSpec("report merge") : undefined);
  if (spec === undefined) {
    throw new NpyallocError(
      "E_USAGE",
      `help: unknown command '${name}'${didYouMean(name, COMMANDS.map((c) => c.name))}`,
    );
  }
  io.stdout(renderHelp(spec));
  return EXIT.ok;
}

function text(parsed: ParsedArgs, name: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === "string" ? value : undefined;
}

function integer(parsed: ParsedArgs, name: string): number | undefined {
  const value = parsed.values[name];
  return typeof value === "number" ? value : undefined;
}

/** `--var NAME=VALUE` options. */
function vars(command: string, parsed: ParsedArgs): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = parsed.values.var;
  for (const entry of Array.isArray(entries) ? entries : []) {
    const eq = entry.indexOf("=");
    const name = eq < 0 ? "" : entry.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new NpyallocError("E_USAGE", `${command}: --var needs NAME=VALUE, got '${entry}'`);
    }
    out[name] = entry.slice(eq + 1);
  }
  return out;
}

/** Only the settings given: the engine fills in its defaults. */
function given<T extends Record<string, unknown>>(settings: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(settings)) if (value !== undefined) out[key] = value;
  return out as Partial<T>;
}

async function runOrPlan(command: "run" | "plan", parsed: ParsedArgs, io: CliIo, deps: EngineDeps) {
  const { runPlan } = await import("../engine/run.ts");
  const report = text(parsed, "report");
  const json = parsed.values.json === true;
  const quiet = parsed.values.quiet === true || (json && report === "-");
  const progress = command === "plan" || parsed.values["dry-run"] === true || quiet
    ? undefined
    : new Progress(io.isTTY ? "live" : "lines", io.stderr, {
      color: io.isTTY && io.env.NO_COLOR === undefined,
    });
  const settings = given({
    manifest: parsed.positionals[0] as string,
    dryRun: command === "plan" || parsed.values["dry-run"] === true || undefined,
    jobs: integer(parsed, "jobs"),
    threads: integer(parsed, "threads"),
    report,
    force: parsed.values.force === true || undefined,
    vars: vars(command, parsed),
    minFree: text(parsed, "min-free"),
    fsync: parsed.values["no-fsync"] === true ? false : undefined,
    shard: text(parsed, "shard"),
    allowOutsideRoot: parsed.values["allow-outside-root"] === true || undefined,
    maxArrays: integer(parsed, "max-arrays"),
  }) as Parameters<typeof runPlan>[0];
  const result = await runPlan(settings, {
    ...deps,
    ...(progress === undefined ? {} : { progress }),
    log: (message) => {
      if (message.important || !quiet) {
        progress?.clear();
        io.stderr(`${message.text}\n`);
      }
    },
  });
  progress?.close();
  if (result.reportText !== null) io.stdout(result.reportText);
  else if (json) {
    const { reportText } = await import("../report/write_report.ts");
    io.stdout(reportText(result.report));
  }
  return result.exitCode;
}

/** `--fill` as typed: the same spellings as a YAML scalar, integers exact to any size. */
function fillOf(value: string): unknown {
  try {
    return parseYaml(value, { intAsBigInt: true, schema: "core" });
  } catch (err) {
    const first = (err instanceof Error ? err.message : String(err)).split("\n")[0];
    throw new NpyallocError("E_USAGE", `create: cannot read --fill '${value}': ${first}`);
  }
}

/** `--dtype` as typed: a dtype string, or a descr list as JSON when it starts with `[`. */
function dtypeOf(value: string): string | unknown[] {
  if (!value.trimStart().startsWith("[")) return value;
  try {
    return JSON.parse(value) as unknown[];
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new NpyallocError("E_USAGE", `create: --dtype '${value}' is not valid JSON: ${why}`);
  }
}

function describeInspect(result: InspectResult): string {
  if (!result.ok && result.header_version === null) return `${result.path}: ${result.error}\n`;
  const lines = [`${result.path}: ${result.ok ? "ok" : `NOT OK: ${result.error}`}`];
  const shape = (result.shape ?? []).map((d) => BigInt(d));
  const label = typeof result.descr === "string" ? result.descr : JSON.stringify(result.descr);
  lines.push(`  header     version ${result.header_version}, ${result.header_bytes} bytes`);
  const item = result.itemsize === null ? "" : ` (${result.itemsize} bytes per item)`;
  lines.push(`  dtype      ${label}${item}`);
  lines.push(
    `  shape      ${formatShape(shape)}, ${result.fortran_order ? "Fortran (F)" : "C"} order`,
  );
  lines.push(
    result.data_bytes === null
      ? "  data       size unknown"
      : `  data       ${result.data_bytes} bytes (${formatBytes(BigInt(result.data_bytes))})`,
  );
  lines.push(
    `  file       ${result.file_bytes} bytes, ${result.expected_file_bytes ?? "?"} expected`,
  );
  const allocated = BigInt(result.allocated_bytes ?? 0);
  const expected = BigInt(result.expected_file_bytes ?? 0);
  const sparse = allocated < expected ? " (sparse: not all blocks are allocated)" : "";
  lines.push(`  allocated  ${allocated} bytes (${formatBytes(allocated)})${sparse}`);
  return lines.join("\n") + "\n";
}

const HANDLERS: Record<string, Handler> = {
  run: (parsed, io, deps) => runOrPlan("run", parsed, io, deps),
  plan: (parsed, io, deps) => runOrPlan("plan", parsed, io, deps),

  async validate(parsed, io, deps) {
    const { validateManifests } = await import("../engine/validate.ts");
    const result = await validateManifests(
      given({
        manifests: parsed.positionals,
        vars: vars("validate", parsed),
        allowOutsideRoot: parsed.values["allow-outside-root"] === true || undefined,
        maxArrays: integer(parsed, "max-arrays"),
      }) as Parameters<typeof validateManifests>[0],
      deps,
    );
    if (parsed.values.quiet !== true) {
      for (const { file, manifest } of result.manifests) {
        if (manifest === null) continue;
        const bytes = manifest.arrays.reduce((sum, a) => sum + a.layout.fileBytes, 0n);
        io.stdout(
          `${file}: ok, ${plural(manifest.arrays.length, "array")}, ${formatBytes(bytes)}\n`,
        );
      }
    }
    return result.exitCode;
  },

  async verify(parsed, io, deps) {
    const { verifyManifest } = await import("../engine/verify.ts");
    const deep = parsed.values.deep === true;
    const file = parsed.positionals[0] as string;
    const result = await verifyManifest(
      given({
        manifests: [file],
        vars: vars("verify", parsed),
        allowOutsideRoot: parsed.values["allow-outside-root"] === true || undefined,
        deep: deep || undefined,
      }) as Parameters<typeof verifyManifest>[0],
      deps,
    );
    if (result.exitCode === EXIT.usage) return result.exitCode;
    for (const d of result.differences) io.stdout(`differs: ${d.path}: ${d.problem}\n`);
    if (parsed.values.quiet !== true) {
      const what = deep ? "headers, sizes and data" : "headers and sizes";
      io.stdout(
        result.differences.length === 0
          ? `${file}: ${
            result.arrays === 1 ? "the array matches" : `all ${result.arrays} arrays match`
          } (${what})\n`
          : `${file}: ${result.differences.length} of ${plural(result.arrays, "array")} ${
            result.differences.length === 1 ? "differs" : "differ"
          }\n`,
      );
    }
    return result.exitCode;
  },

  async create(parsed, io, deps) {
    const { createOne } = await import("../engine/create.ts");
    const shape = text(parsed, "shape");
    if (shape === undefined) {
      throw new NpyallocError(
        "E_USAGE",
        "create: --shape is required (e.g. --shape 1000,1000; '' for 0-d)",
      );
    }
    const dtype = text(parsed, "dtype");
    const fill = text(parsed, "fill");
    const result = await createOne(
      given({
        file: parsed.positionals[0] as string,
        shape: parseShapeText(shape),
        dtype: dtype === undefined ? undefined : dtypeOf(dtype),
        order: text(parsed, "order") as Order | undefined,
        fill: fill === undefined ? undefined : fillOf(fill),
        allocation: text(parsed, "allocation") as Allocation | undefined,
        headerVersion: text(parsed, "header-version") as HeaderVersion | undefined,
        force: parsed.values.force === true || undefined,
        fsync: parsed.values["no-fsync"] === true ? false : undefined,
      }) as Parameters<typeof createOne>[0],
      deps,
    );
    if (result.summary !== null && parsed.values.quiet !== true) io.stdout(`${result.summary}\n`);
    return result.exitCode;
  },

  async inspect(parsed, io, deps) {
    const { inspectFiles } = await import("../engine/inspect.ts");
    const result = await inspectFiles(parsed.positionals, deps);
    if (parsed.values.json === true) {
      const files = result.files;
      io.stdout(toJson(files.length === 1 ? files[0] : files, 2) + "\n");
    } else {
      io.stdout(result.files.map(describeInspect).join(""));
    }
    return result.exitCode;
  },

  schema(parsed, io) {
    const which = parsed.positionals[0] ?? "manifest";
    if (which !== "manifest" && which !== "report") {
      throw new NpyallocError(
        "E_USAGE",
        `schema: expected 'manifest' or 'report', got '${which}'${
          didYouMean(which, ["manifest", "report"])
        }`,
      );
    }
    io.stdout(JSON.stringify(which === "manifest" ? manifestSchema : reportSchema, null, 2) + "\n");
    return Promise.resolve(EXIT.ok);
  },

  async "report merge"(parsed, io, deps) {
    const { mergeReportFiles } = await import("../engine/merge.ts");
    const result = await mergeReportFiles(
      given({
        reports: parsed.positionals,
        output: text(parsed, "output"),
        fsync: parsed.values["no-fsync"] === true ? false : undefined,
      }) as Parameters<typeof mergeReportFiles>[0],
      deps,
    );
    if (result.reportText !== null) io.stdout(result.reportText);
    return result.exitCode;
  },
};
