/**
 * The one way tests run npyalloc's command line: as a separate process under the runtime that
 * runs the tests (Deno or Bun), synchronously or not, or in this process with its output
 * captured.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runCli as runCliHere } from "../../src/cli/main.ts";
import { loadPlatform } from "../../src/platform/mod.ts";

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "cli.ts");

/** What a CLI run printed and returned. */
export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** How a CLI process ended. */
export interface CliExit extends CliRun {
  readonly signal: string | null;
  /** When it ended (`performance.now()`). */
  readonly endedAt: number;
}

/** A running CLI process. */
export interface CliProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves when the process has exited and its output is read. */
  readonly exited: Promise<CliExit>;
}

/** Options of the runners. */
export interface CliOptions {
  readonly cwd?: string;
  /** More environment variables (on top of this process's, with NO_COLOR=1). */
  readonly env?: Record<string, string>;
  /** The whole environment instead. */
  readonly replaceEnv?: Record<string, string>;
  /** Run the CLI as this user and group (via `setpriv`), e.g. 65534 for nobody. Needs root. */
  readonly asUser?: number;
  /** Standard input. */
  readonly input?: string;
  /**
   * A command that runs the CLI, given as its first words: the CLI's program and arguments
   * follow them (e.g. `unshare --pid --fork ...`).
   */
  readonly within?: readonly string[];
}

/**
 * The argument vector that runs `npyalloc <args>` with the runtime running the tests.
 *
 * @param args Command-line arguments.
 * @returns The program and its arguments.
 */
export function cliCommand(args: readonly string[]): [string, string[]] {
  const isDeno = "Deno" in globalThis;
  return [process.execPath, isDeno ? ["run", "-A", CLI, ...args] : [CLI, ...args]];
}

function command(args: readonly string[], options: CliOptions): [string, string[]] {
  const user = options.asUser === undefined ? [] : [
    "setpriv",
    `--reuid=${options.asUser}`,
    `--regid=${options.asUser}`,
    "--clear-groups",
  ];
  const within = [...user, ...(options.within ?? [])];
  const [program, argv] = cliCommand(args);
  if (within.length === 0) return [program, argv];
  return [within[0] as string, [...within.slice(1), program, ...argv]];
}

function environment(options: CliOptions): Record<string, string | undefined> {
  return options.replaceEnv ?? { ...process.env, NO_COLOR: "1", ...options.env };
}

/**
 * Runs `npyalloc <args>` as a process, to the end, synchronously.
 *
 * @param args Command-line arguments.
 * @param options Working folder, environment, user, input.
 * @returns Exit status and output.
 */
export function runCliProcess(args: readonly string[], options: CliOptions = {}): CliRun {
  const [program, argv] = command(args, options);
  const result = spawnSync(program, argv, {
    cwd: options.cwd,
    env: environment(options),
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    ...(options.input === undefined ? {} : { input: options.input }),
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Starts `npyalloc <args>` as a child process, without waiting for it.
 *
 * @param args Command-line arguments.
 * @param options Working folder, environment, user, input.
 * @returns The process and a promise of its exit.
 */
export function startCli(args: readonly string[], options: CliOptions = {}): CliProcess {
  const [program, argv] = command(args, options);
  const child = spawn(program, argv, {
    cwd: options.cwd,
    env: environment(options),
    stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  if (options.input !== undefined) {
    // A CLI that stops reading early (a manifest over the size limit) closes the pipe: EPIPE
    // is then the expected end of the input, not a failure of the test.
    child.stdin?.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE") throw err;
    });
    child.stdin?.end(options.input);
  }
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (text: string) => (stdout += text));
  child.stderr?.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  const exited = new Promise<CliExit>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (status, signal) => {
      resolve({ status, signal, stdout, stderr, endedAt: performance.now() });
    });
  });
  assert.ok(child.pid !== undefined, "the CLI did not start");
  return { child, pid: child.pid, exited };
}

/**
 * Runs `npyalloc <args>` as a process, to the end.
 *
 * @param args Command-line arguments.
 * @param options Working folder, environment, user, input.
 * @returns How it ended.
 */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliExit> {
  return startCli(args, options).exited;
}

/**
 * Runs `npyalloc <args>` in this process, as `src/cli.ts` would, with its output captured.
 *
 * @param args Command-line arguments.
 * @param options Environment (the whole of it; none of this process's), a TTY, a signal.
 * @returns Exit status and output.
 */
export async function runInProcess(
  args: readonly string[],
  options: { env?: Record<string, string>; isTTY?: boolean; signal?: AbortSignal } = {},
): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const status = await runCliHere(args, {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
    env: options.env ?? {},
    isTTY: options.isTTY ?? false,
    platform: loadPlatform,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  return { status, stdout, stderr };
}
