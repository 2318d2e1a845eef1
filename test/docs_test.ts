/**
 * The library's documentation contract: every value exported from src/mod.ts
 * has a doc comment with an example, and every example runs as a doc test
 * (`deno test --doc src/`), none of them skipped.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { Buffer } from "node:buffer";
import { COMMANDS } from "../src/cli/commands.ts";
import { ERROR_CODES } from "../src/errors.ts";
import { GENERATED, regenerate } from "../scripts/docs.ts";

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

const ROOT = path.join(SRC, "..");

/** Every Markdown page of the repository's own documentation. */
function pages(): string[] {
  const docs = fs.readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md"));
  return ["README.md", "CONTRIBUTING.md", "bench/README.md", ...docs.map((f) => `docs/${f}`)]
    .filter((page) => fs.existsSync(path.join(ROOT, page)));
}

/** The anchors GitHub makes for a page's headings. */
function anchors(text: string): Set<string> {
  const out = new Set<string>();
  for (const match of text.matchAll(/^#{1,6} (.+)$/gm)) {
    out.add(
      match[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replaceAll(" ", "-"),
    );
  }
  return out;
}

describe("the docs match the code", () => {
  test("every generated part of docs/ is up to date (npm run docs)", () => {
    for (const page of Object.keys(GENERATED)) {
      const text = fs.readFileSync(path.join(ROOT, page), "utf8");
      assert.equal(regenerate(page, text), text, `${page} is out of date: run 'npm run docs'`);
    }
  });

  test("docs/cli.md names every option of every command, with its default", () => {
    const text = fs.readFileSync(path.join(ROOT, "docs", "cli.md"), "utf8");
    for (const spec of COMMANDS) {
      assert.ok(text.includes(`### \`npyalloc ${spec.name}\``), spec.name);
      for (const [name, option] of Object.entries(spec.options)) {
        assert.ok(text.includes(`--${name}`), `${spec.name} --${name}`);
        if (option.default !== undefined) assert.ok(text.includes(option.default), name);
      }
    }
  });

  test("every error code is in docs/errors.md with its exit code", () => {
    const text = fs.readFileSync(path.join(ROOT, "docs", "errors.md"), "utf8");
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      assert.match(text, new RegExp(`\\| \`${code}\` +\\| \`${info.exit}\` +\\|`), code);
    }
  });

  test("every link between the pages leads to a file, and to a heading that exists", () => {
    for (const page of pages()) {
      const text = fs.readFileSync(path.join(ROOT, page), "utf8");
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1]!;
        if (/^[a-z]+:/.test(target)) continue;
        const [file = "", anchor] = target.split("#");
        const resolved = file === "" ? page : path.join(path.dirname(page), file);
        assert.ok(fs.existsSync(path.join(ROOT, resolved)), `${page}: ${target}: no such file`);
        if (anchor !== undefined && resolved.endsWith(".md")) {
          const headings = anchors(fs.readFileSync(path.join(ROOT, resolved), "utf8"));
          assert.ok(headings.has(anchor), `${page}: ${target}: no such heading`);
        }
      }
    }
  });

  test("every docs/ page and section the code cites exists", () => {
    for (const name of fs.readdirSync(SRC, { recursive: true }) as string[]) {
      if (!name.endsWith(".ts")) continue;
      const text = fs.readFileSync(path.join(SRC, name), "utf8");
      for (const match of text.matchAll(/docs\/([\w-]+\.md)(?:,? "([^"]+)")?/g)) {
        const file = path.join(ROOT, "docs", match[1]!);
        assert.ok(fs.existsSync(file), `src/${name} cites docs/${match[1]}, which is missing`);
        if (match[2] !== undefined) {
          // A cite may wrap across comment lines.
          const section = match[2].replace(/\s*\n\s*\*?\s*/g, " ");
          const headings = fs.readFileSync(file, "utf8").match(/^#{1,6} .+$/gm) ?? [];
          assert.ok(
            headings.some((h) => h.toLowerCase().includes(section.toLowerCase())),
            `src/${name} cites the section "${section}" of docs/${match[1]}, which is missing`,
          );
        }
      }
      // The code cites the repository's own docs, never a document outside it.
      assert.doesNotMatch(text, /\bSPEC\b|SPEC\.md|STYLE\.md/, name);
    }
  });

  test("the README is a guide of at most 16 KB that names the one test command", () => {
    const text = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    assert.ok(Buffer.byteLength(text) <= 16 * 1024, `${Buffer.byteLength(text)} bytes`);
    assert.match(text, /npm ci && npm test/);
    const ci = fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8");
    assert.match(ci, /^npm ci && npm test$/m);
  });
});
