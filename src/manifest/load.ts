/**
 * Loading a manifest: read, parse, validate, interpolate, expand, check paths
 * and lay out every array, collecting every problem on the way.
 *
 * How it works, in passes: (1) the file is read and parsed into positioned
 * nodes, and checked against the JSON Schema; problems outside `arrays`
 * entries stop here, since everything depends on them. (2) Variables and the
 * root are resolved. (3) Each valid entry is prepared once: defaults merged,
 * strings interpolated, the path and shape compiled into templates, the
 * dtype parsed, and its foreach counted without being expanded, so an
 * oversized expansion is refused before anything is built. (4) Each entry is
 * expanded: paths rendered and checked (as text, then on disk, once per
 * folder) and duplicates found; layouts are computed once per distinct shape.
 *
 * @module
 */

import path from "node:path";
import process from "node:process";
import { parseDocument } from "yaml";
import { NpyallocError } from "../errors.ts";
import { DEFAULT_MAX_ARRAYS, DEFAULT_MAX_MANIFEST_BYTES, DEFAULT_MAX_PROBLEMS } from "../limits.ts";
import { loadPlatform } from "../platform/mod.ts";
import type { Platform } from "../platform/platform.ts";
import { type DType, parseDType } from "../npy/dtype.ts";
import type { FillValue } from "../npy/fill.ts";
import type { Allocation, HeaderVersion, Order } from "../npy/layout.ts";
import { GENERATORS } from "../generate/fill.ts";
import { type ContentLayout, layoutContent } from "../generate/layout.ts";
import {
  countCombinations,
  forEachCombination,
  type ForeachDimension,
  parseForeach,
} from "./expand.ts";
import { interpolate, parseDecimal } from "./interpolate.ts";
import { folderOf, type PathQueries, RootGuard } from "./paths.ts";
import {
  compileTemplate,
  type PlaceholderValue,
  renderTemplate,
  type Template,
  valueText,
} from "./placeholders.ts";
import { jsonPathJoin, ManifestError, type Position, ProblemList } from "./problems.ts";
import { DEFAULTABLE_FIELDS, validateSchema } from "./schema.ts";
import type { LoadedManifest, ManifestArray } from "./types.ts";
import {
  type ManifestSource,
  manifestSource,
  parseYaml,
  unreadableManifest,
  type YMap,
  type YNode,
  type YScalar,
  type YSeq,
} from "./yaml_source.ts";

/** How {@linkcode loadManifest} reads a manifest. */
export interface LoadOptions {
  /** Variables from `--var NAME=VALUE`: they win over `vars` and the environment. */
  readonly vars?: Readonly<Record<string, string>>;
  /**
   * The environment `${NAME}` falls back to.
   * @default {process.env}
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Accept absolute paths, `..` that leaves the root and symbolic links that lead out of it.
   * @default {false}
   */
  readonly allowOutsideRoot?: boolean;
  /**
   * The most arrays a manifest may expand to.
   * @default {1_000_000}
   */
  readonly maxArrays?: number;
  /**
   * The largest manifest file read, in bytes.
   * @default {67_108_864}
   */
  readonly maxManifestBytes?: number;
  /**
   * The most problems reported.
   * @default {50}
   */
  readonly maxProblems?: number;
  /** Stops reading the manifest (a FIFO, standard input that never ends). */
  readonly signal?: AbortSignal;
  /** The filesystem. @default the current runtime's */
  readonly platform?: Platform;
}

/** The name of standard input in messages, when the manifest is `-`. */
export const STDIN_NAME = "<stdin>";

/** Where a field's value was written: in the entry, or inherited from `defaults`. */
interface Field {
  readonly node: YNode;
  readonly jsonPath: string;
  readonly inherited: boolean;
}

/** An entry of `arrays`, ready to expand. */
interface PreparedEntry {
  readonly jsonPath: string;
  readonly pos: Position;
  readonly dims: readonly ForeachDimension[];
  readonly count: bigint;
  readonly pathField: Field;
  readonly pathTemplate: Template;
  readonly shapeField: Field;
  /** Per dimension: its value, or a template with placeholders, and its node. */
  readonly shape: readonly { value: bigint | Template; node: YNode; jsonPath: string }[];
  readonly dtype: DType | undefined;
  readonly dtypeField: Field | undefined;
  readonly order: Order;
  readonly orderField: Field | undefined;
  readonly fill: FillValue | undefined;
  readonly fillField: Field | undefined;
  /** The foreach placeholders in the strings of a generated fill (`seed: "{i}"`), if any. */
  readonly fillTemplate: boolean;
  readonly allocation: Allocation;
  readonly allocationField: Field | undefined;
  readonly headerVersion: HeaderVersion;
  readonly headerField: Field | undefined;
  /** Whether a problem was found that makes its arrays unusable (paths are still checked). */
  readonly broken: boolean;
}

