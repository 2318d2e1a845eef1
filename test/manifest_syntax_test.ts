/** The small languages inside manifest strings: `${NAME}` interpolation and `{name:spec}` placeholders. */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { interpolate } from "../src/manifest/interpolate.ts";
import {
  compileTemplate,
  type PlaceholderValue,
  renderTemplate,
} from "../src/manifest/placeholders.ts";

const VARS: Record<string, string> = { N: "5", EMPTY: "", P: "a$b" };
const lookup = (name: string) => VARS[name];
const text = (template: string) => {
  const result = interpolate(template, lookup);
  return result.ok ? result.text : `error: ${result.message}`;
};

describe("interpolate", () => {
  test("references, defaults, messages and $$", () => {
    assert.equal(text("plain"), "plain");
    assert.equal(text("${N}x${N}"), "5x5");
    assert.equal(text("${M:-7}"), "7");
    assert.equal(text("${EMPTY:-7}"), "7");
    assert.equal(text("${N:-7}"), "5");
    assert.equal(text("${M:-${N}0}"), "50");
    assert.equal(text("${N:-${UNSET}}"), "5");
    assert.equal(text("${N:?never}"), "5");
    assert.equal(text("$$N and $${N} and $"), "$N and ${N} and $");
    assert.equal(text("cost: 5$ ($1)"), "cost: 5$ ($1)");
    assert.equal(text("${P}"), "a$b");
  });

  test("errors", () => {
    assert.equal(
      text("${M}"),
      "error: variable 'M' is not set: give it with --var M=VALUE, in vars, or in the environment",
    );
    assert.equal(text("${M:?give M}"), "error: variable 'M' is not set: give M");
    assert.equal(text("${EMPTY:?}"), "error: variable 'EMPTY' is not set");
    assert.equal(
      text("$N"),
      "error: '$N' is not interpolated: write '${N}', or '$$' for a literal '$'",
    );
    assert.equal(text("${M:-x"), "error: '${' at character 1 is never closed with '}'");
    assert.equal(
      text("${1}"),
      "error: '${' at character 1 must be followed by a variable name (letters, digits and _), or write '$$' for a literal '$'",
    );
    assert.equal(
      text("${N-x}"),
      "error: '${N' must be followed by '}', ':-default' or ':?message'",
    );
  });

  test("says whether anything was substituted", () => {
    assert.deepEqual(interpolate("$$", lookup), { ok: true, text: "$", substituted: false });
    assert.deepEqual(interpolate("${N}", lookup), { ok: true, text: "5", substituted: true });
  });
});

describe("placeholders", () => {
  const render = (template: string, ...values: PlaceholderValue[]) => {
    const compiled = compileTemplate(template, ["i", "s"]);
    if (!compiled.ok) return `error: ${compiled.message}`;
    const result = renderTemplate(
      compiled.value,
      values.length === 1 ? [values[0] as PlaceholderValue, "s"] : values,
    );
    return result.ok ? result.value : `error: ${result.message}`;
  };

  test("Python format-spec subset, as str.format writes it", () => {
    // Expected values are Python's: "{i:03d}".format(i=7) and so on.
    assert.equal(render("{i:03d}", 7n), "007");
    assert.equal(render("{i:03d}", -7n), "-07");
    assert.equal(render("{i:3}", 7n), "  7");
    assert.equal(render("{i:<3}|", 7n), "7  |");
    assert.equal(render("{i:^5}", 7n), "  7  ");
    assert.equal(render("{i:^4}", 7n), " 7  ");
    assert.equal(render("{i:*>4}", 7n), "***7");
    assert.equal(render("{i:0=5}", -7n), "-0007");
    assert.equal(render("{i:x}", 255n), "ff");
    assert.equal(render("{i:X}", 255n), "FF");
    assert.equal(render("{i:04x}", 255n), "00ff");
    assert.equal(render("{i:o}", 8n), "10");
    assert.equal(render("{i:b}", 5n), "101");
    assert.equal(render("{i:d}", 3), "3");
    assert.equal(render("{i:d}", "12"), "12");
    assert.equal(render("{s:>5}", 1n, "ab"), "   ab");
    assert.equal(render("{s:5}|", 1n, "ab"), "ab   |");
    assert.equal(render("{s:s}", 1n, "ab"), "ab");
    assert.equal(render("{i}", true), "true");
    assert.equal(render("{i}", 1.5), "1.5");
    assert.equal(render("{{i}}{i}}}", 1n), "{i}1}");
  });

  test("errors", () => {
    assert.equal(render("{i:d}", "x"), "error: placeholder '{i:d}' needs an integer, got 'x'");
    assert.equal(render("{j}", 1n), "error: unknown placeholder '{j}': foreach defines 'i', 's'");
    assert.equal(render("{}", 1n), "error: empty placeholder '{}': write '{{' for a literal brace");
    assert.equal(
      render("a{i", 1n),
      "error: '{' at character 2 is never closed: write '{{' for a literal brace",
    );
    assert.equal(
      render("a}", 1n),
      "error: single '}' at character 2: write '}}' for a literal brace",
    );
    assert.match(render("{i:.2f}", 1n), /^error: unsupported format '\{i:\.2f\}'/);
    assert.match(render("{i:+d}", 1n), /^error: unsupported format/);
  });
});
