/**
 * Which shard a task runs: `--shard K/N`, or `--shard auto`, which reads the scheduler's
 * environment (SPEC section 6): a Slurm job array (`SLURM_ARRAY_TASK_ID` with
 * `SLURM_ARRAY_TASK_COUNT`, or `SLURM_ARRAY_TASK_MIN`/`MAX`), else Slurm tasks (`SLURM_PROCID`
 * with `SLURM_NTASKS`), else `NPYALLOC_SHARD=K/N`, else the whole manifest.
 *
 * @module
 */

import { NpyallocError } from "../errors.ts";
import { MAX_SHARDS } from "./assign.ts";

/** Where K and N came from. */
export type ShardSource = "option" | "SLURM_ARRAY_TASK_ID" | "SLURM_PROCID" | "NPYALLOC_SHARD";

/** Shard K of N: K from 0 to N - 1. */
export interface ShardSelection {
  /** K, from 0 to `count - 1`. */
  readonly index: number;
  /** N, from 1. */
  readonly count: number;
  /** Where K and N came from. */
  readonly source: ShardSource;
  /** How K and N were found, for messages: `--shard 1/4`, `SLURM_ARRAY_TASK_ID=5 in 4..7`. */
  readonly origin: string;
}

/** The environment `--shard auto` reads. */
export type ShardEnv = Readonly<Record<string, string | undefined>>;

const INTEGER = /^\s*(\d{1,15})\s*$/;

function usage(message: string): NpyallocError {
  return new NpyallocError("E_USAGE", message);
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
 * Reads the shard from the environment, as `--shard auto` does.
 *
 * 1. A Slurm job array: `SLURM_ARRAY_TASK_ID` with `SLURM_ARRAY_TASK_MIN`/`MAX` (K = ID - MIN,
 *    or (ID - MIN) / STEP for `--array=0-30:2`) and `SLURM_ARRAY_TASK_COUNT` (N; without it,
 *    N = (MAX - MIN) / STEP + 1). An array with gaps (`--array=1,3,7`) has no such mapping and
 *    is refused.
 * 2. Slurm tasks: `SLURM_PROCID` with `SLURM_NTASKS` (`srun -n N`). In a batch script with
 *    several tasks but outside `srun` (no `SLURM_STEP_ID`), this is refused: the script runs
 *    once, so it would only ever do shard 0.
 * 3. `NPYALLOC_SHARD=K/N`.
 *
 * @param env The environment.
 * @returns The shard, or `null` when none of these is set (the whole manifest).
 * @throws {NpyallocError} `E_USAGE` for inconsistent values: K >= N, N = 0, a task id outside
 *   MIN..MAX, a malformed number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shardFromEnv } from "./source.ts";
 * const shard = shardFromEnv({ SLURM_ARRAY_TASK_ID: "6", SLURM_ARRAY_TASK_MIN: "4",
 *   SLURM_ARRAY_TASK_MAX: "7", SLURM_ARRAY_TASK_COUNT: "4" });
 * assert.ok(shard?.index === 2 && shard.count === 4);
 * assert.ok(shardFromEnv({}) === null);
 * ```
 */
export function shardFromEnv(env: ShardEnv): ShardSelection | null {
  const id = envInteger(env, "SLURM_ARRAY_TASK_ID");
  if (id !== undefined) return arrayShard(env, id);
  const procid = envInteger(env, "SLURM_PROCID");
  const ntasks = envInteger(env, "SLURM_NTASKS");
  if (procid !== undefined && ntasks !== undefined) {
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
  }
  const fromVar = env.NPYALLOC_SHARD;
  if (fromVar !== undefined && fromVar.trim() !== "") {
    const { index, count } = parseShardFraction(fromVar, "--shard auto: NPYALLOC_SHARD");
    return { index, count, source: "NPYALLOC_SHARD", origin: `NPYALLOC_SHARD=${fromVar.trim()}` };
  }
  return null;
}

function arrayShard(env: ShardEnv, id: number): ShardSelection {
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
