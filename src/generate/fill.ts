/**
 * Generated fills in a manifest (`{arange: {...}}`, `{random: {seed}}`, ...): reading them, and
 * checking them against an array's dtype, shape and order before anything is written.
 *
 * @module
 */

import { NpyallocError } from "../errors.ts";
import { didYouMean } from "../suggest.ts";
import type { DType, ScalarDType } from "../npy/dtype.ts";
import type { Seed } from "./seed_sequence.ts";

/** The generators, by the key that names them in a fill. */
export const GENERATORS = [
  "arange",
  "linspace",
  "random",
  "uniform",
  "integers",
  "standard_normal",
  "normal",
] as const;

/** The name of a generator. */
export type GeneratorName = typeof GENERATORS[number];

/** A number as the manifest gives it: an integer (bigint, Python int) or a float (number). */
export type PyNumber = bigint | number;

/** A generated fill, read but not yet checked against a dtype. */
export type GeneratedFill =
  | { readonly kind: "arange"; readonly start: PyNumber | string; readonly step: PyNumber }
  | {
    readonly kind: "linspace";
    readonly start: PyNumber;
    readonly stop: PyNumber;
    readonly endpoint: boolean;
  }
  | { readonly kind: "random"; readonly seed: Seed }
  | {
    readonly kind: "uniform";
    readonly seed: Seed;
    readonly low: PyNumber;
    readonly high: PyNumber;
  }
  | {
    readonly kind: "integers";
    readonly seed: Seed;
    readonly low: bigint;
    readonly high: bigint;
    readonly endpoint: boolean;
  }
  | { readonly kind: "standard_normal"; readonly seed: Seed }
  | {
    readonly kind: "normal";
    readonly seed: Seed;
    readonly loc: PyNumber;
    readonly scale: PyNumber;
  };

/** Keys each generator takes: required ones, then optional ones with their defaults. */
const KEYS: Record<GeneratorName, { required: string[]; optional: string[] }> = {
  arange: { required: ["start"], optional: ["step"] },
  linspace: { required: ["start", "stop"], optional: ["endpoint"] },
  random: { required: ["seed"], optional: [] },
  uniform: { required: ["seed"], optional: ["low", "high"] },
  integers: { required: ["seed", "low", "high"], optional: ["endpoint"] },
  standard_normal: { required: ["seed"], optional: [] },
  normal: { required: ["seed"], optional: ["loc", "scale"] },
};

/** An E_FILL error. */
function fail(message: string): never {
  throw new NpyallocError("E_FILL", message);
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A value for a message. */
function show(value: unknown): string {
  if (typeof value === "string") return `'${value}'`;
  if (typeof value === "number") return Number.isNaN(value) ? "nan" : String(value);
  if (typeof value === "bigint" || typeof value === "boolean") return String(value);
  const json = JSON.stringify(value, (_k, v) => typeof v === "bigint" ? String(v) : v);
  return json === undefined ? String(value) : json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

const DECIMAL = /^[0-9]+$/;
const FLOAT_TEXT = /^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)$/;

/** One seed integer: a non-negative bigint, safe integer number, or decimal string. */
function seedInteger(value: unknown, where: string): bigint {
  if (typeof value === "string" && DECIMAL.test(value.trim())) return BigInt(value.trim());
  if (typeof value === "bigint" || (typeof value === "number" && Number.isSafeInteger(value))) {
    const n = BigInt(value);
    if (n < 0n) fail(`${where} must be a non-negative integer, got ${show(value)}`);
    return n;
  }
  return fail(`${where} must be a non-negative integer or a list of them, got ${show(value)}`);
}

function readSeed(value: unknown, name: string): Seed {
  if (Array.isArray(value)) {
    return value.map((item, i) => seedInteger(item, `Fill '${name}' seed[${i}]`));
  }
  return seedInteger(value, `Fill '${name}' seed`);
}

/** A Python number: bigint (int), finite number (float), or a string that reads as one. */
function readNumber(value: unknown, name: string, key: string): PyNumber {
  let v = value;
  if (typeof v === "string") {
    const text = v.trim();
    if (/^[+-]?[0-9]+$/.test(text)) v = BigInt(text);
    else if (FLOAT_TEXT.test(text)) v = Number(text);
  }
  if (typeof v === "bigint") return v;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) fail(`Fill '${name}' ${key} must be a finite number, got ${show(v)}`);
    return v;
  }
  return fail(`Fill '${name}' ${key} must be a number, got ${show(value)}`);
}

function readInteger(value: unknown, name: string, key: string): bigint {
  const v = readNumber(value, name, key);
  if (typeof v === "bigint") return v;
  if (Number.isSafeInteger(v)) return BigInt(v);
  return fail(`Fill '${name}' ${key} must be an integer, got ${show(value)}`);
}

function readBoolean(value: unknown, name: string, key: string): boolean {
  if (typeof value === "boolean") return value;
  if (value === "true" || value === "false") return value === "true";
  return fail(`Fill '${name}' ${key} must be true or false, got ${show(value)}`);
}

/**
 * Reads a fill value as a generated fill: a mapping with exactly one key, the name of a generator,
 * whose value is the mapping of its parameters.
 *
 * @param value A fill value from the manifest (numbers, bigints, strings already interpolated).
 * @param dtype The array's dtype, when known: a structured dtype with a field of the generator's
 *   name takes a one-key mapping as a plain structured fill. Without a dtype, or for a scalar
 *   dtype, a one-key mapping of a mapping that names no generator is an error.
 * @returns The generated fill, or `null` for a plain fill value.
 * @throws {NpyallocError} `E_FILL` for an unknown generator or parameter (with a "did you mean"
 *   for a near miss), a missing `seed` or other required parameter, a negative or non-integer
 *   seed, or a parameter of the wrong type.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseGeneratedFill } from "./fill.ts";
 * assert.deepEqual(parseGeneratedFill({ random: { seed: 7n } }), { kind: "random", seed: 7n });
 * assert.equal(parseGeneratedFill(1.5), null);
 * ```
 */
