/**
 * Generated fills through the command line, as a user runs them: every generator in one manifest
 * (seeds interpolated from `foreach`, orders C and F, the writer threads), each file the bytes
 * `np.save` writes for the fill's NumPy expression; two shards give the bytes of one run;
 * `verify --deep` recomputes the content and names the first differing element; manifest errors
 * point at the manifest's line and column with exit 2; a Deno without FFI refuses what needs the
 * C library's math rather than write other bytes.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { after, describe, test } from "node:test";
import { runCliProcess } from "./_support/cli.ts";
import { runPythonJson } from "./_support/numpy.ts";
import { tempDir } from "./_support/temp.ts";

const { dir, remove } = tempDir("generate-run");
after(remove);

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Each array: its manifest entry and the NumPy expression of its values (`rng(seed)`). */
const ARRAYS: { yaml: string; files: Record<string, string> }[] = [
  {
    yaml: `  - path: "random-{i}.npy"
    foreach: { i: { range: [0, 3] } }
    shape: [1000, 3]
    dtype: float64
    fill: { random: { seed: "{i}" } }`,
    files: Object.fromEntries(
      [0, 1, 2].map((i) => [`random-${i}.npy`, `rng(${i}).random(3000).reshape(1000, 3)`]),
    ),
  },
  {
    yaml: `  - path: random-f4-F.npy
    shape: [7, 5, 3]
    dtype: ">f4"
    order: F
    fill: { random: { seed: 340282366920938463463374607431768211457 } }`,
    files: {
      "random-f4-F.npy": `np.asfortranarray(rng(2**128 + 1).random(105, np.float32)` +
        `.reshape(7, 5, 3).astype(">f4"))`,
    },
  },
  {
    yaml: `  - path: uniform.npy
    shape: [4099]
    dtype: float16
    fill: { uniform: { seed: [1, 2, 3], low: -2.5, high: 7 } }`,
    files: { "uniform.npy": `rng([1, 2, 3]).uniform(-2.5, 7, 4099).astype(np.float16)` },
  },
  {
    yaml: `  - path: labels.npy
    shape: 5000
    dtype: int64
    fill: { integers: { seed: 8, low: 0, high: 10 } }
  - path: mask.npy
    shape: [33, 7]
    dtype: bool
    fill: { integers: { seed: 9, low: 0, high: 1, endpoint: true } }
  - path: bytes.npy
    shape: [2, 3, 4, 5, 6]
    dtype: uint8
    fill: { integers: { seed: 10, low: 3, high: 250 } }`,
    files: {
      "labels.npy": `rng(8).integers(0, 10, size=5000)`,
      "mask.npy": `rng(9).integers(0, 1, size=231, dtype=np.bool_, endpoint=True).reshape(33, 7)`,
      "bytes.npy": `rng(10).integers(3, 250, size=720, dtype=np.uint8).reshape(2, 3, 4, 5, 6)`,
    },
  },
  {
    yaml: `  - path: normal-f4.npy
    shape: [20001]
    dtype: float32
    fill: { standard_normal: { seed: 11 } }
  - path: normal.npy
    shape: []
    dtype: float64
    fill: { normal: { seed: 12, loc: -3, scale: 0.25 } }`,
    files: {
      "normal-f4.npy": `rng(11).standard_normal(20001, np.float32)`,
      "normal.npy": `rng(12).normal(-3, 0.25, 1).reshape(())`,
    },
  },
  {
    yaml: `  - path: index.npy
    shape: [10, 10]
    dtype: ">i4"
    order: F
    fill: { arange: { start: -50, step: 3 } }
  - path: days.npy
    shape: 40
    dtype: "datetime64[D]"
    fill: { arange: { start: "2026-12-01", step: 7 } }
  - path: grid.npy
    shape: [0, 4]
    dtype: float64
    fill: { linspace: { start: 0, stop: 1 } }
  - path: steps.npy
    shape: 9
    dtype: uint8
    fill: { linspace: { start: 0, stop: 60, endpoint: false } }`,
    files: {
      "index.npy":
        `np.asfortranarray(np.arange(-50, -50 + 101 * 3, 3, ">i4")[:100].reshape(10, 10))`,
      "days.npy":
        `np.arange(np.datetime64("2026-12-01"), np.datetime64("2026-12-01") + 41 * 7, 7)[:40]`,
      "grid.npy": `np.linspace(0, 1, 0).reshape(0, 4)`,
      "steps.npy": `np.linspace(0, 60, 9, endpoint=False, dtype=np.uint8)`,
    },
  },
];

