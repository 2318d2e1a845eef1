/**
 * Helpers for tests that start real schedulers of their own (test/gridengine_test.ts): find
 * programs, pick free ports, wait for readiness, run client commands without blocking the event
 * loop, and stop daemons by pid.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import process from "node:process";

/**
 * Where a program is: PATH first, then the sbin folders a non-login PATH may lack, then `extra`.
 *
 * @param name The program's file name.
 * @param extra More folders to look in, after PATH and the sbin folders.
 * @returns Its path, or `null`.
 */
export function which(name: string, extra: readonly string[] = []): string | null {
  const dirs = [
    ...(process.env.PATH ?? "").split(path.delimiter),
    "/usr/sbin",
    "/sbin",
    "/usr/local/sbin",
    ...extra,
  ];
  for (const dir of dirs) {
    if (dir === "") continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * A TCP port nobody listens on right now, on the loopback interface.
 *
 * @returns The port.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Waits `ms` milliseconds.
 *
 * @param ms How long.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits until `check` is true, or fails with `what` after `ms`.
 *
 * @param what What is awaited, for the error.
 * @param ms The longest wait.
 * @param check Tried every 200 ms.
 * @throws {Error} After `ms` without success.
 */
export async function waitFor(
  what: string,
  ms: number,
  check: () => boolean | Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await sleep(200);
  }
}

/** What a finished command printed and how it ended. */
export interface CommandResult {
  /** The exit code, or `null` when a signal ended it. */
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command to completion without blocking the event loop; SIGKILLs it after `timeoutMs`.
 *
 * @param file The program.
 * @param args Its arguments.
 * @param options Its folder, its whole environment and the timeout.
 * @returns Its exit code and output.
 */
export function runCommand(
  file: string,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string>; timeoutMs: number },
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk) => (stdout += chunk));
    child.stderr!.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/**
 * Whether a child process is still running.
 *
 * @param child The process.
 * @returns `true` until it has exited or was killed.
 */
export function isRunning(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

/**
 * Stops a daemon by its pid: SIGTERM, then SIGKILL when it is still there after `graceMs`.
 *
 * @param child The daemon.
 * @param graceMs How long it may take to shut down cleanly.
 */
export async function stopDaemon(child: ChildProcess, graceMs: number): Promise<void> {
  if (!isRunning(child)) return;
  child.kill("SIGTERM");
  const deadline = Date.now() + graceMs;
  while (isRunning(child) && Date.now() < deadline) await sleep(100);
  if (isRunning(child)) child.kill("SIGKILL");
  while (isRunning(child)) await sleep(50);
}

/**
 * The npyalloc command line for jobs: the runtime running this test, on the sources.
 *
 * @param cli The path of src/cli.ts.
 * @returns The program and its first arguments.
 */
export function npyallocArgv(cli: string): string[] {
  return "Deno" in globalThis ? [process.execPath, "run", "-A", cli] : [process.execPath, cli];
}
