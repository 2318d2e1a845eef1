/**
 * The split of a manifest into shards: every array in exactly one shard, the documented
 * imbalance bound holding over many random manifests, LPT's 4/3 guarantee against the optimum,
 * and the same split whatever the order of the arrays.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { loadManifest } from "../src/manifest/mod.ts";
import {
  imbalanceOf,
  maxShardBound,
  selectShard,
  type ShardItem,
  type ShardSelection,
  type ShardSplit,
  splitShards,
} from "../src/shard/mod.ts";
import { withManifest } from "./_support/manifest.ts";
import { seededRandom } from "./_support/random.ts";

function shuffle<T>(list: readonly T[], rand: () => number): T[] {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

type Distribution = "uniform" | "equal" | "heavy" | "few-huge" | "tiny-and-big" | "huge-bytes";

/** Random array sizes as npyalloc sees them: at least a 128-byte header. */
function sizes(kind: Distribution, n: number, rand: () => number): bigint[] {
  const header = 128n;
  return Array.from({ length: n }, (_, i) => {
    switch (kind) {
      case "uniform":
        return header + BigInt(Math.floor(rand() * 1_000_000));
      case "equal":
        return header + 4096n;
      case "heavy": // Pareto with alpha 1.1: a few arrays dominate
        return header + BigInt(Math.floor(1000 / Math.pow(1 - rand(), 1 / 1.1)));
      case "few-huge":
        return header + (i < 3 ? 10_000_000_000n : BigInt(Math.floor(rand() * 100_000)));
      case "tiny-and-big":
        return header + (rand() < 0.5 ? 0n : BigInt(2 ** Math.floor(rand() * 40)));
      case "huge-bytes": // past 2^53 in total: the split must stay exact
        return header + (1n << 50n) + BigInt(Math.floor(rand() * 1e9));
    }
  });
}

function items(bytes: readonly bigint[]): ShardItem[] {
  return bytes.map((b, i) => ({ path: `d${i % 7}/a-${i}.npy`, bytes: b }));
}

/** Checks everything a split must satisfy, whatever the input. */
function assertSound(input: readonly ShardItem[], count: number, split: ShardSplit): void {
  assert.equal(split.count, count);
  assert.equal(split.shardOf.length, input.length);
  const bytes = Array.from({ length: count }, () => 0n);
  const arrays = Array.from({ length: count }, () => 0);
  input.forEach((item, i) => {
    const shard = split.shardOf[i]!;
    assert.ok(Number.isInteger(shard) && shard >= 0 && shard < count, `shard ${shard}`);
    bytes[shard]! += item.bytes;
    arrays[shard]!++;
  });
  assert.deepEqual(split.shardBytes, bytes);
  assert.deepEqual(split.shardArrays, arrays);
  const total = input.reduce((sum, item) => sum + item.bytes, 0n);
  assert.equal(split.totalBytes, total);
  const max = bytes.reduce((a, b) => (b > a ? b : a), 0n);
  assert.equal(split.maxBytes, max);
  // The documented bound: max <= max(p1, T/N + (1 - 1/N) p(N+1)), compared exactly.
  const bound = maxShardBound(input.map((item) => item.bytes), count);
  assert.ok(
    max * bound.denominator <= bound.numerator,
    `largest shard ${max} passes the bound ${bound.numerator}/${bound.denominator}`,
  );
  // The reported imbalance is max / mean rounded up to 6 decimals.
  if (total > 0n) {
    const exact = Number(max * BigInt(count)) / Number(total);
    assert.ok(split.imbalance >= exact - 1e-9 && split.imbalance <= exact + 1.1e-6);
  } else {
    assert.equal(split.imbalance, 1);
  }
}

/** The best possible largest shard, by trying every assignment (small inputs only). */
function optimum(bytes: readonly bigint[], count: number): bigint {
  let best: bigint | null = null;
  const loads = Array.from({ length: count }, () => 0n);
  const sorted = [...bytes].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
  const visit = (i: number) => {
    const max = loads.reduce((a, b) => (b > a ? b : a), 0n);
    if (best !== null && max >= best) return;
    if (i === sorted.length) {
      best = max;
      return;
    }
    const tried = new Set<bigint>();
    for (let s = 0; s < count; s++) {
      if (tried.has(loads[s]!)) continue; // symmetric: same load, same subtree
      tried.add(loads[s]!);
      loads[s]! += sorted[i]!;
      visit(i + 1);
      loads[s]! -= sorted[i]!;
    }
  };
  visit(0);
  return best ?? 0n;
}

