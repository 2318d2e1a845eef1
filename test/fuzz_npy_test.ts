// Property-based tests of reading .npy files with fast-check: files are generated from real
// headers (random dtypes, shapes, orders and format versions, complete, truncated or with
// trailing bytes) and damaged (bytes flipped, inserted, removed, the header dict replaced by
// random text, the length field rewritten). `inspect` must say ok exactly for a complete,
// well-formed file and give a clean error otherwise, never throw, never hang; `run` must treat
// such a file at a target as unchanged or as a conflict (exit 0 or 4), never crash.
//
// FUZZ_RUNS (default 2000) sets the in-process cases, FUZZ_CLI_RUNS (default 40, or FUZZ_RUNS / 50
// when larger) the files given to each real CLI run, FUZZ_SEED (default 20240601) the seed.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import fc from "fast-check";
import { readHeaderFromFile } from "../src/api/read_header.ts";
import { inspectFile, type InspectResult } from "../src/engine/inspect.ts";
import { NpyallocError } from "../src/errors.ts";
import { parseDType } from "../src/npy/dtype.ts";
import { dtypeToDescr } from "../src/npy/dtype.ts";
import { encodeHeader, fortranOrderFlag } from "../src/npy/header.ts";
import { loadPlatform } from "../src/platform/mod.ts";
import { runCli } from "./_support/cli.ts";

const platform = await loadPlatform();
const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
const CLI_RUNS = Number(process.env.FUZZ_CLI_RUNS ?? Math.max(40, Math.floor(RUNS / 50)));
const SEED = Number(process.env.FUZZ_SEED ?? 20240601);
const MAX_MS_PER_CASE = 1000;
/** Bun stops a test after 5 s unless told otherwise. */
const TIMEOUT_MS = 60_000 + RUNS * 20 + CLI_RUNS * 200;

const base = fs.mkdtempSync(path.join(os.tmpdir(), "npyalloc-fuzz-npy-"));
after(() => fs.rmSync(base, { recursive: true, force: true }));

const DTYPES = [
  "<f4",
  ">f8",
  "|u1",
  "<i8",
  "|b1",
  "<c16",
  "<f16",
  "|S7",
  ">U3",
  "|V5",
  "<M8[ns]",
  ">m8[10ms]",
  "i4, (2,3)f8",
  '[["a", "<f4"], ["b", ">i2", [2]], ["", "|V3"]]',
  '[["\u00e9t\u00e9", "<u2"]]',
  '[["x", [["y", "<f8"]], [3]]]',
];

/** A real header and data of a random length: exact, short or long. */
const npyFile = fc.record({
  dtype: fc.constantFrom(...DTYPES),
  shape: fc.array(fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constantFrom(2 ** 40, 2 ** 62)), {
    maxLength: 4,
  }),
  order: fc.constantFrom("C" as const, "F" as const),
  version: fc.constantFrom("auto" as const, "1.0" as const, "2.0" as const, "3.0" as const),
  dataDelta: fc.oneof(fc.constant(0), fc.integer({ min: -64, max: 64 })),
}).map(({ dtype, shape, order, version, dataDelta }) => {
  const parsed = parseDType(dtype.startsWith("[") ? JSON.parse(dtype) : dtype);
  const bigShape = shape.map(BigInt);
  let header: Uint8Array;
  try {
    header =
      encodeHeader(dtypeToDescr(parsed), fortranOrderFlag(bigShape, order), bigShape, version)
        .bytes;
  } catch {
    header = encodeHeader(dtypeToDescr(parsed), false, bigShape, "auto").bytes;
  }
  const data = bigShape.reduce((a, b) => a * b, BigInt(parsed.itemsize));
  // Huge arrays are written truncated; small ones complete, short or long.
  const length = data > 4096n ? Math.max(0, 64 + dataDelta) : Math.max(0, Number(data) + dataDelta);
  const bytes = new Uint8Array(header.length + length);
  bytes.set(header);
  bytes.fill(0xab, header.length);
  return bytes;
});

/** Printable and unprintable text a header dict might be replaced with. */
const dictText = fc.oneof(
  fc.constantFrom(
    "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (-3,), }",
    "{'descr': '<f8', 'fortran_order': 0, 'shape': (3,), }",
    "{'descr': 'O', 'fortran_order': False, 'shape': (3,), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,), }",
    "{'descr': [('a', '<f4', (1<<60,))], 'fortran_order': False, 'shape': (), }",
    "{'descr': '<f8', 'shape': (3,)}",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), 'extra': 1}",
    "__import__('os').system('touch /tmp/npyalloc-pwned')",
    "{'descr': " + "[".repeat(5000) + "]".repeat(5000) + "}",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (3L,), }",
    "{'descr': '\\x00', 'fortran_order': False, 'shape': (3,), }",
  ),
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.string({ maxLength: 80 }),
);

const damage = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(200), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(12), value: fc.nat(255) }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(300),
    bytes: fc.uint8Array({ maxLength: 8 }),
  }),
  fc.record({
    kind: fc.constant("remove" as const),
    at: fc.nat(300),
    count: fc.integer({ min: 1, max: 16 }),
  }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat(400) }),
  fc.record({ kind: fc.constant("dict" as const), text: dictText, keepLength: fc.boolean() }),
  fc.record({ kind: fc.constant("length" as const), value: fc.nat(0xffffffff) }),
);
type Damage = typeof damage extends fc.Arbitrary<infer T> ? T : never;

