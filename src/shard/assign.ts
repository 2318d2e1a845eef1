/**
 * The split of one manifest into N shards, balanced by bytes (docs/sharding.md).
 *
 * How it works: the arrays are sorted by file size, largest first, ties by path (compared by
 * UTF-16 code units, the same in every runtime and locale), and each goes to the shard holding
 * the fewest bytes so far, ties to the lowest shard index (Graham's LPT rule). A refinement pass
 * then repeatedly takes the fullest shard and the emptiest one and moves one array, or swaps two,
 * when that lowers the fuller of the pair; every step lowers the sum of squared shard sizes, so
 * it ends, and a fixed work budget (counted in steps, never in time) keeps it cheap.
 *
 * Nothing depends on the order of the arrays in the manifest, on the machine or on the clock:
 * every task of a job computes the same split from the same expanded arrays, and reordering
 * the manifest changes nobody's shard.
 *
 * The bound: with array sizes p1 >= p2 >= ... and N shards of mean size T / N,
 *
 *     largest shard <= max(p1, T / N + (1 - 1/N) * p(N+1))
 *
 * (either the largest shard holds one array, or its last array came at position N+1 or later,
 * when the least-loaded shard held at most the mean). No split can do better than p1, so the
 * imbalance (largest shard / mean) is within p(N+1) / mean of the best possible: about 1.01
 * when each shard gets 100 or more arrays of similar sizes. LPT is also within 4/3 - 1/(3N) of
 * the optimal largest shard, and the refinement never makes the largest shard larger.
 *
 * @module
 */

/** One array to place: its path (unique in the manifest) and its size in bytes. */
export interface ShardItem {
  /** The array's path as the manifest declares it, relative to the root. */
  readonly path: string;
  /** The file's size in bytes (header and data). */
  readonly bytes: bigint;
}

/** Where every array goes, and how even the result is. */
export interface ShardSplit {
  /** N, the number of shards. */
  readonly count: number;
  /** The shard of each item, in the order the items were given. */
  readonly shardOf: readonly number[];
  /** Bytes per shard. */
  readonly shardBytes: readonly bigint[];
  /** Arrays per shard. */
  readonly shardArrays: readonly number[];
  /** Bytes of all items. */
  readonly totalBytes: bigint;
  /** Bytes of the largest shard. */
  readonly maxBytes: bigint;
  /**
   * The largest shard's bytes over the mean (`totalBytes / count`), rounded to 6 decimals:
   * 1 is a perfect split. 1 when there is nothing to split.
   */
  readonly imbalance: number;
}

/** Options of {@linkcode splitShards}. */
export interface SplitOptions {
  /**
   * Work allowed to the refinement, in item comparisons; 0 gives plain LPT.
   *
   * @default {4_000_000}
   */
  readonly refineBudget?: number;
}

/** The default {@linkcode SplitOptions.refineBudget}. */
export const DEFAULT_REFINE_BUDGET = 4_000_000;

/**
 * The largest number of shards: more tasks than this is surely a mistake (and each shard costs
 * a little memory here).
 */
export const MAX_SHARDS = 1_000_000;

/** Orders items largest first, then by path, then by position (for duplicate paths). */
function byBytesThenPath(items: readonly ShardItem[]): (a: number, b: number) => number {
  return (a, b) => {
    const x = items[a]!;
    const y = items[b]!;
    if (x.bytes !== y.bytes) return x.bytes > y.bytes ? -1 : 1;
    if (x.path !== y.path) return x.path < y.path ? -1 : 1;
    return a - b;
  };
}

/** A binary min-heap of shard indexes keyed by (bytes, index). */
class ShardHeap {
  readonly #heap: number[];
  readonly #bytes: bigint[];

  constructor(count: number, bytes: bigint[]) {
    this.#heap = Array.from({ length: count }, (_, i) => i);
    this.#bytes = bytes;
  }