describe("splitShards", () => {
  test("every array lands in exactly one shard and the bound holds, over 1,500 random manifests", () => {
    const rand = seededRandom(20260601);
    const kinds: Distribution[] = [
      "uniform",
      "equal",
      "heavy",
      "few-huge",
      "tiny-and-big",
      "huge-bytes",
    ];
    let worstSpread = 1;
    for (let round = 0; round < 1500; round++) {
      const kind = kinds[round % kinds.length]!;
      const n = Math.floor(rand() ** 2 * 400);
      const count = 1 + Math.floor(rand() * (round % 5 === 0 ? 64 : 16));
      const input = items(sizes(kind, n, rand));
      const split = splitShards(input, count);
      assertSound(input, count, split);
      if (kind === "equal" || kind === "uniform") {
        if (n >= 100 * count) worstSpread = Math.max(worstSpread, split.imbalance);
      }
    }
    // Many arrays of similar size per shard: within a few per cent of perfect.
    assert.ok(worstSpread < 1.02, `imbalance ${worstSpread} with >= 100 arrays per shard`);
  });

  test("within 4/3 - 1/(3N) of the optimal largest shard (Graham's LPT bound)", () => {
    const rand = seededRandom(7);
    for (let round = 0; round < 400; round++) {
      const count = 2 + (round % 2);
      const n = 1 + Math.floor(rand() * 9);
      const bytes = Array.from({ length: n }, () => 128n + BigInt(Math.floor(rand() * 1000)));
      const split = splitShards(items(bytes), count);
      const best = optimum(bytes, count);
      // max <= (4/3 - 1/(3N)) OPT  <=>  3N max <= (4N - 1) OPT
      const n3 = BigInt(3 * count);
      assert.ok(
        n3 * split.maxBytes <= BigInt(4 * count - 1) * best,
        `${bytes.join(",")} in ${count}: ${split.maxBytes} vs optimum ${best}`,
      );
    }
  });

  test("the refinement never makes the largest shard larger, and fixes LPT's textbook miss", () => {
    const rand = seededRandom(99);
    let improved = 0;
    for (let round = 0; round < 500; round++) {
      const n = 2 + Math.floor(rand() * 40);
      const count = 2 + Math.floor(rand() * 6);
      const input = items(sizes(round % 2 === 0 ? "uniform" : "heavy", n, rand));
      const plain = splitShards(input, count, { refineBudget: 0 });
      const refined = splitShards(input, count);
      assertSound(input, count, plain);
      assert.ok(refined.maxBytes <= plain.maxBytes);
      if (refined.maxBytes < plain.maxBytes) improved++;
    }
    assert.ok(improved > 0, "the refinement should improve some splits");
    // LPT gives {300, 200, 200} and {300, 200}; the best split is {300, 300} and {200, 200, 200}.
    const textbook = ["a", "b", "c", "d", "e"].map((p, i) => ({
      path: `${p}.npy`,
      bytes: i < 2 ? 300n : 200n,
    }));
    assert.deepEqual(splitShards(textbook, 2, { refineBudget: 0 }).shardBytes, [700n, 500n]);
    const best = splitShards(textbook, 2);
    assert.deepEqual(best.shardBytes, [600n, 600n]);
    assert.equal(best.imbalance, 1);
  });

  test("the split depends on the set of arrays, never on their order", () => {
    const rand = seededRandom(1234);
    for (let round = 0; round < 200; round++) {
      const input = items(sizes(round % 2 ? "heavy" : "equal", 1 + Math.floor(rand() * 300), rand));
      const count = 1 + Math.floor(rand() * 12);
      const shardByPath = (list: readonly ShardItem[]) => {
        const split = splitShards(list, count);
        return new Map(list.map((item, i) => [item.path, split.shardOf[i]]));
      };
      const before = shardByPath(input);
      const after = shardByPath(shuffle(input, rand));
      assert.deepEqual([...after].sort(), [...before].sort());
    }
  });

  test("ties between equal sizes go by path, so equal arrays spread evenly", () => {
    const input = Array.from({ length: 10 }, (_, i) => ({ path: `x-${i}.npy`, bytes: 1000n }));
    const split = splitShards(input, 4);
    assert.deepEqual(split.shardArrays, [3, 3, 2, 2]);
    assert.deepEqual(split.shardOf, [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]);
  });

  test("edge cases: no arrays, fewer arrays than shards, one shard", () => {
    const empty = splitShards([], 3);
    assert.deepEqual(empty.shardBytes, [0n, 0n, 0n]);
    assert.equal(empty.imbalance, 1);
    const few = splitShards([{ path: "a.npy", bytes: 100n }, { path: "b.npy", bytes: 50n }], 4);
    assert.deepEqual(few.shardOf, [0, 1]);
    assert.deepEqual(few.shardArrays, [1, 1, 0, 0]);
    assert.equal(few.imbalance, imbalanceOf(100n, 150n, 4));
    assert.equal(few.imbalance, 2.666667);
    const one = splitShards(items(sizes("uniform", 50, seededRandom(1))), 1);
    assert.ok(one.shardOf.every((s) => s === 0));
    assert.equal(one.imbalance, 1);
    assert.throws(() => splitShards([], 0), TypeError);
    assert.throws(() => splitShards([], 1.5), TypeError);
    assert.throws(() => splitShards([{ path: "a", bytes: -1n }], 1), TypeError);
  });

  test("a large manifest splits quickly: 200,000 arrays into 64 shards", () => {
    const input = items(sizes("uniform", 200_000, seededRandom(5)));
    const started = performance.now();
    const split = splitShards(input, 64);
    const ms = performance.now() - started;
    assertSound(input, 64, split);
    assert.ok(split.imbalance < 1.001, `imbalance ${split.imbalance}`);
    assert.ok(ms < 20_000, `took ${ms} ms`);
  });
});