const ORDERS: readonly Order[] = ["C", "F"];
const ALLOCATIONS: readonly Allocation[] = ["auto", "sparse", "reserve", "write"];
const HEADER_VERSIONS: readonly HeaderVersion[] = ["auto", "1.0", "2.0", "3.0"];

/**
 * Loads a manifest: reads the YAML file (at most `maxManifestBytes`, whatever the file is: a
 * FIFO, a device), validates it against the manifest schema, interpolates `${NAME}` variables,
 * expands `foreach`, checks every path against the root folder (reading the filesystem through
 * `realpath` and `lstat`, writing nothing) and lays out every array.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import fs from "node:fs";
 * import os from "node:os";
 * import path from "node:path";
 * import { loadManifest } from "./load.ts";
 * const dir = fs.mkdtempSync(path.join(os.tmpdir(), "npyalloc-doc-"));
 * const file = path.join(dir, "data.yaml");
 * fs.writeFileSync(file, [
 *   "version: 1",
 *   "arrays:",
 *   "  - path: part-{i:02d}.npy",
 *   "    foreach: { i: { range: [0, 3] } }",
 *   "    shape: [\"${N}\", 4]",
 * ].join("\n"));
 * const manifest = await loadManifest(file, { vars: { N: "10" } });
 * assert.ok(manifest.arrays.length === 3);
 * assert.ok(manifest.arrays[2]?.path === "part-02.npy");
 * assert.ok(manifest.arrays[0]?.layout.dataBytes === 320n);
 * fs.rmSync(dir, { recursive: true });
 * ```
 *
 * @param file The manifest path, or `-` for standard input (paths then resolve from the current
 *   folder).
 * @param options Variables, environment, limits, signal, platform.
 * @returns The manifest, with every array expanded and laid out.
 * @throws {NpyallocError} A `ManifestError` (code `E_MANIFEST`) carrying every problem found,
 *   up to `maxProblems`, each with its file, line, column and JSON path; the signal's reason when
 *   it aborts the read.
 * @throws {TypeError} When a limit in `options` is not an integer >= 0.
 */
export async function loadManifest(
  file: string,
  options: LoadOptions = {},
): Promise<LoadedManifest> {
  checkLimits(options);
  const platform = options.platform ?? await loadPlatform();
  const stdin = file === "-";
  const name = stdin ? STDIN_NAME : file;
  const absolutePath = stdin ? path.resolve(STDIN_NAME) : path.resolve(file);
  const max = options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
  const problems = new ProblemList(name, options.maxProblems ?? DEFAULT_MAX_PROBLEMS);
  let bytes: Uint8Array;
  try {
    // A file too large is refused before it is read; a FIFO or a device is read up to the limit.
    const info = stdin ? undefined : platform.stat(absolutePath);
    if (info?.kind === "file" && info.size > BigInt(max)) tooLarge(info.size, max, problems);
    bytes = await platform.readFile(stdin ? "-" : absolutePath, max, options.signal);
  } catch (err) {
    if (options.signal?.aborted || err instanceof ManifestError) throw err;
    unreadableManifest(err, problems);
  }
  return parseManifest(manifestSource(name, absolutePath, bytes, max, problems), {
    ...options,
    fs: platform,
  });
}

/** Records that a manifest of `size` bytes is over the limit, and throws. */
function tooLarge(size: bigint, max: number, problems: ProblemList): never {
  problems.add(
    { line: 0, column: 0 },
    "",
    `the manifest is ${size} bytes, more than the limit of ${max} bytes`,
  );
  problems.throwIfAny();
  throw new Error("unreachable: a problem was recorded");
}

/** Options of {@linkcode parseManifest}: those of a load, and the filesystem paths are checked on. */
export interface ParseOptions extends Omit<LoadOptions, "platform" | "signal"> {
  readonly fs: PathQueries;
}

