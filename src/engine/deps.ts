/**
 * What every engine function needs from the world around it, passed in by the caller (the CLI,
 * the library, a test): the platform, the environment, an abort signal, and where progress and
 * messages go. Nothing in the engine reads `process` or writes to a terminal.
 *
 * @module
 */

import type { Platform } from "../platform/platform.ts";
import type { ProgressSink } from "../run/execute.ts";

/** Environment variables. */
export type Env = Readonly<Record<string, string | undefined>>;

/** A line for the user (the CLI prints it on standard error). */
export interface Message {
  /** The line as printed, without its newline. */
  readonly text: string;
  /**
   * Printed even with `--quiet`: problems, conflicts, errors. Otherwise a note or a warning,
   * which `--quiet` silences.
   */
  readonly important: boolean;
}

/** The dependencies of an engine function. */
export interface EngineDeps {
  /** The filesystem and the runtime's FFI. */
  readonly platform: Platform;
  /** For `${NAME}` and `--shard auto`. */
  readonly env: Env;
  /** Aborts the command: SIGINT, SIGTERM. */
  readonly signal?: AbortSignal;
  /** Receives what a run writes, as it writes it. */
  readonly progress?: ProgressSink;
  /** Receives the lines for the user. */
  readonly log?: (message: Message) => void;
  /**
   * The module writer threads load: one that serves a writer pool in a worker thread (the
   * program's entry file). @default the writer thread module beside the engine
   */
  readonly workerModule?: URL;
}

/** Sends a line to `deps.log`. */
export function say(deps: EngineDeps, text: string, important = false): void {
  deps.log?.({ text, important });
}
