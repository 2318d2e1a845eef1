/**
 * Which shard a task runs: `--shard K/N`, or `--shard auto`, which reads the environment of the
 * engine that started the task (docs/sharding.md).
 *
 * How it works: the engines are tried in a fixed order, and the first whose variables are set
 * decides; K is the task's position in its range (first, last, step), never the raw task id, so
 * that `qsub -t 2-8:2` gives shards 0 to 3 of 4. Whatever is set but does not make a consistent
 * K of N (an id outside its range, a step of 0, a count of 0, a non-integer, a count without an
 * index or an index without a count) is a usage error naming the variables, before anything is
 * touched: a task that guessed would create another task's arrays, or none.
 *
 * Grid Engine (`SGE_TASK_ID=undefined`) and LSF (`LSB_JOBINDEX=0`) say outright that a job is
 * not an array job. A job script that asks for `--shard auto` there was meant to be submitted
 * as an array, so that is refused too, unless a later source (`NPYALLOC_SHARD`) gives the shard.
 *
 * @module
 */

import { NpyallocError } from "../errors.ts";
import { MAX_SHARDS } from "./assign.ts";

/**
 * Every value of {@linkcode ShardSource}, in the order `--shard auto` tries them (after
 * `option`, which is `--shard K/N`). The report schema's `shard.source` enum lists the same.
 */
export const SHARD_SOURCES = [
  "option",
  "SLURM_ARRAY_TASK_ID",
  "SLURM_PROCID",
  "SGE_TASK_ID",
  "LSB_JOBINDEX",
  "AWS_BATCH_JOB_ARRAY_INDEX",
  "BATCH_TASK_INDEX",
  "JOB_COMPLETION_INDEX",
  "NPYALLOC_SHARD",
] as const;

/**
 * Where K and N came from: `option` (`--shard K/N`), or the variable holding the index of the
 * engine `--shard auto` found: a Slurm job array, Slurm tasks (`srun`), Grid Engine, LSF, AWS
 * Batch, Google Cloud Batch, a Kubernetes Indexed Job, or `NPYALLOC_SHARD`.
 */
export type ShardSource = (typeof SHARD_SOURCES)[number];

/** Shard K of N: K from 0 to N - 1. */
export interface ShardSelection {
  /** K, from 0 to `count - 1`. */
  readonly index: number;
  /** N, from 1. */
  readonly count: number;
  /** Where K and N came from. */
  readonly source: ShardSource;
  /** How K and N were found, for messages: `--shard 1/4`, `SGE_TASK_ID=6 in 2..8 by 2`. */
  readonly origin: string;
}

/** The environment `--shard auto` reads. */
export type ShardEnv = Readonly<Record<string, string | undefined>>;

/**
 * The warning of a run with `--shard auto` that found no engine in its environment, and so
 * runs the whole manifest.
 */
export const WHOLE_MANIFEST_WARNING = "--shard auto: no Slurm job array, Slurm task, " +
  "Grid Engine or LSF array job, AWS Batch array job, Google Cloud Batch task, " +
  "Kubernetes Indexed Job or NPYALLOC_SHARD in the environment: running the whole manifest";

const INTEGER = /^\s*(\d{1,15})\s*$/;

/** What Grid Engine exports in the SGE_TASK_* variables of a job that is not an array job. */
const SGE_UNDEFINED = "undefined";

function usage(message: string): NpyallocError {
  return new NpyallocError("E_USAGE", message);
}

/** Whether a variable is set to something other than blanks. */
function isSet(env: ShardEnv, name: string): boolean {
  const raw = env[name];
  return raw !== undefined && raw.trim() !== "";
}

/** `A='1', B unset, ...`: the variables of one engine as the task sees them. */
function listing(env: ShardEnv, names: readonly string[]): string {
  return names.map((name) => (isSet(env, name) ? `${name}='${env[name]}'` : `${name} unset`))
    .join(", ");
}

