import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, fstatSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { NpyallocError } from "../src/errors.ts";
import {
  type FillWriteOptions,
  writePattern,
  writePatternDirect,
  writeZeros,
} from "../src/run/fill_writer.ts";
import { loadPlatform } from "../src/platform/mod.ts";
import type { DirectIo, Platform } from "../src/platform/platform.ts";
import { withTempDir } from "./_support/temp.ts";
import { mountSkip, withLoopFilesystem, withTmpfs } from "./_support/mounts.ts";

const MiB = 1024 * 1024;

/** Writes a pattern as `writePattern` does. */
type Writer = (
  fd: number,
  offset: bigint,
  count: bigint,
  element: Uint8Array,
  options: FillWriteOptions,
) => Promise<bigint>;

const platform = await loadPlatform();
const directIo = platform.directIo();

/** Direct I/O and the positional write it goes through, as a test may replace them. */
interface DirectWriter {
  readonly io: DirectIo;
  readonly writeAt: Platform["writeAt"];
}

const directWriter: DirectWriter | null = directIo === null
  ? null
  : { io: directIo, writeAt: (fd, bytes, position) => platform.writeAt(fd, bytes, position) };

/** `writePatternDirect` through `writer`. */
function writeDirect(
  fd: number,
  offset: bigint,
  count: bigint,
  el: Uint8Array,
  writer: DirectWriter,
  options: FillWriteOptions = {},
): Promise<bigint | null> {
  const io = { write: platform.write, writeAt: writer.writeAt };
  return writePatternDirect(io, writer.io, fd, offset, count, el, options);
}

/** `writePatternDirect`, failing when it declines to write. */
const direct: Writer = async (fd, offset, count, el, options) => {
  assert.ok(directWriter !== null, `${platform.runtime} has no direct I/O`);
  const written = await writeDirect(fd, offset, count, el, directWriter, options);
  assert.ok(written !== null, "writePatternDirect declined to write");
  return written;
};

const skipTinyFs = mountSkip("a 16 MiB tmpfs");

/** An element whose bytes differ from one position to the next, so a misplaced byte shows. */
function element(size: number): Uint8Array {
  const el = new Uint8Array(size);
  for (let i = 0; i < size; i++) el[i] = (i * 7 + 1) % 251;
  return el;
}

/**
 * Writes `count` copies of `el` at `offset` into a file that already holds
 * `prefix` bytes of 0xEE, and checks every byte of the result.
 */
async function checkWrite(
  el: Uint8Array,
  count: number,
  offset: number,
  options: { chunkBytes?: number; prefix?: number; write?: Writer } = {},
): Promise<void> {
  await withTempDir("fill", async (dir) => {
    const path = join(dir, "p.bin");
    const prefix = options.prefix ?? offset;
    writeFileSync(path, new Uint8Array(prefix).fill(0xee));
    const fd = openSync(path, "r+");
    let written: bigint;
    try {
      written = await (options.write ?? ((...args) => writePattern(platform, ...args)))(
        fd,
        BigInt(offset),
        BigInt(count),
        el,
        options.chunkBytes === undefined ? {} : { chunkBytes: options.chunkBytes },
      );
    } finally {
      closeSync(fd);
    }
    const total = count * el.length;
    assert.equal(written, BigInt(total));
    const got = readFileSync(path);
    assert.equal(got.length, Math.max(prefix, offset + total));
    for (let i = 0; i < Math.min(offset, prefix); i++) {
      if (got[i] !== 0xee) assert.fail(`byte ${i} before the offset changed`);
    }
    for (let i = 0; i < total; i++) {
      if (got[offset + i] !== el[i % el.length]) {
        assert.fail(`byte ${offset + i} is ${got[offset + i]}, expected ${el[i % el.length]}`);
      }
    }
    for (let i = offset + total; i < prefix; i++) {
      if (got[i] !== 0xee) assert.fail(`byte ${i} after the pattern changed`);
    }
  });
}

