// Python's repr() as CPython spells it, checked against a real python3.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isPyPrintable, pyRepr, pyStrRepr, PyTuple, type PyValue } from "../src/npy/py_repr.ts";
import { pythonJson } from "./_support/numpy.ts";

const STRINGS: string[] = [
  "",
  "a",
  "<f8",
  "it's",
  'say "hi"',
  `both ' and "`,
  `'`,
  `"`,
  `''""`,
  "back\\slash",
  "new\nline",
  "cr\rlf",
  "tab\there",
  "\x00\x01\x1f\x7f",
  "\x80\x9f\xa0\xa1\xad\xff",
  "é",
  "naïve café",
  "中文",
  "😀",
  "e\u0301",
  "\u00a0",
  "\u2028\u2029",
  "\u200b\u200d\ufeff",
  "\u3000",
  "\ue000",
  "\u{f0000}",
  "\u{e0001}",
  "\ud800",
  "\udc00x",
  "\ufffe\uffff",
  "\u{10ffff}",
  "\u0378",
  "mixed 'q' and \\ and \u{1f600} and \x7f",
];

const SCRIPT = `
import sys, json
data = json.load(sys.stdin)
out = {"strs": [repr(s) for s in data["strs"]]}
# Runs of code points whose printability flips, starting with printable=False at 0.
runs, prev = [], False
for cp in range(0x110000):
    p = chr(cp).isprintable()
    if p != prev:
        runs.append(cp)
        prev = p
out["runs"] = runs
import unicodedata
out["unidata"] = unicodedata.unidata_version
out["values"] = [
    repr(()), repr((5,)), repr((3, 4)), repr([]), repr([("a", "<f4"), (("t", "n"), "<i8", (2, 3))]),
    repr({"a": True, "b": False, "c": None}), repr(2**62), repr(-7), repr(10**30), repr((0,)),
]
print(json.dumps(out))
`;

const oracle = pythonJson(SCRIPT, { strs: STRINGS }) as {
  strs: string[];
  runs: number[];
  unidata: string;
  values: string[];
};

describe("pyStrRepr", () => {
  test("matches CPython's repr() of curated strings", () => {
    STRINGS.forEach((s, i) => assert.equal(pyStrRepr(s), oracle.strs[i], `string #${i}`));
  });

  test("isprintable agrees with CPython for every code point assigned in both Unicode versions", () => {
    // Unicode tables differ between the JS engine and Python; the only allowed
    // difference is a code point that CPython's (older) tables leave unassigned.
    const python = new Uint8Array(0x110000);
    let state = 0;
    let from = 0;
    for (const at of [...oracle.runs, 0x110000]) {
      python.fill(state, from, at);
      state ^= 1;
      from = at;
    }
    const unassigned = /^\p{Cn}$/u;
    let differences = 0;
    for (let cp = 0; cp < 0x110000; cp++) {
      const ch = String.fromCodePoint(cp);
      const ours = isPyPrintable(ch) ? 1 : 0;
      if (ours === python[cp]) continue;
      differences++;
      // JS says printable (assigned since), Python said not (unassigned then).
      assert.ok(
        ours === 1 && !unassigned.test(ch),
        `U+${cp.toString(16)}: ours=${ours} python=${python[cp]}`,
      );
    }
    // Unicode 14 (Python 3.11) to 16 added under 10,000 characters.
    assert.ok(differences < 20000, `${differences} differences from Unicode ${oracle.unidata}`);
  });

  test("quote choice", () => {
    assert.equal(pyStrRepr("a'b"), `"a'b"`);
    assert.equal(pyStrRepr(`a"b`), `'a"b'`);
    assert.equal(pyStrRepr(`a'"b`), `'a\\'"b'`);
  });
});

describe("pyRepr", () => {
  test("tuples, lists, dicts, ints, bools, None match CPython", () => {
    const values: PyValue[] = [
      new PyTuple([]),
      new PyTuple([5]),
      new PyTuple([3, 4n]),
      [],
      [
        new PyTuple(["a", "<f4"]),
        new PyTuple([new PyTuple(["t", "n"]), "<i8", new PyTuple([2, 3])]),
      ],
      new Map<string, PyValue>([["a", true], ["b", false], ["c", null]]),
      2n ** 62n,
      -7,
      10n ** 30n,
      new PyTuple([0]),
    ];
    values.forEach((v, i) => assert.equal(pyRepr(v), oracle.values[i], `value #${i}`));
  });

  test("large numbers print as integers, never in exponent form", () => {
    assert.equal(pyRepr(1e21), "1000000000000000000000");
    assert.equal(pyRepr(-0), "0");
  });

  test("non-integer numbers are refused", () => {
    assert.throws(() => pyRepr(1.5), RangeError);
    assert.throws(() => pyRepr(Number.NaN), RangeError);
  });
});
