/**
 * The NumPy side of the byte-for-byte comparisons: writes each oracle case
 * with NumPy and returns the file bytes, plus helpers to compare them.
 */
import type { DType } from "../../src/npy/dtype.ts";
import type { FillValue } from "../../src/npy/fill.ts";
import { toJson } from "../../src/json.ts";
import { runPythonJson } from "./numpy.ts";
import type { JsonFill, OracleCase } from "./oracle_cases.ts";

/**
 * Converts a case's JSON fill to the fill npyalloc takes.
 *
 * @param fill The JSON fill.
 * @returns The fill value.
 */
export function toFill(fill: JsonFill): FillValue {
  if (fill === null || typeof fill !== "object") return fill;
  if (Array.isArray(fill)) return fill.map(toFill);
  if ("int" in fill && typeof fill.int === "string") return BigInt(fill.int);
  return Object.fromEntries(Object.entries(fill).map(([k, v]) => [k, toFill(v as JsonFill)]));
}

/**
 * Offsets, inside one element, of the padding bytes of every long double in it. */
export function longDoublePadding(dtype: DType, base = 0, out: number[] = []): number[] {
  if (dtype.kind === "struct") {
    for (const field of dtype.fields) {
      const count = field.shape.reduce((a, b) => a * b, 1);
      for (let i = 0; i < count; i++) {
        longDoublePadding(field.dtype, base + field.offset + i * field.dtype.itemsize, out);
      }
    }
  } else if (
    (dtype.kind === "f" && dtype.itemsize === 16) || (dtype.kind === "c" && dtype.itemsize === 32)
  ) {
    for (let part = 0; part < dtype.itemsize; part += 16) {
      for (let i = 0; i < 6; i++) out.push(base + part + (dtype.byteOrder === ">" ? i : 10 + i));
    }
  }
  return out;
}

const ORACLE_SCRIPT = `
import base64, io
cases = json.load(sys.stdin)

def pyfill(v, dt):
    if isinstance(v, dict) and set(v) == {"neg0"}:
        return -0.0
    if isinstance(v, dict) and set(v) == {"int"}:
        return int(v["int"])
    if dt.kind in "fc" and isinstance(v, str):
        return float(v)
    if dt.kind == "c" and isinstance(v, list):
        return complex(pyfill(v[0], np.dtype("f8")), pyfill(v[1], np.dtype("f8")))
    if dt.kind == "m" and isinstance(v, dict):
        return int(v["int"])
    return v

def assign(view, v, dt):
    if dt.names is not None:
        for name, sub in v.items():
            assign(view[name], sub, dt.fields[name][0].base)
    else:
        view[...] = pyfill(v, dt)

def conv(descr):
    if isinstance(descr, str):
        return descr
    out = []
    for f in descr:
        name = tuple(f[0]) if isinstance(f[0], list) else f[0]
        sub = conv(f[1])
        out.append((name, sub) if len(f) == 2 else (name, sub, tuple(f[2])))
    return out

out = []
for c in cases:
    d = c["dtype"]
    dt = np.lib.format.descr_to_dtype(conv(d)) if isinstance(d, list) else np.dtype(d)
    if dt.names is None:
        dt = np.dtype(dt.str)  # 'c' splits strings into characters; its descr is '|S1'
    a = np.zeros(tuple(c["shape"]), dt, order=c["order"])
    if "fill" in c:
        try:
            assign(a, c["fill"], dt)
        except Exception as e:
            raise SystemExit(f"case {c}: {e}")
    buf = io.BytesIO()
    v = c.get("headerVersion")
    np.lib.format.write_array(buf, a, version=None if v is None else tuple(int(x) for x in v.split(".")))
    out.append(base64.b64encode(buf.getvalue()).decode())
print(json.dumps(out))
`;

/**
 * Writes every case with NumPy and returns the bytes of each file.
 *
 * @param cases The cases.
 * @returns One byte array per case.
 */
export function numpyFiles(cases: readonly OracleCase[]): Uint8Array[] {
  const encoded = runPythonJson<string[]>(
    ORACLE_SCRIPT,
    JSON.stringify(cases, (_k, v) => (Object.is(v, -0) ? { neg0: true } : v)),
  );
  return encoded.map((b64) => Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0)));
}

/**
 * Compares a file npyalloc wrote with NumPy's, ignoring long-double padding (which NumPy leaves
 * uninitialised), and returns a description of the first difference or `null`.
 *
 * @param ours npyalloc's bytes.
 * @param theirs NumPy's bytes (modified: padding zeroed).
 * @param dtype The array's dtype.
 * @param headerBytes Where the data starts.
 * @returns `null` when identical.
 */
export function firstDifference(
  ours: Uint8Array,
  theirs: Uint8Array,
  dtype: DType,
  headerBytes: number,
): string | null {
  if (ours.length !== theirs.length) {
    return `file size ${ours.length} differs from NumPy's ${theirs.length}`;
  }
  const padding = longDoublePadding(dtype);
  if (padding.length > 0) {
    for (let at = headerBytes; at < theirs.length; at += dtype.itemsize) {
      for (const offset of padding) theirs[at + offset] = 0;
    }
  }
  const first = ours.findIndex((b, k) => b !== theirs[k]);
  return first < 0 ? null : `first difference at byte ${first} (header is ${headerBytes} bytes)`;
}

/**
 * A manifest declaring every case as `c<i>.npy` under `root`, as YAML text (JSON with exact big
 * integers, and `-0.0` kept negative).
 *
 * @param cases The cases.
 * @param root The manifest's `root`.
 * @param extra More array entries, as they go in the manifest.
 * @returns The manifest text.
 */
export function oracleManifest(
  cases: readonly OracleCase[],
  root: string,
  extra: readonly Record<string, unknown>[] = [],
): string {
  const arrays = cases.map((c, i) => {
    const entry: Record<string, unknown> = {
      path: `c${i}.npy`,
      shape: c.shape,
      dtype: c.dtype,
      order: c.order,
    };
    if (c.fill !== undefined) entry.fill = toFill(c.fill);
    if (c.headerVersion !== undefined) entry.header_version = c.headerVersion;
    return entry;
  });
  const negZero = (v: unknown): unknown =>
    Object.is(v, -0)
      ? "__neg0__"
      : Array.isArray(v)
      ? v.map(negZero)
      : v !== null && typeof v === "object"
      ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, negZero(x)]))
      : v;
  return toJson(negZero({ version: 1, root, arrays: [...arrays, ...extra] }), 1).replace(
    /"__neg0__"/g,
    "-0.0",
  );
}
