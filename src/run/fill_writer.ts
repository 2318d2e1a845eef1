/**
 * Streams a repeated byte pattern (the fill of an array) into a file with positional writes,
 * in memory that grows neither with the array nor with the number of arrays written at once.
 *
 * How it works: the element is repeated into one buffer (a whole number of elements, and no
 * more than the whole write needs), so the file is that buffer written again and again at
 * increasing positions, the last write cut short. An element larger than a buffer is written
 * straight from its own bytes. The buffer is only read, so several writes of it are kept in
 * flight at once (the OS copies each into the page cache); short writes are resumed where they
 * stopped. The abort signal is checked before each chunk is started.
 *
 * Buffers come from a {@linkcode PatternBuffers} budget shared by the whole run: arrays with
 * the same fill share one buffer, each array's buffer is a share of the budget (16 MiB for a
 * few arrays at once, down to 1 MiB for many), and an array waits for room when the budget is
 * spent. Positions are JavaScript numbers, exact below 2^53, which is checked up front.
 *
 * @module
 */

import { mapOsError, NpyallocError } from "../errors.ts";
import {
  MAX_FILE_BYTES,
  MAX_PATTERN_BUFFER,
  MIN_PATTERN_BUFFER,
  PATTERN_BUFFER_BUDGET,
} from "../limits.ts";
import type { DirectIo, Platform } from "../platform/platform.ts";

/** Writes kept in flight at once; they all read the same buffer. */
const IN_FLIGHT = 2;

/** A buffer lent by {@linkcode PatternBuffers}. */
export interface Lease {
  /** The pattern, repeated. */
  readonly bytes: Uint8Array;
  /** Gives it back. */
  release(): void;
}

interface Shared {
  readonly bytes: Uint8Array;
  users: number;
}

/**
 * The fill pattern buffers of a run, within one memory budget (docs/guarantees.md, "memory").
 */
export class PatternBuffers {
  readonly #budget: number;
  readonly #share: number;
  #inUse = 0;
  readonly #shared = new Map<string, Shared>();
  readonly #waiting: (() => void)[] = [];

  /**
   * @param jobs Arrays written at once: each gets about `budget / jobs` bytes of buffer.
   * @param budget Bytes of buffers in use at once, at most.
   * @throws {RangeError} When `jobs` is not an integer >= 1.
   */
  constructor(jobs: number, budget: number = PATTERN_BUFFER_BUDGET) {
    if (!Number.isSafeInteger(jobs) || jobs < 1) {
      throw new RangeError(`PatternBuffers: jobs must be an integer >= 1, got ${jobs}`);
    }
    this.#budget = budget;
    this.#share = Math.max(
      MIN_PATTERN_BUFFER,
      Math.min(MAX_PATTERN_BUFFER, Math.floor(budget / jobs)),
    );
  }

  /** The bytes of buffer one array gets. */
  get share(): number {
    return this.#share;
  }

  /** Bytes of buffers lent now. */
  get inUse(): number {
    return this.#inUse;
  }

  /**
   * Lends a buffer: `key`'s buffer when one is lent already (shared), else a new one that
   * `make(size)` fills, once the budget has room for it.
   *
   * @param key What the buffer holds (element bytes and phase): equal keys share.
   * @param size Its size in bytes, at most {@linkcode share} as the caller asks it.
   * @param make Makes the buffer.
   * @param signal Stops waiting for room.
   * @returns The lease.
   */
  async lend(
    key: string,
    size: number,
    make: (size: number) => Uint8Array,
    signal?: AbortSignal,
  ): Promise<Lease> {
    let shared = this.#shared.get(key);
    while (shared === undefined && this.#inUse > 0 && this.#inUse + size > this.#budget) {
      if (signal?.aborted) throw interrupted(signal);
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
      shared = this.#shared.get(key);
    }
    if (shared === undefined) {
      shared = { bytes: make(size), users: 0 };
      this.#shared.set(key, shared);
      this.#inUse += shared.bytes.length;
    }
    shared.users++;
    const entry = shared;
    let released = false;
    return {
      bytes: entry.bytes,
      release: () => {
        if (released) return;
        released = true;
        if (--entry.users > 0) return;
        this.#shared.delete(key);
        this.#inUse -= entry.bytes.length;
        for (const wake of this.#waiting.splice(0)) wake();
      },
    };
  }
}

