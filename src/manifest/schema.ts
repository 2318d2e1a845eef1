/**
 * Checks a manifest against `schemas/manifest.schema.json` with ajv (JSON
 * Schema 2020-12, compiled ahead of time into `_manifest_validator.js`) and
 * turns ajv's errors into messages a user understands, each at the YAML node
 * it is about.
 *
 * How it works: ajv reports every failed keyword, including one per branch
 * of each `anyOf`, so a single bad value yields several errors. They are
 * grouped by the value they are about. An unknown key is reported at the key
 * and a missing field at the mapping; for other errors, one message per value,
 * and only for the deepest values: when a list or mapping has errors inside
 * it, its own errors are just the other `anyOf` branches failing too. The
 * words come from what each place of the manifest expects, not from ajv.
 *
 * @module
 */

import type { ErrorObject } from "ajv/dist/2020.js";
import schemaJson from "../../schemas/manifest.schema.json" with { type: "json" };
import { validate } from "./_manifest_validator.js";
import { didYouMean } from "../suggest.ts";
import { jsonPathJoin, type ProblemList } from "./problems.ts";
import { showNode, toPlain, type YNode } from "./yaml_source.ts";

/** The manifest's JSON Schema, as `npyalloc schema manifest` prints it. */
export const MANIFEST_SCHEMA: Readonly<Record<string, unknown>> = schemaJson;

/** The fields of an array entry that `defaults` may set. */
export const DEFAULTABLE_FIELDS = [
  "shape",
  "dtype",
  "order",
  "fill",
  "allocation",
  "header_version",
] as const;

/**
 * Validates a parsed manifest against the schema.
 *
 * @param root The document's root node.
 * @param problems Where problems go.
 * @returns The JSON pointers (`/arrays/3/shape`) of every value that has a
 *   problem, or of the mapping that lacks a field; empty when valid.
 */
export function validateSchema(root: YNode, problems: ProblemList): string[] {
  // ajv's validator of the schema, compiled when npyalloc is built (scripts/).
  if (validate(toPlain(root))) return [];
  const errors = (validate.errors ?? []).filter((e) =>
    e.keyword !== "if" && !(e.keyword === "pattern" && e.schemaPath.includes("/propertyNames/"))
  );
  const groups = new Map<string, ErrorObject[]>();
  for (const error of errors) {
    const group = groups.get(error.instancePath);
    if (group) group.push(error);
    else groups.set(error.instancePath, [error]);
  }
  const pointers = [...groups.keys()];
  for (const [pointer, group] of groups) {
    const segments = pointer === "" ? [] : pointer.slice(1).split("/").map(unescapePointer);
    const place = locate(root, segments);
    if (place === undefined) continue;
    const { node, jsonPath } = place;
    let structural = false;
    for (const error of group) {
      if (error.keyword === "additionalProperties") {
        structural = true;
        const key = String(error.params.additionalProperty);
        const entry = node.kind === "map" ? node.byKey.get(key) : undefined;
        const known = Object.keys(
          (error.parentSchema as { properties?: object } | undefined)?.properties ?? {},
        );
        problems.add(
          entry?.keyPos ?? node.pos,
          jsonPathJoin(jsonPath, key),
          unknownKeyMessage(key, segments, known),
        );
      } else if (error.keyword === "propertyNames") {
        structural = true;
        const key = String(error.params.propertyName);
        const entry = node.kind === "map" ? node.byKey.get(key) : undefined;
        const what = segments[0] === "vars" ? "variable" : "placeholder";
        problems.add(
          entry?.keyPos ?? node.pos,
          jsonPathJoin(jsonPath, key),
          `'${key}' is not a valid ${what} name: use letters, digits and _, not starting with a digit`,
        );
      } else if (error.keyword === "required") {
        structural = true;
        problems.add(
          node.pos,
          jsonPath,
          `missing required field '${String(error.params.missingProperty)}'`,
        );
      }
    }
    if (structural && node.kind === "map") continue;
    if (group.every((e) => isStructural(e.keyword))) continue;
    const prefix = `${pointer}/`;
    if (pointers.some((other) => other.startsWith(prefix))) continue;
    const expected = expectation(segments) ?? ajvWords(group);
    problems.add(node.pos, jsonPath, `${expected}, got ${showNode(node)}`);
  }
  return pointers;
}

