/**
 * ISO 8601 datetime strings to datetime64 counts, the way NumPy's
 * `np.datetime64(text, unit)` reads them, but strict: a value the unit cannot
 * hold exactly is an error instead of being truncated, and values that depend
 * on the clock (`now`, `today`) are refused.
 *
 * How it works: the grammar follows NumPy's `NpyDatetime_ParseISO8601Datetime`
 * step by step (year of any number of digits with an optional sign, then
 * `-MM`, `-DD`, `T` or space, `HH`, `:MM`, `:SS`, `.` and up to 18 fraction
 * digits, then an optional `Z` or `±HH[[:]MM]` offset). The parsed instant is
 * turned into attoseconds since 1970-01-01T00:00Z with bigint arithmetic
 * (proleptic Gregorian calendar), the offset is subtracted, and the total is
 * divided by the unit: fixed-length units (`W` through `as`) divide the
 * attoseconds, while `Y` and `M` go back to the calendar date. Weeks count
 * from 1970-01-01, as NumPy's do.
 *
 * @module
 */

import { NpyallocError } from "../errors.ts";
import type { DatetimeUnit, DatetimeUnitSpec } from "./dtype.ts";

/** The datetime64/timedelta64 value NumPy uses for NaT (not a time): -2^63. */
export const NAT: bigint = -(2n ** 63n);

const INT64_MAX = 2n ** 63n - 1n;
const AS_PER_SECOND = 10n ** 18n;
const AS_PER_DAY = 86400n * AS_PER_SECOND;

/** Attoseconds in one of each fixed-length unit. */
const UNIT_ATTOSECONDS: Record<Exclude<DatetimeUnit, "Y" | "M">, bigint> = {
  W: 7n * AS_PER_DAY,
  D: AS_PER_DAY,
  h: 3600n * AS_PER_SECOND,
  m: 60n * AS_PER_SECOND,
  s: AS_PER_SECOND,
  ms: 10n ** 15n,
  us: 10n ** 12n,
  ns: 10n ** 9n,
  ps: 10n ** 6n,
  fs: 10n ** 3n,
  as: 1n,
};

const HINT = "expected ISO 8601 like '2024-01-31', '2024-01-31T12:00' or '2024-01-31T12:00:00.5'";

