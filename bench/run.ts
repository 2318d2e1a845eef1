/**
 * The benchmark suite: npyalloc next to physical-limit references in C
 * (`bench/c/*.c`, compiled here with `cc -O2`), NumPy and the OS tools. Every
 * trial runs on a freshly made ext4 filesystem (an image file, `mkfs.ext4`, a
 * loop device, a mount; all removed after the trial), the sides in turn
 * (A B C A B C ...), medians printed with their ratios, and the table written
 * to `bench/results.md`. Needs root (loop devices and mounts).
 *
 * Run: `npm run bench` (or `deno run -A bench/run.ts`).
 *
 * Settings (environment):
 * - `BENCH_REPS`: runs of each side (default 3).
 * - `BENCH_ONLY`: parts to run, e.g. `1,2` (default `1,3,5,6,startup,plan,reserve`; targets
 *   2 and 4 come with 1).
 * - `BENCH_RUNTIMES`: runtimes for the file benchmarks (default `deno,bun`).
 * - `BENCH_FILES` (10000), `BENCH_FILL_GIB` (2), `BENCH_RANDOM_GIB` (2), `BENCH_RSS_GIB` (8),
 *   `BENCH_RESERVE_GIB` (64), `BENCH_PLAN` (`10000,100000`).
 * - `BENCH_IMAGE`: where the image files of targets 1-5 live, `ram` (tmpfs, the default) or
 *   `disk`; `BENCH_RSS_IMAGE` the same for target 6 (default `disk`). See bench/README.md.
 * - `BENCH_OUT`: where the markdown table goes (default `bench/results.md`).
 *
 * No test asserts any of these numbers: machines differ. See bench/README.md.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import {
  alternate,
  compiledRuntime,
  compileReferences,
  DENO,
  describeMachine,
  IMAGE_DIRS,
  type ImagePlace,
  measure,
  onFreshFilesystem,
  python,
  removeAllFilesystems,
  ROOT,
  run,
  type Runtime,
  RUNTIMES,
  type Sample,
  secs,
  sideBySide,
  sync,
} from "./_support.ts";

const env = process.env;
const REPS = Number(env.BENCH_REPS ?? 3);
const ONLY = new Set(
  (env.BENCH_ONLY ?? "1,3,5,6,startup,plan,reserve").split(",").map((s) => s.trim()),
);
const FILE_RUNTIMES = (env.BENCH_RUNTIMES ?? "deno,bun").split(",").map((name) => {
  const runtime = RUNTIMES[name.trim()];
  if (runtime === undefined) throw new Error(`BENCH_RUNTIMES: unknown runtime '${name}'`);
  return runtime;
});
const place = (value: string | undefined, fallback: ImagePlace): ImagePlace => {
  const p = value ?? fallback;
  if (p !== "ram" && p !== "disk") throw new Error(`image place must be ram or disk, got ${p}`);
  return p;
};
const IMAGE = place(env.BENCH_IMAGE, "ram");
const RSS_IMAGE = place(env.BENCH_RSS_IMAGE, "disk");
const GIB = 2 ** 30;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "npyalloc-bench-"));

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

const timeOf = (s: Sample) => `${secs(s.seconds)} s`;

/**
 * A row comparing two medians. `value` is what the ratio divides (time: lower is better;
 * throughput: higher is better), `goal` bounds the ratio (`max` or `min`), or reports it.
 */
function ratioRow(
  target: string,
  what: string,
  runtime: string,
  a: Sample,
  b: Sample,
  competitorName: string,
  goal: { max?: number; min?: number } | "report",
  show: (s: Sample) => string = timeOf,
  value: (s: Sample) => number = (s) => s.seconds,
): void {
  const ratio = value(a) / value(b);
  const met = goal === "report"
    ? "-"
    : (goal.max === undefined || ratio <= goal.max) && (goal.min === undefined || ratio >= goal.min)
    ? "yes"
    : "no";
  record({
    target,
    what,
    runtime,
    npyalloc: show(a),
    competitor: `${competitorName} ${show(b)}`,
    ratio: `${ratio.toFixed(2)}x`,
    goal: goal === "report"
      ? "report"
      : goal.max !== undefined
      ? `<= ${goal.max}x`
      : `>= ${goal.min}x`,
    met,
  });
}

