/**
 * The up-front space and inode check (docs/guarantees.md): does every filesystem the
 * plan writes to have room for it, plus the `--min-free` headroom?
 *
 * How it works: each array to create or replace is charged to the filesystem
 * of the nearest existing ancestor of its folder (its `stat().dev`, cached per
 * folder), because that is where the folders and the file will be made. Each
 * filesystem is asked `statfs` once. A file costs its size rounded up to the
 * block size (a `sparse` file only its header: its data blocks appear later,
 * and are counted apart as `committed_bytes`), and one inode, plus one per
 * folder to create. Replaced files are charged in full: the old file keeps its
 * blocks until the new one is renamed over it.
 *
 * ext2/3/4, xfs and btrfs take the blocks of their own metadata from the space
 * `statfs` reports as available: a folder's entries, inode chunks allocated on
 * demand, extent maps, free-space btrees, and the worst-case reservation each
 * allocation holds while it runs (xfs refuses the last blocks of a full
 * filesystem for it). There, a plan is also charged `metadata_bytes`: one block
 * per new folder, one block per file plus one per GiB of its data, and 16
 * blocks per write in flight (`jobs`). Measured on small ext4 and xfs images,
 * this covers what those filesystems take; tmpfs takes nothing. tmpfs counts
 * every hard link as an inode, so there each new file in flight (up to `jobs`)
 * is charged one more inode when files are written under a temporary name: it is
 * linked into place while that name still exists. An unnamed file's first link
 * costs none (`options.unnamedFiles`).
 *
 * @module
 */

import { formatBytes } from "../format.ts";
import { mapOsError, NpyallocError } from "../errors.ts";
import { folderOf } from "../manifest/paths.ts";
import type { ArrayLayout } from "../npy/layout.ts";
import { filesystemKind } from "../platform/filesystems.ts";
import type { Platform } from "../platform/platform.ts";
import type { PlannedArray } from "./targets.ts";

/** The filesystem calls the space check makes: it only asks. */
export type SpaceQueries = Pick<Platform, "stat" | "statfs">;

/** A `--min-free` headroom: a byte count, or a percentage of each filesystem's size. */
export type SizeSpec =
  | { readonly kind: "bytes"; readonly bytes: bigint }
  | { readonly kind: "percent"; readonly percent: number };

/** The space and inode budget of one filesystem. Snake_case: it goes into the report as is. */
export interface FilesystemBudget {
  /** The absolute existing folder the filesystem was asked about (the shortest of its targets). */
  readonly path: string;
  /** The device number, as a decimal string. */
  readonly device: string;
  /** The filesystem's name from `statfs`'s `f_type` (`ext4`, `xfs`, `nfs`, ...), or `unknown`. */
  readonly type: string;
  /** The block size of the filesystem, in bytes. */
  readonly block_size: number;
  /** Bytes available to an unprivileged user (`bavail * bsize`). */
  readonly available_bytes: bigint;
  /**
   * Bytes the plan takes: every file to create or replace, rounded up to the block size, plus
   * `metadata_bytes`.
   */
  readonly required_bytes: bigint;
  /** The part of `required_bytes` charged for the filesystem's own metadata (0 on tmpfs). */
  readonly metadata_bytes: bigint;
  /** Data bytes of `sparse` files, not reserved: they take space only when written. */
  readonly committed_bytes: bigint;
  /**
   * Data bytes of `reserve` files that this filesystem cannot hold ahead of their writes (zfs,
   * copy-on-write: its fallocate only checks the space): counted in `required_bytes`, so they
   * fit now, but created sparse (docs/filesystems.md).
   */
  readonly unreserved_bytes: bigint;
  /** The `--min-free` headroom on this filesystem, in bytes. */
  readonly min_free_bytes: bigint;
  /** Free inodes, or `null` when the filesystem does not report inodes (check skipped). */
  readonly free_inodes: number | bigint | null;
  /**
   * New files plus new folders (on tmpfs, plus one per link in flight when files are written
   * under a temporary name: see the module doc).
   */
  readonly required_inodes: number;
  /** Whether the bytes (with the headroom) and the inodes fit. */
  readonly ok: boolean;
  /** `required_bytes + min_free_bytes - available_bytes`, or 0 when it fits. */
  readonly shortfall_bytes: bigint;
  /** `required_inodes - free_inodes`, or 0 when it fits or inodes are not reported. */
  readonly shortfall_inodes: number;
}

