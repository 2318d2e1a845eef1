/**
 * Progress output of a run, on standard error: on a terminal one live line (files and bytes
 * done, throughput, ETA) redrawn at most ten times a second; elsewhere (CI logs) one line per
 * finished array, and while a long array is being written a line at least every 5 seconds (CI
 * systems stop jobs that stay silent); nothing when quiet.
 *
 * @module
 */

import { formatBytes } from "../format.ts";
import type { FinishedArray, ProgressSink } from "../run/execute.ts";

/** How progress is shown. */
export type ProgressMode = "live" | "lines" | "quiet";

/** The longest a log stays silent while arrays are being written, in lines mode. */
export const HEARTBEAT_MS = 5000;

/** Receives progress events and prints them. */
export class Progress implements ProgressSink {
  readonly #mode: ProgressMode;
  readonly #write: (text: string) => void;
  readonly #color: boolean;
  readonly #now: () => number;
  #totalFiles = 0;
  #totalBytes = 0n;
  #started: number;
  #files = 0;
  #bytes = 0n;
  #lastDraw = 0;
  #drawn = false;
  /** When the last line was printed, in lines mode. */
  #lastLine: number;
  /** Arrays being written now on the main thread (the long ones), by path. */
  readonly #writing = new Set<string>();
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  /**
   * @param mode Live line, one line per array, or nothing.
   * @param write Where text goes (standard error).
   * @param options `color`: colour the status words (off when NO_COLOR is set); `now`: a clock.
   */
  constructor(
    mode: ProgressMode,
    write: (text: string) => void,
    options: { color?: boolean; now?: () => number } = {},
  ) {
    this.#mode = mode;
    this.#write = write;
    this.#color = options.color ?? false;
    this.#now = options.now ?? (() => performance.now());
    this.#started = this.#now();
    this.#lastLine = this.#started;
  }

  /**
   * The run starts writing.
   *
   * @param totals Arrays in the run, and the bytes of those it writes.
   */
  begin(totals: { files: number; bytes: bigint }): void {
    this.#totalFiles = totals.files;
    this.#totalBytes = totals.bytes;
    this.#started = this.#now();
    this.#lastLine = this.#started;
    if (this.#mode === "lines" && this.#heartbeat === undefined) {
      // Also when a write is slower than the heartbeat: bytes() is then not called for a while.
      this.#heartbeat = setInterval(() => this.#beat(), HEARTBEAT_MS);
      (this.#heartbeat as { unref?: () => void }).unref?.();
    }
  }

  /** Erases the live line, so that a message can be printed; the next update draws it again. */
  clear(): void {
    if (this.#mode !== "live" || !this.#drawn) return;
    this.#write("\r\u001b[2K");
    this.#drawn = false;
  }

  /**
   * An array starts being written.
   *
   * @param path Its path.
   * @param _fileBytes Its size.
   */
  started(path: string, _fileBytes: bigint): void {
    this.#writing.add(path);
  }

  /**
   * Counts bytes written.
   *
   * @param bytes How many more.
   */
  bytes(bytes: number | bigint): void {
    this.#bytes += BigInt(bytes);
    if (this.#mode === "live") this.#draw(false);
    else if (this.#mode === "lines") this.#beat();
  }

  /**
   * Reports one finished array.
   *
   * @param done What happened to it.
   */
  finished(done: FinishedArray): void {
    this.#files++;
    this.#bytes += done.uncountedBytes;
    this.#writing.delete(done.path);
    if (this.#mode === "lines") {
      const status = this.#paint(done.status);
      const detail = done.error ??
        `${formatBytes(done.fileBytes)}, ${done.how}, ${done.durationMs.toFixed(0)} ms`;
      this.#write(`${status} ${done.path} (${detail})\n`);
      this.#lastLine = this.#now();
    } else if (this.#mode === "live") {
      if (done.error !== null) {
        this.#clear();
        this.#write(`${this.#paint(done.status)} ${done.path}: ${done.error}\n`);
      }
      this.#draw(this.#files === this.#totalFiles);
    }
  }

  /** Ends the live line, and the heartbeat. */
  close(): void {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    if (this.#mode === "live" && this.#drawn) {
      this.#draw(true);
      this.#write("\n");
      this.#drawn = false;
    }
  }

  /** In lines mode, a line on what is being written when the log has been silent too long. */
  #beat(): void {
    const now = this.#now();
    if (this.#writing.size === 0 || now - this.#lastLine < HEARTBEAT_MS) return;
    this.#lastLine = now;
    this.#write(`writing: ${this.#status(now)}\n`);
  }

  /** `3/10 files, 1.2 GiB / 6.0 GiB, 200.0 MiB/s, ETA 25s`. */
  #status(now: number): string {
    const seconds = Math.max((now - this.#started) / 1000, 1e-3);
    const rate = Number(this.#bytes) / seconds;
    const left = Number(this.#totalBytes - this.#bytes);
    const eta = rate > 0 && left > 0 ? `, ETA ${formatDuration(left / rate)}` : "";
    return `${this.#files}/${this.#totalFiles} files, ${formatBytes(this.#bytes)} / ` +
      `${formatBytes(this.#totalBytes)}, ${formatBytes(rate)}/s${eta}`;
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
    this.#write(`\r\u001b[2K${this.#status(now)}`);
    this.#drawn = true;
  }
}

function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(Math.ceil(seconds % 60)).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}
