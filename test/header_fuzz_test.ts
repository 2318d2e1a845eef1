// Fuzzing the header reader: random bytes, mutated NumPy headers and random
// Python-literal-like text must decode or fail with NpyallocError, quickly; and
// the literal parser must agree with Python's ast.literal_eval.
//
// FUZZ_RUNS (default 3000) sets the cases per test, FUZZ_SEED (default 20240601) the seed.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { NpyallocError } from "../src/errors.ts";
import { decodeHeader, type NpyVersion } from "../src/npy/header.ts";
import { parsePyLiteral, type PyLiteral } from "../src/npy/py_literal.ts";
import { PyTuple } from "../src/npy/py_repr.ts";
import { seededRandom } from "./_support/random.ts";
import { pythonJson } from "./_support/numpy.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);
const SEED = Number(process.env.FUZZ_SEED ?? 20240601);
const MAX_MS_PER_CASE = 1000;

class Random {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = seededRandom(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}

// ---------------------------------------------------------------- real headers from NumPy

const SEEDS = (pythonJson(
  `
import sys, json, io
import numpy as np
out = []
for spec, shape, order in json.load(sys.stdin):
    buf = io.BytesIO()
    np.save(buf, np.zeros(shape, dtype=np.dtype(eval(spec) if spec[0] == "[" else spec), order=order))
    data = buf.getvalue()
    out.append(data[: len(data) - np.zeros(shape, dtype=np.dtype(eval(spec) if spec[0] == "[" else spec)).nbytes].hex())
print(json.dumps(out))
`,
  [
    ["<f8", [3, 4], "C"],
    [">i2", [2, 3], "F"],
    ["S5", [], "C"],
    ["M8[ms]", [0], "C"],
    ["[('a', '<f4'), ('b', '<i8', (2,)), (('T', 'c'), [('d', 'u1')], (2, 2))]", [2], "C"],
    ["[('\u4e2d', '<f4'), ('q\\'\"\\\\', 'u1')]", [1, 1], "F"],
    ["[(f'f{i}', '<f8') for i in range(4000)]", [1], "C"],
  ],
) as string[]).map((h) => new Uint8Array((h.match(/../g) ?? []).map((x) => parseInt(x, 16))));

// ---------------------------------------------------------------- generators

const CHARS = [
  ..."abcXYZ019 _-+.,:;()[]{}'\"\\#\n\t\r\f\x00LlejJxobuNr",
  "é",
  "中",
  "😀",
  "\ud800",
  "\u2028",
  "\x7f",
  "\xa0",
  "\ufeff",
];

/** A random Python literal of the kinds a header holds, with random spacing and spelling. */
function genLiteral(r: Random, depth = 0): string {
  const ws = (inside: boolean): string => {
    if (!r.chance(0.3)) return "";
    const pool = inside ? [" ", "  ", "\t", "\n", "\n  ", " # note\n", "\\\n"] : [" ", "\t"];
    return r.pick(pool);
  };
  const kind = r.int(depth > 4 ? 3 : 7);
  switch (kind) {
    case 0:
      return genInt(r);
    case 1:
      // A space keeps '' 'x' from reading as a triple quote.
      return genStr(r) + (r.chance(0.1) ? " " + ws(depth > 0) + genStr(r) : "");
    case 2:
      return r.pick(["True", "False", "None"]);
    default: {
      const n = r.int(4);
      const items: string[] = [];
      for (let i = 0; i < n; i++) {
        const v = genLiteral(r, depth + 1);
        items.push(kind === 6 ? `${genStr(r)}${ws(true)}:${ws(true)}${v}` : v);
      }
      const [open, close] = kind === 3
        ? ["(", ")"]
        : kind === 4 || kind === 5
        ? ["[", "]"]
        : ["{", "}"];
      const sep = () => `${ws(true)},${ws(true)}`;
      let body = items.join(sep());
      if ((n > 0 && r.chance(0.3)) || (kind === 3 && n === 1 && r.chance(0.8))) body += sep();
      return `${open}${ws(true)}${body}${ws(true)}${close}`;
    }
  }
}

function genInt(r: Random): string {
  const sign = r.pick(["", "", "-", "+", "- "]);
  switch (r.int(6)) {
    case 0:
      return sign + String(r.int(10));
    case 1:
      return sign + String(r.int(1e9));
    case 2:
      return sign + (2n ** BigInt(r.int(80))).toString();
    case 3:
      return sign + "0x" + r.int(1e6).toString(16);
    case 4:
      return sign + r.pick(["0o17", "0b101", "1_000", "0_0", "00", "0X_fF", "0B1_0"]);
    default:
      return sign + String(r.int(100000)).split("").join(r.chance(0.5) ? "_" : "");
  }
}

function genStr(r: Random): string {
  const raw = r.chance(0.15);
  const q = r.pick(["'", '"']);
  const triple = r.chance(0.1);
  const prefix = raw ? r.pick(["r", "R"]) : r.pick(["", "", "", "u", "U"]);
  const escapes = raw ? ["\\\\", "\\d"] : [
    "\\n",
    "\\t",
    "\\r",
    "\\\\",
    "\\'",
    '\\"',
    "\\x41",
    "\\xe9",
    "\\u00e9",
    "\\u4e2d",
    "\\U0001f600",
    "\\101",
    "\\7",
    "\\0",
    "\\q",
    "\\a\\b\\f\\v",
    "\\\n",
    "\\ud800",
  ];
  const plain = [
    "a",
    "b",
    "<f8",
    " ",
    "é",
    "中",
    "😀",
    q === "'" ? '"' : "'",
    "\u2028",
    "\x7f",
    "#",
  ];
  let body = "";
  const n = r.int(6);
  for (let i = 0; i < n; i++) body += r.chance(0.4) ? r.pick(escapes) : r.pick(plain);
  if (triple && r.chance(0.5)) body += "\n";
  const quote = triple ? q.repeat(3) : q;
  return prefix + quote + body + quote;
}

function mutateText(r: Random, text: string): string {
  let out = text;
  const n = 1 + r.int(3);
  for (let i = 0; i < n; i++) {
    const at = r.int(out.length + 1);
    switch (r.int(5)) {
      case 0:
        out = out.slice(0, at) + r.pick(CHARS) + out.slice(at);
        break;
      case 1:
        out = out.slice(0, at) + out.slice(at + 1);
        break;
      case 2:
        out = out.slice(0, at);
        break;
      case 3:
        out = out.slice(0, at) + out.slice(r.int(out.length), r.int(out.length)) + out.slice(at);
        break;
      default:
        out = out.slice(0, at) + r.pick(CHARS) + out.slice(at + 1);
    }
  }
  return out;
}

function wrap(text: string, version: NpyVersion, fixLength = true): Uint8Array {
  const body = version === "3.0"
    ? new TextEncoder().encode(text)
    : Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
  const prefix = version === "1.0" ? 10 : 12;
  const out = new Uint8Array(prefix + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, Number(version[0]), 0]);
  const view = new DataView(out.buffer);
  const length = fixLength ? body.length : body.length + 1;
  if (version === "1.0") view.setUint16(8, Math.min(length, 0xffff), true);
  else view.setUint32(8, length, true);
  out.set(body, prefix);
  return out;
}

