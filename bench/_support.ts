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

/**
 * Waits until the disk that holds `folder` is idle: no request in flight and its counters
 * unchanged for a second (`/sys/dev/block/<major>:<minor>/stat`), at most a minute. Deleting a
 * large file on a filesystem mounted with `discard` keeps a virtual disk busy for seconds after
 * `sync` returns; a run measured meanwhile would be charged for it.
 *
 * @param folder A folder on the disk.
 */
export function waitForDiskIdle(folder: string): void {
  const dev = fs.statSync(folder).dev;
  // Linux's dev_t: major in bits 8-19 (and 32-43), minor in bits 0-7 and 20-31.
  const major = Math.floor(dev / 256) % 4096;
  const minor = (dev % 256) + Math.floor(dev / 1048576) % 4096 * 256;
  const statFile = `/sys/dev/block/${major}:${minor}/stat`;
  const read = () => {
    try {
      return fs.readFileSync(statFile, "utf8").trim();
    } catch {
      return null;
    }
  };
  let last = read();
  if (last === null) {
    run(["sleep", "5"]);
    return;
  }
  const deadline = performance.now() + 60_000;
  let quietSince = performance.now();
  while (performance.now() < deadline) {
    run(["sleep", "0.2"]);
    const now = read();
    const inFlight = Number(now?.split(/\s+/)[8] ?? 0);
    if (now !== last || inFlight > 0) {
      last = now;
      quietSince = performance.now();
    } else if (performance.now() - quietSince >= 1000) {
      return;
    }
  }
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
