/**
 * Joining the reports of a sharded run (docs/sharding.md): the reports of shards 0 to N-1 of one
 * manifest become one report of the whole manifest, with `shard: null`.
 *
 * How it works: each report is parsed with its integers exact (also past 2^53) and validated
 * against the report schema. The reports must agree on the manifest (its SHA-256), on N, on the
 * number of arrays and on the split's input (`split_sha256`, which also tells runs with other
 * `--var` values apart); no shard may come twice and no array may be in two shards. Missing
 * shards are not an error here: the merged report says which they are, and is not `ok`. The
 * summary is counted again from the arrays, byte counts are summed, and filesystems are joined
 * by device number: required bytes and inodes summed, available space and free inodes the
 * largest any shard saw (the closest to the state before the job), `ok` computed again.
 *
 * @module
 */

import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import reportSchema from "../../schemas/report.schema.json" with { type: "json" };
import { type ErrorCode, EXIT, NpyallocError } from "../errors.ts";
import { exactNumber } from "../json.ts";
import { splitDigest } from "../shard/select.ts";
import type {
  ArrayReport,
  FilesystemReport,
  Report,
  ReportError,
  ReportInteger,
  ReportSummary,
  ShardReport,
} from "./report.ts";
import { summarize } from "./report.ts";

/** A report and the name it is known by in messages (its file). */
export interface NamedReport {
  readonly name: string;
  readonly report: Report;
}

/** What {@linkcode mergeReports} found and made. */
export interface MergeResult {
  /** The merged report, `shard: null`. */
  readonly report: Report;
  /** N, the number of shards of the run. */
  readonly count: number;
  /** Shards found, ascending. */
  readonly present: readonly number[];
  /** Shards not found, ascending. */
  readonly missing: readonly number[];
  /**
   * The exit code of `report merge`: 0 every shard is there and the merged report is ok; 1
   * every shard is there but some did not succeed; 5 shards are missing.
   */
  readonly exitCode: typeof EXIT.ok | typeof EXIT.failed | typeof EXIT.missingShards;
}

let validator: ValidateFunction | undefined;

function cannot(message: string): NpyallocError {
  return new NpyallocError("E_USAGE", message);
}

const MARKER = "\u0000bigint:";
// A JSON string (skipped), or an integer of 16 digits or more that is not part of a fraction
// or an exponent: those may not be exact as JavaScript numbers.
const BIG_INTEGER = /"(?:[^"\\]|\\.)*"|(?<![\d.eE+-])-?\d{16,}(?![\d.eE])/g;

/**
 * Parses JSON text with every integer exact: integers past 2^53 become `bigint`s (as
 * `exactNumber` gives them; `toJson` writes them back as digits).
 *
 * @param text JSON text.
 * @returns The value.
 * @throws {SyntaxError} When the text is not JSON.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseJsonExact } from "./merge.ts";
 * const exact = parseJsonExact('{"n": 18446744073709551615, "s": "12345678901234567890"}');
 * assert.deepEqual(exact, { n: 18446744073709551615n, s: "12345678901234567890" });
 * ```
 */
export function parseJsonExact(text: string): unknown {
  let big = false;
  const marked = text.replace(BIG_INTEGER, (token) => {
    if (token.startsWith('"')) return token;
    big = true;
    return `"\\u0000bigint:${token}"`;
  });
  if (!big) return JSON.parse(text);
  return JSON.parse(marked, (_key, value) => {
    if (typeof value === "string" && value.startsWith(MARKER)) {
      return exactNumber(BigInt(value.slice(MARKER.length)));
    }
    return value;
  });
}

/**
 * Reads a report: JSON with exact integers, valid against `schemas/report.schema.json`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseReport } from "./merge.ts";
 * assert.throws(() => parseReport("{}", "r.json"), /not an npyalloc report/);
 * ```
 *
 * @param text The report's text.
 * @param name The report's name (its file) for messages.
 * @returns The report.
 * @throws {NpyallocError} `E_USAGE` when the text is not JSON or not a valid report.
 */
