/**
 * Which shard a task runs: `--shard K/N`, and `--shard auto` reading every engine of
 * docs/sharding.md (Slurm job arrays and srun tasks, Grid Engine, LSF, AWS Batch, Google Cloud
 * Batch, Kubernetes Indexed Jobs, NPYALLOC_SHARD) in their order, with one clear line for every
 * inconsistent value; and where the report of a shard goes.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { NpyallocError } from "../src/errors.ts";
import { runCliProcess } from "./_support/cli.ts";
import { assertValidReport, readReport } from "./_support/report.ts";
import { tempDir } from "./_support/temp.ts";
import {
  reportPath,
  reportPathWarning,
  resolveShard,
  SHARD_SOURCES,
  type ShardEnv,
  shardFromEnv,
} from "../src/shard/mod.ts";

const SCHEMA = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
  "schemas",
  "report.schema.json",
);

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

/** The Grid Engine variables of task `id` of `qsub -t first-last:step`. */
function sge(id: number | string, first: number, last: number, step: number): ShardEnv {
  return {
    SGE_TASK_ID: String(id),
    SGE_TASK_FIRST: String(first),
    SGE_TASK_LAST: String(last),
    SGE_TASK_STEPSIZE: String(step),
  };
}

/** What Grid Engine exports in a job that is not an array job. */
const SGE_PLAIN_JOB = {
  SGE_TASK_ID: "undefined",
  SGE_TASK_FIRST: "undefined",
  SGE_TASK_LAST: "undefined",
  SGE_TASK_STEPSIZE: "undefined",
};

