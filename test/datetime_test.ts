/**
 * parseDatetime64 against real NumPy: a Python script prints, for many
 * (text, unit) pairs, either NumPy's `np.datetime64(text, unit)` count (when
 * the text is exact in the unit and in range), or why npyalloc must refuse it
 * (`inexact`, `range`, or NumPy's own parse error).
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { NpyallocError } from "../src/errors.ts";
import { NAT, parseDatetime64 } from "../src/npy/datetime.ts";
import type { DatetimeUnit, DatetimeUnitSpec } from "../src/npy/dtype.ts";
import { runPythonJson } from "./_support/numpy.ts";

const ORACLE = String.raw`
import json, re, sys, warnings
import numpy as np
warnings.simplefilter("ignore")

FIXED = {"W": 7 * 86400 * 10**18, "D": 86400 * 10**18, "h": 3600 * 10**18, "m": 60 * 10**18,
         "s": 10**18, "ms": 10**15, "us": 10**12, "ns": 10**9, "ps": 10**6, "fs": 10**3, "as": 1}
UNITS = ["Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as",
         "10ms", "2W", "3M", "7D", "10Y", "100ns", "60s", "15m"]
I64 = 2**63

def split(unit):
    m = re.fullmatch(r"(\d*)(\w+)", unit)
    return (int(m.group(1)) if m.group(1) else 1), m.group(2)

def days_from_civil(y, m, d):
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((m + 9) % 12) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468

def civil_from_days(z):
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (m <= 2), m, d

def total_as(text):
    """Attoseconds since the epoch, exact: NumPy's natural-unit count where it
    cannot overflow, the calendar and the fraction digits in Python."""
    natural = np.datetime64(text)
    base, _ = np.datetime_data(natural.dtype)
    n = int(natural.astype(np.int64))
    if base == "Y":
        return days_from_civil(1970 + n, 1, 1) * FIXED["D"]
    if base == "M":
        return days_from_civil(1970 + n // 12, n % 12 + 1, 1) * FIXED["D"]
    if base in ("D", "h", "m", "s"):
        return n * FIXED[base]
    seconds = int(np.datetime64(text, "s").astype(np.int64))  # from the fields, fraction ignored
    fraction = re.search(r":\d\d\.(\d*)", text).group(1)
    return seconds * FIXED["s"] + int(fraction.ljust(18, "0"))

cases = []
def expect(text, unit):
    try:
        numpy_value = int(np.datetime64(text, unit).astype(np.int64))
    except ValueError as e:
        cases.append({"text": text, "unit": unit, "numpy_error": str(e)})
        return
    if text.lower() == "nat":
        cases.append({"text": text, "unit": unit, "value": str(numpy_value)})
        return
    count, base = split(unit)
    total = total_as(text)
    if base in FIXED:
        step = FIXED[base] * count
        if total % step:
            cases.append({"text": text, "unit": unit, "expect": "inexact"})
            return
        value = total // step
    else:
        y, m, d = civil_from_days(total // FIXED["D"])
        months = (y - 1970) * (12 if base == "M" else 1) + (m - 1 if base == "M" else 0)
        if total % FIXED["D"] or d != 1 or (base == "Y" and m != 1) or months % count:
            cases.append({"text": text, "unit": unit, "expect": "inexact"})
            return
        value = months // count
    if not -I64 < value < I64:
        cases.append({"text": text, "unit": unit, "expect": "range"})
        return
    cases.append({"text": text, "unit": unit, "value": str(value)})
    if value != numpy_value:
        # NumPy overflows internally although the count fits in int64.
        cases[-1]["numpy_wrapped"] = str(numpy_value)

texts = [
    "2024", "1969", "1970", "-0001", "+10000", "123456", "0000", "-4713", "2024-02", "1969-12", "1582-10",
    "2024-02-29", "2000-02-29", "1900-02-28", "1970-01-01", "1969-12-25", "1970-01-08", "1970-01-15",
    "1969-12-18", "0001-01-01", "-0100-03-01", "2024-01-01T00", "2024-01-01T12", "2024-01-01 12",
    "2024-01-01T12:30", "2024-01-01T00:45", "1969-12-31T23:59", "1969-12-31T23:45", "2024-01-01T12:30:15",
    "2024-01-01T00:00:00.", "2024-01-01T00:00:00.000", "2024-01-01T00:00:00.000000000000000000",
    "1970-01-01T00:00:00.010", "1970-01-01T00:00:00.005", "1970-01-01T00:00:00.5", "1970-01-01T00:00:00.123456",
    "1970-01-01T00:00:01.000000001", "1970-01-01T00:00:00.0000001", "1970-01-01T00:00:00.000000000001",
    "1970-01-01T00:00:00.000000000000001", "1970-01-01T00:00:00.000000000000000001",
    "1969-12-31T23:59:59.999999999999999999", "1970-01-01T00:00:09.223372036854775807",
    "1970-01-01T00:00:09.223372036854775808", "1969-12-31T23:59:50.776627963145224193",
    "1969-12-31T23:59:50.776627963145224192", "2262-04-11T23:47:16.854775807",
    "2262-04-11T23:47:16.854775808", "1677-09-21T00:12:43.145224193", "1677-09-21T00:12:43.145224192",
    "1970-01-01T02:33:42.036854775807", "2024-01-01T00:00Z", "2024-01-01T05:30+05:30",
    "2024-01-01T00:00-0100", "2024-01-01T00+01", "2024-03-01T00:30+01:00", "2024-01-01T00:00:00Z",
    "2024-01-01T00:00:00.5Z ", "2024-01-01T12 ", "2024-01-01T12:00\t", "  2024-06", "2024-01-01T23:00-01:00",
    "1970-01-01T00:00:00.000000000000000001Z", "292277026596", "292277026597-12", "-292277022657-01-27",
    "nat", "NaT", "NAT",
]
round_trip = []
for unit in UNITS:
    extremes = [2**62 + 11, -(2**62) - 13]
    if split(unit)[1] not in ("Y", "M", "W", "D"):
        # NumPy's own string conversion overflows for the calendar units here.
        extremes += [I64 - 1, -I64 + 1]
    for k in [0, 1, -1, 7, -7, 1000, -1000, 123456789, -987654321, 2**40 + 3, -(2**40) - 5] + extremes:
        try:
            text = str(np.datetime64(k, unit))
            if int(np.datetime64(text, unit).astype(np.int64)) == k:
                round_trip.append((text, unit))
        except (ValueError, OverflowError):
            pass
for unit in UNITS:
    for text in texts:
        expect(text, unit)
for text, unit in round_trip:
    expect(text, unit)

bad = ["2024-1-1", "2024-01-1", "2024-01-01T1", "2024-01-01T12:0", "2024-01-01TZ", "2024-01-01t00",
       "2024-01-01T00:00:00 +01:00", "2024-01-01T00:00:00.1234567890123456789", "2024-W01", "T12:00",
       "2024-13", "2024-00", "2023-02-29", "1900-02-29", "2024-04-31", "2024-01-01T24:00", "2024-01-01T12:60",
       "2024-01-01T12:00:60", "2024-01-01T00:00+24:00", "2024-01-01T00:00+01:60", "2024-01-01T00:00+1",
       "2024-01-01T00:00+01:", "2024-", "2024-01-", "2024-01-01T", "2024-01-01T12:", "2024-01-01T12:00:",
       "+", "-", "2024 ", "2024-01-01Z", "2024-01-01T00:00+01 ", "x2024", "2024-01-01T00Zx", "1e3"]
for text in bad:
    cases.append({"text": text, "unit": "s", "numpy_error": None})
    try:
        np.datetime64(text, "s")
    except ValueError as e:
        cases[-1]["numpy_error"] = str(e)

json.dump(cases, sys.stdout)
`;

interface OracleCase {
  text: string;
  unit: string;
  value?: string;
  expect?: "inexact" | "range";
  numpy_error?: string | null;
  /** NumPy's count when it overflows internally although the exact count fits in int64. */
  numpy_wrapped?: string;
}