/** A run's buffers for callers that write one array alone (tests, a single `create`). */
let solo: PatternBuffers | undefined;

function soloBuffers(): PatternBuffers {
  return solo ??= new PatternBuffers(1);
}

/** Options of {@linkcode writePattern}, {@linkcode writeZeros} and {@linkcode writePatternDirect}. */
export interface FillWriteOptions {
  /** Where buffers come from. @default a budget of its own */
  readonly buffers?: PatternBuffers;
  /** Bytes per write, at most; rounded down to whole elements. @default the buffers' share */
  readonly chunkBytes?: number;
  /** Aborts the write between chunks, with an `E_INTERRUPTED` error. */
  readonly signal?: AbortSignal;
  /** Told the size of each chunk once it is written (for progress). */
  readonly onProgress?: (bytes: number) => void;
  /** The file, for messages. @default "the file" */
  readonly label?: string;
}

/** The platform calls a fill is written with. */
export type FillCalls = Pick<Platform, "write" | "writeAt">;

function interrupted(signal: AbortSignal, label?: string, offset?: number): NpyallocError {
  const what = label === undefined ? "Write" : `Write of '${label}'`;
  const where = offset === undefined ? "" : ` at offset ${offset}`;
  return new NpyallocError("E_INTERRUPTED", `${what} interrupted${where}`, {
    cause: signal.reason,
  });
}

function checkAborted(signal: AbortSignal | undefined, label: string, offset: number): void {
  if (signal?.aborted) throw interrupted(signal, label, offset);
}

/** Returns `n` copies of `element` in `buf` from its start, filled by doubling. */
function repeatInto(buf: Uint8Array, element: Uint8Array, phase: number): Uint8Array {
  const n = Math.min(buf.length, element.length);
  for (let i = 0; i < n; i++) buf[i] = element[(phase + i) % element.length] as number;
  for (let filled = n; filled < buf.length; filled *= 2) {
    buf.copyWithin(filled, 0, Math.min(filled, buf.length - filled));
  }
  return buf;
}

function keyOf(element: Uint8Array, phase: number, kind: string): string {
  // Elements are short (a few bytes; structured ones a few hundred): their bytes are the key.
  let hex = "";
  for (const byte of element) hex += byte.toString(16).padStart(2, "0");
  return `${kind}:${phase}:${hex}`;
}

function checkRange(offset: bigint, count: bigint, element: Uint8Array, label: string): bigint {
  if (offset < 0n || count < 0n) {
    throw new RangeError(
      `Cannot write a pattern: offset ${offset} and count ${count} must be >= 0`,
    );
  }
  const total = count * BigInt(element.length);
  if (offset + total > MAX_FILE_BYTES) {
    throw new NpyallocError(
      "E_IO",
      `Cannot write ${total} bytes at offset ${offset} of '${label}': files larger than 2^53 - 1 bytes are not supported`,
    );
  }
  return total;
}

