/**
 * Conformance with NumPy's own test corpus of the .npy format (`numpy/lib/tests/test_format.py`,
 * rebuilt by `_support/format_corpus.ts`): every array of it that has a fixed-size dtype is
 * declared in one manifest, written by `npyalloc run`, and compared byte for byte with the file
 * NumPy writes; headers NumPy writes without data are compared with `encodeHeader`; whatever
 * NumPy refuses to write is refused; every malformed file is reported not ok by `inspect`, and
 * object arrays and headers of 2^63 bytes or more have their header shown. Every file npyalloc
 * wrote is then read back by `np.load` and by npyjs.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { parse as parseNpy } from "npyjs";
import { NpyallocError } from "../src/errors.ts";
import { type Descr, parseDType } from "../src/npy/dtype.ts";
import { encodeHeader, fortranOrderFlag } from "../src/npy/header.ts";
import { layoutArray } from "../src/npy/layout.ts";
import { toJson } from "../src/json.ts";
import { runCliProcess } from "./_support/cli.ts";
import { type FileCase, formatCorpus, type JsonFill } from "./_support/format_corpus.ts";
import { runPythonJson } from "./_support/numpy.ts";
import { tempDir } from "./_support/temp.ts";

const { dir, remove } = tempDir("numpy-format");
after(remove);
const numpyDir = path.join(dir, "numpy");
const root = path.join(dir, "ours");
fs.mkdirSync(numpyDir);
fs.mkdirSync(root);
// The test names count the cases, so NumPy builds the corpus as the file loads.
const corpus = (() => {
  try {
    return formatCorpus(numpyDir);
  } catch (err) {
    remove();
    throw err;
  }
})();
const reportSchema = new URL("../schemas/report.schema.json", import.meta.url);
const validateReport = new Ajv2020({ strict: true, allErrors: true }).compile(
  JSON.parse(fs.readFileSync(reportSchema, "utf8")),
);
const ours = (c: { id: string }) => path.join(root, `${c.id}.npy`);

/** The manifest entry of a file case. */
function entry(c: FileCase): Record<string, unknown> {
  return {
    path: `${c.id}.npy`,
    shape: c.shape,
    dtype: c.dtype,
    order: c.order,
    ...(c.fill === undefined ? {} : { fill: c.fill }),
    ...(c.header_version === undefined ? {} : { header_version: c.header_version }),
  };
}