/** The first `n` bytes of a file and its size, to check that two tools wrote the same file. */
function fingerprint(file: string, n = 4096): string {
  const fd = fs.openSync(file, "r");
  try {
    const bytes = Buffer.alloc(n);
    const got = fs.readSync(fd, bytes, 0, n, 0);
    return `${fs.fstatSync(fd).size}:${bytes.subarray(0, got).toString("hex")}`;
  } finally {
    fs.closeSync(fd);
  }
}

/** Checks that the reference wrote the file npyalloc writes (size and first bytes). */
function sameFile(what: string, expected: string | undefined, file: string): void {
  if (expected === undefined) return;
  if (fingerprint(file) !== expected) {
    throw new Error(`${what}: ${file} is not the file npyalloc writes`);
  }
}

const refs = compileReferences(fs.mkdtempSync(path.join(dir, "c-")));

// Targets 1, 2 and 4. Many small arrays: npyalloc (with and without fsync, on every runtime and
// the npm package's Node.js bin) against the C reference and a Python loop of open_memmap.
function manyFiles(): void {
  const count = Number(env.BENCH_FILES ?? 10000);
  const manifest = path.join(dir, "files.yaml");
  fs.writeFileSync(
    manifest,
    `version: 1\nroot: \${OUT}\narrays:\n  - path: a/x-{i:05d}.npy\n` +
      `    foreach: { i: { range: [0, ${count}] } }\n    shape: [64, 64]\n    dtype: float32\n`,
  );
  const gib = Math.max(1, Math.ceil((count * 20 * 1024) / GIB) + 1);
  let written: string | undefined;
  const npyalloc = (runtime: Runtime, fsync: boolean) => () =>
    onFreshFilesystem(gib, IMAGE, (mnt) => {
      const sample = measure([
        ...runtime.argv,
        "run",
        manifest,
        "-q",
        "--var",
        `OUT=${mnt}/out`,
        "-r",
        path.join(mnt, "report.json"),
        ...(fsync ? [] : ["--no-fsync"]),
      ], dir);
      const first = path.join(mnt, "out", "a", "x-00000.npy");
      written ??= fingerprint(first);
      if (fs.readdirSync(path.join(mnt, "out", "a")).length !== count) {
        throw new Error(`target 1: npyalloc did not write ${count} files`);
      }
      return sample;
    });
  const reference = () =>
    onFreshFilesystem(gib, IMAGE, (mnt) => {
      const out = path.join(mnt, "out", "a");
      fs.mkdirSync(out, { recursive: true });
      const sample = measure([refs.many_files!, out, String(count), "2"], dir);
      sameFile("target 1, the C reference", written, path.join(out, "x-00000.npy"));
      return sample;
    });
  const numpy = () =>
    onFreshFilesystem(gib, IMAGE, (mnt) => {
      const out = path.join(mnt, "out");
      return python(
        `import numpy as np, os\nos.makedirs(${JSON.stringify(out + "/a")}, exist_ok=True)\n` +
          `for i in range(${count}):\n` +
          `    m = np.lib.format.open_memmap(f${
            JSON.stringify(out + "/a/x-{i:05d}.npy")
          }, mode="w+", dtype="float32", shape=(64, 64))\n    del m\n`,
        dir,
      );
    });
  const node = RUNTIMES.node!;
  const sides = [
    ...FILE_RUNTIMES.flatMap((r) => [npyalloc(r, false), npyalloc(r, true)]),
    npyalloc(node, false),
    reference,
    numpy,
  ];
  const results = alternate(REPS, sides).map((r) => r.median);
  const ref = results.at(-2)!;
  const py = results.at(-1)!;
  const nodeRun = results.at(-3)!;
  const label = `${count} arrays of 64x64 float32 zeros, --no-fsync`;
  FILE_RUNTIMES.forEach((runtime, i) => {
    const plain = results[2 * i]!;
    const synced = results[2 * i + 1]!;
    ratioRow("1", label, runtime.name, plain, ref, "C reference (2 threads)", { max: 1.5 });
    ratioRow("1", label, runtime.name, plain, py, "open_memmap loop", { max: 0.5 });
    ratioRow(
      "2",
      `${count} arrays of 64x64 float32 zeros, fsync on (the default)`,
      runtime.name,
      synced,
      plain,
      "same with --no-fsync",
      { max: 2.0 },
    );
  });
  const deno = FILE_RUNTIMES.findIndex((r) => r.name === "deno");
  if (deno >= 0) {
    ratioRow(
      "4",
      label,
      "node",
      nodeRun,
      results[2 * deno]!,
      "the same on Deno",
      { max: 1.3 },
    );
  }
}

