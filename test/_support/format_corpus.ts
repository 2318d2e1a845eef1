/**
 * NumPy's own test corpus of the .npy format, built the way `numpy/lib/tests/test_format.py`
 * builds it (the round-trip arrays `basic_arrays` and `record_arrays`, the padded, titled and
 * nested dtypes of `test_load_padded_dtype` and `test_descr_to_dtype`, the header versions of
 * `test_version_2_0`, `test_write_version` and `test_unicode_field_names`, `test_huge_header`,
 * `test_long_str`, `test_metadata_dtype`, `test_large_header`, `test_header_growth_axis`,
 * `test_large_archive`, and the malformed files of `test_read_magic`, `test_bad_header` and
 * `test_file_truncated`), plus subarray dtypes for the whole array, which NumPy folds into the
 * shape. NumPy writes every expected file; the tests write the same arrays with npyalloc.
 *
 * An array whose data npyalloc cannot express (`np.arange`) is compared twice: its header with
 * the header `np.save` writes for it, and whole files, one per value taken from the array, with
 * `np.save` of an array holding that value everywhere (`np.zeros` then assignment, so padding
 * bytes are zeros as npyalloc writes them).
 */
import { runPythonJson } from "./numpy.ts";

/** A fill as JSON: complex `[re, im]`, bytes as latin-1 text, NaN and infinities as strings. */
export type JsonFill = null | boolean | number | string | JsonFill[] | { [k: string]: JsonFill };

/** An array npyalloc writes, and the file NumPy writes for it. */
export interface FileCase {
  id: string;
  group: string;
  /** The dtype as the manifest gives it: a dtype string or NumPy's descr as JSON. */
  dtype: string | unknown[];
  shape: number[];
  order: "C" | "F";
  fill?: JsonFill;
  header_version?: "1.0" | "2.0" | "3.0";
  /** NumPy's file. */
  expected: string;
  /** The header `np.save` writes for the corpus array itself, when its data differs. */
  array_header?: string;
  /** The shape and descr of the file, when they differ from the request (subarray dtypes). */
  file_shape: number[];
  file_descr: unknown;
  /** Whether the header (after its 10- or 12-byte prefix) is longer than np.load's default limit. */
  long_header: boolean;
}

/** A header written with `write_array_header_1_0` or `write_array`, compared as bytes. */
export interface HeaderCase {
  id: string;
  group: string;
  descr: unknown;
  shape: string[];
  fortran: boolean;
  version: "auto" | "1.0" | "2.0";
  /** NumPy's header as hex, or its error when it refuses. */
  hex?: string;
  error?: string;
  /** A file holding only this header (data missing), for `inspect`. */
  file?: string;
  /** Whether the data would need 2^63 bytes or more. */
  too_large?: boolean;
}

/** Something NumPy refuses to write, which npyalloc must refuse too. */
export interface RefusedCase {
  id: string;
  group: string;
  dtype: string | unknown[];
  shape: number[];
  header_version?: "1.0" | "2.0" | "3.0" | "1.1" | "0.0" | "0.1" | "2.2" | "255.255";
  /** NumPy's error. */
  error: string;
}

/** A file NumPy cannot load, which `inspect` must call not ok. */
export interface MalformedCase {
  id: string;
  group: string;
  file: string;
  /** What `inspect`'s error must match (a regular expression). */
  expect: string;
  /** NumPy's error when loading it. */
  numpy_error: string;
}

/** An object array, whose header `inspect` must show. */
export interface ObjectCase {
  id: string;
  group: string;
  file: string;
  descr: string;
  shape: number[];
  fortran: boolean;
  header_bytes: number;
  file_bytes: number;
}

/** The whole corpus. */
export interface FormatCorpus {
  numpy_version: string;
  files: FileCase[];
  headers: HeaderCase[];
  refused: RefusedCase[];
  malformed: MalformedCase[];
  objects: ObjectCase[];
}

