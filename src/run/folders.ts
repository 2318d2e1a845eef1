/**
 * The folders a run writes into, opened once and pinned (docs/guarantees.md, "pinned folders").
 *
 * How it works: a target's folder is known by its real path, resolved through symbolic links
 * when the manifest was checked. The cache opens it one name at a time from `/`, each name
 * relative to the folder opened before it and never through a symbolic link (`O_NOFOLLOW`), so
 * a link put in place of any folder after the check makes the write fail instead of leading it
 * elsewhere. Missing folders are created the same way (`mkdirat`), and the folder that received
 * each new entry is remembered, to be synced once at the end of the run. Open folders are kept
 * in a small least-recently-used cache; one that is evicted is opened again from its nearest
 * open ancestor. A folder a writer holds (from {@linkcode FolderCache.acquire} to
 * {@linkcode FolderCache.release}) is never closed under it: its descriptor number could
 * otherwise be given to another folder while the writer still uses it.
 *
 * @module
 */

import path from "node:path";
import { mapOsError, NpyallocError, osErrorCode } from "../errors.ts";
import type { Folder, Platform } from "../platform/platform.ts";

/** The platform calls the cache makes. */
export type FolderCalls = Pick<
  Platform,
  "openFolder" | "openFolderAt" | "makeFolderAt" | "closeFolder" | "syncFolder"
>;

/** Open folders kept at most; plenty for runs that write into a few folders at a time. */
const MAX_OPEN = 128;

/** Errnos that say a name that should be a folder is not one now: it changed after the check. */
const NOT_A_FOLDER: ReadonlySet<string> = new Set(["ELOOP", "ENOTDIR"]);

/** The cache key of a folder it opened: its real path, which it was opened by. */
function folderKey(folder: Folder): string {
  return folder.path;
}

/** Folders of a run, opened pinned, created as needed. */
export class FolderCache {
  readonly #fs: FolderCalls;
  /** Open folders by real path, least recently used first. */
  readonly #open = new Map<string, Folder>();
  /** How many writers hold each folder. */
  readonly #held = new Map<Folder, number>();
  /** Folders whose entries this run changed, by real path. */
  readonly #changed = new Set<string>();
  #root: Folder | undefined;

  /**
   * @param fs The platform.
   */
  constructor(fs: FolderCalls) {
    this.#fs = fs;
  }

  /**
   * The open folder at `real`, opened (and created, with its missing parents) if need be.
   *
   * @param real An absolute path without symbolic links (as the manifest resolved it).
   * @returns The open folder.
   * @throws {NpyallocError} When a folder on the way cannot be opened or created, or has become
   *   a symbolic link or a file since the check (`E_NOT_A_DIRECTORY`).
   */
  get(real: string): Folder {
    const cached = this.#open.get(real);
    if (cached !== undefined) {
      // Most recently used last.
      this.#open.delete(real);
      this.#open.set(real, cached);
      return cached;
    }
    const parentPath = path.dirname(real);
    const parent = parentPath === real ? this.#rootFolder() : this.get(parentPath);
    if (parentPath === real) return parent;
    const name = path.basename(real);
    const folder = this.#openChild(parent, name, real);
    this.#open.set(real, folder);
    this.#evict();
    return folder;
  }

  /**
   * The open folder at `real`, as {@linkcode FolderCache.get} gives it, held open until
   * {@linkcode FolderCache.release}.
   *
   * @param real An absolute path without symbolic links.
   * @returns The open folder.
   * @throws {NpyallocError} As {@linkcode FolderCache.get}.
   */
  acquire(real: string): Folder {
    const folder = this.get(real);
    this.#held.set(folder, (this.#held.get(folder) ?? 0) + 1);
    return folder;
  }

