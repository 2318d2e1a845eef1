/** schemas/manifest.schema.json itself: valid for ajv in strict mode, and documented everywhere. */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import { MANIFEST_SCHEMA } from "../src/manifest/mod.ts";
import { manifestValidatorSource, VALIDATOR_FILE } from "../scripts/manifest_validator.ts";

const FILE = new URL("../schemas/manifest.schema.json", import.meta.url);

test("is valid against the 2020-12 meta-schema and compiles with ajv in strict mode", () => {
  const schema = JSON.parse(fs.readFileSync(FILE, "utf8"));
  const ajv = new Ajv2020({ strict: true });
  assert.equal(ajv.validateSchema(schema), true, ajv.errorsText());
  const validate = ajv.compile(schema);
  assert.equal(validate({ version: 1, arrays: [{ path: "a.npy", shape: [1, "${N}"] }] }), true);
  assert.equal(validate({ version: 1, arrays: [{ path: "a.npy" }] }), false);
  assert.equal(validate({ version: 1, defaults: { shape: 3 }, arrays: [{ path: "a.npy" }] }), true);
  assert.deepEqual(MANIFEST_SCHEMA, schema);
});

test("has $schema, $id and title, and a description on every property", () => {
  const schema = JSON.parse(fs.readFileSync(FILE, "utf8"));
  assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
  assert.equal(typeof schema.$id, "string");
  assert.equal(typeof schema.title, "string");
  const missing: string[] = [];
  const walk = (node: unknown, where: string, isProperty: boolean): void => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => walk(item, `${where}/${i}`, false));
      return;
    }
    if (typeof node !== "object" || node === null) return;
    const record = node as Record<string, unknown>;
    if (isProperty && typeof record.description !== "string") missing.push(where);
    for (const [key, value] of Object.entries(record)) {
      if (key === "properties" || key === "$defs") {
        for (const [name, sub] of Object.entries(value as Record<string, unknown>)) {
          walk(sub, `${where}/${key}/${name}`, true);
        }
      } else if (key === "additionalProperties" || key === "propertyNames") {
        walk(value, `${where}/${key}`, typeof value === "object");
      } else {
        walk(value, `${where}/${key}`, false);
      }
    }
  };
  walk(schema, "#", true);
  assert.deepEqual(missing, []);
});

describe("the compiled validator", () => {
  test("is what the schema compiles to today (npm run build writes it)", () => {
    const built = fs.readFileSync(VALIDATOR_FILE, "utf8");
    assert.ok(
      built === manifestValidatorSource(),
      "src/manifest/_manifest_validator.js is out of date: run `npm run build`",
    );
  });
});