/** The bytes of a file, as a plain Uint8Array. */
function read(file: string): Uint8Array {
  return new Uint8Array(fs.readFileSync(file));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Where two files first differ, for the failure message. */
function difference(a: Uint8Array, b: Uint8Array): string {
  const at = a.findIndex((x, i) => x !== b[i]);
  return `sizes ${a.length} and ${b.length}, first difference at byte ${at < 0 ? a.length : at}`;
}

describe(`NumPy ${corpus.numpy_version}'s test_format.py corpus`, () => {
  let written = false;

  const arrayHeaders = corpus.files.filter((c) => c.array_header !== undefined).length;
  test(
    `${corpus.files.length} arrays written from one manifest are NumPy's files ` +
      `(${corpus.files.length + arrayHeaders} byte comparisons)`,
    { timeout: 300_000 },
    () => {
      const manifest = path.join(dir, "manifest.yaml");
      const report = path.join(dir, "report.json");
      fs.writeFileSync(
        manifest,
        toJson({ version: 1, root: "ours", arrays: corpus.files.map(entry) }) + "\n",
      );
      const run = runCliProcess(["run", manifest, "-q", "-r", report]);
      assert.equal(run.status, 0, run.stderr);
      written = true;
      const parsed = JSON.parse(fs.readFileSync(report, "utf8"));
      assert.ok(validateReport(parsed), JSON.stringify(validateReport.errors?.slice(0, 3)));
      const arrays = (parsed as {
        arrays: { path: string; shape: number[]; descr: unknown; status: string }[];
      }).arrays;
      const byPath = new Map(arrays.map((a) => [a.path, a]));
      const groups = new Set<string>();
      for (const c of corpus.files) {
        const label = `${c.id} ${JSON.stringify(c.dtype).slice(0, 120)} ${JSON.stringify(c.shape)}`;
        const mine = read(ours(c));
        const theirs = read(c.expected);
        assert.ok(sameBytes(mine, theirs), `${label}: ${difference(mine, theirs)}`);
        if (c.array_header !== undefined) {
          // The header np.save writes for the corpus array itself (its data is np.arange).
          const header = read(c.array_header);
          assert.ok(sameBytes(mine.subarray(0, header.length), header), `${label}: header`);
          assert.equal(mine.length - header.length, theirs.length - header.length, label);
        }
        // The report shows the array as the file holds it: a subarray dtype folded into the shape.
        const reported = byPath.get(`${c.id}.npy`);
        assert.ok(reported !== undefined, label);
        assert.equal(reported.status, "created", label);
        assert.deepEqual(reported.shape, c.file_shape, label);
        assert.deepEqual(reported.descr, c.file_descr, label);
        groups.add(c.group);
      }
      assert.deepEqual([...groups].sort(), [
        "basic",
        "descr_to_dtype",
        "huge_header",
        "large_header",
        "long_str",
        "metadata",
        "padded",
        "record",
        "subarray",
        "unicode",
        "version_2_0",
        "write_version",
      ]);
    },
  );

  test(`${corpus.headers.length} headers NumPy writes without data`, () => {
    for (const h of corpus.headers) {
      const shape = h.shape.map(BigInt);
      const label = `${h.id} ${JSON.stringify(h.descr).slice(0, 80)} ${h.shape}`;
      if (h.error !== undefined) {
        assert.throws(
          () => encodeHeader(h.descr as Descr, h.fortran, shape, h.version),
          (err: unknown) => err instanceof NpyallocError && err.code === "E_HEADER",
          `${label}: NumPy says ${h.error}`,
        );
        continue;
      }
      const got = encodeHeader(h.descr as Descr, h.fortran, shape, h.version).bytes;
      assert.equal(Buffer.from(got).toString("hex"), h.hex, label);
    }
  });

  test(`${corpus.refused.length} arrays NumPy will not write are refused`, () => {
    for (const r of corpus.refused) {
      // Versions that do not exist are refused by the manifest's schema, below.
      const version = r.header_version;
      if (version !== undefined && !["1.0", "2.0", "3.0"].includes(version)) continue;
      assert.throws(
        () =>
          layoutArray({
            shape: r.shape.map(BigInt),
            dtype: parseDType(r.dtype),
            ...(version === undefined ? {} : { headerVersion: version as "1.0" | "2.0" | "3.0" }),
          }),
        (err: unknown) =>
          err instanceof NpyallocError && ["E_DTYPE", "E_HEADER"].includes(err.code),
        `${r.id}: NumPy says ${r.error}`,
      );
    }
    // The same arrays in a manifest: each one is a problem, nothing is written.
    const manifest = path.join(dir, "refused.yaml");
    fs.writeFileSync(
      manifest,
      toJson({
        version: 1,
        root: "refused",
        arrays: corpus.refused.map((r) => ({
          path: `${r.id}.npy`,
          shape: r.shape,
          dtype: r.dtype,
          ...(r.header_version === undefined ? {} : { header_version: r.header_version }),
        })),
      }) + "\n",
    );
    const validate = runCliProcess(["validate", manifest]);
    assert.equal(validate.status, 2, validate.stderr);
    const problems = validate.stderr.trim().split("\n").filter((l) => /arrays\[\d+\]/.test(l));
    const flagged = new Set(problems.map((l) => /arrays\[(\d+)\]/.exec(l)![1]));
    assert.equal(flagged.size, corpus.refused.length, validate.stderr);
    assert.equal(fs.existsSync(path.join(dir, "refused")), false);
  });

  test(
    `${corpus.malformed.length} malformed and truncated files NumPy refuses: inspect says why`,
    () => {
      const run = runCliProcess(["inspect", "--json", ...corpus.malformed.map((m) => m.file)]);
      assert.equal(run.status, 1, run.stderr);
      assert.equal(run.stderr, "");
      const results = JSON.parse(run.stdout) as { ok: boolean; error: string }[];
      assert.equal(results.length, corpus.malformed.length);
      corpus.malformed.forEach((m, i) => {
        const r = results[i]!;
        assert.equal(r.ok, false, m.id);
        assert.match(r.error, new RegExp(m.expect), `${m.id} (NumPy: ${m.numpy_error})`);
      });
    },
  );

  test(`${corpus.objects.length} object arrays: inspect shows their header, not ok`, () => {
    const run = runCliProcess(["inspect", "--json", ...corpus.objects.map((o) => o.file)]);
    assert.equal(run.status, 1, run.stderr);
    const results = JSON.parse(run.stdout) as Record<string, unknown>[];
    corpus.objects.forEach((o, i) => {
      const r = results[i]!;
      assert.deepEqual(
        [r.ok, r.descr, r.shape, r.fortran_order, r.header_bytes, r.file_bytes],
        [false, o.descr, o.shape, o.fortran, o.header_bytes, o.file_bytes],
        o.id,
      );
      assert.equal(r.header_version, "1.0");
      assert.equal(r.expected_file_bytes, null);
      assert.match(String(r.error), /holds Python objects: the data is a pickle/);
    });
  });

  test("headers of 2^63 bytes or more: inspect shows the exact shape, not ok", () => {
    const files = corpus.headers.filter((h) => h.file !== undefined);
    const run = runCliProcess(["inspect", "--json", ...files.map((h) => h.file!)]);
    assert.equal(run.status, 1, run.stderr);
    // Exact integers: parse the JSON keeping digits past 2^53.
    const text = run.stdout.replace(/(?<=(?:^|[[:,])\s*)(\d{16,})(?=\s*[\],}\n])/gm, '"$1"');
    const results = JSON.parse(text) as Record<string, unknown>[];
    let huge = 0;
    files.forEach((h, i) => {
      const r = results[i]!;
      assert.deepEqual((r.shape as (number | string)[]).map(String), h.shape, h.id);
      assert.equal(r.ok, false, h.id);
      if (h.too_large) {
        huge++;
        assert.match(
          String(r.error),
          /is too large: the data would need 2\^63 bytes or more/,
          h.id,
        );
        const bytes = h.shape.reduce((a, b) => a * BigInt(b), 8n);
        assert.equal(String(r.data_bytes), String(bytes), h.id);
      } else {
        assert.match(String(r.error), /^Truncated data/, h.id);
      }
    });
    assert.equal(huge, 12);
  });

  test("np.load reads every file npyalloc wrote, as NumPy wrote it", () => {
    assert.ok(written, "the files were not written");
    const checked = runPythonJson<number>(
      `
cases = json.load(sys.stdin)
for c in cases:
    kw = {"max_header_size": 10**8} if c["long_header"] else {}
    if c["long_header"]:
        try:
            np.load(c["ours"])
            raise SystemExit(f"np.load read a header over 10,000 characters: {c['ours']}")
        except ValueError as e:
            assert "max_header_size" in str(e), e
    for mmap_mode in [None, "r"]:
        a = np.load(c["ours"], mmap_mode=mmap_mode, **kw)
        b = np.load(c["expected"], **kw)
        assert a.dtype == b.dtype and a.shape == b.shape, (c, a.dtype, b.dtype, a.shape, b.shape)
        assert a.flags.f_contiguous == b.flags.f_contiguous, c
        assert np.asarray(a).tobytes() == b.tobytes(), c
print(len(cases))
`,
      JSON.stringify(
        corpus.files.map((c) => ({
          ours: ours(c),
          expected: c.expected,
          long_header: c.long_header,
        })),
      ),
    );
    assert.equal(checked, corpus.files.length);
  });

  test("npyjs reads every file npyalloc wrote of a dtype it supports", () => {
    assert.ok(written, "the files were not written");
    let parsed = 0;
    const kinds = new Set<string>();
    for (const c of corpus.files) {
      const descr = c.file_descr;
      if (typeof descr !== "string" || !NPYJS_DTYPES.test(descr)) continue;
      const count = c.file_shape.reduce((a, b) => a * b, 1);
      // npyjs spreads all the code points of a unicode array into one call: it overflows the
      // stack past about 100,000 (test_long_str's array has 262,145).
      if (descr[1] === "U" && count * Number(descr.slice(2)) > 100_000) continue;
      const bytes = fs.readFileSync(ours(c));
      const npy = parseNpy(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
      const label = `${c.id} ${descr} ${JSON.stringify(c.file_shape)}`;
      assert.deepEqual(npy.shape, c.file_shape, label);
      assert.equal(npy.dtype, descr.slice(1), label);
      assert.equal(npy.fortranOrder, fortranOrderFlag(c.file_shape, c.order), label);
      const values = Array.from(npy.data as unknown as ArrayLike<unknown>);
      const complex = descr[1] === "c";
      assert.equal(values.length, complex ? 2 * count : count, label);
      const expected = npyjsValues(descr, c.fill);
      values.forEach((v, i) => {
        const want = expected[complex ? i % 2 : 0];
        assert.ok(Object.is(v, want) || v === want, `${label}: item ${i} is ${v}, not ${want}`);
      });
      kinds.add(descr.slice(1, 2));
      parsed++;
    }
    assert.deepEqual([...kinds].sort(), ["U", "c", "f", "i", "u"]);
    assert.ok(parsed >= 60, `npyjs read only ${parsed} files`);
  });
});

/** The descrs npyjs 1.2 reads: little-endian numbers and unicode strings. */
const NPYJS_DTYPES = /^[<|]([iu][1248]|f[248]|c(8|16)|b1|U\d+)$/;

/** The value npyjs gives for every item of a file of this descr and fill (re and im for complex). */
function npyjsValues(descr: string, fill: JsonFill | undefined): unknown[] {
  const code = descr.slice(1);
  const number = (v: JsonFill | undefined): number =>
    v === undefined || v === null ? 0 : v === "nan" ? NaN : v === "inf" ? Infinity : Number(v);
  if (code === "b1") return [fill === true];
  if (code === "i8" || code === "u8") return [BigInt(number(fill))];
  if (code.startsWith("U")) return [fill ?? ""];
  if (code.startsWith("c")) {
    const [re, im] = Array.isArray(fill) ? fill : [fill, 0];
    const round = code === "c8" ? Math.fround : (x: number) => x;
    return [round(number(re)), round(number(im))];
  }
  return [code === "f4" ? Math.fround(number(fill)) : number(fill)];
}
