// The edges of the no-clobber promise that input alone reaches (docs/guarantees.md, "the report"
// and "memory"; docs/manifest.md, "checks"): a report path that would replace user data, a report
// that cannot be written, manifests that never end, symbolic links between target folders, and
// the fill buffers of many arrays at once. Each goes through the real command line, and each
// case checks that nothing already on disk changed.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { listFiles } from "./_support/temp.ts";
import { readReport } from "./_support/report.ts";
import { runCli } from "./_support/cli.ts";
import { PatternBuffers } from "../src/run/fill_writer.ts";
import { PATTERN_BUFFER_BUDGET } from "../src/limits.ts";

/** Bun stops a test after 5 s unless told otherwise. */
const TIMEOUT_MS = 60_000;

const base = fs.mkdtempSync(path.join(os.tmpdir(), "npyalloc-edges-input-"));
after(() => fs.rmSync(base, { recursive: true, force: true }));
let counter = 0;

const MANIFEST = [
  "version: 1",
  "root: data",
  "arrays:",
  "  - {path: a/x.npy, dtype: float32, shape: [4], fill: 1.5}",
  "  - {path: a/y.npy, dtype: int8, shape: [3]}",
  "",
].join("\n");

/** A fresh folder holding `m.yaml` (MANIFEST unless given) and, after `run`, its arrays. */
function caseDir(manifest = MANIFEST): { dir: string; manifest: string } {
  const dir = path.join(base, `c${counter++}`);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, "m.yaml"), manifest);
  return { dir, manifest: path.join(dir, "m.yaml") };
}

/** Every file below `dir` with its bytes, to show that nothing changed. */
function snapshot(dir: string): Map<string, string> {
  return new Map(
    listFiles(dir).map((f) => [f, fs.readFileSync(path.join(dir, f)).toString("base64")]),
  );
}

/** `-r DIR/rN.json` for the commands that write a report. */
function reportArgs(command: string, dir: string): string[] {
  return command === "validate" ? [] : ["-r", path.join(dir, `r${counter++}.json`)];
}

