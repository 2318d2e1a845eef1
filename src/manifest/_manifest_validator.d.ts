// The module scripts/manifest_validator.ts generates from schemas/manifest.schema.json.
import type { ValidateFunction } from "ajv/dist/2020.js";

/** ajv's validator of the manifest schema, compiled ahead of time. */
export declare const validate: ValidateFunction;
export default validate;