function mutateBytes(r: Random, seed: Uint8Array): Uint8Array {
  let out = seed.slice();
  const n = 1 + r.int(4);
  for (let i = 0; i < n; i++) {
    const at = r.int(out.length);
    switch (r.int(6)) {
      case 0: // bit flip, biased to the prefix and the dict
        if (out.length > 0) {
          const where = r.chance(0.3) ? r.int(Math.min(12, out.length)) : at;
          out[where] = (out[where] as number) ^ (1 << r.int(8));
        }
        break;
      case 1:
        out = out.slice(0, at);
        break;
      case 2: {
        const extra = Uint8Array.from({ length: 1 + r.int(8) }, () => r.int(256));
        const next = new Uint8Array(out.length + extra.length);
        next.set(out.subarray(0, at));
        next.set(extra, at);
        next.set(out.subarray(at), at + extra.length);
        out = next;
        break;
      }
      case 3:
        out[at] = r.pick([
          0x27,
          0x22,
          0x5c,
          0x28,
          0x29,
          0x2c,
          0x3a,
          0x7b,
          0x7d,
          0x00,
          0x80,
          0xff,
          0x4c,
        ]);
        break;
      case 4: // a random header length
        if (out.length >= 12) new DataView(out.buffer).setUint16(8, r.int(0x10000), true);
        break;
      default:
        out = Uint8Array.from({ length: r.int(40) }, () => r.int(256));
    }
  }
  return out;
}

