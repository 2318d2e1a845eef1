/**
 * The npyalloc command line: the only module that reads `process.argv`,
 * writes to the terminal and sets the exit code.
 *
 * ```sh
 * deno run -A src/cli.ts create data.npy --shape 1000,1000 --dtype float32
 * bun src/cli.ts inspect data.npy
 * ```
 *
 * @module
 */

import process from "node:process";
import { runCli } from "./commands/mod.ts";
import { loadPlatform } from "./platform/mod.ts";
import type { Platform } from "./platform/platform.ts";
import { inWorkerThread } from "./run/_thread.ts";

// In the npm bundle and the compiled binary, writer threads (run/writer_pool.ts) load this very
// file: there it serves them instead of running a second command line.
if (inWorkerThread()) await import("./run/writer_pool.ts");
else await main();

async function main(): Promise<void> {
  let platform: Promise<Platform> | undefined;

  // The first SIGINT/SIGTERM stops the run cleanly (no partial file, a report, exit 130);
  // a second one exits at once.
  const interrupt = new AbortController();
  const onSignal = (signal: string) => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort(new Error(`Received ${signal}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const args = process.argv.slice(2);
  const debug = args.includes("--debug");
  const code = await runCli(args.filter((a) => a !== "--debug"), {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    env: process.env,
    isTTY: process.stderr.isTTY === true,
    platform: () => (platform ??= loadPlatform()),
    signal: interrupt.signal,
  }, debug);
  process.exitCode = code;
  // Listening for signals keeps some runtimes alive; the work is done.
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
}
