/**
 * The create and inspect commands as a user runs them: a real process, real
 * files, NumPy reading them back.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { VERSION } from "../src/version.ts";
import { runCliProcess } from "./_support/cli.ts";
import { runPythonJson } from "./_support/numpy.ts";
import { tempDir } from "./_support/temp.ts";

const { dir, remove } = tempDir("cli");
after(remove);

function numpyBytes(expr: string): Buffer {
  const hex = runPythonJson<string>(
    `import io\nb = io.BytesIO()\nnp.save(b, ${expr})\nprint(json.dumps(b.getvalue().hex()))`,
  );
  return Buffer.from(hex, "hex");
}

/** Exactly one line on stderr, starting with `npyalloc:`, and no stack trace. */
function assertOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0]!, /^npyalloc: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(stderr, /\n\s+at /);
}

describe("npyalloc create", () => {
  const cases: [string, string[], string][] = [
    ["F-ordered big-endian ints", [
      "--shape",
      "3,4",
      "--dtype",
      ">i2",
      "--order",
      "F",
      "--fill",
      "7",
    ], "np.full((3, 4), 7, '>i2', order='F')"],
    ["0-d", ["--shape", "", "--dtype", "float32", "--fill", "1.5"], "np.full((), 1.5, 'float32')"],
    ["1-d zeros by default", ["--shape", "5"], "np.zeros(5)"],
    [
      "uint64 max, exact",
      ["--shape", "2", "--dtype", "uint64", "--fill", "18446744073709551615"],
      "np.full(2, 18446744073709551615, 'uint64')",
    ],
    [
      "nan",
      ["--shape", "2,2", "--dtype", "<f2", "--fill", "nan"],
      "np.full((2, 2), np.nan, '<f2')",
    ],
    ["-inf", ["--shape", "3", "--fill", "-inf"], "np.full(3, -np.inf)"],
    ["bool", ["--shape", "4", "--dtype", "bool", "--fill", "true"], "np.full(4, True)"],
    [
      "datetime",
      ["--shape", "2", "--dtype", "M8[s]", "--fill", "2024-02-29T12:00:00"],
      "np.full(2, '2024-02-29T12:00:00', 'M8[s]')",
    ],
    ["NaT", ["--shape", "2", "--dtype", "m8[ns]", "--fill", "NaT"], "np.full(2, 'NaT', 'm8[ns]')"],
    [
      "complex",
      ["--shape", "2", "--dtype", "complex64", "--fill", "[1.5, -2]"],
      "np.full(2, 1.5-2j, 'complex64')",
    ],
    [
      "structured from JSON",
      ["--shape", "3", "--dtype", '[["a","<i4"],["b","<f8",[2]]]', "--fill", "{a: 1, b: [2, 3]}"],
      "(lambda a: (a.__setitem__('a', 1), a.__setitem__('b', [2.0, 3.0]), a)[-1])(np.zeros(3, [('a', '<i4'), ('b', '<f8', (2,))]))",
    ],
    ["header version 3.0", ["--shape", "2", "--dtype", "i1", "--header-version", "3.0"], "None"],
    [
      "a subarray dtype, folded into the shape",
      ["--shape", "4", "--dtype", "(2,3)>i4", "--order", "F", "--fill", "-7"],
      "np.full(4, -7, '(2,3)>i4', order='F')",
    ],
    [
      "a field whose dtype is a subarray",
      ["--shape", "3", "--dtype", '[["c",["<f8",[5]],[2]]]', "--fill", "{c: 2.5}"],
      "(lambda a: (a.__setitem__('c', 2.5), a)[-1])(np.zeros(3, [('c', ('<f8', (5,)), (2,))]))",
    ],
  ];
  for (const [name, args, expr] of cases) {
    test(name, () => {
      const file = path.join(dir, `${name.replaceAll(/\W+/g, "_")}.npy`);
      const run = runCliProcess(["create", file, ...args, "--no-fsync"]);
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /^created /);
      if (expr === "None") {
        const bytes = fs.readFileSync(file);
        assert.deepEqual([...bytes.subarray(6, 8)], [3, 0]);
        assert.match(run.stderr, /warning: .*format 3\.0 can only be read by NumPy >= 1\.17/);
      } else {
        assert.deepEqual(fs.readFileSync(file), numpyBytes(expr));
      }
    });
  }

  test("says the shape and dtype of the file: a subarray dtype is folded", () => {
    const run = runCliProcess([
      "create",
      path.join(dir, "folded.npy"),
      "--shape",
      "4",
      "--dtype",
      "(2,3)i4",
    ]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /: <i4 \(4, 2, 3\) C, /);
  });

  test("creates parent folders and leaves no temporary file", () => {
    const file = path.join(dir, "deep", "er", "x.npy");
    const run = runCliProcess(["create", file, "--shape", "10", "--quiet"]);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, "");
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ["x.npy"]);
  });

  test("an existing file is exit 4 and left alone; --force replaces it", () => {
    const file = path.join(dir, "exists.npy");
    fs.writeFileSync(file, "precious");
    const refused = runCliProcess(["create", file, "--shape", "3"]);
    assert.equal(refused.status, 4);
    assertOneLine(refused.stderr, /already exists \(use --force to replace it\)/);
    assert.equal(fs.readFileSync(file, "utf8"), "precious");
    const forced = runCliProcess(["create", file, "--shape", "3", "--force"]);
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(forced.stdout, /^replaced /);
    assert.deepEqual(fs.readFileSync(file), numpyBytes("np.zeros(3)"));
  });

  const usage: [string, string[], number, RegExp][] = [
    ["unknown flag", ["--shape", "3", "--bogus"], 2, /Unknown option '--bogus'/],
    ["missing shape", [], 2, /--shape is required/],
    ["bad shape", ["--shape", "3,-4"], 2, /'-4' is not an integer >= 0/],
    ["bad dtype", ["--shape", "3", "--dtype", "float7"], 2, /Cannot parse dtype 'float7'/],
    ["object dtype", ["--shape", "3", "--dtype", "object"], 2, /cannot be memory-mapped/],
    ["bad order", ["--shape", "3", "--order", "X"], 2, /--order must be one of C, F, got 'X'/],
    [
      "fill out of range",
      ["--shape", "3", "--dtype", "u1", "--fill", "256"],
      2,
      /256 does not fit dtype '\|u1'/,
    ],
    [
      "sparse with a fill",
      ["--shape", "3", "--fill", "1", "--allocation", "sparse"],
      2,
      /fill is not zero/,
    ],
    [
      "past 2^63 bytes",
      ["--shape", "4611686018427387904,4", "--dtype", "f8"],
      2,
      /larger than the 2\^63 bytes/,
    ],
    [
      "a petabyte",
      ["--shape", "140737488355328", "--dtype", "f8"],
      3,
      /Not enough free space .*short by/,
    ],
    [
      "header version too small",
      ["--shape", "2", "--dtype", '[["\u4e2d", "<i4"]]', "--header-version", "1.0"],
      2,
      /Cannot write header format 1\.0: the header has characters outside latin-1 \(use 3\.0\)/,
    ],
  ];
  for (const [name, args, status, pattern] of usage) {
    test(`${name}: exit ${status}, one line, nothing created`, () => {
      const file = path.join(dir, `bad-${name.replaceAll(/\W+/g, "_")}.npy`);
      const run = runCliProcess(["create", file, ...args]);
      assert.equal(run.status, status, run.stderr);
      assertOneLine(run.stderr, pattern);
      assert.equal(fs.existsSync(file), false);
    });
  }
});