function checkLimits(options: LoadOptions): void {
  for (const name of ["maxArrays", "maxManifestBytes", "maxProblems"] as const) {
    const limit = options[name];
    if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 0)) {
      throw new TypeError(`loadManifest: ${name} must be an integer >= 0, got ${limit}`);
    }
  }
}

/**
 * Checks and expands a manifest already read (see {@linkcode loadManifest}).
 *
 * @param source The manifest's text, name and hash.
 * @param options Variables, environment, limits, and the filesystem paths are checked on.
 * @returns The manifest, with every array expanded and laid out.
 * @throws {NpyallocError} A `ManifestError` carrying every problem found.
 */
export function parseManifest(source: ManifestSource, options: ParseOptions): LoadedManifest {
  checkLimits(options);
  const problems = new ProblemList(source.file, options.maxProblems ?? DEFAULT_MAX_PROBLEMS);
  const tree = parseYaml(source.text, problems);
  if (tree === undefined) {
    problems.throwIfAny();
    throw new Error("unreachable: unusable YAML without a problem");
  }
  const pointers = validateSchema(tree, problems);
  const entryPointer = /^\/arrays\/(\d+)(?:\/|$)/;
  if (tree.kind !== "map" || pointers.some((p) => !entryPointer.test(p))) {
    problems.throwIfAny();
  }
  const badEntries = new Set(pointers.map((p) => Number(entryPointer.exec(p)?.[1])));
  const document = tree as YMap;
  const loader = new Loader(source.absolutePath, problems, options);
  loader.resolveVars(document.byKey.get("vars")?.value);
  const guard = loader.resolveRoot(document.byKey.get("root")?.value);
  if (guard.rootProblem !== undefined) problems.throwIfAny();

  const defaults = document.byKey.get("defaults")?.value as YMap | undefined;
  const list = document.byKey.get("arrays")?.value as YSeq;
  const maxArrays = options.maxArrays ?? DEFAULT_MAX_ARRAYS;
  const entries: PreparedEntry[] = [];
  let total = 0n;
  for (const [index, node] of list.items.entries()) {
    if (problems.full) break;
    if (badEntries.has(index) || node.kind !== "map") continue;
    const entry = loader.prepare(node, index, defaults);
    if (entry === undefined) continue;
    total += entry.count;
    if (total > BigInt(maxArrays)) {
      const foreach = node.byKey.get("foreach");
      problems.add(
        foreach?.value.pos ?? node.pos,
        foreach ? jsonPathJoin(entry.jsonPath, "foreach") : entry.jsonPath,
        `the manifest expands to more than ${maxArrays} arrays` +
          (entry.count > 1n ? ` (this entry alone makes ${entry.count})` : "") +
          ": raise the limit with --max-arrays",
      );
      problems.throwIfAny();
    }
    entries.push(entry);
  }
  const arrays: ManifestArray[] = [];
  for (const entry of entries) {
    if (problems.full) break;
    loader.expand(entry, guard, arrays);
  }
  problems.throwIfAny();
  return {
    file: source.file,
    absolutePath: source.absolutePath,
    sha256: source.sha256,
    root: guard.root,
    arrays,
  };
}

/** The state of one load: variables, problems, caches. */
class Loader {
  readonly #manifestPath: string;
  readonly #problems: ProblemList;
  readonly #options: ParseOptions;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #vars = new Map<string, string>();
  /** Manifest variables not (yet) usable, with the reason. */
  readonly #unusable = new Map<string, string>();
  /** The first array at each real path: where it was declared. */
  readonly #firstPaths = new Map<string, { line: number; label: string; path: string }>();
  readonly #dtypes = new Map<string, DType | NpyallocError>();

  constructor(manifestPath: string, problems: ProblemList, options: ParseOptions) {
    this.#manifestPath = manifestPath;
    this.#problems = problems;
    this.#options = options;
    this.#env = options.env ?? process.env;
  }

