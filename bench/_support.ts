/**
 * Helpers of the benchmark suite: run a command and measure its wall time
 * and peak memory, run two commands side by side (A B A B ...) and take
 * medians, and describe the machine.
 *
 * Wall time is measured around `spawnSync` in this process, the same way for
 * both sides; peak RSS comes from `/usr/bin/time -f %M` (the kernel's
 * `ru_maxrss` of the child).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";

/** The repository's root folder. */
export const ROOT: string = path.join(path.dirname(new URL(import.meta.url).pathname), "..");
const BIN = path.join(ROOT, "node_modules", ".bin");
/** Deno and Bun from node_modules, Node.js from the PATH. */
export const DENO: string = path.join(BIN, "deno");
export const BUN: string = path.join(BIN, "bun");
export const NODE: string = "node";
export const PYTHON: string = "python3";
const CLI = path.join(ROOT, "src", "cli.ts");
const NODE_CLI = path.join(ROOT, "dist", "npyalloc.mjs");

/** A way of running npyalloc, as a user runs it. */
export interface Runtime {
  readonly name: string;
  /** The argv prefix: `[deno, run, -A, src/cli.ts]` and so on. */
  readonly argv: readonly string[];
}

/** The runtimes from source and the npm package's Node.js bin. */
export const RUNTIMES: Readonly<Record<string, Runtime>> = {
  deno: { name: "deno", argv: [DENO, "run", "-A", CLI] },
  bun: { name: "bun", argv: [BUN, CLI] },
  node: { name: "node", argv: [NODE, NODE_CLI] },
};

/** Builds the single-file executable into `dir` and returns it as a runtime. */
export function compiledRuntime(dir: string): Runtime {
  const outfile = path.join(dir, "npyalloc");
  run([BUN, "build", CLI, "--compile", "--outfile", outfile]);
  return { name: "binary", argv: [outfile] };
}

/** One measured run. */
export interface Sample {
  /** Wall time, seconds. */
  readonly seconds: number;
  /** Peak resident set size, MiB. */
  readonly peakMiB: number;
}

/**
 * Runs a command to completion and fails loudly when it fails.
 *
 * @param argv The command and its arguments.
 * @param options Working folder and environment additions.
 * @returns Its standard output.
 */
export function run(
  argv: readonly string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): string {
  const [command, ...args] = argv as [string, ...string[]];
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`'${argv.join(" ")}' exited with ${result.status}:\n${result.stderr}`);
  }
  return result.stdout;
}

/**
 * Runs a command under `/usr/bin/time` and measures it.
 *
 * @param argv The command and its arguments.
 * @param cwd The working folder.
 * @returns Wall time and peak RSS.
 */
export function measure(argv: readonly string[], cwd: string = ROOT): Sample {
  const timeFile = path.join(os.tmpdir(), `npyalloc-bench-time-${process.pid}.txt`);
  const started = performance.now();
  run(["/usr/bin/time", "-f", "%M", "-o", timeFile, ...argv], { cwd });
  const seconds = (performance.now() - started) / 1000;
  const kib = Number(fs.readFileSync(timeFile, "utf8").trim().split("\n").at(-1));
  fs.rmSync(timeFile, { force: true });
  return { seconds, peakMiB: kib / 1024 };
}

/** The median of some numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The medians of two commands measured side by side. */
export interface Pair {
  readonly a: Sample;
  readonly b: Sample;
  readonly samplesA: readonly Sample[];
  readonly samplesB: readonly Sample[];
}

/**
 * Measures two sides alternately, A B A B ..., `reps` times each, so that a
 * machine that gets slower or faster during the run affects both alike.
 *
 * @param reps Runs of each side.
 * @param a Runs side A once (given the repetition number) and measures it.
 * @param b Runs side B once and measures it.
 * @returns The medians of wall time and of peak RSS of each side.
 */
export function sideBySide(
  reps: number,
  a: (rep: number) => Sample,
  b: (rep: number) => Sample,
): Pair {
  const samplesA: Sample[] = [];
  const samplesB: Sample[] = [];
  for (let rep = 0; rep < reps; rep++) {
    samplesA.push(a(rep));
    samplesB.push(b(rep));
  }
  const med = (s: Sample[]): Sample => ({
    seconds: median(s.map((x) => x.seconds)),
    peakMiB: median(s.map((x) => x.peakMiB)),
  });
  return { a: med(samplesA), b: med(samplesB), samplesA, samplesB };
}

/** Flushes dirty pages, so that one run's writeback does not land in the next one's time. */
export function sync(): void {
  run(["sync"]);
}

/** Runs Python code with NumPy and measures it. */
export function python(code: string, cwd: string): Sample {
  return measure([PYTHON, "-c", code], cwd);
}

