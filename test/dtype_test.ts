import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { dtypeLabel, dtypeToDescr, MAX_DTYPE_TEXT_LENGTH, parseDType } from "../src/npy/dtype.ts";
import { NpyallocError } from "../src/errors.ts";
import { runPythonJson } from "./_support/numpy.ts";

/** Spellings npyalloc refuses on purpose although NumPy accepts them. */
const REFUSED = /^[<>=|]?(O\d*|object_?|S0?|U0?|V0?|a0?|bytes_?|str_?|unicode|void)$|\[0\w+\]|\//;

const CHARS = "?bBhHiIlLqQpPnNefdgFDGSaUVOMmcuxyz";
const SIZES = ["", "0", "1", "2", "3", "4", "5", "8", "10", "12", "16", "32", "04", "+5", " 5"];
const EXTRA = [
  "bool",
  "bool_",
  "byte",
  "ubyte",
  "short",
  "ushort",
  "intc",
  "uintc",
  "int",
  "int_",
  "intp",
  "long",
  "longlong",
  "uint",
  "uintp",
  "ulong",
  "ulonglong",
  "int8",
  "int16",
  "int32",
  "int64",
  "uint8",
  "uint16",
  "uint32",
  "uint64",
  "half",
  "float16",
  "single",
  "float32",
  "double",
  "float",
  "float64",
  "longdouble",
  "float128",
  "csingle",
  "complex64",
  "cdouble",
  "complex",
  "complex128",
  "clongdouble",
  "complex256",
  "bytes",
  "str",
  "unicode",
  "void",
  "object",
  "float_",
  "complex_",
  "int0",
  "bool8",
  "Float64",
  ">int32",
  "<float64",
  "datetime64",
  "timedelta64",
  "datetime64[ns]",
  "<datetime64[ms]",
  ">timedelta64[10ms]",
  "timedelta64[2W]",
  "M8[ns]",
  "M8[us]",
  "M8[\u03bcs]",
  "M8[Y]",
  "M8[M]",
  "M8[W]",
  "M8[D]",
  "M8[h]",
  "M8[m]",
  "M8[s]",
  "M8[ps]",
  "M8[fs]",
  "M8[as]",
  "M8[10ms]",
  "m8[3M]",
  "M8[1ms]",
  "M8[010ms]",
  "M8[+10ms]",
  "M8[ 10ms]",
  "M8[10 ms]",
  "M8[generic]",
  "M8[]",
  "M8[B]",
  "M8[ns",
  "M8[ns]x",
  "M[ns]",
  "m[ns]",
  ">M8[ns]",
  "|m8[ns]",
  "M8[2147483647ms]",
  "M8[2147483648ms]",
  " f8",
  "f8 ",
  "F8",
  "int32[ns]",
  "S2147483647",
  "S2147483648",
  "U536870911",
  "U536870912",
  "V2147483647",
  "V3.5",
  "S-1",
  "i4,f8",
  "i4, (2,3)f8",
  "3i4, f8",
  "i4,f8,",
  "i4,",
  ",i4",
  "i4,,f8",
  "(2,)i4,f8",
  "(2,3,)i4,f8",
  "()i4,f8",
  "(0,)i4,f8",
  ">2i4,f8",
  "int32,float64",
  "i4,datetime64[ns]",
  "M8[ns],m8[s]",
  "S3,U2",
  "f8,(2,)S3",
  "i4 , f8",
  "<i4,>f8",
  "1i4,f8",
  "3i4",
  "(2,3)f8",
  "2i4",
  "(2,)i4",
  "()i4",
  "0i4",
  "(0,)i4",
  "(2,0,3)u1",
  ">(2,3)i4",
  "(2,3)>i4",
  "<(2,3)>i4",
  " (2, 3) i4",
  "(2, 3,)f8",
  "(2,3)i4,",
  "(2)i4",
  "(2,3)M8[ns]",
  "(2,)S3",
  "(2,)U2",
  "(2,)V4",
  "4c16",
  "(2147483647,)u1",
  "(2147483648,)u1",
  "(65536,65536)u1",
  `(${Array(64).fill(1).join(",")})i4`,
  `(${Array(65).fill(1).join(",")})i4`,
  "(2,)O",
  "",
  "!f8",
  "i16",
  "f12",
  "c64",
  "b2",
  "u",
  "xyz",
];

function candidates(): string[] {
  const out = new Set<string>(EXTRA);
  for (const order of ["", "<", ">", "=", "|"]) {
    for (const ch of CHARS) for (const size of SIZES) out.add(order + ch + size);
  }
  return [...out];
}

type Answer = { descr: unknown; itemsize: number } | { error: string };

