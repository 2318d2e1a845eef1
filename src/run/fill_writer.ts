/**
 * Streams a repeated byte pattern (the fill of an array) into a file with
 * positional writes, in memory that does not grow with the array.
 *
 * How it works: the element is repeated into one buffer of about
 * `chunkBytes` (a whole number of elements, and no more than the whole
 * write needs), so the file is that buffer written again and again at
 * increasing positions, the last write cut short. An element larger than a
 * chunk is written straight from its own bytes, a chunk-sized slice at a
 * time. The buffer is only read, so several writes of it are kept in flight
 * at once (the OS copies each into the page cache); short writes are resumed
 * where they stopped. The abort signal is checked before each chunk is
 * started. Positions are JavaScript numbers, exact below 2^53, which is
 * checked up front.
 *
 * @module
 */

import { write } from "node:fs";
import { mapOsError, NpyallocError } from "../errors.ts";
import type { DirectIo } from "../platform/platform.ts";

/** The default size of the one pattern buffer: 16 MiB. */
export const DEFAULT_CHUNK_BYTES: number = 16 * 1024 * 1024;

/** Writes kept in flight at once; they all read the same buffer. */
const IN_FLIGHT = 2;

/** Options of {@linkcode writePattern} and {@linkcode writeZeros}. */
export interface FillWriteOptions {
  /**
   * Bytes per write, and the size of the pattern buffer (rounded down to a
   * whole number of elements, at least one element).
   *
   * @default {16777216}
   */
  chunkBytes?: number;
  /** Aborts the write between chunks, with an `E_INTERRUPTED` error. */
  signal?: AbortSignal;
  /** Told the size of each chunk once it is written (for progress). */
  onProgress?: (bytes: number) => void;
}

function writeAt(
  fd: number,
  buf: Uint8Array,
  start: number,
  len: number,
  pos: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    write(fd, buf, start, len, pos, (err, written) => (err ? reject(err) : resolve(written)));
  });
}

/** Writes `buf[start, start + len)` at `pos`, resuming after short writes. */
async function writeFully(
  fd: number,
  buf: Uint8Array,
  start: number,
  len: number,
  pos: number,
): Promise<void> {
  while (len > 0) {
    let written: number;
    try {
      written = await writeAt(fd, buf, start, len, pos);
    } catch (err) {
      throw mapOsError(err, `Cannot write ${len} bytes at offset ${pos} of file descriptor ${fd}`);
    }
    if (written <= 0) {
      throw new NpyallocError(
        "E_IO",
        `Cannot write at offset ${pos} of file descriptor ${fd}: no progress`,
      );
    }
    start += written;
    len -= written;
    pos += written;
  }
}

/** Returns a buffer of `n` copies of `element`, filled by doubling. */
function repeat(element: Uint8Array, n: number): Uint8Array {
  const buf = new Uint8Array(element.length * n);
  buf.set(element);
  for (let filled = element.length; filled < buf.length; filled *= 2) {
    buf.copyWithin(filled, 0, Math.min(filled, buf.length - filled));
  }
  return buf;
}

function checkAborted(signal: AbortSignal | undefined, offset: number, fd: number): void {
  if (signal?.aborted) {
    throw new NpyallocError(
      "E_INTERRUPTED",
      `Write to file descriptor ${fd} interrupted at offset ${offset}`,
      { cause: signal.reason },
    );
  }
}

/**
 * Writes `count` copies of `element` to an open file, starting at `offset`,
 * with positional writes. Memory use is one buffer of about `chunkBytes`
 * whatever `count` is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { writePattern } from "./fill_writer.ts";
 * const dir = mkdtempSync(join(tmpdir(), "example-"));
 * const path = join(dir, "x.bin");
 * const fd = openSync(path, "w");
 * const written = await writePattern(fd, 2n, 3n, new Uint8Array([1, 2]));
 * closeSync(fd);
 * assert.ok(written === 6n);
 * assert.ok(readFileSync(path).join() === "0,0,1,2,1,2,1,2");
 * rmSync(dir, { recursive: true });
 * ```
 *
 * @param fd An open, writable file descriptor (not opened in append mode).
 * @param offset Where the first copy starts, `>= 0n`.
 * @param count How many copies to write, `>= 0n`.
 * @param element The bytes of one copy, e.g. one array element of the fill.
 * @param options Chunk size and abort signal.
 * @returns The number of bytes written: `count * element.length`.
 * @throws {NpyallocError} `E_INTERRUPTED` when `signal` aborts; `E_NO_SPACE`,
 * `E_IO`, ... when a write fails; `E_IO` when the write would end past 2^53 - 1.
 * @throws {RangeError} `offset` or `count` is negative, or `chunkBytes` is not a positive integer.
 */
