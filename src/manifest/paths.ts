/**
 * Array paths: what a declared path may look like, and where it really is on disk.
 *
 * How it works: a path is first checked as text (relative, `/`-separated, ends in `.npy`, no
 * control characters, no `..` that leaves the root, no name longer than 255 bytes and no
 * folder path longer than PATH_MAX allows) and normalised. Then its folder is resolved on disk:
 * the nearest folder that exists is passed through `realpath`, and the rest appended, so a
 * symbolic link anywhere above the file is followed to where it really leads. That real place
 * must be inside the real root. Folders are resolved once each, so thousands of arrays in one
 * folder cost one lookup. The real folder is what the writer later opens, one name at a time
 * without following links (docs/guarantees.md, "pinned folders"), so a link planted after this
 * check cannot redirect a write. Two paths that reach one real file are the same array, and a
 * symbolic link to a folder that does not exist is refused here, not halfway through a run.
 *
 * @module
 */

import path from "node:path";
import { mapOsError, osErrorCode } from "../errors.ts";
import { MAX_NAME_BYTES, MAX_PATH_BYTES } from "../limits.ts";
import type { Platform } from "../platform/platform.ts";
import type { Result } from "./placeholders.ts";

/** The read-only filesystem calls paths are checked with. */
export type PathQueries = Pick<Platform, "realpath" | "stat" | "lstat" | "readdir" | "readlink">;

/** A declared path, checked as text and placed under the root. */
export interface ResolvedPath {
  /** Normalised, with `/` separators (`a/./b.npy` is `a/b.npy`). */
  readonly path: string;
  /** The absolute path on disk, as declared (not resolved through links). */
  readonly target: string;
}

/** Where a target really is, once its folder is resolved through links. */
export interface RealTarget {
  /** The target's folder with every symbolic link resolved (missing folders appended). */
  readonly folder: string;
  /** The target's own name. */
  readonly name: string;
}

interface FolderInfo {
  /** Why the folder is refused, if it is. */
  readonly problem: string | undefined;
  readonly exists: boolean;
  /** Where the folder really is. */
  readonly real: string;
  /** Names of the symbolic links in the folder, read on first use. */
  links?: ReadonlySet<string>;
}

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
/** An empty, `.` or `..` segment, or a leading `/`: a path that normalising would change. */
const NOT_NORMAL = /(?:^|\/)\.{0,2}(?:\/|$)/;

/**
 * Resolves a root folder and checks array paths against it.
 */
export class RootGuard {
  /** The root folder, absolute (as written, not resolved through links). */
  readonly root: string;
  /** The root folder with every symbolic link resolved. */
  readonly realRoot: string;
  /** Why the root itself is unusable, if it is (e.g. it is a file). */
  readonly rootProblem: string | undefined;
  readonly #allowOutside: boolean;
  readonly #fs: PathQueries;
  readonly #folders = new Map<string, FolderInfo>();
  /** The root with a final `/` to append a normal path to, where `/` is the separator. */
  readonly #prefix: string | undefined;

  /**
   * @param root The absolute root folder.
   * @param allowOutsideRoot Accept paths that leave the root.
   * @param fs The filesystem calls.
   */
  constructor(root: string, allowOutsideRoot: boolean, fs: PathQueries) {
    this.root = root;
    this.#allowOutside = allowOutsideRoot;
    this.#fs = fs;
    const base = path.resolve(root);
    if (path.sep === "/") this.#prefix = base.endsWith("/") ? base : `${base}/`;
    const resolved = realPlace(root, fs);
    this.realRoot = resolved.real;
    this.rootProblem = resolved.problem;
    if (resolved.problem === undefined && resolved.exists && !isDirectory(root, fs)) {
      this.rootProblem = `root '${root}' is not a folder`;
    }
  }