  #lookup = (name: string): string | undefined => {
    const fromCli = this.#options.vars?.[name];
    if (fromCli !== undefined && Object.hasOwn(this.#options.vars ?? {}, name)) return fromCli;
    const fromVars = this.#vars.get(name);
    if (fromVars !== undefined) return fromVars;
    if (this.#unusable.has(name)) return undefined;
    const fromEnv = this.#env[name];
    if (fromEnv !== undefined) this.#problems.hide(name, fromEnv);
    return fromEnv;
  };

  #unsetHint = (name: string): string | undefined => this.#unusable.get(name);

  /** Interpolates a string; records a problem and returns `undefined` when it fails. */
  interpolateAt = (text: string, pos: Position, jsonPath: string): string | undefined => {
    const result = interpolate(text, this.#lookup, this.#unsetHint);
    if (result.ok) return result.text;
    this.#problems.add(pos, jsonPath, result.message);
    return undefined;
  };

  /**
   * Resolves `vars` in order: each value may use `--var` values, the vars
   * above it and the environment. A var that `--var` overrides is not read.
   */
  resolveVars(node: YNode | undefined): void {
    if (node === undefined || node.kind !== "map") return;
    for (const { key } of node.entries) {
      this.#unusable.set(key, `: vars may only use the vars defined above them`);
    }
    for (const { key, value } of node.entries) {
      this.#unusable.delete(key);
      if (this.#options.vars !== undefined && Object.hasOwn(this.#options.vars, key)) continue;
      if (value.kind !== "scalar") continue;
      const text = scalarText(value);
      const result = typeof value.value === "string"
        ? this.interpolateAt(text, value.pos, jsonPathJoin("vars", key))
        : text;
      if (result === undefined) {
        this.#unusable.set(key, `: its value in vars has a problem`);
      } else {
        this.#vars.set(key, result);
      }
    }
  }

  /** Resolves `root` against the manifest's folder. */
  resolveRoot(node: YNode | undefined): RootGuard {
    const folder = path.dirname(this.#manifestPath);
    let text = ".";
    if (node !== undefined && node.kind === "scalar" && typeof node.value === "string") {
      text = this.interpolateAt(node.value, node.pos, "root") ?? ".";
    }
    const guard = new RootGuard(
      path.resolve(folder, text),
      this.#options.allowOutsideRoot ?? false,
      this.#options.fs,
    );
    if (guard.rootProblem !== undefined) {
      this.#problems.add(node?.pos ?? { line: 1, column: 1 }, "root", guard.rootProblem);
    }
    return guard;
  }

  /** Records a problem about a field, at the node it was written (in the entry or in defaults). */
  #fieldProblem(field: Field, entryPath: string, message: string, jsonPath = field.jsonPath): void {
    this.#problems.add(
      field.node.pos,
      jsonPath,
      field.inherited ? `${message} (inherited by ${entryPath})` : message,
      message,
    );
  }

  /** Prepares one entry of `arrays` (already valid against the schema). */
  prepare(node: YMap, index: number, defaults: YMap | undefined): PreparedEntry | undefined {
    const jsonPath = jsonPathJoin("arrays", index);
    const field = (name: string): Field | undefined => {
      const own = node.byKey.get(name);
      if (own) return { node: own.value, jsonPath: jsonPathJoin(jsonPath, name), inherited: false };
      const inherited = (DEFAULTABLE_FIELDS as readonly string[]).includes(name)
        ? defaults?.byKey.get(name)
        : undefined;
      if (inherited) {
        return { node: inherited.value, jsonPath: jsonPathJoin("defaults", name), inherited: true };
      }
      return undefined;
    };
    let broken = false;

    // foreach
    let dims: ForeachDimension[] = [];
    const foreachEntry = node.byKey.get("foreach");
    if (foreachEntry !== undefined && foreachEntry.value.kind === "map") {
      const parsed = parseForeach(
        foreachEntry.value,
        jsonPathJoin(jsonPath, "foreach"),
        this.interpolateAt,
        this.#problems,
      );
      if (parsed === undefined) return undefined;
      dims = parsed;
    }
    const names = dims.map((dim) => dim.name);

    // path
    const pathField = field("path");
    if (pathField === undefined || pathField.node.kind !== "scalar") return undefined;
    const pathText = this.interpolateAt(
      String(pathField.node.value),
      pathField.node.pos,
      pathField.jsonPath,
    );
    if (pathText === undefined) return undefined;
    const pathTemplate = compileTemplate(pathText, names);
    if (!pathTemplate.ok) {
      this.#problems.add(pathField.node.pos, pathField.jsonPath, pathTemplate.message);
      return undefined;
    }
    if (foreachEntry !== undefined && foreachEntry.value.kind === "map") {
      for (const [i, { key, keyPos }] of foreachEntry.value.entries.entries()) {
        if (!pathTemplate.value.uses.has(i)) {
          this.#problems.add(
            keyPos,
            jsonPathJoin(jsonPathJoin(jsonPath, "foreach"), key),
            `placeholder '${key}' is not used in path, so its arrays would all have the same path`,
          );
          return undefined;
        }
      }
    }

    // shape
    const shapeField = field("shape");
    if (shapeField === undefined) return undefined;
    const shapeNodes = shapeField.node.kind === "seq"
      ? shapeField.node.items.map((item, i) => ({
        node: item,
        jsonPath: jsonPathJoin(shapeField.jsonPath, i),
      }))
      : [{ node: shapeField.node, jsonPath: shapeField.jsonPath }];
    const shape: { value: bigint | Template; node: YNode; jsonPath: string }[] = [];
    for (const item of shapeNodes) {
      const value = this.#dimension(item.node, item.jsonPath, names, jsonPath, shapeField);
      if (value === undefined) broken = true;
      else shape.push({ value, node: item.node, jsonPath: item.jsonPath });
    }

    // dtype
    const dtypeField = field("dtype");
    const dtype = this.#dtype(dtypeField, jsonPath);
    if (dtype === undefined) broken = true;

    // order, allocation, header_version
    const orderField = field("order");
    const order = this.#choice(orderField, ORDERS, jsonPath);
    const allocationField = field("allocation");
    const allocation = this.#choice(allocationField, ALLOCATIONS, jsonPath);
    const headerField = field("header_version");
    const headerVersion = this.#choice(headerField, HEADER_VERSIONS, jsonPath);
    if (
      (orderField && order === undefined) || (allocationField && allocation === undefined) ||
      (headerField && headerVersion === undefined)
    ) broken = true;

    // fill
    const fillField = field("fill");
    let fill: FillValue | undefined;
    if (fillField !== undefined) {
      fill = this.#fillValue(fillField.node, fillField.jsonPath);
      if (fill === undefined) broken = true;
    }

    return {
      jsonPath,
      pos: node.pos,
      dims,
      count: countCombinations(dims),
      pathField,
      pathTemplate: pathTemplate.value,
      shapeField,
      shape,
      dtype,
      dtypeField,
      order: order ?? "C",
      orderField,
      fill,
      fillField,
      fillTemplate: fill !== undefined && names.length > 0 && usesPlaceholders(fill),
      allocation: allocation ?? "auto",
      allocationField,
      headerVersion: headerVersion ?? "auto",
      headerField,
      broken,
    };
  }

  /** One shape entry: an integer now, or a template rendered per array. */
  #dimension(
    node: YNode,
    jsonPath: string,
    names: readonly string[],
    entryPath: string,
    shapeField: Field,
  ): bigint | Template | undefined {
    if (node.kind !== "scalar") return undefined;
    const value = node.value;
    if (typeof value === "bigint") return value;
    if (typeof value === "number" && Number.isInteger(value) && value >= 0) return BigInt(value);
    if (typeof value !== "string") return undefined;
    const field: Field = { node, jsonPath, inherited: shapeField.inherited };
    const text = this.interpolateAt(value, node.pos, jsonPath);
    if (text === undefined) return undefined;
    const template = compileTemplate(text, names);
    if (!template.ok) {
      this.#fieldProblem(field, entryPath, template.message);
      return undefined;
    }
    if (template.value.uses.size > 0) return template.value;
    const rendered = renderTemplate(template.value, []);
    if (!rendered.ok) return undefined;
    const integer = dimensionValue(rendered.value, value, this.#problems);
    if (typeof integer === "string") {
      this.#fieldProblem(field, entryPath, integer);
      return undefined;
    }
    return integer;
  }

  #dtype(dtypeField: Field | undefined, entryPath: string): DType | undefined {
    if (dtypeField === undefined) {
      const float64 = this.#parseDType("float64", "float64");
      return float64 instanceof NpyallocError ? undefined : float64;
    }
    const node = dtypeField.node;
    let spec: string | unknown[] | undefined;
    let key: string | undefined;
    if (node.kind === "scalar" && typeof node.value === "string") {
      spec = this.interpolateAt(node.value, node.pos, dtypeField.jsonPath);
      key = spec;
    } else if (node.kind === "seq") {
      spec = this.#dtypeList(node, dtypeField.jsonPath);
    }
    if (spec === undefined) return undefined;
    const result = key === undefined ? tryParseDType(spec) : this.#parseDType(spec, key);
    if (result instanceof NpyallocError) {
      this.#fieldProblem(dtypeField, entryPath, result.message);
      return undefined;
    }
    return result;
  }

  #parseDType(spec: string | unknown[], key: string): DType | NpyallocError {
    let result = this.#dtypes.get(key);
    if (result === undefined) {
      result = tryParseDType(spec);
      this.#dtypes.set(key, result);
    }
    return result;
  }