describe("selectShard on loaded manifests", () => {
  /** A random manifest: several entries with foreach, random shapes and dtypes. */
  function manifestText(rand: () => number, entries: string[] | null = null): string[] {
    const list = entries ?? Array.from({ length: 3 + Math.floor(rand() * 5) }, (_, e) => {
      const dtype = ["uint8", "float32", "float64", "int16", "complex64"][e % 5];
      const n = 1 + Math.floor(rand() * 40);
      const rows = 1 + Math.floor(rand() * 2000);
      return [
        `  - path: g${e}/part-{i:03d}.npy`,
        `    foreach: { i: { range: [0, ${n}] } }`,
        `    shape: [${rows}, "{i}"]`,
        `    dtype: ${dtype}`,
      ].join("\n");
    });
    return ["version: 1", "root: out", "arrays:", ...list];
  }

  test("shards 0..N-1 of a manifest hold every array once, in manifest order", async () => {
    const rand = seededRandom(42);
    for (let round = 0; round < 25; round++) {
      const lines = manifestText(rand);
      const count = 1 + Math.floor(rand() * 8);
      await withManifest(lines, async (file) => {
        const manifest = await loadManifest(file);
        const seen = new Map<string, number>();
        let bytes = 0n;
        const digests = new Set<string>();
        for (let index = 0; index < count; index++) {
          const selection: ShardSelection = { index, count, source: "option", origin: "" };
          const part = selectShard(manifest.arrays, selection);
          const order = part.arrays.map((a) => manifest.arrays.indexOf(a));
          assert.deepEqual(order, [...order].sort((a, b) => a - b), "manifest order");
          for (const a of part.arrays) seen.set(a.path, (seen.get(a.path) ?? 0) + 1);
          assert.equal(part.info.index, index);
          assert.equal(part.info.count, count);
          assert.equal(part.info.arrays_total, manifest.arrays.length);
          const mine = part.arrays.reduce((sum, a) => sum + a.layout.fileBytes, 0n);
          assert.equal(BigInt(part.info.bytes ?? -1), mine);
          bytes += mine;
          digests.add(part.info.split_sha256 ?? "");
        }
        assert.equal(seen.size, manifest.arrays.length);
        assert.ok([...seen.values()].every((n) => n === 1));
        const total = manifest.arrays.reduce((sum, a) => sum + a.layout.fileBytes, 0n);
        assert.equal(bytes, total);
        assert.equal(digests.size, 1);
      });
    }
  });

  test("reordering the manifest's entries moves no array to another shard", async () => {
    const rand = seededRandom(77);
    for (let round = 0; round < 10; round++) {
      const lines = manifestText(rand);
      const entries = lines.slice(3);
      const shuffled = manifestText(rand, shuffle(entries, rand));
      const count = 2 + Math.floor(rand() * 6);
      const shardOfPath = (text: string[]) =>
        withManifest(text, async (file) => {
          const manifest = await loadManifest(file);
          const out = new Map<string, number>();
          let digest = "";
          for (let index = 0; index < count; index++) {
            const part = selectShard(manifest.arrays, {
              index,
              count,
              source: "option",
              origin: "",
            });
            for (const a of part.arrays) out.set(a.path, index);
            digest = part.info.split_sha256 ?? "";
          }
          return { out, digest };
        });
      const a = await shardOfPath(lines);
      const b = await shardOfPath(shuffled);
      assert.deepEqual([...b.out].sort(), [...a.out].sort());
      assert.equal(b.digest, a.digest);
    }
  });

  test("other variables give another split fingerprint", async () => {
    const text = [
      "version: 1",
      "vars: { N: 10 }",
      "arrays:",
      "  - path: a-{i}.npy",
      "    foreach: { i: { range: [0, 4] } }",
      "    shape: ['${N}']",
    ];
    const digest = (vars: Record<string, string>) =>
      withManifest(text, async (file) =>
        selectShard((await loadManifest(file, { vars })).arrays, {
          index: 0,
          count: 2,
          source: "option",
          origin: "",
        }).info.split_sha256);
    assert.equal(await digest({}), await digest({ N: "10" }));
    assert.notEqual(await digest({}), await digest({ N: "11" }));
  });
});