describe("--shard auto: Grid Engine (qsub -t)", () => {
  test("the index is the task's position in first..last by step", () => {
    // qsub -t 1-4
    for (const id of [1, 2, 3, 4]) {
      assert.deepEqual(pick(sge(id, 1, 4, 1)), [id - 1, 4, "SGE_TASK_ID"]);
    }
    // qsub -t 2-8:2: ids 2, 4, 6, 8
    assert.deepEqual(pick(sge(2, 2, 8, 2)), [0, 4, "SGE_TASK_ID"]);
    assert.deepEqual(pick(sge(6, 2, 8, 2)), [2, 4, "SGE_TASK_ID"]);
    assert.deepEqual(pick(sge(8, 2, 8, 2)), [3, 4, "SGE_TASK_ID"]);
    // qsub -t 2-9:3 keeps 9 as SGE_TASK_LAST: ids 2, 5, 8
    assert.deepEqual(pick(sge(8, 2, 9, 3)), [2, 3, "SGE_TASK_ID"]);
    assert.deepEqual(pick(sge(2, 2, 9, 3)), [0, 3, "SGE_TASK_ID"]);
    // qsub -t 10-12 and qsub -t 5 (one task)
    assert.deepEqual(pick(sge(12, 10, 12, 1)), [2, 3, "SGE_TASK_ID"]);
    assert.deepEqual(pick(sge(5, 5, 5, 1)), [0, 1, "SGE_TASK_ID"]);
    assert.equal(shardFromEnv(sge(6, 2, 8, 2))?.origin, "SGE_TASK_ID=6 in 2..8 by 2");
    assert.equal(shardFromEnv(sge(3, 1, 4, 1))?.origin, "SGE_TASK_ID=3 in 1..4");
  });

  test("a job that is not an array job is refused, unless NPYALLOC_SHARD gives the shard", () => {
    assert.match(
      usage(() => shardFromEnv(SGE_PLAIN_JOB)),
      /^--shard auto: SGE_TASK_ID='undefined': this Grid Engine job is not an array job; submit it with 'qsub -t 1-N', give --shard K\/N, or leave out --shard to run the whole manifest$/,
    );
    assert.deepEqual(pick({ ...SGE_PLAIN_JOB, NPYALLOC_SHARD: "1/3" }), [1, 3, "NPYALLOC_SHARD"]);
  });

  test("inconsistent or partial variables are exit 2 naming them", () => {
    const cases: [ShardEnv, RegExp][] = [
      [
        { SGE_TASK_ID: "undefined", SGE_TASK_FIRST: "2" },
        /SGE_TASK_ID is 'undefined' but not every task variable is \(SGE_TASK_ID='undefined', SGE_TASK_FIRST='2', SGE_TASK_LAST unset, SGE_TASK_STEPSIZE unset\)/,
      ],
      [
        { ...sge(3, 1, 4, 1), SGE_TASK_FIRST: "undefined" },
        /SGE_TASK_FIRST must be an integer >= 0, got 'undefined'/,
      ],
      [
        { SGE_TASK_ID: "3", SGE_TASK_FIRST: "1" },
        /SGE_TASK_ID without SGE_TASK_LAST and SGE_TASK_STEPSIZE \(SGE_TASK_ID='3', SGE_TASK_FIRST='1', SGE_TASK_LAST unset, SGE_TASK_STEPSIZE unset\)/,
      ],
      [
        { SGE_TASK_FIRST: "1", SGE_TASK_LAST: "4", SGE_TASK_STEPSIZE: "1" },
        /Grid Engine task variables without SGE_TASK_ID \(SGE_TASK_ID unset, SGE_TASK_FIRST='1'/,
      ],
      [sge(9, 2, 8, 2), /SGE_TASK_ID=9 is outside SGE_TASK_FIRST\.\.SGE_TASK_LAST = 2\.\.8/],
      [sge(1, 2, 8, 2), /SGE_TASK_ID=1 is outside SGE_TASK_FIRST\.\.SGE_TASK_LAST = 2\.\.8/],
      [
        sge(3, 2, 8, 2),
        /SGE_TASK_ID=3 is not on the step SGE_TASK_STEPSIZE=2 from SGE_TASK_FIRST=2/,
      ],
      [sge(2, 2, 8, 0), /SGE_TASK_STEPSIZE must be at least 1, got 0/],
      [sge(2, 2, 1, 1), /SGE_TASK_LAST=1 is less than SGE_TASK_FIRST=2/],
      [sge("x", 1, 4, 1), /SGE_TASK_ID must be an integer >= 0, got 'x'/],
      [sge("-1", 1, 4, 1), /SGE_TASK_ID must be an integer >= 0, got '-1'/],
      [sge(1, 1, 2_000_000, 1), /the number of shards must be at most 1000000/],
    ];
    for (const [env, expected] of cases) {
      assert.match(usage(() => shardFromEnv(env)), expected, JSON.stringify(env));
    }
  });
});

describe('--shard auto: LSF (bsub -J "name[1-N:S]")', () => {
  function lsf(id: number | string, end?: number, step?: number): ShardEnv {
    return {
      LSB_JOBINDEX: String(id),
      ...(end === undefined ? {} : { LSB_JOBINDEX_END: String(end) }),
      ...(step === undefined ? {} : { LSB_JOBINDEX_STEP: String(step) }),
    };
  }

  test("the index is the task's position in 1..LSB_JOBINDEX_END by LSB_JOBINDEX_STEP", () => {
    for (const id of [1, 2, 3, 4]) {
      assert.deepEqual(pick(lsf(id, 4, 1)), [id - 1, 4, "LSB_JOBINDEX"]);
    }
    // [1-10:3]: indices 1, 4, 7, 10
    assert.deepEqual(pick(lsf(1, 10, 3)), [0, 4, "LSB_JOBINDEX"]);
    assert.deepEqual(pick(lsf(10, 10, 3)), [3, 4, "LSB_JOBINDEX"]);
    // [1-10:4]: indices 1, 5, 9, whether LSB_JOBINDEX_END is 10 or 9
    assert.deepEqual(pick(lsf(9, 10, 4)), [2, 3, "LSB_JOBINDEX"]);
    assert.deepEqual(pick(lsf(9, 9, 4)), [2, 3, "LSB_JOBINDEX"]);
    // no LSB_JOBINDEX_STEP: no step
    assert.deepEqual(pick(lsf(3, 8)), [2, 8, "LSB_JOBINDEX"]);
    assert.equal(shardFromEnv(lsf(7, 10, 3))?.origin, "LSB_JOBINDEX=7 in 1..10 by 3");
  });

  test("LSB_JOBINDEX=0 (not a job array) is refused, unless NPYALLOC_SHARD gives the shard", () => {
    const message =
      /^--shard auto: LSB_JOBINDEX=0: this LSF job is not a job array; submit it with bsub -J "name\[1-N\]", give --shard K\/N, or leave out --shard to run the whole manifest$/;
    assert.match(usage(() => shardFromEnv(lsf(0))), message);
    assert.match(usage(() => shardFromEnv(lsf(0, 0, 0))), message);
    assert.deepEqual(pick({ ...lsf(0), NPYALLOC_SHARD: "0/2" }), [0, 2, "NPYALLOC_SHARD"]);
  });

  test("inconsistent or partial variables are exit 2 naming them", () => {
    const cases: [ShardEnv, RegExp][] = [
      [lsf(5, 4, 1), /LSB_JOBINDEX=5 is outside 1\.\.LSB_JOBINDEX_END = 1\.\.4/],
      [lsf(3), /LSB_JOBINDEX=3 without LSB_JOBINDEX_END: cannot tell how many shards/],
      [
        { LSB_JOBINDEX_END: "4", LSB_JOBINDEX_STEP: "1" },
        /LSF job array variables without LSB_JOBINDEX \(LSB_JOBINDEX unset, LSB_JOBINDEX_END='4', LSB_JOBINDEX_STEP='1'\)/,
      ],
      [lsf(1, 4, 0), /LSB_JOBINDEX_STEP must be at least 1, got 0/],
      // [2-8:2] does not start at 1: its ids are off the step from 1
      [
        lsf(4, 8, 2),
        /LSB_JOBINDEX=4 is not on the step LSB_JOBINDEX_STEP=2 from 1: LSF exports no first index, so job arrays must start at 1/,
      ],
      [lsf("two", 4, 1), /LSB_JOBINDEX must be an integer >= 0, got 'two'/],
      [lsf(1, 4, 1.5), /LSB_JOBINDEX_STEP must be an integer >= 0, got '1.5'/],
    ];
    for (const [env, expected] of cases) {
      assert.match(usage(() => shardFromEnv(env)), expected, JSON.stringify(env));
    }
  });
});

describe("--shard auto: engines that export an index from 0 and a count", () => {
  const engines = [
    ["AWS_BATCH_JOB_ARRAY_INDEX", "AWS_BATCH_JOB_ARRAY_SIZE"],
    ["BATCH_TASK_INDEX", "BATCH_TASK_COUNT"],
  ] as const;

  test("AWS Batch array jobs and Google Cloud Batch tasks", () => {
    for (const [index, count] of engines) {
      assert.deepEqual(pick({ [index]: "0", [count]: "4" }), [0, 4, index]);
      assert.deepEqual(pick({ [index]: "3", [count]: "4" }), [3, 4, index]);
      assert.deepEqual(pick({ [index]: "0", [count]: "1" }), [0, 1, index]);
      assert.equal(
        shardFromEnv({ [index]: "2", [count]: "5" })?.origin,
        `${index}=2 of ${count}=5`,
      );
    }
  });

  test("inconsistent or partial variables are exit 2 naming them", () => {
    for (const [index, count] of engines) {
      const cases: [ShardEnv, RegExp][] = [
        [{ [index]: "2" }, new RegExp(`^--shard auto: ${index}='2' without ${count}$`)],
        [{ [count]: "4" }, new RegExp(`^--shard auto: ${count}='4' without ${index}$`)],
        [
          { [index]: "4", [count]: "4" },
          new RegExp(
            `${index}=4 of ${count}=4: shard 4 does not exist, shards are numbered 0 to 3`,
          ),
        ],
        [{ [index]: "0", [count]: "0" }, /the number of shards must be at least 1, got 0/],
        [
          { [index]: "1.0", [count]: "4" },
          new RegExp(`${index} must be an integer >= 0, got '1.0'`),
        ],
        [
          { [index]: "1", [count]: "four" },
          new RegExp(`${count} must be an integer >= 0, got 'four'`),
        ],
      ];
      for (const [env, expected] of cases) {
        assert.match(usage(() => shardFromEnv(env)), expected, JSON.stringify(env));
      }
    }
  });
});

describe("--shard auto: Kubernetes Indexed Jobs", () => {
  test("JOB_COMPLETION_INDEX with NPYALLOC_SHARD_COUNT", () => {
    const env = { JOB_COMPLETION_INDEX: "7", NPYALLOC_SHARD_COUNT: "8" };
    assert.deepEqual(pick(env), [7, 8, "JOB_COMPLETION_INDEX"]);
    assert.equal(shardFromEnv(env)?.origin, "JOB_COMPLETION_INDEX=7 of NPYALLOC_SHARD_COUNT=8");
  });

  test("a missing count says to set it; other inconsistencies are exit 2 too", () => {
    assert.match(
      usage(() => shardFromEnv({ JOB_COMPLETION_INDEX: "2" })),
      /^--shard auto: JOB_COMPLETION_INDEX=2 without NPYALLOC_SHARD_COUNT: Kubernetes does not export the number of completions; set NPYALLOC_SHARD_COUNT in the pod template to the Job's \.spec\.completions$/,
    );
    assert.match(
      usage(() => shardFromEnv({ NPYALLOC_SHARD_COUNT: "8" })),
      /NPYALLOC_SHARD_COUNT=8 without JOB_COMPLETION_INDEX/,
    );
    assert.match(
      usage(() => shardFromEnv({ JOB_COMPLETION_INDEX: "8", NPYALLOC_SHARD_COUNT: "8" })),
      /JOB_COMPLETION_INDEX=8 of NPYALLOC_SHARD_COUNT=8: shard 8 does not exist/,
    );
    assert.match(
      usage(() => shardFromEnv({ JOB_COMPLETION_INDEX: "0", NPYALLOC_SHARD_COUNT: "0" })),
      /at least 1, got 0/,
    );
    assert.match(
      usage(() => shardFromEnv({ JOB_COMPLETION_INDEX: "0", NPYALLOC_SHARD_COUNT: "8 pods" })),
      /NPYALLOC_SHARD_COUNT must be an integer >= 0, got '8 pods'/,
    );
  });
});

describe("--shard auto: precedence", () => {
  /** One valid setting per engine, each giving another shard, in the order they are tried. */
  const ENGINES: [string, ShardEnv, [number, number]][] = [
    ["SLURM_ARRAY_TASK_ID", { SLURM_ARRAY_TASK_ID: "1", SLURM_ARRAY_TASK_COUNT: "9" }, [1, 9]],
    ["SLURM_PROCID", { SLURM_PROCID: "2", SLURM_NTASKS: "9", SLURM_STEP_ID: "0" }, [2, 9]],
    ["SGE_TASK_ID", sge(4, 1, 9, 1), [3, 9]],
    ["LSB_JOBINDEX", { LSB_JOBINDEX: "5", LSB_JOBINDEX_END: "9", LSB_JOBINDEX_STEP: "1" }, [4, 9]],
    [
      "AWS_BATCH_JOB_ARRAY_INDEX",
      { AWS_BATCH_JOB_ARRAY_INDEX: "5", AWS_BATCH_JOB_ARRAY_SIZE: "9" },
      [5, 9],
    ],
    ["BATCH_TASK_INDEX", { BATCH_TASK_INDEX: "6", BATCH_TASK_COUNT: "9" }, [6, 9]],
    ["JOB_COMPLETION_INDEX", { JOB_COMPLETION_INDEX: "7", NPYALLOC_SHARD_COUNT: "9" }, [7, 9]],
    ["NPYALLOC_SHARD", { NPYALLOC_SHARD: "8/9" }, [8, 9]],
  ];

  test("the engines are tried in the documented order, the first one set decides", () => {
    assert.deepEqual(
      ENGINES.map(([name]) => name),
      SHARD_SOURCES.filter((s) => s !== "option"),
    );
    for (let first = 0; first < ENGINES.length; first++) {
      const env = Object.assign({}, ...ENGINES.slice(first).map(([, vars]) => vars));
      const [name, , [index, count]] = ENGINES[first]!;
      assert.deepEqual(pick(env), [index, count, name]);
    }
  });

  test("an earlier engine's bad variables are not skipped for a later engine", () => {
    assert.match(
      usage(() => shardFromEnv({ ...sge(9, 1, 4, 1), NPYALLOC_SHARD: "0/4" })),
      /SGE_TASK_ID=9 is outside/,
    );
    assert.match(
      usage(() =>
        shardFromEnv({ LSB_JOBINDEX: "3", BATCH_TASK_INDEX: "0", BATCH_TASK_COUNT: "2" })
      ),
      /LSB_JOBINDEX=3 without LSB_JOBINDEX_END/,
    );
    // ... but a later engine's are not looked at when an earlier one decides.
    assert.deepEqual(
      pick({ SLURM_ARRAY_TASK_ID: "0", SLURM_ARRAY_TASK_COUNT: "2", SGE_TASK_ID: "junk" }),
      [0, 2, "SLURM_ARRAY_TASK_ID"],
    );
  });

  test("a Grid Engine or LSF job that is not an array job gives way to a later engine", () => {
    assert.deepEqual(
      pick({ ...SGE_PLAIN_JOB, AWS_BATCH_JOB_ARRAY_INDEX: "1", AWS_BATCH_JOB_ARRAY_SIZE: "2" }),
      [1, 2, "AWS_BATCH_JOB_ARRAY_INDEX"],
    );
    assert.deepEqual(
      pick({ LSB_JOBINDEX: "0", JOB_COMPLETION_INDEX: "1", NPYALLOC_SHARD_COUNT: "3" }),
      [1, 3, "JOB_COMPLETION_INDEX"],
    );
  });

  test("the report schema lists every source", () => {
    const schema = JSON.parse(fs.readFileSync(SCHEMA, "utf8"));
    const source = schema.properties.shard.oneOf[1].properties.source;
    assert.deepEqual(source.enum, [...SHARD_SOURCES]);
  });
});

describe("npyalloc plan --shard auto under each engine", () => {
  const { dir, remove } = tempDir("shard-source");
  after(remove);
  fs.writeFileSync(
    path.join(dir, "m.yaml"),
    'version: 1\nroot: out\narrays:\n  - path: "a-{i}.npy"\n' +
      '    foreach: { i: { range: [0, 12] } }\n    shape: ["{i}", 8]\n    dtype: float64\n',
  );
  /** Every variable any engine reads, blank (as good as unset), so that only the case's count. */
  const blank = Object.fromEntries(
    Object.keys(process.env)
      .filter((k) => /^(SLURM_|SGE_TASK_|LSB_JOBINDEX|AWS_BATCH_|BATCH_TASK_|NPYALLOC_)/.test(k))
      .concat("JOB_COMPLETION_INDEX")
      .map((k) => [k, ""]),
  );
  const plan = (env: Record<string, string>) =>
    runCliProcess(["plan", "m.yaml", "--shard", "auto", "-r", "r/{shard}-of-{count}.json"], {
      cwd: dir,
      env: { ...blank, ...env },
    });
  const SLOW = { timeout: 120_000 };

  test("the report names the engine, and the task says how K and N were found", SLOW, () => {
    const cases: [Record<string, string>, string, string][] = [
      [sge(6, 2, 8, 2) as Record<string, string>, "SGE_TASK_ID", "SGE_TASK_ID=6 in 2..8 by 2"],
      [
        { LSB_JOBINDEX: "3", LSB_JOBINDEX_END: "4", LSB_JOBINDEX_STEP: "1" },
        "LSB_JOBINDEX",
        "LSB_JOBINDEX=3 in 1..4",
      ],
      [
        { AWS_BATCH_JOB_ARRAY_INDEX: "2", AWS_BATCH_JOB_ARRAY_SIZE: "4" },
        "AWS_BATCH_JOB_ARRAY_INDEX",
        "AWS_BATCH_JOB_ARRAY_INDEX=2 of AWS_BATCH_JOB_ARRAY_SIZE=4",
      ],
      [
        { BATCH_TASK_INDEX: "2", BATCH_TASK_COUNT: "4" },
        "BATCH_TASK_INDEX",
        "BATCH_TASK_INDEX=2 of BATCH_TASK_COUNT=4",
      ],
      [
        { JOB_COMPLETION_INDEX: "2", NPYALLOC_SHARD_COUNT: "4" },
        "JOB_COMPLETION_INDEX",
        "JOB_COMPLETION_INDEX=2 of NPYALLOC_SHARD_COUNT=4",
      ],
    ];
    for (const [env, source, origin] of cases) {
      fs.rmSync(path.join(dir, "r"), { recursive: true, force: true });
      const run = plan(env);
      assert.equal(run.status, 0, run.stderr);
      assert.ok(run.stderr.includes(`npyalloc: shard 2 of 4 (${origin}): `), run.stderr);
      const report = readReport(path.join(dir, "r", "2-of-4.json"));
      assertValidReport(report);
      assert.deepEqual([report.shard?.index, report.shard?.count, report.shard?.source], [
        2,
        4,
        source,
      ]);
    }
  });

  test("inconsistent variables are exit 2 with one line, and no report", SLOW, () => {
    const cases: [Record<string, string>, string][] = [
      [SGE_PLAIN_JOB, "SGE_TASK_ID='undefined': this Grid Engine job is not an array job"],
      [{ LSB_JOBINDEX: "0" }, "LSB_JOBINDEX=0: this LSF job is not a job array"],
      [
        { AWS_BATCH_JOB_ARRAY_INDEX: "4", AWS_BATCH_JOB_ARRAY_SIZE: "4" },
        "AWS_BATCH_JOB_ARRAY_INDEX=4 of AWS_BATCH_JOB_ARRAY_SIZE=4: shard 4 does not exist",
      ],
      [{ BATCH_TASK_COUNT: "4" }, "BATCH_TASK_COUNT='4' without BATCH_TASK_INDEX"],
      [{ JOB_COMPLETION_INDEX: "1" }, "JOB_COMPLETION_INDEX=1 without NPYALLOC_SHARD_COUNT"],
    ];
    for (const [env, message] of cases) {
      fs.rmSync(path.join(dir, "r"), { recursive: true, force: true });
      const run = plan(env);
      assert.equal(run.status, 2, run.stderr);
      const lines = run.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, run.stderr);
      assert.ok(lines[0]!.includes(`--shard auto: ${message}`), run.stderr);
      assert.equal(fs.existsSync(path.join(dir, "r")), false, "no report");
    }
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
