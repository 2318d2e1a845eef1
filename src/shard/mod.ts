/**
 * Scale-out (docs/sharding.md): one manifest split into N shards balanced by bytes, the same in
 * every task without any talk between them, and the shard a task runs, from `--shard K/N` or
 * from the scheduler's environment (`--shard auto`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveShard, splitShards } from "./mod.ts";
 * const shard = resolveShard("auto", { SLURM_ARRAY_TASK_ID: "1", SLURM_ARRAY_TASK_COUNT: "2" });
 * const split = splitShards([
 *   { path: "a.npy", bytes: 4096n },
 *   { path: "b.npy", bytes: 1024n },
 *   { path: "c.npy", bytes: 2048n },
 *   { path: "d.npy", bytes: 1024n },
 * ], shard?.count ?? 1);
 * assert.ok(split.shardOf.join() === "0,1,1,1" && shard?.index === 1);
 * ```
 *
 * @module
 */

export {
  DEFAULT_REFINE_BUDGET,
  imbalanceOf,
  MAX_SHARDS,
  maxShardBound,
  type ShardItem,
  type ShardSplit,
  type SplitOptions,
  splitShards,
} from "./assign.ts";
export {
  parseShardFraction,
  resolveShard,
  SHARD_SOURCES,
  type ShardEnv,
  shardFromEnv,
  type ShardSelection,
  type ShardSource,
  WHOLE_MANIFEST_WARNING,
} from "./source.ts";
export {
  reportPath,
  reportPathWarning,
  selectShard,
  type ShardPart,
  type ShardReport,
  splitDigest,
} from "./select.ts";
