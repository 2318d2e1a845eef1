/**
 * The table of every command: usage, options (types, defaults, help) and exit codes. The parser,
 * `--help` and docs/cli.md are all made from it. Defaults come from the engine's settings, so the
 * CLI and the library share them.
 *
 * @module
 */

import { EXIT } from "../errors.ts";
import { DEFAULT_MAX_ARRAYS } from "../limits.ts";
import { ALLOCATIONS, HEADER_VERSIONS } from "../npy/layout.ts";
import { CREATE_DEFAULTS, MERGE_DEFAULTS, RUN_DEFAULTS } from "../engine/settings.ts";
import type { CommandSpec, OptionSpec } from "./spec.ts";

const VAR: OptionSpec = {
  type: "list",
  value: "NAME=VALUE",
  help: "set or override a manifest variable (repeatable)",
};
const OUTSIDE: OptionSpec = {
  type: "boolean",
  help: "allow array paths that leave the manifest's root",
};
const MAX_ARRAYS: OptionSpec = {
  type: "integer",
  value: "N",
  help: "refuse manifests that expand to more arrays",
  default: String(DEFAULT_MAX_ARRAYS),
};
const QUIET: OptionSpec = {
  type: "boolean",
  short: "q",
  help: "no progress or notes: only problems",
};

const RUN_EXITS: CommandSpec["exits"] = [
  [EXIT.ok, "every array is present as declared, and the report was written"],
  [EXIT.failed, "some array failed while writing, or the report could not be written"],
  [
    EXIT.usage,
    "bad usage, an invalid manifest, or a report path that would clobber a file (nothing touched)",
  ],
  [EXIT.noSpace, "not enough free space or inodes on some filesystem (nothing touched)"],
  [
    EXIT.conflict,
    "existing files conflict with the manifest and --force was not given (nothing touched)",
  ],
  [EXIT.interrupted, "interrupted by SIGINT or SIGTERM (no partial file left at any target)"],
];

const RUN_OPTIONS: Record<string, OptionSpec> = {
  jobs: {
    type: "integer",
    short: "j",
    value: "N",
    help: "arrays written at once",
    default: String(RUN_DEFAULTS.jobs),
  },
  threads: {
    type: "integer",
    value: "N",
    help: "writer threads for runs of 512 or more arrays of up to 4 MiB, at most --jobs; 1 " +
      "writes on the main thread only",
    default: "one per CPU core",
  },
  report: {
    type: "string",
    short: "r",
    value: "FILE",
    help: "where the JSON report goes; - for standard output; {shard} and {count} stand for K " +
      "and N. Never the manifest, an array, or a file that is not a report",
    default:
      "npyalloc-report.json beside the manifest, npyalloc-report.shard-K-of-N.json for a shard",
  },
  shard: {
    type: "string",
    value: "K/N|auto",
    help: "only shard K of N (0 <= K < N) of the arrays, split by bytes; auto reads the task " +
      "index of Slurm, Grid Engine, LSF, AWS Batch, Google Cloud Batch or a Kubernetes Indexed " +
      "Job (with NPYALLOC_SHARD_COUNT), or NPYALLOC_SHARD=K/N, else runs the whole manifest",
  },
  "dry-run": { type: "boolean", help: "plan and check space, write nothing but the report" },
  force: {
    type: "boolean",
    help: "replace existing files whose header or size differs from the manifest",
  },
  var: VAR,
  "min-free": {
    type: "string",
    value: "SIZE",
    help: "headroom to keep free on every filesystem: 512MiB, 2GB, 1%",
    default: RUN_DEFAULTS.minFree,
  },
  "no-fsync": {
    type: "boolean",
    help: "skip fsync of files and folders (faster, not crash-durable)",
  },
  "allow-outside-root": OUTSIDE,
  "max-arrays": MAX_ARRAYS,
  quiet: QUIET,
  json: { type: "boolean", help: "print the report to standard output too" },
};

const run: CommandSpec = {
  name: "run",
  usage: "<manifest.yaml> [options]",
  summary: "create every array the manifest declares",
  description: "Create every array the manifest declares (- reads the manifest from standard " +
    "input). Nothing is touched unless the whole manifest is valid, no existing file conflicts " +
    "with it, and every filesystem has room. Arrays already present as declared are left untouched.",
  positionals: { min: 1, max: 1, name: "<manifest.yaml>" },
  options: RUN_OPTIONS,
  exits: RUN_EXITS,
};