export function parseReport(text: string, name: string): Report {
  let plain: unknown;
  try {
    plain = JSON.parse(text);
  } catch (err) {
    const why = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw cannot(`Cannot read report '${name}': not JSON (${why})`);
  }
  validator ??= new Ajv2020({ allErrors: false, strict: true }).compile(reportSchema);
  if (!validator(plain)) {
    const first = validator.errors?.[0];
    const where = first?.instancePath ? `${first.instancePath}: ` : "";
    throw cannot(
      `Cannot read report '${name}': not an npyalloc report (${where}${
        first?.message ?? "invalid"
      })`,
    );
  }
  return parseJsonExact(text) as Report;
}

/** The shard a report covers: a report of the whole manifest is shard 0 of 1. */
function shardOf(report: Report): ShardReport {
  return report.shard ?? { index: 0, count: 1, arrays_total: report.arrays.length };
}

function big(n: ReportInteger | null | undefined): bigint {
  return n === null || n === undefined ? 0n : BigInt(n);
}

/** `1, 3-5, 9`: a sorted list of integers with runs shortened. */
export function formatRanges(values: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < values.length;) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j]! + 1) j++;
    parts.push(j === i ? `${values[i]}` : `${values[i]}-${values[j]}`);
    i = j + 1;
  }
  return parts.join(", ");
}

/** Exit codes of failed runs, the most telling first. */
const EXIT_PRIORITY: readonly number[] = [
  EXIT.interrupted,
  EXIT.usage,
  EXIT.noSpace,
  EXIT.conflict,
  EXIT.failed,
];

/**
 * Joins the reports of the shards of one run.
 *
 * @param inputs The shard reports, in any order (a report of the whole manifest counts as shard
 *   0 of 1). The merged report's times are the earliest start and the latest finish.
 * @returns The merged report, the shards found and missing, and the exit code of `report merge`.
 * @throws {NpyallocError} `E_USAGE` when the reports cannot be joined: none given, a report
 *   without a manifest, different manifests, shard counts or splits, the same shard twice, an
 *   array in two shards, or a complete set whose arrays are not those of the split.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildReport } from "./report.ts";
 * import { mergeReports } from "./merge.ts";
 * const shard = (index: number) =>
 *   buildReport({
 *     runtime: "deno 2.9.6",
 *     manifest: { path: "m.yaml", sha256: "0".repeat(64) },
 *     startedAt: new Date(0),
 *     finishedAt: new Date(5),
 *     options: { jobs: 4, dry_run: false, force: false, fsync: true, min_free: "0", min_free_bytes: 0 },
 *     shard: { index, count: 2, arrays_total: 0 },
 *     arrays: [],
 *     exitCode: 0,
 *   });
 * const merged = mergeReports([{ name: "s0.json", report: shard(0) }, { name: "s1.json", report: shard(1) }]);
 * assert.equal(merged.report.shard, null);
 * assert.deepEqual(merged.missing, []);
 * ```
 */
