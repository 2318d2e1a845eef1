// Property-based tests of the manifest loader and the `run` command with fast-check: manifests
// are generated (random YAML values, wrong types, huge numbers, nesting, unicode, NUL and
// control characters in paths, foreach, interpolation, format specs) and mutated as text. Every
// case either loads, with every target inside the root, or fails with a clean ManifestError whose
// every line says where; never another exception, never slowly. A smaller number of cases goes
// through the real CLI: exit 2 exactly when the loader refuses the manifest, otherwise a clean
// 0, 1 or 3; never a stack trace; never a file outside the root.
//
// FUZZ_RUNS (default 2000) sets the in-process cases per property, FUZZ_CLI_RUNS (default 30,
// or FUZZ_RUNS / 50 when that is larger) the CLI cases, FUZZ_SEED (default 20240601) the seed.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import fc from "fast-check";
import { stringify } from "yaml";
import { loadManifest, ManifestError } from "../src/manifest/mod.ts";
import type { LoadedManifest } from "../src/manifest/types.ts";
import { listFiles } from "./_support/temp.ts";
import { readReport } from "./_support/report.ts";
import { runCli } from "./_support/cli.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
const CLI_RUNS = Number(process.env.FUZZ_CLI_RUNS ?? Math.max(30, Math.floor(RUNS / 50)));
const SEED = Number(process.env.FUZZ_SEED ?? 20240601);
/** A case that takes longer than this counts as a hang. */
const MAX_MS_PER_CASE = 2000;
/** Bun stops a test after 5 s unless told otherwise. */
const TIMEOUT_MS = 60_000 + RUNS * 20 + CLI_RUNS * 3000;
const MAX_ARRAYS = 2000;

const base = fs.mkdtempSync(path.join(os.tmpdir(), "npyalloc-fuzz-manifest-"));
after(() => fs.rmSync(base, { recursive: true, force: true }));
let counter = 0;

// ------------------------------------------------------------------ generators

/** Strings a hostile or careless user writes where a path, a name or a value goes. */
const NASTY_STRINGS = [
  "",
  ".",
  "..",
  "../x.npy",
  "a/../../x.npy",
  "/etc/x.npy",
  "C:\\x.npy",
  "a\\b.npy",
  "a\u0000b.npy",
  "line\nbreak.npy",
  "tab\t.npy",
  "esc\u001b[31m.npy",
  "del\u007f.npy",
  "\u202ertl.npy",
  "\ufeffbom.npy",
  "😀/🎉.npy",
  "é".repeat(130) + ".npy",
  "x".repeat(256) + ".npy",
  "d/".repeat(2100) + "x.npy",
  ".npy",
  "x.NPY",
  "a//b/./c.npy",
  "~/x.npy",
  "${X}",
  "${X:-3}",
  "${X:?no X}",
  "${",
  "$${X}",
  "${HOME}/x.npy",
  "{i}",
  "{i:03d}.npy",
  "{i:>9999999999d}.npy",
  "{i:0999d}.npy",
  "{j}",
  "{{}}",
  "}",
  "{",
  "nan",
  ".inf",
  "-.inf",
  "NaT",
  "0x10",
  "1e400",
  "-0",
  "9223372036854775808",
  "99999999999999999999999999999",
  "float32",
  "<f8",
  "S10",
  "U0",
  "object",
  "M8[ns]",
  "m8[ms/2]",
  "[('a', '<f4')]",
  "i4, (2,3)f8",
];

const scalar: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.string({ maxLength: 8 }),
  fc.integer({ min: -5, max: 100 }),
  fc.bigInt({ min: -(1n << 80n), max: 1n << 80n }),
  fc.constantFrom(0, 1, -1, 2 ** 53, 2 ** 63, -(2 ** 63), 1e308, 0.5, -0.0),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);

/** Any YAML value: scalars, lists and mappings, nested a few levels (deep nesting is in fault_input_test). */
const anyValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalar,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(
      fc.oneof(fc.constantFrom("a", "path", "shape", "range", ""), fc.string()),
      tie("value"),
      {
        maxKeys: 4,
      },
    ),
  ),
})).value;

const DTYPES = [
  "float32",
  "<f8",
  ">i2",
  "uint8",
  "bool",
  "complex64",
  "<c16",
  "longdouble",
  "S5",
  "U3",
  "V4",
  "M8[ns]",
  "datetime64[D]",
  "m8[s]",
  "i4, (2,3)f8",
  "float7",
  "object",
  "S",
];