const { "dry-run": _dryRun, ...PLAN_OPTIONS } = RUN_OPTIONS;

const plan: CommandSpec = {
  name: "plan",
  usage: "<manifest.yaml> [options]",
  summary: "what run would do, and the space it needs",
  description: "What 'npyalloc run' would do, and the space and inodes it needs on each " +
    "filesystem, without writing anything but the report (the same as 'npyalloc run --dry-run'). " +
    "Run it first in a job: it checks the whole manifest.",
  positionals: { min: 1, max: 1, name: "<manifest.yaml>" },
  options: PLAN_OPTIONS,
  exits: RUN_EXITS.filter(([code]) => code !== EXIT.interrupted).concat([
    [EXIT.interrupted, "interrupted by SIGINT or SIGTERM"],
  ]),
};

const validate: CommandSpec = {
  name: "validate",
  usage: "<manifest.yaml>... [options]",
  summary: "schema and semantic checks only",
  description: "Check manifests against the schema and the rules npyalloc enforces (paths " +
    "inside the root, dtypes, fills, sizes), reporting every problem as " +
    "file:line:column: path: message. Touches nothing; does not look at free space or existing " +
    "files (use 'npyalloc plan' for that).",
  positionals: { min: 1, max: Infinity, name: "<manifest.yaml>" },
  options: { var: VAR, "allow-outside-root": OUTSIDE, "max-arrays": MAX_ARRAYS, quiet: QUIET },
  exits: [
    [EXIT.ok, "every manifest is valid"],
    [EXIT.usage, "some manifest is not, or bad usage"],
    [EXIT.interrupted, "interrupted by SIGINT or SIGTERM"],
  ],
};

const verify: CommandSpec = {
  name: "verify",
  usage: "<manifest.yaml> [options]",
  summary: "do the files on disk match the manifest?",
  description: "Check that every array the manifest declares is on disk as declared: present, " +
    "a complete .npy file, with the declared dtype, shape and order. Prints one line per " +
    "difference. Writes nothing.",
  positionals: { min: 1, max: 1, name: "<manifest.yaml>" },
  options: {
    deep: {
      type: "boolean",
      help: "also read every file and check that each element holds the fill (padding bytes " +
        "are not compared)",
    },
    var: VAR,
    "allow-outside-root": OUTSIDE,
    quiet: { type: "boolean", short: "q", help: "print only differences" },
  },
  exits: [
    [EXIT.ok, "the disk matches the manifest"],
    [EXIT.failed, "some array differs"],
    [EXIT.usage, "bad usage or an invalid manifest"],
    [EXIT.interrupted, "interrupted by SIGINT or SIGTERM"],
  ],
};

const create: CommandSpec = {
  name: "create",
  usage: "<file.npy> --shape DIMS [options]",
  summary: "create one array",
  description: "Create one .npy file, byte for byte what np.save(np.full(shape, fill, dtype, " +
    "order)) writes, without building the array in memory. The file appears complete or not at " +
    "all, after the same space, inode and conflict checks as 'npyalloc run'.",
  positionals: { min: 1, max: 1, name: "<file.npy>" },
  options: {
    shape: {
      type: "string",
      value: "DIMS",
      help: "comma-separated dimensions: 1000,1000 (2-d), 5 (1-d), '' (0-d); required",
    },
    dtype: {
      type: "string",
      value: "DTYPE",
      help: "any fixed-size NumPy dtype: float32, '>i2', U10, 'M8[ns]', 'i4,f8', '(2,3)i4' " +
        "(a subarray: its dimensions are added to the shape), or a structured descr as JSON: " +
        `'[["a","<i4"],["b","<f8",[2]]]'`,
      default: String(CREATE_DEFAULTS.dtype),
    },
    order: {
      type: "string",
      value: "C|F",
      help: "memory order",
      choices: ["C", "F"],
      default: "C",
    },
    fill: {
      type: "string",
      value: "VALUE",
      help: "a YAML scalar: 1.5, nan, -inf, true, 2024-02-29T12:00:00, NaT, " +
        "18446744073709551615, [1.0, -2.0] for complex, {a: 1} for structured",
      default: "zeros",
    },
    allocation: {
      type: "string",
      value: "MODE",
      help: "how the data is laid out; auto is reserve for zeros, write otherwise",
      choices: ALLOCATIONS,
      default: CREATE_DEFAULTS.allocation,
    },
    "header-version": {
      type: "string",
      value: "V",
      help: "the .npy format version; auto as NumPy chooses",
      choices: HEADER_VERSIONS,
      default: CREATE_DEFAULTS.headerVersion,
    },
    force: { type: "boolean", help: "replace an existing file (atomically)" },
    "no-fsync": { type: "boolean", help: "do not fsync the file and its folder" },
    quiet: { type: "boolean", short: "q", help: "print nothing but errors" },
  },
  exits: [
    [EXIT.ok, "created"],
    [EXIT.failed, "failed while writing"],
    [EXIT.usage, "bad usage, or a dtype, shape or fill that cannot work"],
    [EXIT.noSpace, "not enough free space or inodes (nothing touched)"],
    [
      EXIT.conflict,
      "something is at the path and --force was not given, or a folder is there (nothing touched)",
    ],
    [EXIT.interrupted, "interrupted by SIGINT or SIGTERM (no file left)"],
  ],
};

