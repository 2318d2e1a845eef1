/**
 * Small real filesystems for tests: a tmpfs, a loop-mounted ext4, xfs or btrfs
 * image, a FUSE mount (bindfs), a read-only bind mount. Every helper unmounts
 * (and detaches its loop device) in a `finally`, even when the test fails.
 *
 * Mounting needs root. {@linkcode mountSkip} gives the reason a test may skip
 * when it cannot mount; with `CI=true` it never skips (the test then fails).
 */
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { tempDir, withTempDir } from "./temp.ts";

/** Whether this process may mount filesystems. */
export const isRoot: boolean = process.getuid?.() === 0;

/**
 * `false` when a test that needs root must run, else why it skips: `node:test`'s `skip` option.
 * With `CI=true` it never skips (the test then fails).
 *
 * @param what What needs root, for the message.
 * @returns `false`, or the reason.
 */
export function rootSkip(what: string): false | string {
  if (isRoot || process.env.CI === "true") return false;
  return `${what} needs root (never skipped with CI=true)`;
}

/**
 * `false` when mount tests must run, else why they skip (see {@linkcode rootSkip}).
 *
 * @param what What the test mounts, for the message.
 * @returns `false`, or the reason.
 */
export function mountSkip(what: string): false | string {
  return rootSkip(`mounting ${what}`);
}

/**
 * A test's name with the reason it skips, if it does, so that the reason shows in every runner's
 * output.
 *
 * @param name The test's name.
 * @param skip `false`, or why it skips.
 * @returns The name to give the test.
 */
export function skipNamed(name: string, skip: false | string): string {
  return skip === false ? name : `${name} (skipped: ${skip})`;
}

/**
 * `false` when tests that mount `what` with a tool must run, else why they skip. With
 * `CI=true` they never skip: a missing tool is then their failure.
 */
function toolSkip(
  what: string,
  installed: boolean,
  missing: string,
  debianPackage: string,
): false | string {
  const mount = mountSkip(what);
  if (mount !== false) return mount;
  if (installed || process.env.CI === "true") return false;
  return `${missing} (apt-get install ${debianPackage}; never skipped with CI=true)`;
}

/** Whether `mkfs.xfs` is installed (`.ci/run` installs xfsprogs). */
export const hasMkfsXfs: boolean = findProgram("mkfs.xfs") !== null;

/**
 * `false` when xfs tests must run, else why they skip. With `CI=true` they never skip.
 *
 * @returns `false`, or the reason.
 */
export function xfsSkip(): false | string {
  return toolSkip(
    "an xfs image",
    hasMkfsXfs,
    "mkfs.xfs is not installed",
    "xfsprogs",
  );
}

/** Whether `mkfs.btrfs` is installed (`.ci/run` installs btrfs-progs). */
export const hasMkfsBtrfs: boolean = findProgram("mkfs.btrfs") !== null;

/**
 * `false` when btrfs tests must run, else why they skip. With `CI=true` they never skip.
 *
 * @returns `false`, or the reason.
 */
export function btrfsSkip(): false | string {
  return toolSkip(
    "a btrfs image",
    hasMkfsBtrfs,
    "mkfs.btrfs is not installed",
    "btrfs-progs",
  );
}

/** Whether `bindfs` is installed and FUSE is there (`.ci/run` installs bindfs). */
export const hasBindfs: boolean = findProgram("bindfs") !== null && fs.existsSync("/dev/fuse");

/**
 * `false` when bindfs (FUSE) tests must run, else why they skip. With `CI=true` they never skip.
 *
 * @returns `false`, or the reason.
 */
export function bindfsSkip(): false | string {
  return toolSkip(
    "a FUSE filesystem",
    hasBindfs,
    "bindfs or /dev/fuse is missing",
    "bindfs",
  );
}