describe("writePattern", () => {
  for (const size of [1, 3, 16]) {
    for (const count of [0, 1, 1000]) {
      test(`element of ${size} bytes, ${count} copies, at offsets 0 and 13`, async () => {
        await checkWrite(element(size), count, 0);
        await checkWrite(element(size), count, 13);
      });
    }
  }

  test("many copies across chunk boundaries (3-byte element, 10 million copies)", async () => {
    await checkWrite(element(3), 10_000_000, 128);
  });

  test("small chunks: a chunk of whole elements, the last one short", async () => {
    await checkWrite(element(3), 1001, 7, { chunkBytes: 10 });
  });

  test("small chunks: elements larger than a chunk are written in slices", async () => {
    await checkWrite(element(16), 37, 5, { chunkBytes: 5 });
  });

  test("an element of 7 MiB + 1 byte: two per 16 MiB chunk", async () => {
    const el = element(7 * MiB + 1);
    for (const count of [0, 1, 5]) await checkWrite(el, count, 64);
  });

  test("an element of 40 MiB, larger than the chunk", async () => {
    const el = element(40 * MiB);
    await checkWrite(el, 1, 100);
    await checkWrite(el, 2, 0);
  });

  test("overwrites the middle of a file and leaves the rest", async () => {
    await checkWrite(element(4), 10, 20, { prefix: 100 });
  });

  test("an empty element writes nothing", async () => {
    await checkWrite(new Uint8Array(0), 1000, 9);
  });

  test("an aborted signal stops the write with E_INTERRUPTED", async () => {
    await withTempDir("fill", async (dir) => {
      const fd = openSync(join(dir, "a.bin"), "w");
      try {
        const before = new AbortController();
        before.abort();
        await assert.rejects(
          writePattern(platform, fd, 0n, 100n, element(4), { signal: before.signal }),
          (err: unknown) => err instanceof NpyallocError && err.code === "E_INTERRUPTED",
        );
        assert.equal(fstatSync(fd).size, 0);

        const during = new AbortController();
        const pending = writePattern(platform, fd, 0n, BigInt(64 * MiB), element(1), {
          chunkBytes: MiB,
          signal: during.signal,
        });
        during.abort(new Error("SIGINT"));
        await assert.rejects(pending, (err: unknown) => {
          assert.ok(err instanceof NpyallocError);
          assert.equal(err.code, "E_INTERRUPTED");
          assert.match(err.message, /interrupted at offset \d+/);
          return true;
        });
        assert.ok(fstatSync(fd).size < 64 * MiB, "the write must stop early");
      } finally {
        closeSync(fd);
      }
    });
  });

  test("rejects bad arguments and positions past 2^53 before writing", async () => {
    await withTempDir("fill", async (dir) => {
      const fd = openSync(join(dir, "r.bin"), "w");
      try {
        const el = element(2);
        await assert.rejects(writePattern(platform, fd, -1n, 1n, el), RangeError);
        await assert.rejects(writePattern(platform, fd, 0n, -1n, el), RangeError);
        await assert.rejects(writePattern(platform, fd, 0n, 1n, el, { chunkBytes: 0 }), RangeError);
        await assert.rejects(
          writePattern(platform, fd, 0n, 1n, el, { chunkBytes: 1.5 }),
          RangeError,
        );
        await assert.rejects(
          writePattern(platform, fd, 1n << 53n, 1n, el),
          (err: unknown) =>
            err instanceof NpyallocError && err.code === "E_IO" && /2\^53/.test(err.message),
        );
        assert.equal(fstatSync(fd).size, 0);
        // A file of exactly 2^53 - 1 bytes is allowed; whether it fits is the OS's call
        // (ext4 answers EFBIG, a filesystem with sparse files may accept it).
        try {
          await writePattern(platform, fd, (1n << 53n) - 3n, 1n, el);
        } catch (err) {
          assert.ok(err instanceof NpyallocError);
          assert.doesNotMatch(err.message, /2\^53/);
        }
      } finally {
        closeSync(fd);
      }
    });
  });

  test(`a full filesystem fails with E_NO_SPACE${skipTinyFs ? ` (skipped: ${skipTinyFs})` : ""}`, {
    skip: skipTinyFs,
  }, async () => {
    await withTmpfs({ size: "16m" }, async (dir) => {
      const fd = openSync(join(dir, "full.bin"), "w");
      try {
        await assert.rejects(
          writePattern(platform, fd, 0n, BigInt(8 * MiB), element(4)),
          (err: unknown) => {
            assert.ok(err instanceof NpyallocError);
            assert.equal(err.code, "E_NO_SPACE");
            assert.match(err.message, /ENOSPC/);
            return true;
          },
        );
      } finally {
        closeSync(fd);
      }
    });
  });
});