function runOracle(): OracleCase[] {
  return runPythonJson<OracleCase[]>(ORACLE);
}

let oracle: OracleCase[] = [];
let oracleError: unknown = null;
try {
  oracle = runOracle();
} catch (err) {
  oracleError = err;
}

function unitSpec(text: string): DatetimeUnitSpec {
  const m = /^(\d*)(\w+)$/.exec(text);
  if (!m) throw new Error(`Test helper cannot read unit '${text}'`);
  return { unit: m[2] as DatetimeUnit, count: m[1] ? Number(m[1]) : 1 };
}

function outcome(text: string, unit: string): string {
  try {
    return String(parseDatetime64(text, unitSpec(unit)));
  } catch (err) {
    if (!(err instanceof NpyallocError) || err.code !== "E_FILL") return `crashed: ${err}`;
    return `error: ${err.message}`;
  }
}

function oracleCases(filter: (c: OracleCase) => boolean): OracleCase[] {
  if (oracleError !== null) throw oracleError;
  const cases = oracle.filter(filter);
  assert.ok(cases.length > 0, "no oracle cases");
  return cases;
}

describe("parseDatetime64 matches NumPy", () => {
  test("the NumPy oracle runs", () => {
    if (oracleError !== null) throw oracleError;
    assert.ok(oracle.length > 1000, `only ${oracle.length} oracle cases`);
    // NumPy converts through a finer unit and wraps for these; npyalloc writes the exact count.
    const wrapped = oracle.filter((c) => c.numpy_wrapped !== undefined).map((c) =>
      `${c.text} [${c.unit}]`
    );
    assert.deepEqual(wrapped.filter((w) => !/\[(100ns|60s)\]$/.test(w)), []);
  });

  test("values exact in the unit give NumPy's count", () => {
    const mismatches: string[] = [];
    for (const c of oracleCases((c) => c.value !== undefined)) {
      const got = outcome(c.text, c.unit);
      if (got !== c.value) mismatches.push(`'${c.text}' [${c.unit}]: got ${got}, NumPy ${c.value}`);
    }
    assert.deepEqual(mismatches, []);
  });

  test("values NumPy would truncate are refused", () => {
    const mismatches: string[] = [];
    for (const c of oracleCases((c) => c.expect === "inexact")) {
      const got = outcome(c.text, c.unit);
      if (
        !/^error: Datetime '.*' is not a whole number of datetime64\[\w+\] \(NumPy would truncate it\)$/
          .test(got)
      ) {
        mismatches.push(`'${c.text}' [${c.unit}]: ${got}`);
      }
    }
    assert.deepEqual(mismatches, []);
  });

  test("values outside int64 (where NumPy wraps around) are refused", () => {
    const mismatches: string[] = [];
    for (const c of oracleCases((c) => c.expect === "range")) {
      const got = outcome(c.text, c.unit);
      if (!/^error: Datetime '.*' is out of the range of datetime64\[\w+\]$/.test(got)) {
        mismatches.push(`'${c.text}' [${c.unit}]: ${got}`);
      }
    }
    assert.deepEqual(mismatches, []);
  });

  test("texts NumPy cannot parse are refused at the same position", () => {
    const mismatches: string[] = [];
    for (const c of oracleCases((c) => c.numpy_error !== undefined)) {
      const got = outcome(c.text, c.unit);
      const numpy = c.numpy_error ?? "";
      const position = /at position (\d+)/.exec(numpy)?.[1];
      const range = /^(\w+(?: \w+)*) out of range/.exec(numpy)?.[1];
      const want = position !== undefined
        ? `error: Cannot parse datetime '${c.text}' at position ${position} (`
        : range !== undefined
        ? `error: ${range} out of range in datetime '${c.text}'`
        : null;
      if (want === null || !got.startsWith(want)) {
        mismatches.push(`'${c.text}': got ${got}, NumPy ${JSON.stringify(c.numpy_error)}`);
      }
    }
    assert.deepEqual(mismatches, []);
  });
});