function findProgram(name: string): string | null {
  const dirs = (process.env.PATH ?? "").split(":").concat(["/sbin", "/usr/sbin"]);
  for (const dir of dirs) {
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

function run(program: string, args: string[], env?: Record<string, string>): string {
  const found = findProgram(program) ?? program;
  return execFileSync(found, args, {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    ...(env === undefined ? {} : { env: { ...process.env, ...env } }),
  });
}

/** Mount points made here and not yet unmounted, innermost last. */
const mounted = new Set<string>();
/** Loop devices attached here and not yet detached. */
const attached = new Set<string>();

// A test runner that gives up on a test (a timeout) may exit before its `finally` blocks run:
// detach whatever is still mounted then, so that no mount outlives the tests. (`losetup -d` of
// a busy device detaches it as soon as its lazily unmounted filesystem lets go.)
process.on("exit", () => {
  for (const dir of [...mounted].reverse()) {
    spawnSync(findProgram("umount") ?? "umount", ["-l", dir]);
  }
  for (const device of attached) spawnSync(findProgram("losetup") ?? "losetup", ["-d", device]);
});

function mount(args: string[], dir: string): void {
  run("mount", [...args, dir]);
  mounted.add(dir);
}

/** Unmounts, retrying a few times when the mount is still busy (a child that just exited). */
function unmount(dir: string): void {
  mounted.delete(dir);
  for (let attempt = 0;; attempt++) {
    const result = spawnSync(findProgram("umount") ?? "umount", [dir], { encoding: "utf8" });
    if (result.status === 0) return;
    if (attempt >= 20) {
      // Detach it lazily rather than leave a mount behind.
      spawnSync(findProgram("umount") ?? "umount", ["-l", dir]);
      throw new Error(`Cannot unmount '${dir}': ${result.stderr.trim()}`);
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  }
}

/** Options of {@linkcode withTmpfs}. */
export interface TmpfsOptions {
  /** `size=` of the mount, e.g. `"16m"`. */
  readonly size: string;
  /** `nr_inodes=` (0: unlimited, and no inode count reported). */
  readonly inodes?: number;
  /** `mode=` of the root folder, octal text. @default {"1777"} */
  readonly mode?: string;
}

/**
 * Runs `fn` with a tmpfs mounted on a fresh folder; always unmounted and removed.
 *
 * @param options Size, inodes and mode.
 * @param fn Gets the mount point.
 * @returns What `fn` returns.
 */
export async function withTmpfs<T>(
  options: TmpfsOptions,
  fn: (dir: string) => Promise<T> | T,
): Promise<T> {
  const { dir, remove } = tempDir("tmpfs");
  try {
    const opts = [`size=${options.size}`, `mode=${options.mode ?? "1777"}`];
    if (options.inodes !== undefined) opts.push(`nr_inodes=${options.inodes}`);
    mount(["-t", "tmpfs", "-o", opts.join(","), "tmpfs"], dir);
    try {
      return await fn(dir);
    } finally {
      unmount(dir);
    }
  } finally {
    remove();
  }
}

/**
 * Runs `fn` in a scratch folder: a tmpfs of `size` when running as root (so a test can fill or
 * abuse it without touching the machine's disk), else a temporary folder. Always cleaned up.
 *
 * @param size `size=` of the tmpfs, e.g. `"512m"`.
 * @param fn Gets the folder.
 * @returns What `fn` returns.
 */
export function withScratch<T>(size: string, fn: (dir: string) => Promise<T> | T): Promise<T> {
  return isRoot ? withTmpfs({ size }, fn) : withTempDir("scratch", fn);
}

/** Options of {@linkcode withLoopFilesystem}. */
export interface LoopOptions {
  /** Size of the image in MiB (xfs needs about 64 at least, btrfs about 128). */
  readonly sizeMiB: number;
  /** ext4 only: the number of inodes (`mkfs.ext4 -N`). */
  readonly inodes?: number;
}

/**
 * Runs `fn` with a fresh ext4, xfs or btrfs image loop-mounted on a fresh folder. The image lives on a
 * tmpfs of its own (so filling it costs memory, not disk writes). The filesystem, the loop
 * device, the image and the folders are always removed.
 *
 * ext4 is made with 4 KiB blocks, without a journal and without reserved blocks, so that the
 * space available is the space free; xfs is made with the test-suite switches of xfsprogs that allow images under
 * 300 MB; btrfs with the defaults of btrfs-progs (its data and metadata apart, metadata twice).
 *
 * @param kind `ext4`, `xfs` or `btrfs`.
 * @param options Size and inode count.
 * @param fn Gets the mount point.
 * @returns What `fn` returns.
 */
export async function withLoopFilesystem<T>(
  kind: "ext4" | "xfs" | "btrfs",
  options: LoopOptions,
  fn: (dir: string) => Promise<T> | T,
): Promise<T> {
  return await withTmpfs({ size: `${options.sizeMiB + 8}m` }, async (store) => {
    const image = path.join(store, `${kind}.img`);
    fs.writeFileSync(image, "");
    fs.truncateSync(image, options.sizeMiB * 1024 * 1024);
    if (kind === "ext4") {
      const args = ["-q", "-F", "-b", "4096", "-m", "0", "-O", "^has_journal"];
      args.push("-E", "lazy_itable_init=0");
      if (options.inodes !== undefined) args.push("-N", String(options.inodes));
      run("mkfs.ext4", [...args, image]);
    } else if (kind === "xfs") {
      // xfsprogs refuses images under 300 MB unless it believes it runs under xfstests.
      run("mkfs.xfs", ["-q", "-f", image], { TEST_DIR: "1", TEST_DEV: "1", QA_CHECK_FS: "1" });
    } else {
      run("mkfs.btrfs", ["-q", "-f", image]);
    }
    const device = run("losetup", ["--find", "--show", image]).trim();
    attached.add(device);
    try {
      const { dir, remove } = tempDir(kind);
      try {
        mount(["-t", kind, device], dir);
        try {
          fs.chmodSync(dir, 0o1777);
          return await fn(dir);
        } finally {
          unmount(dir);
        }
      } finally {
        remove();
      }
    } finally {
      attached.delete(device);
      run("losetup", ["-d", device]);
    }
  });
}

/** The folders of a FUSE mount: what the test uses, and the folder it shows. */
export interface FuseFolders {
  /** The mount point: every file the test makes goes through FUSE there. */
  readonly dir: string;
  /**
   * The folder the mount shows, on a tmpfs of its own. The kernel caches a FUSE file's
   * attributes for a second: ask here for what is really on disk (allocated blocks).
   */
  readonly source: string;
}

/**
 * Runs `fn` with a FUSE mount (bindfs) of a fresh folder on a tmpfs of `sizeMiB`: a filesystem
 * without `O_TMPFILE` (and, with the bindfs of Debian, without `fallocate`), the stand-in
 * for NFS and Lustre here. bindfs is unmounted (which ends it), and everything removed.
 *
 * @param sizeMiB Size of the tmpfs under it.
 * @param fn Gets the mount point and the folder it shows.
 * @returns What `fn` returns.
 */
export async function withBindfs<T>(
  sizeMiB: number,
  fn: (folders: FuseFolders) => Promise<T> | T,
): Promise<T> {
  return await withTmpfs({ size: `${sizeMiB}m` }, async (store) => {
    const source = path.join(store, "source");
    fs.mkdirSync(source, { mode: 0o1777 });
    fs.chmodSync(source, 0o1777);
    const { dir, remove } = tempDir("bindfs");
    try {
      // bindfs mounts, then goes on in the background until the mount goes away.
      run("bindfs", [source, dir]);
      mounted.add(dir);
      try {
        return await fn({ dir, source });
      } finally {
        unmount(dir);
      }
    } finally {
      remove();
    }
  });
}

/**
 * Runs `fn` with an overlay mount (what containers write to) whose upper and lower folders are on
 * a tmpfs of `sizeMiB`; always unmounted and removed.
 *
 * @param sizeMiB Size of the tmpfs under it.
 * @param fn Gets the merged folder.
 * @returns What `fn` returns.
 */
export async function withOverlay<T>(
  sizeMiB: number,
  fn: (dir: string) => Promise<T> | T,
): Promise<T> {
  return await withTmpfs({ size: `${sizeMiB}m` }, async (store) => {
    const [lower, upper, work] = ["lower", "upper", "work"].map((name) => path.join(store, name));
    for (const dir of [lower, upper, work]) fs.mkdirSync(dir as string);
    const { dir, remove } = tempDir("overlay");
    try {
      const options = `lowerdir=${lower},upperdir=${upper},workdir=${work}`;
      mount(["-t", "overlay", "-o", options, "overlay"], dir);
      try {
        fs.chmodSync(dir, 0o1777);
        return await fn(dir);
      } finally {
        unmount(dir);
      }
    } finally {
      remove();
    }
  });
}

/**
 * Runs `fn` with a read-only bind mount of `source` on a fresh folder; always unmounted.
 *
 * @param source The folder to show read-only.
 * @param fn Gets the read-only view.
 * @returns What `fn` returns.
 */
export async function withReadOnlyBind<T>(
  source: string,
  fn: (dir: string) => Promise<T> | T,
): Promise<T> {
  const { dir, remove } = tempDir("ro");
  try {
    mount(["--bind", source], dir);
    try {
      run("mount", ["-o", "remount,ro,bind", dir]);
      return await fn(dir);
    } finally {
      unmount(dir);
    }
  } finally {
    remove();
  }
}

/**
 * Fills the filesystem of `dir` with one file, until the filesystem says ENOSPC.
 *
 * @param file Where the filler goes (on the filesystem to fill).
 * @returns The bytes written.
 */
export function fillFilesystem(file: string): number {
  const chunk = Buffer.alloc(1024 * 1024, 0xee);
  const fd = fs.openSync(file, "w");
  let written = 0;
  try {
    for (let size = chunk.length; size >= 1;) {
      try {
        written += fs.writeSync(fd, chunk, 0, size);
      } catch (err) {
        if ((err as { code?: string }).code !== "ENOSPC") throw err;
        size = Math.floor(size / 2);
      }
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return written;
}

/** Free space and inodes of the filesystem of `dir`, as statfs says. */
export interface FreeSpace {
  readonly blockSize: bigint;
  /** Bytes available to an unprivileged user. */
  readonly bytes: bigint;
  readonly inodes: bigint;
}

/**
 * What `statfs` says about the filesystem of `dir`.
 *
 * @param dir A folder on the filesystem.
 * @returns Block size, available bytes and free inodes.
 */
export function freeSpace(dir: string): FreeSpace {
  const s = fs.statfsSync(dir, { bigint: true });
  return { blockSize: s.bsize, bytes: s.bavail * s.bsize, inodes: s.ffree };
}