/** A decimal integer >= 0, or `undefined` when the variable is unset or empty. */
function envInteger(env: ShardEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  const match = INTEGER.exec(raw);
  if (match === null) {
    throw usage(`--shard auto: ${name} must be an integer >= 0, got '${raw}'`);
  }
  return Number(match[1]);
}

function checked(index: number, count: number, what: string): void {
  if (count < 1) throw usage(`${what}: the number of shards must be at least 1, got ${count}`);
  if (count > MAX_SHARDS) {
    throw usage(`${what}: the number of shards must be at most ${MAX_SHARDS}, got ${count}`);
  }
  if (index >= count) {
    throw usage(
      `${what}: shard ${index} does not exist, shards are numbered 0 to ${count - 1}`,
    );
  }
}

/**
 * Parses `K/N` (both decimal integers, 0 <= K < N).
 *
 * @param text The value, e.g. `3/8`.
 * @param what Names the value in messages, e.g. `--shard` or `NPYALLOC_SHARD`.
 * @returns K and N.
 * @throws {NpyallocError} `E_USAGE` with one line saying what is wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseShardFraction } from "./source.ts";
 * assert.ok(parseShardFraction("3/8", "--shard").index === 3);
 * ```
 */
export function parseShardFraction(text: string, what: string): { index: number; count: number } {
  const match = /^\s*(\d{1,15})\s*\/\s*(\d{1,15})\s*$/.exec(text);
  if (match === null) {
    throw usage(`${what} must be K/N with 0 <= K < N (e.g. 0/4), or auto; got '${text}'`);
  }
  const index = Number(match[1]);
  const count = Number(match[2]);
  checked(index, count, `${what} ${text.trim()}`);
  return { index, count };
}

/**
 * What one engine makes of the environment: a shard; `null` when its variables are not set;
 * or, for an engine that says the job is not an array job, why `--shard auto` cannot use it.
 */
type EngineResult = ShardSelection | { readonly notArray: string } | null;

/** One engine: reads its variables, throws `E_USAGE` when they are inconsistent. */
type Engine = (env: ShardEnv) => EngineResult;

/**
 * A task's position in an arithmetic range of task ids, `first` to `last` by `step`, where
 * `last` may lie past the last id (Grid Engine keeps `qsub -t 2-9:3` as given: ids 2, 5, 8).
 */
function positionInRange(
  id: number,
  range: { first: number; last: number; step: number },
  names: { id: string; first: string; last: string; step: string },
): { index: number; count: number } {
  const { first, last, step } = range;
  if (step < 1) throw usage(`--shard auto: ${names.step} must be at least 1, got ${step}`);
  if (last < first) {
    throw usage(`--shard auto: ${names.last}=${last} is less than ${names.first}=${first}`);
  }
  if (id < first || id > last) {
    throw usage(
      `--shard auto: ${names.id}=${id} is outside ${names.first}..${names.last} = ${first}..${last}`,
    );
  }
  if ((id - first) % step !== 0) {
    throw usage(
      `--shard auto: ${names.id}=${id} is not on the step ${names.step}=${step} ` +
        `from ${names.first}=${first}`,
    );
  }
  return { index: (id - first) / step, count: Math.floor((last - first) / step) + 1 };
}

/**
 * A Slurm job array: `SLURM_ARRAY_TASK_ID` with `SLURM_ARRAY_TASK_MIN`/`MAX` (K = ID - MIN, or
 * (ID - MIN) / STEP for `--array=0-30:2`) and `SLURM_ARRAY_TASK_COUNT` (N; without it,
 * N = (MAX - MIN) / STEP + 1). An array with gaps (`--array=1,3,7`) has no such mapping and is
 * refused. Slurm sets MAX to the last task id, so a MAX off the step is refused too.
 */