  /**
   * Checks a declared path as text and places it under the root.
   *
   * @param declared The path after interpolation and placeholders.
   * @returns The normalised path and its target, or why it is refused.
   */
  resolve(declared: string): Result<ResolvedPath> {
    const fail = (message: string): Result<ResolvedPath> => ({ ok: false, message });
    if (declared === "") return fail("path is empty");
    const control = CONTROL.exec(declared);
    if (control !== null) {
      const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
      return fail(`path ${JSON.stringify(declared)} contains a control character (U+${code})`);
    }
    if (declared.includes("\\")) {
      return fail(`path '${declared}' contains '\\': separate folders with '/'`);
    }
    if (!declared.endsWith(".npy")) return fail(`path '${declared}' must end in '.npy'`);
    const absolute = declared.startsWith("/") || /^[A-Za-z]:/.test(declared);
    if (absolute && !this.#allowOutside) {
      return fail(
        `path '${declared}' is absolute: paths are relative to root (or use --allow-outside-root)`,
      );
    }
    // Most paths are normal already (`a/x-00001.npy`), and for them the root and the path are
    // simply joined: path's normalize and resolve cost more than all the rest, per array.
    const simple = !absolute && !NOT_NORMAL.test(declared);
    let normal = simple ? declared : path.posix.normalize(declared);
    if (normal.startsWith("./")) normal = normal.slice(2);
    if (normal === ".npy" || normal.endsWith("/.npy")) {
      return fail(`path '${declared}' has no file name before '.npy'`);
    }
    if (!absolute && (normal === ".." || normal.startsWith("../")) && !this.#allowOutside) {
      return fail(
        `path '${declared}' leaves the root folder through '..' (or use --allow-outside-root)`,
      );
    }
    const target = simple && this.#prefix !== undefined
      ? this.#prefix + normal
      : path.resolve(this.root, normal);
    const tooLong = lengthProblem(target);
    if (tooLong !== undefined) return fail(`path '${shorten(declared)}' ${tooLong}`);
    return { ok: true, value: { path: normal, target } };
  }

