/**
 * The benchmark suite: npyalloc next to NumPy and the OS tools,
 * side by side in the same run and the same folder, each side run several
 * times alternately (A B A B ...), medians and their ratio printed, and the
 * table written to `bench/results.md`.
 *
 * Run: `npm run bench` (or `deno run -A bench/run.ts`). It takes several
 * minutes and writes up to 64 GiB (less when the disk has less room, and it
 * says so); everything it writes is removed at the end.
 *
 * Settings (environment):
 * - `BENCH_DIR`: where the files go (default: the system temp folder).
 * - `BENCH_REPS`: runs of each side (default 5).
 * - `BENCH_ONLY`: targets to run, e.g. `1,5` (default all).
 * - `BENCH_RUNTIMES`: runtimes for the file benchmarks (default `deno,bun`).
 * - `BENCH_RESERVE_GIB` (64), `BENCH_FILL_GIB` (2), `BENCH_RSS_GIB` (`1,8`),
 *   `BENCH_FILES` (10000), `BENCH_PLAN` (`10000,100000`).
 * - `BENCH_OUT`: where the markdown table goes (default `bench/results.md`).
 *
 * No test asserts any of these numbers: machines differ. See bench/README.md.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import {
  allocatedBytes,
  compiledRuntime,
  DENO,
  describeMachine,
  freeBytes,
  measure,
  type Pair,
  python,
  ROOT,
  run,
  type Runtime,
  RUNTIMES,
  type Sample,
  secs,
  sideBySide,
  sync,
  waitForDiskIdle,
} from "./_support.ts";

const env = process.env;
const REPS = Number(env.BENCH_REPS ?? 5);
const ONLY = new Set((env.BENCH_ONLY ?? "1,2,3,4,5,6").split(",").map((s) => s.trim()));
const FILE_RUNTIMES = (env.BENCH_RUNTIMES ?? "deno,bun").split(",").map((name) => {
  const runtime = RUNTIMES[name.trim()];
  if (runtime === undefined) throw new Error(`BENCH_RUNTIMES: unknown runtime '${name}'`);
  return runtime;
});
const GIB = 2 ** 30;
const dir = fs.mkdtempSync(path.join(env.BENCH_DIR ?? os.tmpdir(), "npyalloc-bench-"));

/** One line of the results table. */
interface Row {
  readonly target: string;
  readonly what: string;
  readonly runtime: string;
  readonly npyalloc: string;
  readonly competitor: string;
  /** The ratio as the target states it, e.g. `0.42x`. */
  readonly ratio: string;
  readonly goal: string;
  /** `yes`, `no`, or `-` for a figure reported without a target. */
  readonly met: string;
}

const rows: Row[] = [];
const notes: string[] = [];

function record(row: Row): void {
  rows.push(row);
  console.log(
    `[${row.target}] ${row.what} (${row.runtime}): npyalloc ${row.npyalloc} | ${row.competitor} ` +
      `| ratio ${row.ratio} (goal ${row.goal}: ${row.met})`,
  );
}

function note(text: string): void {
  notes.push(text);
  console.log(`note: ${text}`);
}

function fresh(name: string): string {
  const folder = path.join(dir, name);
  fs.mkdirSync(folder, { recursive: true });
  return folder;
}

function ratioRow(
  target: string,
  what: string,
  runtime: string,
  pair: Pair,
  competitorName: string,
  goal: { max?: number; min?: number },
  show: (s: Sample) => string = (s) => `${secs(s.seconds)} s`,
  value: (s: Sample) => number = (s) => s.seconds,
): void {
  // Times: npyalloc / competitor (lower is better); throughputs: npyalloc / competitor.
  const ratio = value(pair.a) / value(pair.b);
  const met = (goal.max === undefined || ratio <= goal.max) &&
    (goal.min === undefined || ratio >= goal.min);
  record({
    target,
    what,
    runtime,
    npyalloc: show(pair.a),
    competitor: `${competitorName} ${show(pair.b)}`,
    ratio: `${ratio.toFixed(2)}x`,
    goal: goal.max !== undefined ? `<= ${goal.max}x` : `>= ${goal.min}x`,
    met: met ? "yes" : "no",
  });
}