/**
 * Writes `count` copies of `element` to an open file, starting at `offset`, with positional
 * writes. Memory use is one shared buffer whatever `count` is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { loadPlatform } from "../platform/mod.ts";
 * import { writePattern } from "./fill_writer.ts";
 * const dir = mkdtempSync(join(tmpdir(), "example-"));
 * const path = join(dir, "x.bin");
 * const fd = openSync(path, "w");
 * const written = await writePattern(await loadPlatform(), fd, 2n, 3n, new Uint8Array([1, 2]));
 * closeSync(fd);
 * assert.ok(written === 6n);
 * assert.ok(readFileSync(path).join() === "0,0,1,2,1,2,1,2");
 * rmSync(dir, { recursive: true });
 * ```
 *
 * @param io The platform's writes.
 * @param fd An open, writable file descriptor (not opened in append mode).
 * @param offset Where the first copy starts, `>= 0n`.
 * @param count How many copies to write, `>= 0n`.
 * @param element The bytes of one copy, e.g. one array element of the fill.
 * @param options Buffers, chunk size, abort signal, progress, label.
 * @returns The number of bytes written: `count * element.length`.
 * @throws {NpyallocError} `E_INTERRUPTED` when `signal` aborts; `E_NO_SPACE`, `E_IO`, ... when
 *   a write fails; `E_IO` when the write would end past 2^53 - 1.
 * @throws {RangeError} `offset` or `count` is negative, or `chunkBytes` is not a positive integer.
 */
export async function writePattern(
  io: FillCalls,
  fd: number,
  offset: bigint,
  count: bigint,
  element: Uint8Array,
  options: FillWriteOptions = {},
): Promise<bigint> {
  const label = options.label ?? "the file";
  const buffers = options.buffers ?? soloBuffers();
  const chunkBytes = options.chunkBytes ?? buffers.share;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes <= 0) {
    throw new RangeError(
      `Cannot write a pattern: chunkBytes must be a positive integer, got ${chunkBytes}`,
    );
  }
  const totalBig = checkRange(offset, count, element, label);
  const total = Number(totalBig);
  const start = Number(offset);
  const { signal } = options;
  checkAborted(signal, label, start);
  if (total === 0) return 0n;

  // `source` repeats with period `source.length`, a multiple of the element size.
  const perChunk = Math.floor(chunkBytes / element.length);
  let lease: Lease | null = null;
  let source = element;
  if (perChunk > 0) {
    const size = element.length * Math.min(perChunk, Math.ceil(total / element.length));
    lease = await buffers.lend(
      keyOf(element, 0, "page"),
      size,
      (n) => repeatInto(new Uint8Array(n), element, 0),
      signal,
    );
    source = lease.bytes;
  }
  try {
    const step = Math.min(chunkBytes, source.length);
    let next = 0; // bytes handed out so far, relative to `start`
    let failed = false;
    const worker = async (): Promise<void> => {
      while (next < total && !failed) {
        checkAborted(signal, label, start + next);
        const at = next;
        const inSource = at % source.length;
        const len = Math.min(step, source.length - inSource, total - at);
        next += len;
        try {
          await writeFully(io, fd, source.subarray(inSource, inSource + len), start + at, label);
          options.onProgress?.(len);
        } catch (err) {
          failed = true;
          throw err;
        }
      }
    };
    const results = await Promise.allSettled(Array.from({ length: IN_FLIGHT }, worker));
    for (const r of results) if (r.status === "rejected") throw r.reason;
    return totalBig;
  } finally {
    lease?.release();
  }
}

/** Writes all of `bytes` at `pos`, resuming after short writes. */
async function writeFully(
  io: FillCalls,
  fd: number,
  bytes: Uint8Array,
  pos: number,
  label: string,
): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    let written: number;
    try {
      written = await io.write(fd, done === 0 ? bytes : bytes.subarray(done), pos + done);
    } catch (err) {
      throw mapOsError(
        err,
        `Cannot write ${bytes.length - done} bytes at offset ${pos + done} of '${label}'`,
      );
    }
    if (written <= 0) {
      throw new NpyallocError(
        "E_IO",
        `Cannot write at offset ${pos + done} of '${label}': no progress`,
      );
    }
    done += written;
  }
}

/**
 * Writes `length` zero bytes at `offset`: the fallback of a reservation where `fallocate` is
 * not available.
 *
 * @param io The platform's writes.
 * @param fd An open, writable file descriptor.
 * @param offset Where the zeros start, `>= 0n`.
 * @param length How many zero bytes, `>= 0n`.
 * @param options Buffers, chunk size, abort signal, progress, label.
 * @returns The number of bytes written: `length`.
 * @throws {NpyallocError} As {@linkcode writePattern}.
 * @throws {RangeError} As {@linkcode writePattern}.
 */
