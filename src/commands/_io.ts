/**
 * What a command needs from the outside world, passed in so that tests can
 * call commands directly with captured output.
 */
import type { Platform } from "../platform/platform.ts";

/** The outside world of a command. */
export interface CommandIo {
  /** Writes text to standard output (no newline added). */
  stdout(text: string): void;
  /** Writes text to standard error (no newline added). */
  stderr(text: string): void;
  /** Environment variables. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whether standard error is a terminal (live progress, colour). */
  readonly isTTY: boolean;
  /** The runtime's platform adapter, loaded on first use. */
  platform(): Promise<Platform>;
  /** Aborts when the user interrupts (SIGINT, SIGTERM). */
  readonly signal?: AbortSignal;
}