  /**
   * Lets a folder from {@linkcode FolderCache.acquire} be closed again.
   *
   * @param folder The folder.
   */
  release(folder: Folder): void {
    const count = (this.#held.get(folder) ?? 1) - 1;
    if (count > 0) {
      this.#held.set(folder, count);
      return;
    }
    this.#held.delete(folder);
    if (this.#open.get(folderKey(folder)) !== folder) this.#closeQuietly(folder);
  }

  /**
   * Records that `real`'s entries changed (a file was linked or a folder made in it).
   *
   * @param real The folder's real path.
   */
  changed(real: string): void {
    this.#changed.add(real);
  }

  /** The folders whose entries changed, deepest first. */
  get changedFolders(): string[] {
    return [...this.#changed].sort((a, b) => b.length - a.length);
  }

  /**
   * The folders whose entries changed since the last call, forgotten here (a writer thread
   * hands them to its parent, which syncs them).
   *
   * @returns Their real paths.
   */
  takeChanged(): string[] {
    const changed = [...this.#changed];
    this.#changed.clear();
    return changed;
  }

  /**
   * fsyncs every folder whose entries changed, deepest first, so that every link is durable.
   * Filesystems that cannot sync a folder (EINVAL, EOPNOTSUPP) are passed over: the data itself
   * was synced.
   *
   * @param folders The folders to sync; those {@linkcode changedFolders} names by default.
   * @throws {NpyallocError} For the first folder that cannot be synced (the others are still
   *   tried).
   */
  syncChanged(folders: readonly string[] = this.changedFolders): void {
    let first: NpyallocError | undefined;
    for (const real of folders) {
      try {
        this.#fs.syncFolder(this.get(real));
      } catch (err) {
        const code = osErrorCode(err);
        if (code === "EINVAL" || code === "EOPNOTSUPP") continue;
        first ??= mapOsError(err, `Cannot sync folder '${real}'`);
      }
    }
    if (first !== undefined) throw first;
  }

  /** Closes every open folder (call it once no writer holds one). */
  close(): void {
    for (const folder of this.#open.values()) this.#closeQuietly(folder);
    for (const folder of this.#held.keys()) {
      if (this.#open.get(folderKey(folder)) !== folder) this.#closeQuietly(folder);
    }
    this.#open.clear();
    this.#held.clear();
    if (this.#root !== undefined) this.#closeQuietly(this.#root);
    this.#root = undefined;
  }

  #rootFolder(): Folder {
    if (this.#root === undefined) {
      try {
        this.#root = this.#fs.openFolder("/");
      } catch (err) {
        throw mapOsError(err, "Cannot open folder '/'");
      }
    }
    return this.#root;
  }

  #openChild(parent: Folder, name: string, real: string): Folder {
    try {
      return this.#fs.openFolderAt(parent, name);
    } catch (err) {
      const code = osErrorCode(err);
      if (code !== "ENOENT") throw this.#refused(err, real);
    }
    try {
      this.#fs.makeFolderAt(parent, name);
      this.changed(path.dirname(real));
    } catch (err) {
      // Made by another run meanwhile: open what is there, which must be a folder.
      if (osErrorCode(err) !== "EEXIST") throw mapOsError(err, `Cannot create folder '${real}'`);
    }
    try {
      return this.#fs.openFolderAt(parent, name);
    } catch (err) {
      throw this.#refused(err, real);
    }
  }

  #refused(err: unknown, real: string): NpyallocError {
    if (NOT_A_FOLDER.has(osErrorCode(err) ?? "")) {
      return new NpyallocError(
        "E_NOT_A_DIRECTORY",
        `Cannot open folder '${real}': it is no longer a folder (a symbolic link or a file ` +
          `was put in its place after the manifest was checked); nothing was written through it`,
        { cause: err },
      );
    }
    return mapOsError(err, `Cannot open folder '${real}'`);
  }

  #evict(): void {
    if (this.#open.size <= MAX_OPEN) return;
    for (const [real, folder] of this.#open) {
      if (this.#open.size <= MAX_OPEN) break;
      this.#open.delete(real);
      // A held folder leaves the cache but stays open until it is released.
      if (!this.#held.has(folder)) this.#closeQuietly(folder);
    }
  }

  #closeQuietly(folder: Folder): void {
    try {
      this.#fs.closeFolder(folder);
    } catch {
      // Closing a folder opened only as a place cannot lose data.
    }
  }
}
