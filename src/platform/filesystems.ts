/**
 * Filesystems by the magic number `statfs(2)` reports as `f_type`: their names, as the report's
 * `filesystems[].type` shows them, and what npyalloc must know of each (docs/filesystems.md).
 *
 * @module
 */

/** What npyalloc knows of a filesystem. */
export interface FilesystemKind {
  /** Its usual name, as `df -T` shows it: `ext4`, `xfs`, `nfs`, `fuse`, ... */
  readonly name: string;
  /**
   * It takes the blocks of its own metadata (folder entries, inode chunks, extent maps) from
   * the space `statfs` reports as available: the space check charges for them.
   */
  readonly chargesMetadata?: boolean;
  /** Every hard link costs an inode (tmpfs), so a named temporary file linked into place costs two. */
  readonly inodePerLink?: boolean;
  /**
   * `fallocate` succeeds without holding blocks for later writes (copy-on-write filesystems that
   * allocate anew on every write): a reservation there is no guarantee against a full disk.
   */
  readonly reservesNothing?: boolean;
  /**
   * Its files live in memory, without delayed allocation: `fallocate` before writing a fill
   * buys nothing there and only commits (and, on an interrupt, frees) every page at once.
   */
  readonly inMemory?: boolean;
}

/**
 * `f_type` values, from Linux's `include/uapi/linux/magic.h` and the vendors' own headers for
 * the parallel filesystems.
 */
const KINDS: ReadonlyMap<number, FilesystemKind> = new Map([
  [0xef53, { name: "ext4", chargesMetadata: true }],
  [0x58465342, { name: "xfs", chargesMetadata: true }],
  [0x9123683e, { name: "btrfs", chargesMetadata: true }],
  [0x01021994, { name: "tmpfs", inodePerLink: true, inMemory: true }],
  [0x858458f6, { name: "ramfs", inMemory: true }],
  [0x6969, { name: "nfs" }],
  [0x0bd00bd0, { name: "lustre" }],
  [0x47504653, { name: "gpfs" }],
  [0x19830326, { name: "beegfs" }],
  [0x00c36400, { name: "ceph" }],
  [0x65735546, { name: "fuse" }],
  [0x794c7630, { name: "overlay" }],
  [0x2fc12fc1, { name: "zfs", reservesNothing: true }],
  [0xca451a4e, { name: "bcachefs" }],
  [0xf2f52010, { name: "f2fs" }],
  [0xff534d42, { name: "cifs" }],
  [0xfe534d42, { name: "smb2" }],
  [0x01021997, { name: "9p" }],
  [0x20030528, { name: "orangefs" }],
  [0xaad7aaea, { name: "panfs" }],
  [0x01161970, { name: "gfs2" }],
  [0x7461636f, { name: "ocfs2" }],
  [0x4d44, { name: "vfat" }],
  [0x2011bab0, { name: "exfat" }],
  [0x5346544e, { name: "ntfs" }],
  [0x52654973, { name: "reiserfs" }],
  [0x3153464a, { name: "jfs" }],
  [0x73717368, { name: "squashfs" }],
  [0x958458f6, { name: "hugetlbfs" }],
]);

const UNKNOWN: FilesystemKind = { name: "unknown" };

/**
 * What a filesystem is, from its `f_type`.
 *
 * @param type `statfs`'s `f_type`.
 * @returns Its kind; `name` is `"unknown"` for a number the table does not know.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { filesystemKind } from "./filesystems.ts";
 * assert.equal(filesystemKind(0xef53).name, "ext4");
 * assert.equal(filesystemKind(0x1234).name, "unknown");
 * ```
 */
export function filesystemKind(type: number): FilesystemKind {
  return KINDS.get(type >>> 0) ?? UNKNOWN;
}