  #less(a: number, b: number): boolean {
    const x = this.#bytes[a]!;
    const y = this.#bytes[b]!;
    return x < y || (x === y && a < b);
  }

  /** The least-loaded shard. */
  peek(): number {
    return this.#heap[0]!;
  }

  /** Restores the order after the top shard grew. */
  siftDownTop(): void {
    const heap = this.#heap;
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      const right = left + 1;
      let smallest = at;
      if (left < heap.length && this.#less(heap[left]!, heap[smallest]!)) smallest = left;
      if (right < heap.length && this.#less(heap[right]!, heap[smallest]!)) smallest = right;
      if (smallest === at) return;
      [heap[at], heap[smallest]] = [heap[smallest]!, heap[at]!];
      at = smallest;
    }
  }
}

/**
 * Splits items into `count` shards, balanced by bytes: largest first to the least-loaded shard
 * (LPT), then refined by moves and swaps between the fullest and the emptiest shard. The result
 * depends only on the set of (path, bytes) pairs, never on their order.
 *
 * @param items The arrays, with unique paths.
 * @param count N, from 1 to {@linkcode MAX_SHARDS}.
 * @param options The refinement's work budget.
 * @returns The shard of each item and the bytes of each shard.
 * @throws {TypeError} When `count` is not an integer from 1 to {@linkcode MAX_SHARDS}, or an
 *   item's size is negative.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitShards } from "./assign.ts";
 * const split = splitShards([
 *   { path: "a.npy", bytes: 300n },
 *   { path: "b.npy", bytes: 300n },
 *   { path: "c.npy", bytes: 200n },
 *   { path: "d.npy", bytes: 200n },
 *   { path: "e.npy", bytes: 200n },
 * ], 2);
 * assert.ok(split.shardBytes.join() === "600,600"); // plain LPT would give 700 and 500
 * assert.ok(split.imbalance === 1);
 * ```
 */
export function splitShards(
  items: readonly ShardItem[],
  count: number,
  options: SplitOptions = {},
): ShardSplit {
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_SHARDS) {
    throw new TypeError(
      `splitShards: count must be an integer from 1 to ${MAX_SHARDS}, got ${count}`,
    );
  }
  const order = Array.from({ length: items.length }, (_, i) => i);
  for (const item of items) {
    if (item.bytes < 0n) {
      throw new TypeError(`splitShards: '${item.path}' has a negative size ${item.bytes}`);
    }
  }
  order.sort(byBytesThenPath(items));

  const shardBytes = Array.from({ length: count }, () => 0n);
  // Members of each shard, largest first: LPT hands them out in that order.
  const members: number[][] = Array.from({ length: count }, () => []);
  const heap = new ShardHeap(count, shardBytes);
  for (const i of order) {
    const shard = heap.peek();
    members[shard]!.push(i);
    shardBytes[shard]! += items[i]!.bytes;
    heap.siftDownTop();
  }

  refine(items, members, shardBytes, options.refineBudget ?? DEFAULT_REFINE_BUDGET);

  const shardOf = new Array<number>(items.length);
  members.forEach((list, shard) => {
    for (const i of list) shardOf[i] = shard;
  });
  let totalBytes = 0n;
  let maxBytes = 0n;
  for (const b of shardBytes) {
    totalBytes += b;
    if (b > maxBytes) maxBytes = b;
  }
  return {
    count,
    shardOf,
    shardBytes,
    shardArrays: members.map((m) => m.length),
    totalBytes,
    maxBytes,
    imbalance: imbalanceOf(maxBytes, totalBytes, count),
  };
}

/**
 * The largest shard over the mean, rounded to 6 decimals; 1 when there are no bytes.
 *
 * @param maxBytes Bytes of the largest shard.
 * @param totalBytes Bytes of all shards.
 * @param count N.
 * @returns The imbalance, >= 1.
 */
export function imbalanceOf(maxBytes: bigint, totalBytes: bigint, count: number): number {
  if (totalBytes === 0n) return 1;
  // Exact to the 6th decimal: ceil(max * N * 1e6 / total) / 1e6, never below the true value.
  const scaled = (maxBytes * BigInt(count) * 1_000_000n + totalBytes - 1n) / totalBytes;
  return Number(scaled) / 1_000_000;
}

/**
 * The documented bound on the largest shard: `max(p1, T/N + (1 - 1/N) * p(N+1))`, as an exact
 * fraction (numerator over `N`), so that tests can compare without rounding.
 *
 * @param sizes Every array's size in bytes, in any order.
 * @param count N.
 * @returns `{ numerator, denominator }` with largest shard <= numerator / denominator.
 */
