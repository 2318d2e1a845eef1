/**
 * `npyalloc report merge <report.json>... [-o FILE]`: joins the reports of the shards of one
 * sharded run into one report of the whole manifest (SPEC section 6).
 *
 * @module
 */

import fs from "node:fs";
import { mapOsError, NpyallocError } from "../errors.ts";
import { EXIT_MISSING_SHARDS, formatRanges, mergeReports, parseReport } from "../report/merge.ts";
import type { NamedReport } from "../report/merge.ts";
import { writeReport } from "../report/write_report.ts";
import { parseCommandArgs, stringOption } from "./_args.ts";
import type { CommandIo } from "./_io.ts";

/** `npyalloc report --help`. */
export const REPORT_HELP = `Usage: npyalloc report merge <report.json>... [-o FILE]

Commands on reports:
  merge    join the reports of the shards of a sharded run into one report

Run 'npyalloc report merge --help' for its options.
`;

/** `npyalloc report merge --help`. */
export const REPORT_MERGE_HELP = `Usage: npyalloc report merge <report.json>... [-o FILE]

Join the reports of the shards of one sharded run ('npyalloc run --shard K/N' or '--shard auto')
into one report of the whole manifest: shard null, the arrays of every shard sorted by path, the
summary counted again, filesystems joined by device. A report of the whole manifest counts as
shard 0 of 1.

The reports must be of the same manifest (sha256), split the same way (shard count, arrays,
variables), with no shard twice and no array in two shards; otherwise nothing is written.
Missing shards are named, and the merged report is still written, with ok false.

Options:
  -o, --output FILE   where the merged report goes; - for standard output (default -)
      --no-fsync      do not fsync the merged report
  -q, --quiet         print only errors
  -h, --help          show this help

Exit codes: 0 every shard is there and every array is present as declared; 1 every shard is
there but some shard did not succeed (failed or interrupted arrays, conflicts, no space: see
the merged report's exit_code), or the merged report could not be written; 2 bad usage, an
unreadable or invalid report, or reports that cannot be merged (nothing written);
${EXIT_MISSING_SHARDS} shards are missing (the merged report is written, and names them).
`;

/**
 * Runs `npyalloc report <subcommand>`; `merge` is the only one.
 *
 * @param args The arguments after `report`.
 * @param io Output.
 * @returns The exit code of the subcommand.
 * @throws {NpyallocError} `E_USAGE` for an unknown subcommand.
 */
export function reportCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    io.stdout(REPORT_HELP);
    return Promise.resolve(sub === undefined ? 2 : 0);
  }
  if (sub !== "merge") {
    throw new NpyallocError(
      "E_USAGE",
      `report: unknown subcommand '${sub}' (see 'npyalloc report --help')`,
    );
  }
  return reportMergeCommand(rest, io);
}

/**
 * Runs `npyalloc report merge`.
 *
 * @param args The arguments after `report merge`.
 * @param io Output.
 * @returns 0, 1, 2 or 5 (see {@linkcode REPORT_MERGE_HELP}).
 * @throws {NpyallocError} `E_USAGE` for bad arguments.
 */
export async function reportMergeCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs("report merge", args, {
    output: { type: "string", short: "o" },
    "no-fsync": { type: "boolean" },
    quiet: { type: "boolean", short: "q" },
  });
  if (values.help) {
    io.stdout(REPORT_MERGE_HELP);
    return 0;
  }
  if (positionals.length === 0) {
    throw new NpyallocError(
      "E_USAGE",
      "report merge: give the report of every shard (see 'npyalloc report merge --help')",
    );
  }
  const output = stringOption(values, "output") ?? "-";
  const quiet = values.quiet === true;
  const fail = (message: string) => {
    io.stderr(`npyalloc: report merge: ${message}\n`);
    return 2;
  };

  const inputs: NamedReport[] = [];
  for (const file of positionals) {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (err) {
      return fail(mapOsError(err, `Cannot read report '${file}'`).message);
    }
    try {
      inputs.push({ name: file, report: parseReport(text, file) });
    } catch (err) {
      if (err instanceof NpyallocError) return fail(err.message);
      throw err;
    }
  }
  let merged;
  try {
    merged = mergeReports(inputs);
  } catch (err) {
    if (err instanceof NpyallocError) return fail(`${err.message}; nothing was written`);
    throw err;
  }
  const { report, count, present, missing } = merged;
  try {
    await writeReport(report, output, { stdout: io.stdout, fsync: values["no-fsync"] !== true });
  } catch (err) {
    if (!(err instanceof NpyallocError)) throw err;
    io.stderr(`npyalloc: report merge: ${err.message}\n`);
    return 1;
  }

  if (missing.length > 0) {
    io.stderr(
      `npyalloc: report merge: missing shard reports: ${formatRanges(missing)} of ${count} ` +
        `(${present.length} of ${count} given)\n`,
    );
  }
  if (!quiet) {
    const s = report.summary;
    const shards = present.length === count
      ? `all ${count} shards`
      : `${present.length} of ${count} shards`;
    io.stderr(
      `npyalloc: merged ${shards}: ${s.arrays} arrays, ${s.created} created, ` +
        `${s.unchanged} unchanged, ${s.replaced} replaced, ${s.failed} failed` +
        `${s.planned > 0 ? `, ${s.planned} planned` : ""}` +
        `${s.interrupted > 0 ? `, ${s.interrupted} interrupted` : ""}; ` +
        `${report.ok ? "ok" : `not ok (exit_code ${report.exit_code})`}` +
        `${output === "-" ? "" : `; report: ${output}`}\n`,
    );
  }
  return merged.exitCode;
}