describe("parseDatetime64 special values and errors", () => {
  const D = { unit: "D", count: 1 } as const;

  test("NAT is -2^63 and NaT parses in any case and unit", () => {
    assert.equal(NAT, -(2n ** 63n));
    for (const text of ["NaT", "nat", "NAT", "nAt"]) {
      assert.equal(parseDatetime64(text, D), NAT);
      assert.equal(parseDatetime64(text, null), NAT);
      assert.equal(parseDatetime64(text, { unit: "as", count: 1 }), NAT);
    }
  });

  const errors: [string, DatetimeUnitSpec | null, string][] = [
    ["2024", null, "Datetime '2024' needs a unit: generic datetime64 holds only NaT"],
    ["now", D, "Datetime 'now' depends on when the file is written; write the date out"],
    ["Today", D, "Datetime 'Today' depends on when the file is written; write the date out"],
    ["", D, "Empty datetime string; write 'NaT' for not-a-time"],
    [
      " -2024",
      D,
      "Cannot parse datetime ' -2024' at position 1 (expected ISO 8601 like '2024-01-31', " +
      "'2024-01-31T12:00' or '2024-01-31T12:00:00.5')",
    ],
    [
      "--01",
      D,
      "Cannot parse datetime '--01' at position 1 (expected ISO 8601 like '2024-01-31', " +
      "'2024-01-31T12:00' or '2024-01-31T12:00:00.5')",
    ],
    ["2024-02-30", D, "Day out of range in datetime '2024-02-30'"],
    [
      "2024-01-01T12:00",
      D,
      "Datetime '2024-01-01T12:00' is not a whole number of datetime64[D] (NumPy would truncate it)",
    ],
    [
      "2024-01-01T00:00:00.005",
      { unit: "ms", count: 10 },
      "Datetime '2024-01-01T00:00:00.005' is not a whole number of datetime64[10ms] (NumPy would truncate it)",
    ],
    ["2024", { unit: "as", count: 1 }, "Datetime '2024' is out of the range of datetime64[as]"],
    [
      "9".repeat(400),
      { unit: "Y", count: 1 },
      `Datetime '${"9".repeat(400)}' is out of the range of datetime64[Y]`,
    ],
  ];
  for (const [text, unit, message] of errors) {
    test(message, () => {
      assert.throws(() => parseDatetime64(text, unit), (err: unknown) => {
        assert.ok(err instanceof NpyallocError);
        assert.equal(err.code, "E_FILL");
        assert.equal(err.message, message);
        return true;
      });
    });
  }

  test("weeks count from 1970-01-01, a Thursday", () => {
    assert.equal(parseDatetime64("1970-01-08", { unit: "W", count: 1 }), 1n);
    assert.equal(parseDatetime64("1969-12-25", { unit: "W", count: 1 }), -1n);
    assert.throws(() => parseDatetime64("1970-01-05", { unit: "W", count: 1 }), NpyallocError);
  });
});