const slurmArray: Engine = (env) => {
  const id = envInteger(env, "SLURM_ARRAY_TASK_ID");
  if (id === undefined) return null;
  const min = envInteger(env, "SLURM_ARRAY_TASK_MIN");
  const max = envInteger(env, "SLURM_ARRAY_TASK_MAX");
  const total = envInteger(env, "SLURM_ARRAY_TASK_COUNT");
  const step = envInteger(env, "SLURM_ARRAY_TASK_STEP") ?? 1;
  const what = `--shard auto: SLURM_ARRAY_TASK_ID=${id}`;
  if (step < 1) throw usage(`${what}: SLURM_ARRAY_TASK_STEP must be at least 1, got ${step}`);
  if ((min === undefined) !== (max === undefined)) {
    throw usage(`${what}: SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_MAX must be set together`);
  }
  if (min !== undefined && max !== undefined) {
    if (max < min) {
      throw usage(`${what}: SLURM_ARRAY_TASK_MAX=${max} is less than SLURM_ARRAY_TASK_MIN=${min}`);
    }
    if (id < min || id > max) {
      throw usage(
        `${what} is outside SLURM_ARRAY_TASK_MIN..SLURM_ARRAY_TASK_MAX = ${min}..${max}`,
      );
    }
    if ((id - min) % step !== 0 || (max - min) % step !== 0) {
      throw usage(
        `${what} is not on the job array's step ${step} from ${min} to ${max}: ` +
          `use a range such as --array=0-N-1, or give --shard K/N`,
      );
    }
    const span = (max - min) / step + 1;
    if (total !== undefined && total !== span) {
      throw usage(
        `${what}: the job array has gaps (SLURM_ARRAY_TASK_COUNT=${total}, but ${min}..${max}` +
          `${step > 1 ? ` by ${step}` : ""} holds ${span} ids): ` +
          `use a range such as --array=0-${total - 1}, or give --shard K/N`,
      );
    }
    const index = (id - min) / step;
    checked(index, span, what);
    return {
      index,
      count: span,
      source: "SLURM_ARRAY_TASK_ID",
      origin: `SLURM_ARRAY_TASK_ID=${id} in ${min}..${max}${step > 1 ? ` by ${step}` : ""}`,
    };
  }
  if (total === undefined) {
    throw usage(
      `${what} without SLURM_ARRAY_TASK_COUNT or SLURM_ARRAY_TASK_MIN/MAX: ` +
        `cannot tell how many shards there are; give --shard K/N`,
    );
  }
  checked(id, total, `${what} with SLURM_ARRAY_TASK_COUNT=${total}`);
  return {
    index: id,
    count: total,
    source: "SLURM_ARRAY_TASK_ID",
    origin: `SLURM_ARRAY_TASK_ID=${id} of SLURM_ARRAY_TASK_COUNT=${total}`,
  };
};

/**
 * Slurm tasks: `SLURM_PROCID` with `SLURM_NTASKS` (`srun -n N`). Either alone is no shard: a
 * job array task and a one-task batch job have `SLURM_PROCID=0`. In a batch script with several
 * tasks but outside `srun` (no `SLURM_STEP_ID`), this is refused: the script runs once, so it
 * would only ever do shard 0.
 */
const slurmTasks: Engine = (env) => {
  const procid = envInteger(env, "SLURM_PROCID");
  const ntasks = envInteger(env, "SLURM_NTASKS");
  if (procid === undefined || ntasks === undefined) return null;
  const what = `--shard auto: SLURM_PROCID=${procid} with SLURM_NTASKS=${ntasks}`;
  checked(procid, ntasks, what);
  const inStep = (env.SLURM_STEP_ID ?? env.SLURM_STEPID ?? "") !== "";
  if (ntasks > 1 && !inStep) {
    throw usage(
      `${what} comes from a batch script, which runs once: ` +
        `start npyalloc with 'srun' to run one task per shard, or give --shard K/N`,
    );
  }
  return {
    index: procid,
    count: ntasks,
    source: "SLURM_PROCID",
    origin: `SLURM_PROCID=${procid} of SLURM_NTASKS=${ntasks}`,
  };
};

const SGE_VARS = ["SGE_TASK_ID", "SGE_TASK_FIRST", "SGE_TASK_LAST", "SGE_TASK_STEPSIZE"] as const;

