/**
 * Helpers of the fault tests: signals for CLI processes (started with `cli.ts`); waiting for
 * something on disk; checking that every file at a target is a complete .npy file holding its
 * fill; temporary files of runs; a seeded random generator.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import os from "node:os";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { TEMP_SUFFIX } from "../../src/run/_temp_name.ts";
import type { CliProcess } from "./cli.ts";
import { listFiles } from "./temp.ts";

/**
 * Sends `signal` to a CLI process with `process.kill`. (Deno's `ChildProcess.kill` makes the
 * child look killed by the signal whatever its real exit status, so it is not used.)
 *
 * @param proc The process.
 * @param signal `SIGINT`, `SIGTERM`, `SIGKILL`, `SIGSTOP`, `SIGCONT`, ...
 * @returns Whether the process was still there to receive it.
 */
export function sendSignal(proc: CliProcess, signal: string): boolean {
  try {
    process.kill(proc.pid, signal);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === "ESRCH") return false;
    throw err;
  }
}

/** Sleeps `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `predicate` every millisecond or so until it is true.
 *
 * @param predicate What to wait for.
 * @param what A description, for the failure message.
 * @param timeoutMs How long to wait at most.
 */
export async function waitFor(
  predicate: () => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) {
      assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(1);
  }
}

/**
 * The temporary files below `dir`.
 *
 * @param dir A folder.
 * @returns Relative paths of files ending in `.npyalloc-tmp`.
 */
export function tempFilesBelow(dir: string): string[] {
  return listFiles(dir).filter((f) => f.endsWith(TEMP_SUFFIX));
}

/**
 * The regular files that process `pid` has open below `dir`, named or not: a file made with
 * `O_TMPFILE` shows in `/proc/<pid>/fd` as `<dir>/#<inode> (deleted)` until it is linked.
 * Threads share their process's descriptors, so writer threads' files are listed too.
 *
 * @param pid The process.
 * @param dir A folder.
 * @returns The files' paths as the kernel names them, and their sizes now.
 */
export function openFilesBelow(pid: number, dir: string): { path: string; size: number }[] {
  const below = `${realDir(dir)}/`;
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return []; // The process has ended.
  }
  const open: { path: string; size: number }[] = [];
  for (const fd of fds) {
    try {
      const link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (!link.startsWith(below)) continue;
      const st = fs.statSync(`/proc/${pid}/fd/${fd}`);
      if (st.isFile()) open.push({ path: link, size: st.size });
    } catch {
      // Closed meanwhile.
    }
  }
  return open;
}

/**
 * Whether process `pid` is writing an array below `dir`: it has a file open there, or a
 * temporary file of its own is there.
 *
 * @param pid The process.
 * @param dir A folder.
 * @returns `true` while a write is under way.
 */
export function isWritingBelow(pid: number, dir: string): boolean {
  return openFilesBelow(pid, dir).length > 0 ||
    tempFilesBelow(dir).some((t) => t.includes(`.${pid}.`));
}

/** `dir` with symbolic links resolved as far as it exists, so that it matches kernel paths. */
function realDir(dir: string): string {
  const resolved = path.resolve(dir);
  for (let existing = resolved;; existing = path.dirname(existing)) {
    if (fs.existsSync(existing)) {
      return path.join(fs.realpathSync(existing), path.relative(existing, resolved));
    }
    if (existing === path.dirname(existing)) return resolved;
  }
}

/**
 * Asserts that `file` is a complete `.npy` file of `expectedBytes` bytes whose data (after the
 * header) is the byte `fill` repeated: what a `uint8` array with that fill holds. Reads the file
 * in chunks.
 *
 * @param file The file.
 * @param expectedBytes The size of the complete file.
 * @param fill The value of every data byte.
 */
export function assertCompleteFill(file: string, expectedBytes: number, fill: number): void {
  const size = fs.statSync(file).size;
  assert.equal(size, expectedBytes, `${file}: ${size} bytes, a complete file has ${expectedBytes}`);
  const fd = fs.openSync(file, "r");
  try {
    const head = Buffer.alloc(10);
    fs.readSync(fd, head, 0, 10, 0);
    assert.deepEqual(
      [...head.subarray(0, 6)],
      [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59],
      `${file}: magic`,
    );
    const headerBytes = 10 + head.readUInt16LE(8);
    const chunk = Buffer.alloc(1 << 22);
    const pattern = Buffer.alloc(chunk.length, fill);
    for (let at = headerBytes; at < size;) {
      const n = fs.readSync(fd, chunk, 0, Math.min(chunk.length, size - at), at);
      assert.ok(n > 0, `${file}: short read at ${at}`);
      if (!chunk.subarray(0, n).equals(pattern.subarray(0, n))) {
        const i = chunk.subarray(0, n).findIndex((b) => b !== fill);
        assert.fail(`${file}: byte ${at + i} is ${chunk[i]}, not the fill ${fill}`);
      }
      at += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The pid of a process that has just exited: what a run killed with SIGKILL leaves in the names
 * of its temporary files.
 *
 * @returns A pid no live process has (until the kernel reuses it).
 */
export function deadPid(): number {
  const done = spawnSync("true");
  assert.ok(typeof done.pid === "number" && done.pid > 0);
  return done.pid;
}

/**
 * The name npyalloc gives a temporary file of `target` in a run of process `pid` on this host.
 *
 * @param target The final path.
 * @param pid The pid of the run.
 * @returns The temporary path.
 */
export function tempNameOf(target: string, pid: number): string {
  const host = os.hostname().replace(/[^A-Za-z0-9_-]/g, "_");
  return path.join(
    path.dirname(target),
    `.${path.basename(target)}.${host}.${pid}.x1y2z3${TEMP_SUFFIX}`,
  );
}

export { seededRandom } from "./random.ts";

/**
 * A `uint8` array entry of a manifest whose file is exactly `fileBytes` long (1-d `uint8`
 * headers are 128 bytes), as YAML lines.
 *
 * @param arrayPath The array's path.
 * @param fileBytes The size of its file, >= 128.
 * @param extra More fields, e.g. `{ fill: 7 }` or `{ allocation: "reserve" }`.
 * @returns YAML lines of one `arrays` entry.
 */
export function u8Entry(
  arrayPath: string,
  fileBytes: bigint | number,
  extra: Record<string, string | number> = {},
): string[] {
  const lines = [
    `  - path: ${JSON.stringify(arrayPath)}`,
    `    shape: [${BigInt(fileBytes) - 128n}]`,
    `    dtype: uint8`,
  ];
  for (const [key, value] of Object.entries(extra)) lines.push(`    ${key}: ${value}`);
  return lines;
}

/**
 * Writes a manifest file.
 *
 * @param file Where.
 * @param root The `root` (absolute, or relative to the manifest).
 * @param entries `arrays` entries, as from {@linkcode u8Entry}.
 * @returns `file`.
 */
export function writeManifest(file: string, root: string, entries: string[][]): string {
  const text = ["version: 1", `root: ${JSON.stringify(root)}`, "arrays:", ...entries.flat()];
  fs.writeFileSync(file, text.join("\n") + "\n");
  return file;
}