export function writeZeros(
  io: FillCalls,
  fd: number,
  offset: bigint,
  length: bigint,
  options: FillWriteOptions = {},
): Promise<bigint> {
  return writePattern(io, fd, offset, length, ZERO_BYTE, options);
}

const ZERO_BYTE = new Uint8Array(1);

/**
 * From this much data, an array whose file is synced as soon as it is written is written with
 * direct I/O ({@linkcode writePatternDirect}): 64 MiB.
 */
export const DIRECT_MIN_BYTES = 64 * 1024 * 1024;

/** What direct I/O asks of file offsets, lengths and memory; 4 KiB suits every device. */
const DIRECT_ALIGNMENT = 4096;

/**
 * Writes `count` copies of `element` at `offset`, like {@linkcode writePattern}, for data that
 * is synced right after: the 4 KiB-aligned middle goes from an aligned buffer to the device
 * with `O_DIRECT`, written once instead of copied into the page cache and written back at the
 * fsync, and the unaligned ends (less than 4 KiB each) go through the page cache. The buffer is
 * repeated from the element's phase at the first aligned position; a chunk is a whole number of
 * both 4 KiB and elements, so that every chunk starts at the same phase.
 *
 * Each write blocks the calling thread (a few milliseconds for a chunk at disk speed); signals
 * and progress get their turn about every 64 MiB.
 *
 * @param io The platform's writes (`writeAt` is `pwrite(2)` through FFI where direct I/O is
 *   possible at all).
 * @param direct `O_DIRECT` and aligned buffers.
 * @param fd An open, writable file descriptor without `O_DIRECT`; it is left without it.
 * @param offset Where the first copy starts, `>= 0n`.
 * @param count How many copies.
 * @param element The bytes of one copy.
 * @param options Buffers, chunk size, abort signal, progress, label.
 * @returns The number of bytes written, or `null` (and nothing written) when direct I/O does not
 *   apply: the filesystem refuses it, the data has no aligned 4 KiB block, or a whole number of
 *   elements and of 4 KiB blocks does not fit in a chunk.
 * @throws {NpyallocError} As {@linkcode writePattern}.
 */
