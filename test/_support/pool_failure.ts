/**
 * Runs 600 small arrays on writer threads that fail (`failing`: the module throws as it loads;
 * `dying`: the thread writes its first batch, then dies), in a process of its own, so that the
 * runtime's report of the threads' uncaught errors goes to that process's stderr, which the test
 * captures, instead of the test log. Prints what became of every array, as JSON.
 *
 * Usage: `pool_failure.ts failing|dying DIR`
 */
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { loadManifest } from "../../src/manifest/mod.ts";
import { classifyTargets } from "../../src/plan/targets.ts";
import { loadPlatform } from "../../src/platform/mod.ts";
import { executePlan } from "../../src/run/execute.ts";
import { PatternBuffers } from "../../src/run/fill_writer.ts";
import { FolderCache } from "../../src/run/folders.ts";
import { WriterPool } from "../../src/run/writer_pool.ts";

const [kind, dir] = process.argv.slice(process.argv.length - 2);
if ((kind !== "failing" && kind !== "dying") || dir === undefined) {
  throw new Error("usage: pool_failure.ts failing|dying DIR");
}
const platform = await loadPlatform();
const file = path.join(dir, "m.yaml");
fs.writeFileSync(
  file,
  "version: 1\narrays:\n  - path: out/x-{i:03d}.npy\n" +
    "    foreach: { i: { range: [0, 600] } }\n    shape: [8, 8]\n    dtype: float32\n",
);
const plan = await classifyTargets((await loadManifest(file)).arrays, {
  force: false,
  fs: platform,
});
const lost: string[] = [];
const pool = new WriterPool(
  kind === "failing" ? 2 : 1,
  (why) => lost.push(why),
  new URL(`./${kind}_writer.ts`, import.meta.url),
);
const { outcomes } = await executePlan(plan, {
  platform,
  folders: new FolderCache(platform),
  buffers: new PatternBuffers(4),
  jobs: 4,
  fsync: false,
  pool,
});
await pool.close();
process.stdout.write(JSON.stringify({
  lost,
  outcomes: outcomes.map((o) => ({
    path: o.array.path,
    status: o.status,
    reason: o.reason,
    error: o.error?.message ?? null,
    size: fs.statSync(o.array.target).size,
    expected: Number(o.array.layout.fileBytes),
  })),
}));
