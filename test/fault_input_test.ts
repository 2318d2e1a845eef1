// Hostile input through the real CLI (SPEC 2, "Limits against hostile input"; SPEC 3.1): alias
// bombs, a 100 MB manifest, a million-array foreach, shapes past 2^63 bytes, deep nesting,
// control characters, and paths that try to leave the root or collide with what is on disk.
// Each is refused quickly with a clear one-line-per-problem message and the right exit code,
// never a stack trace, and nothing is created anywhere.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { listFiles } from "./_support/temp.ts";
import { readReport } from "./_support/report.ts";
import { runCli } from "./_support/cli.ts";

/** Bun stops a test after 5 s unless told otherwise. */
const TIMEOUT_MS = 60_000;
/** How long a refusal may take, start-up of the runtime included. */
const QUICKLY_MS = 5000;

const base = fs.mkdtempSync(path.join(os.tmpdir(), "npyalloc-fault-input-"));
after(() => fs.rmSync(base, { recursive: true, force: true }));
let counter = 0;

/**
 * A fresh case folder `case/` holding `root/` (with what `setup` puts there), a sibling
 * `outside/`, and the manifest `case/m.yaml`.
 */
function caseDir(manifest: string, setup?: (root: string, outside: string) => void) {
  const dir = path.join(base, `c${counter++}`);
  const root = path.join(dir, "root");
  const outside = path.join(dir, "outside");
  fs.mkdirSync(root, { recursive: true });
  fs.mkdirSync(outside);
  setup?.(root, outside);
  const file = path.join(dir, "m.yaml");
  fs.writeFileSync(file, manifest);
  return { dir, root, outside, file };
}

interface Refusal {
  readonly status: number;
  readonly message: RegExp;
  readonly code?: string;
  readonly args?: readonly string[];
}

/** Runs `npyalloc run` on `manifest` and checks that it is refused as `expected`, touching nothing. */
async function assertRefused(
  manifest: string,
  expected: Refusal,
  setup?: (root: string, outside: string) => void,
): Promise<void> {
  const c = caseDir(manifest, setup);
  const before = listFiles(c.dir).filter((f) => f !== "m.yaml");
  const started = performance.now();
  const run = await runCli(["run", c.file, ...(expected.args ?? [])]);
  const took = performance.now() - started;
  assert.equal(run.status, expected.status, run.stderr);
  assert.ok(took < QUICKLY_MS, `took ${took.toFixed(0)} ms`);
  assert.match(run.stderr, expected.message);
  assert.doesNotMatch(run.stderr, /\n\s+at |internal error|\[object Object\]|undefined/);
  const after = listFiles(c.dir).filter((f) => f !== "m.yaml" && f !== "npyalloc-report.json");
  assert.deepEqual(after, before, "nothing was created or removed");
  const report = readReport(path.join(c.dir, "npyalloc-report.json"));
  assert.equal(report.exit_code, expected.status);
  assert.equal(report.error?.code, expected.code ?? "E_MANIFEST");
}

const HEAD = "version: 1\nroot: root\narrays:\n";
const one = (fields: string) => `${HEAD}  - ${fields.trim().split("\n").join("\n    ")}\n`;