export function mergeReports(inputs: readonly NamedReport[]): MergeResult {
  const first = inputs[0];
  if (first === undefined) throw cannot("No report to merge");
  for (const { name, report } of inputs) {
    if (report.manifest === null) {
      throw cannot(
        `Cannot merge '${name}': its run stopped before it read a manifest (exit ${report.exit_code}` +
          `${report.error === null ? "" : `: ${report.error.message.split("\n")[0]}`})`,
      );
    }
  }
  const base = first.report.manifest!;
  const baseShard = shardOf(first.report);
  const byIndex = new Map<number, NamedReport>();
  const owner = new Map<string, { shard: number; name: string }>();
  for (const input of inputs) {
    const { name, report } = input;
    const manifest = report.manifest!;
    const shard = shardOf(report);
    if (manifest.sha256 !== base.sha256) {
      throw cannot(
        `Cannot merge reports of different manifests: '${first.name}' is of '${base.path}' ` +
          `(sha256 ${base.sha256.slice(0, 12)}...), '${name}' of '${manifest.path}' ` +
          `(sha256 ${manifest.sha256.slice(0, 12)}...)`,
      );
    }
    if (shard.count !== baseShard.count) {
      throw cannot(
        `Cannot merge reports of different splits: '${first.name}' is shard ` +
          `${baseShard.index} of ${baseShard.count}, '${name}' is shard ${shard.index} of ${shard.count}`,
      );
    }
    if (
      shard.split_sha256 !== undefined && baseShard.split_sha256 !== undefined &&
      shard.split_sha256 !== baseShard.split_sha256
    ) {
      throw cannot(
        `Cannot merge '${first.name}' and '${name}': they split different arrays of the manifest ` +
          `(split_sha256 differs; were the shards run with different --var values or environments?)`,
      );
    }
    if (shard.arrays_total !== baseShard.arrays_total) {
      throw cannot(
        `Cannot merge '${first.name}' and '${name}': the manifest has ${baseShard.arrays_total} ` +
          `arrays in one and ${shard.arrays_total} in the other (different --var values?)`,
      );
    }
    const twice = byIndex.get(shard.index);
    if (twice !== undefined) {
      throw cannot(
        `Shard ${shard.index} of ${shard.count} appears twice: '${twice.name}' and '${name}' ` +
          `(give one report per shard)`,
      );
    }
    byIndex.set(shard.index, input);
    for (const array of report.arrays) {
      const other = owner.get(array.path);
      if (other !== undefined) {
        throw cannot(
          `Array '${array.path}' is in two shards: ${other.shard} ('${other.name}') and ` +
            `${shard.index} ('${name}'); the reports do not come from one split`,
        );
      }
      owner.set(array.path, { shard: shard.index, name });
    }
  }

  const count = baseShard.count;
  const present = [...byIndex.keys()].sort((a, b) => a - b);
  const missing: number[] = [];
  for (let k = 0; k < count; k++) if (!byIndex.has(k)) missing.push(k);
  const shards = present.map((k) => byIndex.get(k)!);
  const arrays = shards.flatMap((s) => s.report.arrays);
  arrays.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  if (missing.length === 0) {
    if (arrays.length !== baseShard.arrays_total) {
      throw cannot(
        `The ${count} shard reports hold ${arrays.length} arrays, but the manifest has ` +
          `${baseShard.arrays_total}: the reports do not come from one split`,
      );
    }
    const digest = baseShard.split_sha256;
    if (
      digest !== undefined &&
      splitDigest(arrays.map((a) => ({ path: a.path, fileBytes: big(a.file_bytes) }))) !== digest
    ) {
      throw cannot(
        `The arrays of the ${count} shard reports are not those the shards were split from ` +
          `(split_sha256 differs): the reports do not come from one split`,
      );
    }
  }

  const warnings: string[] = [];
  const seen = new Set<string>();
  const warn = (text: string) => {
    if (!seen.has(text)) {
      seen.add(text);
      warnings.push(text);
    }
  };
  for (const s of shards) for (const w of s.report.warnings) warn(w);
  const baseOptions = JSON.stringify(shards[0]!.report.options);
  for (const s of shards.slice(1)) {
    if (JSON.stringify(s.report.options) !== baseOptions) {
      const a = shards[0]!.report.options as unknown as Record<string, unknown>;
      const b = s.report.options as unknown as Record<string, unknown>;
      const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])]
        .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
      warn(
        `Shard ${shardOf(s.report).index} ran with other options than shard ` +
          `${shardOf(shards[0]!.report).index} (${keys.join(", ")}); the merged report shows ` +
          `those of shard ${shardOf(shards[0]!.report).index}`,
      );
    }
  }
  const versions = [...new Set(shards.map((s) => s.report.tool.version))];
  if (versions.length > 1) {
    warn(`The shards ran different npyalloc versions: ${versions.join(", ")}`);
  }
  for (const s of shards) {
    const e = s.report.error;
    if (e !== null) warn(`Shard ${shardOf(s.report).index}: ${e.message.split("\n")[0]}`);
  }

  let error: ReportError | null = null;
  if (missing.length > 0) {
    const lost = baseShard.arrays_total - arrays.length;
    error = {
      code: "E_NOT_FOUND",
      message: `Missing shard reports: ${formatRanges(missing)} of ${count} ` +
        `(${lost} of ${baseShard.arrays_total} arrays are not in this report)`,
    };
  } else {
    const failed = shards.find((s) => s.report.error !== null);
    if (failed !== undefined) {
      const e = failed.report.error!;
      error = {
        code: e.code as ErrorCode,
        message: `Shard ${shardOf(failed.report).index}: ${e.message}`,
      };
    }
  }
  const codes = new Set(shards.map((s) => s.report.exit_code));
  const failedArrays = arrays.some((a) => a.status === "failed" || a.status === "interrupted");
  const exitCode = EXIT_PRIORITY.find((c) => codes.has(c)) ??
    (missing.length > 0 || failedArrays ? 1 : 0);

  const started = shards.map((s) => Date.parse(s.report.started_at));
  const finished = shards.map((s) => Date.parse(s.report.finished_at));
  const startedAt = Math.min(...started);
  const finishedAt = Math.max(...finished);
  const runtimes = [...new Set(shards.map((s) => s.report.tool.runtime))];
  const report: Report = {
    report_version: 1,
    tool: {
      name: "npyalloc",
      version: shards[0]!.report.tool.version,
      runtime: runtimes.join(", "),
    },
    manifest: { path: shards[0]!.report.manifest!.path, sha256: base.sha256 },
    started_at: new Date(startedAt).toISOString(),
    finished_at: new Date(finishedAt).toISOString(),
    duration_ms: Math.max(0, finishedAt - startedAt),
    options: shards[0]!.report.options,
    shard: null,
    filesystems: mergeFilesystems(shards.flatMap((s) => s.report.filesystems)),
    arrays,
    summary: summarizeParts(arrays, shards.map((s) => s.report.summary)),
    warnings,
    error,
    ok: exitCode === 0,
    exit_code: exitCode,
  };
  return {
    report,
    count,
    present,
    missing,
    exitCode: missing.length > 0 ? EXIT.missingShards : exitCode === 0 ? EXIT.ok : EXIT.failed,
  };
}