/** The machine, for the README: CPUs, memory, filesystem, kernel, runtime versions. */
export function describeMachine(dir: string): Record<string, string> {
  const firstLine = (argv: string[]) => {
    try {
      return run(argv).trim().split("\n")[0] ?? "";
    } catch {
      return "unknown";
    }
  };
  const mount = firstLine(["findmnt", "-n", "-o", "FSTYPE,SOURCE,OPTIONS", "-T", dir]);
  return {
    cpus: `${os.cpus().length} x ${os.cpus()[0]?.model ?? "unknown"}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    filesystem: `${mount} (bench folder ${dir})`,
    deno: firstLine([DENO, "--version"]),
    bun: `bun ${firstLine([BUN, "--version"])}`,
    node: `node ${firstLine([NODE, "--version"])}`,
    numpy: `python ${firstLine([PYTHON, "-c", "import sys; print(sys.version.split()[0])"])}, ` +
      `numpy ${firstLine([PYTHON, "-c", "import numpy; print(numpy.__version__)"])}`,
  };
}

/** Free bytes for an unprivileged user on the filesystem of `dir`. */
export function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
}

/** Bytes allocated to a file (`st_blocks * 512`). */
export function allocatedBytes(file: string): number {
  return fs.statSync(file).blocks * 512;
}

/** Seconds, to 3 significant figures. */
export function secs(s: number): string {
  return s >= 10 ? s.toFixed(1) : s >= 1 ? s.toFixed(2) : s.toFixed(3);
}

/** Where a fresh filesystem's image file lives: RAM (tmpfs) or the machine's disk. */
export type ImagePlace = "ram" | "disk";

/** The folders image files go to: `/dev/shm` (tmpfs) and the system temp folder (its disk). */
export const IMAGE_DIRS: Readonly<Record<ImagePlace, string>> = {
  ram: process.env.BENCH_RAM_DIR ?? "/dev/shm",
  disk: process.env.BENCH_DISK_DIR ?? os.tmpdir(),
};

const SBIN = ["/usr/sbin", "/sbin"];
function sbin(tool: string): string {
  for (const dir of SBIN) {
    const file = path.join(dir, tool);
    if (fs.existsSync(file)) return file;
  }
  return tool;
}

/** A mounted fresh filesystem, until {@linkcode FreshFilesystem.remove}. */
interface Mounted {
  readonly image: string;
  readonly loop: string;
  readonly mountpoint: string;
}

/** Every filesystem mounted and not yet removed, for the exit and signal handlers. */
const mounted = new Set<Mounted>();

function unmount(m: Mounted): void {
  mounted.delete(m);
  const quiet = (argv: string[]) => spawnSync(argv[0]!, argv.slice(1), { stdio: "ignore" });
  if (m.mountpoint !== "") quiet([sbin("umount"), m.mountpoint]);
  if (m.loop !== "") quiet([sbin("losetup"), "-d", m.loop]);
  fs.rmSync(m.image, { force: true });
  if (m.mountpoint !== "") fs.rmSync(m.mountpoint, { recursive: true, force: true });
}

/** Unmounts and deletes every fresh filesystem still there (on exit, error or signal). */
export function removeAllFilesystems(): void {
  for (const m of [...mounted]) unmount(m);
}

let handlersInstalled = false;
function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", removeAllFilesystems);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      removeAllFilesystems();
      process.exit(130);
    });
  }
}

/**
 * Runs `fn` on a freshly made ext4 filesystem: an image file of `gib` GiB (sparse) in
 * `place`'s folder, `mkfs.ext4 -m 0`, a loop device, a mount in a temporary folder. Everything is
 * unmounted, detached and deleted afterwards, also when `fn` throws (and on exit or a signal).
 * The setup is not part of any measured time.
 *
 * @param gib The image's size in GiB.
 * @param place Where the image file lives.
 * @param fn Gets the mount point.
 * @returns What `fn` returns.
 */
export function onFreshFilesystem<T>(gib: number, place: ImagePlace, fn: (mnt: string) => T): T {
  installHandlers();
  const image = path.join(
    fs.mkdtempSync(path.join(IMAGE_DIRS[place], "npyalloc-bench-img-")),
    "ext4.img",
  );
  const m: { image: string; loop: string; mountpoint: string } = {
    image,
    loop: "",
    mountpoint: "",
  };
  mounted.add(m);
  try {
    fs.writeFileSync(image, "");
    fs.truncateSync(image, Math.round(gib * 2 ** 30));
    // No blocks reserved for root (-m 0): the whole image is the benchmark's to fill.
    run([sbin("mkfs.ext4"), "-q", "-F", "-m", "0", image]);
    m.loop = run([sbin("losetup"), "-f", "--show", image]).trim();
    m.mountpoint = fs.mkdtempSync(path.join(os.tmpdir(), "npyalloc-bench-mnt-"));
    run(["mount", m.loop, m.mountpoint]);
    sync();
    return fn(m.mountpoint);
  } finally {
    unmount(m);
    fs.rmSync(path.dirname(image), { recursive: true, force: true });
  }
}

/**
 * Compiles the C references (`bench/c/*.c`) with `cc -O2 -pthread` into `dir`.
 *
 * @param dir A temporary folder.
 * @returns The path of each executable, by the source's base name.
 */
export function compileReferences(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const sources = path.join(ROOT, "bench", "c");
  for (const file of fs.readdirSync(sources).filter((f) => f.endsWith(".c")).sort()) {
    const exe = path.join(dir, file.slice(0, -2));
    run(["cc", "-O2", "-pthread", "-o", exe, path.join(sources, file)]);
    out[file.slice(0, -2)] = exe;
  }
  return out;
}

/**
 * Measures several sides in turn, A B C A B C ..., `reps` times each, so that a machine that
 * gets slower or faster during the run affects all alike.
 *
 * @param reps Runs of each side.
 * @param sides Each runs its side once and measures it.
 * @returns Per side, the medians of wall time and of peak RSS, and the samples.
 */
export function alternate(
  reps: number,
  sides: readonly ((rep: number) => Sample)[],
): { median: Sample; samples: Sample[] }[] {
  const samples = sides.map(() => [] as Sample[]);
  for (let rep = 0; rep < reps; rep++) {
    sides.forEach((side, i) => samples[i]!.push(side(rep)));
  }
  return samples.map((s) => ({
    median: {
      seconds: median(s.map((x) => x.seconds)),
      peakMiB: median(s.map((x) => x.peakMiB)),
    },
    samples: s,
  }));
}
