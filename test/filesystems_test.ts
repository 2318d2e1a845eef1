// npyalloc on the filesystems users have, each mounted by the test: tmpfs, ext4, xfs and btrfs
// (loop images), overlay (what containers write to), and a FUSE mount without O_TMPFILE
// (bindfs), the stand-in for NFS and Lustre (docs/filesystems.md). On each, Deno, Bun and
// Node.js (the npm bundle, with koffi) plan and run the same manifest (a zero-filled
// reservation, a constant written, a sparse array, a generated fill) in folders of their own on
// one mount:
//
// - `plan` and the report name the filesystem type as the mount has it;
// - every array is created, byte for byte what NumPy's `np.save` writes;
// - nothing but the manifest, the report and the arrays is left (no temporary file);
// - `allocated_by` is true: `fallocate` where fallocate(2) works on the mount (asked directly,
//   not through glibc's posix_fallocate, which would write a byte per block), `zeros` where it
//   does not, and the allocated blocks say so; a sparse file holds next to nothing.
//
// Mounting needs root: without it the tests skip with the reason; with CI=true nothing skips.
//
// zfs cannot run here (no kernel module): the decision for a filesystem whose fallocate holds no
// blocks is tested with a platform whose statfs says zfs, on a real folder: the plan warns, a
// reservation is made sparse and reported `truncate`, and nothing counts as reserved.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { runCli } from "../src/cli/main.ts";
import { loadManifest } from "../src/manifest/mod.ts";
import { planSpace, spaceWarnings } from "../src/plan/space.ts";
import { classifyTargets } from "../src/plan/targets.ts";
import { filesystemKind } from "../src/platform/filesystems.ts";
import { loadPlatform, type Platform } from "../src/platform/mod.ts";
import { runPythonJson } from "./_support/numpy.ts";
import { listFiles, tempDir, withTempDir } from "./_support/temp.ts";
import {
  bindfsSkip,
  btrfsSkip,
  mountSkip,
  skipNamed,
  withBindfs,
  withLoopFilesystem,
  withOverlay,
  withTmpfs,
  xfsSkip,
} from "./_support/mounts.ts";

/** Bun stops a test after 5 s unless told otherwise; these mount and start nine processes. */
const TIMEOUT_MS = 120_000;

const ROOT = path.join(import.meta.dirname ?? ".", "..");
const BIN = path.join(ROOT, "node_modules", ".bin");
const SOURCE_CLI = path.join(ROOT, "src", "cli.ts");
const NODE_CLI = path.join(ROOT, "dist", "npyalloc.mjs");

/** A way to run npyalloc: the runtime's name as the report says it, and the command. */
interface Runtime {
  readonly name: "deno" | "bun" | "node";
  readonly argv: readonly string[];
}

const RUNTIMES: readonly Runtime[] = [
  { name: "deno", argv: [path.join(BIN, "deno"), "run", "-A", SOURCE_CLI] },
  { name: "bun", argv: [path.join(BIN, "bun"), SOURCE_CLI] },
  // What `npx npyalloc` runs: the npm bundle, finding koffi in node_modules.
  { name: "node", argv: ["node", NODE_CLI] },
];

/** The manifest every runtime runs, and what NumPy writes for each of its arrays. */
const MANIFEST = `version: 1
arrays:
  - { path: data/reserved.npy, shape: [1000, 1000], dtype: float32 }
  - { path: data/constant.npy, shape: [300, 700], dtype: int16, fill: -3 }
  - { path: data/sparse.npy, shape: [512, 1024], allocation: sparse }
  - { path: data/more/random.npy, shape: [200, 300], fill: { random: { seed: 1 } } }
`;

