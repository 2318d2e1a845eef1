/**
 * Which shard a task runs: `--shard K/N`, and `--shard auto` reading Slurm job arrays, Slurm
 * tasks and NPYALLOC_SHARD, with one clear line for every inconsistent value; and where the
 * report of a shard goes.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { NpyallocError } from "../src/errors.ts";
import {
  reportPath,
  reportPathWarning,
  resolveShard,
  type ShardEnv,
  shardFromEnv,
} from "../src/shard/mod.ts";

/** The `E_USAGE` message `fn` throws. */
function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof NpyallocError, String(err));
    assert.equal(err.code, "E_USAGE");
    assert.ok(!err.message.includes("\n"), "one line");
    return err.message;
  }
  assert.fail("expected an E_USAGE error");
}

function pick(env: ShardEnv): [number, number, string] | null {
  const shard = shardFromEnv(env);
  return shard === null ? null : [shard.index, shard.count, shard.source];
}

describe("--shard K/N", () => {
  test("accepts K/N with 0 <= K < N", () => {
    assert.deepEqual(resolveShard("0/1", {}), {
      index: 0,
      count: 1,
      source: "option",
      origin: "--shard 0/1",
    });
    assert.equal(resolveShard("3/4", {})?.index, 3);
    assert.equal(resolveShard(" 7 / 8 ", {})?.count, 8);
  });

  test("refuses anything else with one line", () => {
    assert.match(usage(() => resolveShard("4/4", {})), /shard 4 does not exist.*0 to 3/);
    assert.match(usage(() => resolveShard("0/0", {})), /number of shards must be at least 1/);
    assert.match(usage(() => resolveShard("1", {})), /must be K\/N .* got '1'/);
    assert.match(usage(() => resolveShard("-1/4", {})), /must be K\/N/);
    assert.match(usage(() => resolveShard("1.5/4", {})), /must be K\/N/);
    assert.match(usage(() => resolveShard("a/b", {})), /must be K\/N/);
    assert.match(usage(() => resolveShard("0/2000000", {})), /at most 1000000/);
  });

  test("K/N wins over the environment", () => {
    assert.equal(resolveShard("1/2", { SLURM_ARRAY_TASK_ID: "0" })?.index, 1);
  });
});