function summarizeParts(
  arrays: readonly ArrayReport[],
  parts: readonly ReportSummary[],
): ReportSummary {
  let written = 0n;
  let reserved = 0n;
  for (const part of parts) {
    written += big(part.bytes_written);
    reserved += big(part.bytes_reserved);
  }
  return summarize(arrays, written, reserved);
}

/**
 * Joins filesystem entries by device: the shortest path, required bytes and inodes summed,
 * available bytes and free inodes the largest seen, `ok` and shortfalls computed again. Fields
 * this does not know are taken from the first entry.
 */
function mergeFilesystems(entries: readonly FilesystemReport[]): FilesystemReport[] {
  const byDevice = new Map<string, FilesystemReport[]>();
  for (const entry of entries) {
    const list = byDevice.get(entry.device);
    if (list === undefined) byDevice.set(entry.device, [entry]);
    else list.push(entry);
  }
  const merged: FilesystemReport[] = [];
  for (const [device, list] of byDevice) {
    const maxOf = (values: bigint[]) => values.reduce((a, b) => (b > a ? b : a), 0n);
    const sumOf = (key: string) =>
      list.reduce((sum, e) => sum + big((e as unknown as Record<string, ReportInteger>)[key]), 0n);
    const path = list.map((e) => e.path).sort((a, b) =>
      a.length - b.length || (a < b ? -1 : a > b ? 1 : 0)
    )[0]!;
    const available = maxOf(list.map((e) => big(e.available_bytes)));
    const required = sumOf("required_bytes");
    const minFree = maxOf(list.map((e) => big(e.min_free_bytes)));
    const inodes = list.filter((e) => e.free_inodes !== null).map((e) => big(e.free_inodes));
    const freeInodes = inodes.length === 0 ? null : maxOf(inodes);
    const requiredInodes = list.reduce((sum, e) => sum + e.required_inodes, 0);
    const shortfall = required + minFree - available;
    const inodeShortfall = freeInodes === null ? 0n : BigInt(requiredInodes) - freeInodes;
    const summed: Record<string, ReportInteger> = {};
    for (const key of SUMMED_BYTES) {
      if (key in list[0]!) summed[key] = exactNumber(sumOf(key));
    }
    merged.push({
      ...list[0]!,
      ...summed,
      path,
      device,
      block_size: Math.max(...list.map((e) => e.block_size)),
      available_bytes: exactNumber(available),
      required_bytes: exactNumber(required),
      min_free_bytes: exactNumber(minFree),
      free_inodes: freeInodes === null ? null : exactNumber(freeInodes),
      required_inodes: requiredInodes,
      ok: shortfall <= 0n && inodeShortfall <= 0n,
      shortfall_bytes: exactNumber(shortfall > 0n ? shortfall : 0n),
      shortfall_inodes: inodeShortfall > 0n ? Number(inodeShortfall) : 0,
    });
  }
  return merged;
}

/** Byte counts of a filesystem entry that add up across shards (besides `required_bytes`). */
const SUMMED_BYTES = ["committed_bytes", "metadata_bytes"];