describe("parseDType against numpy.dtype()", () => {
  const specs = candidates();
  const answers = runPythonJson<Answer[]>(
    `
specs = json.load(sys.stdin)
def full_descr(d):
    # A subarray dtype's own descr is '|V..': its (descr, shape), as in a field's descr.
    if d.subdtype is not None:
        return [full_descr(d.subdtype[0]), list(d.subdtype[1])]
    return np.lib.format.dtype_to_descr(d)
out = []
for s in specs:
    try:
        d = np.dtype(s)
        out.append({"descr": full_descr(d), "itemsize": d.itemsize})
    except Exception as e:
        out.append({"error": type(e).__name__})
print(json.dumps(out))
`,
    JSON.stringify(specs),
  );

  test(`agrees on ${specs.length} spellings`, () => {
    let accepted = 0;
    for (const [i, spec] of specs.entries()) {
      const expected = answers[i]!;
      let actual: Answer;
      try {
        const dtype = parseDType(spec);
        actual = { descr: dtypeToDescr(dtype), itemsize: dtype.itemsize };
      } catch (err) {
        assert.ok(err instanceof NpyallocError, `${spec}: ${err}`);
        assert.equal(err.code, "E_DTYPE");
        actual = { error: err.message };
      }
      if ("error" in expected) {
        assert.ok("error" in actual, `NumPy rejects ${JSON.stringify(spec)}, npyalloc accepts it`);
      } else if ("error" in actual) {
        assert.ok(
          REFUSED.test(spec) || (expected.itemsize === 0) ||
            /(^|,|\))\s*[<>=|]?(O|object)/.test(spec),
          `npyalloc rejects ${JSON.stringify(spec)} (${actual.error}), NumPy gives ${
            JSON.stringify(expected.descr)
          }`,
        );
      } else {
        accepted++;
        assert.deepEqual(actual, expected, JSON.stringify(spec));
      }
    }
    assert.ok(accepted > 300, `only ${accepted} spellings compared`);
  });
});