describe("a report path that would replace user data is refused, nothing touched", () => {
  const cases: [string, (dir: string) => string, RegExp][] = [
    [
      "the manifest",
      (dir) => path.join(dir, "m.yaml"),
      /that is the manifest; nothing was touched/,
    ],
    [
      "an array of the manifest",
      (dir) => path.join(dir, "data", "a", "x.npy"),
      /that is the array 'a\/x\.npy' of the manifest; nothing was touched/,
    ],
    [
      "the same array through a symbolic link to its folder",
      (dir) => {
        fs.symlinkSync(path.join(dir, "data", "a"), path.join(dir, "link"));
        return path.join(dir, "link", "y.npy");
      },
      /that is the array 'a\/y\.npy' of the manifest; nothing was touched/,
    ],
    [
      "an existing file that is not a report",
      (dir) => {
        fs.writeFileSync(path.join(dir, "notes.json"), '{"mine": true}\n');
        return path.join(dir, "notes.json");
      },
      /a file is there that is not an npyalloc report \(remove it, or choose another path\); nothing was touched/,
    ],
  ];
  for (const command of ["run", "plan"]) {
    for (const [what, reportPath, message] of cases) {
      test(`${command} -r <${what}>: exit 2`, { timeout: TIMEOUT_MS }, async () => {
        const c = caseDir();
        const first = await runCli(["run", c.manifest, "-r", path.join(c.dir, "first.json")]);
        assert.equal(first.status, 0, first.stderr);
        const target = reportPath(c.dir);
        const before = snapshot(c.dir);
        const result = await runCli([command, c.manifest, "-r", target]);
        assert.equal(result.status, 2, result.stderr);
        assert.match(result.stderr, message);
        assert.deepEqual(snapshot(c.dir), before);
      });
    }
  }

  test(
    "the manifest is kept on the conflict path (exit 4) too",
    { timeout: TIMEOUT_MS },
    async () => {
      const c = caseDir();
      fs.mkdirSync(path.join(c.dir, "data", "a"), { recursive: true });
      fs.writeFileSync(path.join(c.dir, "data", "a", "x.npy"), "results of a week\n");
      const before = snapshot(c.dir);
      const result = await runCli(["run", c.manifest, "-r", c.manifest]);
      assert.equal(result.status, 2, result.stderr);
      assert.deepEqual(snapshot(c.dir), before);
      // Without the bad -r, the same run is the conflict it is, and still keeps the file.
      const conflict = await runCli(["run", c.manifest, "-r", path.join(c.dir, "r.json")]);
      assert.equal(conflict.status, 4, conflict.stderr);
      assert.equal(
        fs.readFileSync(path.join(c.dir, "data", "a", "x.npy"), "utf8"),
        "results of a week\n",
      );
    },
  );

  test("an earlier npyalloc report is replaced", { timeout: TIMEOUT_MS }, async () => {
    const c = caseDir();
    const report = path.join(c.dir, "r.json");
    assert.equal((await runCli(["plan", c.manifest, "-r", report])).status, 0);
    const result = await runCli(["run", c.manifest, "-r", report]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(readReport(report).summary.created, 2);
  });
});

describe("a report that cannot be written is a failure", () => {
  for (const command of ["run", "plan"]) {
    test(`${command} -r afile/r.json where afile is a file: exit 1, the reason named`, {
      timeout: TIMEOUT_MS,
    }, async () => {
      const c = caseDir();
      fs.writeFileSync(path.join(c.dir, "afile"), "mine\n");
      const result = await runCli([command, c.manifest, "-r", path.join(c.dir, "afile", "r.json")]);
      assert.equal(result.status, 1, result.stderr);
      assert.match(
        result.stderr,
        /Cannot write the report '.*afile\/r\.json': '.*afile' is a file, not a folder/,
      );
      assert.doesNotMatch(result.stderr, /EEXIST|\n\s+at /);
      assert.equal(fs.readFileSync(path.join(c.dir, "afile"), "utf8"), "mine\n");
    });
  }
});

describe("manifest reads are bounded, whatever the file is", () => {
  for (const device of ["/dev/zero", "/dev/urandom"]) {
    for (const command of ["validate", "plan", "run"]) {
      test(`${command} ${device}: exit 2, the limit named`, { timeout: TIMEOUT_MS }, async () => {
        const c = caseDir();
        const result = await runCli([command, device, ...reportArgs(command, c.dir)], {
          cwd: c.dir,
        });
        assert.equal(result.status, 2, result.stderr);
        assert.match(result.stderr, /is more than the limit of 67108864 bytes/);
        assert.deepEqual(listFiles(c.dir).filter((f) => !/^r[0-9]+\.json$/.test(f)), ["m.yaml"]);
      });
    }
  }

  test("an endless standard input (validate -): exit 2", { timeout: TIMEOUT_MS }, async () => {
    const c = caseDir();
    const input = `${"# padding\n".repeat(7_000_000)}`;
    const result = await runCli(["validate", "-"], { cwd: c.dir, input });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /is more than the limit of 67108864 bytes/);
  });
});