const dtype: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...DTYPES) },
  fc.constant([["a", "<f4"], ["b", "<i8", [2]]]),
  fc.constant([["x", [["y", "u1"], ["z", "M8[s]"]], [2, 2]]]),
  anyValue,
);

const dimension: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 6 }) },
  fc.constantFrom("${N}", "{i}", "3", "-1", 1n << 62n, 1n << 64n, 2 ** 53, "1_000"),
  scalar,
);

const shape: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.array(dimension, { maxLength: 4 }) },
  dimension,
  anyValue,
);

const fill: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    0,
    1,
    -1,
    255,
    1.5,
    "nan",
    ".inf",
    true,
    [1, 2],
    { a: 1, b: [1, 2] },
    "NaT",
    "2024-01-01",
    "hi",
    1n << 64n,
  ),
  scalar,
  anyValue,
);

const foreach: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({
    i: fc.constantFrom({ range: [0, 3] }, { range: [5, 0, -2] }, [1, 2, "x"], {
      range: [0, 10 ** 12],
    }),
  }),
  fc.record({
    i: fc.constantFrom({ range: [0, 2] }, ["a", "b"]),
    j: fc.constantFrom({ range: [0, 3] }, { range: [0, 1, 0] }, { range: ["${N}"] }),
  }),
  anyValue,
);

const arrayPath: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "a.npy",
      "d/e/f.npy",
      "p{i}.npy",
      "q/{i:02d}-{j}.npy",
      "${NAME}.npy",
    ),
  },
  fc.constantFrom(...NASTY_STRINGS),
  fc.string({ unit: "binary", maxLength: 20 }).map((s) => `${s}.npy`),
  scalar,
);

/** A valid `arrays` entry: the starting point that corruptions and edits then damage. */
const validEntry: fc.Arbitrary<Record<string, unknown>> = fc.record({
  template: fc.constantFrom(
    { path: "a.npy" },
    { path: "d/e/f.npy" },
    { path: "p{i}.npy", foreach: { i: { range: [0, 3] } } },
    { path: "q/{i:02d}-{j}.npy", foreach: { i: { range: [5, 0, -2] }, j: ["x", "y"] } },
    { path: "${NAME}.npy" },
    { path: "r{i}.npy", foreach: { i: [1, 3] }, shape: ["{i}", "${N}"] },
  ),
  shape: fc.oneof(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }), fc.constant("${N}")),
  dtype: fc.constantFrom(
    "float32",
    "<f8",
    ">i2",
    "uint8",
    "bool",
    "complex64",
    "S5",
    "U3",
    "M8[ns]",
    "m8[s]",
    "i4, (2,3)f8",
    [["a", "<f4"], ["b", "<i8", [2]]],
  ),
  order: fc.constantFrom("C", "F"),
  allocation: fc.constantFrom("auto", "sparse", "reserve", "write"),
  header_version: fc.constantFrom("auto", "1.0", "2.0", "3.0"),
}, { requiredKeys: ["template", "shape"] }).map(({ template, ...rest }) => ({
  ...rest,
  ...template,
}));

/** A valid manifest as a value; `root` is left to the caller. */
const validManifest: fc.Arbitrary<Record<string, unknown>> = fc.record({
  defaults: fc.constantFrom({}, { dtype: "float32" }, { order: "F", allocation: "write" }),
  arrays: fc.array(validEntry, { minLength: 1, maxLength: 4 }),
}).map(({ defaults, arrays }) => ({
  version: 1,
  vars: { N: 4, NAME: "named", X: "x" },
  defaults,
  // A folder per entry keeps their paths apart.
  arrays: arrays.map((a, k) => ({ ...a, path: `e${k}/${a.path}` })),
}));

/** A damage to a manifest value: a value replaced, a key removed, a key added. */
const corruption = fc.record({
  at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
  kind: fc.constantFrom("replace", "replace", "remove", "add"),
  key: fc.oneof(
    fc.constantFrom(
      "path",
      "shape",
      "dtype",
      "fill",
      "foreach",
      "range",
      "root",
      "shap",
      "__proto__",
    ),
    fc.string(),
  ),
  value: fc.oneof(scalar, anyValue, fill, dtype, shape, foreach, arrayPath),
});

/** Every place in a value (as the list of keys that leads there), the value itself first. */
function places(value: unknown, at: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(at);
  if (Array.isArray(value)) value.forEach((v, i) => places(v, [...at, i], out));
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) places(v, [...at, k], out);
  }
  return out;
}

interface Damage {
  readonly at: number;
  readonly kind: string;
  readonly key: string;
  readonly value: unknown;
}