export function parseGeneratedFill(value: unknown, dtype?: DType): GeneratedFill | null {
  if (!isMapping(value)) return null;
  const keys = Object.keys(value);
  if (keys.length !== 1) return null;
  const key = keys[0]!;
  const params = value[key];
  const isGenerator = (GENERATORS as readonly string[]).includes(key);
  if (dtype !== undefined && dtype.kind === "struct") {
    if (!isGenerator || dtype.fields.some((f) => f.name === key)) return null;
  }
  if (!isGenerator) {
    if (!isMapping(params)) return null;
    return fail(`Unknown generated fill '${key}'${didYouMean(key, GENERATORS)}`);
  }
  const name = key as GeneratorName;
  if (!isMapping(params)) {
    return fail(`Fill '${name}' must be a mapping of its parameters, got ${show(params)}`);
  }
  const allowed = [...KEYS[name].required, ...KEYS[name].optional];
  for (const k of Object.keys(params)) {
    if (!allowed.includes(k)) {
      return fail(
        `Unknown parameter '${k}' of fill '${name}'${didYouMean(k, allowed)}; ` +
          `it takes ${allowed.join(", ")}`,
      );
    }
  }
  for (const k of KEYS[name].required) {
    if (params[k] === undefined || params[k] === null) {
      return fail(`Fill '${name}' needs '${k}'`);
    }
  }
  const p = params;
  switch (name) {
    case "arange": {
      // A string start stays a string: for datetime64 it is an ISO date, for other dtypes it
      // is read as a number when the dtype is known.
      const start = typeof p.start === "string" ? p.start : readNumber(p.start, name, "start");
      return {
        kind: name,
        start,
        step: p.step === undefined ? 1n : readNumber(p.step, name, "step"),
      };
    }
    case "linspace":
      return {
        kind: name,
        start: readNumber(p.start, name, "start"),
        stop: readNumber(p.stop, name, "stop"),
        endpoint: p.endpoint === undefined ? true : readBoolean(p.endpoint, name, "endpoint"),
      };
    case "random":
    case "standard_normal":
      return { kind: name, seed: readSeed(p.seed, name) };
    case "uniform":
      return {
        kind: name,
        seed: readSeed(p.seed, name),
        low: p.low === undefined ? 0 : readNumber(p.low, name, "low"),
        high: p.high === undefined ? 1 : readNumber(p.high, name, "high"),
      };
    case "integers":
      return {
        kind: name,
        seed: readSeed(p.seed, name),
        low: readInteger(p.low, name, "low"),
        high: readInteger(p.high, name, "high"),
        endpoint: p.endpoint === undefined ? false : readBoolean(p.endpoint, name, "endpoint"),
      };
    case "normal":
      return {
        kind: name,
        seed: readSeed(p.seed, name),
        loc: p.loc === undefined ? 0 : readNumber(p.loc, name, "loc"),
        scale: p.scale === undefined ? 1 : readNumber(p.scale, name, "scale"),
      };
  }
}

/** The dtypes each generator takes, by kind, for messages. */
export const GENERATOR_DTYPES: Record<GeneratorName, string> = {
  arange: "integer, float, datetime64 or timedelta64",
  linspace: "integer or float",
  random: "float",
  uniform: "float",
  integers: "bool or integer",
  standard_normal: "float",
  normal: "float",
};

/**
 * The scalar dtype a generator writes, or an error naming the dtypes it takes.
 *
 * @param fill The fill.
 * @param dtype The array's dtype.
 * @returns The dtype, known to be scalar and allowed.
 */
export function allowedDType(fill: GeneratedFill, dtype: DType): ScalarDType {
  // A subarray dtype is folded into the shape before this is asked; unfolded, it is refused.
  const label = dtype.kind === "struct"
    ? "structured"
    : dtype.kind === "subarray"
    ? "subarray"
    : `'${dtype.str}'`;
  const refuse = (): never =>
    fail(
      `Fill '${fill.kind}' cannot fill dtype ${label}: it takes ${
        GENERATOR_DTYPES[fill.kind]
      } dtypes`,
    );
  if (dtype.kind === "struct" || dtype.kind === "subarray") return refuse();
  const k = dtype.kind;
  const ok = fill.kind === "arange"
    ? k === "i" || k === "u" || k === "f" || k === "M" || k === "m"
    : fill.kind === "linspace"
    ? k === "i" || k === "u" || k === "f"
    : fill.kind === "integers"
    ? k === "b" || k === "i" || k === "u"
    : k === "f";
  if (!ok) return refuse();
  if ((k === "M" || k === "m") && dtype.unit === null) {
    fail(`Fill 'arange' cannot fill dtype '${dtype.str}': give the unit, e.g. 'M8[D]'`);
  }
  return dtype;
}

/** Generators whose draws per element are fixed, so order F and starting at any element work. */
export function isRandomAccess(fill: GeneratedFill): boolean {
  if (fill.kind === "arange" || fill.kind === "linspace") return true;
  if (fill.kind === "random" || fill.kind === "uniform") return true;
  return false;
}

export { fail as fillError, readNumber, show as showValue };
