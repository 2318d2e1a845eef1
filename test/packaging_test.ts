/**
 * Every way of running npyalloc: Deno and Bun from source, Node.js from the
 * npm package's build, and the single-file executable. They must write the
 * same bytes, and the library exports must agree between deno.json and
 * package.json.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import * as library from "../src/mod.ts";
import { MIN_ARRAYS_FOR_THREADS } from "../src/run/execute.ts";
import { VERSION } from "../src/version.ts";
import { oracleManifest } from "./_support/oracle.ts";
import { oracleCases } from "./_support/oracle_cases.ts";
import { tempDir } from "./_support/temp.ts";

const ROOT = path.join(import.meta.dirname ?? ".", "..");
const BIN = path.join(ROOT, "node_modules", ".bin");
const CLI = path.join(ROOT, "src", "cli.ts");
const NODE_CLI = path.join(ROOT, "dist", "npyalloc.mjs");
const NODE_ONLY_PATH = "/usr/local/bin:/usr/bin:/bin";
const { dir, remove } = tempDir("packaging");
after(remove);

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(ROOT, file), "utf8"));
}

function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
) {
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? { ...process.env, NO_COLOR: "1" },
    encoding: "utf8",
  });
  if (result.error) throw result.error;
  return result;
}

/** Every file under `root`, relative path to bytes. */
function snapshot(root: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const name of (fs.readdirSync(root, { recursive: true }) as string[]).sort()) {
    const full = path.join(root, name);
    if (fs.statSync(full).isFile()) files.set(name, fs.readFileSync(full));
  }
  return files;
}

describe("packaging", () => {
  test("deno.json and package.json export the same entry points, at the same version", () => {
    const deno = readJson("deno.json");
    const pkg = readJson("package.json");
    assert.equal(deno.version, VERSION);
    assert.equal(pkg.version, VERSION);
    const denoExports = deno.exports as Record<string, string>;
    const pkgExports = pkg.exports as Record<string, { types: string; import: string } | string>;
    assert.deepEqual(
      Object.keys(denoExports),
      Object.keys(pkgExports).filter((k) => k !== "./package.json"),
    );
    for (const [subpath, source] of Object.entries(denoExports)) {
      const built = pkgExports[subpath] as { types: string; import: string };
      const stem = path.basename(source, ".ts");
      assert.equal(built.import, `./dist/${stem}.mjs`);
      assert.equal(built.types, `./dist/types/${stem}.d.ts`);
    }
    assert.equal((pkg.bin as Record<string, string>).npyalloc, "dist/npyalloc.mjs");
  });

  test("the Node.js build exports what src/mod.ts exports", async () => {
    const built = await import(path.join(ROOT, "dist", "mod.mjs"));
    assert.deepEqual(Object.keys(built).sort(), Object.keys(library).sort());
    assert.ok(fs.existsSync(path.join(ROOT, "dist", "types", "mod.d.ts")));
  });

  test("the Node.js build is what the sources build to today", () => {
    const fresh = path.join(dir, "fresh.mjs");
    execFileSync(path.join(BIN, "bun"), [
      "build",
      CLI,
      "--target",
      "node",
      "--banner",
      "#!/usr/bin/env node",
      "--outfile",
      fresh,
    ], { stdio: "ignore" });
    assert.ok(
      fs.readFileSync(fresh).equals(fs.readFileSync(NODE_CLI)),
      "dist/npyalloc.mjs is stale: run 'npm run build'",
    );
  });
});