describe("--shard auto", () => {
  test("a Slurm job array: SLURM_ARRAY_TASK_ID with COUNT, or MIN/MAX (and STEP)", () => {
    assert.deepEqual(pick({ SLURM_ARRAY_TASK_ID: "2", SLURM_ARRAY_TASK_COUNT: "4" }), [
      2,
      4,
      "SLURM_ARRAY_TASK_ID",
    ]);
    // sbatch --array=0-3 sets all of them
    const full = {
      SLURM_ARRAY_TASK_ID: "3",
      SLURM_ARRAY_TASK_COUNT: "4",
      SLURM_ARRAY_TASK_MIN: "0",
      SLURM_ARRAY_TASK_MAX: "3",
      SLURM_ARRAY_TASK_STEP: "1",
      SLURM_PROCID: "0",
    };
    assert.deepEqual(pick(full), [3, 4, "SLURM_ARRAY_TASK_ID"]);
    // --array=4-7: ids from 4
    assert.deepEqual(
      pick({ SLURM_ARRAY_TASK_ID: "5", SLURM_ARRAY_TASK_MIN: "4", SLURM_ARRAY_TASK_MAX: "7" }),
      [1, 4, "SLURM_ARRAY_TASK_ID"],
    );
    // --array=0-10:2
    assert.deepEqual(
      pick({
        SLURM_ARRAY_TASK_ID: "6",
        SLURM_ARRAY_TASK_MIN: "0",
        SLURM_ARRAY_TASK_MAX: "10",
        SLURM_ARRAY_TASK_STEP: "2",
        SLURM_ARRAY_TASK_COUNT: "6",
      }),
      [3, 6, "SLURM_ARRAY_TASK_ID"],
    );
    // --array=0-10:3, as Slurm 22.05 sets it: ids 0, 3, 6, 9
    assert.deepEqual(
      pick({
        SLURM_ARRAY_TASK_ID: "6",
        SLURM_ARRAY_TASK_MIN: "0",
        SLURM_ARRAY_TASK_MAX: "9",
        SLURM_ARRAY_TASK_STEP: "3",
        SLURM_ARRAY_TASK_COUNT: "4",
      }),
      [2, 4, "SLURM_ARRAY_TASK_ID"],
    );
    assert.equal(
      shardFromEnv({
        SLURM_ARRAY_TASK_ID: "5",
        SLURM_ARRAY_TASK_MIN: "4",
        SLURM_ARRAY_TASK_MAX: "7",
      })
        ?.origin,
      "SLURM_ARRAY_TASK_ID=5 in 4..7",
    );
  });

  test("inconsistent job arrays are refused", () => {
    assert.match(
      usage(() =>
        shardFromEnv({
          SLURM_ARRAY_TASK_ID: "7",
          SLURM_ARRAY_TASK_MIN: "0",
          SLURM_ARRAY_TASK_MAX: "3",
        })
      ),
      /SLURM_ARRAY_TASK_ID=7 is outside SLURM_ARRAY_TASK_MIN\.\.SLURM_ARRAY_TASK_MAX = 0\.\.3/,
    );
    assert.match(
      usage(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: "4", SLURM_ARRAY_TASK_COUNT: "4" })),
      /shard 4 does not exist/,
    );
    assert.match(
      usage(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: "0", SLURM_ARRAY_TASK_COUNT: "0" })),
      /at least 1/,
    );
    assert.match(
      usage(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: "2" })),
      /without SLURM_ARRAY_TASK_COUNT or SLURM_ARRAY_TASK_MIN\/MAX/,
    );
    assert.match(
      usage(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: "x", SLURM_ARRAY_TASK_COUNT: "4" })),
      /SLURM_ARRAY_TASK_ID must be an integer >= 0, got 'x'/,
    );
    // --array=1,3,7: three tasks, ids 1..7 with gaps (Slurm 22.05 sets STEP=1)
    assert.match(
      usage(() =>
        shardFromEnv({
          SLURM_ARRAY_TASK_ID: "3",
          SLURM_ARRAY_TASK_MIN: "1",
          SLURM_ARRAY_TASK_MAX: "7",
          SLURM_ARRAY_TASK_STEP: "1",
          SLURM_ARRAY_TASK_COUNT: "3",
        })
      ),
      /the job array has gaps/,
    );
    assert.match(
      usage(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: "3", SLURM_ARRAY_TASK_MIN: "1" })),
      /must be set together/,
    );
    assert.match(
      usage(() =>
        shardFromEnv({
          SLURM_ARRAY_TASK_ID: "3",
          SLURM_ARRAY_TASK_MIN: "0",
          SLURM_ARRAY_TASK_MAX: "10",
          SLURM_ARRAY_TASK_STEP: "2",
        })
      ),
      /not on the job array's step 2/,
    );
  });

  test("Slurm tasks: SLURM_PROCID with SLURM_NTASKS, inside srun", () => {
    const task = { SLURM_PROCID: "1", SLURM_NTASKS: "2", SLURM_STEP_ID: "0" };
    assert.deepEqual(pick(task), [1, 2, "SLURM_PROCID"]);
    assert.deepEqual(pick({ SLURM_PROCID: "0", SLURM_NTASKS: "1" }), [0, 1, "SLURM_PROCID"]);
    assert.match(
      usage(() => shardFromEnv({ SLURM_PROCID: "2", SLURM_NTASKS: "2", SLURM_STEP_ID: "0" })),
      /SLURM_PROCID=2 with SLURM_NTASKS=2: shard 2 does not exist/,
    );
    // The batch script of `sbatch -n 4` has SLURM_PROCID=0 and SLURM_NTASKS=4 but no step.
    assert.match(
      usage(() => shardFromEnv({ SLURM_PROCID: "0", SLURM_NTASKS: "4" })),
      /comes from a batch script.*srun/,
    );
    // A job array task has SLURM_PROCID=0 without SLURM_NTASKS: the array decides.
    assert.deepEqual(
      pick({ SLURM_PROCID: "0", SLURM_ARRAY_TASK_ID: "1", SLURM_ARRAY_TASK_COUNT: "3" }),
      [1, 3, "SLURM_ARRAY_TASK_ID"],
    );
    // SLURM_PROCID alone (a one-task batch job) is no shard.
    assert.equal(pick({ SLURM_PROCID: "0" }), null);
  });

  test("NPYALLOC_SHARD, then the whole manifest", () => {
    assert.deepEqual(pick({ NPYALLOC_SHARD: "2/3" }), [2, 3, "NPYALLOC_SHARD"]);
    assert.match(
      usage(() => shardFromEnv({ NPYALLOC_SHARD: "3/3" })),
      /NPYALLOC_SHARD 3\/3: shard 3 does not exist/,
    );
    assert.match(usage(() => shardFromEnv({ NPYALLOC_SHARD: "half" })), /got 'half'/);
    assert.equal(pick({ NPYALLOC_SHARD: "" }), null);
    assert.equal(pick({}), null);
    assert.equal(resolveShard("auto", {}), null);
    // Slurm wins over NPYALLOC_SHARD
    assert.deepEqual(
      pick({ NPYALLOC_SHARD: "0/9", SLURM_PROCID: "1", SLURM_NTASKS: "2", SLURM_STEPID: "3" }),
      [1, 2, "SLURM_PROCID"],
    );
  });
});

describe("report paths", () => {
  const shard = { index: 2, count: 8, source: "option" as const, origin: "--shard 2/8" };

  test("beside the manifest by default", () => {
    assert.equal(reportPath(undefined, "m.yaml", null), "npyalloc-report.json");
    assert.equal(
      reportPath(undefined, path.join("a", "b", "m.yaml"), shard),
      path.join("a", "b", "npyalloc-report.shard-2-of-8.json"),
    );
  });

  test("-r with {shard} and {count}; 0 and 1 for the whole manifest", () => {
    assert.equal(reportPath("r/{shard}-of-{count}.json", "m.yaml", shard), "r/2-of-8.json");
    assert.equal(reportPath("r/{shard}-{shard}.json", "m.yaml", shard), "r/2-2.json");
    assert.equal(reportPath("r/{shard}-of-{count}.json", "m.yaml", null), "r/0-of-1.json");
    assert.equal(reportPath("-", "m.yaml", shard), "-");
  });

  test("a warning when every shard would write the same report", () => {
    assert.match(reportPathWarning("r.json", shard) ?? "", /no \{shard\} placeholder/);
    assert.equal(reportPathWarning("r-{shard}.json", shard), null);
    assert.equal(reportPathWarning(undefined, shard), null);
    assert.equal(reportPathWarning("-", shard), null);
    assert.equal(reportPathWarning("r.json", null), null);
  });
});