/** Options of {@linkcode planSpace}. */
export interface SpaceOptions {
  /** The filesystem. */
  readonly fs: SpaceQueries;
  /**
   * Headroom to keep free on every filesystem, as {@linkcode parseSize} returns it.
   *
   * @default {{ kind: "bytes", bytes: 0n }}
   */
  readonly minFree?: SizeSpec;
  /**
   * Arrays written at once: filesystems that reserve metadata while allocating hold that much
   * per write in flight.
   *
   * @default {1}
   */
  readonly jobs?: number;
  /**
   * Whether new files will be created unnamed (`O_TMPFILE`) and linked once: tmpfs then charges
   * no inode for the link. Asked only when a filesystem is tmpfs (answering may bind libc).
   *
   * @default {() => false}
   */
  readonly unnamedFiles?: () => boolean;
}

const UNITS: Readonly<Record<string, bigint>> = {
  "": 1n,
  b: 1n,
  k: 1024n,
  kb: 1000n,
  kib: 1024n,
  m: 1024n ** 2n,
  mb: 1000n ** 2n,
  mib: 1024n ** 2n,
  g: 1024n ** 3n,
  gb: 1000n ** 3n,
  gib: 1024n ** 3n,
  t: 1024n ** 4n,
  tb: 1000n ** 4n,
  tib: 1024n ** 4n,
  p: 1024n ** 5n,
  pb: 1000n ** 5n,
  pib: 1024n ** 5n,
  e: 1024n ** 6n,
  eb: 1000n ** 6n,
  eib: 1024n ** 6n,
};

const SIZE_PATTERN = /^(\d+(?:\.\d+)?|\.\d+)\s*([A-Za-z]*|%)$/;

/** Scale of percentages kept exactly: 1e-6 percent. */
const PERCENT_SCALE = 1_000_000;

/**
 * Parses a `--min-free` size: a byte count with an optional unit (`4096`, `4096B`, `512MiB`,
 * `2GB`, `1.5TiB`), or a percentage of each filesystem's size (`1%`, `0.5%`).
 *
 * Units are case-insensitive. `KB`, `MB`, `GB`, `TB`, `PB`, `EB` are powers of 1000; `KiB`,
 * `MiB`, ... and the bare letters `K`, `M`, `G`, `T`, `P`, `E` are powers of 1024 (as in
 * `fallocate -l` and `truncate -s`). A fractional size is rounded up to a whole byte.
 *
 * @param text The size as the user wrote it.
 * @returns The size.
 * @throws {NpyallocError} `E_USAGE` for anything else, a fractional byte count without a unit,
 *   or a percentage above 100.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSize } from "./space.ts";
 * assert.ok(JSON.stringify(parseSize("1%")) === '{"kind":"percent","percent":1}');
 * const size = parseSize("1.5KiB");
 * assert.ok(size.kind === "bytes" && size.bytes === 1536n);
 * ```
 */
export function parseSize(text: string): SizeSpec {
  const trimmed = text.trim();
  const match = SIZE_PATTERN.exec(trimmed);
  const usage = (why: string) =>
    new NpyallocError(
      "E_USAGE",
      `Cannot parse size '${text}': ${why} (examples: 4096, 512MiB, 2GB, 1.5TiB, 1%)`,
    );
  if (match === null) throw usage("expected a number with an optional unit");
  const number = match[1] as string;
  const unit = (match[2] as string).toLowerCase();
  if (unit === "%") {
    const percent = Number(number);
    if (percent > 100) throw usage("a percentage must be at most 100");
    return { kind: "percent", percent };
  }
  const multiplier = UNITS[unit];
  if (multiplier === undefined) {
    throw usage(`unknown unit '${match[2]}', expected B, KiB, MiB, GiB, TiB, KB, MB, GB, TB, ...`);
  }
  const [whole = "", fraction = ""] = number.split(".");
  const scale = 10n ** BigInt(fraction.length);
  const scaled = BigInt(`${whole}${fraction}` || "0") * multiplier;
  if (unit === "" || unit === "b") {
    if (scaled % scale !== 0n) throw usage("a byte count must be a whole number");
  }
  return { kind: "bytes", bytes: (scaled + scale - 1n) / scale };
}

