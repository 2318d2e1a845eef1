/**
 * Invalid manifests: one test per kind of bad input, each asserting the exact
 * `line:column`, JSON path and message a user sees.
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { formatProblem, loadManifest, ManifestError } from "../src/manifest/mod.ts";
import { problemsOf, problemsOfText, withManifest } from "./_support/manifest.ts";

const NO_ENV = { env: {} };

describe("schema problems", () => {
  test("unknown key at the key, with a suggestion", async () => {
    assert.deepEqual(
      await problemsOfText([
        "version: 1",
        "arrays:",
        "  - path: x.npy",
        "    shape: [3]",
        "    dtyp: int8",
      ]),
      ["5:5 arrays[0].dtyp: Unknown key 'dtyp' (did you mean 'dtype'?)"],
    );
  });

  test("unknown key at the top level that belongs in an array", async () => {
    assert.deepEqual(
      await problemsOfText(["version: 1", "dtype: int8", "arrays: []"]),
      [
        "2:1 dtype: Unknown key 'dtype' at the top level: array fields go under 'defaults' " +
        "or in an entry of 'arrays'",
      ],
    );
  });

  test("path and foreach cannot have defaults", async () => {
    assert.deepEqual(
      await problemsOfText(["version: 1", "defaults:", "  path: x.npy", "arrays: []"]),
      ["3:3 defaults.path: 'path' cannot have a default: set it in each entry of 'arrays'"],
    );
  });

  test("missing field at the mapping", async () => {
    assert.deepEqual(
      await problemsOfText(["version: 1", "arrays:", "  - path: x.npy", "    shap: [3]"]),
      [
        "3:5 arrays[0]: Missing required field 'shape'",
        "4:5 arrays[0].shap: Unknown key 'shap' (did you mean 'shape'?)",
      ],
    );
    assert.deepEqual(await problemsOfText(["arrays: []"]), [
      "1:1 : Missing required field 'version'",
    ]);
  });

  test("wrong type", async () => {
    assert.deepEqual(
      await problemsOfText(["version: 1", "arrays:", "  - path: x.npy", "    shape: true"]),
      ["4:12 arrays[0].shape: Must be a list of integers >= 0, or one integer, got true"],
    );
    assert.deepEqual(
      await problemsOfText(["version: 2", "arrays: { a: 1 }"]),
      [
        "1:10 version: Must be 1, got 2",
        "2:9 arrays: Must be a list of arrays, got a mapping",
      ],
    );
    assert.deepEqual(
      await problemsOfText(["- 1"]),
      ["1:1 : The manifest must be a mapping with 'version' and 'arrays', got a list of 1 item"],
    );
  });

  test("negative dimension", async () => {
    assert.deepEqual(
      await problemsOfText(["version: 1", "arrays:", "  - path: x.npy", "    shape: [3, -4]"]),
      ["4:16 arrays[0].shape[1]: Must be an integer >= 0, got -4"],
    );
  });

  test("bad enum values", async () => {
    assert.deepEqual(
      await problemsOfText([
        "version: 1",
        "arrays:",
        "  - path: x.npy",
        "    shape: 3",
        "    order: X",
        "    allocation: lots",
        "    header_version: 4",
      ]),
      [
        "5:12 arrays[0].order: Must be one of C, F, got 'X'",
        "6:17 arrays[0].allocation: Must be one of auto, sparse, reserve, write, got 'lots'",
        "7:21 arrays[0].header_version: Must be one of auto, 1.0, 2.0, 3.0, got 4",
      ],
    );
  });

  test("an interpolated enum value is checked once interpolated", async () => {
    assert.deepEqual(
      await problemsOfText(
        ["version: 1", "arrays:", "  - path: x.npy", "    shape: 3", "    order: ${ORDER}"],
        { vars: { ORDER: "K" } },
      ),
      ["5:12 arrays[0].order: Must be one of C, F, got 'K' (from '${ORDER}')"],
    );
  });

  test("path must end in .npy", async () => {
    assert.deepEqual(
      await problemsOfText(["version: 1", "arrays:", "  - path: x.txt", "    shape: 3"]),
      ["3:11 arrays[0].path: Must be a path ending in '.npy', got 'x.txt'"],
    );
    assert.deepEqual(
      await problemsOfText(["version: 1", "arrays:", "  - path: ${P}", "    shape: 3"], {
        vars: { P: "x.txt" },
      }),
      ["3:11 arrays[0].path: Path 'x.txt' must end in '.npy'"],
    );
  });

  test("invalid variable and placeholder names", async () => {
    assert.deepEqual(
      await problemsOfText([
        "version: 1",
        "vars:",
        "  1N: 3",
        "arrays:",
        "  - path: x{a-b}.npy",
        "    foreach: { a-b: [1] }",
        "    shape: 3",
      ]),
      [
        "3:3 vars[\"1N\"]: '1N' is not a valid variable name: use letters, digits and _, " +
        "not starting with a digit",
        "6:16 arrays[0].foreach[\"a-b\"]: 'a-b' is not a valid placeholder name: use letters, " +
        "digits and _, not starting with a digit",
      ],
    );
  });

  test("bad foreach range: too short, step 0", async () => {
    assert.deepEqual(
      await problemsOfText([
        "version: 1",
        "arrays:",
        "  - path: a{i}.npy",
        "    shape: 3",
        "    foreach: { i: { range: [5] } }",
      ]),
      [
        "5:28 arrays[0].foreach.i.range: Must be [start, stop] or [start, stop, step], " +
        "got a list of 1 item",
      ],
    );
    assert.deepEqual(
      await problemsOfText([
        "version: 1",
        "arrays:",
        "  - path: a{i}.npy",
        "    shape: 3",
        "    foreach: { i: { range: [0, 10, 0] } }",
      ]),
      ["5:36 arrays[0].foreach.i.range[2]: The step of a range must not be 0"],
    );
    assert.deepEqual(
      await problemsOfText([
        "version: 1",
        "arrays:",
        "  - path: a{i}.npy",
        "    shape: 3",
        "    foreach: { i: { rnge: [0, 1] } }",
      ]),
      [
        "5:19 arrays[0].foreach.i: Missing required field 'range'",
        "5:21 arrays[0].foreach.i.rnge: Unknown key 'rnge' (did you mean 'range'?)",
      ],
    );
  });
});

describe("YAML problems", () => {
  test("syntax error with its position", async () => {
    assert.deepEqual(await problemsOfText(["version: 1", "arrays: [1, 2", "foo: bar"]), [
      "3:1 : Invalid YAML: flow sequence in block collection must be sufficiently indented " +
      "and end with a ]",
    ]);
    assert.deepEqual(await problemsOfText(["version: 1", "arrays:", "\t- path: x.npy"]), [
      "3:1 : Invalid YAML: tabs are not allowed as indentation",
    ]);
    assert.deepEqual(await problemsOfText(["version: 1", "arrays: 'unclosed"]), [
      "3:1 : Invalid YAML: missing closing 'quote",
    ]);
  });

  test("duplicate key at the second one", async () => {
    assert.deepEqual(
      await problemsOfText([
        "version: 1",
        "arrays:",
        "  - path: x.npy",
        "    shape: [1]",
        "    shape: [2]",
      ]),
      ["5:5 arrays[0].shape: Duplicate key 'shape', first at line 4"],
    );
  });

  test("unknown alias", async () => {
    const problems = await problemsOfText([
      "version: 1",
      "arrays:",
      "  - path: x.npy",
      "    shape: *nope",
    ]);
    assert.deepEqual(problems, [
      "4:12 arrays[0].shape: Unknown YAML alias '*nope'",
      "4:12 arrays[0].shape: Must be a list of integers >= 0, or one integer, got null (no value)",
    ]);
  });

  test("alias bomb refused in well under a second", async () => {
    const lines = ["version: 1", 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 12; i++) {
      lines.push(`a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(",")}]`);
    }
    lines.push("arrays: []");
    const start = performance.now();
    const problems = await problemsOfText(lines);
    assert.ok(performance.now() - start < 1000, "took too long");
    assert.equal(problems.length, 1);
    assert.match(problems[0] as string, /YAML aliases are used more than 1000 times$/);
  });

  test("oversized manifest refused before it is read", async () => {
    await withManifest(["version: 1", "arrays: []"], async (file) => {
      const size = fs.statSync(file).size;
      try {
        await loadManifest(file, { maxManifestBytes: 10 });
        assert.fail("loaded");
      } catch (err) {
        assert.ok(err instanceof ManifestError);
        assert.equal(err.problems[0]?.location.line, 0);
        assert.equal(
          err.message,
          `${file}: The manifest is ${size} bytes, more than the limit of 10 bytes`,
        );
      }
    });
  });

  test("missing manifest file", async () => {
    await withManifest("", async (_file, dir) => {
      const missing = path.join(dir, "nope.yaml");
      assert.deepEqual(await problemsOf(missing), [
        "0:0 : Cannot read the manifest: no such file or folder (ENOENT)",
      ]);
    });
  });
});

describe("expansion problems", () => {
  test("too many arrays refused quickly, without building them", async () => {
    const start = performance.now();
    assert.deepEqual(
      await problemsOfText([
        "version: 1",
        "arrays:",
        "  - path: p{i}-{j}.npy",
        "    shape: 1",
        "    foreach: { i: { range: [0, 100000] }, j: { range: [0, 100000] } }",
      ]),
      [
        "5:14 arrays[0].foreach: The manifest expands to more than 1000000 arrays " +
        "(this entry alone makes 10000000000): raise the limit with --max-arrays",
      ],
    );
    assert.ok(performance.now() - start < 1000, "took too long");
  });

  test("maxArrays counts every entry; exactly the limit works", async () => {
    const lines = [
      "version: 1",
      "arrays:",
      "  - path: a{i}.npy",
      "    shape: 1",
      "    foreach: { i: [1, 2, 3] }",
      "  - path: b.npy",
      "    shape: 1",
      "  - path: c{i}.npy",
      "    shape: 1",
      "    foreach: { i: [1, 2] }",
    ];
    assert.deepEqual(await problemsOfText(lines, { maxArrays: 5 }), [
      "10:14 arrays[2].foreach: The manifest expands to more than 5 arrays " +
      "(this entry alone makes 2): raise the limit with --max-arrays",
    ]);
    await withManifest(lines, async (file) => {
      assert.equal((await loadManifest(file, { maxArrays: 6 })).arrays.length, 6);
    });
  });

  test("unknown placeholder", async () => {
    assert.deepEqual(
      await problemsOfText([
        "version: 1",
        "arrays:",
        "  - path: x-{j}.npy",
        "    shape: 1",
        "    foreach: { i: [1] }",
        "  - path: y{z}.npy",
        "    shape: 1",
      ]),
      [
        "3:11 arrays[0].path: Unknown placeholder '{j}': foreach defines 'i'",
        "6:11 arrays[1].path: Unknown placeholder '{z}': this entry has no foreach " +
        "(write '{{' and '}}' for literal braces)",
      ],
    );
  });

  test("unsupported format and unused placeholder", async () => {
    assert.deepEqual(
      await problemsOfText([
        "version: 1",
        "arrays:",
        "  - path: x-{i:.2f}.npy",
        "    shape: 1",
        "    foreach: { i: [1] }",
        "  - path: y{i}.npy",
        "    shape: 1",
        "    foreach: { i: [1, 2], j: [1, 2] }",
      ]),
      [
        "3:11 arrays[0].path: Unsupported format '{i:.2f}': use [[fill]align][0][width][type] " +
        "with type d, x, X, o, b or s, e.g. '{i:03d}'",
        "8:27 arrays[1].foreach.j: Placeholder 'j' is not used in path, so its arrays would " +
        "all have the same path",
      ],
    );
  });

  test("a problem of one foreach item names its values", async () => {
    assert.deepEqual(
      await problemsOfText([
        "version: 1",
        "arrays:",
        "  - path: p{i}.npy",
        "    foreach: { i: [2, -1, 3] }",
        '    shape: ["{i}"]',
        "  - path: q{n:d}.npy",
        "    foreach: { n: [1, two] }",
        "    shape: 1",
      ]),
      [
        "5:13 arrays[0]{i=-1}.shape[0]: Must be an integer >= 0, got -1 (from '{i}')",
        "6:11 arrays[1]{n=two}.path: Placeholder '{n:d}' needs an integer, got 'two'",
      ],
    );
  });
});

describe("interpolation problems", () => {
  const lines = ["version: 1", "arrays:", "  - path: x.npy", '    shape: ["${N}"]'];

  test("unset variable", async () => {
    assert.deepEqual(await problemsOfText(lines, NO_ENV), [
      "4:13 arrays[0].shape[0]: Variable 'N' is not set: give it with --var N=VALUE, " +
      "in vars, or in the environment",
    ]);
  });

  test("${X:?message}", async () => {
    assert.deepEqual(
      await problemsOfText([
        "version: 1",
        "arrays:",
        '  - path: "${OUT:?set OUT to the output folder}/x.npy"',
        "    shape: 1",
      ], NO_ENV),
      ["3:11 arrays[0].path: Variable 'OUT' is not set: set OUT to the output folder"],
    );
  });

  test("shape entries must interpolate to decimal integers", async () => {
    assert.deepEqual(await problemsOfText(lines, { vars: { N: "12.5" } }), [
      "4:13 arrays[0].shape[0]: Must be an integer >= 0, got '12.5' (from '${N}')",
    ]);
    assert.deepEqual(await problemsOfText(lines, { vars: { N: "-3" } }), [
      "4:13 arrays[0].shape[0]: Must be an integer >= 0, got -3 (from '${N}')",
    ]);
  });

  test("$NAME without braces, unclosed ${", async () => {
    assert.deepEqual(
      await problemsOfText(["version: 1", "root: $HOME/x", "arrays: []"]),
      ["2:7 root: '$HOME' is not interpolated: write '${HOME}', or '$$' for a literal '$'"],
    );
    assert.deepEqual(
      await problemsOfText(["version: 1", "root: ${HOME", "arrays: []"]),
      ["2:7 root: '${HOME' must be followed by '}', ':-default' or ':?message'"],
    );
  });

  test("vars may only use the vars above them", async () => {
    assert.deepEqual(
      await problemsOfText([
        "version: 1",
        "vars:",
        '  A: "${B}"',
        "  B: x",
        "arrays: []",
      ], NO_ENV),
      ["3:6 vars.A: Variable 'B' is not set: vars may only use the vars defined above them"],
    );
  });
});

describe("path problems", () => {
  const entry = (p: string) => ["version: 1", "arrays:", `  - path: ${p}`, "    shape: 1"];

  test("'..' that leaves the root", async () => {
    assert.deepEqual(await problemsOfText(entry("a/../../x.npy")), [
      "3:11 arrays[0].path: Path 'a/../../x.npy' leaves the root folder through '..' " +
      "(or use --allow-outside-root)",
    ]);
    await withManifest(entry("../x.npy"), async (file, dir) => {
      const manifest = await loadManifest(file, { allowOutsideRoot: true });
      assert.equal(manifest.arrays[0]?.target, path.join(path.dirname(dir), "x.npy"));
    });
  });

  test("absolute path", async () => {
    assert.deepEqual(await problemsOfText(entry("/tmp/x.npy")), [
      "3:11 arrays[0].path: Path '/tmp/x.npy' is absolute: paths are relative to root " +
      "(or use --allow-outside-root)",
    ]);
  });

  test("control characters", async () => {
    assert.deepEqual(await problemsOfText(entry('"a\\tb.npy"')), [
      '3:11 arrays[0].path: Path "a\\tb.npy" contains a control character (U+0009)',
    ]);
  });

  test("symbolic link to a folder outside the root", async () => {
    await withManifest(
      ["version: 1", "root: data", "arrays:", "  - path: link/sub/x.npy", "    shape: 1"],
      async (file, dir) => {
        const outside = path.join(dir, "outside");
        fs.mkdirSync(outside);
        fs.mkdirSync(path.join(dir, "data"));
        fs.symlinkSync(outside, path.join(dir, "data", "link"));
        assert.deepEqual(await problemsOf(file), [
          `4:11 arrays[0].path: Folder 'link' is a symbolic link to '${outside}', ` +
          "outside the root folder (or use --allow-outside-root)",
        ]);
        const manifest = await loadManifest(file, { allowOutsideRoot: true });
        assert.equal(manifest.arrays[0]?.target, path.join(dir, "data", "link", "sub", "x.npy"));
        // A link that stays inside the root is fine.
        fs.mkdirSync(path.join(dir, "data", "real"));
        fs.rmSync(path.join(dir, "data", "link"));
        fs.symlinkSync(path.join(dir, "data", "real"), path.join(dir, "data", "link"));
        assert.equal((await loadManifest(file)).arrays.length, 1);
      },
    );
  });

  test("existing target that is a symbolic link outside the root", async () => {
    await withManifest(entry("x.npy"), async (file, dir) => {
      fs.mkdirSync(path.join(dir, "elsewhere"));
      const root = path.join(dir, "r");
      fs.mkdirSync(root);
      fs.writeFileSync(path.join(dir, "r", "m.yaml"), fs.readFileSync(file));
      fs.symlinkSync(path.join(dir, "elsewhere", "x.npy"), path.join(root, "x.npy"));
      assert.deepEqual(await problemsOf(path.join(root, "m.yaml")), [
        `3:11 arrays[0].path: Path 'x.npy' is a symbolic link to '${
          path.join(dir, "elsewhere", "x.npy")
        }', outside the root folder (or use --allow-outside-root)`,
      ]);
    });
  });

  test("a file where a folder should be", async () => {
    await withManifest(entry("f/x.npy"), async (file, dir) => {
      fs.writeFileSync(path.join(dir, "f"), "");
      assert.deepEqual(await problemsOf(file), [
        "3:11 arrays[0].path: 'f' is a file, not a folder",
      ]);
    });
  });

  test("root that is a file", async () => {
    assert.deepEqual(
      (await problemsOfText(["version: 1", "root: m.yaml", "arrays: []"])).map((p) =>
        p.replace(/'.*'/, "'M'")
      ),
      ["2:7 root: 'M' is a file, not a folder"],
    );
  });

  test("duplicate path at the second occurrence, after normalisation", async () => {
    assert.deepEqual(
      await problemsOfText([
        "version: 1",
        "arrays:",
        "  - path: a/x.npy",
        "    shape: [1]",
        "  - path: a/./x.npy",
        "    shape: [2]",
        "  - path: b{i}.npy",
        "    foreach: { i: [1, 1] }",
        "    shape: [2]",
      ]),
      [
        "5:11 arrays[1].path: Duplicate path 'a/x.npy', first declared at line 3",
        "7:11 arrays[2]{i=1}.path: Duplicate path 'b1.npy', first declared at line 7 " +
        "(arrays[2]{i=1})",
      ],
    );
  });
});

describe("layout problems at the node that caused them", () => {
  const entry = (...fields: string[]) => [
    "version: 1",
    "arrays:",
    "  - path: x.npy",
    ...fields.map((f) => `    ${f}`),
  ];

  test("bad dtype", async () => {
    assert.deepEqual(await problemsOfText(entry("shape: 1", "dtype: float7")), [
      "5:12 arrays[0].dtype: Cannot parse dtype 'float7': data type not understood (did you mean 'float'?)",
    ]);
  });

  test("fill that does not fit", async () => {
    assert.deepEqual(await problemsOfText(entry("shape: 1", "dtype: uint8", "fill: 300")), [
      "6:11 arrays[0].fill: Fill 300 does not fit dtype '|u1' (0 to 255)",
    ]);
    assert.deepEqual(
      await problemsOfText(entry("shape: 1", "dtype: uint64", "fill: 18446744073709551616")),
      [
        "6:11 arrays[0].fill: Fill 18446744073709551616 does not fit dtype '<u8' " +
        "(0 to 18446744073709551615)",
      ],
    );
  });

  test("sparse with a non-zero fill, at the allocation", async () => {
    assert.deepEqual(await problemsOfText(entry("shape: 1", "fill: 1", "allocation: sparse")), [
      "6:17 arrays[0].allocation: Allocation 'sparse' leaves the data as zeros, but the fill " +
      "is not zero: use 'write' or 'auto'",
    ]);
  });

  test("size past 2^63, with exact dimensions", async () => {
    assert.deepEqual(await problemsOfText(entry("shape: [4611686018427387904, 4]")), [
      "4:12 arrays[0].shape: Shape (4611686018427387904, 4) with 8-byte items is larger " +
      "than the 2^63 bytes a .npy file can hold",
    ]);
  });

  test("a header version that cannot hold the header, at header_version", async () => {
    assert.deepEqual(
      await problemsOfText(entry("shape: 1", "dtype: [[名, f4]]", "header_version: 1.0")),
      [
        "6:21 arrays[0].header_version: Cannot write header format 1.0: the header has " +
        "characters outside latin-1 (use 3.0)",
      ],
    );
  });

  test("a file larger than npyalloc writes", async () => {
    assert.deepEqual(await problemsOfText(entry("shape: [1152921504606846976]", "dtype: u1")), [
      "4:12 arrays[0].shape: Array |u1 of 1152921504606846976 bytes is larger than the 8 PiB " +
      "npyalloc can write",
    ]);
  });

  test("a value from defaults is blamed at defaults, once", async () => {
    assert.deepEqual(
      await problemsOfText([
        "version: 1",
        "defaults:",
        "  dtype: uint8",
        "  fill: 300",
        "arrays:",
        "  - path: a.npy",
        "    shape: [1]",
        "  - path: b.npy",
        "    shape: [1]",
      ]),
      ["4:9 defaults.fill: Fill 300 does not fit dtype '|u1' (0 to 255) (inherited by arrays[0])"],
    );
  });
});

describe("many problems", () => {
  const lines = [
    "version: 1",
    "arrays:",
    "  - path: a.npy",
    "    shape: [-1]",
    "  - path: b.npy",
    "    shape: 1",
    "    dtype: float7",
    "  - path: c.npy",
    "    shape: 1",
    "    order: Q",
    "  - path: ../d.npy",
    "    shape: 1",
  ];

  test("all at once, ordered by position", async () => {
    await withManifest(lines, async (file) => {
      try {
        await loadManifest(file);
        assert.fail("loaded");
      } catch (err) {
        assert.ok(err instanceof ManifestError);
        assert.deepEqual(err.problems.map((p) => p.location.line), [4, 7, 10, 11]);
        assert.equal(err.truncated, false);
        assert.deepEqual(err.message.split("\n"), err.problems.map(formatProblem));
        assert.equal(
          err.message.split("\n")[0],
          `${file}:4:13: arrays[0].shape[0]: Must be an integer >= 0, got -1`,
        );
      }
    });
  });

  test("cut at maxProblems, and said so", async () => {
    await withManifest(lines, async (file) => {
      try {
        await loadManifest(file, { maxProblems: 2 });
        assert.fail("loaded");
      } catch (err) {
        assert.ok(err instanceof ManifestError);
        assert.equal(err.problems.length, 2);
        assert.equal(err.truncated, true);
        assert.equal(err.message.split("\n").at(-1), "Stopped after 2 problems");
      }
    });
  });
});

describe("values from the environment are never shown", () => {
  const SECRET = "s3cr3t-t0ken";
  const env = { env: { TOKEN: SECRET, DT: `${SECRET}32`, N: "-5" } };

  const entries = [
    '{path: "a.npy", shape: ["${TOKEN}"]}',
    '{path: "b.npy", shape: [2], dtype: "${DT}"}',
    '{path: "c.npy", shape: [2], dtype: int8, fill: "${TOKEN}"}',
    '{path: "d.npy", shape: [2], order: "${TOKEN}"}',
    '{path: "e{i}.npy", shape: [2], foreach: {i: {range: [0, "${TOKEN}"]}}}',
    '{path: "f.npy", shape: ["${N}"]}',
  ];
  for (const entry of entries) {
    test(entry, async () => {
      const problems = await problemsOfText(["version: 1", "arrays:", `  - ${entry}`], env);
      assert.equal(problems.length, 1, problems.join("\n"));
      const [problem] = problems as [string];
      assert.ok(!problem.includes(SECRET) && !problem.includes("-5"), problem);
      assert.match(problem, /'\$\{(TOKEN|DT|N)\}/);
    });
  }

  test("the message says why the value is missing", async () => {
    assert.deepEqual(await problemsOfText(["version: 1", "arrays:", `  - ${entries[0]}`], env), [
      "3:29 arrays[0].shape[0]: Must be an integer >= 0, got '${TOKEN}' " +
      "(the value of an environment variable, not shown)",
    ]);
  });

  test("values from --var and vars are shown, as the manifest holds them", async () => {
    assert.deepEqual(
      await problemsOfText(
        ["version: 1", "vars: {M: x}", "arrays:", '  - {path: "a.npy", shape: ["${N}", "${M}"]}'],
        { env: {}, vars: { N: "y" } },
      ),
      [
        "4:29 arrays[0].shape[0]: Must be an integer >= 0, got 'y' (from '${N}')",
        "4:37 arrays[0].shape[1]: Must be an integer >= 0, got 'x' (from '${M}')",
      ],
    );
  });

  test("a variable whose name begins with an environment variable's is not hidden", async () => {
    assert.deepEqual(
      await problemsOfText(
        ["version: 1", "vars: {NX: x}", "arrays:", '  - {path: "a.npy", shape: ["${N}", "${NX}"]}'],
        { env: { N: "3" } },
      ),
      ["4:37 arrays[0].shape[1]: Must be an integer >= 0, got 'x' (from '${NX}')"],
    );
  });
});
