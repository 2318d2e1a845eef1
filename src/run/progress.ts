/**
 * Progress output of a run, on standard error: on a terminal one live line
 * (files and bytes done, throughput, ETA) redrawn at most ten times a second;
 * elsewhere (CI logs) one line per finished array; nothing when quiet.
 *
 * @module
 */

import { formatBytes } from "../format.ts";

/** How progress is shown. */
export type ProgressMode = "live" | "lines" | "quiet";

/** What a finished array reports. */
export interface FinishedArray {
  readonly path: string;
  readonly status: string;
  readonly fileBytes: bigint;
  readonly how: string;
  readonly durationMs: number;
  readonly error: string | null;
  /** Bytes of this array not already counted with `bytes()`; they are counted now. */
  readonly uncountedBytes: bigint;
}

/** Receives progress events and prints them. */
export class Progress {
  readonly #mode: ProgressMode;
  readonly #write: (text: string) => void;
  readonly #color: boolean;
  readonly #now: () => number;
  readonly #totalFiles: number;
  readonly #totalBytes: bigint;
  readonly #started: number;
  #files = 0;
  #bytes = 0n;
  #lastDraw = 0;
  #drawn = false;

  /**
   * @param mode Live line, one line per array, or nothing.
   * @param write Where text goes (standard error).
   * @param totals Files and bytes the run will write.
   * @param options `color`: colour the status words (off when NO_COLOR is set); `now`: a clock.
   */
  constructor(
    mode: ProgressMode,
    write: (text: string) => void,
    totals: { files: number; bytes: bigint },
    options: { color?: boolean; now?: () => number } = {},
  ) {
    this.#mode = mode;
    this.#write = write;
    this.#color = options.color ?? false;
    this.#now = options.now ?? (() => performance.now());
    this.#totalFiles = totals.files;
    this.#totalBytes = totals.bytes;
    this.#started = this.#now();
  }

  /**
   * Counts bytes written.
   *
   * @param bytes How many more.
   */
  bytes(bytes: number | bigint): void {
    this.#bytes += BigInt(bytes);
    if (this.#mode === "live") this.#draw(false);
  }

  /**
   * Reports one finished array.
   *
   * @param done What happened to it.
   */
  finished(done: FinishedArray): void {
    this.#files++;
    this.#bytes += done.uncountedBytes;
    if (this.#mode === "lines") {
      const status = this.#paint(done.status);
      const detail = done.error ??
        `${formatBytes(done.fileBytes)}, ${done.how}, ${done.durationMs.toFixed(0)} ms`;
      this.#write(`${status} ${done.path} (${detail})\n`);
    } else if (this.#mode === "live") {
      if (done.error !== null) {
        this.#clear();
        this.#write(`${this.#paint(done.status)} ${done.path}: ${done.error}\n`);
      }
      this.#draw(this.#files === this.#totalFiles);
    }
  }

  /** Ends the live line. */
  close(): void {
    if (this.#mode === "live" && this.#drawn) {
      this.#draw(true);
      this.#write("\n");
      this.#drawn = false;
    }
  }

  #paint(status: string): string {
    if (!this.#color) return status;
    const code = status === "failed" || status === "interrupted"
      ? 31
      : status === "unchanged"
      ? 2
      : 32;
    return `\u001b[${code}m${status}\u001b[0m`;
  }

  #clear(): void {
    if (this.#drawn) this.#write("\r\u001b[2K");
  }

  #draw(force: boolean): void {
    const now = this.#now();
    if (!force && now - this.#lastDraw < 100) return;
    this.#lastDraw = now;
    const seconds = Math.max((now - this.#started) / 1000, 1e-3);
    const rate = Number(this.#bytes) / seconds;
    const left = Number(this.#totalBytes - this.#bytes);
    const eta = rate > 0 && left > 0 ? `, ETA ${formatDuration(left / rate)}` : "";
    const line = `${this.#files}/${this.#totalFiles} files, ${formatBytes(this.#bytes)} / ` +
      `${formatBytes(this.#totalBytes)}, ${formatBytes(rate)}/s${eta}`;
    this.#write(`\r\u001b[2K${line}`);
    this.#drawn = true;
  }
}

function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(Math.ceil(seconds % 60)).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}
