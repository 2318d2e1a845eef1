/**
 * Peak memory of `npyalloc create` while writing a fill pattern: it must not
 * grow with the array size. Runs the CLI under `/usr/bin/time -v` for 1 GiB
 * and 4 GiB (set SIZES_GIB to change) on each runtime, and NumPy's
 * `open_memmap` + fill + flush for comparison, then prints a markdown table.
 *
 * Run: `deno run -A bench/memory.ts` (or `npm run bench:memory`).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";

const ROOT = path.join(path.dirname(new URL(import.meta.url).pathname), "..");
const CLI = path.join(ROOT, "src", "cli.ts");
const DENO = path.join(ROOT, "node_modules", ".bin", "deno");
const BUN = path.join(ROOT, "node_modules", ".bin", "bun");
const sizes = (process.env.SIZES_GIB ?? "1,4").split(",").map(Number);
const dir = fs.mkdtempSync(
  path.join(process.env.BENCH_DIR ?? os.tmpdir(), "npyalloc-bench-memory-"),
);

interface Row {
  tool: string;
  gib: number;
  peakMiB: number;
  seconds: number;
}

function measure(tool: string, gib: number, argv: string[]): Row {
  const result = spawnSync("/usr/bin/time", ["-v", ...argv], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${tool} failed:\n${result.stderr}`);
  const peak = /Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(
    result.stderr,
  );
  if (!peak || !wall) throw new Error(`cannot read /usr/bin/time output:\n${result.stderr}`);
  const seconds = Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]);
  return { tool, gib, peakMiB: Number(peak[1]) / 1024, seconds };
}

const rows: Row[] = [];
try {
  for (const gib of sizes) {
    const elements = String((gib * 2 ** 30) / 4);
    const file = path.join(dir, "a.npy");
    const create = [
      "create",
      file,
      "--shape",
      elements,
      "--dtype",
      "float32",
      "--fill",
      "1.5",
      "--no-fsync",
      "--force",
      "-q",
    ];
    rows.push(measure("npyalloc (deno)", gib, [DENO, "run", "-A", CLI, ...create]));
    rows.push(measure("npyalloc (bun)", gib, [BUN, CLI, ...create]));
    rows.push(measure("numpy open_memmap", gib, [
      "python3",
      "-c",
      `import numpy as np; m = np.lib.format.open_memmap(${
        JSON.stringify(file)
      }, mode="w+", dtype="float32", shape=(${elements},)); m[:] = 1.5; m.flush()`,
    ]));
    fs.rmSync(file, { force: true });
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

console.log("| tool | array | peak RSS (MiB) | wall (s) |");
console.log("| --- | ---: | ---: | ---: |");
for (const r of rows) {
  console.log(`| ${r.tool} | ${r.gib} GiB | ${r.peakMiB.toFixed(1)} | ${r.seconds.toFixed(2)} |`);
}
for (const tool of new Set(rows.map((r) => r.tool))) {
  const mine = rows.filter((r) => r.tool === tool);
  if (mine.length >= 2) {
    const growth = mine.at(-1)!.peakMiB / mine[0]!.peakMiB;
    console.log(
      `\n${tool}: peak RSS at ${mine.at(-1)!.gib} GiB / at ${mine[0]!.gib} GiB = ${
        growth.toFixed(2)
      }x`,
    );
  }
}
