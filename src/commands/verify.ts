/**
 * `npyalloc verify <manifest.yaml> [--deep]`: do the files on disk match the
 * manifest? Reads headers and sizes; with `--deep`, streams every file and
 * checks each element holds the declared fill. Writes nothing.
 *
 * @module
 */

import { NpyallocError } from "../errors.ts";
import { loadManifest, ManifestError } from "../manifest/mod.ts";
import { classifyTargets } from "../plan/targets.ts";
import { findDataMismatch } from "../run/verify_data.ts";
import { parseCommandArgs } from "./_args.ts";
import type { CommandIo } from "./_io.ts";
import { parseVars } from "./_vars.ts";

/** `npyalloc verify --help`. */
export const VERIFY_HELP = `Usage: npyalloc verify <manifest.yaml> [options]

Check that every array the manifest declares is on disk as declared: present, a complete .npy
file, with the declared dtype, shape and order. Prints one line per difference. Writes nothing.

Options:
  --deep                  also read every file and check that each element holds the fill
                          (padding bytes are not compared)
  --var NAME=VALUE        set or override a manifest variable (repeatable)
  --allow-outside-root    allow array paths that leave the manifest's root
  -q, --quiet             print only differences
  -h, --help              show this help

Exit codes: 0 the disk matches the manifest; 1 some array differs; 2 bad usage or invalid manifest.
`;

/**
 * Runs `npyalloc verify`.
 *
 * @param args The arguments after `verify`.
 * @param io Output, environment and the interrupt signal.
 * @returns 0 when everything matches, 1 when something differs, 2 for an invalid manifest.
 * @throws {NpyallocError} `E_USAGE` for bad arguments; OS errors reading files.
 */
export async function verifyCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs("verify", args, {
    deep: { type: "boolean" },
    var: { type: "string", multiple: true },
    "allow-outside-root": { type: "boolean" },
    quiet: { type: "boolean", short: "q" },
  });
  if (values.help) {
    io.stdout(VERIFY_HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new NpyallocError("E_USAGE", "verify: give exactly one <manifest.yaml>");
  }
  const file = positionals[0]!;
  let manifest;
  try {
    manifest = loadManifest(file, {
      vars: parseVars("verify", values.var as string[] | undefined),
      env: io.env,
      allowOutsideRoot: values["allow-outside-root"] === true,
    });
  } catch (err) {
    if (!(err instanceof ManifestError)) throw err;
    io.stderr(`${err.message}\n`);
    return 2;
  }
  const plan = await classifyTargets(manifest.arrays, { force: false });
  let differences = 0;
  for (const planned of plan) {
    let problem: string | null = null;
    if (planned.action === "create") {
      problem = "missing";
    } else if (planned.action !== "unchanged") {
      problem = planned.reason ?? "differs";
    } else if (values.deep === true) {
      const mismatch = await findDataMismatch(
        planned.array.target,
        planned.array.layout,
        io.signal,
      );
      if (mismatch !== null) {
        problem =
          `data differs from the fill at element ${mismatch.element} (byte ${mismatch.offset})`;
      }
    }
    if (problem !== null) {
      differences++;
      io.stdout(`differs: ${planned.array.path}: ${problem}\n`);
    }
  }
  if (values.quiet !== true) {
    const what = values.deep === true ? "headers, sizes and data" : "headers and sizes";
    io.stdout(
      differences === 0
        ? `${file}: all ${plan.length} arrays match (${what})\n`
        : `${file}: ${differences} of ${plan.length} arrays differ\n`,
    );
  }
  return differences === 0 ? 0 : 1;
}