// 1. Thousands of small arrays: one foreach manifest against a Python loop of open_memmap.
function manyFiles(): void {
  const count = Number(env.BENCH_FILES ?? 10000);
  const folder = fresh("files");
  const manifest = path.join(folder, "manifest.yaml");
  fs.writeFileSync(
    manifest,
    `version: 1\nroot: \${OUT}\narrays:\n  - path: a/x-{i:05d}.npy\n` +
      `    foreach: { i: { range: [0, ${count}] } }\n    shape: [64, 64]\n    dtype: float32\n`,
  );
  const loop = (out: string) =>
    `import numpy as np, os\nos.makedirs(${JSON.stringify(out + "/a")}, exist_ok=True)\n` +
    `for i in range(${count}):\n` +
    `    m = np.lib.format.open_memmap(f${
      JSON.stringify(out + "/a/x-{i:05d}.npy")
    }, mode="w+", dtype="float32", shape=(64, 64))\n    del m\n`;
  // Nothing is deleted until the end: on ext4, creating files right after deleting many
  // (within a minute, longer while the inode table is dirty) is several times slower, which
  // would turn the benchmark into a measure of the previous run's cleanup.
  let n = 0;
  const npyalloc = (runtime: Runtime, fsync: boolean) => () => {
    const out = `run-${n++}`;
    sync();
    return measure([
      ...runtime.argv,
      "run",
      manifest,
      "-q",
      "--var",
      `OUT=${out}`,
      "-r",
      path.join(folder, `${out}.json`),
      ...(fsync ? [] : ["--no-fsync"]),
    ], folder);
  };
  const numpy = () => {
    const out = path.join(folder, `numpy-${n++}`);
    sync();
    return python(loop(out), folder);
  };
  const label = `${count} arrays of 64x64 float32 zeros`;
  for (const runtime of FILE_RUNTIMES) {
    const pair = sideBySide(REPS, npyalloc(runtime, false), numpy);
    ratioRow("1", label, runtime.name, pair, "open_memmap loop", { max: 0.5 });
    const synced = sideBySide(Math.min(REPS, 3), npyalloc(runtime, true), numpy);
    record({
      target: "1",
      what: `${label}, npyalloc with fsync on`,
      runtime: runtime.name,
      npyalloc: `${secs(synced.a.seconds)} s`,
      competitor: `open_memmap loop (no fsync) ${secs(synced.b.seconds)} s`,
      ratio: `${(synced.a.seconds / synced.b.seconds).toFixed(2)}x`,
      goal: "report",
      met: "-",
    });
  }
  fs.rmSync(folder, { recursive: true, force: true });
  sync();
}