describe("one corpus, three runtimes and a binary, the same bytes", () => {
  const manifest = path.join(dir, "corpus.yaml");
  let deno: Map<string, Buffer>;
  // Enough small arrays that every run writes them on writer threads, which load the module
  // they come from: the sources, the npm bundle or the binary.
  const many = {
    path: "many/m{i:03d}.npy",
    foreach: { i: { range: [0, MIN_ARRAYS_FOR_THREADS] } },
    shape: [3, 5],
    dtype: "<f8",
    fill: 0.25,
  };

  before(() => {
    fs.writeFileSync(manifest, oracleManifest(oracleCases(), "${OUT}", [many]));
    const r = run(path.join(BIN, "deno"), [
      "run",
      "-A",
      CLI,
      "run",
      manifest,
      "-q",
      "--no-fsync",
      "--var",
      "OUT=deno",
      "-r",
      path.join(dir, "deno.json"),
    ]);
    assert.equal(r.status, 0, r.stderr);
    deno = snapshot(path.join(dir, "deno"));
    assert.ok(deno.size > 300 + MIN_ARRAYS_FOR_THREADS);
    assertThreadsWrote(path.join(dir, "deno.json"));
  });

  /** The run's report says every array was written and no writer thread failed. */
  function assertThreadsWrote(reportFile: string): void {
    const report = JSON.parse(fs.readFileSync(reportFile, "utf8"));
    assert.equal(report.summary.failed, 0);
    assert.deepEqual(
      report.warnings.filter((w: string) => /writer thread/.test(w)),
      [],
      reportFile,
    );
  }

  function assertSame(label: string, root: string): void {
    const other = snapshot(root);
    assert.deepEqual([...other.keys()], [...deno.keys()], label);
    for (const [name, bytes] of deno) {
      assert.ok(bytes.equals(other.get(name)!), `${label}: ${name} differs from Deno's`);
    }
  }

  test("Bun", () => {
    const r = run(path.join(BIN, "bun"), [
      CLI,
      "run",
      manifest,
      "-q",
      "--no-fsync",
      "--var",
      "OUT=bun",
      "-r",
      path.join(dir, "bun.json"),
    ]);
    assert.equal(r.status, 0, r.stderr);
    assertSame("bun", path.join(dir, "bun"));
    assertThreadsWrote(path.join(dir, "bun.json"));
  });

  test("Node.js through the npm bin, with reserve falling back to writing zeros", () => {
    const r = run("node", [
      NODE_CLI,
      "run",
      manifest,
      "-q",
      "--no-fsync",
      "--var",
      "OUT=node",
      "-r",
      path.join(dir, "node.json"),
    ], {
      env: { PATH: NODE_ONLY_PATH, HOME: dir },
    });
    assert.equal(r.status, 0, r.stderr);
    assertSame("node", path.join(dir, "node"));
    assertThreadsWrote(path.join(dir, "node.json"));
    const report = JSON.parse(fs.readFileSync(path.join(dir, "node.json"), "utf8"));
    assert.match(report.tool.runtime, /^node 2\d\./);
    const reserved = report.arrays.filter((a: { allocation: string }) =>
      a.allocation === "reserve"
    );
    assert.ok(
      reserved.length > 0 &&
        reserved.every((a: { allocated_by: string }) => a.allocated_by === "zeros"),
    );
  });

  test("the single-file executable, alone in a folder with no runtime on PATH", () => {
    const bare = path.join(dir, "bare");
    fs.mkdirSync(bare);
    const binary = path.join(dir, "npyalloc-bin");
    execFileSync(path.join(BIN, "bun"), ["build", CLI, "--compile", "--outfile", binary], {
      stdio: "ignore",
    });
    fs.copyFileSync(binary, path.join(bare, "npyalloc"));
    fs.chmodSync(path.join(bare, "npyalloc"), 0o755);
    fs.copyFileSync(manifest, path.join(bare, "corpus.yaml"));
    const r = run(path.join(bare, "npyalloc"), [
      "run",
      "corpus.yaml",
      "-q",
      "--no-fsync",
      "--var",
      "OUT=out",
    ], {
      cwd: bare,
      env: { PATH: "/nonexistent", HOME: bare },
    });
    assert.equal(r.status, 0, r.stderr);
    assertSame("binary", path.join(bare, "out"));
    assertThreadsWrote(path.join(bare, "npyalloc-report.json"));
    const report = JSON.parse(fs.readFileSync(path.join(bare, "npyalloc-report.json"), "utf8"));
    assert.match(report.tool.runtime, /^bun /);
    assert.ok(report.arrays.some((a: { allocated_by: string }) => a.allocated_by === "fallocate"));
  });

  test("installed from the npm package on a machine with only Node.js", () => {
    const pack = run("npm", ["pack", "--pack-destination", dir, "--silent"]);
    assert.equal(pack.status, 0, pack.stderr);
    const tarball = path.join(dir, pack.stdout.trim().split("\n").at(-1)!);
    const project = path.join(dir, "consumer");
    fs.mkdirSync(project);
    fs.writeFileSync(
      path.join(project, "package.json"),
      '{"name":"consumer","private":true,"type":"module"}',
    );
    const env = {
      PATH: NODE_ONLY_PATH,
      HOME: process.env.HOME ?? dir,
      npm_config_cache: process.env.npm_config_cache ?? path.join(process.env.HOME ?? dir, ".npm"),
    };
    const install = run(
      "npm",
      ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball],
      { cwd: project, env },
    );
    assert.equal(install.status, 0, install.stderr);
    fs.copyFileSync(manifest, path.join(project, "corpus.yaml"));
    const r = run(path.join(project, "node_modules", ".bin", "npyalloc"), [
      "run",
      "corpus.yaml",
      "-q",
      "--no-fsync",
      "--var",
      "OUT=out",
    ], { cwd: project, env });
    assert.equal(r.status, 0, r.stderr);
    assertSame("npm package", path.join(project, "out"));
    assertThreadsWrote(path.join(project, "npyalloc-report.json"));
    const lib = run("node", [
      "--input-type=module",
      "-e",
      "import { VERSION, parseDType } from 'npyalloc'; console.log(VERSION, parseDType('>i2').itemsize)",
    ], { cwd: project, env });
    assert.equal(lib.stdout.trim(), `${VERSION} 2`, lib.stderr);
  });
});