describe("descr lists", () => {
  const lists: unknown[] = [
    [["a", "<i4"], ["b", "<f8", [2]]],
    [["a", "<i4", 3], ["b", "|S3"]],
    [["a", "<i4", []]],
    [["a", "<i4", [0]]],
    [["a", "<i2"], ["", "|V6"], ["b", "<f8"]],
    [["", "<i4"]],
    [[["title", "name"], "<i4"], ["x", ">f2"]],
    [["outer", [["inner", [["deep", "<u2", [2, 2]]]], ["y", "|b1"]], [3]], ["z", "<M8[ns]"]],
    [["q", "i4,f8"]],
    [["a", "<U3"], ["b", ">c16"], ["c", "<f16"], ["d", "<m8[10ms]"], ["e", "|V5"]],
    [],
    [["caf\u00e9", "<i4"], ["\u4e2d", "<f4"], ["it's", "|u1"], ['say "hi"', "|i1"]],
    // Fields whose dtype is itself a subarray, as NumPy 2 writes them (test_format.py's
    // record arrays and test_descr_to_dtype).
    [["c", ["<f8", [5]], [2]]],
    [["x", [[["a", "|i1"], ["", "|V3"], ["b", "|i1"], ["", "|V3"]], [3]], [4]]],
    [[
      "a",
      [[[["a", "<i8"], ["b", [["a", "|i1"], ["", "|V3"], ["b", "|i1"], ["", "|V3"]]]], [3]], [4]],
      [5],
    ]],
    [["x", ["<f8", [5]]], ["y", [["<u2", [2]], [3]]]],
    [["x", ["<f8", []], [2]], ["y", ["<f8", [2]], []]],
    [["x", ["<i4", 3], 2], ["t", [["i4,f8", [2]], [1]], [2, 2]]],
    [["", "<i4", [2]], ["b", "<u1"], ["", ["<i4", [2]]]],
    [["a", "(2,3)i4"], ["b", "(2,)i4", [3]], ["c", "2i4, f8"], ["d", "()f4"]],
    [[["Title", "n"], ["<c16", [2]], [2]]],
    ["<i4", [2, 3]],
    [["<f8", [5]], [2]],
    [[["a", "<i2"], ["b", "<f8", [2]]], [3]],
    ["<i4", []],
    ["<i4", 4],
  ];
  const expected = runPythonJson<unknown[]>(
    `
lists = json.load(sys.stdin)
def tup(x):
    if isinstance(x, list) and x and isinstance(x[0], list):
        return [tuple(tup(e) for e in f) if isinstance(f, list) else f for f in x]
    return x
def shape(x):
    return tuple(x) if isinstance(x, list) else x
def is_subarray(x):
    return len(x) == 2 and (isinstance(x[1], int) or (isinstance(x[1], list) and all(isinstance(i, int) for i in x[1])))
def conv(descr):
    if isinstance(descr, str):
        return descr
    if is_subarray(descr):
        return (conv(descr[0]), shape(descr[1]))
    out = []
    for f in descr:
        name = tuple(f[0]) if isinstance(f[0], list) else f[0]
        sub = conv(f[1])
        out.append((name, sub) if len(f) == 2 else (name, sub, shape(f[2])))
    return out
def full_descr(d):
    if d.subdtype is not None:
        return [full_descr(d.subdtype[0]), list(d.subdtype[1])]
    return np.lib.format.dtype_to_descr(d)
res = []
for l in lists:
    d = np.lib.format.descr_to_dtype(conv(l))
    res.append({"descr": full_descr(d), "itemsize": d.itemsize})
print(json.dumps(res))
`,
    JSON.stringify(lists),
  );

  for (const [i, list] of lists.entries()) {
    test(JSON.stringify(list), () => {
      const dtype = parseDType(list as unknown[]);
      assert.deepEqual({ descr: dtypeToDescr(dtype), itemsize: dtype.itemsize }, expected[i]);
    });
  }

  test("rejects malformed field lists with the field's position", () => {
    const cases: [unknown[], RegExp][] = [
      [[["a"]], /\[0\]: a field is \[name, dtype\]/],
      [[["a", 5]], /\[0\]: a field's dtype is a string or a list/],
      [[["a", ["<i4", [-1]]]], /dimensions must be integers >= 0, got -1/],
      [[["a", ["<i4", [0]], [3]]], /a subarray of zero items cannot have a shape of its own/],
      [[["a", "<i4", [2147483648]]], /must fit a C int/],
      [[["a", "<u1", Array(65).fill(1)]], /at most 64 dimensions/],
      [[["a", [["<u1", [65536]], [32768]]]], /larger than NumPy allows/],
      [[["a", ["O", [2]]]], /object arrays hold Python objects/],
      [[["a", [5, [2]]]], /\[0\]\[1\]\[0\]: a dtype is a string/],
      [[[5, "<i4"]], /\[0\]: a field name is a string or \[title, name\]/],
      [[["a", "<i4"], ["a", "<f8"]], /field name 'a' occurs more than once/],
      [[["a", "<i4", [-1]]], /dimensions must be integers >= 0, got -1/],
      [[["a", "<i4", "x"]], /subarray shape must be an integer or a list/],
      [[["a", "O"]], /object arrays hold Python objects/],
      [[["a", "S"]], /need a length/],
      [[["a", "float7"]], /Cannot parse dtype 'float7'/],
    ];
    for (const [list, message] of cases) {
      assert.throws(() => parseDType(list), (err: unknown) => {
        assert.ok(err instanceof NpyallocError);
        assert.equal(err.code, "E_DTYPE");
        assert.match(err.message, message);
        return true;
      });
    }
  });

  test("refuses nesting beyond 64 levels without overflowing the stack", () => {
    let list: unknown[] = [["x", "<i4"]];
    for (let i = 0; i < 10_000; i++) list = [["n", list]];
    assert.throws(() => parseDType(list), /nest deeper than 64 levels/);
  });
});

describe("messages", () => {
  const cases: [string, RegExp][] = [
    [
      "object",
      /Cannot parse dtype 'object': object arrays hold Python objects and cannot be memory-mapped/,
    ],
    ["str", /Cannot parse dtype 'str': strings and void types need a length, e.g. 'S10'/],
    ["U0", /need a length/],
    [">int32", /a byte order goes with a type code, e.g. '>i4', not with a type name/],
    ["Float64", /data type not understood \(did you mean 'float64'\?\)/],
    ["i3", /'i' takes a size of 1, 2, 4, 8 bytes, got 3/],
    ["M8[parsec]", /unknown datetime unit 'parsec'/],
    // NumPy 2's StringDType: np.save writes it as pickled objects ('|O'), never memory-mappable.
    ["T", /StringDType keeps its strings outside the array.*'U10'/],
    ["StringDType", /StringDType keeps its strings outside the array/],
    ["flaot32", /data type not understood \(did you mean 'float32'\?\)/],
    ["(2)i4", /data type not understood/],
    [
      "i,".repeat(50) + "float7",
      /Cannot parse dtype '(i,){38}i\.\.\.': data type not understood \(did you mean 'float'\?\)$/,
    ],
    ["S2147483648", /larger than NumPy allows/],
  ];
  for (const [spec, message] of cases) {
    test(spec, () => assert.throws(() => parseDType(spec), message));
  }

  test("dtype strings as long as NumPy takes, up to MAX_DTYPE_TEXT_LENGTH", () => {
    // test_huge_header's own spelling: 20,001 characters, 10,001 fields.
    const huge = parseDType("i,".repeat(10000) + "i");
    assert.ok(huge.kind === "struct" && huge.fields.length === 10001 && huge.itemsize === 40004);
    assert.equal(dtypeToDescr(huge)[10000]?.[0], "f10000");
    const wide = parseDType("u1,".repeat(200_000) + "u1");
    assert.equal(wide.itemsize, 200_001);
    assert.throws(
      () => parseDType("i".repeat(MAX_DTYPE_TEXT_LENGTH + 1)),
      new RegExp(
        `^NpyallocError: Cannot parse dtype 'i{77}\\.\\.\\.': the dtype string is ` +
          `${MAX_DTYPE_TEXT_LENGTH + 1} characters long, more than the ${MAX_DTYPE_TEXT_LENGTH}`,
      ),
    );
  });

  test("labels", () => {
    assert.equal(dtypeLabel(parseDType("float32")), "<f4");
    assert.equal(dtypeLabel(parseDType("i4,f8")), '[["f0","<i4"],["f1","<f8"]]');
    assert.equal(dtypeLabel(parseDType("(2,3)i4")), '["<i4",[2,3]]');
  });
});