/**
 * Grid Engine (SGE, UGE, OGS), `qsub -t first-last:step`: K = (SGE_TASK_ID - SGE_TASK_FIRST) /
 * SGE_TASK_STEPSIZE, N = (SGE_TASK_LAST - SGE_TASK_FIRST) / SGE_TASK_STEPSIZE + 1, rounded down
 * (qsub keeps the last id as given). Grid Engine sets all four in every job, to `undefined` in
 * one that is not an array job (sge_submit(1)).
 */
const gridEngine: Engine = (env) => {
  const set = SGE_VARS.filter((name) => isSet(env, name));
  if (set.length === 0) return null;
  const shown = listing(env, SGE_VARS);
  const undefinedId = env.SGE_TASK_ID?.trim() === SGE_UNDEFINED;
  if (undefinedId) {
    if (set.every((name) => env[name]!.trim() === SGE_UNDEFINED)) {
      return {
        notArray: `--shard auto: SGE_TASK_ID='${SGE_UNDEFINED}': this Grid Engine job is not an ` +
          `array job; submit it with 'qsub -t 1-N', give --shard K/N, ` +
          `or leave out --shard to run the whole manifest`,
      };
    }
    throw usage(
      `--shard auto: SGE_TASK_ID is '${SGE_UNDEFINED}' but not every task variable is (${shown})`,
    );
  }
  const missing = SGE_VARS.filter((name) => !isSet(env, name));
  if (missing.includes("SGE_TASK_ID")) {
    throw usage(`--shard auto: Grid Engine task variables without SGE_TASK_ID (${shown})`);
  }
  if (missing.length > 0) {
    throw usage(`--shard auto: SGE_TASK_ID without ${missing.join(" and ")} (${shown})`);
  }
  const id = envInteger(env, "SGE_TASK_ID")!;
  const first = envInteger(env, "SGE_TASK_FIRST")!;
  const last = envInteger(env, "SGE_TASK_LAST")!;
  const step = envInteger(env, "SGE_TASK_STEPSIZE")!;
  const { index, count } = positionInRange(id, { first, last, step }, {
    id: "SGE_TASK_ID",
    first: "SGE_TASK_FIRST",
    last: "SGE_TASK_LAST",
    step: "SGE_TASK_STEPSIZE",
  });
  const origin = `SGE_TASK_ID=${id} in ${first}..${last}${step > 1 ? ` by ${step}` : ""}`;
  checked(index, count, `--shard auto: ${origin}`);
  return { index, count, source: "SGE_TASK_ID", origin };
};

const LSF_VARS = ["LSB_JOBINDEX", "LSB_JOBINDEX_END", "LSB_JOBINDEX_STEP"] as const;

/**
 * LSF, `bsub -J "name[1-N:S]"`: K = (LSB_JOBINDEX - 1) / LSB_JOBINDEX_STEP, N =
 * (LSB_JOBINDEX_END - 1) / LSB_JOBINDEX_STEP + 1, rounded down. LSF exports no first index, so
 * ranges must start at 1; one that does not is caught when its ids are off the step from 1.
 * LSF sets `LSB_JOBINDEX=0` in every job that is not an array job.
 */