describe("writePatternDirect", () => {
  // The middle, from the first 4 KiB boundary to the last, goes with O_DIRECT from a buffer that
  // starts at the element's phase there; the ends go through the page cache.
  for (const size of [1, 3, 4, 7, 16, 4099]) {
    for (const offset of [0, 128, 4000, 4096, 5000]) {
      test(`${size}-byte element at offset ${offset}, across chunks, the last one short`, async () => {
        const period = (4096 * size) / gcd(4096, size);
        const count = Math.ceil((3.5 * period + 4096 * 2 + 77) / size);
        await checkWrite(element(size), count, offset, { chunkBytes: period, write: direct });
      });
    }
  }

  test("the default chunk, 40 MiB of float32 after a 128-byte header", async () => {
    await checkWrite(element(4), 10 * MiB + 1, 128, { write: direct });
  });

  test("overwrites the middle of a file and leaves the rest", async () => {
    await checkWrite(element(5), 10_000, 6000, { prefix: 200_000, write: direct });
  });

  test("declines, writing nothing, where there is no aligned block or the chunk is too small", async () => {
    assert.ok(directWriter !== null, `${platform.runtime} has no direct I/O`);
    await withTempDir("fill", async (dir) => {
      const fd = openSync(join(dir, "p.bin"), "w");
      try {
        const el = element(3);
        assert.equal(await writeDirect(fd, 128n, 1000n, el, directWriter), null);
        assert.equal(
          await writeDirect(fd, 0n, 100_000n, el, directWriter, { chunkBytes: 4096 }),
          null,
          "a chunk must hold a whole number of 4 KiB blocks and of elements",
        );
        const refusing: DirectWriter = {
          io: { setDirect: () => false, alignedBuffer: directWriter.io.alignedBuffer },
          writeAt: directWriter.writeAt,
        };
        assert.equal(await writeDirect(fd, 0n, 100_000n, el, refusing), null);
        assert.equal(fstatSync(fd).size, 0);
      } finally {
        closeSync(fd);
      }
    });
  });

  test("leaves the file without O_DIRECT, also when the write fails", async () => {
    assert.ok(directWriter !== null, `${platform.runtime} has no direct I/O`);
    await withTempDir("fill", async (dir) => {
      const fd = openSync(join(dir, "p.bin"), "w");
      const calls: boolean[] = [];
      const failing: DirectWriter = {
        io: {
          setDirect: (f, on) => (calls.push(on), directWriter.io.setDirect(f, on)),
          alignedBuffer: directWriter.io.alignedBuffer,
        },
        writeAt: () => {
          throw Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
        },
      };
      try {
        await assert.rejects(
          writeDirect(fd, 0n, 1_000_000n, element(4), failing),
          (err: unknown) => err instanceof NpyallocError && err.code === "E_NO_SPACE",
        );
        assert.deepEqual(calls, [true, false]);
        // Unaligned writes work again: the descriptor is back to the page cache.
        writeFileSync(fd, new Uint8Array(3));
      } finally {
        closeSync(fd);
      }
    });
  });

  test("an aborted signal stops the write with E_INTERRUPTED", async () => {
    assert.ok(directWriter !== null, `${platform.runtime} has no direct I/O`);
    await withTempDir("fill", async (dir) => {
      const fd = openSync(join(dir, "p.bin"), "w");
      try {
        const controller = new AbortController();
        controller.abort(new Error("stop"));
        await assert.rejects(
          writeDirect(fd, 0n, 1_000_000n, element(4), directWriter, {
            signal: controller.signal,
          }),
          (err: unknown) => err instanceof NpyallocError && err.code === "E_INTERRUPTED",
        );
      } finally {
        closeSync(fd);
      }
    });
  });

  test(`a full filesystem fails with E_NO_SPACE${skipTinyFs ? ` (skipped: ${skipTinyFs})` : ""}`, {
    skip: skipTinyFs,
  }, async () => {
    await withLoopFilesystem("ext4", { sizeMiB: 16 }, async (dir) => {
      const fd = openSync(join(dir, "full.bin"), "w");
      try {
        await assert.rejects(
          direct(fd, 0n, BigInt(8 * MiB), element(4), {}),
          (err: unknown) => {
            assert.ok(err instanceof NpyallocError);
            assert.equal(err.code, "E_NO_SPACE");
            return true;
          },
        );
      } finally {
        closeSync(fd);
      }
    });
  });
});

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

describe("writeZeros", () => {
  test("writes zeros over existing bytes, from an offset", async () => {
    await withTempDir("fill", async (dir) => {
      const path = join(dir, "z.bin");
      writeFileSync(path, new Uint8Array(50).fill(0xff));
      const fd = openSync(path, "r+");
      try {
        assert.equal(await writeZeros(platform, fd, 3n, 100n, { chunkBytes: 7 }), 100n);
      } finally {
        closeSync(fd);
      }
      const got = readFileSync(path);
      assert.equal(got.length, 103);
      assert.deepEqual([...got.subarray(0, 3)], [0xff, 0xff, 0xff]);
      assert.ok(got.subarray(3).every((b) => b === 0));
    });
  });

  test("a length of zero writes nothing", async () => {
    await withTempDir("fill", async (dir) => {
      const fd = openSync(join(dir, "e.bin"), "w");
      try {
        assert.equal(await writeZeros(platform, fd, 10n, 0n), 0n);
        assert.equal(fstatSync(fd).size, 0);
      } finally {
        closeSync(fd);
      }
    });
  });
});