// 2. One 2 GiB array filled with 1.5, against dd (and dd conv=fsync) and NumPy's memmap fill.
function fill(): void {
  const gib = Number(env.BENCH_FILL_GIB ?? 2);
  const bytes = gib * GIB;
  const folder = fresh("fill");
  // Before each run, the previous run's file is deleted and the disk is left to finish what
  // that started (writeback, and discards on a filesystem mounted with discard): measured right
  // after deleting 2 GiB, a run waited for the disk, up to ten times slower, whichever side it
  // was. Reusing the memory the deleted file's pages held also keeps fresh guest memory (slow to
  // fault in on a VM) out of the figures, for both sides alike.
  let n = 0;
  const written: string[] = [];
  const next = (name: string) => {
    for (const file of written.splice(0)) fs.rmSync(file, { force: true });
    sync();
    waitForDiskIdle(folder);
    const file = path.join(folder, `${name}-${n++}`);
    written.push(file);
    return file;
  };
  const create = (runtime: Runtime, fsync: boolean) => () =>
    measure([
      ...runtime.argv,
      "create",
      next("a.npy"),
      "--shape",
      String(bytes / 4),
      "--dtype",
      "float32",
      "--fill",
      "1.5",
      "-q",
      ...(fsync ? [] : ["--no-fsync"]),
    ]);
  const dd = (fsync: boolean) => () =>
    measure([
      "dd",
      "if=/dev/zero",
      `of=${next("dd.bin")}`,
      "bs=16M",
      `count=${bytes / 2 ** 24}`,
      "status=none",
      ...(fsync ? ["conv=fsync"] : []),
    ]);
  const numpy = () =>
    python(
      `import numpy as np\nm = np.lib.format.open_memmap(${
        JSON.stringify(next("numpy.npy"))
      }, mode="w+", dtype="float32", shape=(${bytes / 4},))\nm[:] = 1.5\nm.flush()\n`,
      folder,
    );
  const rate = (s: Sample) => `${(bytes / 2 ** 20 / s.seconds).toFixed(0)} MiB/s`;
  const tput = (s: Sample) => bytes / s.seconds;

  const label = `${gib} GiB float32 filled with 1.5`;
  for (const runtime of FILE_RUNTIMES) {
    ratioRow(
      "2",
      label,
      runtime.name,
      sideBySide(REPS, create(runtime, false), dd(false)),
      "dd",
      {
        min: 0.85,
      },
      rate,
      tput,
    );
    ratioRow(
      "2",
      label,
      runtime.name,
      sideBySide(REPS, create(runtime, false), numpy),
      "open_memmap + fill + flush",
      { min: 5 },
      rate,
      tput,
    );
    ratioRow(
      "2",
      `${label}, fsync on`,
      runtime.name,
      sideBySide(REPS, create(runtime, true), dd(true)),
      "dd conv=fsync",
      { min: 0.85 },
      rate,
      tput,
    );
  }
  for (const file of written.splice(0)) fs.rmSync(file, { force: true });
  fs.rmSync(folder, { recursive: true, force: true });
  sync();
}

// 3. A huge zero array with reserve, against NumPy's sparse open_memmap (and fallocate(1)).
function reserve(): void {
  const folder = fresh("reserve");
  let gib = Number(env.BENCH_RESERVE_GIB ?? 64);
  const room = Math.floor(freeBytes(folder) / GIB) - 4;
  if (room < gib) {
    const smaller = 2 ** Math.floor(Math.log2(Math.max(1, room)));
    note(
      `target 3: ${gib} GiB does not fit in the ${room + 4} GiB free on the bench filesystem; ` +
        `measured with ${smaller} GiB instead`,
    );
    gib = smaller;
  }
  const bytes = gib * GIB;
  const npy = path.join(folder, "big.npy");
  const clean = () => {
    fs.rmSync(npy, { force: true });
    sync();
  };
  const create = (runtime: Runtime) => (): Sample => {
    clean();
    const sample = measure([
      ...runtime.argv,
      "create",
      npy,
      "--shape",
      String(bytes / 8),
      "--dtype",
      "float64",
      "--allocation",
      "reserve",
      "--no-fsync",
      "-q",
    ]);
    // Really allocated: the blocks are the file's, not a hole.
    if (allocatedBytes(npy) < bytes) {
      throw new Error(`target 3: ${npy} has ${allocatedBytes(npy)} bytes allocated, not ${bytes}`);
    }
    return sample;
  };
  let numpyAllocated = 0;
  const numpy = (): Sample => {
    clean();
    const sample = python(
      `import numpy as np\nm = np.lib.format.open_memmap(${
        JSON.stringify(npy)
      }, mode="w+", dtype="float64", shape=(${bytes / 8},))\ndel m\n`,
      folder,
    );
    numpyAllocated = allocatedBytes(npy);
    return sample;
  };
  const tool = (): Sample => {
    clean();
    return measure(["fallocate", "-l", String(bytes + 128), npy]);
  };
  const label = `${gib} GiB float64 zeros, reserve (blocks allocated)`;
  for (const runtime of FILE_RUNTIMES) {
    ratioRow("3", label, runtime.name, sideBySide(REPS, create(runtime), numpy), "numpy sparse", {
      max: 1.0,
    });
  }
  const first = FILE_RUNTIMES[0]!;
  const ref = sideBySide(Math.min(REPS, 3), create(first), tool);
  record({
    target: "3",
    what: `${label}, next to fallocate(1)`,
    runtime: first.name,
    npyalloc: `${secs(ref.a.seconds)} s`,
    competitor: `fallocate -l ${secs(ref.b.seconds)} s`,
    ratio: `${(ref.a.seconds / ref.b.seconds).toFixed(2)}x`,
    goal: "report",
    met: "-",
  });
  note(
    `target 3: NumPy's sparse file had ${numpyAllocated} bytes allocated; npyalloc's had all ` +
      `${bytes} data bytes allocated (checked after every run)`,
  );
  clean();
  fs.rmSync(folder, { recursive: true, force: true });
}