const inspect: CommandSpec = {
  name: "inspect",
  usage: "<file.npy>... [--json]",
  summary: "header, layout, sizes, allocated blocks",
  description: "Show the header, layout, sizes and allocated blocks of .npy files, and whether " +
    "each file is complete. Never evaluates the header: it is parsed as data. A file that is " +
    "not a regular file is never opened.",
  positionals: { min: 1, max: Infinity, name: "<file.npy>" },
  options: {
    json: {
      type: "boolean",
      help: "one JSON object per file (an array of them for several files)",
    },
  },
  exits: [
    [EXIT.ok, "every file is a complete .npy file"],
    [EXIT.failed, "some file is not (truncated, malformed, missing)"],
    [EXIT.usage, "bad usage"],
    [EXIT.interrupted, "interrupted by SIGINT or SIGTERM"],
  ],
};

const schema: CommandSpec = {
  name: "schema",
  usage: "[manifest|report]",
  summary: "print a JSON Schema",
  description: "Print the JSON Schema (draft 2020-12) of manifests (the default) or of " +
    "reports. Editors use the manifest schema through a first line such as " +
    "'# yaml-language-server: $schema=./manifest.schema.json'.",
  positionals: { min: 0, max: 1, name: "'manifest' or 'report'" },
  options: {},
  exits: [[EXIT.ok, "printed"], [EXIT.usage, "bad usage"]],
};

const reportMerge: CommandSpec = {
  name: "report merge",
  usage: "<report.json>... [-o FILE]",
  summary: "join the reports of the shards of a run",
  description: "Join the reports of the shards of one sharded run ('npyalloc run --shard K/N' " +
    "or '--shard auto') into one report of the whole manifest: shard null, the arrays of every " +
    "shard sorted by path, the summary counted again, filesystems joined by device. A report of " +
    "the whole manifest counts as shard 0 of 1. The reports must be of the same manifest " +
    "(sha256), split the same way (shard count, arrays, variables), with no shard twice and no " +
    "array in two shards; otherwise nothing is written. Missing shards are named, and the merged " +
    "report is still written, with ok false.",
  positionals: { min: 1, max: Infinity, name: "report of every shard" },
  options: {
    output: {
      type: "string",
      short: "o",
      value: "FILE",
      help: "where the merged report goes; - for standard output",
      default: MERGE_DEFAULTS.output,
    },
    "no-fsync": { type: "boolean", help: "do not fsync the merged report" },
    quiet: { type: "boolean", short: "q", help: "print only errors" },
  },
  exits: [
    [EXIT.ok, "every shard is there and every array is present as declared"],
    [
      EXIT.failed,
      "every shard is there but some shard did not succeed (see the merged report's " +
      "exit_code), or the merged report could not be written",
    ],
    [
      EXIT.usage,
      "bad usage, an unreadable or invalid report, or reports that cannot be merged (nothing written)",
    ],
    [EXIT.missingShards, "shards are missing (the merged report is written, and names them)"],
    [EXIT.interrupted, "interrupted by SIGINT or SIGTERM"],
  ],
};

/** Every command, in the order help lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  run,
  plan,
  validate,
  verify,
  create,
  inspect,
  schema,
  reportMerge,
];

/** A command by name (`report merge` has the two words). */
export function commandSpec(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