  /**
   * Resolves a target on disk: its folder through `realpath`, which must lead inside the root
   * (unless outside is allowed), must not be a file, and must not be a symbolic link to nothing;
   * and the target itself, when it is a symbolic link, must lead inside the root. Reads the
   * filesystem, writes nothing.
   *
   * @param target An absolute target from {@linkcode RootGuard.resolve}.
   * @param declared The path as declared, for messages.
   * @returns Where the target really is, or why it is refused.
   */
  place(target: string, declared: string): Result<RealTarget> {
    const folder = folderOf(target);
    let info = this.#folders.get(folder);
    if (info === undefined) {
      info = this.#checkFolder(folder);
      this.#folders.set(folder, info);
    }
    if (info.problem !== undefined) return { ok: false, message: info.problem };
    const name = path.basename(target);
    const placed: Result<RealTarget> = { ok: true, value: { folder: info.real, name } };
    if (!info.exists || this.#allowOutside) return placed;
    // One directory listing per folder instead of one lstat per file.
    if (info.links === undefined) {
      try {
        info.links = new Set(
          this.#fs.readdir(folder).filter((entry) => entry.kind === "link").map((e) => e.name),
        );
      } catch (err) {
        return { ok: false, message: mapOsError(err, `cannot list folder '${folder}'`).message };
      }
    }
    if (!info.links.has(name)) return placed;
    let link: string;
    try {
      link = this.#fs.readlink(target);
    } catch (err) {
      if (osErrorCode(err) === "ENOENT") return placed;
      return { ok: false, message: mapOsError(err, `cannot check '${declared}'`).message };
    }
    let real: string;
    try {
      real = this.#fs.realpath(target);
    } catch {
      real = path.resolve(info.real, link);
    }
    if (this.#inside(real)) return placed;
    return {
      ok: false,
      message: `path '${declared}' is a symbolic link to '${link}', outside the root folder ` +
        `(or use --allow-outside-root)`,
    };
  }

  #inside(real: string): boolean {
    const base = this.realRoot.endsWith(path.sep) ? this.realRoot : this.realRoot + path.sep;
    return real === this.realRoot || real.startsWith(base);
  }

  #checkFolder(folder: string): FolderInfo {
    const place = realPlace(folder, this.#fs);
    if (place.problem !== undefined) {
      return { problem: this.#describe(place.problem), exists: false, real: place.real };
    }
    if (this.#allowOutside || this.#inside(place.real)) {
      return { problem: undefined, exists: place.exists, real: place.real };
    }
    // Name the link that leads out, walking down from the root.
    const relative = path.relative(this.root, folder);
    if (!relative.startsWith("..") && !path.isAbsolute(relative)) {
      let current = this.root;
      for (const part of relative.split(path.sep)) {
        current = path.join(current, part);
        try {
          if (this.#fs.lstat(current).kind === "link") {
            const shown = path.relative(this.root, current).split(path.sep).join("/");
            return {
              problem: `folder '${shown}' is a symbolic link to '${
                this.#fs.readlink(current)
              }', outside the root folder (or use --allow-outside-root)`,
              exists: place.exists,
              real: place.real,
            };
          }
        } catch {
          break;
        }
      }
    }
    return {
      problem: `folder '${folder}' leads to '${place.real}', outside the root folder ` +
        `(or use --allow-outside-root)`,
      exists: place.exists,
      real: place.real,
    };
  }

  #describe(problem: string): string {
    return problem.split(this.root + path.sep).join("");
  }
}

/**
 * `path.dirname(file)`, the same for every path, found on POSIX with one search for the last
 * `/` rather than path's loop over every character: it runs several times per array, and a
 * large manifest has 100,000 arrays.
 *
 * @param file A path.
 * @returns Its folder.
 */
export function folderOf(file: string): string {
  const end = path.sep === "/" ? file.lastIndexOf("/") : -1;
  // Left to path: a separator at the start (the root, `//`) or at the end (`a/b/` is in `a`).
  return end > 1 && end < file.length - 1 ? file.slice(0, end) : path.dirname(file);
}

/** The longest folder path of a target: PATH_MAX (with its NUL) less room for a name. */
const MAX_FOLDER_BYTES = MAX_PATH_BYTES - 1 - 1 - MAX_NAME_BYTES;

const utf8 = new TextEncoder();

/** Why the OS would refuse `target` as too long (ENAMETOOLONG), or `undefined`. */
function lengthProblem(target: string): string | undefined {
  // A UTF-16 code unit is at most 3 bytes in UTF-8: short paths need no encoding (this runs
  // once per array, 100,000 times for a large manifest).
  if (target.length * 3 <= MAX_NAME_BYTES) return undefined;
  for (const name of target.split(path.sep)) {
    if (name.length * 3 <= MAX_NAME_BYTES) continue;
    const bytes = utf8.encode(name).length;
    if (bytes > MAX_NAME_BYTES) {
      return `has a name of ${bytes} bytes ('${shorten(name)}'): ` +
        `file and folder names are limited to ${MAX_NAME_BYTES} bytes`;
    }
  }
  const folder = path.dirname(target);
  if (folder.length * 3 <= MAX_FOLDER_BYTES) return undefined;
  const folderBytes = utf8.encode(folder).length;
  if (folderBytes > MAX_FOLDER_BYTES) {
    return `is too long: its folder is ${folderBytes} bytes from '/', ` +
      `more than the ${MAX_FOLDER_BYTES} bytes a folder of a file may have`;
  }
  return undefined;
}

/** The start of a long text, for messages. */
function shorten(text: string): string {
  const chars = [...text];
  return chars.length > 60 ? `${chars.slice(0, 57).join("")}...` : text;
}

/**
 * Where a folder really is: the nearest existing ancestor through `realpath`, with the missing
 * rest appended. A missing part that is a symbolic link (to nothing) is refused: the run could
 * not create a folder there.
 *
 * @param folder An absolute folder.
 * @param fs The filesystem calls.
 * @returns Its real place, whether it exists, or why it cannot be used.
 */
export function realPlace(
  folder: string,
  fs: PathQueries,
): { real: string; exists: boolean; problem?: string } {
  const missing: string[] = [];
  let current = folder;
  for (;;) {
    try {
      const real = fs.realpath(current);
      if (!isDirectory(current, fs)) {
        return { real, exists: false, problem: `'${current}' is a file, not a folder` };
      }
      return { real: path.join(real, ...missing), exists: missing.length === 0 };
    } catch (err) {
      const code = osErrorCode(err);
      if (code !== "ENOENT" && code !== "ENOTDIR") {
        return {
          real: folder,
          exists: false,
          problem: mapOsError(err, `cannot check folder '${current}'`).message,
        };
      }
      const dangling = danglingLink(current, fs);
      if (dangling !== undefined) {
        return {
          real: folder,
          exists: false,
          problem: `folder '${current}' is a symbolic link to '${dangling}', which does not exist`,
        };
      }
      const parent = path.dirname(current);
      if (parent === current) return { real: folder, exists: false };
      missing.unshift(path.basename(current));
      current = parent;
    }
  }
}

/** Where `place` points when it is a symbolic link that leads nowhere, else `undefined`. */
function danglingLink(place: string, fs: PathQueries): string | undefined {
  try {
    return fs.lstat(place).kind === "link" ? fs.readlink(place) : undefined;
  } catch {
    return undefined;
  }
}

function isDirectory(place: string, fs: PathQueries): boolean {
  try {
    return fs.stat(place).kind === "folder";
  } catch {
    return false;
  }
}