// Target 3 (and dd): one 2 GiB array filled with 1.5.
function fill(): void {
  const gib = Number(env.BENCH_FILL_GIB ?? 2);
  const bytes = gib * GIB;
  const imageGib = gib + 1.5;
  let written: string | undefined;
  const create = (runtime: Runtime, fsync: boolean) => () =>
    onFreshFilesystem(imageGib, IMAGE, (mnt) => {
      const file = path.join(mnt, "a.npy");
      const sample = measure([
        ...runtime.argv,
        "create",
        file,
        "--shape",
        String(bytes / 4),
        "--dtype",
        "float32",
        "--fill",
        "1.5",
        "-q",
        ...(fsync ? [] : ["--no-fsync"]),
      ]);
      written ??= fingerprint(file);
      return sample;
    });
  const reference = (threads: number) => () =>
    onFreshFilesystem(imageGib, IMAGE, (mnt) => {
      const file = path.join(mnt, "a.npy");
      const sample = measure([refs.fill!, file, String(bytes / 4), String(threads)]);
      sameFile("target 3, the C reference", written, file);
      return sample;
    });
  const dd = (fsync: boolean) => () =>
    onFreshFilesystem(imageGib, IMAGE, (mnt) =>
      measure([
        "dd",
        "if=/dev/zero",
        `of=${path.join(mnt, "dd.bin")}`,
        "bs=16M",
        `count=${bytes / 2 ** 24}`,
        "status=none",
        ...(fsync ? ["conv=fsync"] : []),
      ]));
  const numpy = () =>
    onFreshFilesystem(imageGib, IMAGE, (mnt) =>
      python(
        `import numpy as np\nm = np.lib.format.open_memmap(${
          JSON.stringify(path.join(mnt, "numpy.npy"))
        }, mode="w+", dtype="float32", shape=(${bytes / 4},))\nm[:] = 1.5\nm.flush()\n`,
        mnt,
      ));
  const sides = [
    ...FILE_RUNTIMES.flatMap((r) => [create(r, false), create(r, true)]),
    reference(1),
    reference(2),
    numpy,
    dd(false),
    dd(true),
  ];
  const results = alternate(REPS, sides).map((r) => r.median);
  const [c1, c2, py, ddPlain, ddSync] = results.slice(-5) as [
    Sample,
    Sample,
    Sample,
    Sample,
    Sample,
  ];
  const ref = c1.seconds <= c2.seconds ? c1 : c2;
  const refName = `C reference (${c1.seconds <= c2.seconds ? 1 : 2} thread${
    c1.seconds <= c2.seconds ? "" : "s"
  })`;
  note(
    `target 3: the C reference took ${secs(c1.seconds)} s on 1 thread, ${
      secs(c2.seconds)
    } s on 2 (${gib} GiB)`,
  );
  const rate = (s: Sample) => `${(bytes / 2 ** 20 / s.seconds).toFixed(0)} MiB/s`;
  const tput = (s: Sample) => bytes / s.seconds;
  const label = `${gib} GiB float32 filled with 1.5, --no-fsync`;
  FILE_RUNTIMES.forEach((runtime, i) => {
    const plain = results[2 * i]!;
    const synced = results[2 * i + 1]!;
    ratioRow("3", label, runtime.name, plain, ref, refName, { min: 0.9 }, rate, tput);
    ratioRow(
      "3",
      label,
      runtime.name,
      plain,
      py,
      "open_memmap + fill + flush",
      { min: 5 },
      rate,
      tput,
    );
    ratioRow("dd", label, runtime.name, plain, ddPlain, "dd bs=16M", "report", rate, tput);
    ratioRow(
      "dd",
      `${gib} GiB float32 filled with 1.5, fsync on`,
      runtime.name,
      synced,
      ddSync,
      "dd conv=fsync",
      "report",
      rate,
      tput,
    );
  });
}