const CORPUS_SCRIPT = String.raw`
import os, io
from numpy.lib import format

out_dir = json.load(sys.stdin)["dir"]
files, headers, refused, malformed, objects = [], [], [], [], []
counter = [0]

def new_id(group):
    counter[0] += 1
    return f"{group}-{counter[0]}"

def jsonable(x):
    if isinstance(x, (list, tuple)):
        return [jsonable(i) for i in x]
    return x

def json_descr(dt):
    return jsonable(format.dtype_to_descr(dt))

def write(path, arr, version=None):
    with open(path, "wb") as f:
        format.write_array(f, arr, version=version)

def scalar_json(x, dt):
    if dt.names is not None:
        return {name: value_json(x[name], dt.fields[name][0]) for name in dt.names}
    k = dt.kind
    if k == "b":
        return bool(x)
    if k in "iu":
        return int(x)
    if k == "f":
        v = float(x)
        return "nan" if v != v else ("inf" if v == float("inf") else ("-inf" if v == float("-inf") else v))
    if k == "c":
        return [scalar_json(x.real, np.dtype("f8")), scalar_json(x.imag, np.dtype("f8"))]
    if k == "S":
        return bytes(x).decode("latin1")
    if k == "U":
        return str(x)
    raise TypeError(f"no fill for {dt}")

def value_json(x, dt):
    """A value of dtype dt (a subarray gives a nested list of its items)."""
    base = dt
    while base.subdtype is not None:
        base = base.subdtype[0]
    arr = np.asarray(x) if base.names is None else x
    if isinstance(arr, np.ndarray) and arr.ndim > 0:
        return [value_json(arr[i], base) for i in range(arr.shape[0])]
    return scalar_json(x, base)

def order_of(arr):
    return "F" if format.header_data_from_array_1_0(arr)["fortran_order"] else "C"

def add_array(group, arr, values=(None,), version=None, dtype=None):
    """The corpus array 'arr': its header, and one file per value."""
    order = order_of(arr)
    buf = io.BytesIO()
    format.write_array(buf, arr, version=version)
    data = buf.getvalue()
    header_path = None
    first = True
    for v in values:
        cid = new_id(group)
        expected = np.zeros(arr.shape, arr.dtype, order=order)
        if v is not None:
            expected[...] = v
        path = os.path.join(out_dir, cid + ".npy")
        write(path, expected, version)
        raw = open(path, "rb").read()
        plen = 10 if raw[6] == 1 else 12
        hlen = len(raw) - expected.nbytes
        case = {"id": cid, "group": group, "dtype": dtype if dtype is not None else json_descr(arr.dtype),
                "shape": list(arr.shape), "order": order, "expected": path,
                "file_shape": list(expected.shape), "file_descr": json_descr(expected.dtype),
                "long_header": len(raw[plen:hlen].decode("utf8" if raw[6] == 3 else "latin1")) > 10000}
        if v is not None:
            case["fill"] = value_json(v, arr.dtype)
        if version is not None:
            case["header_version"] = f"{version[0]}.{version[1]}"
        if first and data != raw:
            header_path = os.path.join(out_dir, cid + ".header")
            with open(header_path, "wb") as f:
                f.write(data[: len(data) - arr.nbytes])
            case["array_header"] = header_path
        first = False
        files.append(case)

# ---- numpy/lib/tests/test_format.py: basic_arrays
scalars = [np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.uint64, np.int64,
           np.float32, np.float64, np.complex64, np.complex128, object]
basic_arrays = []
for scalar in scalars:
    for endian in '<>':
        dtype = np.dtype(scalar).newbyteorder(endian)
        basic = np.arange(1500).astype(dtype)
        basic_arrays.extend([
            np.array([], dtype=dtype),
            np.array(10, dtype=dtype),
            basic,
            basic.reshape((30, 50)),
            basic.reshape((30, 50)).T,
            basic.reshape((30, 50))[::-1, ::2],
        ])

# ---- record_arrays
Pdescr = [
    ('x', 'i4', (2,)),
    ('y', 'f8', (2, 2)),
    ('z', 'u1')]
PbufferT = [
    ([3, 2], [[6., 4.], [6., 4.]], 8),
    ([4, 3], [[7., 5.], [7., 5.]], 9),
    ]
Ndescr = [
    ('x', 'i4', (2,)),
    ('Info', [
        ('value', 'c16'),
        ('y2', 'f8'),
        ('Info2', [
            ('name', 'S2'),
            ('value', 'c16', (2,)),
            ('y3', 'f8', (2,)),
            ('z3', 'u4', (2,))]),
        ('name', 'S2'),
        ('z2', 'b1')]),
    ('color', 'S2'),
    ('info', [
        ('Name', 'U8'),
        ('Value', 'c16')]),
    ('y', 'f8', (2, 2)),
    ('z', 'u1')]
NbufferT = [
    ([3, 2], (6j, 6., ('nn', [6j, 4j], [6., 4.], [1, 2]), 'NN', True),
     'cc', ('NN', 6j), [[6., 4.], [6., 4.]], 8),
    ([4, 3], (7j, 7., ('oo', [7j, 5j], [7., 5.], [2, 1]), 'OO', False),
     'dd', ('OO', 7j), [[7., 5.], [7., 5.]], 9),
    ]
record_arrays = [
    np.array(PbufferT, dtype=np.dtype(Pdescr).newbyteorder('<')),
    np.array(NbufferT, dtype=np.dtype(Ndescr).newbyteorder('<')),
    np.array(PbufferT, dtype=np.dtype(Pdescr).newbyteorder('>')),
    np.array(NbufferT, dtype=np.dtype(Ndescr).newbyteorder('>')),
    np.zeros(1, dtype=[('c', ('<f8', (5,)), (2,))])
]

for arr in basic_arrays:
    if arr.dtype.hasobject:
        # Object arrays: np.save pickles them; npyalloc refuses the dtype and inspect shows the header.
        cid = new_id("object")
        path = os.path.join(out_dir, cid + ".npy")
        write(path, arr)
        raw = open(path, "rb").read()
        hd = format.header_data_from_array_1_0(arr)
        objects.append({"id": cid, "group": "object", "file": path, "descr": hd["descr"],
                        "shape": list(arr.shape), "fortran": hd["fortran_order"],
                        "header_bytes": raw.index(b"\n") + 1, "file_bytes": len(raw)})
        refused.append({"id": cid + "-create", "group": "object", "dtype": hd["descr"], "shape": list(arr.shape),
                        "error": "object arrays are pickled"})
        continue
    values = [None] if arr.size == 0 else ([arr[()]] if arr.ndim == 0 else [arr.flat[0], arr.flat[-1]])
    add_array("basic", arr, values)
    # test_file_truncated: the file one byte short.
    cid = new_id("truncated")
    path = os.path.join(out_dir, cid + ".npy")
    write(path, arr)
    with open(path, "rb+") as f:
        f.seek(-1, os.SEEK_END)
        f.truncate()
    malformed.append({"id": cid, "group": "truncated", "file": path,
                      "expect": "^Truncated header" if arr.size == 0 else "^Truncated data"})

for arr in record_arrays:
    add_array("record", arr, [arr[i] for i in range(len(arr))])

# ---- test_load_padded_dtype
dt1 = np.dtype('i1, i4, i1', align=True)
dt2 = np.dtype({'names': ['a', 'b'], 'formats': ['i4', 'i4'], 'offsets': [1, 6]})
dt3 = np.dtype({'names': ['c', 'd'], 'formats': ['i4', dt2]})
dt4 = np.dtype({'names': ['a', '', 'b'], 'formats': ['i4'] * 3})
dt5 = np.dtype({'names': ['a', 'b'], 'formats': ['i4', 'i4'], 'offsets': [1, 6], 'titles': ['aa', 'bb']})
dt6 = np.dtype({'names': [], 'formats': [], 'itemsize': 8})
for dt in [dt1, dt2, dt3, dt4, dt5, dt6]:
    arr = np.zeros(3, dt)
    for i in range(3):
        arr[i] = i + 5
    add_array("padded", arr, [arr[i] for i in range(3)])

# ---- test_descr_to_dtype
for dt in [
    np.dtype([('a', np.int8), ('b', np.int16), ('c', np.int32)], align=True),
    np.dtype([('x', np.dtype(({'names': ['a', 'b'], 'formats': ['i1', 'i1'], 'offsets': [0, 4], 'itemsize': 8}, (3,))), (4,))]),
    np.dtype([('x', ('<f8', (5,)), (2,))]),
    np.dtype([('x', np.dtype((np.dtype((np.dtype({'names': ['a', 'b'], 'formats': ['i1', 'i1'], 'offsets': [0, 4], 'itemsize': 8}), (3,))), (4,))))]),
    np.dtype([('a', np.dtype((np.dtype((np.dtype((np.dtype([('a', int), ('b', np.dtype({'names': ['a', 'b'], 'formats': ['i1', 'i1'], 'offsets': [0, 4], 'itemsize': 8}))]), (3,))), (4,))), (5,))))]),
]:
    assert format.descr_to_dtype(dt.descr) == dt
    arr = np.zeros(3, dt)
    nonzero = np.zeros(3, dt)
    for i in range(3):
        nonzero[i] = i + 5
    add_array("descr_to_dtype", arr, [None, nonzero[1]])

# ---- test_version_2_0: 500 fields of 100-character names, a header of more than 65,535 bytes
dt = [(f"{i}" * 100, float) for i in range(500)]
d = np.ones(1000, dtype=dt)
add_array("version_2_0", d, [d[0]], version=(2, 0))
add_array("version_2_0", d, [d[0]])
refused.append({"id": new_id("version_2_0"), "group": "version_2_0", "dtype": json_descr(d.dtype),
                "shape": [1000], "header_version": "1.0", "error": "header too long for format 1.0"})

# ---- test_huge_header: the dtype string itself
spec = "i," * 10000 + "i"
arr = np.array(1, dtype=spec)
add_array("huge_header", arr, [arr[()]], dtype=spec)

# ---- test_write_version
arr = np.arange(1)
for version in [(1, 0), None, (2, 0)]:
    add_array("write_version", arr, [None], version=version)
for bad in ["1.1", "0.0", "0.1", "2.2", "255.255"]:
    refused.append({"id": new_id("write_version"), "group": "write_version", "dtype": "<i8", "shape": [1],
                    "header_version": bad, "error": "we only support format version (1,0), (2,0), and (3,0)"})

# ---- test_unicode_field_names
arr = np.array([(1, 3), (1, 2), (1, 3), (1, 2)],
               dtype=[('int', int), ('\N{CJK UNIFIED IDEOGRAPH-6574}\N{CJK UNIFIED IDEOGRAPH-5F62}', int)])
add_array("unicode", arr, [arr[0], arr[1]], version=(3, 0))
add_array("unicode", arr, [arr[0], arr[1]])
refused.append({"id": new_id("unicode"), "group": "unicode", "dtype": json_descr(arr.dtype), "shape": [4],
                "header_version": "2.0", "error": "not latin-1"})

# ---- test_long_str
arr = np.ones(1, dtype=np.dtype((str, format.BUFFER_SIZE + 1)))
add_array("long_str", arr, [arr[0]])

# ---- test_metadata_dtype (np.save drops the metadata, with a warning)
for dt in [
    np.dtype({'names': ['a', 'b'], 'formats': [float, np.dtype('S3', metadata={'some': 'stuff'})]}),
    np.dtype(int, metadata={'some': 'stuff'}),
    np.dtype([('subarray', (int, (2,)))], metadata={'some': 'stuff'}),
    np.dtype({'names': ['a', 'b'], 'formats': [float, np.dtype({'names': ['c'], 'formats': [np.dtype(int, metadata={})]})]}),
]:
    arr = np.ones(10, dtype=dt)
    add_array("metadata", arr, [arr[0]])

# ---- test_large_archive: shape (2**30, 2), header only
for shape, descr in [((2**30, 2), "|u1"), ((5,), "<i8")]:
    buf = io.BytesIO()
    format.write_array_header_1_0(buf, {"shape": shape, "fortran_order": False, "descr": descr})
    headers.append({"id": new_id("large_archive"), "group": "large_archive", "descr": descr,
                    "shape": [str(s) for s in shape], "fortran": False, "version": "1.0",
                    "hex": buf.getvalue().hex()})

# ---- test_large_header
buf = io.BytesIO()
format.write_array_header_1_0(buf, {'shape': (), 'fortran_order': False, 'descr': '<i8'})
headers.append({"id": new_id("large_header"), "group": "large_header", "descr": "<i8", "shape": [],
                "fortran": False, "version": "1.0", "hex": buf.getvalue().hex()})
big = [('x' * 256 * 256, '<i8')]
try:
    format.write_array_header_1_0(io.BytesIO(), {'shape': (), 'fortran_order': False, 'descr': big})
    raise SystemExit("NumPy wrote a 1.0 header of more than 65,535 bytes")
except ValueError as e:
    headers.append({"id": new_id("large_header"), "group": "large_header", "descr": jsonable(big),
                    "shape": [], "fortran": False, "version": "1.0", "error": str(e)})
add_array("large_header", np.zeros((), dtype=big), [None])

# ---- test_header_growth_axis, and each header as a file whose data is missing. The test passes
# the dtype itself as the descr, which writes "dtype([...])" into the header, 7 characters more
# than the descr np.save writes: 7 more spaces in the field name give the same header lengths.
for is_fortran_array, dtype_space, expected_header_length in [
    [False, 22, 128], [False, 23, 192], [True, 23, 128], [True, 24, 192]
]:
    for size in [10**i for i in range(format.GROWTH_AXIS_MAX_DIGITS)]:
        fp = io.BytesIO()
        shape = (2, size) if is_fortran_array else (size, 2)
        descr = np.dtype([(' ' * (dtype_space + 7), int)])
        format.write_array_header_1_0(fp, {'shape': shape, 'fortran_order': is_fortran_array,
                                           'descr': format.dtype_to_descr(descr)})
        data = fp.getvalue()
        assert len(data) == expected_header_length
        cid = new_id("growth_axis")
        path = os.path.join(out_dir, cid + ".npy")
        with open(path, "wb") as f:
            f.write(data)
        headers.append({"id": cid, "group": "growth_axis", "descr": json_descr(descr),
                        "shape": [str(s) for s in shape], "fortran": is_fortran_array, "version": "1.0",
                        "hex": data.hex(), "file": path, "too_large": 2 * size * 8 >= 2**63})

# ---- test_read_magic, test_read_version_1_0_bad_magic, test_bad_header
bad_version_magic = [
    b'\x93NUMPY\x01\x01',
    b'\x93NUMPY\x00\x00',
    b'\x93NUMPY\x00\x01',
    b'\x93NUMPY\x02\x00',
    b'\x93NUMPY\x02\x02',
    b'\x93NUMPY\xff\xff',
]
malformed_magic = [
    b'\x92NUMPY\x01\x00',
    b'\x00NUMPY\x01\x00',
    b'\x93numpy\x01\x00',
    b'\x93MATLB\x01\x00',
    b'\x93NUMPY\x01',
    b'\x93NUMPY',
    b'',
]
extra = io.BytesIO()
format.write_array_header_1_0(extra, {"shape": (1, 2), "fortran_order": False, "descr": "x", "extrakey": -1})
bad_headers = [
    format.magic(1, 0),
    format.magic(1, 0) + b'1',
    format.magic(1, 0) + b'\x01\x00',
    b"\x93NUMPY\x01\x006\x00{'descr': 'x', 'shape': (1, 2), }" b"                    \n",
    extra.getvalue(),
]
for group, items, expect in [("bad_version_magic", bad_version_magic, "version|Truncated"),
                             ("malformed_magic", malformed_magic, "magic|Truncated"),
                             ("bad_header", bad_headers, "Truncated|keys")]:
    for raw in items:
        cid = new_id(group)
        path = os.path.join(out_dir, cid + ".npy")
        with open(path, "wb") as f:
            f.write(raw)
        malformed.append({"id": cid, "group": group, "file": path, "expect": expect})

# NumPy refuses to load every malformed file.
for m in malformed:
    try:
        np.load(m["file"])
        raise SystemExit(f"NumPy loaded the malformed file {m}")
    except (ValueError, EOFError, OSError) as e:
        m["numpy_error"] = type(e).__name__ + ": " + str(e)[:200]

# ---- NumPy's own object array files (test_pickle_python2_python3)
data_dir = os.path.join(os.path.dirname(np.lib.__file__), "tests", "data")
for fname in ['py2-np0-objarr.npy', 'py2-objarr.npy', 'py3-objarr.npy']:
    path = os.path.join(data_dir, fname)
    raw = open(path, "rb").read()
    with open(path, "rb") as f:
        format.read_magic(f)
        shape, fortran, dt = format.read_array_header_1_0(f)
    objects.append({"id": fname, "group": "object_data", "file": path, "descr": "|O8" if b"|O8" in raw[:128] else "|O",
                    "shape": list(shape), "fortran": fortran, "header_bytes": raw.index(b"\n") + 1,
                    "file_bytes": len(raw)})

# ---- Subarray dtypes for the whole array: NumPy folds them into the shape.
for spec, shape in [("(2,3)i4", (4,)), ("2i4", (3, 5)), (">(2,)f8", ()), ("(1,)u1", (2,)), ("(2,)S3", (1, 2)),
                    ("(3,)<U2", (2,))]:
    for order in "CF":
        arr = np.zeros(shape, spec, order=order)
        value = {"i": 7, "f": -1.5, "u": 0, "S": b"ab", "U": "\u00e9t"}[arr.dtype.kind]
        filled = np.zeros(shape, spec, order=order)
        filled[...] = value
        cid = new_id("subarray")
        path = os.path.join(out_dir, cid + ".npy")
        write(path, filled)
        files.append({"id": cid, "group": "subarray", "dtype": spec, "shape": list(shape), "order": order,
                      "fill": scalar_json(value if not isinstance(value, bytes) else np.bytes_(value), arr.dtype),
                      "expected": path, "file_shape": list(filled.shape), "file_descr": json_descr(filled.dtype),
                      "long_header": False})
# A subarray of no items is not folded: NumPy makes the array's dtype the zero-size void 'V0'.
assert np.zeros(2, "(0,)u1").dtype == np.dtype("V0")
refused.append({"id": new_id("subarray"), "group": "subarray", "dtype": "(0,)u1", "shape": [2],
                "error": "becomes a V0 array"})
for spec, shape in [(["<f8", [5]], (2,)), ([["<f8", [5]], [2]], (3,)), ([[["a", "<i2"], ["b", "<c8"]], [2]], (2,))]:
    def conv(x):
        if isinstance(x, str):
            return x
        if len(x) == 2 and isinstance(x[1], list) and all(isinstance(i, int) for i in x[1]):
            return (conv(x[0]), tuple(x[1]))
        return [tuple([f[0], conv(f[1])] + [tuple(s) for s in f[2:]]) for f in x]
    dt = np.dtype(conv(spec))
    filled = np.zeros(shape, dt)
    value = 2.5 if filled.dtype.names is None else (3, 1 + 2j)
    filled[...] = value
    cid = new_id("subarray")
    path = os.path.join(out_dir, cid + ".npy")
    write(path, filled)
    files.append({"id": cid, "group": "subarray", "dtype": spec, "shape": list(shape), "order": "C",
                  "fill": value_json(filled.flat[0], filled.dtype), "expected": path,
                  "file_shape": list(filled.shape), "file_descr": json_descr(filled.dtype), "long_header": False})

print(json.dumps({"numpy_version": np.__version__, "files": files, "headers": headers, "refused": refused,
                  "malformed": malformed, "objects": objects}))
`;

/**
 * Builds the corpus with NumPy: every expected file is written into `dir`.
 *
 * @param dir An empty folder for NumPy's files.
 * @returns The cases.
 */
export function formatCorpus(dir: string): FormatCorpus {
  return runPythonJson<FormatCorpus>(CORPUS_SCRIPT, JSON.stringify({ dir }));
}