describe("allocation", () => {
  const size = 64 * 1024 * 1024;
  function inspectJson(file: string): Record<string, unknown> {
    const run = runCliProcess(["inspect", "--json", file]);
    assert.equal(run.status, 0, run.stderr);
    return JSON.parse(run.stdout);
  }
  test("reserve allocates every block, sparse almost none, write fills", () => {
    const reserve = path.join(dir, "reserve.npy");
    const sparse = path.join(dir, "sparse.npy");
    const write = path.join(dir, "write.npy");
    for (
      const [file, extra] of [[reserve, []], [sparse, ["--allocation", "sparse"]], [write, [
        "--fill",
        "1",
      ]]] as const
    ) {
      const run = runCliProcess([
        "create",
        file,
        "--shape",
        String(size / 4),
        "--dtype",
        "int32",
        ...extra,
        "--no-fsync",
      ]);
      assert.equal(run.status, 0, run.stderr);
      if (file === sparse) {
        assert.match(run.stderr, /sparse file: 64\.0 MiB committed but not reserved/);
      }
    }
    const r = inspectJson(reserve);
    const s = inspectJson(sparse);
    const w = inspectJson(write);
    for (const info of [r, s, w]) assert.equal(info.file_bytes, size + 128);
    assert.ok((r.allocated_bytes as number) >= size, `reserve allocated ${r.allocated_bytes}`);
    assert.ok((s.allocated_bytes as number) < 1024 * 1024, `sparse allocated ${s.allocated_bytes}`);
    assert.ok((w.allocated_bytes as number) >= size);
    const data = fs.readFileSync(write).subarray(128);
    assert.equal(data.length, size);
    assert.ok(new Int32Array(data.buffer, data.byteOffset, size / 4).every((v) => v === 1));
  });
});