/** A generated fill of target 5: the manifest's dtype and fill, and NumPy's chunk expression. */
interface GeneratedCase {
  readonly name: string;
  readonly dtype: string;
  readonly descr: string;
  readonly itemsize: number;
  readonly fill: string;
  /** NumPy's expression for `k` values from `rng`. */
  readonly numpy: string;
  /** The target's goal, or only reported. */
  readonly goal: { max: number } | "report";
}

const GENERATED: readonly GeneratedCase[] = [
  {
    name: "random float64",
    dtype: "float64",
    descr: "<f8",
    itemsize: 8,
    fill: "{ random: { seed: 7 } }",
    numpy: "rng.random(k)",
    goal: { max: 1.0 },
  },
  {
    name: "standard_normal float32",
    dtype: "float32",
    descr: "<f4",
    itemsize: 4,
    fill: "{ standard_normal: { seed: 7 } }",
    numpy: "rng.standard_normal(k, dtype=np.float32)",
    goal: "report",
  },
  {
    name: "integers int64 in [0, 1000)",
    dtype: "int64",
    descr: "<i8",
    itemsize: 8,
    fill: "{ integers: { seed: 7, low: 0, high: 1000 } }",
    numpy: "rng.integers(0, 1000, k)",
    goal: "report",
  },
];

// Target 5: 2 GiB of generated values (random float64 is the target; standard_normal and
// integers are reported beside it), against NumPy's chunked default_rng loop with tofile.
function generated(): void {
  const gib = Number(env.BENCH_RANDOM_GIB ?? 2);
  for (const c of GENERATED) generatedCase(c, gib);
}

function generatedCase(c: GeneratedCase, gib: number): void {
  const count = (gib * GIB) / c.itemsize;
  const manifest = path.join(dir, "generated.yaml");
  fs.writeFileSync(
    manifest,
    `version: 1\nroot: \${OUT}\narrays:\n  - path: r.npy\n    shape: [${count}]\n` +
      `    dtype: ${c.dtype}\n    fill: ${c.fill}\n`,
  );
  const imageGib = gib + 1.5;
  let written: string | undefined;
  const npyalloc = (runtime: Runtime) => () =>
    onFreshFilesystem(imageGib, IMAGE, (mnt) => {
      const sample = measure([
        ...runtime.argv,
        "run",
        manifest,
        "-q",
        "--no-fsync",
        "--var",
        `OUT=${mnt}`,
        "-r",
        path.join(mnt, "report.json"),
      ], dir);
      written ??= fingerprint(path.join(mnt, "r.npy"));
      return sample;
    });
  const chunk = 1 << 21;
  const numpy = () =>
    onFreshFilesystem(imageGib, IMAGE, (mnt) => {
      const file = path.join(mnt, "r.npy");
      const sample = python(
        `import numpy as np\n` +
          `n = ${count}\nrng = np.random.default_rng(7)\n` +
          `with open(${JSON.stringify(file)}, "wb") as f:\n` +
          `    np.lib.format.write_array_header_1_0(f, {"descr": "${c.descr}", ` +
          `"fortran_order": False, "shape": (n,)})\n` +
          `    left = n\n    while left > 0:\n        k = min(${chunk}, left)\n` +
          `        ${c.numpy}.tofile(f)\n        left -= k\n`,
        mnt,
      );
      sameFile(`target 5 (${c.name}), NumPy's loop`, written, file);
      return sample;
    });
  const sides = [...FILE_RUNTIMES.map(npyalloc), numpy];
  const measured = alternate(REPS, sides);
  const results = measured.map((r) => r.median);
  const py = results.at(-1)!;
  FILE_RUNTIMES.forEach((runtime, i) => {
    if (c.goal !== "report") {
      const peak = Math.max(...measured[i]!.samples.map((x) => x.peakMiB));
      record({
        target: "5",
        what: `peak RSS, ${gib} GiB ${c.name}, worst of ${REPS}`,
        runtime: runtime.name,
        npyalloc: `${peak.toFixed(1)} MiB`,
        competitor: `NumPy's loop ${
          Math.max(...measured.at(-1)!.samples.map((x) => x.peakMiB)).toFixed(1)
        } MiB`,
        ratio: "-",
        goal: "<= 100 MiB",
        met: peak <= 100 ? "yes" : "no",
      });
    }
    ratioRow(
      "5",
      `${gib} GiB ${c.name} (seed 7), --no-fsync`,
      runtime.name,
      results[i]!,
      py,
      `default_rng loop of ${chunk}`,
      c.goal,
    );
  });
}