function fail(message: string): never {
  throw new NpyallocError("E_FILL", message);
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

/** C `isspace` in the "C" locale. */
function isSpace(c: string | undefined): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\v" || c === "\f" || c === "\r";
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

function isLeapYear(year: bigint): boolean {
  return year % 4n === 0n && (year % 100n !== 0n || year % 400n === 0n);
}

function daysInMonth(year: bigint, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm). */
function daysFromCivil(year: bigint, month: number, day: number): bigint {
  const y = month <= 2 ? year - 1n : year;
  const era = floorDiv(y, 400n);
  const yoe = y - era * 400n; // 0..399
  const mp = BigInt((month + 9) % 12); // March is 0
  const doy = (153n * mp + 2n) / 5n + BigInt(day - 1);
  const doe = yoe * 365n + yoe / 4n - yoe / 100n + doy;
  return era * 146097n + doe - 719468n;
}

/** The proleptic Gregorian date of a day count from 1970-01-01. */
function civilFromDays(days: bigint): { year: bigint; month: number; day: number } {
  const z = days + 719468n;
  const era = floorDiv(z, 146097n);
  const doe = z - era * 146097n; // 0..146096
  const yoe = (doe - doe / 1460n + doe / 36524n - doe / 146096n) / 365n;
  const doy = doe - (365n * yoe + yoe / 4n - yoe / 100n);
  const mp = (5n * doy + 2n) / 153n;
  const day = Number(doy - (153n * mp + 2n) / 5n + 1n);
  const month = Number(mp < 10n ? mp + 3n : mp - 9n);
  return { year: yoe + era * 400n + (month <= 2 ? 1n : 0n), month, day };
}

/** `datetime64[10ms]` style name of a unit, for messages. */
function unitName(unit: DatetimeUnitSpec): string {
  return `datetime64[${unit.count === 1 ? "" : unit.count}${unit.unit}]`;
}

/** A parsed instant: calendar fields plus a UTC offset in minutes. */
interface Instant {
  year: bigint;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  attoseconds: bigint;
  offsetMinutes: number;
}

/** Follows NumPy's ISO 8601 grammar; positions in errors match NumPy's. */
function parseInstant(text: string): Instant {
  const out: Instant = {
    year: 0n,
    month: 1,
    day: 1,
    hour: 0,
    minute: 0,
    second: 0,
    attoseconds: 0n,
    offsetMinutes: 0,
  };
  let i = 0;
  const parseError = (): never =>
    fail(`Cannot parse datetime '${text}' at position ${i} (${HINT})`);
  const rangeError = (what: string): never => fail(`${what} out of range in datetime '${text}'`);
  const twoDigits = (): number => {
    const a = text[i];
    const b = text[i + 1];
    if (!isDigit(a) || !isDigit(b)) parseError();
    i += 2;
    return Number(a) * 10 + Number(b);
  };

  while (isSpace(text[i])) i++;
  const negative = text[i] === "-";
  if (text[i] === "-" || text[i] === "+") {
    // NumPy consumes a sign after leading spaces but then ignores it.
    if (i > 0) parseError();
    i++;
  }
  const yearStart = i;
  while (isDigit(text[i])) i++;
  if (i === yearStart) parseError();
  out.year = BigInt(text.slice(yearStart, i)) * (negative ? -1n : 1n);
  if (i === text.length) return out;
  if (text[i] !== "-") parseError();
  i++;

  out.month = twoDigits();
  if (out.month < 1 || out.month > 12) rangeError("Month");
  if (i === text.length) return out;
  if (text[i] !== "-") parseError();
  i++;

  out.day = twoDigits();
  if (out.day < 1 || out.day > daysInMonth(out.year, out.month)) rangeError("Day");
  if (i === text.length) return out;
  if (text[i] !== "T" && text[i] !== " ") parseError();
  i++;

  out.hour = twoDigits();
  if (out.hour >= 24) rangeError("Hours");
  if (text[i] === ":") {
    i++;
    out.minute = twoDigits();
    if (out.minute >= 60) rangeError("Minutes");
    if (text[i] === ":") {
      i++;
      out.second = twoDigits();
      if (out.second >= 60) rangeError("Seconds");
      if (text[i] === ".") {
        i++;
        const start = i;
        while (isDigit(text[i]) && i - start < 18) i++;
        out.attoseconds = BigInt(text.slice(start, i).padEnd(18, "0"));
      }
    }
  }

  // Time zone, then trailing whitespace.
  if (i === text.length) return out;
  if (text[i] === "Z") {
    i++;
  } else if (text[i] === "+" || text[i] === "-") {
    const sign = text[i] === "-" ? -1 : 1;
    i++;
    const hours = twoDigits();
    if (hours >= 24) rangeError("Timezone hours offset");
    let minutes = 0;
    if (i < text.length) {
      if (text[i] === ":") i++;
      minutes = twoDigits();
      if (minutes >= 60) rangeError("Timezone minutes offset");
    }
    out.offsetMinutes = sign * (hours * 60 + minutes);
  }
  while (isSpace(text[i])) i++;
  if (i !== text.length) parseError();
  return out;
}

/**
 * Parses an ISO 8601 string into a datetime64 count of `unit`, as
 * `np.datetime64(text, unit).astype(np.int64)` does, but refusing every value
 * the unit cannot hold exactly.
 *
 * Accepted: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, then `THH`, `THH:MM`,
 * `THH:MM:SS`, `THH:MM:SS.fff` (up to 18 fraction digits; a space may replace
 * the `T`), with a year of any length and an optional sign, and an optional
 * `Z` or `±HH`, `±HHMM`, `±HH:MM` offset after a time, converted to UTC.
 * `NaT` in any case is not-a-time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDatetime64 } from "./datetime.ts";
 * assert.ok(parseDatetime64("2024-01-01", { unit: "D", count: 1 }) === 19723n);
 * assert.ok(parseDatetime64("1970-01-01T00:00:00.05", { unit: "ms", count: 10 }) === 5n);
 * ```
 *
 * @param text The datetime string.
 * @param unit The dtype's unit, or `null` for generic `datetime64`.
 * @returns The count of `unit` since 1970-01-01T00:00Z, or {@linkcode NAT}.
 * @throws {NpyallocError} `E_FILL` when the string does not parse, names an
 *   impossible date or time, is not a whole number of the unit, is outside the
 *   int64 range, is `now`/`today` or empty, or is not NaT for a generic unit.
 */
export function parseDatetime64(text: string, unit: DatetimeUnitSpec | null): bigint {
  const lower = text.toLowerCase();
  if (lower === "nat") return NAT;
  if (text === "") fail("Empty datetime string; write 'NaT' for not-a-time");
  if (lower === "now" || lower === "today") {
    fail(`Datetime '${text}' depends on when the file is written; write the date out`);
  }
  if (unit === null) {
    fail(`Datetime '${text}' needs a unit: generic datetime64 holds only NaT`);
  }
  const t = parseInstant(text);
  const count = BigInt(unit.count);
  const days = daysFromCivil(t.year, t.month, t.day);
  const seconds = ((days * 24n + BigInt(t.hour)) * 60n + BigInt(t.minute - t.offsetMinutes)) *
      60n + BigInt(t.second);
  const total = seconds * AS_PER_SECOND + t.attoseconds;

  const inexact = (): never =>
    fail(`Datetime '${text}' is not a whole number of ${unitName(unit)} (NumPy would truncate it)`);
  let value: bigint;
  if (unit.unit === "Y" || unit.unit === "M") {
    if (total % AS_PER_DAY !== 0n) inexact();
    const date = civilFromDays(total / AS_PER_DAY);
    if (date.day !== 1 || (unit.unit === "Y" && date.month !== 1)) inexact();
    const months = unit.unit === "Y"
      ? date.year - 1970n
      : (date.year - 1970n) * 12n + BigInt(date.month - 1);
    if (months % count !== 0n) inexact();
    value = months / count;
  } else {
    const step = UNIT_ATTOSECONDS[unit.unit] * count;
    if (total % step !== 0n) inexact();
    value = total / step;
  }
  if (value <= NAT || value > INT64_MAX) {
    fail(`Datetime '${text}' is out of the range of ${unitName(unit)}`);
  }
  return value;
}