const lsf: Engine = (env) => {
  const id = envInteger(env, "LSB_JOBINDEX");
  if (id === undefined) {
    if (LSF_VARS.some((name) => isSet(env, name))) {
      throw usage(
        `--shard auto: LSF job array variables without LSB_JOBINDEX (${listing(env, LSF_VARS)})`,
      );
    }
    return null;
  }
  if (id === 0) {
    return {
      notArray: `--shard auto: LSB_JOBINDEX=0: this LSF job is not a job array; ` +
        `submit it with bsub -J "name[1-N]", give --shard K/N, ` +
        `or leave out --shard to run the whole manifest`,
    };
  }
  const end = envInteger(env, "LSB_JOBINDEX_END");
  if (end === undefined) {
    throw usage(
      `--shard auto: LSB_JOBINDEX=${id} without LSB_JOBINDEX_END: ` +
        `cannot tell how many shards there are; give --shard K/N`,
    );
  }
  // LSF documents LSB_JOBINDEX_STEP with the job array variables since its early versions;
  // without it, the range has no step.
  const step = envInteger(env, "LSB_JOBINDEX_STEP") ?? 1;
  if (step < 1) throw usage(`--shard auto: LSB_JOBINDEX_STEP must be at least 1, got ${step}`);
  if (id > end) {
    throw usage(`--shard auto: LSB_JOBINDEX=${id} is outside 1..LSB_JOBINDEX_END = 1..${end}`);
  }
  if ((id - 1) % step !== 0) {
    throw usage(
      `--shard auto: LSB_JOBINDEX=${id} is not on the step LSB_JOBINDEX_STEP=${step} from 1: ` +
        `LSF exports no first index, so job arrays must start at 1 (bsub -J "name[1-N:S]"); ` +
        `or give --shard K/N`,
    );
  }
  const index = (id - 1) / step;
  const count = Math.floor((end - 1) / step) + 1;
  const origin = `LSB_JOBINDEX=${id} in 1..${end}${step > 1 ? ` by ${step}` : ""}`;
  checked(index, count, `--shard auto: ${origin}`);
  return { index, count, source: "LSB_JOBINDEX", origin };
};

/**
 * An engine whose index already counts from 0 and which exports the count: both must be set,
 * or neither.
 */
function indexAndCount(
  indexName: "AWS_BATCH_JOB_ARRAY_INDEX" | "BATCH_TASK_INDEX",
  countName: string,
): Engine {
  return (env) => {
    const index = envInteger(env, indexName);
    const count = envInteger(env, countName);
    if (index === undefined && count === undefined) return null;
    if (index === undefined || count === undefined) {
      const [has, lacks] = index === undefined ? [countName, indexName] : [indexName, countName];
      throw usage(`--shard auto: ${has}='${env[has]}' without ${lacks}`);
    }
    const origin = `${indexName}=${index} of ${countName}=${count}`;
    checked(index, count, `--shard auto: ${origin}`);
    return { index, count, source: indexName, origin };
  };
}

/**
 * A Kubernetes Indexed Job: JOB_COMPLETION_INDEX (0 to `.spec.completions` - 1). Kubernetes
 * exports no count, so the pod template sets NPYALLOC_SHARD_COUNT to `.spec.completions`.
 */
const kubernetes: Engine = (env) => {
  const index = envInteger(env, "JOB_COMPLETION_INDEX");
  const count = envInteger(env, "NPYALLOC_SHARD_COUNT");
  if (index === undefined && count === undefined) return null;
  if (index === undefined) {
    throw usage(
      `--shard auto: NPYALLOC_SHARD_COUNT=${count} without JOB_COMPLETION_INDEX: it is the ` +
        `number of completions of a Kubernetes Indexed Job; elsewhere use NPYALLOC_SHARD=K/N`,
    );
  }
  if (count === undefined) {
    throw usage(
      `--shard auto: JOB_COMPLETION_INDEX=${index} without NPYALLOC_SHARD_COUNT: Kubernetes ` +
        `does not export the number of completions; set NPYALLOC_SHARD_COUNT in the pod ` +
        `template to the Job's .spec.completions`,
    );
  }
  const origin = `JOB_COMPLETION_INDEX=${index} of NPYALLOC_SHARD_COUNT=${count}`;
  checked(index, count, `--shard auto: ${origin}`);
  return { index, count, source: "JOB_COMPLETION_INDEX", origin };
};

/** `NPYALLOC_SHARD=K/N`, for anything else. */
const npyallocShard: Engine = (env) => {
  const fromVar = env.NPYALLOC_SHARD;
  if (fromVar === undefined || fromVar.trim() === "") return null;
  const { index, count } = parseShardFraction(fromVar, "--shard auto: NPYALLOC_SHARD");
  return { index, count, source: "NPYALLOC_SHARD", origin: `NPYALLOC_SHARD=${fromVar.trim()}` };
};