const MANIFEST = `version: 1
root: out
arrays:
${ARRAYS.map((a) => a.yaml).join("\n")}
`;
const EXPECTED: Record<string, string> = Object.assign({}, ...ARRAYS.map((a) => a.files));

/** Whether each file equals what `np.save` writes for its expression, byte for byte. */
function sameAsNumpy(folder: string): Record<string, boolean> {
  return runPythonJson<Record<string, boolean>>(
    `import io, os
rng = np.random.default_rng
out = {}
for name, expr in json.load(sys.stdin).items():
    buf = io.BytesIO()
    np.save(buf, eval(expr))
    with open(os.path.join(${JSON.stringify(folder)}, name), "rb") as f:
        out[name] = f.read() == buf.getvalue()
print(json.dumps(out))`,
    JSON.stringify(EXPECTED),
  );
}

function workFolder(name: string, manifest = MANIFEST): { work: string; manifest: string } {
  const work = path.join(dir, name);
  fs.mkdirSync(work);
  fs.writeFileSync(path.join(work, "manifest.yaml"), manifest);
  return { work, manifest: path.join(work, "manifest.yaml") };
}

function filesOf(folder: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of fs.readdirSync(folder).sort()) {
    if (name.endsWith(".npy")) out[name] = fs.readFileSync(path.join(folder, name)).toString("hex");
  }
  return out;
}

describe("generated fills through `npyalloc run`", () => {
  const one = workFolder("one");

  test("every generator writes what np.save writes for its NumPy expression", () => {
    const run = runCliProcess(["run", one.manifest, "-j", "3"]);
    assert.equal(run.status, 0, run.stderr);
    const out = path.join(one.work, "out");
    assert.deepEqual(Object.keys(filesOf(out)), Object.keys(EXPECTED).sort());
    const same = sameAsNumpy(out);
    const differing = Object.entries(same).filter(([, ok]) => !ok).map(([name]) => name);
    assert.deepEqual(differing, []);
  });

  test("the report echoes each fill as the manifest gives it, allocated by writing", () => {
    const report = JSON.parse(
      fs.readFileSync(path.join(one.work, "npyalloc-report.json"), "utf8"),
    );
    const byPath = new Map<string, Record<string, unknown>>(
      report.arrays.map((a: Record<string, unknown>) => [a.path, a]),
    );
    assert.deepEqual(byPath.get("random-2.npy")?.fill, { random: { seed: "2" } });
    assert.deepEqual(byPath.get("uniform.npy")?.fill, {
      uniform: { seed: [1, 2, 3], low: -2.5, high: 7 },
    });
    // A seed past 2^53 is written as the exact JSON number (Python's json reads it back exactly).
    assert.match(
      fs.readFileSync(path.join(one.work, "npyalloc-report.json"), "utf8"),
      /"seed": ?340282366920938463463374607431768211457\b/,
    );
    for (const a of byPath.values()) {
      assert.equal(a.allocation, "write", String(a.path));
      assert.equal(a.allocated_by, "write", String(a.path));
    }
  });

  test("a second run finds every file unchanged; verify --deep passes", () => {
    const again = runCliProcess(["run", one.manifest]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /0 created, 14 unchanged/);
    const verify = runCliProcess(["verify", one.manifest, "--deep"]);
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  });

  test("shards 0/2 and 1/2 together write the bytes of one run", () => {
    const sharded = workFolder("sharded");
    for (const shard of ["0/2", "1/2"]) {
      const run = runCliProcess(["run", sharded.manifest, "--shard", shard, "-j", "1"]);
      assert.equal(run.status, 0, run.stderr);
    }
    assert.deepEqual(filesOf(path.join(sharded.work, "out")), filesOf(path.join(one.work, "out")));
  });

  test("verify --deep names the first element that differs from the generator", () => {
    const changed = workFolder("changed");
    assert.equal(runCliProcess(["run", changed.manifest]).status, 0);
    const file = path.join(changed.work, "out", "labels.npy");
    const bytes = fs.readFileSync(file);
    // Element 1234 of int64 labels, after the 128-byte header: rng(8).integers(0, 10) is never 77.
    bytes[128 + 1234 * 8] = 77;
    fs.writeFileSync(file, bytes);
    const verify = runCliProcess(["verify", changed.manifest, "--deep"]);
    assert.equal(verify.status, 1, verify.stdout + verify.stderr);
    assert.match(verify.stdout + verify.stderr, /labels\.npy.*element 1234\b/);
    assert.doesNotMatch(verify.stdout + verify.stderr, /random-0\.npy.*differ/);
  });
});