/** What is accumulated per filesystem before `statfs`. */
interface Tally {
  readonly device: string;
  folder: string;
  readonly arrays: PlannedArray[];
  readonly newFolders: Set<string>;
}

/**
 * Checks, per filesystem, that the arrays to create or replace fit: required bytes plus the
 * `minFree` headroom must not exceed the bytes available to the user, and new files plus new
 * folders must not exceed the free inodes (where the filesystem reports inodes). Arrays that
 * are `unchanged` or in `conflict` cost nothing.
 *
 * @param planned The output of `classifyTargets`.
 * @param options The `minFree` headroom.
 * @returns One budget per filesystem that receives something, in order of first use.
 * @throws {NpyallocError} When a folder cannot be stat'ed or a filesystem cannot be asked
 *   for its free space (mapped by `mapOsError`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { loadManifest } from "../manifest/mod.ts";
 * import { loadPlatform } from "../platform/mod.ts";
 * import { classifyTargets } from "./targets.ts";
 * import { parseSize, planSpace } from "./space.ts";
 * const dir = mkdtempSync(join(tmpdir(), "npyalloc-example-"));
 * writeFileSync(join(dir, "m.yaml"), "version: 1\narrays:\n  - { path: a.npy, shape: [1000] }\n");
 * const fs = await loadPlatform();
 * const { arrays } = await loadManifest(join(dir, "m.yaml"));
 * const planned = await classifyTargets(arrays, { force: false, fs });
 * const [budget] = planSpace(planned, { minFree: parseSize("0"), fs });
 * assert.ok(budget !== undefined && budget.required_bytes >= 8128n && budget.required_inodes >= 1);
 * rmSync(dir, { recursive: true });
 * ```
 */
export function planSpace(
  planned: readonly PlannedArray[],
  options: SpaceOptions,
): FilesystemBudget[] {
  const { fs } = options;
  const devices = new Map<string, string>();
  const deviceOf = (folder: string): string => {
    let device = devices.get(folder);
    if (device === undefined) {
      try {
        device = fs.stat(folder).dev.toString();
      } catch (err) {
        throw mapOsError(err, `Cannot examine folder '${folder}'`);
      }
      devices.set(folder, device);
    }
    return device;
  };

  const tallies = new Map<string, Tally>();
  for (const item of planned) {
    if (item.action !== "create" && item.action !== "replace") continue;
    const first = item.newFolders[0];
    const folder = folderOf(first ?? item.array.target);
    const device = deviceOf(folder);
    let tally = tallies.get(device);
    if (tally === undefined) {
      tally = { device, folder, arrays: [], newFolders: new Set() };
      tallies.set(device, tally);
    } else if (folder.length < tally.folder.length) {
      tally.folder = folder;
    }
    tally.arrays.push(item);
    for (const created of item.newFolders) tally.newFolders.add(created);
  }

  return [...tallies.values()].map((tally) =>
    budgetOf(
      fs,
      tally,
      options.minFree,
      BigInt(Math.max(1, options.jobs ?? 1)),
      options.unnamedFiles ?? (() => false),
    )
  );
}

/** Blocks charged per write in flight, for what an allocation reserves while it runs. */
const METADATA_BLOCKS_PER_JOB = 16n;
/** Data covered by one block of extent metadata. */
const DATA_BYTES_PER_METADATA_BLOCK = 1n << 30n;