function randomBytes(r: Random): Uint8Array {
  const out = Uint8Array.from({ length: r.int(200) }, () => r.int(256));
  if (r.chance(0.7) && out.length >= 12) {
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1 + r.int(3), r.chance(0.9) ? 0 : r.int(3)]);
    new DataView(out.buffer).setUint16(8, r.int(out.length), true);
    out[10] = out[11] = 0;
  }
  return out;
}

function hostile(r: Random): string {
  const n = 1000 + r.int(100000);
  return r.pick([
    "[".repeat(n) + "]".repeat(n),
    "(".repeat(n),
    "{'a':".repeat(n),
    "'" + "\\x41".repeat(n),
    "1".repeat(n),
    "[" + "1,".repeat(n) + "]",
    "'''" + "\n".repeat(n),
    "#".repeat(n),
  ]);
}

/** Decodes, and checks the outcome is a header or an E_NOT_NPY / E_DTYPE error, in bounded time. */
function check(bytes: Uint8Array, label: string): "ok" | "error" {
  const start = performance.now();
  let outcome: "ok" | "error";
  try {
    const h = decodeHeader(bytes);
    assert.ok(h.headerBytes <= bytes.length, label);
    assert.ok(h.dataBytes >= 0n && h.dataBytes < 2n ** 63n, label);
    outcome = "ok";
  } catch (err) {
    if (!(err instanceof NpyallocError) || (err.code !== "E_NOT_NPY" && err.code !== "E_DTYPE")) {
      assert.fail(`${label}: threw ${err instanceof Error ? err.stack : String(err)}`);
    }
    outcome = "error";
  }
  const ms = performance.now() - start;
  assert.ok(ms < MAX_MS_PER_CASE, `${label}: took ${ms.toFixed(0)} ms`);
  return outcome;
}

// ---------------------------------------------------------------- tests

describe(`decodeHeader fuzz (seed ${SEED}, ${RUNS} runs per test)`, () => {
  test("random bytes", () => {
    const r = new Random(SEED);
    for (let i = 0; i < RUNS; i++) check(randomBytes(r), `random bytes #${i}`);
  });

  test("mutated NumPy headers", () => {
    const r = new Random(SEED + 1);
    const counts = { ok: 0, error: 0 };
    for (const seed of SEEDS) assert.equal(check(seed, "seed"), "ok");
    for (let i = 0; i < RUNS; i++) {
      const seed = SEEDS[i % SEEDS.length] as Uint8Array;
      counts[check(mutateBytes(r, seed), `mutation #${i} of seed ${i % SEEDS.length}`)]++;
    }
    assert.ok(counts.error > RUNS / 4, JSON.stringify(counts));
  });

  test("random and mutated header dicts", () => {
    const r = new Random(SEED + 2);
    const counts = { ok: 0, error: 0 };
    for (let i = 0; i < RUNS; i++) {
      const descr = r.chance(0.5)
        ? r.pick(["'<f8'", '"|u1"', "u'>i2'", "'<c8'", "'|S3'", "'<M8[s]'", "'|O'", "'float7'"])
        : r.chance(0.5)
        ? r.pick([
          "[('a', '<f4')]",
          "[('a', '<f4', (2,)), (('t', 'b'), '|b1')]",
          "[['', '|V3'], ['x', [('y', '<i8')]]]",
        ])
        : r.chance(0.5)
        ? genStr(r)
        : genLiteral(r);
      const shape = r.chance(0.7) ? `(${genInt(r)}, ${genInt(r)})` : genLiteral(r);
      let text = `{'descr': ${descr}, 'fortran_order': ${
        r.pick(["True", "False", "0", "None"])
      }, 'shape': ${shape}, }`;
      if (r.chance(0.5)) text = mutateText(r, text);
      if (r.chance(0.05)) text = hostile(r);
      const version = r.pick(["1.0", "2.0", "3.0"] as const);
      counts[
        check(
          wrap(text, version, r.chance(0.95)),
          `dict #${i}: ${JSON.stringify(text.slice(0, 300))}`,
        )
      ]++;
    }
    assert.ok(counts.ok > RUNS / 50 && counts.error > RUNS / 4, JSON.stringify(counts));
  });
});