export async function writePattern(
  fd: number,
  offset: bigint,
  count: bigint,
  element: Uint8Array,
  options: FillWriteOptions = {},
): Promise<bigint> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes <= 0) {
    throw new RangeError(
      `Cannot write a pattern: chunkBytes must be a positive integer, got ${chunkBytes}`,
    );
  }
  if (offset < 0n || count < 0n) {
    throw new RangeError(
      `Cannot write a pattern: offset ${offset} and count ${count} must be >= 0`,
    );
  }
  const totalBig = count * BigInt(element.length);
  if (offset + totalBig > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new NpyallocError(
      "E_IO",
      `Cannot write ${totalBig} bytes at offset ${offset}: files larger than 2^53 - 1 bytes are not supported`,
    );
  }
  const total = Number(totalBig);
  const start = Number(offset);
  const { signal } = options;
  if (total === 0) {
    checkAborted(signal, start, fd);
    return 0n;
  }

  // `source` repeats with period `source.length`, a multiple of the element size.
  const perChunk = Math.floor(chunkBytes / element.length);
  const source = perChunk === 0
    ? element
    : repeat(element, Math.min(perChunk, Math.ceil(total / element.length)));
  const step = Math.min(chunkBytes, source.length);

  let next = 0; // bytes handed out so far, relative to `start`
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < total && !failed) {
      checkAborted(signal, start + next, fd);
      const at = next;
      const inSource = at % source.length;
      const len = Math.min(step, source.length - inSource, total - at);
      next += len;
      try {
        await writeFully(fd, source, inSource, len, start + at);
        options.onProgress?.(len);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const workers = Array.from({ length: IN_FLIGHT }, worker);
  const results = await Promise.allSettled(workers);
  for (const r of results) if (r.status === "rejected") throw r.reason;
  return totalBig;
}

/**
 * Writes `length` zero bytes at `offset`: the fallback of a reservation
 * where `fallocate` is not available.
 *
 * @param fd An open, writable file descriptor.
 * @param offset Where the zeros start, `>= 0n`.
 * @param length How many zero bytes, `>= 0n`.
 * @param options Chunk size and abort signal.
 * @returns The number of bytes written: `length`.
 * @throws {NpyallocError} As {@linkcode writePattern}.
 * @throws {RangeError} As {@linkcode writePattern}.
 */
export function writeZeros(
  fd: number,
  offset: bigint,
  length: bigint,
  options: FillWriteOptions = {},
): Promise<bigint> {
  return writePattern(fd, offset, length, ZERO_BYTE, options);
}

const ZERO_BYTE = new Uint8Array(1);

/**
 * From this much data, an array whose file is synced as soon as it is written is written with
 * direct I/O ({@linkcode writePatternDirect}): 64 MiB.
 */
export const DIRECT_MIN_BYTES = 64 * 1024 * 1024;

/** What direct I/O asks of file offsets, lengths and memory; 4 KiB suits every device. */
const DIRECT_ALIGNMENT = 4096;

/** Direct I/O on an open file, and positional writes (FFI `pwrite`: the buffer is used in place). */
export interface DirectWriter {
  /** Turns `O_DIRECT` on or off and makes aligned buffers; see `Platform.directIo`. */
  readonly io: DirectIo;
  /** `pwrite(2)` once; returns the bytes written. */
  writeAt(fd: number, bytes: Uint8Array, position: number): number;
}

/**
 * Writes `count` copies of `element` at `offset`, like {@linkcode writePattern}, for data that
 * is synced right after: the 4 KiB-aligned middle goes from an aligned buffer to the device
 * with `O_DIRECT`, written once instead of copied into the page cache and written back at the
 * fsync, and the unaligned ends (less than 4 KiB each) go through the page cache. The buffer is
 * repeated from the element's phase at the first aligned position; a chunk is a whole number of
 * both 4 KiB and elements, so that every chunk starts at the same phase.
 *
 * Each write blocks the calling thread (about 10 ms for 16 MiB at disk speed); signals and
 * progress get their turn about every 64 MiB.
 *
 * @param fd An open, writable file descriptor without `O_DIRECT`; it is left without it.
 * @param offset Where the first copy starts, `>= 0n`.
 * @param count How many copies.
 * @param element The bytes of one copy.
 * @param direct `O_DIRECT` and the writes.
 * @param options Chunk size, abort signal, progress.
 * @returns The number of bytes written, or `null` (and nothing written) when direct I/O does not
 *   apply: the filesystem refuses it, the data has no aligned 4 KiB block, or a whole number of
 *   elements and of 4 KiB blocks does not fit in a chunk.
 * @throws {NpyallocError} As {@linkcode writePattern}.
 */
export async function writePatternDirect(
  fd: number,
  offset: bigint,
  count: bigint,
  element: Uint8Array,
  direct: DirectWriter,
  options: FillWriteOptions = {},
): Promise<bigint | null> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const size = element.length;
  const totalBig = count * BigInt(size);
  if (size === 0 || offset + totalBig > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  const start = Number(offset);
  const end = start + Number(totalBig);
  const first = Math.ceil(start / DIRECT_ALIGNMENT) * DIRECT_ALIGNMENT;
  const last = Math.floor(end / DIRECT_ALIGNMENT) * DIRECT_ALIGNMENT;
  const period = lcm(DIRECT_ALIGNMENT, size);
  const chunk = Math.floor(chunkBytes / period) * period;
  if (last <= first || chunk === 0) return null;
  const { signal } = options;
  checkAborted(signal, start, fd);
  if (!direct.io.setDirect(fd, true)) return null;

  const writeFullyNow = (bytes: Uint8Array, pos: number) => {
    let done = 0;
    while (done < bytes.length) {
      let n: number;
      try {
        n = direct.writeAt(fd, bytes.subarray(done), pos + done);
      } catch (err) {
        throw mapOsError(
          err,
          `Cannot write ${bytes.length - done} bytes at offset ${pos + done} ` +
            `of file descriptor ${fd}`,
        );
      }
      if (n <= 0) {
        throw new NpyallocError(
          "E_IO",
          `Cannot write at offset ${pos} of file descriptor ${fd}: no progress`,
        );
      }
      done += n;
    }
  };
  try {
    const source = direct.io.alignedBuffer(Math.min(chunk, last - first), DIRECT_ALIGNMENT);
    fillFrom(source, element, (first - start) % size);
    let sinceYield = 0;
    for (let pos = first; pos < last;) {
      checkAborted(signal, pos, fd);
      const len = Math.min(chunk, last - pos);
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
    direct.io.setDirect(fd, false);
  }
  // The ends, through the page cache.
  for (const [from, to] of [[start, first], [last, end]] as const) {
    if (to <= from) continue;
    const bytes = new Uint8Array(to - from);
    fillFrom(bytes, element, (from - start) % size);
    writeFullyNow(bytes, from);
    options.onProgress?.(to - from);
  }
  return totalBig;
}

/** Fills `buf` with copies of `element`, starting `phase` bytes into it. */
function fillFrom(buf: Uint8Array, element: Uint8Array, phase: number): void {
  const n = Math.min(buf.length, element.length);
  for (let i = 0; i < n; i++) buf[i] = element[(phase + i) % element.length] as number;
  for (let filled = n; filled < buf.length; filled *= 2) {
    buf.copyWithin(filled, 0, Math.min(filled, buf.length - filled));
  }
}

function lcm(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return (a / x) * b;
}