/** Per array: how it must be laid out (`reserve` depends on the mount), and NumPy's code for it. */
const ARRAYS: readonly { path: string; by: "reserve" | "write" | "truncate"; numpy: string }[] = [
  { path: "data/reserved.npy", by: "reserve", numpy: "np.zeros((1000, 1000), np.float32)" },
  { path: "data/constant.npy", by: "write", numpy: "np.full((300, 700), -3, np.int16)" },
  { path: "data/sparse.npy", by: "truncate", numpy: "np.zeros((512, 1024))" },
  {
    path: "data/more/random.npy",
    by: "write",
    numpy: "np.random.default_rng(1).random(200 * 300).reshape(200, 300)",
  },
];

let numpyFiles: Map<string, Buffer> | undefined;

/** NumPy's files for {@linkcode ARRAYS}, made once (by the first test that runs). */
function expected(): Map<string, Buffer> {
  if (numpyFiles !== undefined) return numpyFiles;
  const { dir, remove } = tempDir("filesystems-numpy");
  try {
    const script = ARRAYS.map((a, i) => `np.save(${JSON.stringify(`${dir}/${i}.npy`)}, ${a.numpy})`)
      .join("\n");
    runPythonJson(`${script}\nprint(json.dumps(True))`);
    numpyFiles = new Map(
      ARRAYS.map((a, i) => [a.path, fs.readFileSync(path.join(dir, `${i}.npy`))]),
    );
    return numpyFiles;
  } finally {
    remove();
  }
}

/** What a mount can do, asked of the kernel directly (Python's `os.open` and libc's fallocate). */
interface Probe {
  /** `null` when `O_TMPFILE` works, else the errno. */
  readonly tmpfile: number | null;
  /** `null` when fallocate(2) mode 0 works, else the errno. */
  readonly fallocate: number | null;
}

function probe(dir: string): Probe {
  return runPythonJson<Probe>(`
import ctypes, os
dir = ${JSON.stringify(dir)}
try:
    os.close(os.open(dir, os.O_TMPFILE | os.O_WRONLY, 0o600))
    tmpfile = None
except OSError as e:
    tmpfile = e.errno
libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong]
name = os.path.join(dir, "probe")
fd = os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
try:
    fallocate = None if libc.fallocate(fd, 0, 0, 1 << 20) == 0 else ctypes.get_errno()
finally:
    os.close(fd)
    os.unlink(name)
print(json.dumps({"tmpfile": tmpfile, "fallocate": fallocate}))
`);
}

/** One mount under test. */
interface Mount {
  /** The type the report must name. */
  readonly type: string;
  readonly skip: false | string;
  /**
   * Mounts it for `fn`: `dir` is where the test writes; `blocks` is where the allocated blocks
   * of a file there are asked (FUSE caches attributes: there, the folder it shows).
   */
  readonly mount: (
    fn: (dir: string, blocks: (file: string) => string) => void,
  ) => Promise<void>;
  /**
   * Whether it has O_TMPFILE (bindfs stands for the filesystems that do not); `null`: it depends
   * on the kernel (overlay has it since Linux 6.6).
   */
  readonly tmpfile: boolean | null;
}

const same = (file: string) => file;

const MOUNTS: readonly Mount[] = [
  {
    type: "tmpfs",
    skip: mountSkip("a tmpfs"),
    mount: (fn) => withTmpfs({ size: "64m" }, (dir) => fn(dir, same)),
    tmpfile: true,
  },
  {
    type: "ext4",
    skip: mountSkip("an ext4 image"),
    mount: (fn) => withLoopFilesystem("ext4", { sizeMiB: 64 }, (dir) => fn(dir, same)),
    tmpfile: true,
  },
  {
    type: "xfs",
    skip: xfsSkip(),
    mount: (fn) => withLoopFilesystem("xfs", { sizeMiB: 96 }, (dir) => fn(dir, same)),
    tmpfile: true,
  },
  {
    type: "btrfs",
    skip: btrfsSkip(),
    mount: (fn) => withLoopFilesystem("btrfs", { sizeMiB: 160 }, (dir) => fn(dir, same)),
    tmpfile: true,
  },
  {
    type: "overlay",
    skip: mountSkip("an overlay filesystem"),
    mount: (fn) => withOverlay(64, (dir) => fn(dir, same)),
    tmpfile: null,
  },
  {
    type: "fuse",
    skip: bindfsSkip(),
    mount: (fn) =>
      withBindfs(
        64,
        ({ dir, source }) => fn(dir, (file) => path.join(source, path.relative(dir, file))),
      ),
    tmpfile: false,
  },
];

