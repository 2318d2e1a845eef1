/**
 * Every way of running npyalloc: Deno and Bun from source, Node.js from the
 * npm package's build (with koffi, and without it), the package installed into
 * a project, globally and by `npm link`, and the single-file executable. They
 * must write the same bytes, and the library exports must agree between
 * deno.json and package.json.
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
const NODE_CLI_IN_PACKAGE = path.join("dist", "npyalloc.mjs");
const NODE_CLI = path.join(ROOT, NODE_CLI_IN_PACKAGE);
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

/**
 * The `bun build` commands of one of package.json's scripts, each as its arguments after `bun`.
 *
 * @param script The script's name, e.g. `"build"`.
 * @returns One argument list per `bun build` in the script.
 */
function bunBuilds(script: string): string[][] {
  const line = (readJson("package.json").scripts as Record<string, string>)[script];
  assert.ok(line !== undefined, `package.json has no script '${script}'`);
  return line.split("&&")
    .map((command) => [...command.trim().matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!))
    .filter((args) => args[0] === "bun" && args[1] === "build")
    .map((args) => args.slice(1));
}

/** `args` with the value of `--outfile` replaced by `outfile`. */
function withOutfile(args: readonly string[], outfile: string): string[] {
  const at = args.indexOf("--outfile");
  assert.ok(at >= 0 && at + 1 < args.length, `no --outfile in ${args.join(" ")}`);
  return args.map((arg, i) => (i === at + 1 ? outfile : arg));
}

/** Every array of the report whose allocation is `reserve` (there are some) was laid out `by`. */
function assertReservedBy(reportFile: string, by: "fallocate" | "zeros"): void {
  const report = JSON.parse(fs.readFileSync(reportFile, "utf8"));
  const how: string[] = report.arrays
    .filter((a: { allocation: string }) => a.allocation === "reserve")
    .map((a: { allocated_by: string }) => a.allocated_by);
  assert.ok(how.length > 0, `${reportFile} reserves nothing`);
  assert.deepEqual(how.filter((h) => h !== by), [], `${reportFile}: reserved by ${by}`);
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

  test("the Node.js builds are what the sources build to today, with koffi left out", () => {
    const builds = bunBuilds("build");
    assert.deepEqual(
      builds.map((args) => args[1]),
      ["src/cli.ts", "src/mod.ts", "src/run/writer_thread.ts"],
      "the build script bundles the CLI, the library and the library's writer thread",
    );
    for (const args of builds) {
      const outfile = args[args.indexOf("--outfile") + 1]!;
      // koffi loads its native binary from its own folder: bundled, it would never load.
      assert.equal(args[args.indexOf("--external") + 1], "koffi", `${outfile}: --external koffi`);
      const fresh = path.join(dir, path.basename(outfile));
      execFileSync(path.join(BIN, "bun"), withOutfile(args, fresh), { cwd: ROOT, stdio: "ignore" });
      const built = fs.readFileSync(path.join(ROOT, outfile));
      assert.ok(
        fs.readFileSync(fresh).equals(built),
        `${outfile} is stale: run 'npm run build'`,
      );
      const text = built.toString("utf8");
      assert.match(text, /import\("koffi"\)/, `${outfile} imports koffi at run time`);
      assert.doesNotMatch(text, /@koromix/, `${outfile} must not carry koffi's own code`);
    }
  });
});

