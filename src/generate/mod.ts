/**
 * Generated fills: seeded, reproducible array content byte-identical to NumPy.
 *
 * @module
 */

export {
  type GeneratedFill,
  GENERATOR_DTYPES,
  type GeneratorName,
  GENERATORS,
  parseGeneratedFill,
  type PyNumber,
} from "./fill.ts";
export type { MathLib } from "./math.ts";
export type { Seed } from "./seed_sequence.ts";
export {
  checkGeneratedFill,
  type GeneratedSource,
  MAX_GENERATED_ELEMENTS,
  openSource,
  type SourceRange,
  supportsRange,
} from "./source.ts";