function runNpyalloc(runtime: Runtime, args: readonly string[], cwd: string) {
  const [program, ...rest] = runtime.argv as [string, ...string[]];
  const result = spawnSync(program, [...rest, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: "1" },
    encoding: "utf8",
  });
  if (result.error) throw result.error;
  return result;
}

interface Report {
  tool: { runtime: string };
  ok: boolean;
  filesystems: { path: string; type: string }[];
  arrays: { path: string; status: string; allocated_by: string | null; data_bytes: number }[];
  summary: { created: number; bytes_reserved: number };
  warnings?: string[];
}

/** Plans and runs the manifest with `runtime` in `dir/<runtime>`, and checks what it did. */
function checkRuntime(
  mount: Mount,
  runtime: Runtime,
  dir: string,
  blocksOf: (file: string) => string,
  probed: Probe,
): void {
  const label = `${mount.type}, ${runtime.name}`;
  const folder = path.join(dir, runtime.name);
  fs.mkdirSync(folder);
  fs.writeFileSync(path.join(folder, "m.yaml"), MANIFEST);
  const reportFile = path.join(folder, "report.json");

  const plan = runNpyalloc(runtime, ["plan", "m.yaml", "-r", "report.json"], folder);
  assert.equal(plan.status, 0, `${label}: plan: ${plan.stderr}`);
  const planned = JSON.parse(fs.readFileSync(reportFile, "utf8")) as Report;
  assert.deepEqual(planned.filesystems.map((f) => f.type), [mount.type], `${label}: plan report`);
  const real = fs.realpathSync(folder);
  assert.ok(
    `${plan.stdout}${plan.stderr}`.includes(`${real} (${mount.type}): `),
    `${label}: plan names the filesystem type:\n${plan.stdout}${plan.stderr}`,
  );

  const run = runNpyalloc(runtime, ["run", "m.yaml", "-q", "-r", "report.json"], folder);
  assert.equal(run.status, 0, `${label}: run: ${run.stderr}`);
  const report = JSON.parse(fs.readFileSync(reportFile, "utf8")) as Report;
  assert.match(report.tool.runtime, new RegExp(`^${runtime.name} `), label);
  assert.equal(report.ok, true, label);
  assert.deepEqual(report.filesystems.map((f) => f.type), [mount.type], `${label}: run report`);

  // Nothing else is there: no temporary file of an array or of the report.
  assert.deepEqual(
    listFiles(folder),
    [
      "data/constant.npy",
      "data/more/random.npy",
      "data/reserved.npy",
      "data/sparse.npy",
      "m.yaml",
      "report.json",
    ],
    `${label}: files left`,
  );

  const reservedBy = probed.fallocate === null ? "fallocate" : "zeros";
  let reserved = 0;
  for (const want of ARRAYS) {
    const entry = report.arrays.find((a) => a.path === want.path);
    assert.ok(entry !== undefined, `${label}: ${want.path} is in the report`);
    const by = want.by === "reserve" ? reservedBy : want.by;
    assert.equal(entry.status, "created", `${label}: ${want.path}`);
    assert.equal(entry.allocated_by, by, `${label}: ${want.path} allocated_by`);
    if (by === "fallocate") reserved += entry.data_bytes;

    const file = path.join(folder, want.path);
    const bytes = fs.readFileSync(file);
    assert.ok(bytes.equals(expected().get(want.path)!), `${label}: ${want.path} is NumPy's file`);
    // What allocated_by says is on disk: blocks for all of a reserved or written file, next to
    // none for a sparse one.
    const allocated = fs.statSync(blocksOf(file)).blocks * 512;
    if (by === "truncate") {
      assert.ok(allocated <= 64 * 1024, `${label}: ${want.path} is sparse (${allocated} bytes)`);
    } else {
      assert.ok(
        allocated >= bytes.length,
        `${label}: ${want.path} (${by}) holds ${allocated} bytes for ${bytes.length}`,
      );
    }
  }
  assert.equal(report.summary.created, ARRAYS.length, label);
  assert.equal(report.summary.bytes_reserved, reserved, `${label}: bytes_reserved`);
}