  /** A descr list as plain values, strings interpolated, integers as numbers. */
  #dtypeList(node: YNode, jsonPath: string): unknown[] | undefined {
    let ok = true;
    const convert = (item: YNode, itemPath: string): unknown => {
      if (item.kind === "seq") {
        return item.items.map((x, i) => convert(x, jsonPathJoin(itemPath, i)));
      }
      if (item.kind === "map") {
        ok = false;
        this.#problems.add(
          item.pos,
          itemPath,
          "must be a field name, a dtype or a shape, got a mapping",
        );
        return null;
      }
      if (typeof item.value === "string") {
        const text = this.interpolateAt(item.value, item.pos, itemPath);
        if (text === undefined) ok = false;
        return text;
      }
      return typeof item.value === "bigint" ? Number(item.value) : item.value;
    };
    const list = convert(node, jsonPath) as unknown[];
    return ok ? list : undefined;
  }

  /** A value of a small set (`order`, `allocation`, `header_version`). */
  #choice<T extends string>(
    field: Field | undefined,
    choices: readonly T[],
    entryPath: string,
  ): T | undefined {
    if (field === undefined || field.node.kind !== "scalar") return undefined;
    const { value } = field.node;
    let text: string | undefined;
    if (typeof value === "string") {
      text = this.interpolateAt(value, field.node.pos, field.jsonPath);
      if (text === undefined) return undefined;
    } else if (typeof value === "number" || typeof value === "bigint") {
      // header_version: 1 or 1.0 in YAML is a number.
      text = `${value}.0`;
    }
    if (text !== undefined && (choices as readonly string[]).includes(text)) return text as T;
    const shown = typeof value === "string"
      ? this.#problems.shown(text ?? value, value)
      : String(value);
    this.#fieldProblem(field, entryPath, `must be one of ${choices.join(", ")}, got ${shown}`);
    return undefined;
  }

  /**
   * A fill as the fill encoder takes it: strings interpolated, and a string
   * that used a variable read again as a YAML scalar, so `"${FILL}"` with
   * FILL=7 is the integer 7 and FILL=.nan is NaN.
   */
  #fillValue(node: YNode, jsonPath: string): FillValue | undefined {
    let ok = true;
    const convert = (item: YNode, itemPath: string): FillValue => {
      if (item.kind === "seq") {
        return item.items.map((x, i) => convert(x, jsonPathJoin(itemPath, i)));
      }
      if (item.kind === "map") {
        const out: { [key: string]: FillValue } = Object.create(null);
        for (const entry of item.entries) {
          out[entry.key] = convert(entry.value, jsonPathJoin(itemPath, entry.key));
        }
        return out;
      }
      if (typeof item.value !== "string") return item.value;
      const result = interpolate(item.value, this.#lookup, this.#unsetHint);
      if (!result.ok) {
        ok = false;
        this.#problems.add(item.pos, itemPath, result.message);
        return null;
      }
      return result.substituted ? readScalar(result.text) : result.text;
    };
    const fill = convert(node, jsonPath);
    return ok ? fill : undefined;
  }

  /** Expands a prepared entry into arrays, checking paths, duplicates and layouts. */
  expand(entry: PreparedEntry, guard: RootGuard, out: ManifestArray[]): void {
    const problems = this.#problems;
    const layouts = new Map<string, ContentLayout | undefined>();
    const pathNode = entry.pathField.node;
    const hasForeach = entry.dims.length > 0;
    const fixedShape = entry.shape.every((d) => typeof d.value === "bigint")
      ? entry.shape.map((d) => d.value as bigint)
      : undefined;
    const fixedKey = fixedShape?.join(",");
    // Shared by the entry's arrays, as their shape and layout are: nothing changes them.
    const location = { file: problems.file, line: entry.pos.line, column: entry.pos.column };
    forEachCombination(entry.dims, (values) => {
      if (problems.full) return false;
      const label = hasForeach
        ? `${entry.jsonPath}${foreachLabel(entry.dims, values)}`
        : entry.jsonPath;
      const pathAt = hasForeach ? `${label}.path` : entry.pathField.jsonPath;
      const rendered = renderTemplate(entry.pathTemplate, values);
      if (!rendered.ok) {
        problems.add(pathNode.pos, pathAt, rendered.message);
        return;
      }
      const resolved = guard.resolve(rendered.value);
      if (!resolved.ok) {
        problems.add(pathNode.pos, pathAt, resolved.message);
        return;
      }
      const { path: normal, target } = resolved.value;
      const placed = guard.place(target, normal);
      if (!placed.ok) problems.add(pathNode.pos, pathAt, placed.message);
      // Two paths through symbolic links can name one file: the real path tells.
      const real = placed.ok ? placed.value : undefined;
      const realPath = real === undefined || real.folder === folderOf(target)
        ? target
        : `${real.folder}/${real.name}`;
      const first = this.#firstPaths.get(realPath);
      if (first !== undefined) {
        const where = `first declared at line ${first.line}` +
          (first.label.includes("{") ? ` (${first.label})` : "");
        problems.add(
          pathNode.pos,
          pathAt,
          first.path === normal
            ? `duplicate path '${normal}', ${where}`
            : `path '${normal}' is the same file as '${first.path}' (through a symbolic link), ${where}`,
        );
        return;
      }
      this.#firstPaths.set(realPath, { line: pathNode.pos.line, label, path: normal });
      if (entry.broken || entry.dtype === undefined || real === undefined) return;

      const shape = fixedShape ?? this.#renderShape(entry, values, label);
      if (shape === undefined) return;
      // A fill with placeholders differs per array; any other is laid out once per shape.
      let fill = entry.fill;
      let laid: ContentLayout | undefined;
      if (entry.fillTemplate) {
        fill = this.#renderFill(entry, values, label);
        if (fill === undefined) return;
        laid = this.#layout(entry, entry.dtype, shape, fill, label);
      } else {
        const key = fixedKey ?? shape.join(",");
        laid = layouts.get(key);
        if (!layouts.has(key)) {
          laid = this.#layout(
            entry,
            entry.dtype,
            shape,
            fill,
            fixedShape ? entry.jsonPath : label,
          );
          layouts.set(key, laid);
        }
      }
      if (laid === undefined) return;
      out.push({
        path: normal,
        target,
        real,
        shape,
        dtype: entry.dtype,
        order: entry.order,
        fill,
        allocation: entry.allocation,
        headerVersion: entry.headerVersion,
        layout: laid.layout,
        generated: laid.generated,
        location,
        jsonPath: label,
      });
    });
  }

  #renderShape(
    entry: PreparedEntry,
    values: readonly PlaceholderValue[],
    label: string,
  ): bigint[] | undefined {
    const shape: bigint[] = [];
    for (const dim of entry.shape) {
      if (typeof dim.value === "bigint") {
        shape.push(dim.value);
        continue;
      }
      const at = entry.shapeField.inherited
        ? dim.jsonPath
        : label + dim.jsonPath.slice(entry.jsonPath.length);
      const rendered = renderTemplate(dim.value, values);
      const source = dim.node.kind === "scalar" ? String(dim.node.value) : "";
      const integer = rendered.ok
        ? dimensionValue(rendered.value, source, this.#problems)
        : rendered.message;
      if (typeof integer === "string") {
        this.#problems.add(
          dim.node.pos,
          at,
          entry.shapeField.inherited ? `${integer} (inherited by ${label})` : integer,
          integer,
        );
        return undefined;
      }
      shape.push(integer);
    }
    return shape;
  }

  /** The fill of one array of a foreach, its placeholders rendered with the array's values. */
  #renderFill(
    entry: PreparedEntry,
    values: readonly PlaceholderValue[],
    label: string,
  ): FillValue | undefined {
    const names = entry.dims.map((dim) => dim.name);
    let problem: string | undefined;
    const render = (value: FillValue): FillValue => {
      if (typeof value === "string") {
        const template = compileTemplate(value, names);
        const rendered = template.ok ? renderTemplate(template.value, values) : template;
        if (!rendered.ok) {
          problem ??= rendered.message;
          return value;
        }
        return rendered.value;
      }
      if (Array.isArray(value)) return value.map(render);
      if (value !== null && typeof value === "object") {
        const out: { [key: string]: FillValue } = Object.create(null);
        for (const [key, item] of Object.entries(value)) out[key] = render(item);
        return out;
      }
      return value;
    };
    const fill = entry.fill === undefined ? undefined : render(entry.fill);
    if (problem !== undefined && entry.fillField !== undefined) {
      const field = entry.fillField;
      const jsonPath = field.inherited
        ? field.jsonPath
        : label + field.jsonPath.slice(entry.jsonPath.length);
      this.#fieldProblem(field, label, problem, jsonPath);
      return undefined;
    }
    return fill;
  }

  /** Lays out one array, turning the engine's errors into problems at the node that caused them. */
  #layout(
    entry: PreparedEntry,
    dtype: DType,
    shape: bigint[],
    fill: FillValue | undefined,
    label: string,
  ): ContentLayout | undefined {
    try {
      return layoutContent({
        shape,
        dtype,
        order: entry.order,
        ...(fill === undefined ? {} : { fill }),
        allocation: entry.allocation,
        headerVersion: entry.headerVersion,
      });
    } catch (err) {
      if (!(err instanceof NpyallocError)) throw err;
      const field = blame(entry, err.code);
      const jsonPath = field.inherited
        ? field.jsonPath
        : label + field.jsonPath.slice(entry.jsonPath.length);
      this.#fieldProblem(field, label, err.message, jsonPath);
      return undefined;
    }
  }
}

