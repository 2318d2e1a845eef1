/**
 * The library's documentation contract: every value exported from src/mod.ts
 * has a doc comment with an example, and every example runs as a doc test
 * (`deno test --doc src/`), none of them skipped.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

const SRC = path.join(import.meta.dirname ?? ".", "..", "src");

/** The value names a module re-exports, each with the module it comes from. */
function reExports(file: string): Map<string, string> {
  const text = fs.readFileSync(file, "utf8");
  const names = new Map<string, string>();
  for (const match of text.matchAll(/export\s*\{([^}]*)\}\s*from\s*"([^"]+)"/g)) {
    const from = path.join(path.dirname(file), match[2]!);
    for (const raw of match[1]!.split(",")) {
      const name = raw.trim();
      if (name === "" || name.startsWith("type ")) continue;
      names.set(name, from);
    }
  }
  return names;
}

/** The doc comment right before `name`'s declaration in `file`, following re-exports. */
function docOf(name: string, file: string): string | null {
  const text = fs.readFileSync(file, "utf8");
  const declaration = new RegExp(
    `(?:^|\\n)(/\\*\\*(?:(?!\\*/)[\\s\\S])*\\*/)\\s*\\nexport (?:async )?(?:function|class|const) ${name}\\b`,
  );
  const found = declaration.exec(text);
  if (found) return found[1]!;
  const next = reExports(file).get(name);
  return next === undefined ? null : docOf(name, next);
}

describe("documentation", () => {
  test("every value src/mod.ts exports has a doc comment with an example", () => {
    const exported = reExports(path.join(SRC, "mod.ts"));
    assert.ok(exported.size > 20);
    for (const [name, from] of exported) {
      const doc = docOf(name, from);
      assert.ok(doc !== null, `${name}: no doc comment`);
      assert.match(doc, /@example/, `${name}: no @example`);
    }
  });

  test("no example in src/ is skipped", () => {
    for (const name of fs.readdirSync(SRC, { recursive: true }) as string[]) {
      if (!name.endsWith(".ts")) continue;
      const text = fs.readFileSync(path.join(SRC, name), "utf8");
      assert.doesNotMatch(text, /```ts ignore/, name);
    }
  });
});