describe("filesystems mounted by the test, on Deno, Bun and Node.js", () => {
  for (const mount of MOUNTS) {
    test(
      skipNamed(
        `${mount.type}: plan and report name it, every array is NumPy's, no temp left, allocated_by true`,
        mount.skip,
      ),
      { skip: mount.skip, timeout: TIMEOUT_MS },
      async () => {
        assert.ok(
          fs.existsSync(NODE_CLI),
          `${NODE_CLI} is missing: run \`npm run build\` first (npm test does)`,
        );
        await mount.mount((dir, blocksOf) => {
          const probed = probe(dir);
          if (mount.tmpfile === true) {
            assert.equal(probed.tmpfile, null, `${mount.type} has O_TMPFILE`);
          } else if (mount.tmpfile === false) {
            // What makes this mount the stand-in: files can only be made with a name there.
            // Errno 95 is EOPNOTSUPP, also named ENOTSUP (Python, Deno and Bun say the latter).
            assert.equal(probed.tmpfile, 95, `${mount.type} has no O_TMPFILE`);
          }
          for (const runtime of RUNTIMES) checkRuntime(mount, runtime, dir, blocksOf, probed);
          // ext4 makes lost+found; nothing else is there but the runtimes' folders.
          const left = fs.readdirSync(dir).filter((name) => name !== "lost+found").sort();
          assert.deepEqual(left, RUNTIMES.map((r) => r.name).sort(), `${mount.type}: its root`);
        });
      },
    );
  }
});

/** `f_type` of zfs (`ZFS_SUPER_MAGIC` of OpenZFS). */
const ZFS = 0x2fc12fc1;

/** The platform of this runtime, but its statfs says every filesystem is `type`. */
async function platformSaying(type: number): Promise<Platform> {
  const real = await loadPlatform();
  return { ...real, statfs: (file) => ({ ...real.statfs(file), type }) };
}

/** Runs npyalloc in this process on `platform`; returns the exit code and all it printed. */
async function runWith(platform: Platform, args: readonly string[]) {
  let output = "";
  const status = await runCli(args, {
    stdout: (text) => void (output += text),
    stderr: (text) => void (output += text),
    env: {},
    isTTY: false,
    platform: () => Promise.resolve(platform),
  });
  return { status, output };
}