export async function writePatternDirect(
  io: FillCalls,
  direct: DirectIo,
  fd: number,
  offset: bigint,
  count: bigint,
  element: Uint8Array,
  options: FillWriteOptions = {},
): Promise<bigint | null> {
  const label = options.label ?? "the file";
  const buffers = options.buffers ?? soloBuffers();
  const chunkBytes = options.chunkBytes ?? buffers.share;
  const size = element.length;
  const totalBig = count * BigInt(size);
  if (size === 0 || offset + totalBig > MAX_FILE_BYTES) return null;
  const start = Number(offset);
  const end = start + Number(totalBig);
  const first = Math.ceil(start / DIRECT_ALIGNMENT) * DIRECT_ALIGNMENT;
  const last = Math.floor(end / DIRECT_ALIGNMENT) * DIRECT_ALIGNMENT;
  const period = lcm(DIRECT_ALIGNMENT, size);
  const chunk = Math.floor(chunkBytes / period) * period;
  if (last <= first || chunk === 0) return null;
  const { signal } = options;
  checkAborted(signal, label, start);
  if (!direct.setDirect(fd, true)) return null;

  const writeFullyNow = (bytes: Uint8Array, pos: number) => {
    let done = 0;
    while (done < bytes.length) {
      let n: number;
      try {
        n = io.writeAt(fd, bytes.subarray(done), pos + done);
      } catch (err) {
        throw mapOsError(
          err,
          `Cannot write ${bytes.length - done} bytes at offset ${pos + done} of '${label}'`,
        );
      }
      if (n <= 0) {
        throw new NpyallocError("E_IO", `Cannot write at offset ${pos} of '${label}': no progress`);
      }
      done += n;
    }
  };
  const phase = (first - start) % size;
  let lease: Lease | undefined;
  try {
    // A whole number of periods, so that every chunk starts at the same phase, also in an array
    // that shares this buffer.
    lease = await buffers.lend(
      keyOf(element, phase, "direct"),
      Math.min(chunk, Math.ceil((last - first) / period) * period),
      (n) => repeatInto(direct.alignedBuffer(n, DIRECT_ALIGNMENT), element, phase),
      signal,
    );
    const source = lease.bytes;
    let sinceYield = 0;
    for (let pos = first; pos < last;) {
      checkAborted(signal, label, pos);
      const len = Math.min(source.length, last - pos);
      writeFullyNow(source.subarray(0, len), pos);
      options.onProgress?.(len);
      pos += len;
      sinceYield += len;
      if (sinceYield >= 64 * 1024 * 1024 && pos < last) {
        sinceYield = 0;
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }
  } finally {
    lease?.release();
    direct.setDirect(fd, false);
  }
  // The ends, through the page cache.
  for (const [from, to] of [[start, first], [last, end]] as const) {
    if (to <= from) continue;
    const bytes = repeatInto(new Uint8Array(to - from), element, (from - start) % size);
    writeFullyNow(bytes, from);
    options.onProgress?.(to - from);
  }
  return totalBig;
}

function lcm(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return (a / x) * b;
}

/** Gives each generated array's buffers a key of their own: they are never shared. */
let generatedBuffers = 0;

/**
 * Writes an array's generated data at `offset`, from a stream that fills whole elements into a
 * buffer (`generate/source.ts`): two buffers from the run's budget, one filled while the other
 * is written, so that generating and writing overlap. The bytes do not depend on the buffers'
 * size.
 *
 * @param io The platform's writes.
 * @param fd An open, writable file descriptor.
 * @param offset Where the data starts (the header's length).
 * @param source The stream of the array's elements.
 * @param options Buffers, chunk size, abort signal, progress, label.
 * @returns The number of bytes written.
 * @throws {NpyallocError} As {@linkcode writePattern}.
 */
export async function writeGenerated(
  io: FillCalls,
  fd: number,
  offset: bigint,
  source: { readonly itemsize: number; readonly remaining: bigint; next(out: Uint8Array): number },
  options: FillWriteOptions = {},
): Promise<bigint> {
  const label = options.label ?? "the file";
  const buffers = options.buffers ?? soloBuffers();
  const itemsize = Math.max(1, source.itemsize);
  const total = source.remaining * BigInt(source.itemsize);
  const { signal } = options;
  checkRange(offset, source.remaining, new Uint8Array(source.itemsize), label);
  let pos = Number(offset);
  checkAborted(signal, label, pos);
  if (total === 0n) return 0n;
  const half = Math.floor((options.chunkBytes ?? buffers.share) / 2 / itemsize) * itemsize;
  const size = Math.max(itemsize, Math.min(half, Number(total)));
  const id = generatedBuffers++;
  const leases = [
    await buffers.lend(`generated:${id}:0`, size, (n) => new Uint8Array(n), signal),
    await buffers.lend(`generated:${id}:1`, size, (n) => new Uint8Array(n), signal),
  ];
  let pending: Promise<void> | null = null;
  try {
    for (let which = 0;; which ^= 1) {
      checkAborted(signal, label, pos);
      const buf = (leases[which] as Lease).bytes;
      const n = source.next(buf);
      if (n === 0) break;
      if (pending !== null) await pending;
      const at = pos;
      pending = writeFully(io, fd, buf.subarray(0, n), at, label).then(() => {
        options.onProgress?.(n);
      });
      pos += n;
    }
    if (pending !== null) await pending;
    pending = null;
  } finally {
    // A write still under way reads its buffer: it is given back once that write is over.
    await pending?.catch(() => {});
    for (const lease of leases) lease.release();
  }
  return total;
}
