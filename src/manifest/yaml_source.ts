/**
 * Reading a manifest: the file (size-capped), its SHA-256, and its YAML as a
 * small tree of nodes that remember where they were written.
 *
 * How it works: `yaml`'s `parseDocument` (YAML 1.2 core schema, integers as
 * bigint so 64-bit fills stay exact) gives a document whose nodes carry
 * source offsets; a `LineCounter` turns offsets into lines and columns. The
 * document is then copied into {@linkcode YNode}s: aliases are expanded
 * here, under a budget, because an alias bomb only explodes when expanded;
 * duplicate keys, unknown aliases and tags that make no plain value are
 * reported with their positions.
 *
 * @module
 */

import { createHash } from "node:crypto";
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node as YamlNode,
  parseDocument,
} from "yaml";
import { mapOsError } from "../errors.ts";
import { jsonPathJoin, type Position, type ProblemList, showValue } from "./problems.ts";

/** A scalar value as YAML's core schema reads it. */
export type YScalarValue = null | boolean | number | bigint | string;

/** A scalar node. */
export interface YScalar {
  readonly kind: "scalar";
  readonly value: YScalarValue;
  /** The text as written, for plain scalars (`1.0`, `0x10`). */
  readonly source?: string;
  readonly pos: Position;
}

/** A list node. */
export interface YSeq {
  readonly kind: "seq";
  readonly items: readonly YNode[];
  readonly pos: Position;
}

/** One key of a mapping node. */
export interface YEntry {
  readonly key: string;
  readonly keyPos: Position;
  readonly value: YNode;
}

/** A mapping node; a key appears once (the first one written wins). */
export interface YMap {
  readonly kind: "map";
  readonly entries: readonly YEntry[];
  readonly byKey: ReadonlyMap<string, YEntry>;
  readonly pos: Position;
}

/** A YAML node with its position. */
export type YNode = YScalar | YSeq | YMap;

/** A manifest file, read. */
export interface ManifestSource {
  /** The file as the user named it. */
  readonly file: string;
  readonly absolutePath: string;
  /** SHA-256 of the bytes, hex. */
  readonly sha256: string;
  readonly text: string;
}

/** How many times aliases may be used in one manifest. */
export const MAX_ALIAS_USES = 1000;
/** How many nodes aliases may add to a manifest once expanded. */
export const MAX_ALIAS_NODES = 100_000;

const WHOLE_FILE: Position = { line: 0, column: 0 };

/**
 * Makes a manifest source of the bytes read from a manifest file.
 *
 * @param file The manifest as the user named it (for messages).
 * @param absolutePath Its absolute path (the folder paths resolve from).
 * @param bytes What was read: at most `maxBytes + 1` bytes, more than `maxBytes` meaning the
 *   file is too large.
 * @param maxBytes The largest manifest accepted.
 * @param problems Where problems go.
 * @returns The text and its hash.
 * @throws {ManifestError} When the file is too large or is not UTF-8.
 */
export function manifestSource(
  file: string,
  absolutePath: string,
  bytes: Uint8Array,
  maxBytes: number,
  problems: ProblemList,
): ManifestSource {
  if (bytes.length > maxBytes) {
    problems.add(WHOLE_FILE, "", `the manifest is more than the limit of ${maxBytes} bytes`);
    problems.throwIfAny();
  }
  let text = "";
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    problems.add(WHOLE_FILE, "", "the manifest is not UTF-8 text");
    problems.throwIfAny();
  }
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  return { file, absolutePath, sha256, text };
}

/**
 * Records that a manifest could not be read, and throws.
 *
 * @param err What reading threw.
 * @param problems Where problems go.
 * @throws {ManifestError} Always.
 */
export function unreadableManifest(err: unknown, problems: ProblemList): never {
  problems.add(WHOLE_FILE, "", mapOsError(err, "cannot read the manifest").message);
  problems.throwIfAny(err);
  throw err;
}

/** Thrown inside the walk when aliases exceed their budget. */
class AliasBudgetExceeded extends Error {}

/**
 * Parses YAML text into position-carrying nodes.
 *
 * @param text The YAML text.
 * @param problems Where problems go: syntax errors, duplicate keys, unknown
 *   aliases and tags, aliases over budget.
 * @returns The document's root node (`null` scalar for an empty document),
 *   or `undefined` when the text is not usable YAML.
 */
