/**
 * The NumPy side of the generated-fill tests: the SHA-256 of the bytes `np.save` writes after
 * the header for each case (long-double padding zeroed, as NumPy leaves it uninitialised), and
 * the same digest of what a source streams, read in buffers of a given size.
 */
import { createHash } from "node:crypto";
import { openSource, parseGeneratedFill } from "../../src/generate/mod.ts";
import type { MathLib } from "../../src/generate/math.ts";
import { parseDType } from "../../src/npy/dtype.ts";
import { runPythonJson } from "./numpy.ts";

/** One case: a fill as the manifest gives it, and the array it fills. */
export interface GenCase {
  readonly fill: Record<string, Record<string, unknown>>;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly order: "C" | "F";
}

const SCRIPT = `
import hashlib
def py(v):
    if isinstance(v, dict) and set(v) == {"int"}:
        return int(v["int"])
    if isinstance(v, list):
        return [py(x) for x in v]
    return v

def native(dt):
    return dt.newbyteorder("=")

def values(kind, p, dt, n):
    if kind == "arange":
        start, step = p["start"], p.get("step", 1)
        if dt.kind == "M":
            unit, count = np.datetime_data(dt)
            start = np.datetime64(start, f"{count}{unit}")
        if dt.kind in "Mm":
            # datetime_arange (numpy/_core/src/multiarray/datetime.c) stores native bytes even
            # for a byte-swapped dtype; the values meant are those of the native dtype.
            dt = native(dt)
        return np.arange(start, start + (n + 1) * step, step, dt)[:n]
    if kind == "linspace":
        return np.linspace(p["start"], p["stop"], n, endpoint=p.get("endpoint", True), dtype=dt)
    seed = p["seed"]
    # A decimal string is the seed it spells (the manifest interpolates "\${SEED}").
    seed = int(seed) if isinstance(seed, str) else seed
    rng = np.random.default_rng(seed)
    if kind == "random":
        if dt.itemsize in (4, 8):
            return rng.random(n, native(dt))
        return rng.random(n)
    if kind == "standard_normal":
        if dt.itemsize in (4, 8):
            return rng.standard_normal(n, native(dt))
        return rng.standard_normal(n)
    if kind == "uniform":
        return rng.uniform(p.get("low", 0.0), p.get("high", 1.0), n)
    if kind == "normal":
        return rng.normal(p.get("loc", 0.0), p.get("scale", 1.0), n)
    if kind == "integers":
        return rng.integers(p["low"], p["high"], size=n, dtype=native(dt), endpoint=p.get("endpoint", False))
    raise ValueError(kind)

out = []
for case in json.load(sys.stdin):
    (kind, p), = case["fill"].items()
    p = {k: py(v) for k, v in p.items()}
    dt = np.dtype(case["dtype"])
    shape = tuple(case["shape"])
    n = int(np.prod(shape))
    v = values(kind, p, dt, n).astype(dt).reshape(shape)
    if case["order"] == "F":
        v = np.asfortranarray(v)
    data = bytearray(v.tobytes(order=case["order"]))
    if dt.kind == "f" and dt.itemsize == 16:
        for i in range(0, len(data), 16):
            for j in (range(i, i + 6) if dt.byteorder == ">" else range(i + 10, i + 16)):
                data[j] = 0
    out.append(hashlib.sha256(data).hexdigest())
print(json.dumps(out))
`;

/** JSON with bigints as `{ "int": "..." }`, which the script reads back as Python ints. */
function toJson(cases: readonly unknown[]): string {
  return JSON.stringify(cases, (_k, v) => typeof v === "bigint" ? { int: String(v) } : v);
}

/**
 * NumPy's digests of the cases, in one python3 run.
 *
 * @param cases The cases.
 * @returns One hex SHA-256 per case.
 */
export function numpyDigests(cases: readonly GenCase[]): string[] {
  return runPythonJson<string[]>(SCRIPT, toJson(cases));
}

/**
 * The digest of what a source streams for a case, read `chunk` bytes at a time.
 *
 * @param c The case.
 * @param math The math library.
 * @param chunk Buffer size in bytes (at least one element).
 * @returns The hex SHA-256 and the byte count.
 */
export function ourDigest(
  c: GenCase,
  math: MathLib,
  chunk: number,
): { hex: string; bytes: number } {
  const dtype = parseDType(c.dtype);
  const fill = parseGeneratedFill(c.fill, dtype);
  if (fill === null) throw new Error(`not a generated fill: ${toJson([c])}`);
  const source = openSource(fill, dtype, c.shape.map(BigInt), c.order, math);
  const hash = createHash("sha256");
  const buffer = new Uint8Array(chunk);
  let bytes = 0;
  for (;;) {
    const k = source.next(buffer);
    if (k === 0) break;
    hash.update(buffer.subarray(0, k));
    bytes += k;
  }
  return { hex: hash.digest("hex"), bytes };
}

/**
 * A case's label for assertion messages.
 *
 * @param c The case.
 * @returns One line.
 */
export function caseLabel(c: GenCase): string {
  return `${toJson([c.fill]).slice(1, -1)} ${c.dtype} [${c.shape.join(",")}] ${c.order}`;
}