function budgetOf(
  queries: SpaceQueries,
  tally: Tally,
  minFree: SizeSpec | undefined,
  jobs: bigint,
  unnamedFiles: () => boolean,
): FilesystemBudget {
  let info;
  try {
    info = queries.statfs(tally.folder);
  } catch (err) {
    throw mapOsError(err, `Cannot read the free space of the filesystem of '${tally.folder}'`);
  }
  const kind = filesystemKind(info.type);
  const block = info.blockSize > 0n ? info.blockSize : 1n;
  const roundUp = (n: bigint) => ((n + block - 1n) / block) * block;
  // The arrays of one manifest entry share their layout: each layout is charged once, times
  // the number of its arrays (bigint arithmetic per array took milliseconds per 10,000).
  const perLayout = new Map<ArrayLayout, number>();
  for (const { array } of tally.arrays) {
    perLayout.set(array.layout, (perLayout.get(array.layout) ?? 0) + 1);
  }
  let required = 0n;
  let committed = 0n;
  let unreserved = 0n;
  let metadataBlocks = 0n;
  for (const [layout, count] of perLayout) {
    const times = BigInt(count);
    const charged = layout.allocation === "sparse"
      ? roundUp(BigInt(layout.header.length))
      : roundUp(layout.fileBytes);
    required += charged * times;
    if (layout.allocation === "sparse") committed += (roundUp(layout.fileBytes) - charged) * times;
    if (layout.allocation === "reserve" && kind.reservesNothing) {
      unreserved += layout.dataBytes * times;
    }
    metadataBlocks += (1n + charged / DATA_BYTES_PER_METADATA_BLOCK) * times;
  }
  const files = BigInt(tally.arrays.length);
  const inFlight = jobs < files ? jobs : files;
  metadataBlocks += BigInt(tally.newFolders.size) + METADATA_BLOCKS_PER_JOB * inFlight;
  const metadata = kind.chargesMetadata ? metadataBlocks * block : 0n;
  required += metadata;
  const available = info.available * info.blockSize;
  const minFreeBytes = minFreeOn(minFree, info.blocks * info.blockSize);
  const shortfall = required + minFreeBytes - available;
  const creates = BigInt(tally.arrays.filter((item) => item.action === "create").length);
  const linking = kind.inodePerLink && info.files > 0n && !unnamedFiles()
    ? (jobs < creates ? jobs : creates)
    : 0n;
  const requiredInodes = tally.arrays.length + tally.newFolders.size + Number(linking);
  const freeInodes = info.files === 0n ? null : info.freeFiles;
  const inodeShortfall = freeInodes === null ? 0n : BigInt(requiredInodes) - freeInodes;
  return {
    path: tally.folder,
    device: tally.device,
    type: kind.name,
    block_size: Number(info.blockSize),
    available_bytes: available,
    required_bytes: required,
    metadata_bytes: metadata,
    committed_bytes: committed,
    unreserved_bytes: unreserved,
    min_free_bytes: minFreeBytes,
    free_inodes: freeInodes === null ? null : exact(freeInodes),
    required_inodes: requiredInodes,
    ok: shortfall <= 0n && inodeShortfall <= 0n,
    shortfall_bytes: shortfall > 0n ? shortfall : 0n,
    shortfall_inodes: inodeShortfall > 0n ? Number(inodeShortfall) : 0,
  };
}

function minFreeOn(minFree: SizeSpec | undefined, total: bigint): bigint {
  if (minFree === undefined) return 0n;
  if (minFree.kind === "bytes") return minFree.bytes;
  const scaled = BigInt(Math.round(minFree.percent * PERCENT_SCALE));
  const denominator = 100n * BigInt(PERCENT_SCALE);
  return (total * scaled + denominator - 1n) / denominator;
}