/** Whether a generated fill's strings hold foreach placeholders (`{i}`) to render per array. */
function usesPlaceholders(fill: FillValue): boolean {
  if (typeof fill === "string") return fill.includes("{");
  if (Array.isArray(fill)) return fill.some(usesPlaceholders);
  if (fill === null || typeof fill !== "object") return false;
  const entries = Object.entries(fill);
  // Only a generated fill (one generator's mapping of parameters) renders placeholders: the
  // strings of a plain fill (an S or U dtype) are taken as written.
  const generated = entries.length === 1 &&
    (GENERATORS as readonly string[]).includes(entries[0]![0]);
  return generated && Object.values(fill).some(function any(v: FillValue): boolean {
    if (typeof v === "string") return v.includes("{");
    if (Array.isArray(v)) return v.some(any);
    return v !== null && typeof v === "object" && Object.values(v).some(any);
  });
}

/** The field an engine error is about. */
function blame(entry: PreparedEntry, code: string): Field {
  const whole: Field = { node: entry.pathField.node, jsonPath: entry.jsonPath, inherited: false };
  switch (code) {
    case "E_FILL":
      return entry.fillField ?? entry.dtypeField ?? whole;
    case "E_SHAPE":
      return entry.shapeField;
    case "E_ALLOCATION":
      return entry.allocationField ?? entry.fillField ?? whole;
    case "E_HEADER":
      return entry.headerField ?? whole;
    case "E_DTYPE":
      return entry.dtypeField ?? whole;
  }
  return whole;
}

