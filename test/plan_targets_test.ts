import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { ManifestArray } from "../src/manifest/types.ts";
import { classifyTargets, type PlannedArray } from "../src/plan/targets.ts";
import { withTempDir } from "./_support/temp.ts";
import { type ArraySpec, manifestArray } from "./_support/arrays.ts";
import { loadPlatform } from "../src/platform/mod.ts";

const platform = await loadPlatform();

/** Writes a complete .npy file for `spec` at `file` (zeros, or `dataBytes` bytes of 7). */
function writeNpy(file: string, spec: ArraySpec, dataBytes?: number): void {
  const layout = manifestArray("/", "x.npy", spec).layout;
  const size = dataBytes ?? Number(layout.dataBytes);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, Buffer.concat([layout.header, Buffer.alloc(size, 7)]));
}

async function classifyOne(array: ManifestArray, force = false): Promise<PlannedArray> {
  const [planned] = await classifyTargets([array], { force, fs: platform });
  assert.ok(planned);
  return planned;
}

describe("classifyTargets", () => {
  test("an absent file in an existing folder is created, with no new folders", async () => {
    await withTempDir("plan-targets", async (dir) => {
      const planned = await classifyOne(manifestArray(dir, "a.npy", { shape: [3] }));
      assert.equal(planned.action, "create");
      assert.equal(planned.reason, null);
      assert.equal(planned.code, null);
      assert.deepEqual(planned.newFolders, []);
    });
  });

  test("missing folders are listed outermost first, for every array below them", async () => {
    await withTempDir("plan-targets", async (dir) => {
      const arrays = [
        manifestArray(dir, "x/y/a.npy", { shape: [3] }),
        manifestArray(dir, "x/y/b.npy", { shape: [3] }),
        manifestArray(dir, "x/c.npy", { shape: [3] }),
      ];
      const planned = await classifyTargets(arrays, { force: false, fs: platform });
      assert.deepEqual(planned.map((p) => p.action), ["create", "create", "create"]);
      const x = path.join(dir, "x");
      assert.deepEqual(planned[0]?.newFolders, [x, path.join(x, "y")]);
      assert.deepEqual(planned[1]?.newFolders, [x, path.join(x, "y")]);
      assert.deepEqual(planned[2]?.newFolders, [x]);
      assert.equal(fs.existsSync(x), false, "classifying creates nothing");
    });
  });

  test("a matching file is unchanged, and neither its data nor its mtime is touched", async () => {
    await withTempDir("plan-targets", async (dir) => {
      const specs: ArraySpec[] = [
        { shape: [3], dtype: "float32" },
        { shape: [2, 3], dtype: ">i8", order: "F" },
        { shape: [], dtype: "bool" },
        { shape: [4, 1], dtype: "uint8", order: "F" }, // written as fortran_order False
        { shape: [2], dtype: [["a", "<i4"], ["b", "S3"]] },
      ];
      for (const [i, spec] of specs.entries()) {
        const array = manifestArray(dir, `m${i}.npy`, spec);
        writeNpy(array.target, spec);
        const past = new Date(Date.UTC(2001, 0, 1));
        fs.utimesSync(array.target, past, past);
        const before = fs.readFileSync(array.target);
        const planned = await classifyOne(array, true);
        assert.equal(planned.action, "unchanged", `spec ${i}: ${planned.reason}`);
        assert.equal(planned.reason, null);
        assert.equal(planned.code, null);
        assert.deepEqual(fs.readFileSync(array.target), before);
        assert.equal(fs.statSync(array.target).mtime.getTime(), past.getTime());
      }
    });
  });

  test("a different dtype is a conflict that says both dtypes", async () => {
    await withTempDir("plan-targets", async (dir) => {
      const array = manifestArray(dir, "a.npy", { shape: [3], dtype: "float32" });
      writeNpy(array.target, { shape: [3], dtype: "float64" });
      const planned = await classifyOne(array);
      assert.equal(planned.action, "conflict");
      assert.equal(planned.code, "E_CONFLICT");
      assert.equal(planned.reason, "dtype differs: on disk '<f8', manifest '<f4'");
    });
  });

  test("a different shape is a conflict", async () => {
    await withTempDir("plan-targets", async (dir) => {
      const array = manifestArray(dir, "a.npy", { shape: [4] });
      writeNpy(array.target, { shape: [3] });
      const planned = await classifyOne(array);
      assert.equal(planned.action, "conflict");
      assert.equal(planned.reason, "shape differs: on disk (3,), manifest (4,)");
    });
  });

  test("a different order is a conflict; several differences are all listed", async () => {
    await withTempDir("plan-targets", async (dir) => {
      const array = manifestArray(dir, "a.npy", { shape: [2, 3], order: "C" });
      writeNpy(array.target, { shape: [2, 3], order: "F" });
      assert.equal(
        (await classifyOne(array)).reason,
        "fortran_order differs: on disk True, manifest False",
      );

      const other = manifestArray(dir, "b.npy", { shape: [2, 3], dtype: "int32", order: "F" });
      writeNpy(other.target, { shape: [3, 2], dtype: "int16", order: "C" });
      assert.equal(
        (await classifyOne(other)).reason,
        "dtype differs: on disk '<i2', manifest '<i4'; " +
          "shape differs: on disk (3, 2), manifest (2, 3); " +
          "fortran_order differs: on disk False, manifest True",
      );
    });
  });

  test("a truncated file, or one with extra bytes, is a conflict", async () => {
    await withTempDir("plan-targets", async (dir) => {
      const array = manifestArray(dir, "a.npy", { shape: [100], dtype: "uint8" });
      writeNpy(array.target, { shape: [100], dtype: "uint8" }, 50);
      const planned = await classifyOne(array);
      assert.equal(planned.action, "conflict");
      assert.equal(planned.reason, "file is 178 bytes, a complete file is 228 (truncated)");

      writeNpy(array.target, { shape: [100], dtype: "uint8" }, 103);
      assert.equal(
        (await classifyOne(array)).reason,
        "file is 231 bytes, a complete file is 228 (3 extra bytes at the end)",
      );
    });
  });

  test("a file that is not .npy, empty, or has a truncated header is a conflict", async () => {
    await withTempDir("plan-targets", async (dir) => {
      const array = manifestArray(dir, "a.npy", { shape: [3] });
      for (const content of ["hello, world\n", "", "\x93NUMPY\x01\x00\x76\x00{'descr'"]) {
        fs.writeFileSync(array.target, Buffer.from(content, "latin1"));
        const planned = await classifyOne(array);
        assert.equal(planned.action, "conflict");
        assert.equal(planned.code, "E_CONFLICT");
        assert.match(planned.reason ?? "", /^not a \.npy file: /);
      }
    });
  });

  test("a folder in the way is a conflict, even with force", async () => {
    await withTempDir("plan-targets", async (dir) => {
      const array = manifestArray(dir, "a.npy", { shape: [3] });
      fs.mkdirSync(array.target);
      for (const force of [false, true]) {
        const planned = await classifyOne(array, force);
        assert.equal(planned.action, "conflict");
        assert.equal(planned.code, "E_CONFLICT");
        assert.equal(planned.reason, "a folder is in the way");
      }
    });
  });

  test("a parent that is a file is E_NOT_A_DIRECTORY, even with force", async () => {
    await withTempDir("plan-targets", async (dir) => {
      fs.mkdirSync(path.join(dir, "a"));
      fs.writeFileSync(path.join(dir, "a", "b"), "x");
      const arrays = [
        manifestArray(dir, "a/b/c.npy", { shape: [3] }),
        manifestArray(dir, "a/b/d/e/f.npy", { shape: [3] }),
      ];
      for (const force of [false, true]) {
        const planned = await classifyTargets(arrays, { force, fs: platform });
        for (const p of planned) {
          assert.equal(p.action, "conflict");
          assert.equal(p.code, "E_NOT_A_DIRECTORY");
          assert.equal(p.reason, `'${path.join(dir, "a", "b")}' is a file, not a folder`);
          assert.deepEqual(p.newFolders, []);
        }
      }
    });
  });

  test("with force, conflicting files are replaced and the reason is kept", async () => {
    await withTempDir("plan-targets", async (dir) => {
      const arrays = [
        manifestArray(dir, "dtype.npy", { shape: [3], dtype: "float32" }),
        manifestArray(dir, "short.npy", { shape: [100], dtype: "uint8" }),
        manifestArray(dir, "text.npy", { shape: [3] }),
        manifestArray(dir, "same.npy", { shape: [3] }),
        manifestArray(dir, "new.npy", { shape: [3] }),
      ];
      writeNpy(arrays[0]!.target, { shape: [3] });
      writeNpy(arrays[1]!.target, { shape: [100], dtype: "uint8" }, 10);
      fs.writeFileSync(arrays[2]!.target, "not numpy");
      writeNpy(arrays[3]!.target, { shape: [3] });
      const planned = await classifyTargets(arrays, { force: true, fs: platform });
      assert.deepEqual(
        planned.map((p) => [p.action, p.code]),
        [["replace", null], ["replace", null], ["replace", null], ["unchanged", null], [
          "create",
          null,
        ]],
      );
      assert.equal(planned[0]?.reason, "dtype differs: on disk '<f8', manifest '<f4'");
      assert.match(planned[1]?.reason ?? "", /\(truncated\)$/);
      assert.match(planned[2]?.reason ?? "", /^not a \.npy file: /);
    });
  });

  test("symbolic links: followed to a matching file, a dangling one conflicts", async () => {
    await withTempDir("plan-targets", async (dir) => {
      const real = path.join(dir, "real.npy");
      writeNpy(real, { shape: [3] });
      const linked = manifestArray(dir, "linked.npy", { shape: [3] });
      fs.symlinkSync(real, linked.target);
      assert.equal((await classifyOne(linked)).action, "unchanged");

      const dangling = manifestArray(dir, "dangling.npy", { shape: [3] });
      fs.symlinkSync(path.join(dir, "nowhere.npy"), dangling.target);
      const planned = await classifyOne(dangling);
      assert.equal(planned.action, "conflict");
      assert.equal(planned.reason, "a symbolic link to nothing is in the way");
      assert.equal((await classifyOne(dangling, true)).action, "replace");

      const toFolder = manifestArray(dir, "folder.npy", { shape: [3] });
      fs.mkdirSync(path.join(dir, "sub"));
      fs.symlinkSync(path.join(dir, "sub"), toFolder.target);
      const folder = await classifyOne(toFolder, true);
      assert.equal(folder.action, "conflict");
      assert.equal(folder.reason, "a symbolic link to a folder is in the way");
    });
  });

  test("a FIFO at the path is a conflict and is never opened", async () => {
    await withTempDir("plan-targets", async (dir) => {
      const array = manifestArray(dir, "pipe.npy", { shape: [3] });
      execFileSync("mkfifo", [array.target]);
      const planned = await classifyOne(array);
      assert.equal(planned.action, "conflict");
      assert.equal(planned.reason, "not a regular file (a FIFO)");
    });
  });

  test("thousands of targets classify quickly, in order", async () => {
    await withTempDir("plan-targets", async (dir) => {
      const arrays: ManifestArray[] = [];
      const template = manifestArray(dir, "t.npy", { shape: [8], dtype: "uint8" });
      for (let i = 0; i < 5000; i++) {
        const rel = `f${i % 50}/a${i}.npy`;
        arrays.push({ ...template, path: rel, target: path.join(dir, rel) });
      }
      fs.mkdirSync(path.join(dir, "f0"));
      writeNpy(arrays[0]!.target, { shape: [8], dtype: "uint8" });
      const started = performance.now();
      const planned = await classifyTargets(arrays, { force: false, fs: platform });
      const elapsed = performance.now() - started;
      assert.equal(planned.length, 5000);
      assert.equal(planned[0]?.action, "unchanged");
      assert.ok(planned.slice(1).every((p) => p.action === "create"));
      assert.ok(planned.every((p, i) => p.array === arrays[i]));
      assert.deepEqual(planned[1]?.newFolders, [path.join(dir, "f1")]);
      assert.deepEqual(planned[50]?.newFolders, []);
      assert.ok(elapsed < 5000, `took ${elapsed.toFixed(0)} ms`);
    });
  });
});