// Target 6: peak RSS of an 8 GiB fill, and of 16 arrays of 50 MB at -j 16.
function memory(): void {
  const gib = Number(env.BENCH_RSS_GIB ?? 8);
  const manifest = path.join(dir, "sixteen.yaml");
  fs.writeFileSync(
    manifest,
    `version: 1\nroot: \${OUT}\narrays:\n  - path: m-{i:02d}.npy\n` +
      `    foreach: { i: { range: [0, 16] } }\n    shape: [12500000]\n    dtype: float32\n` +
      `    fill: 1.5\n`,
  );
  for (const runtime of [...FILE_RUNTIMES, RUNTIMES.node!]) {
    const big = alternate(REPS, [() =>
      onFreshFilesystem(gib + 1.5, RSS_IMAGE, (mnt) =>
        measure([
          ...runtime.argv,
          "create",
          path.join(mnt, "a.npy"),
          "--shape",
          String((gib * GIB) / 4),
          "--dtype",
          "float32",
          "--fill",
          "1.5",
          "--no-fsync",
          "-q",
        ]))])[0]!;
    const many = alternate(REPS, [() =>
      onFreshFilesystem(2, RSS_IMAGE, (mnt) =>
        measure([
          ...runtime.argv,
          "run",
          manifest,
          "-q",
          "-j",
          "16",
          "--no-fsync",
          "--var",
          `OUT=${mnt}`,
          "-r",
          path.join(mnt, "report.json"),
        ], dir))])[0]!;
    const worst = (s: Sample[]) => Math.max(...s.map((x) => x.peakMiB));
    for (
      const [what, samples] of [
        [`peak RSS, ${gib} GiB float32 filled with 1.5`, big.samples],
        ["peak RSS, 16 arrays of 50 MB filled with 1.5 at -j 16", many.samples],
      ] as const
    ) {
      const peak = worst(samples);
      record({
        target: "6",
        what: `${what}, worst of ${REPS}`,
        runtime: runtime.name,
        npyalloc: `${peak.toFixed(1)} MiB`,
        competitor: "-",
        ratio: "-",
        goal: "<= 100 MiB",
        met: peak <= 100 ? "yes" : "no",
      });
    }
  }
  note(
    "target 6: peak RSS is the kernel's ru_maxrss of the npyalloc process, read by " +
      "`/usr/bin/time -f %M` (wait4's rusage); for Deno and Bun it includes their writer threads",
  );
}

// Start-up: `npyalloc --version` against `python3 -c "import numpy"`.
function startup(): void {
  const folder = fs.mkdtempSync(path.join(dir, "startup-"));
  const runtimes = [RUNTIMES.node!, RUNTIMES.deno!, RUNTIMES.bun!, compiledRuntime(folder)];
  const reps = Math.max(REPS, 11);
  for (const runtime of runtimes) {
    const pair = sideBySide(
      reps,
      () => measure([...runtime.argv, "--version"]),
      () => python("import numpy", folder),
    );
    ratioRow("start-up", "--version", runtime.name, pair.a, pair.b, 'python3 -c "import numpy"', {
      max: 1.0,
    });
  }
}

// Plan: `plan` of 10,000 and 100,000 arrays: linear, and a few seconds.
function plan(): void {
  const counts = (env.BENCH_PLAN ?? "10000,100000").split(",").map(Number);
  const folder = fs.mkdtempSync(path.join(dir, "plan-"));
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
      target: "plan",
      what: `plan of ${counts.at(-1)} arrays vs ${counts[0]}`,
      runtime: runtime.name,
      npyalloc: `${secs(pair.a.seconds)} s`,
      competitor: `${counts[0]} arrays: ${secs(pair.b.seconds)} s`,
      ratio: `${(pair.a.seconds / pair.b.seconds).toFixed(2)}x`,
      goal: "<= 12x, a few s",
      met: pair.a.seconds / pair.b.seconds <= 12 && pair.a.seconds <= 5 ? "yes" : "no",
    });
  }
}