function applyDamage(file: Uint8Array, d: Damage): Uint8Array {
  const at = (n: number) => Math.min(n, file.length);
  switch (d.kind) {
    case "flip": {
      const out = file.slice();
      if (d.at < out.length) out[d.at] = out[d.at]! ^ (1 << d.bit);
      return out;
    }
    case "set": {
      const out = file.slice();
      if (d.at < out.length) out[d.at] = d.value;
      return out;
    }
    case "insert":
      return concat(file.subarray(0, at(d.at)), d.bytes, file.subarray(at(d.at)));
    case "remove":
      return concat(file.subarray(0, at(d.at)), file.subarray(at(d.at + d.count)));
    case "truncate":
      return file.slice(0, at(d.at));
    case "dict": {
      // Replace the dict (after the 10- or 12-byte prefix), keeping the length field or fixing it.
      const prefix = file[6] === 1 ? 10 : 12;
      const text = new TextEncoder().encode(d.text + "\n");
      const out = concat(file.subarray(0, Math.min(prefix, file.length)), text);
      if (!d.keepLength && out.length >= prefix) {
        const view = new DataView(out.buffer, out.byteOffset);
        if (prefix === 10) view.setUint16(8, Math.min(text.length, 0xffff), true);
        else view.setUint32(8, text.length, true);
      }
      return out;
    }
    case "length": {
      const out = file.slice();
      if (out.length >= 12) new DataView(out.buffer).setUint32(8, d.value, true);
      return out;
    }
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A generated file, damaged zero to three times. */
const damagedFile = fc.tuple(
  npyFile,
  fc.oneof(fc.constant([]), fc.array(damage, { minLength: 1, maxLength: 3 })),
)
  .map(([file, damages]) => damages.reduce(applyDamage, file));

/** What `inspect` must say of a file. */
function checkInspect(result: InspectResult, bytes: number): void {
  assert.equal(typeof result.ok, "boolean");
  if (result.ok) {
    assert.equal(result.error, null);
    assert.equal(Number(result.file_bytes), bytes);
    assert.equal(result.expected_file_bytes, result.file_bytes);
    assert.ok(result.header_version !== null && result.shape !== null && result.descr !== null);
  } else {
    assert.equal(typeof result.error, "string");
    assert.ok(result.error!.length > 0);
    assert.doesNotMatch(result.error!, /\[object Object\]|Maximum call stack|TypeError|RangeError/);
  }
}

describe("fuzzing the .npy reader", () => {
  test(
    `${RUNS} generated and damaged files (seed ${SEED}): inspect says ok or why not, never throws`,
    {
      timeout: TIMEOUT_MS,
    },
    async () => {
      const file = path.join(base, "in-process.npy");
      let ok = 0;
      await fc.assert(
        fc.asyncProperty(damagedFile, async (bytes) => {
          fs.writeFileSync(file, bytes);
          const started = performance.now();
          const result = await inspectFile(platform, file);
          checkInspect(result, bytes.length);
          if (result.ok) ok++;
          try {
            await readHeaderFromFile(file);
          } catch (err) {
            assert.ok(err instanceof NpyallocError, `not an NpyallocError: ${err}`);
            assert.equal(err.code, "E_NOT_NPY", err.message);
          }
          const took = performance.now() - started;
          assert.ok(took < MAX_MS_PER_CASE, `took ${took.toFixed(0)} ms`);
        }),
        { numRuns: RUNS, seed: SEED },
      );
      // The generator makes both kinds.
      assert.ok(ok > RUNS / 20 && ok < RUNS * 0.95, `${ok} of ${RUNS} files were ok`);
      assert.equal(fs.existsSync("/tmp/npyalloc-pwned"), false);
    },
  );

  test(
    `${CLI_RUNS} files through \`inspect --json\` and at the targets of \`run\` (seed ${SEED})`,
    {
      timeout: TIMEOUT_MS,
    },
    async () => {
      const dir = path.join(base, "cli");
      const root = path.join(dir, "root");
      fs.mkdirSync(root, { recursive: true });
      const files = fc.sample(damagedFile, { numRuns: CLI_RUNS, seed: SEED + 1 });
      const names = files.map((bytes, i) => {
        const name = path.join(root, `f${i}.npy`);
        fs.writeFileSync(name, bytes);
        return name;
      });
      const expected = await Promise.all(names.map((name) => inspectFile(platform, name)));

      const inspect = await runCli(["inspect", "--json", ...names]);
      assert.ok(inspect.status === 0 || inspect.status === 1, inspect.stderr);
      assert.equal(inspect.stderr, "");
      const results = JSON.parse(inspect.stdout) as InspectResult[];
      assert.equal(results.length, names.length);
      for (const [i, r] of results.entries()) {
        checkInspect(r, files[i]!.length);
        assert.equal(r.ok, expected[i]!.ok, `${names[i]}: ${r.error}`);
        assert.equal(r.error, expected[i]!.error);
      }
      assert.equal(inspect.status, expected.every((r) => r.ok) ? 0 : 1);

      // Each file sits at the target of an array: the run leaves it alone or stops with a conflict.
      const manifest = path.join(dir, "m.yaml");
      const lines = ["version: 1", "root: root", "arrays:"];
      names.forEach((_, i) =>
        lines.push(`  - path: f${i}.npy`, "    shape: [3]", "    dtype: float32")
      );
      fs.writeFileSync(manifest, lines.join("\n") + "\n");
      const before = names.map((n) => fs.readFileSync(n));
      const run = await runCli(["run", manifest, "-q"]);
      assert.ok(run.status === 0 || run.status === 4, run.stderr);
      assert.doesNotMatch(run.stderr, /\n\s+at |internal error|\[object Object\]/);
      for (const line of run.stderr.trim().split("\n").filter((l) => l !== "")) {
        assert.match(line, /^npyalloc: /);
      }
      names.forEach((n, i) => assert.deepEqual(fs.readFileSync(n), before[i], `${n} was touched`));
    },
  );
});