describe("symbolic links between target folders are judged before anything is written", () => {
  /** A root `data/` with folder `x/` and the links `setup` adds, and a manifest of `paths`. */
  function linked(paths: string[], setup: (data: string) => void) {
    const c = caseDir([
      "version: 1",
      "root: data",
      "arrays:",
      ...paths.map((p) => `  - {path: ${p}, dtype: float32, shape: [4]}`),
      "",
    ].join("\n"));
    const data = path.join(c.dir, "data");
    fs.mkdirSync(path.join(data, "x"), { recursive: true });
    setup(data);
    return c;
  }

  /** `command` on the case's manifest: exit 2 with `message`, nothing below the case changed. */
  async function assertRefused(
    command: string,
    c: { dir: string; manifest: string },
    message: RegExp,
  ): Promise<void> {
    const before = snapshot(c.dir);
    const result = await runCli([command, c.manifest, ...reportArgs(command, base)]);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, message);
    assert.deepEqual(snapshot(c.dir), before);
  }

  for (const command of ["validate", "plan", "run"]) {
    test(`${command}: y -> x makes x/a.npy and y/a.npy one file: exit 2`, {
      timeout: TIMEOUT_MS,
    }, async () => {
      const c = linked(["x/a.npy", "y/a.npy"], (data) => fs.symlinkSync("x", path.join(data, "y")));
      await assertRefused(
        command,
        c,
        /arrays\[1\]\.path: Path 'y\/a\.npy' is the same file as 'x\/a\.npy' \(through a symbolic link\), first declared at line 4/,
      );
    });

    test(`${command}: a dangling symlinked folder: exit 2`, { timeout: TIMEOUT_MS }, async () => {
      const c = linked(["z/a.npy"], (data) => fs.symlinkSync("nowhere", path.join(data, "z")));
      await assertRefused(
        command,
        c,
        /Folder 'z' is a symbolic link to 'nowhere', which does not exist/,
      );
      assert.ok(!fs.existsSync(path.join(c.dir, "data", "nowhere")));
    });
  }

  test("run: the same file under two names is refused even when both exist and agree", {
    timeout: TIMEOUT_MS,
  }, async () => {
    const c = linked(["x/a.npy"], () => {});
    assert.equal((await runCli(["run", c.manifest, "-r", path.join(c.dir, "r.json")])).status, 0);
    fs.symlinkSync("x", path.join(c.dir, "data", "y"));
    fs.writeFileSync(
      c.manifest,
      fs.readFileSync(c.manifest, "utf8") + "  - {path: y/a.npy, dtype: float32, shape: [4]}\n",
    );
    const result = await runCli(["run", c.manifest, "-r", path.join(c.dir, "r.json")]);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /is the same file as 'x\/a\.npy'/);
  });
});

describe("fill buffers share one budget, whatever --jobs", () => {
  test("16 arrays with 16 different fills at once never hold more than the budget", async () => {
    const buffers = new PatternBuffers(16);
    let peak = 0;
    const leases = await Promise.all(
      Array.from({ length: 64 }, async (_, i) => {
        const lease = await buffers.lend(
          `fill-${i % 16}`,
          buffers.share,
          (size) => new Uint8Array(size),
        );
        peak = Math.max(peak, buffers.inUse);
        await new Promise((resolve) => setTimeout(resolve, 1));
        lease.release();
        return lease.bytes.length;
      }),
    );
    assert.equal(leases.length, 64);
    assert.ok(peak <= PATTERN_BUFFER_BUDGET, `peak ${peak} > budget ${PATTERN_BUFFER_BUDGET}`);
    assert.ok(PATTERN_BUFFER_BUDGET <= 64 * 2 ** 20, "the budget leaves room under 100 MiB");
    assert.equal(buffers.inUse, 0, "every buffer is given back");
  });

  test("more distinct fills than the budget holds wait, then all complete", async () => {
    const buffers = new PatternBuffers(1, 4 * 2 ** 20);
    const first = await buffers.lend("a", 3 * 2 ** 20, (size) => new Uint8Array(size));
    let second = false;
    const waiting = buffers.lend("b", 3 * 2 ** 20, (size) => new Uint8Array(size)).then((lease) => {
      second = true;
      return lease;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(second, false, "the second buffer waits for room");
    const shared = await buffers.lend("a", 3 * 2 ** 20, () => assert.fail("a is shared, not made"));
    first.release();
    shared.release();
    const lease = await waiting;
    assert.equal(buffers.inUse, 3 * 2 ** 20);
    lease.release();
  });

  test("run -j 16 of 16 arrays with different fills writes each exactly", {
    timeout: TIMEOUT_MS,
  }, async () => {
    const c = caseDir([
      "version: 1",
      "root: data",
      "arrays:",
      ...Array.from(
        { length: 16 },
        (_, i) => `  - {path: f${i}.npy, dtype: uint8, shape: [3000000], fill: ${i + 1}}`,
      ),
      "",
    ].join("\n"));
    const result = await runCli([
      "run",
      c.manifest,
      "-j",
      "16",
      "--no-fsync",
      "-r",
      path.join(c.dir, "r.json"),
    ]);
    assert.equal(result.status, 0, result.stderr);
    for (let i = 0; i < 16; i++) {
      const bytes = fs.readFileSync(path.join(c.dir, "data", `f${i}.npy`));
      assert.equal(bytes.length, 128 + 3_000_000);
      assert.ok(
        bytes.subarray(128).every((b) => b === i + 1),
        `f${i}.npy holds ${i + 1} throughout`,
      );
    }
  });
});
