/**
 * Every manifest in examples/ runs as a user would run it (copied into a
 * throwaway folder, with small sizes where the example says how), and the
 * result verifies deeply.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { runCliProcess } from "./_support/cli.ts";
import { runPythonJson } from "./_support/numpy.ts";
import { tempDir } from "./_support/temp.ts";

const EXAMPLES = path.join(import.meta.dirname ?? ".", "..", "examples");
const { dir, remove } = tempDir("examples");
after(remove);

/** Small sizes for the examples that are big by default. */
const ARGS: Record<string, string[]> = {
  "quickstart.yaml": [],
  "ml_dataset.yaml": ["--var", "TRAIN=512", "--var", "TEST=128"],
  "hpc_preamble.yaml": ["--var", "NX=16", "--var", "NY=16", "--var", "NZ=8"],
};

describe("examples", () => {
  const names = fs.readdirSync(EXAMPLES).filter((f) => f.endsWith(".yaml")).sort();

  test("every example is exercised here", () => {
    assert.deepEqual(names, Object.keys(ARGS).sort());
  });

  for (const name of names) {
    test(name, () => {
      const text = fs.readFileSync(path.join(EXAMPLES, name), "utf8");
      assert.match(
        text,
        /^# yaml-language-server: \$schema=\.\.\/schemas\/manifest\.schema\.json\n/,
      );
      const work = path.join(dir, name.replace(".yaml", ""));
      fs.mkdirSync(work);
      const manifest = path.join(work, name);
      fs.writeFileSync(manifest, text);
      const env = { SLURM_JOB_ID: "4242" };
      const args = ARGS[name] ?? [];
      const run = runCliProcess(["run", manifest, ...args], { env });
      assert.equal(run.status, 0, run.stderr);
      const report = JSON.parse(fs.readFileSync(path.join(work, "npyalloc-report.json"), "utf8"));
      assert.equal(report.ok, true);
      assert.ok(report.summary.created > 0);
      const verify = runCliProcess(["verify", manifest, "--deep", ...args], { env });
      assert.equal(verify.status, 0, verify.stdout + verify.stderr);
      if (name === "ml_dataset.yaml") {
        // The generated arrays are what the NumPy expressions of their comments give.
        const same = runPythonJson<boolean[]>(
          `root = ${JSON.stringify(path.join(work, "data", "ml", "synthetic"))}
rng = np.random.default_rng
n = 512
want = {
  "features": rng(7).random((n, 16), np.float32),
  "labels": rng(8).integers(0, 10, size=n),
  "noise": rng(9).normal(0, 0.1, n * 16).astype(np.float32).reshape(n, 16),
  "index": np.arange(n),
}
print(json.dumps([bool(np.array_equal(np.load(f"{root}/{k}.npy"), v)) and np.load(f"{root}/{k}.npy").dtype == v.dtype for k, v in want.items()]))`,
        );
        assert.deepEqual(same, [true, true, true, true]);
      }
      if (name === "hpc_preamble.yaml") {
        assert.ok(
          fs.existsSync(path.join(work, "data", "scratch", "run-4242", "fields", "velocity.npy")),
        );
      }
    });
  }
});