describe("generated fills: manifest errors at validation", () => {
  const CASES: { name: string; entry: string; message: RegExp; at: string }[] = [
    {
      name: "an unknown generator",
      entry: "    fill: { randon: { seed: 1 } }",
      message: /Unknown generated fill 'randon' \(did you mean 'random'\?\)/,
      at: "7:",
    },
    {
      name: "an unknown key",
      entry: "    fill: { random: { seed: 1, sead: 2 } }",
      message: /sead/,
      at: "7:",
    },
    {
      name: "a missing seed",
      entry: "    fill: { random: {} }",
      message: /seed/,
      at: "7:",
    },
    {
      name: "a negative seed",
      entry: "    fill: { random: { seed: -1 } }",
      message: /seed/,
      at: "7:",
    },
    {
      name: "a seed that is not an integer",
      entry: "    fill: { random: { seed: 1.5 } }",
      message: /seed/,
      at: "7:",
    },
    {
      name: "a dtype the generator does not take",
      entry: "    dtype: complex128\n    fill: { random: { seed: 1 } }",
      message: /complex128|<c16/,
      at: "",
    },
    {
      name: "low >= high",
      entry: "    dtype: int32\n    fill: { integers: { seed: 1, low: 5, high: 5 } }",
      message: /low.*high/,
      at: "",
    },
    {
      name: "an arange that would wrap",
      entry: "    dtype: uint8\n    fill: { arange: { start: 250, step: 1 } }",
      message: /uint8|\|u1|wrap|fit/,
      at: "",
    },
    {
      name: "sparse with a generated fill",
      entry: "    allocation: sparse\n    fill: { random: { seed: 1 } }",
      message: /sparse/,
      at: "",
    },
    {
      name: "reserve with a generated fill",
      entry: "    allocation: reserve\n    fill: { random: { seed: 1 } }",
      message: /reserve/,
      at: "",
    },
    {
      name: "order F where the generator refuses it",
      entry: "    order: F\n    fill: { standard_normal: { seed: 1 } }",
      message: /order/,
      at: "",
    },
  ];
  for (const c of CASES) {
    test(c.name, () => {
      const text = `version: 1
arrays:
  - path: a.npy
    shape: [10, 2]
    # the entry under test
${c.entry.includes("dtype:") ? "" : "    dtype: float64\n"}${c.entry}
`;
      const { work, manifest } = workFolder(`error-${c.name.replaceAll(/\W+/g, "-")}`, text);
      for (const command of ["validate", "run"]) {
        const run = runCliProcess([command, manifest]);
        assert.equal(run.status, 2, `${command}: ${run.stderr}`);
        const lines = run.stderr.trim().split("\n").filter((l) => l.includes("manifest.yaml:"));
        assert.equal(lines.length, 1, run.stderr);
        assert.match(lines[0]!, new RegExp(`manifest\\.yaml:${c.at || "\\d+:"}\\d+`));
        assert.match(lines[0]!, c.message);
      }
      assert.equal(fs.existsSync(path.join(work, "a.npy")), false);
    });
  }
});

test("a Deno without --allow-ffi refuses normal draws rather than write other bytes", () => {
  // Deno runs here under either test runtime: the refusal is Deno's own.
  const { work, manifest } = workFolder(
    "no-ffi",
    `version: 1
arrays:
  - path: noise.npy
    shape: 100
    dtype: float32
    fill: { standard_normal: { seed: 3 } }
  - path: features.npy
    shape: 100
    dtype: float32
    fill: { random: { seed: 3 } }
`,
  );
  const deno = path.join(ROOT, "node_modules", ".bin", "deno");
  const run = spawnSync(
    deno,
    [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      path.join(ROOT, "src", "cli.ts"),
      "run",
      manifest,
    ],
    { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } },
  );
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /noise\.npy.*standard_normal.*--allow-ffi/);
  assert.deepEqual(fs.readdirSync(work), ["manifest.yaml"]);
});