// ---------------------------------------------------------------- differential parsing

type Norm = [string, ...unknown[]];

function normalize(v: PyLiteral): Norm {
  if (typeof v === "boolean") return ["b", v];
  if (v === null) return ["n"];
  if (typeof v === "bigint") return ["i", v.toString()];
  if (typeof v === "string") return ["s", v];
  if (v instanceof PyTuple) return ["t", (v.items as PyLiteral[]).map(normalize)];
  if (Array.isArray(v)) return ["l", v.map(normalize)];
  return ["d", [...(v as Map<string, PyLiteral>)].map(([k, x]) => [["s", k], normalize(x)])];
}

const LITERAL_SCRIPT = `
import sys, json, ast

class Unsupported(Exception):
    pass

def norm(v):
    if v is True or v is False:
        return ["b", v]
    if v is None:
        return ["n"]
    if type(v) is int:
        return ["i", str(v)]
    if type(v) is str:
        return ["s", v]
    if type(v) is tuple:
        return ["t", [norm(x) for x in v]]
    if type(v) is list:
        return ["l", [norm(x) for x in v]]
    if type(v) is dict:
        if not all(type(k) is str for k in v):
            raise Unsupported()
        return ["d", [[norm(k), norm(x)] for k, x in v.items()]]
    raise Unsupported()

out = []
for text in json.load(sys.stdin):
    try:
        v = ast.literal_eval(text)
    except Exception as e:
        out.append({"error": type(e).__name__})
        continue
    try:
        out.append({"value": norm(v)})
    except (Unsupported, ValueError):
        out.append({"unsupported": True})
print(json.dumps(out))
`;

describe(`parsePyLiteral against ast.literal_eval (seed ${SEED}, ${RUNS} runs per test)`, () => {
  const r = new Random(SEED + 3);
  const valid = Array.from({ length: RUNS }, () => genLiteral(r));
  const mutated = valid.map((t) => mutateText(r, t));
  const results = pythonJson(LITERAL_SCRIPT, [...valid, ...mutated]) as (
    | { value: Norm }
    | { error: string }
    | { unsupported: true }
  )[];

  function ours(text: string): Norm | NpyallocError {
    const start = performance.now();
    try {
      return normalize(parsePyLiteral(text));
    } catch (err) {
      if (err instanceof NpyallocError && err.code === "E_NOT_NPY") return err;
      throw err;
    } finally {
      assert.ok(performance.now() - start < MAX_MS_PER_CASE, JSON.stringify(text));
    }
  }

  test("generated literals parse to exactly Python's values", () => {
    valid.forEach((text, i) => {
      const expected = results[i];
      assert.ok(
        expected && "value" in expected,
        `Python rejected ${JSON.stringify(text)}: ${JSON.stringify(expected)}`,
      );
      const got = ours(text);
      assert.ok(!(got instanceof NpyallocError), `${JSON.stringify(text)}: ${String(got)}`);
      assert.deepEqual(got, expected.value, JSON.stringify(text));
    });
  });

  test("mutated literals: whatever we accept, Python accepts with the same value", () => {
    const counts = { agree: 0, pythonOnly: 0, bothReject: 0 };
    const pythonOnly: string[] = [];
    mutated.forEach((text, i) => {
      const expected = results[RUNS + i];
      assert.ok(expected);
      const got = ours(text);
      if (got instanceof NpyallocError) {
        if ("value" in expected) {
          counts.pythonOnly++;
          pythonOnly.push(`${JSON.stringify(text)}: ${got.message}`);
        } else counts.bothReject++;
        return;
      }
      assert.ok(
        "value" in expected,
        `we accepted ${JSON.stringify(text)}, Python: ${JSON.stringify(expected)}`,
      );
      assert.deepEqual(got, expected.value, JSON.stringify(text));
      counts.agree++;
    });
    // Python accepts a few things npyalloc refuses on purpose (e.g. "1, 2" without
    // brackets, "-(5)", "\\N{...}"); every such case is listed on failure.
    assert.ok(
      counts.pythonOnly <= RUNS / 50,
      `${JSON.stringify(counts)}\n${pythonOnly.join("\n")}`,
    );
    assert.ok(counts.agree > RUNS / 10 && counts.bothReject > RUNS / 10, JSON.stringify(counts));
  });
});