// 4. Peak memory while filling: flat in the array size.
function memory(): void {
  const sizes = (env.BENCH_RSS_GIB ?? "1,8").split(",").map(Number);
  const folder = fresh("memory");
  const npy = path.join(folder, "a.npy");
  const reps = Math.min(REPS, 3);
  for (const runtime of [...FILE_RUNTIMES, RUNTIMES.node!]) {
    const peaks = sizes.map((gib) => {
      const samples: Sample[] = [];
      for (let rep = 0; rep < reps; rep++) {
        fs.rmSync(npy, { force: true });
        sync();
        samples.push(measure([
          ...runtime.argv,
          "create",
          npy,
          "--shape",
          String((gib * GIB) / 4),
          "--dtype",
          "float32",
          "--fill",
          "1.5",
          "--no-fsync",
          "-q",
        ]));
      }
      return Math.max(...samples.map((s) => s.peakMiB));
    });
    const small = peaks[0]!;
    const large = peaks.at(-1)!;
    const growth = large / small;
    record({
      target: "4",
      what: `peak RSS filling ${sizes.at(-1)} GiB (vs ${sizes[0]} GiB), worst of ${reps}`,
      runtime: runtime.name,
      npyalloc: `${large.toFixed(1)} MiB`,
      competitor: `same tool at ${sizes[0]} GiB: ${small.toFixed(1)} MiB`,
      ratio: `${growth.toFixed(2)}x`,
      goal: "<= 100 MiB, 0.9x..1.1x",
      met: large <= 100 && growth >= 0.9 && growth <= 1.1 ? "yes" : "no",
    });
  }
  fs.rmSync(npy, { force: true });
  sync();
  const numpy = python(
    `import numpy as np\nm = np.lib.format.open_memmap(${
      JSON.stringify(npy)
    }, mode="w+", dtype="float32", shape=(${(sizes[0]! * GIB) / 4},))\nm[:] = 1.5\nm.flush()\n`,
    folder,
  );
  note(
    `target 4: for reference, NumPy's open_memmap + fill + flush of ${sizes[0]} GiB peaks at ` +
      `${numpy.peakMiB.toFixed(0)} MiB (the mapped pages count as resident)`,
  );
  fs.rmSync(folder, { recursive: true, force: true });
}

// 5. Start-up: `npyalloc --version` against `python3 -c "import numpy"`.
function startup(): void {
  const folder = fresh("startup");
  const runtimes = [RUNTIMES.node!, RUNTIMES.deno!, RUNTIMES.bun!, compiledRuntime(folder)];
  const reps = Math.max(REPS, 11);
  for (const runtime of runtimes) {
    const pair = sideBySide(
      reps,
      () => measure([...runtime.argv, "--version"]),
      () => python("import numpy", folder),
    );
    ratioRow("5", "--version", runtime.name, pair, 'python3 -c "import numpy"', { max: 1.0 });
  }
  fs.rmSync(folder, { recursive: true, force: true });
}