/** `{i=5,split=train}`: the foreach values that made an array. */
function foreachLabel(
  dims: readonly ForeachDimension[],
  values: readonly PlaceholderValue[],
): string {
  return `{${
    dims.map((dim, i) => `${dim.name}=${valueText(values[i] as PlaceholderValue)}`).join(",")
  }}`;
}

/** A shape entry's text as an integer >= 0, or the message saying why it is not one. */
function dimensionValue(text: string, source: string, problems: ProblemList): bigint | string {
  const integer = parseDecimal(text);
  if (integer !== undefined && integer >= 0n) return integer;
  if (integer === undefined || problems.hides(source)) {
    return `must be an integer >= 0, got ${problems.shown(text, source)}`;
  }
  return `must be an integer >= 0, got ${integer}${text === source ? "" : ` (from '${source}')`}`;
}

/** The text of a scalar for a variable: integers in decimal, other numbers as written. */
function scalarText(node: YScalar): string {
  const { value } = node;
  if (typeof value === "string") return value;
  if (typeof value === "bigint" || typeof value === "boolean") return String(value);
  if (typeof value === "number") return node.source ?? String(value);
  return "";
}

function tryParseDType(spec: string | unknown[]): DType | NpyallocError {
  try {
    return parseDType(spec);
  } catch (err) {
    if (err instanceof NpyallocError) return err;
    throw err;
  }
}

/** Reads interpolated fill text as a YAML scalar (core schema, exact integers). */
function readScalar(text: string): FillValue {
  const doc = parseDocument(text, { intAsBigInt: true, schema: "core" });
  const value: unknown = doc.errors.length === 0 ? doc.toJS() : text;
  if (
    value === null || typeof value === "boolean" || typeof value === "number" ||
    typeof value === "bigint" || typeof value === "string"
  ) {
    return value;
  }
  return text;
}