function exact(n: bigint): number | bigint {
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

/**
 * Warnings a successful space check still deserves: filesystems that do not report inodes
 * (the inode check was skipped), `sparse` files whose data, once written, would not fit, and
 * `reserve` files on a filesystem that holds no blocks for them (zfs).
 *
 * @param budgets The output of {@linkcode planSpace}.
 * @returns One line per warning, for the report's `warnings`.
 */
export function spaceWarnings(budgets: readonly FilesystemBudget[]): string[] {
  const warnings: string[] = [];
  for (const b of budgets) {
    if (b.free_inodes === null) {
      warnings.push(
        `The filesystem of '${b.path}' does not report inodes: the inode check was skipped`,
      );
    }
    if (b.committed_bytes > 0n) {
      const needed = b.required_bytes + b.committed_bytes + b.min_free_bytes;
      const fits = needed <= b.available_bytes;
      warnings.push(
        `Sparse files on the filesystem of '${b.path}' commit ${showBytes(b.committed_bytes)} ` +
          `not reserved: writing all their data ${
            fits
              ? "fits in the space available now"
              : `needs ${showBytes(needed - b.available_bytes)} more than is available now`
          }`,
      );
    }
    if (b.unreserved_bytes > 0n) {
      warnings.push(
        `The filesystem of '${b.path}' (${b.type}) holds no blocks ahead of writes ` +
          `(copy-on-write): ${showBytes(b.unreserved_bytes)} of 'reserve' arrays fit now but are ` +
          "created sparse, not reserved; writing them can still fail when it fills (a " +
          "reservation on the dataset holds the space)",
      );
    }
  }
  return warnings;
}

/** A byte count in binary units and exactly: `1.5 GiB (1610612736 bytes)`. */
function showBytes(bytes: bigint): string {
  return `${formatBytes(bytes)} (${bytes} bytes)`;
}

/**
 * The message of a failed space check (exit 3): one row per filesystem with what the plan
 * requires (including the headroom), what is available, and the shortfall, in binary units
 * and in exact bytes, then the inode counts of filesystems short of inodes.
 *
 * @param budgets The output of {@linkcode planSpace}.
 * @returns The text, several lines, without a trailing newline.
 */
export function formatSpaceFailure(budgets: readonly FilesystemBudget[]): string {
  const failing = budgets.filter((b) => !b.ok).length;
  const header = ["filesystem", "required", "available", "shortfall", "inodes (new / free)", ""];
  const rows = budgets.map((b) => [
    b.path,
    showBytes(b.required_bytes + b.min_free_bytes) + included(b),
    showBytes(b.available_bytes),
    b.shortfall_bytes > 0n ? showBytes(b.shortfall_bytes) : "-",
    `${b.required_inodes} / ${b.free_inodes === null ? "not reported" : String(b.free_inodes)}`,
    b.ok
      ? "ok"
      : `SHORT${
        b.shortfall_inodes > 0
          ? ` of ${b.shortfall_inodes} inode${b.shortfall_inodes === 1 ? "" : "s"}`
          : ""
      }`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    "  " + cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [
    `Not enough free space or inodes on ${failing} of ${budgets.length} ` +
    `filesystem${budgets.length === 1 ? "" : "s"} (nothing was written):`,
    line(header),
    ...rows.map(line),
  ].join("\n");
}

/** ` incl. metadata 64.0 KiB, min-free 1.0 GiB`: the parts of a requirement that are not files. */
function included(b: FilesystemBudget): string {
  const parts: string[] = [];
  if (b.metadata_bytes > 0n) parts.push(`metadata ${formatBytes(b.metadata_bytes)}`);
  if (b.min_free_bytes > 0n) parts.push(`min-free ${formatBytes(b.min_free_bytes)}`);
  return parts.length === 0 ? "" : ` incl. ${parts.join(", ")}`;
}

/**
 * The message of a failed space check of one filesystem, in one line: what the files need, what
 * is available, and the shortfall, of bytes or of inodes.
 *
 * @param b A budget that is not `ok`.
 * @returns The line.
 */
export function formatSpaceLine(b: FilesystemBudget): string {
  if (b.shortfall_bytes > 0n) {
    return `Not enough free space on the filesystem of '${b.path}' (${b.type}): ` +
      `${formatBytes(b.required_bytes + b.min_free_bytes)} required${included(b)}, ` +
      `${formatBytes(b.available_bytes)} available (short by ${showBytes(b.shortfall_bytes)}); ` +
      "nothing was written";
  }
  return `Not enough free inodes on the filesystem of '${b.path}' (${b.type}): ` +
    `${b.required_inodes} required, ${b.free_inodes} free (short by ${b.shortfall_inodes}); ` +
    "nothing was written";
}

/**
 * The error of a failed space check, or `null` when every filesystem fits: `E_NO_SPACE` when
 * some filesystem is short of bytes, else `E_NO_INODES`. Its message is the table of
 * {@linkcode formatSpaceFailure}, or with `oneLine` and one filesystem
 * {@linkcode formatSpaceLine}.
 *
 * @param budgets The output of {@linkcode planSpace}.
 * @param oneLine Say it in one line when there is one filesystem.
 * @returns The error to throw or report, or `null`.
 */
export function spaceFailure(
  budgets: readonly FilesystemBudget[],
  oneLine = false,
): NpyallocError | null {
  if (budgets.every((b) => b.ok)) return null;
  const code = budgets.some((b) => b.shortfall_bytes > 0n) ? "E_NO_SPACE" : "E_NO_INODES";
  const only = oneLine && budgets.length === 1 ? budgets[0] : undefined;
  return new NpyallocError(
    code,
    only === undefined ? formatSpaceFailure(budgets) : formatSpaceLine(only),
  );
}
