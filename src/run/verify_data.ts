/**
 * Deep verification: streams an array's data and checks every element holds
 * the fill. Padding bytes (between structured fields, and the 6 unused bytes
 * of each x87 long double) are not compared: NumPy leaves them uninitialised.
 *
 * @module
 */

import { mapOsError, NpyallocError } from "../errors.ts";
import type { DType } from "../npy/dtype.ts";
import type { ArrayLayout } from "../npy/layout.ts";
import type { MathLib, Platform } from "../platform/platform.ts";
import type { GeneratedContent } from "../generate/layout.ts";
import { openSource } from "../generate/source.ts";

/** Stands in for libm where the platform has none; `verify` refuses such arrays first. */
const MISSING_MATH: MathLib = {
  exp: () => Number.NaN,
  log1p: () => Number.NaN,
  log1pf: () => Number.NaN,
};

/** The platform calls a deep check reads with. */
export type ReadCalls = Pick<Platform, "openRead" | "read" | "closeRead">;

const CHUNK_BYTES = 16 * 1024 * 1024;

/** Marks with 1 the bytes of one element that carry a value, 0 the padding. */
export function significantBytes(dtype: DType): Uint8Array {
  const mask = new Uint8Array(dtype.itemsize);
  const mark = (dt: DType, base: number) => {
    if (dt.kind === "struct") {
      for (const field of dt.fields) {
        const count = field.shape.reduce((a, b) => a * b, 1);
        for (let i = 0; i < count; i++) {
          mark(field.dtype, base + field.offset + i * field.dtype.itemsize);
        }
      }
      return;
    }
    const longDouble = (dt.kind === "f" && dt.itemsize === 16) ||
      (dt.kind === "c" && dt.itemsize === 32);
    for (let part = 0; part < dt.itemsize; part += longDouble ? 16 : dt.itemsize) {
      const [from, to] = !longDouble ? [0, dt.itemsize] : dt.byteOrder === ">" ? [6, 16] : [0, 10];
      mask.fill(1, base + part + from, base + part + to);
    }
  };
  mark(dtype, 0);
  return mask;
}

/** Where the data first differs from the fill, or `null` when it matches. */
export interface DataMismatch {
  /** Byte offset in the file. */
  readonly offset: bigint;
  /** Index of the element (in storage order). */
  readonly element: bigint;
}

/**
 * Checks that the data of `file` is the fill of `layout`, element by element: the repeated
 * element of a constant fill, or the values of a generated one, computed again.
 *
 * @param fs The platform.
 * @param file The .npy file (its header already checked against `layout`).
 * @param layout The array it should hold.
 * @param signal Stops reading between chunks.
 * @param generated The array's generated content, if its fill is generated.
 * @param math The C library's math functions (`Platform.math`), for the normal generators.
 * @returns The first mismatch, or `null`.
 * @throws {NpyallocError} When the file cannot be read; `E_INTERRUPTED` when `signal` aborts.
 */
export async function findDataMismatch(
  fs: ReadCalls,
  file: string,
  layout: ArrayLayout,
  signal?: AbortSignal,
  generated: GeneratedContent | null = null,
  math: MathLib | null = null,
): Promise<DataMismatch | null> {
  const itemsize = layout.dtype.itemsize;
  if (itemsize === 0 || layout.dataBytes === 0n) return null;
  const mask = significantBytes(layout.dtype);
  const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / itemsize));
  const expected = new Uint8Array(perChunk * itemsize);
  // A generated fill is computed again, chunk by chunk; a constant one is one repeated chunk.
  const source = generated === null ? null : openSource(
    generated.fill,
    generated.dtype,
    generated.shape,
    generated.order,
    math ?? MISSING_MATH,
  );
  if (source === null) {
    for (let i = 0; i < perChunk; i++) expected.set(layout.element, i * itemsize);
  }
  // The bytes between fields and the padding of long doubles are not compared; NumPy leaves them
  // uninitialised. A generated fill has no padding worth comparing either.
  const masked = mask.includes(0);
  const actual = new Uint8Array(expected.length);
  const start = layout.header.length;
  const total = Number(layout.dataBytes);
  let fd: number;
  try {
    fd = fs.openRead(file);
  } catch (err) {
    throw mapOsError(err, `Cannot read '${file}'`);
  }
  try {
    for (let done = 0; done < total;) {
      if (signal?.aborted) {
        throw new NpyallocError("E_INTERRUPTED", `Verification of '${file}' interrupted`);
      }
      const want = Math.min(actual.length, total - done);
      if (source !== null) source.next(expected.subarray(0, want));
      let got = 0;
      while (got < want) {
        const bytesRead = await fs.read(fd, actual.subarray(got, want), start + done + got);
        if (bytesRead === 0) {
          return {
            offset: BigInt(start + done + got),
            element: BigInt(Math.floor((done + got) / itemsize)),
          };
        }
        got += bytesRead;
      }
      const same = !masked && equalBytes(actual, expected, want);
      if (!same) {
        for (let i = 0; i < want; i++) {
          if (actual[i] !== expected[i] && mask[i % itemsize] === 1) {
            return {
              offset: BigInt(start + done + i),
              element: BigInt(Math.floor((done + i) / itemsize)),
            };
          }
        }
      }
      done += want;
    }
  } catch (err) {
    if (err instanceof NpyallocError) throw err;
    throw mapOsError(err, `Cannot read '${file}'`);
  } finally {
    fs.closeRead(fd);
  }
  return null;
}

/** Whether the first `length` bytes of `a` and `b` are equal, a word at a time. */
function equalBytes(a: Uint8Array, b: Uint8Array, length: number): boolean {
  const words = Math.floor(length / 4);
  if (a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0) {
    const x = new Uint32Array(a.buffer, a.byteOffset, words);
    const y = new Uint32Array(b.buffer, b.byteOffset, words);
    for (let i = 0; i < words; i++) if (x[i] !== y[i]) return false;
  } else {
    for (let i = 0; i < words * 4; i++) if (a[i] !== b[i]) return false;
  }
  for (let i = words * 4; i < length; i++) if (a[i] !== b[i]) return false;
  return true;
}
