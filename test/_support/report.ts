/** Reading run reports in tests, and checking them against their schema. */
import assert from "node:assert/strict";
import fs from "node:fs";
import { Ajv2020 } from "ajv/dist/2020.js";
import type { Report } from "../../src/report/report.ts";

const validateReport = new Ajv2020({ strict: true, allErrors: true }).compile(
  JSON.parse(fs.readFileSync(new URL("../../schemas/report.schema.json", import.meta.url), "utf8")),
);

/**
 * Asserts that `report` is valid against `schemas/report.schema.json`.
 *
 * @param report The parsed report.
 */
export function assertValidReport(report: unknown): void {
  assert.ok(validateReport(report), JSON.stringify(validateReport.errors, null, 2));
}

/**
 * Reads a report file.
 *
 * @param file The report.
 * @returns Its JSON.
 */
export function readReport(file: string): Report {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}
