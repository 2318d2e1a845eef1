/**
 * The npyalloc command line: the only module that reads `process.argv`, writes to the terminal,
 * installs signal handlers and sets the exit code.
 *
 * ```sh
 * deno run -A src/cli.ts create data.npy --shape 1000,1000 --dtype float32
 * bun src/cli.ts inspect data.npy
 * ```
 *
 * @module
 */

import process from "node:process";
import { EXIT } from "./errors.ts";
import { loadPlatform } from "./platform/mod.ts";
import { inWorkerThread } from "./run/_thread.ts";

// In the npm bundle and the compiled binary, writer threads load this very file (it is given to
// them as their module): there it serves them instead of running a second command line.
if (inWorkerThread()) await import("./run/writer_thread.ts");
else await main();

async function main(): Promise<void> {
  const { runCli } = await import("./cli/main.ts");
  const { removeLiveTemps } = await import("./run/temps.ts");
  // Every command stops at the first SIGINT/SIGTERM (no partial file, a report, exit 130); a
  // second one exits at once, after removing the temporary files this thread still names.
  const interrupt = new AbortController();
  const onSignal = (signal: string) => {
    if (interrupt.signal.aborted) {
      loadPlatform().then(removeLiveTemps, () => 0).finally(() => process.exit(EXIT.interrupted));
      return;
    }
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
    platform: loadPlatform,
    signal: interrupt.signal,
    workerModule: new URL(import.meta.url),
  }, debug);
  process.exitCode = code;
  // Listening for signals keeps some runtimes alive; the work is done.
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  // A read the signal abandoned (a FIFO no one writes) would keep the process alive: once the
  // output has had its moment to drain, exit.
  setTimeout(() => process.exit(code), 500).unref?.();
}