describe("hostile manifests are refused quickly, touching nothing", () => {
  test("a YAML alias bomb (billion laughs)", { timeout: TIMEOUT_MS }, async () => {
    const levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(", ")}]`);
    }
    await assertRefused(`${levels.join("\n")}\n${HEAD}`, {
      status: 2,
      message: /YAML aliases (are used more than 1000 times|expand to more than 100000 values)/,
    });
  });

  test("a 100 MB manifest is refused before it is read", { timeout: TIMEOUT_MS }, async () => {
    const c = caseDir(HEAD);
    fs.truncateSync(c.file, 100 * 1000 * 1000);
    const run = await runCli(["run", c.file]);
    assert.equal(run.status, 2, run.stderr);
    assert.match(
      run.stderr,
      /The manifest is 100000000 bytes, more than the limit of 67108864 bytes/,
    );
    assert.deepEqual(fs.readdirSync(c.root), []);
  });

  test("a foreach of a million arrays and more", { timeout: TIMEOUT_MS }, async () => {
    await assertRefused(
      one(`
path: "d{i}/f{j}.npy"
foreach: { i: { range: [0, 1001] }, j: { range: [0, 1000] } }
shape: 3`),
      {
        status: 2,
        message:
          /arrays\[0\]\.foreach: The manifest expands to more than 1000000 arrays \(this entry alone makes 1001000\): raise the limit with --max-arrays/,
      },
    );
    await assertRefused(
      one(`
path: "f{i}-{j}-{k}.npy"
foreach: { i: { range: [0, 1000000000000] }, j: { range: [0, 1000000000000] }, k: [a, b] }
shape: 3`),
      { status: 2, message: /this entry alone makes 2000000000000000000000000/ },
    );
    await assertRefused(
      one(`
path: "f{i}.npy"
foreach: { i: { range: [0, 10] } }
shape: 3`),
      { status: 2, message: /more than 5 arrays/, args: ["--max-arrays", "5"] },
    );
  });

  test(
    "shapes whose byte size passes 2^63, or the 2^53 bytes of a file",
    { timeout: TIMEOUT_MS },
    async () => {
      await assertRefused(one(`path: a.npy\nshape: [4611686018427387904, 2]\ndtype: int64`), {
        status: 2,
        message:
          /arrays\[0\]\.shape: Shape \(4611686018427387904, 2\) with 8-byte items is larger than the 2\^63 bytes/,
      });
      await assertRefused(one(`path: a.npy\nshape: [99999999999999999999999999999999, 1]`), {
        status: 2,
        message: /larger than the 2\^63 bytes a \.npy file can hold/,
      });
      await assertRefused(one(`path: a.npy\nshape: [1125899906842624, 16]\ndtype: uint8`), {
        status: 2,
        message:
          /arrays\[0\]\.shape: Array \|u1 of 18014398509481984 bytes is larger than the 8 PiB/,
      });
      await assertRefused(one(`path: a.npy\nshape: [3, -4]`), {
        status: 2,
        message: /m\.yaml:5:\d+: arrays\[0\]\.shape\[1\]: Must be an integer >= 0, got -4/,
      });
    },
  );

  test("deeply nested YAML", { timeout: TIMEOUT_MS }, async () => {
    const depth = 50_000;
    await assertRefused(
      one(`path: a.npy\nshape: 3\nfill: ${"[".repeat(depth)}${"]".repeat(depth)}`),
      {
        status: 2,
        message: /m\.yaml:\d+:\d+: /,
      },
    );
    await assertRefused(
      one(`path: a.npy\nshape: 3\ndtype: ${"[[a, ".repeat(depth)}f4${"]]".repeat(depth)}`),
      { status: 2, message: /m\.yaml:\d+:\d+: / },
    );
  });

  test(
    "NUL and control characters, and names the OS would refuse",
    { timeout: TIMEOUT_MS },
    async () => {
      await assertRefused(one(`path: "a\\0b.npy"\nshape: 3`), {
        status: 2,
        message:
          /arrays\[0\]\.path: Path "a\\u0000b\.npy" contains a control character \(U\+0000\)/,
      });
      await assertRefused(one(`path: "sub\\u001b[31m/x.npy"\nshape: 3`), {
        status: 2,
        message: /contains a control character \(U\+001B\)/,
      });
      await assertRefused(one(`path: "${"é".repeat(128)}.npy"\nshape: 3`), {
        status: 2,
        message: /has a name of 260 bytes .*: file and folder names are limited to 255 bytes/,
      });
      await assertRefused(one(`path: "${"folder/".repeat(600)}x.npy"\nshape: 3`), {
        status: 2,
        message: /is too long: its folder is \d+ bytes from '\/'/,
      });
      // A value with a line break or a terminal escape is quoted escaped: one problem, one line.
      const c = caseDir(one(`path: a.npy\nshape: 3\norder: "C\\nnpyalloc: all good\\u001b[2K"`));
      const run = await runCli(["run", c.file]);
      assert.equal(run.status, 2, run.stderr);
      const lines = run.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 2, run.stderr);
      assert.match(
        lines[0]!,
        /m\.yaml:6:\d+: arrays\[0\]\.order: Must be one of C, F, got 'C\\nnpyalloc: all good\\u001b\[2K'$/,
      );
    },
  );

  test("a name of exactly 255 bytes is created (its temporary name is cut short)", {
    timeout: TIMEOUT_MS,
  }, async () => {
    const name = `${"\u00e9".repeat(125)}x.npy`; // 250 + 1 + 4 bytes
    assert.equal(new TextEncoder().encode(name).length, 255);
    const c = caseDir(one(`path: "${name}"\nshape: 1000\nfill: 2`));
    const run = await runCli(["run", c.file]);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(listFiles(c.root), [name]);
    assert.equal(fs.statSync(path.join(c.root, name)).size, 128 + 8000);
  });
});

describe("paths that leave the root or collide with the disk", () => {
  test(
    "'..', absolute paths and symbolic links leading outside the root",
    { timeout: TIMEOUT_MS },
    async () => {
      const links = (root: string, outside: string) => {
        fs.symlinkSync(outside, path.join(root, "escape"));
        fs.mkdirSync(path.join(root, "sub"));
        fs.symlinkSync(path.join(outside, "x.npy"), path.join(root, "sub", "file.npy"));
        fs.symlinkSync("../../outside", path.join(root, "sub", "up"));
      };
      const cases: [string, RegExp][] = [
        ["../outside/x.npy", /Path '\.\.\/outside\/x\.npy' leaves the root folder through '\.\.'/],
        ["a/../../x.npy", /leaves the root folder through '\.\.'/],
        ["/tmp/x.npy", /Path '\/tmp\/x\.npy' is absolute/],
        [
          "escape/x.npy",
          /Folder 'escape' is a symbolic link to '.*outside', outside the root folder/,
        ],
        ["escape/deeper/x.npy", /Folder 'escape' is a symbolic link to .*outside the root folder/],
        ["sub/up/x.npy", /Folder 'sub\/up' is a symbolic link to '\.\.\/\.\.\/outside'/],
        [
          "sub/file.npy",
          /Path 'sub\/file\.npy' is a symbolic link to '.*x\.npy', outside the root folder/,
        ],
      ];
      for (const [arrayPath, message] of cases) {
        await assertRefused(one(`path: "${arrayPath}"\nshape: 3`), { status: 2, message }, links);
      }
    },
  );

  test(
    "a file that is not a .npy, or a folder, at a target: exit 4; --force replaces only the file",
    {
      timeout: TIMEOUT_MS,
    },
    async () => {
      const setup = (root: string) => {
        fs.writeFileSync(path.join(root, "notes.npy"), "my notes, not an array\n");
        fs.mkdirSync(path.join(root, "folder.npy"));
      };
      const notNpy = one(`path: notes.npy\nshape: 3`);
      await assertRefused(notNpy, {
        status: 4,
        code: "E_CONFLICT",
        message: /conflict: notes\.npy: not a \.npy file/,
      }, setup);
      await assertRefused(one(`path: folder.npy\nshape: 3`), {
        status: 4,
        code: "E_CONFLICT",
        message: /conflict: folder\.npy: a folder is in the way/,
      }, setup);
      await assertRefused(one(`path: folder.npy\nshape: 3`), {
        status: 4,
        code: "E_CONFLICT",
        message: /conflict: folder\.npy: a folder is in the way/,
        args: ["--force"],
      }, setup);

      const c = caseDir(notNpy, setup);
      const forced = await runCli(["run", c.file, "--force"]);
      assert.equal(forced.status, 0, forced.stderr);
      const report = readReport(path.join(c.dir, "npyalloc-report.json"));
      assert.equal(report.arrays[0]?.status, "replaced");
      assert.equal(fs.statSync(path.join(c.root, "notes.npy")).size, 128 + 24);
    },
  );

  test("a target inside a folder that is a file", { timeout: TIMEOUT_MS }, async () => {
    const setup = (root: string) => fs.writeFileSync(path.join(root, "data"), "a file");
    for (const arrayPath of ["data/x.npy", "data/deeper/x.npy"]) {
      await assertRefused(one(`path: ${arrayPath}\nshape: 3`), {
        status: 2,
        message: /arrays\[0\]\.path: 'data' is a file, not a folder/,
      }, setup);
    }
  });
});
