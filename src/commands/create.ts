/**
 * `npyalloc create <file.npy> --shape 1000,1000 [--dtype float32] [--order C|F] [--fill VALUE]
 * [--allocation auto|sparse|reserve|write]`: one array, no manifest.
 *
 * @module
 */

import fs from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { NpyallocError } from "../errors.ts";
import { type DType, dtypeLabel, parseDType } from "../npy/dtype.ts";
import type { FillValue } from "../npy/fill.ts";
import { ALLOCATIONS, HEADER_VERSIONS, layoutArray, type Order } from "../npy/layout.ts";
import { formatShape, parseShapeText } from "../npy/shape.ts";
import { createArrayFile } from "../run/write_file.ts";
import { choiceOption, parseCommandArgs, stringOption } from "./_args.ts";
import { formatBytes } from "../format.ts";
import type { CommandIo } from "./_io.ts";

/** `npyalloc create --help`. */
export const CREATE_HELP = `Usage: npyalloc create <file.npy> --shape DIMS [options]

Create one .npy file, byte for byte what np.save(np.full(shape, fill, dtype, order)) writes,
without building the array in memory. The file appears complete or not at all.

Options:
  --shape DIMS          comma-separated dimensions: 1000,1000 (2-d), 5 (1-d), '' (0-d)
  --dtype DTYPE         any fixed-size NumPy dtype: float32, '>i2', U10, 'M8[ns]', 'i4,f8',
                        '(2,3)i4' (a subarray: its dimensions are added to the shape),
                        or a structured descr as JSON: '[["a","<i4"],["b","<f8",[2]]]'
                        (default float64)
  --order C|F           memory order (default C)
  --fill VALUE          a YAML scalar: 1.5, nan, -inf, true, 2024-02-29T12:00:00, NaT,
                        18446744073709551615, [1.0, -2.0] for complex, {a: 1} for
                        structured (default zeros)
  --allocation MODE     auto | sparse | reserve | write (default auto: reserve for zeros,
                        write otherwise)
  --header-version V    auto | 1.0 | 2.0 | 3.0 (default auto, as NumPy chooses)
  --force               replace an existing file (atomically)
  --no-fsync            do not fsync the file and its folder
  -q, --quiet           print nothing but errors
  -h, --help            show this help

Exit codes: 0 created; 1 failed while writing; 2 bad usage; 3 not enough free space;
4 the file exists and --force was not given.
`;

/**
 * Reads a `--fill` value with the same spellings as a YAML scalar (integers exact to any size).
 *
 * @param text The value as typed.
 * @returns The fill value.
 * @throws {NpyallocError} `E_USAGE` when it is not valid YAML.
 */
export function parseFillText(text: string): FillValue {
  try {
    return parseYaml(text, { intAsBigInt: true, schema: "core" }) as FillValue;
  } catch (err) {
    const first = (err instanceof Error ? err.message : String(err)).split("\n")[0];
    throw new NpyallocError("E_USAGE", `create: cannot read --fill '${text}': ${first}`);
  }
}

/**
 * Reads a `--dtype` value: a dtype string, or a descr list as JSON when it starts with `[`.
 *
 * @param text The value as typed.
 * @returns The dtype.
 * @throws {NpyallocError} `E_DTYPE` or `E_USAGE`.
 */
export function parseDTypeText(text: string): DType {
  if (text.trimStart().startsWith("[")) {
    let list: unknown;
    try {
      list = JSON.parse(text);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new NpyallocError("E_USAGE", `create: --dtype '${text}' is not valid JSON: ${why}`);
    }
    return parseDType(list as unknown[]);
  }
  return parseDType(text);
}