// 6. `plan` of 10,000 and 100,000 arrays: linear, and a few seconds.
function plan(): void {
  const counts = (env.BENCH_PLAN ?? "10000,100000").split(",").map(Number);
  const folder = fresh("plan");
  // Ten existing, empty folders: every target is looked at (one lstat each).
  for (let d = 0; d < 10; d++) fs.mkdirSync(path.join(folder, "out", `d${d}`), { recursive: true });
  const manifests = counts.map((count) => {
    const file = path.join(folder, `plan-${count}.yaml`);
    fs.writeFileSync(
      file,
      `version: 1\nroot: out\narrays:\n  - path: d{j}/x-{i:06d}.npy\n` +
        `    foreach: { j: { range: [0, 10] }, i: { range: [0, ${count / 10}] } }\n` +
        `    shape: [64, 64]\n    dtype: float32\n`,
    );
    return file;
  });
  const small = manifests[0]!;
  const large = manifests.at(-1)!;
  for (const runtime of [RUNTIMES.deno!, RUNTIMES.bun!, RUNTIMES.node!]) {
    const planOf = (file: string) => () =>
      measure([...runtime.argv, "plan", file, "-q", "-r", path.join(folder, "report.json")]);
    const pair = sideBySide(REPS, planOf(large), planOf(small));
    record({
      target: "6",
      what: `plan of ${counts.at(-1)} arrays vs ${counts[0]}`,
      runtime: runtime.name,
      npyalloc: `${secs(pair.a.seconds)} s`,
      competitor: `${counts[0]} arrays: ${secs(pair.b.seconds)} s`,
      ratio: `${(pair.a.seconds / pair.b.seconds).toFixed(2)}x`,
      goal: "<= 12x, a few s",
      met: pair.a.seconds / pair.b.seconds <= 12 && pair.a.seconds <= 5 ? "yes" : "no",
    });
  }
  fs.rmSync(folder, { recursive: true, force: true });
}

function table(): string {
  const lines = [
    "| target | benchmark | runtime | npyalloc (median) | competitor (median) | ratio | goal | met |",
    "| --- | --- | --- | ---: | ---: | ---: | --- | --- |",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.target} | ${r.what} | ${r.runtime} | ${r.npyalloc} | ${r.competitor} | ${r.ratio} ` +
        `| ${r.goal} | ${r.met} |`,
    );
  }
  return lines.join("\n");
}

const machine = describeMachine(dir);
console.log(`npyalloc benchmarks in ${dir}, ${REPS} runs of each side (A B A B ...)`);
for (const [k, v] of Object.entries(machine)) console.log(`  ${k}: ${v}`);
const started = new Date();
try {
  // Target 1 first: it is the one that suffers from files deleted shortly before.
  if (ONLY.has("1")) manyFiles();
  if (ONLY.has("5")) startup();
  if (ONLY.has("6")) plan();
  if (ONLY.has("2")) fill();
  if (ONLY.has("3")) reserve();
  if (ONLY.has("4")) memory();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
const minutes = ((Date.now() - started.getTime()) / 60000).toFixed(1);
const markdown = [
  `# npyalloc benchmark results`,
  "",
  `Measured ${started.toISOString()} in ${minutes} min by \`npm run bench\` ` +
  `(${REPS} runs of each side, alternating; medians; wall time of the whole process).`,
  "",
  ...Object.entries(machine).map(([k, v]) => `- ${k}: ${v}`),
  "",
  table(),
  "",
  ...notes.map((n) => `- ${n}`),
  "",
].join("\n");
const out = env.BENCH_OUT ?? path.join(ROOT, "bench", "results.md");
fs.writeFileSync(out, markdown);
// Formatted as `deno fmt --check` (part of `npm test`) expects it.
run([DENO, "fmt", "-q", out]);
console.log(`\n${table()}\n\nwritten to ${out}`);
