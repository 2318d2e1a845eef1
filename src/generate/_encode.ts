/**
 * Element writers: a double (or an exact integer) stored in a dtype's bytes, little-endian, as
 * NumPy's casts store it (`astype` from float64, `setitem` of a Python float).
 *
 * NaN: the only NaN these generators can produce comes from arithmetic on infinities (an
 * overflowing `linspace` or `arange`), and x86's SSE and x87 units make it with the sign bit set
 * (the "default NaN"); NumPy's casts keep that sign. JavaScript gives no say over NaN bits, so
 * every NaN is written explicitly with that pattern.
 *
 * @module
 */

import { float64ToFloat16Bits } from "../npy/float_bits.ts";
import { extendedFromDouble, writeExtended } from "./_extended.ts";

/** Writes a double into `size` bytes at `pos` (little-endian). */
export type DoubleWriter = (view: DataView, bytes: Uint8Array, pos: number, x: number) => void;

function writeF8(view: DataView, _bytes: Uint8Array, pos: number, x: number): void {
  if (x !== x) {
    view.setUint32(pos, 0, true);
    view.setUint32(pos + 4, 0xfff80000, true);
  } else {
    view.setFloat64(pos, x, true);
  }
}

function writeF4(view: DataView, _bytes: Uint8Array, pos: number, x: number): void {
  if (x !== x) view.setUint32(pos, 0xffc00000, true);
  else view.setFloat32(pos, x, true);
}

function writeF2(view: DataView, _bytes: Uint8Array, pos: number, x: number): void {
  view.setUint16(pos, x !== x ? 0xfe00 : float64ToFloat16Bits(x), true);
}

function writeF16(_view: DataView, bytes: Uint8Array, pos: number, x: number): void {
  if (x !== x) {
    writeExtended({ neg: true, m: 0n, e: 0, kind: "nan" }, bytes, pos);
  } else {
    writeExtended(extendedFromDouble(x), bytes, pos);
  }
  bytes.fill(0, pos + 10, pos + 16);
}

/**
 * The writer of a float dtype of `size` bytes: float64 as is, float32 rounded to nearest even,
 * float16 rounded once from the double (`npy_double_to_half`), longdouble exactly.
 *
 * @param size 2, 4, 8 or 16.
 * @returns The writer.
 */
export function doubleWriter(size: number): DoubleWriter {
  switch (size) {
    case 2:
      return writeF2;
    case 4:
      return writeF4;
    case 8:
      return writeF8;
    default:
      return writeF16;
  }
}

/**
 * Writes an integer given as a safe double into `size` bytes (two's complement, little-endian).
 *
 * @param view The buffer's view.
 * @param pos Byte offset.
 * @param size 1, 2, 4 or 8.
 * @param v An integer with |v| < 2^53.
 */
export function writeSafeInt(view: DataView, pos: number, size: number, v: number): void {
  switch (size) {
    case 1:
      view.setUint8(pos, v & 0xff);
      return;
    case 2:
      view.setUint16(pos, v & 0xffff, true);
      return;
    case 4:
      view.setUint32(pos, v >>> 0, true);
      return;
    default: {
      const hi = Math.floor(v / 4294967296);
      view.setUint32(pos, (v - hi * 4294967296) >>> 0, true);
      view.setUint32(pos + 4, hi >>> 0, true);
    }
  }
}

/**
 * Reverses the bytes of each `itemsize`-byte element in `bytes[from, to)`, for big-endian dtypes.
 *
 * @param bytes The buffer.
 * @param from First byte.
 * @param to End byte.
 * @param itemsize Element size; longdouble (16) swaps as NumPy's byteswap does, all 16 bytes.
 */
export function byteswap(bytes: Uint8Array, from: number, to: number, itemsize: number): void {
  for (let p = from; p < to; p += itemsize) {
    for (let a = p, b = p + itemsize - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}
