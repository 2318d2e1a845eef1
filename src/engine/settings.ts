/**
 * The typed settings of every command, their defaults, and their checks, in one place: the
 * CLI's option tables take their defaults from here, and the library fills what a caller leaves
 * out from here, so the two cannot disagree. Settings are checked when they are made (a
 * `TypeError`-like usage error up front), never clamped deep inside.
 *
 * @module
 */

import os from "node:os";
import { NpyallocError } from "../errors.ts";
import { DEFAULT_MAX_ARRAYS } from "../limits.ts";
import type { DType, DTypeSpec } from "../npy/dtype.ts";
import type { Allocation, HeaderVersion, Order } from "../npy/layout.ts";
import { parseSize, type SizeSpec } from "../plan/space.ts";

/** The settings of `run` and `plan`. */
export interface RunSettings {
  /** The manifest file, or `-` for standard input. */
  readonly manifest: string;
  /** Plan only: check everything, write nothing but the report (`plan`, `--dry-run`). */
  readonly dryRun: boolean;
  /** Arrays written at once (`--jobs`). */
  readonly jobs: number;
  /** Writer threads for runs of many small arrays (`--threads`). */
  readonly threads: number;
  /**
   * Where the report goes: a file (`{shard}` and `{count}` stand for K and N), `-` for the
   * caller to print, `null` for nowhere, or `undefined` for beside the manifest
   * (`npyalloc-report.json`, or `npyalloc-report.shard-K-of-N.json` for a shard).
   */
  readonly report: string | null | undefined;
  /** Replace files whose header differs from the manifest (`--force`). */
  readonly force: boolean;
  /** `--var NAME=VALUE`s: they win over `vars` and the environment. */
  readonly vars: Readonly<Record<string, string>>;
  /** Headroom to keep free on every filesystem (`--min-free`): `512MiB`, `2GB`, `1%`. */
  readonly minFree: string;
  /** fsync files and folders (`--no-fsync` turns it off). */
  readonly fsync: boolean;
  /** `K/N`, `auto`, or `null` for the whole manifest (`--shard`). */
  readonly shard: string | null;
  /** Accept paths that leave the manifest's root (`--allow-outside-root`). */
  readonly allowOutsideRoot: boolean;
  /** Refuse manifests that expand to more arrays (`--max-arrays`). */
  readonly maxArrays: number;
}

/** The defaults of {@linkcode RunSettings}. */
export const RUN_DEFAULTS: Omit<RunSettings, "manifest" | "report"> = {
  dryRun: false,
  jobs: 4,
  threads: os.availableParallelism(),
  force: false,
  vars: {},
  minFree: "0",
  fsync: true,
  shard: null,
  allowOutsideRoot: false,
  maxArrays: DEFAULT_MAX_ARRAYS,
};

/** The settings of `create`. */
export interface CreateSettings {
  /** The file to create. */
  readonly file: string;
  /** Dimensions. */
  readonly shape: readonly bigint[];
  /** A dtype string, a descr list, or a parsed dtype. */
  readonly dtype: DTypeSpec | DType;
  readonly order: Order;
  /** The fill, as YAML reads it (`undefined`: zeros). */
  readonly fill: unknown;
  readonly allocation: Allocation;
  readonly headerVersion: HeaderVersion;
  /** Replace an existing file (`--force`). */
  readonly force: boolean;
  readonly fsync: boolean;
}

/** The defaults of {@linkcode CreateSettings}. */
export const CREATE_DEFAULTS: Omit<CreateSettings, "file" | "shape" | "fill"> = {
  dtype: "float64",
  order: "C",
  allocation: "auto",
  headerVersion: "auto",
  force: false,
  fsync: true,
};

/** The settings of `validate` and `verify`. */
export interface CheckSettings {
  /** The manifests (`verify` takes one). */
  readonly manifests: readonly string[];
  readonly vars: Readonly<Record<string, string>>;
  readonly allowOutsideRoot: boolean;
  readonly maxArrays: number;
  /** `verify --deep`: also read every file's data. */
  readonly deep: boolean;
}

/** The defaults of {@linkcode CheckSettings}. */
export const CHECK_DEFAULTS: Omit<CheckSettings, "manifests"> = {
  vars: {},
  allowOutsideRoot: false,
  maxArrays: DEFAULT_MAX_ARRAYS,
  deep: false,
};

/** The settings of `report merge`. */
export interface MergeSettings {
  /** The shard reports. */
  readonly reports: readonly string[];
  /** Where the merged report goes; `-` for the caller to print. */
  readonly output: string;
  readonly fsync: boolean;
}

/** The defaults of {@linkcode MergeSettings}. */
export const MERGE_DEFAULTS: Omit<MergeSettings, "reports"> = { output: "-", fsync: true };

function usage(message: string): NpyallocError {
  return new NpyallocError("E_USAGE", message);
}

/**
 * Checks that a count setting is an integer >= 1.
 *
 * @param name The setting, for the message (`jobs`).
 * @param value Its value.
 * @returns The value.
 * @throws {NpyallocError} `E_USAGE` otherwise.
 */
export function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw usage(`${name} must be an integer >= 1, got ${String(value)}`);
  }
  return value;
}

/** Run settings with their sizes parsed. */
export interface CheckedRunSettings extends RunSettings {
  /** `minFree`, parsed. */
  readonly minFreeSize: SizeSpec;
}

/**
 * Fills in the defaults of the run settings a caller gave, and checks them all.
 *
 * @param given The settings; `manifest` is required.
 * @returns Every setting, checked.
 * @throws {NpyallocError} `E_USAGE` for a setting out of range: jobs, threads or max arrays
 *   below 1, a malformed `minFree`, a variable name that is not one.
 */
export function checkRunSettings(
  given: Partial<RunSettings> & { readonly manifest: string },
): CheckedRunSettings {
  const settings: RunSettings = { ...RUN_DEFAULTS, report: undefined, ...given };
  positiveInteger("jobs", settings.jobs);
  positiveInteger("threads", settings.threads);
  positiveInteger("max arrays", settings.maxArrays);
  checkVars(settings.vars);
  let minFreeSize: SizeSpec;
  try {
    minFreeSize = parseSize(settings.minFree);
  } catch (err) {
    throw usage(`min-free: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { ...settings, minFreeSize };
}

const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Checks variable names.
 *
 * @param vars The variables.
 * @throws {NpyallocError} `E_USAGE` for a name that is not letters, digits and `_`.
 */
export function checkVars(vars: Readonly<Record<string, string>>): void {
  for (const name of Object.keys(vars)) {
    if (!VARIABLE.test(name)) {
      throw usage(
        `variable name '${name}' must be letters, digits and _, not starting with a digit`,
      );
    }
  }
}