export function maxShardBound(
  sizes: readonly bigint[],
  count: number,
): { numerator: bigint; denominator: bigint } {
  const sorted = [...sizes].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
  const total = sorted.reduce((sum, b) => sum + b, 0n);
  const n = BigInt(count);
  const first = (sorted[0] ?? 0n) * n;
  // T/N + (1 - 1/N) p = (T + (N - 1) p) / N
  const spread = total + (n - 1n) * (sorted[count] ?? 0n);
  return { numerator: first > spread ? first : spread, denominator: n };
}

/** Index of the shard with the most bytes (ties: lowest index), and of the one with the least. */
function extremes(shardBytes: readonly bigint[]): { full: number; empty: number } {
  let full = 0;
  let empty = 0;
  for (let s = 1; s < shardBytes.length; s++) {
    if (shardBytes[s]! > shardBytes[full]!) full = s;
    if (shardBytes[s]! < shardBytes[empty]!) empty = s;
  }
  return { full, empty };
}

/** The first index in `list` (sorted by bytes, descending) whose bytes are <= `limit`. */
function firstAtMost(items: readonly ShardItem[], list: readonly number[], limit: bigint): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[list[mid]!]!.bytes <= limit) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Inserts `item` into `list`, keeping it sorted largest first, then by path. */
function insertSorted(items: readonly ShardItem[], list: number[], item: number): void {
  const compare = byBytesThenPath(items);
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(list[mid]!, item) < 0) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, item);
}

/**
 * Moves or swaps arrays between the fullest and the emptiest shard while that makes the pair's
 * fuller side smaller than the fullest shard was. Deterministic: candidates are examined in a
 * fixed order and the first best one wins.
 */
function refine(
  items: readonly ShardItem[],
  members: number[][],
  shardBytes: bigint[],
  budget: number,
): void {
  if (members.length < 2) return;
  let work = 0;
  const maxSteps = 64 * members.length + 1024;
  for (let step = 0; step < maxSteps; step++) {
    const { full, empty } = extremes(shardBytes);
    work += members.length;
    const diff = shardBytes[full]! - shardBytes[empty]!;
    if (diff <= 1n) return;
    const from = members[full]!;
    const to = members[empty]!;
    const cost = from.length * (2 + Math.ceil(Math.log2(to.length + 2)));
    if (work + cost > budget) return;
    work += cost;

    // The gain of a transfer of t bytes (0 < t < diff) is the new fuller side:
    // max(full - t, empty + t); the best t is the one nearest diff / 2.
    const half = diff / 2n;
    const distance = (t: bigint) => (2n * t > diff ? 2n * t - diff : diff - 2n * t);
    let best: { a: number; b: number | null; t: bigint } | null = null;
    const consider = (a: number, b: number | null, t: bigint) => {
      if (t <= 0n || t >= diff) return;
      if (best === null || distance(t) < distance(best.t)) best = { a, b, t };
    };

    // A move: an item of the full shard of size nearest diff / 2.
    const at = firstAtMost(items, from, half);
    if (at < from.length) consider(at, null, items[from[at]!]!.bytes);
    if (at > 0) consider(at - 1, null, items[from[at - 1]!]!.bytes);
    // A swap: item x of the full shard for item y of the empty one, x - y nearest diff / 2.
    for (let a = 0; a < from.length; a++) {
      const x = items[from[a]!]!.bytes;
      if (x <= 0n) break;
      const bAt = firstAtMost(items, to, x - half);
      if (bAt < to.length) consider(a, bAt, x - items[to[bAt]!]!.bytes);
      if (bAt > 0) consider(a, bAt - 1, x - items[to[bAt - 1]!]!.bytes);
    }
    if (best === null) return;
    const chosen: { a: number; b: number | null; t: bigint } = best;
    const moved = from.splice(chosen.a, 1)[0]!;
    if (chosen.b !== null) {
      const back = to.splice(chosen.b, 1)[0]!;
      insertSorted(items, from, back);
    }
    insertSorted(items, to, moved);
    shardBytes[full]! -= chosen.t;
    shardBytes[empty]! += chosen.t;
  }
}
