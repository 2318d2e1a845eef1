/**
 * `npyalloc inspect <file.npy>... [--json]`: what a .npy file's header says,
 * and whether the file on disk agrees with it.
 *
 * @module
 */

import fs from "node:fs";
import { mapOsError, NpyallocError } from "../errors.ts";

import { readHeaderInfoFromFile } from "../npy/header.ts";
import { formatShape } from "../npy/shape.ts";
import { exactNumber, toJson } from "../json.ts";
import { parseCommandArgs } from "./_args.ts";
import { formatBytes } from "../format.ts";
import type { CommandIo } from "./_io.ts";

/** `npyalloc inspect --help`. */
export const INSPECT_HELP = `Usage: npyalloc inspect <file.npy>... [--json]

Show the header, layout, sizes and allocated blocks of .npy files, and whether each file is
complete. Never evaluates the header: it is parsed as data.

Options:
  --json        one JSON object per file (an array of them for several files)
  -h, --help    show this help

Exit codes: 0 every file is a complete .npy file; 1 some file is not (truncated, malformed,
missing); 2 bad usage.
`;

/** What `inspect --json` prints for one file. */
export interface InspectResult {
  path: string;
  ok: boolean;
  header_version: string | null;
  header_bytes: number | null;
  descr: unknown;
  shape: (number | bigint)[] | null;
  fortran_order: boolean | null;
  itemsize: number | null;
  data_bytes: number | bigint | null;
  file_bytes: number | bigint | null;
  expected_file_bytes: number | bigint | null;
  allocated_bytes: number | bigint | null;
  error: string | null;
}

/**
 * Inspects one file. Never throws for a bad file: the result says what is wrong.
 *
 * @param file The path.
 * @returns The result.
 */
export async function inspectFile(file: string): Promise<InspectResult> {
  const result: InspectResult = {
    path: file,
    ok: false,
    header_version: null,
    header_bytes: null,
    descr: null,
    shape: null,
    fortran_order: null,
    itemsize: null,
    data_bytes: null,
    file_bytes: null,
    expected_file_bytes: null,
    allocated_bytes: null,
    error: null,
  };
  try {
    let stats: fs.BigIntStats;
    try {
      stats = fs.statSync(file, { bigint: true });
    } catch (err) {
      throw mapOsError(err, `Cannot inspect '${file}'`);
    }
    result.file_bytes = exactNumber(stats.size);
    result.allocated_bytes = exactNumber(stats.blocks * 512n);
    if (stats.isDirectory()) throw new NpyallocError("E_NOT_NPY", `'${file}' is a folder`);
    const header = await readHeaderInfoFromFile(file);
    result.header_version = header.version;
    result.header_bytes = header.headerBytes;
    result.descr = header.descr;
    result.shape = header.shape.map(exactNumber);
    result.fortran_order = header.fortranOrder;
    result.itemsize = header.dtype?.itemsize ?? null;
    result.data_bytes = header.dataBytes === null ? null : exactNumber(header.dataBytes);
    const expected = header.expectedFileBytes;
    result.expected_file_bytes = expected === null ? null : exactNumber(expected);
    // Object arrays, sizes past 2^63: the header is shown, the file is not ok.
    if (header.problem !== null || expected === null) {
      throw new NpyallocError("E_NOT_NPY", header.problem ?? "Header gives no data size");
    }
    if (header.fileBytes < expected) {
      throw new NpyallocError(
        "E_NOT_NPY",
        `Truncated data: the header needs ${expected} bytes, the file has ${header.fileBytes}`,
      );
    }
    if (header.fileBytes > expected) {
      throw new NpyallocError(
        "E_NOT_NPY",
        `Trailing bytes: the header needs ${expected} bytes, the file has ${header.fileBytes}`,
      );
    }
    result.ok = true;
  } catch (err) {
    if (!(err instanceof NpyallocError)) throw err;
    result.error = err.message;
  }
  return result;
}

function describe(result: InspectResult): string {
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

/**
 * Runs `npyalloc inspect`.
 *
 * @param args The arguments after `inspect`.
 * @param io Output.
 * @returns 0 when every file is a complete .npy file, else 1.
 * @throws {NpyallocError} `E_USAGE` for bad arguments.
 */
export async function inspectCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs("inspect", args, { json: { type: "boolean" } });
  if (values.help) {
    io.stdout(INSPECT_HELP);
    return 0;
  }
  if (positionals.length === 0) {
    throw new NpyallocError(
      "E_USAGE",
      "inspect: give at least one <file.npy> (see 'npyalloc inspect --help')",
    );
  }
  const results: InspectResult[] = [];
  for (const file of positionals) results.push(await inspectFile(file));
  if (values.json) {
    io.stdout(toJson(results.length === 1 ? results[0] : results, 2) + "\n");
  } else {
    io.stdout(results.map(describe).join(""));
  }
  return results.every((r) => r.ok) ? 0 : 1;
}
