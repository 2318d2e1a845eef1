/**
 * One task's part of a manifest: the arrays of shard K of N, what its report says about the
 * split, and where its report goes.
 *
 * @module
 */

import { createHash } from "node:crypto";
import path from "node:path";
import { exactNumber } from "../json.ts";
import type { ManifestArray } from "../manifest/types.ts";
import { splitShards } from "./assign.ts";
import type { ShardSelection, ShardSource } from "./source.ts";

/** Which shard of a sharded run a report covers: its `shard` object. */
export interface ShardReport {
  readonly index: number;
  readonly count: number;
  /** Arrays in the whole manifest, across all shards. */
  readonly arrays_total: number;
  /** Bytes of this shard's files (header and data). */
  readonly bytes?: number | bigint;
  /** Bytes of every file of the manifest, across all shards. */
  readonly bytes_total?: number | bigint;
  /** The largest shard's bytes over the mean of all shards: 1 is a perfect split. */
  readonly imbalance?: number;
  /** SHA-256 of the split's input (every array's path and size): equal in every shard. */
  readonly split_sha256?: string;
  /** Where K and N came from. */
  readonly source?: ShardSource;
}

/** Shard K of a manifest. */
export interface ShardPart {
  /** This shard's arrays, in manifest order. */
  readonly arrays: ManifestArray[];
  /** The report's `shard` object. */
  readonly info: ShardReport;
}

/**
 * SHA-256 of the split's input: one line `path<TAB>file_bytes<LF>` per array, the lines sorted
 * by UTF-16 code units. Shard reports with the same digest were split from the same arrays, whatever
 * their order in the manifest; runs with other `--var` values or another manifest differ.
 *
 * @param arrays Path and file size of every array.
 * @returns Lowercase hex.
 */
export function splitDigest(
  arrays: Iterable<{ readonly path: string; readonly fileBytes: bigint }>,
): string {
  const lines = [...arrays].map((a) => `${a.path}\t${a.fileBytes}\n`);
  lines.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const hash = createHash("sha256");
  for (const line of lines) hash.update(line);
  return hash.digest("hex");
}

/**
 * Picks the arrays of one shard (see `splitShards` for the split).
 *
 * @param arrays Every array of the manifest, expanded.
 * @param selection K and N.
 * @returns The shard's arrays and what its report says about it.
 */
export function selectShard(
  arrays: readonly ManifestArray[],
  selection: ShardSelection,
): ShardPart {
  const split = splitShards(
    arrays.map((a) => ({ path: a.path, bytes: a.layout.fileBytes })),
    selection.count,
  );
  const mine = arrays.filter((_, i) => split.shardOf[i] === selection.index);
  return {
    arrays: mine,
    info: {
      index: selection.index,
      count: selection.count,
      arrays_total: arrays.length,
      bytes: exactNumber(split.shardBytes[selection.index] ?? 0n),
      bytes_total: exactNumber(split.totalBytes),
      imbalance: split.imbalance,
      split_sha256: splitDigest(
        arrays.map((a) => ({ path: a.path, fileBytes: a.layout.fileBytes })),
      ),
      source: selection.source,
    },
  };
}

/**
 * Where the report of a run goes. `-r` may hold `{shard}` and `{count}`, replaced by K and N
 * (0 and 1 for a run of the whole manifest). Without `-r`, the report goes beside the
 * manifest: `npyalloc-report.json`, or `npyalloc-report.shard-K-of-N.json` for a shard.
 *
 * @param option The `-r` value, if given (`-` is standard output).
 * @param manifestFile The manifest path, as given.
 * @param selection The shard, or `null` for the whole manifest.
 * @returns The destination.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reportPath } from "./select.ts";
 * const shard = { index: 2, count: 8, source: "option" as const, origin: "--shard 2/8" };
 * assert.ok(reportPath("r/{shard}-of-{count}.json", "m.yaml", shard) === "r/2-of-8.json");
 * assert.ok(reportPath(undefined, "d/m.yaml", shard) === "d/npyalloc-report.shard-2-of-8.json");
 * ```
 */
export function reportPath(
  option: string | undefined,
  manifestFile: string,
  selection: ShardSelection | null,
): string {
  const index = String(selection?.index ?? 0);
  const count = String(selection?.count ?? 1);
  if (option !== undefined) {
    return option.replaceAll("{shard}", index).replaceAll("{count}", count);
  }
  const name = selection === null
    ? "npyalloc-report.json"
    : `npyalloc-report.shard-${index}-of-${count}.json`;
  return path.join(path.dirname(manifestFile), name);
}

/**
 * A warning for a sharded run whose `-r` names one file for every shard (no `{shard}`), so
 * that the shards' reports replace each other.
 *
 * @param option The `-r` value, if given.
 * @param selection The shard, or `null`.
 * @returns The warning, or `null`.
 */
export function reportPathWarning(
  option: string | undefined,
  selection: ShardSelection | null,
): string | null {
  if (selection === null || selection.count === 1 || option === undefined) return null;
  if (option === "-" || option.includes("{shard}")) return null;
  return `The report path '${option}' has no {shard} placeholder: ` +
    `the reports of the ${selection.count} shards replace each other`;
}