function corrupt(value: Record<string, unknown>, damages: readonly Damage[]): unknown {
  let root: unknown = structuredClone(value);
  for (const d of damages) {
    const all = places(root);
    const where = all[Math.floor(d.at * all.length)]!;
    if (where.length === 0 && d.kind === "replace") {
      root = structuredClone(d.value);
      continue;
    }
    const parentPath = d.kind === "add" ? where : where.slice(0, -1);
    let parent: unknown = root;
    for (const k of parentPath) parent = (parent as Record<string | number, unknown>)[k];
    if (parent === null || typeof parent !== "object") continue;
    const container = parent as Record<string | number, unknown>;
    const key = d.kind === "add" ? (Array.isArray(parent) ? parent.length : d.key) : where.at(-1)!;
    if (d.kind === "remove") {
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete container[key];
    } else {
      // An own property even for `__proto__`.
      const value = structuredClone(d.value); // fast-check hands out shared constants
      Object.defineProperty(container, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return root;
}

/** A manifest value: a valid one, damaged a few times (or not at all). */
const manifestValue: fc.Arbitrary<unknown> = fc.tuple(
  validManifest,
  fc.oneof(fc.constant([]), fc.array(corruption, { minLength: 1, maxLength: 3 })),
).map(([value, damages]) => corrupt(value, damages));

/** An edit of the YAML text: insert, delete or replace a few characters. */
const edit = fc.record({
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  remove: fc.integer({ min: 0, max: 6 }),
  insert: fc.oneof(
    fc.constantFrom(
      "",
      ":",
      "- ",
      "  ",
      "\n",
      "&a ",
      "*a",
      "!!binary ",
      "[",
      "{",
      "'",
      '"',
      "#",
      "? ",
      "${",
      "{i}",
      "\t",
      "\u0000",
      "..",
      "/",
    ),
    fc.string({ unit: "binary", maxLength: 4 }),
  ),
});

function applyEdits(
  text: string,
  edits: readonly { at: number; remove: number; insert: string }[],
): string {
  let out = text;
  for (const e of edits) {
    const at = Math.floor(e.at * out.length);
    out = out.slice(0, at) + e.insert + out.slice(at + e.remove);
  }
  return out;
}

function yamlOf(value: unknown): string {
  return stringify(value, { lineWidth: 0 });
}

// ------------------------------------------------------------------ the properties

/** A fresh case folder with `m.yaml` holding `text`. */
function writeCase(text: string): { dir: string; file: string } {
  const dir = path.join(base, `c${counter++}`);
  fs.mkdirSync(dir);
  const file = path.join(dir, "m.yaml");
  fs.writeFileSync(file, text);
  return { dir, file };
}

/** The one manifest file of the in-process cases (nothing is ever written beside it). */
function rewrite(text: string): string {
  const file = path.join(base, "in-process", "m.yaml");
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

/** Loads a manifest; the only exception allowed is a ManifestError. */
async function load(file: string): Promise<LoadedManifest | ManifestError> {
  const started = performance.now();
  let result: LoadedManifest | ManifestError;
  try {
    result = await loadManifest(file, { maxArrays: MAX_ARRAYS, env: { HOME: "/home/fuzz" } });
  } catch (err) {
    if (!(err instanceof ManifestError)) {
      assert.fail(`not a ManifestError: ${err instanceof Error ? err.stack : String(err)}`);
    }
    result = err;
  }
  const took = performance.now() - started;
  assert.ok(took < MAX_MS_PER_CASE, `loading took ${took.toFixed(0)} ms`);
  return result;
}

/** What a loaded manifest or its error must look like. */
function checkOutcome(file: string, outcome: LoadedManifest | ManifestError): void {
  if (outcome instanceof ManifestError) {
    assert.equal(outcome.code, "E_MANIFEST");
    assert.ok(outcome.problems.length > 0);
    for (const line of outcome.message.split("\n")) {
      assert.ok(
        line.startsWith(`${file}:`) || /^Stopped after \d+ problems$/.test(line),
        `a problem line that does not say where: ${JSON.stringify(line)}`,
      );
      assert.doesNotMatch(line, /\[object Object\]|Maximum call stack|TypeError|RangeError/);
    }
    return;
  }
  const inside = (folder: string, file: string) => {
    const relative = path.relative(folder, file);
    return !relative.startsWith("..") && !path.isAbsolute(relative);
  };
  const realRoot = realPlace(outcome.root);
  for (const array of outcome.arrays) {
    assert.ok(inside(outcome.root, array.target), `${array.target} is outside the root`);
    const real = realPlace(path.dirname(array.target));
    assert.ok(inside(realRoot, real), `${array.target} leads outside the root`);
    assert.ok(array.path.endsWith(".npy"));
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(array.path, /[\u0000-\u001f\u007f]/);
    assert.ok(array.layout.dataBytes < 1n << 63n);
    assert.ok(array.layout.fileBytes <= BigInt(Number.MAX_SAFE_INTEGER));
  }
}

/** Where a folder really is: its nearest existing ancestor through its links, and the rest. */
function realPlace(folder: string): string {
  let existing = folder;
  while (!fs.existsSync(existing)) existing = path.dirname(existing);
  return path.join(fs.realpathSync(existing), path.relative(existing, folder));
}

/** The manifest's YAML with `root` set, first (whatever root the damages left is dropped). */
function manifestText(value: unknown, root: unknown): string {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return yamlOf(value);
  const { root: _dropped, ...rest } = value as Record<string, unknown>;
  return yamlOf({ root, ...rest });
}

describe("fuzzing the manifest loader (in-process)", () => {
  test(`${RUNS} generated manifests (seed ${SEED}): load, or a clean ManifestError`, {
    timeout: TIMEOUT_MS,
  }, async () => {
    const root = fc.oneof(
      { weight: 4, arbitrary: fc.constant("out") },
      fc.constantFrom("..", "/", ".", "m.yaml", "${X}"),
      scalar,
    );
    await fc.assert(
      fc.asyncProperty(manifestValue, root, async (value, r) => {
        const file = rewrite(manifestText(value, r));
        checkOutcome(file, await load(file));
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  test(`${RUNS} manifests mutated as text (seed ${SEED}): load, or a clean ManifestError`, {
    timeout: TIMEOUT_MS,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(
        manifestValue,
        fc.array(edit, { minLength: 1, maxLength: 4 }),
        async (value, edits) => {
          const file = rewrite(applyEdits(manifestText(value, "out"), edits));
          checkOutcome(file, await load(file));
        },
      ),
      { numRuns: RUNS, seed: SEED + 1 },
    );
  });
});

describe("fuzzing `npyalloc run` through the real CLI", () => {
  test(
    `${CLI_RUNS} manifests (seed ${SEED}): exit 2 exactly when invalid, no stack trace, nothing outside the root`,
    {
      timeout: TIMEOUT_MS,
    },
    async () => {
      // Keep every case small: only the last 256 MiB of the filesystem may be used.
      const free = fs.statfsSync(base, { bigint: true });
      const available = free.bavail * free.bsize;
      const minFree = available > 1n << 30n ? available - (256n << 20n) : 0n;
      const before = fs.readdirSync(base).length;
      await fc.assert(
        fc.asyncProperty(manifestValue, fc.array(edit, { maxLength: 2 }), async (value, edits) => {
          // The root stays `out` (edits only touch the arrays), so that it is inside the case folder.
          const text = manifestText(value, "out");
          const split = text.indexOf("arrays:");
          const mutated = split < 0
            ? text
            : text.slice(0, split) + applyEdits(text.slice(split), edits);
          const { dir, file } = writeCase(mutated);
          const expected = await load(file);
          const run = await runCli([
            "run",
            file,
            "-q",
            "--no-fsync",
            "--min-free",
            String(minFree),
            "--max-arrays",
            String(MAX_ARRAYS),
          ], {
            env: { HOME: "/home/fuzz" },
          });
          const context = `${mutated}\n---\nexit ${run.status}: ${run.stderr}`;
          if (expected instanceof ManifestError) {
            assert.equal(run.status, 2, context);
          } else {
            assert.ok([0, 1, 3].includes(run.status ?? -1), context);
          }
          assert.doesNotMatch(run.stderr, /\n\s+at |internal error|\[object Object\]/, context);
          assert.equal(readReport(path.join(dir, "npyalloc-report.json")).exit_code, run.status);
          const stray = listFiles(dir).filter((f) =>
            f !== "m.yaml" && f !== "npyalloc-report.json" && !f.startsWith("out/")
          );
          assert.deepEqual(stray, [], context);
        }),
        { numRuns: CLI_RUNS, seed: SEED + 2 },
      );
      assert.equal(
        fs.readdirSync(base).length,
        before + CLI_RUNS,
        "nothing appeared beside the cases",
      );
      const inProcess = path.join(base, "in-process");
      if (fs.existsSync(inProcess)) assert.deepEqual(fs.readdirSync(inProcess), ["m.yaml"]);
    },
  );
});