describe("what npm pack ships", () => {
  test("sources, schemas, the build, the README, the license and the examples; no data", () => {
    // A copy of the package after the README's quick start, which leaves arrays and a report in
    // examples/, and a compiled binary in dist/.
    const copy = path.join(dir, "pack-copy");
    for (
      const entry of ["package.json", "README.md", "LICENSE", "src", "schemas", "examples", "dist"]
    ) {
      fs.cpSync(path.join(ROOT, entry), path.join(copy, entry), { recursive: true });
    }
    const quick = run("node", [
      path.join(copy, NODE_CLI_IN_PACKAGE),
      "run",
      "examples/quickstart.yaml",
      "-q",
    ], {
      cwd: copy,
      env: { PATH: NODE_ONLY_PATH, HOME: dir },
    });
    assert.equal(quick.status, 0, quick.stderr);
    const made = (fs.readdirSync(path.join(copy, "examples"), { recursive: true }) as string[])
      .filter((name) => /\.npy$|npyalloc-report/.test(name));
    assert.ok(made.some((name) => name.endsWith(".npy")), "the quick start made arrays");
    assert.ok(made.includes("npyalloc-report.json"), "the quick start wrote its report");
    fs.writeFileSync(path.join(copy, "dist", "npyalloc"), "a binary from 'npm run build:bin'");

    const pack = run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: copy,
      env: { PATH: NODE_ONLY_PATH, HOME: dir },
    });
    assert.equal(pack.status, 0, pack.stderr);
    const files = (JSON.parse(pack.stdout)[0].files as { path: string }[]).map((f) => f.path);
    const shipped =
      /^(package\.json|README\.md|CONTRIBUTING\.md|docs\/[^/]+\.md|LICENSE|dist\/(npyalloc|mod|writer_thread)\.mjs|dist\/types\/.+\.d\.ts|src\/.+\.(ts|js|wat)|schemas\/[^/]+\.schema\.json|examples\/.+\.(yaml|sh|sbatch))$/;
    assert.deepEqual(files.filter((f) => !shipped.test(f)), []);
    const examples = (fs.readdirSync(path.join(ROOT, "examples"), { recursive: true }) as string[])
      .filter((name) => /\.(yaml|sh|sbatch)$/.test(name) && !name.startsWith("data"))
      .map((name) => `examples/${name}`);
    assert.ok(examples.length >= 3);
    for (
      const required of [...examples, "LICENSE", "README.md", "dist/npyalloc.mjs", "dist/mod.mjs"]
    ) {
      assert.ok(files.includes(required), `${required} is shipped`);
    }
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
  // Generated fills, which the writer threads stream too; `MATH` needs the C library's exp and
  // log1p, which a Node.js without koffi does not reach (it refuses them, below).
  const GENERATED = [
    {
      path: "gen/r{i}.npy",
      foreach: { i: { range: [0, 3] } },
      shape: [99, 3],
      dtype: "<f8",
      fill: { random: { seed: "{i}" } },
    },
    {
      path: "gen/rF.npy",
      shape: [4, 5, 6],
      dtype: ">f4",
      order: "F",
      fill: { random: { seed: [7, 2 ** 40] } },
    },
    {
      path: "gen/u.npy",
      shape: 1001,
      dtype: "<f2",
      fill: { uniform: { seed: 5, low: -1, high: 3 } },
    },
    {
      path: "gen/i.npy",
      shape: [50, 2],
      dtype: "<i8",
      fill: { integers: { seed: 6, low: -5, high: 1000 } },
    },
    {
      path: "gen/b.npy",
      shape: 77,
      dtype: "|b1",
      fill: { integers: { seed: 6, low: 0, high: 2 } },
    },
    {
      path: "gen/t.npy",
      shape: 30,
      dtype: "<M8[s]",
      fill: { arange: { start: "2026-12-01T00:00:00", step: 90 } },
    },
    { path: "gen/l.npy", shape: [3, 3], dtype: "|u1", fill: { linspace: { start: 0, stop: 200 } } },
  ];
  const MATH = [
    { path: "gen/sn.npy", shape: 3000, dtype: "<f4", fill: { standard_normal: { seed: 9 } } },
    {
      path: "gen/n.npy",
      shape: [5, 7],
      dtype: ">f8",
      fill: { normal: { seed: 9, loc: 2, scale: 3 } },
    },
  ];
  const withoutMath = path.join(dir, "corpus-without-math.yaml");

  before(() => {
    fs.writeFileSync(
      manifest,
      oracleManifest(oracleCases(), "${OUT}", [many, ...GENERATED, ...MATH]),
    );
    fs.writeFileSync(withoutMath, oracleManifest(oracleCases(), "${OUT}", [many, ...GENERATED]));
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

  /** The files under `root` are Deno's, byte for byte (but for those named in `except`). */
  function assertSame(label: string, root: string, except: readonly string[] = []): void {
    const other = snapshot(root);
    const want = new Map([...deno].filter(([name]) => !except.includes(name)));
    assert.deepEqual([...other.keys()], [...want.keys()], label);
    for (const [name, bytes] of want) {
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

  /** Runs the corpus with `command` on a Node.js-only PATH; returns the report's path. */
  function runNode(
    command: string,
    args: string[],
    out: string,
    options: { cwd?: string; env?: Record<string, string>; withoutMath?: boolean } = {},
  ): string {
    const report = path.join(dir, `${out}.json`);
    const r = run(command, [
      ...args,
      "run",
      options.withoutMath ? withoutMath : manifest,
      "-q",
      "--no-fsync",
      "--var",
      `OUT=${out}`,
      "-r",
      report,
    ], { cwd: options.cwd ?? dir, env: options.env ?? { PATH: NODE_ONLY_PATH, HOME: dir } });
    assert.equal(r.status, 0, r.stderr);
    assertSame(out, path.join(dir, out), options.withoutMath ? MATH.map((a) => a.path) : []);
    assertThreadsWrote(report);
    const tool = JSON.parse(fs.readFileSync(report, "utf8")).tool;
    assert.match(tool.runtime, /^node 2\d\./);
    return report;
  }

  test("Node.js through the npm bin, reserving with fallocate through koffi", () => {
    assertReservedBy(runNode("node", [NODE_CLI], "out-node"), "fallocate");
  });

  test("Node.js where koffi cannot be loaded: the bundle alone, reserve writes zeros", () => {
    const alone = path.join(dir, "alone");
    fs.mkdirSync(alone);
    const cli = path.join(alone, "npyalloc.mjs");
    fs.copyFileSync(NODE_CLI, cli);
    const env = { PATH: NODE_ONLY_PATH, HOME: dir };
    // Normal draws need the C library's math: refused up front, nothing written.
    const refused = run("node", [cli, "run", manifest, "--var", "OUT=out-refused"], {
      cwd: dir,
      env,
    });
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(refused.stderr, /gen\/sn\.npy.*standard_normal.*koffi/);
    assert.equal(fs.existsSync(path.join(dir, "out-refused")), false);
    assertReservedBy(runNode("node", [cli], "out-alone", { withoutMath: true }), "zeros");
  });

  test("the single-file executable, alone in a folder with no runtime on PATH", () => {
    const bare = path.join(dir, "bare");
    fs.mkdirSync(bare);
    const binary = path.join(dir, "npyalloc-bin");
    const [build] = bunBuilds("build:bin");
    assert.ok(build !== undefined && build.includes("--compile"));
    execFileSync(path.join(BIN, "bun"), withOutfile(build, binary), { cwd: ROOT, stdio: "ignore" });
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

  describe("the npm package, on a machine with only Node.js", () => {
    // koffi and the other dependencies come from npm's cache (filled by `npm ci`), or the registry.
    const env = {
      PATH: NODE_ONLY_PATH,
      HOME: process.env.HOME ?? dir,
      npm_config_cache: process.env.npm_config_cache ?? path.join(process.env.HOME ?? dir, ".npm"),
    };
    const npmFlags = ["--prefer-offline", "--no-audit", "--no-fund"];
    let tarball: string;

    before(() => {
      const pack = run("npm", ["pack", "--pack-destination", dir, "--silent"]);
      assert.equal(pack.status, 0, pack.stderr);
      tarball = path.join(dir, pack.stdout.trim().split("\n").at(-1)!);
    });

    /** Runs a shell line in `cwd` with `bin` first on a Node.js-only PATH. */
    function onPath(bin: string, line: string, cwd: string) {
      return run("sh", ["-c", line], { cwd, env: { ...env, PATH: `${bin}:${NODE_ONLY_PATH}` } });
    }

    test("installed into a project: the bin and the library", () => {
      const project = path.join(dir, "consumer");
      fs.mkdirSync(project);
      fs.writeFileSync(
        path.join(project, "package.json"),
        '{"name":"consumer","private":true,"type":"module"}',
      );
      const install = run("npm", ["install", ...npmFlags, tarball], { cwd: project, env });
      assert.equal(install.status, 0, install.stderr);
      const bin = path.join(project, "node_modules", ".bin", "npyalloc");
      assertReservedBy(runNode(bin, [], "out-project", { cwd: project, env }), "fallocate");
      const lib = run("node", [
        "--input-type=module",
        "-e",
        "import { VERSION, createArray, parseDType } from 'npyalloc';" +
        "const made = await createArray('lib.npy', { shape: [1024], dtype: 'float32' });" +
        "console.log(VERSION, parseDType('>i2').itemsize, made.allocatedBy)",
      ], { cwd: project, env });
      // The library bundle (dist/mod.mjs) finds koffi too.
      assert.equal(lib.stdout.trim(), `${VERSION} 2 fallocate`, lib.stderr);
    });

    test("installed globally (npm install -g): npyalloc on PATH reserves with fallocate", () => {
      const prefix = path.join(dir, "global");
      const install = run("npm", ["install", "-g", "--prefix", prefix, ...npmFlags, tarball], {
        cwd: dir,
        env,
      });
      assert.equal(install.status, 0, install.stderr);
      const bin = path.join(prefix, "bin");
      const which = onPath(bin, "command -v npyalloc", dir);
      assert.equal(which.stdout.trim(), path.join(bin, "npyalloc"), which.stderr);
      const work = path.join(dir, "global-work");
      fs.mkdirSync(work);
      const created = onPath(
        bin,
        "npyalloc create x.npy --shape 1073741824 --dtype float32 && npyalloc inspect --json x.npy",
        work,
      );
      assert.equal(created.status, 0, created.stderr);
      const info = JSON.parse(created.stdout.slice(created.stdout.indexOf("{")));
      fs.rmSync(path.join(work, "x.npy"));
      assert.equal(info.ok, true);
      assert.equal(info.data_bytes, 4 * 1024 ** 3);
      assert.ok(info.allocated_bytes >= info.file_bytes, `allocated ${info.allocated_bytes}`);
      assertReservedBy(runNode(path.join(bin, "npyalloc"), [], "out-global", { env }), "fallocate");
    });

    test("linked from the clone (npm link): npyalloc on PATH runs this checkout", () => {
      const prefix = path.join(dir, "linked");
      const link = run("npm", ["link", ...npmFlags], {
        env: { ...env, npm_config_prefix: prefix },
      });
      assert.equal(link.status, 0, link.stderr);
      const bin = path.join(prefix, "bin");
      assert.equal(
        fs.realpathSync(path.join(bin, "npyalloc")),
        fs.realpathSync(NODE_CLI),
        "the link leads to this checkout's bundle",
      );
      const version = onPath(bin, "npyalloc --version", dir);
      assert.equal(version.stdout.trim(), `npyalloc ${VERSION}`, version.stderr);
      assertReservedBy(runNode(path.join(bin, "npyalloc"), [], "out-linked", { env }), "fallocate");
    });
  });
});