function isStructural(keyword: string): boolean {
  return keyword === "additionalProperties" || keyword === "propertyNames" ||
    keyword === "required";
}

function unescapePointer(segment: string): string {
  return segment.replaceAll("~1", "/").replaceAll("~0", "~");
}

/** The node a JSON pointer names, with its JSON path. */
function locate(
  root: YNode,
  segments: readonly string[],
): { node: YNode; jsonPath: string } | undefined {
  let node = root;
  let jsonPath = "";
  for (const segment of segments) {
    if (node.kind === "map") {
      const entry = node.byKey.get(segment);
      if (entry === undefined) return undefined;
      node = entry.value;
      jsonPath = jsonPathJoin(jsonPath, segment);
    } else if (node.kind === "seq") {
      const index = Number(segment);
      const item = node.items[index];
      if (item === undefined) return undefined;
      node = item;
      jsonPath = jsonPathJoin(jsonPath, index);
    } else {
      return undefined;
    }
  }
  return { node, jsonPath };
}

function unknownKeyMessage(key: string, segments: readonly string[], known: string[]): string {
  const inDefaults = segments.length === 1 && segments[0] === "defaults";
  if (inDefaults && (key === "path" || key === "foreach")) {
    return `'${key}' cannot have a default: set it in each entry of 'arrays'`;
  }
  if (segments.length === 0 && [...DEFAULTABLE_FIELDS, "path", "foreach"].includes(key)) {
    return `unknown key '${key}' at the top level: array fields go under 'defaults' or in an entry of 'arrays'`;
  }
  return `unknown key '${key}'${didYouMean(key, known)}`;
}

/** What a place in the manifest expects, in words. */
function expectation(segments: readonly string[]): string | undefined {
  const [top, ...rest] = segments;
  switch (top) {
    case undefined:
      return "the manifest must be a mapping with 'version' and 'arrays'";
    case "version":
      return "must be 1";
    case "root":
      return "must be a folder path (a non-empty string)";
    case "vars":
      return rest.length === 0
        ? "must be a mapping of variable names to values"
        : "must be a string, a number or a boolean";
    case "defaults":
      return rest.length === 0 ? "must be a mapping of array fields" : fieldExpectation(rest);
    case "arrays":
      if (rest.length === 0) return "must be a list of arrays";
      if (rest.length === 1) return "must be a mapping with at least 'path' and 'shape'";
      return fieldExpectation(rest.slice(1));
  }
  return undefined;
}

function fieldExpectation(segments: readonly string[]): string | undefined {
  const [field, ...rest] = segments;
  switch (field) {
    case "path":
      return "must be a path ending in '.npy'";
    case "shape":
      return rest.length === 0
        ? "must be a list of integers >= 0, or one integer"
        : "must be an integer >= 0";
    case "dtype":
      return rest.length === 0
        ? "must be a dtype such as 'float32' or '<i8', or a descr list such as [[x, f4], [y, f4]]"
        : "must be a field [name, dtype] or [name, dtype, shape]";
    case "order":
      return "must be one of C, F";
    case "allocation":
      return "must be one of auto, sparse, reserve, write";
    case "header_version":
      return "must be one of auto, 1.0, 2.0, 3.0";
    case "foreach":
      if (rest.length === 0) {
        return "must be a mapping of placeholder names to a list of values or { range: [start, stop, step] }";
      }
      if (rest.length === 1) {
        return "must be a list of values, { range: [start, stop] } or { range: [start, stop, step] }";
      }
      if (rest[1] === "range") {
        return rest.length === 2
          ? "must be [start, stop] or [start, stop, step]"
          : "must be an integer";
      }
      return "must be a string, a number or a boolean";
  }
  return undefined;
}

/** ajv's own words, for a place the table above does not know. */
function ajvWords(group: readonly ErrorObject[]): string {
  const words = [...new Set(group.filter((e) => e.keyword !== "anyOf").map((e) => e.message))];
  return words.length === 0 ? "is not valid" : words.join(" or ");
}