// Reserve: a huge zero array with reserve, against NumPy's sparse open_memmap and fallocate(1).
function reserve(): void {
  const gib = Number(env.BENCH_RESERVE_GIB ?? 64);
  const bytes = gib * GIB;
  const imageGib = gib + 4;
  let numpyAllocated = 0;
  const create = (runtime: Runtime) => () =>
    onFreshFilesystem(imageGib, IMAGE, (mnt) => {
      const npy = path.join(mnt, "big.npy");
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
      const allocated = fs.statSync(npy).blocks * 512;
      if (allocated < bytes) throw new Error(`reserve: ${npy} has ${allocated} bytes allocated`);
      return sample;
    });
  const numpy = () =>
    onFreshFilesystem(imageGib, IMAGE, (mnt) => {
      const npy = path.join(mnt, "big.npy");
      const sample = python(
        `import numpy as np\nm = np.lib.format.open_memmap(${
          JSON.stringify(npy)
        }, mode="w+", dtype="float64", shape=(${bytes / 8},))\ndel m\n`,
        mnt,
      );
      numpyAllocated = fs.statSync(npy).blocks * 512;
      return sample;
    });
  const tool = () =>
    onFreshFilesystem(
      imageGib,
      IMAGE,
      (mnt) => measure(["fallocate", "-l", String(bytes + 128), path.join(mnt, "big.npy")]),
    );
  const results = alternate(REPS, [...FILE_RUNTIMES.map(create), numpy, tool]).map((r) => r.median);
  const [py, fa] = results.slice(-2) as [Sample, Sample];
  const label = `${gib} GiB float64 zeros, reserve (blocks allocated)`;
  FILE_RUNTIMES.forEach((runtime, i) => {
    ratioRow("reserve", label, runtime.name, results[i]!, py, "numpy sparse", { max: 1.0 });
    ratioRow("reserve", label, runtime.name, results[i]!, fa, "fallocate -l", "report");
  });
  note(
    `reserve: NumPy's sparse file had ${numpyAllocated} bytes allocated; npyalloc's had all ` +
      `${bytes} data bytes allocated (checked after every run)`,
  );
}

function table(): string {
  const lines = [
    "| target | benchmark | runtime | npyalloc (median) | against (median) | ratio | goal | met |",
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

const machine = {
  ...describeMachine(dir),
  images: `targets 1-5 on ${IMAGE} (${IMAGE_DIRS[IMAGE]}), target 6 on ${RSS_IMAGE} (${
    IMAGE_DIRS[RSS_IMAGE]
  }): a fresh ext4 (mkfs.ext4 -m 0, otherwise defaults: a journal) on a loop device per trial`,
};
console.log(`npyalloc benchmarks, ${REPS} runs of each side (A B C ... in turn)`);
for (const [k, v] of Object.entries(machine)) console.log(`  ${k}: ${v}`);
const started = new Date();
/** Runs one part; a part that fails is noted, and the others still run and are written. */
function part(name: string, body: () => void): void {
  try {
    body();
  } catch (err) {
    removeAllFilesystems();
    note(`${name} failed: ${(err as Error).message.split("\n").slice(0, 2).join(" ")}`);
  }
}
try {
  if (ONLY.has("4") || ONLY.has("1") || ONLY.has("2")) {
    part("targets 1, 2, 4", () => {
      // The npm package's bin, as users get it.
      run(["npm", "run", "build", "--silent"]);
      manyFiles();
    });
  }
  if (ONLY.has("3")) part("target 3", fill);
  if (ONLY.has("5")) part("target 5", generated);
  if (ONLY.has("6")) part("target 6", memory);
  if (ONLY.has("startup")) part("start-up", startup);
  if (ONLY.has("plan")) part("plan", plan);
  if (ONLY.has("reserve")) part("reserve", reserve);
} finally {
  removeAllFilesystems();
  fs.rmSync(dir, { recursive: true, force: true });
  sync();
}
const minutes = ((Date.now() - started.getTime()) / 60000).toFixed(1);
const markdown = [
  `# npyalloc benchmark results`,
  "",
  `Measured ${started.toISOString()} in ${minutes} min by \`npm run bench\` ` +
  `(${REPS} runs of each side, in turn; medians; wall time of the whole process; every trial ` +
  `on a freshly made filesystem).`,
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