/** The nearest existing folder at or above `dir`. */
function nearestExisting(dir: string): string {
  let current = path.resolve(dir);
  while (!fs.existsSync(current)) {
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return current;
}

/**
 * Runs `npyalloc create`.
 *
 * @param args The arguments after `create`.
 * @param io Output and platform.
 * @returns The exit code.
 * @throws {NpyallocError} For every failure; the CLI maps its code to an exit code.
 */
export async function createCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs("create", args, {
    shape: { type: "string" },
    dtype: { type: "string" },
    order: { type: "string" },
    fill: { type: "string" },
    allocation: { type: "string" },
    "header-version": { type: "string" },
    force: { type: "boolean" },
    "no-fsync": { type: "boolean" },
    quiet: { type: "boolean", short: "q" },
  });
  if (values.help) {
    io.stdout(CREATE_HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new NpyallocError(
      "E_USAGE",
      "create: give exactly one <file.npy> (see 'npyalloc create --help')",
    );
  }
  const target = positionals[0]!;
  const shapeText = stringOption(values, "shape");
  if (shapeText === undefined) {
    throw new NpyallocError(
      "E_USAGE",
      "create: --shape is required (e.g. --shape 1000,1000; '' for 0-d)",
    );
  }
  const shape = parseShapeText(shapeText);
  const dtype = parseDTypeText(stringOption(values, "dtype") ?? "float64");
  const order = choiceOption<Order>("create", "order", stringOption(values, "order") ?? "C", [
    "C",
    "F",
  ]);
  const fillText = stringOption(values, "fill");
  const allocation = choiceOption(
    "create",
    "allocation",
    stringOption(values, "allocation") ?? "auto",
    ALLOCATIONS,
  );
  const headerVersion = choiceOption(
    "create",
    "header-version",
    stringOption(values, "header-version") ?? "auto",
    HEADER_VERSIONS,
  );
  const layout = layoutArray({
    shape,
    dtype,
    order,
    ...(fillText === undefined ? {} : { fill: parseFillText(fillText) }),
    allocation,
    headerVersion,
  });
  const quiet = values.quiet === true;
  for (const warning of layout.warnings) io.stderr(`npyalloc: warning: ${target}: ${warning}\n`);

  const force = values.force === true;
  let existing: fs.Stats | undefined;
  try {
    existing = fs.statSync(target);
  } catch {
    existing = undefined;
  }
  if (existing !== undefined && !force) {
    throw new NpyallocError(
      "E_EXISTS",
      `Cannot create '${target}': it already exists (use --force to replace it)`,
    );
  }
  if (existing?.isDirectory()) {
    throw new NpyallocError("E_CONFLICT", `Cannot create '${target}': it is a folder`);
  }

  // Check free space up front so a full disk fails before anything is written.
  const where = nearestExisting(path.dirname(target));
  const stats = fs.statfsSync(where, { bigint: true });
  const blockSize = stats.bsize > 0n ? stats.bsize : 4096n;
  const needed = layout.allocation === "sparse" ? BigInt(layout.header.length) : layout.fileBytes;
  const required = ((needed + blockSize - 1n) / blockSize) * blockSize;
  const available = stats.bavail * blockSize;
  if (required > available) {
    // Refused before anything is written: exit 3, unlike ENOSPC while writing (exit 1).
    io.stderr(
      `npyalloc: Not enough free space on the filesystem of '${where}': ${formatBytes(required)} ` +
        `required, ${formatBytes(available)} available (short by ${
          formatBytes(required - available)
        })\n`,
    );
    return 3;
  }

  const platform = await io.platform();
  const result = await createArrayFile(target, layout, platform, {
    fsync: values["no-fsync"] !== true,
    replace: force,
  });
  if (layout.allocation === "sparse" && layout.dataBytes > 0n) {
    io.stderr(
      `npyalloc: warning: ${target}: sparse file: ${
        formatBytes(layout.dataBytes)
      } committed but not ` +
        "reserved; writing to it later can fail when the disk is full\n",
    );
  }
  if (!quiet) {
    const how = result.allocatedBy === "zeros"
      ? "reserve (fallocate unavailable: zeros written)"
      : layout.allocation;
    io.stdout(
      `${existing === undefined ? "created" : "replaced"} ${target}: ${dtypeLabel(layout.dtype)} ` +
        `${formatShape(layout.shape)} ${order}, ${formatBytes(layout.fileBytes)}, ${how}\n`,
    );
  }
  return 0;
}