export function parseYaml(text: string, problems: ProblemList): YNode | undefined {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    intAsBigInt: true,
    uniqueKeys: false,
    prettyErrors: false,
    schema: "core",
    merge: false,
  });
  const at = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  if (doc.errors.length > 0) {
    for (const err of doc.errors) {
      problems.add(at(err.pos[0]), "", `invalid YAML: ${sentence(err.message)}`);
    }
    return undefined;
  }
  for (const warning of doc.warnings) {
    problems.add(at(warning.pos[0]), "", `invalid YAML: ${sentence(warning.message)}`);
  }

  let aliasUses = 0;
  let aliasNodes = 0;
  let aliasDepth = 0;
  const inProgress = new Set<unknown>();

  const nodePos = (node: { range?: readonly number[] | null | undefined }): Position =>
    at(node.range?.[0] ?? 0);

  const walk = (node: YamlNode | null, fallback: Position, jsonPath: string): YNode => {
    if (aliasDepth > 0 && ++aliasNodes > MAX_ALIAS_NODES) {
      problems.add(
        fallback,
        jsonPath,
        `YAML aliases expand to more than ${MAX_ALIAS_NODES} values (an alias bomb?)`,
      );
      throw new AliasBudgetExceeded();
    }
    if (node === null) return { kind: "scalar", value: null, pos: fallback };
    const pos = nodePos(node);
    if (isAlias(node)) {
      if (++aliasUses > MAX_ALIAS_USES) {
        problems.add(pos, jsonPath, `YAML aliases are used more than ${MAX_ALIAS_USES} times`);
        throw new AliasBudgetExceeded();
      }
      const target = node.resolve(doc);
      if (target === undefined) {
        problems.add(pos, jsonPath, `unknown YAML alias '*${node.source}'`);
        return { kind: "scalar", value: null, pos };
      }
      if (inProgress.has(target)) {
        problems.add(pos, jsonPath, `YAML alias '*${node.source}' refers to itself`);
        return { kind: "scalar", value: null, pos };
      }
      aliasDepth++;
      try {
        return walk(target, pos, jsonPath);
      } finally {
        aliasDepth--;
      }
    }
    if (isScalar(node)) {
      const value = node.value;
      if (
        value === null || typeof value === "boolean" || typeof value === "number" ||
        typeof value === "bigint" || typeof value === "string"
      ) {
        return typeof node.source === "string"
          ? { kind: "scalar", value, source: node.source, pos }
          : { kind: "scalar", value, pos };
      }
      problems.add(
        pos,
        jsonPath,
        `unsupported YAML value${node.tag ? ` tagged '${node.tag}'` : ""}`,
      );
      return { kind: "scalar", value: null, pos };
    }
    inProgress.add(node);
    try {
      if (isSeq(node)) {
        const items = node.items.map((item, i) =>
          walk(item as YamlNode | null, pos, jsonPathJoin(jsonPath, i))
        );
        return { kind: "seq", items, pos };
      }
      if (isMap(node)) {
        const entries: YEntry[] = [];
        const byKey = new Map<string, YEntry>();
        for (const pair of node.items) {
          if (!isPair(pair)) continue;
          const keyNode = pair.key as YamlNode | null;
          const keyPos = keyNode === null ? pos : nodePos(keyNode);
          const key = keyText(keyNode);
          if (key === undefined) {
            problems.add(keyPos, jsonPath, "mapping keys must be plain strings");
            continue;
          }
          const childPath = jsonPathJoin(jsonPath, key);
          const value = walk(pair.value as YamlNode | null, keyPos, childPath);
          const first = byKey.get(key);
          if (first) {
            problems.add(
              keyPos,
              childPath,
              `duplicate key '${key}', first at line ${first.keyPos.line}`,
            );
            continue;
          }
          const entry: YEntry = { key, keyPos, value };
          entries.push(entry);
          byKey.set(key, entry);
        }
        return { kind: "map", entries, byKey, pos };
      }
    } finally {
      inProgress.delete(node);
    }
    problems.add(pos, jsonPath, "unsupported YAML node");
    return { kind: "scalar", value: null, pos };
  };

  try {
    return walk(doc.contents as YamlNode | null, { line: 1, column: 1 }, "");
  } catch (err) {
    if (err instanceof AliasBudgetExceeded) return undefined;
    throw err;
  }
}

/** The text of a mapping key; `undefined` for keys that are not scalars. */
function keyText(node: YamlNode | null): string | undefined {
  if (node === null || !isScalar(node)) return undefined;
  const value = node.value;
  if (typeof value === "string") return value;
  if (value === null || typeof value === "object") return undefined;
  return typeof node.source === "string" ? node.source : String(value);
}

/** `yaml`'s messages start with a capital; ours follow a colon. */
function sentence(message: string): string {
  return message.charAt(0).toLowerCase() + message.slice(1);
}

/**
 * A plain JSON-like copy of a node for the schema validator, which cannot
 * see bigints: they become numbers (only their type and sign matter there).
 *
 * @param node A node.
 * @returns Plain objects (without prototype), arrays, numbers, strings, booleans and null.
 */
export function toPlain(node: YNode): unknown {
  switch (node.kind) {
    case "scalar":
      return typeof node.value === "bigint" ? Number(node.value) : node.value;
    case "seq":
      return node.items.map(toPlain);
    case "map": {
      const out: Record<string, unknown> = Object.create(null);
      for (const entry of node.entries) out[entry.key] = toPlain(entry.value);
      return out;
    }
  }
}

/**
 * Describes a node's value for a message: `-4`, `'X'`, `a list`, `a mapping`.
 *
 * @param node A node.
 * @returns A short description.
 */
export function showNode(node: YNode): string {
  if (node.kind === "scalar") return showValue(node.value);
  return node.kind === "seq" ? showValue(node.items) : "a mapping";
}