describe("a filesystem whose fallocate holds no blocks (zfs, its statfs faked)", () => {
  test("the table: zfs reserves nothing; ext4, xfs, btrfs, tmpfs and fuse hold what they reserve", () => {
    assert.equal(filesystemKind(ZFS).name, "zfs");
    assert.equal(filesystemKind(ZFS).reservesNothing, true);
    for (const type of [0xef53, 0x58465342, 0x9123683e, 0x01021994, 0x65735546]) {
      assert.notEqual(filesystemKind(type).reservesNothing, true, filesystemKind(type).name);
    }
  });

  test("the plan counts the reservations it cannot hold, and warns; elsewhere it does not", async () => {
    await withTempDir("zfs-plan", async (dir) => {
      fs.writeFileSync(path.join(dir, "m.yaml"), MANIFEST);
      for (const [type, name] of [[ZFS, "zfs"], [0xef53, "ext4"]] as const) {
        const platform = await platformSaying(type);
        const { arrays } = await loadManifest(path.join(dir, "m.yaml"), { platform });
        const planned = await classifyTargets(arrays, { force: false, fs: platform });
        const budgets = planSpace(planned, { fs: platform });
        assert.equal(budgets.length, 1);
        const [budget] = budgets;
        assert.equal(budget?.type, name);
        // The reservation is charged in full either way: it must fit now.
        assert.ok(budget !== undefined && budget.required_bytes >= 4_000_000n + 420_000n);
        const warning = spaceWarnings(budgets).filter((w) => w.includes("holds no blocks"));
        if (name === "zfs") {
          assert.equal(budget.unreserved_bytes, 4_000_000n);
          assert.deepEqual(warning, [
            `The filesystem of '${budget.path}' (zfs) holds no blocks ahead of writes ` +
            "(copy-on-write): 3.8 MiB (4000000 bytes) of 'reserve' arrays fit now but are " +
            "created sparse, not reserved; writing them can still fail when it fills (a " +
            "reservation on the dataset holds the space)",
          ]);
        } else {
          assert.equal(budget.unreserved_bytes, 0n);
          assert.deepEqual(warning, []);
        }
      }
    });
  });

  test("run: the reservation is made sparse, reported truncate, nothing counted as reserved", {
    timeout: TIMEOUT_MS,
  }, async () => {
    const platform = await platformSaying(ZFS);
    await withTempDir("zfs-run", async (dir) => {
      fs.writeFileSync(path.join(dir, "m.yaml"), MANIFEST);
      const manifest = path.join(dir, "m.yaml");
      const report = path.join(dir, "report.json");

      const plan = await runWith(platform, ["plan", manifest, "-r", report]);
      assert.equal(plan.status, 0, plan.output);
      assert.match(plan.output, new RegExp(`${fs.realpathSync(dir)} \\(zfs\\): `));
      assert.match(plan.output, /warning: .*\(zfs\) holds no blocks ahead of writes/);

      const run = await runWith(platform, ["run", manifest, "-q", "-r", report]);
      assert.equal(run.status, 0, run.output);
      const json = JSON.parse(fs.readFileSync(report, "utf8")) as Report;
      assert.deepEqual(json.filesystems.map((f) => f.type), ["zfs"]);
      assert.deepEqual(
        json.arrays.map((a) => [a.path, a.status, a.allocated_by]),
        [
          ["data/reserved.npy", "created", "truncate"],
          ["data/constant.npy", "created", "write"],
          ["data/sparse.npy", "created", "truncate"],
          ["data/more/random.npy", "created", "write"],
        ],
      );
      assert.equal(json.summary.bytes_reserved, 0);
      assert.ok(json.warnings?.some((w) => w.includes("(zfs) holds no blocks ahead of writes")));
      for (const want of ARRAYS) {
        const file = path.join(dir, want.path);
        assert.ok(fs.readFileSync(file).equals(expected().get(want.path)!), want.path);
      }
      // Sparse indeed: the blocks of a reservation are not there to be claimed.
      const blocks = fs.statSync(path.join(dir, "data/reserved.npy")).blocks * 512;
      assert.ok(blocks <= 64 * 1024, `data/reserved.npy holds ${blocks} bytes`);
    });
  });

  test("create says the reservation is sparse there", async () => {
    const platform = await platformSaying(ZFS);
    await withTempDir("zfs-create", async (dir) => {
      const file = path.join(dir, "x.npy");
      const created = await runWith(platform, ["create", file, "--shape", "1000,1000"]);
      assert.equal(created.status, 0, created.output);
      assert.match(created.output, /reserve \(this filesystem holds no blocks for it: sparse\)/);
      assert.match(created.output, /warning: .*\(zfs\) holds no blocks ahead of writes/);
      assert.ok(fs.statSync(file).blocks * 512 <= 64 * 1024);
    });
  });
});