describe("npyalloc inspect", () => {
  test("--json of one file is an object with the SPEC's fields", () => {
    const file = path.join(dir, "inspect.npy");
    assert.equal(
      runCliProcess(["create", file, "--shape", "2,3", "--dtype", "<u2", "--order", "F"]).status,
      0,
    );
    const run = runCliProcess(["inspect", "--json", file]);
    assert.equal(run.status, 0, run.stderr);
    const info = JSON.parse(run.stdout);
    assert.deepEqual(
      { ...info, allocated_bytes: typeof info.allocated_bytes },
      {
        path: file,
        ok: true,
        header_version: "1.0",
        header_bytes: 128,
        descr: "<u2",
        shape: [2, 3],
        fortran_order: true,
        itemsize: 2,
        data_bytes: 12,
        file_bytes: 140,
        expected_file_bytes: 140,
        allocated_bytes: "number",
        error: null,
      },
    );
  });

  test("a truncated file, a text file and a missing file: ok false, exit 1", () => {
    const good = path.join(dir, "good.npy");
    const truncated = path.join(dir, "truncated.npy");
    const text = path.join(dir, "text.npy");
    assert.equal(runCliProcess(["create", good, "--shape", "100"]).status, 0);
    fs.writeFileSync(truncated, fs.readFileSync(good).subarray(0, 500));
    fs.writeFileSync(text, "hello\n");
    const run = runCliProcess([
      "inspect",
      "--json",
      good,
      truncated,
      text,
      path.join(dir, "missing.npy"),
    ]);
    assert.equal(run.status, 1);
    const infos = JSON.parse(run.stdout) as Record<string, unknown>[];
    assert.deepEqual(infos.map((i) => i.ok), [true, false, false, false]);
    assert.match(
      String(infos[1]!.error),
      /Truncated data: the header needs 928 bytes, the file has 500/,
    );
    assert.equal(infos[1]!.shape instanceof Array, true);
    assert.match(String(infos[2]!.error), /magic|not a \.npy/i);
    assert.match(String(infos[3]!.error), /no such file/);
    const human = runCliProcess(["inspect", good, truncated]);
    assert.equal(human.status, 1);
    assert.match(human.stdout, /good\.npy: ok\n {2}header {5}version 1\.0, 128 bytes/);
    assert.match(human.stdout, /truncated\.npy: NOT OK: Truncated data/);
  });

  test("object arrays and data of 2^63 bytes or more: the header, not ok", () => {
    const files = runPythonJson<string[]>(`
import os
d = ${JSON.stringify(dir)}
np.save(os.path.join(d, "objects.npy"), np.array([[None, 1], ["x", 2.5]], dtype=object, order="F"))
with open(os.path.join(d, "huge.npy"), "wb") as f:
    np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": (2**62, 3)})
print(json.dumps([os.path.join(d, "objects.npy"), os.path.join(d, "huge.npy")]))
`);
    const run = runCliProcess(["inspect", "--json", ...files]);
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stdout, /"shape": \[\n\s+4611686018427387904,\n\s+3\n\s+\]/);
    assert.match(run.stdout, /"data_bytes": 110680464442257309696,/);
    const [objects, huge] = JSON.parse(run.stdout) as Record<string, unknown>[];
    assert.deepEqual(
      [objects!.ok, objects!.descr, objects!.shape, objects!.fortran_order, objects!.header_bytes],
      [false, "|O", [2, 2], true, 128],
    );
    assert.deepEqual([objects!.itemsize, objects!.data_bytes, objects!.expected_file_bytes], [
      null,
      null,
      null,
    ]);
    assert.match(String(objects!.error), /holds Python objects: the data is a pickle/);
    assert.deepEqual([huge!.ok, huge!.descr, huge!.itemsize], [false, "<f8", 8]);
    assert.match(String(huge!.error), /too large: the data would need 2\^63 bytes or more/);
    const human = runCliProcess(["inspect", files[0]!]);
    assert.match(human.stdout, /objects\.npy: NOT OK: Header descr '\|O' holds Python objects/);
    assert.match(human.stdout, /dtype {6}\|O\n {2}shape {6}\(2, 2\), Fortran \(F\) order\n/);
    assert.match(human.stdout, /data {7}size unknown\n/);
  });

  test("reads NumPy's own files of every header version", () => {
    const files = runPythonJson<string[]>(`
import os
out = []
for v in [(1, 0), (2, 0), (3, 0)]:
    p = os.path.join(${JSON.stringify(dir)}, f"np{v[0]}.npy")
    with open(p, "wb") as f:
        np.lib.format.write_array(f, np.arange(6, dtype=">i4").reshape(2, 3), version=v)
    out.append(p)
print(json.dumps(out))
`);
    const run = runCliProcess(["inspect", "--json", ...files]);
    assert.equal(run.status, 0, run.stderr);
    const infos = JSON.parse(run.stdout) as Record<string, unknown>[];
    assert.deepEqual(infos.map((i) => [i.header_version, i.descr, i.shape]), [
      ["1.0", ">i4", [2, 3]],
      ["2.0", ">i4", [2, 3]],
      ["3.0", ">i4", [2, 3]],
    ]);
  });
});

describe("help and version", () => {
  test("--version matches package.json", () => {
    const pkg = JSON.parse(fs.readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    assert.equal(VERSION, pkg.version);
    const run = runCliProcess(["--version"]);
    assert.equal(run.status, 0);
    assert.equal(run.stdout, `npyalloc ${VERSION}\n`);
  });
  for (const args of [["--help"], ["create", "--help"], ["inspect", "--help"]]) {
    test(args.join(" "), () => {
      const run = runCliProcess(args);
      assert.equal(run.status, 0);
      assert.match(run.stdout, /Usage:/);
    });
  }
  test("an unknown command is exit 2", () => {
    const run = runCliProcess(["frobnicate"]);
    assert.equal(run.status, 2);
    assertOneLine(run.stderr, /Unknown command 'frobnicate'/);
  });
});