/** The engines, in the order `--shard auto` tries them. */
const ENGINES: readonly Engine[] = [
  slurmArray,
  slurmTasks,
  gridEngine,
  lsf,
  indexAndCount("AWS_BATCH_JOB_ARRAY_INDEX", "AWS_BATCH_JOB_ARRAY_SIZE"),
  indexAndCount("BATCH_TASK_INDEX", "BATCH_TASK_COUNT"),
  kubernetes,
  npyallocShard,
];

/**
 * Reads the shard from the environment, as `--shard auto` does. The first of these that is set
 * decides (docs/sharding.md has the details and a recipe for each):
 *
 * | engine | K | N |
 * | --- | --- | --- |
 * | Slurm job array | `SLURM_ARRAY_TASK_ID` in `SLURM_ARRAY_TASK_MIN..MAX` by `_STEP` | `SLURM_ARRAY_TASK_COUNT` |
 * | Slurm tasks (`srun -n N`) | `SLURM_PROCID` | `SLURM_NTASKS` |
 * | Grid Engine (`qsub -t`) | `SGE_TASK_ID` in `SGE_TASK_FIRST..LAST` by `_STEPSIZE` | from the range |
 * | LSF (`bsub -J "name[1-N:S]"`) | `LSB_JOBINDEX` in `1..LSB_JOBINDEX_END` by `_STEP` | from the range |
 * | AWS Batch array job | `AWS_BATCH_JOB_ARRAY_INDEX` | `AWS_BATCH_JOB_ARRAY_SIZE` |
 * | Google Cloud Batch | `BATCH_TASK_INDEX` | `BATCH_TASK_COUNT` |
 * | Kubernetes Indexed Job | `JOB_COMPLETION_INDEX` | `NPYALLOC_SHARD_COUNT` (set by the user) |
 * | anything else | `NPYALLOC_SHARD=K/N` | |
 *
 * @param env The environment.
 * @returns The shard, or `null` when none of these is set (the whole manifest).
 * @throws {NpyallocError} `E_USAGE` for inconsistent values: K >= N, N = 0, a task id outside
 *   its range or off its step, a step of 0, a malformed number, an index without its count or
 *   a count without its index; and for a Grid Engine or LSF job that is not an array job, when
 *   nothing later gives the shard.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shardFromEnv } from "./source.ts";
 * // qsub -t 2-8:2: task ids 2, 4, 6 and 8
 * const shard = shardFromEnv({ SGE_TASK_ID: "6", SGE_TASK_FIRST: "2", SGE_TASK_LAST: "8",
 *   SGE_TASK_STEPSIZE: "2" });
 * assert.ok(shard?.index === 2 && shard.count === 4 && shard.source === "SGE_TASK_ID");
 * assert.ok(shardFromEnv({}) === null);
 * ```
 */
export function shardFromEnv(env: ShardEnv): ShardSelection | null {
  let notArray: string | null = null;
  for (const engine of ENGINES) {
    const found = engine(env);
    if (found === null) continue;
    if ("notArray" in found) {
      notArray ??= found.notArray;
      continue;
    }
    return found;
  }
  if (notArray !== null) throw usage(notArray);
  return null;
}

/**
 * Resolves a `--shard` value: `K/N`, or `auto` (see {@linkcode shardFromEnv}).
 *
 * @param text The option's value.
 * @param env The environment, for `auto`.
 * @returns The shard, or `null` for `auto` outside any scheduler (the whole manifest).
 * @throws {NpyallocError} `E_USAGE` for a malformed or inconsistent value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveShard } from "./source.ts";
 * assert.ok(resolveShard("1/4", {})?.index === 1);
 * assert.ok(resolveShard("auto", { NPYALLOC_SHARD: "2/3" })?.count === 3);
 * assert.ok(resolveShard("auto", {}) === null);
 * ```
 */
export function resolveShard(text: string, env: ShardEnv): ShardSelection | null {
  if (text.trim() === "auto") return shardFromEnv(env);
  const { index, count } = parseShardFraction(text, "--shard");
  return { index, count, source: "option", origin: `--shard ${index}/${count}` };
}
