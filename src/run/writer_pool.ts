/**
 * Writes arrays on worker threads, so that the system calls of thousands of
 * small arrays (create, write the header, reserve, link, close: tens of
 * microseconds each, in the kernel) run on several cores at once instead of
 * queueing on the JavaScript thread.
 *
 * How it works: each worker loads an entry module that calls
 * {@linkcode serveWriterThread}: `writer_thread.ts` (or its bundle,
 * `writer_thread.mjs`), or the program's own entry file, which does the same in a
 * worker thread (`cli.ts`: one file serves from the sources, the npm bundle and a
 * compiled binary). A worker serves batches of requests (which folder and name each
 * array goes to, the bytes of its header and fill, sizes, fsync and replace; one
 * message carries many, as a message costs about as much as creating a small
 * file), writing them one after the other with `writeArrayFile` on the worker's
 * own platform and pinned folders, and answers with what each did or its error's
 * code and message, and the folders whose entries changed (the parent syncs them
 * once at the end). The pool is meant for small arrays, which finish in
 * microseconds: it reports no progress within an array. On abort every worker
 * stops the write in progress at its next chunk and refuses the requests it has
 * not started, as the main thread does.
 *
 * @module
 */

import { type ErrorCode, NpyallocError, toNpyallocError } from "../errors.ts";
import { loadPlatform } from "../platform/mod.ts";
import { PatternBuffers } from "./fill_writer.ts";
import { FolderCache } from "./folders.ts";
import {
  type FileRequest,
  type WritableLayout,
  writeArrayFiles,
  type WriteResult,
} from "./write_file.ts";
import { parentLink, startThread, type ThreadHandle } from "./_thread.ts";
import { parseTempName, tempHostTag } from "./_temp_name.ts";
import { lastCleanups } from "./temps.ts";
import type { Platform } from "../platform/platform.ts";
import type { GeneratedContent } from "../generate/layout.ts";
import process from "node:process";

/** Tags the messages of a pool and its workers, so that no other message is taken for one. */
const TAG = "npyalloc-writer";

/** One array for a worker to write: a file request (the folder is left to the caller). */
export type PoolItem = FileRequest;

/**
 * What became of one item: written, failed (with the error `createArrayFile` threw, its code
 * and message kept), or `lost`: not written because no worker was left to write it (a worker
 * that failed may have named its file before failing; writing it again finds it there).
 */
export type PoolOutcome =
  | { readonly kind: "written"; readonly result: WriteResult; readonly durationMs: number }
  | {
    readonly kind: "failed";
    readonly error: NpyallocError;
    readonly durationMs: number;
    /** It was being written by a worker that failed: a file at its path may be that worker's. */
    readonly retried: boolean;
  }
  | { readonly kind: "lost"; readonly why: string; readonly retried: boolean };

/**
 * Several arrays, written one after the other by one worker. Columns rather than one object
 * per array: a message costs what cloning it costs.
 */
interface BatchMessage {
  readonly tag: typeof TAG;
  readonly type: "batch";
  readonly id: number;
  /**
   * Each distinct layout once: arrays of one manifest entry share theirs, and copying typed
   * arrays from thread to thread is what a message costs most.
   */
  readonly layouts: readonly WritableLayout[];
  /** Each distinct folder once. */
  readonly folders: readonly string[];
  /** Per array, its name in its folder. */
  readonly names: readonly string[];
  /** Per array, the target as the user knows it (for messages). */
  readonly labels: readonly string[];
  /** Per array, the index of its layout in `layouts`. */
  readonly layoutOf: Uint16Array;
  /** Per array, the index of its folder in `folders`. */
  readonly folderOf: Uint32Array;
  /** Each distinct generated content once, and per array its index in it plus 1 (0: none). */
  readonly contents: readonly GeneratedContent[];
  readonly contentOf: Uint32Array;
  /** Per array, {@linkcode FSYNC} and {@linkcode REPLACE} bits. */
  readonly flags: Uint8Array;
}

const FSYNC = 1;
const REPLACE = 2;

/** `allocatedBy` as a number in a reply; 0 for an array that failed. */
const ALLOCATED_BY: readonly (WriteResult["allocatedBy"] | null)[] = [
  null,
  "fallocate",
  "zeros",
  "write",
  "truncate",
];

/** A worker's answer to a batch, in columns, one entry per array in order. */
interface BatchReply {
  readonly tag: typeof TAG;
  readonly id: number;
  /** Index in {@linkcode ALLOCATED_BY}; 0 where the array failed. */
  readonly how: Uint8Array;
  readonly written: BigUint64Array;
  readonly reserved: BigUint64Array;
  readonly durations: Float64Array;
  /** The folders whose entries changed in this batch. */
  readonly changed: readonly string[];
  readonly errors: readonly {
    readonly index: number;
    readonly code: ErrorCode;
    readonly message: string;
  }[];
}

/** Items handed to the pool together, and who is told what became of each. */
interface Group {
  readonly items: readonly PoolItem[];
  readonly done: (index: number, outcome: PoolOutcome) => void;
  left: number;
  readonly finished: () => void;
  /** 1 for the items that a worker held when it failed. */
  retried?: Uint8Array;
}

function wasRetried(group: Group, index: number): boolean {
  return group.retried?.[index] === 1;
}

/** Items `start` to `end` (exclusive) of a group. */
interface Slice {
  readonly group: Group;
  start: number;
  readonly end: number;
}

interface Writer {
  readonly thread: ThreadHandle;
  /** Batches sent and not answered, by id. */
  readonly batches: Map<number, Slice>;
  alive: boolean;
  /**
   * Whether the worker listens: it says so once its module has loaded. A message sent before
   * may be lost (Bun drops those that arrive while the module is still loading).
   */
  ready: boolean;
  /** Gives up on a worker that never says it is ready. */
  readyTimer?: ReturnType<typeof setTimeout>;
  /** Resolves the wait of `close` for the worker to let its folders go. */
  closed?: () => void;
}

/** How long `close` waits for a worker to close its folders before it stops the thread. */
const CLOSE_WAIT_MS = 2000;

/** How long a worker may take to load before its arrays go to the others. */
const READY_WAIT_MS = 20_000;

/** Batches a worker holds at once: one being written, one ready to start. */
const BATCHES_IN_FLIGHT = 2;
/** The most arrays in one batch; fewer when the queue is short, so that work is shared. */
const MAX_BATCH = 128;

/** Worker threads that create array files; see the module documentation. */
export class WriterPool {
  readonly #writers: Writer[];
  readonly #onLost: ((why: string) => void) | undefined;
  /** Folders whose entries the workers changed. */
  readonly #changed = new Set<string>();
  /** Slices not yet sent, in order. */
  readonly #queue: Slice[] = [];
  /** Items in `#queue`. */
  #queued = 0;
  #nextId = 0;

  /**
   * Starts `threads` workers. They load in the background: requests queue until they are ready.
   *
   * @param threads How many workers, `>= 1`.
   * @param onLost Told why, when a worker fails (to load, or later).
   * @param module The module the workers load: one that calls {@linkcode serveWriterThread}
   *   in a worker thread. @default {@linkcode WRITER_THREAD}
   * @throws {TypeError} `threads` is not an integer `>= 1`.
   */
  constructor(
    threads: number,
    onLost?: (why: string) => void,
    module: URL = WRITER_THREAD,
  ) {
    if (!Number.isSafeInteger(threads) || threads < 1) {
      throw new TypeError(
        `Cannot start a writer pool: threads must be an integer >= 1, got ${threads}`,
      );
    }
    this.#onLost = onLost;
    this.#writers = Array.from({ length: threads }, () => this.#spawn(module));
    lastCleanups.add(this.#removeTemps);
  }

  /**
   * Removes the temporary files the workers may be writing, for a process about to exit at
   * once: those of this process in the folders of the batches in flight.
   */
  readonly #removeTemps = (platform: Platform): void => {
    const host = tempHostTag();
    for (const folder of this.busyFolders) {
      let names: string[];
      try {
        names = platform.readdir(folder).map((e) => e.name);
      } catch {
        continue;
      }
      for (const name of names) {
        const temp = parseTempName(name);
        if (temp?.host !== host || temp.pid !== process.pid) continue;
        try {
          platform.removeFile(`${folder}/${name}`);
        } catch {
          // Linked and removed meanwhile.
        }
      }
    }
  };

  #spawn(module: URL): Writer {
    const writer: Writer = {
      thread: startThread(module, TAG, {
        message: (data) => this.#answer(writer, data as BatchReply),
        failed: (why) => this.#lost(writer, why),
      }),
      batches: new Map(),
      alive: true,
      ready: false,
    };
    writer.readyTimer = setTimeout(() => {
      if (!writer.ready && writer.alive) {
        this.#lost(writer, `it did not start within ${READY_WAIT_MS / 1000} s`);
        void writer.thread.terminate();
      }
    }, READY_WAIT_MS);
    (writer.readyTimer as { unref?: () => void }).unref?.();
    return writer;
  }

  #answer(
    writer: Writer,
    reply: BatchReply | { tag: typeof TAG; type: "closed" | "ready" },
  ): void {
    if (reply?.tag !== TAG) return;
    if ("type" in reply) {
      if (reply.type === "ready") {
        writer.ready = true;
        clearTimeout(writer.readyTimer);
        this.#pump();
      } else {
        writer.closed?.();
      }
      return;
    }
    const slice = writer.batches.get(reply.id);
    if (slice === undefined) return;
    writer.batches.delete(reply.id);
    for (const folder of reply.changed) this.#changed.add(folder);
    const errors = new Map(reply.errors.map((e) => [e.index, e]));
    for (let i = 0; i < slice.end - slice.start; i++) {
      const index = slice.start + i;
      const allocatedBy = ALLOCATED_BY[reply.how[i] ?? 0] ?? null;
      const durationMs = reply.durations[i] ?? 0;
      if (allocatedBy === null) {
        const e = errors.get(i);
        const error = e === undefined
          ? new NpyallocError("E_IO", "A writer thread gave no answer")
          : new NpyallocError(e.code, e.message);
        const retried = wasRetried(slice.group, index);
        settle(slice.group, index, { kind: "failed", error, durationMs, retried });
        continue;
      }
      settle(slice.group, index, {
        kind: "written",
        result: {
          allocatedBy,
          bytesWritten: reply.written[i] ?? 0n,
          bytesReserved: reply.reserved[i] ?? 0n,
        },
        durationMs,
      });
    }
    this.#pump();
  }

  /** A worker failed: what it held goes to the others, or is lost when none is left. */
  #lost(writer: Writer, why: string): void {
    if (!writer.alive) return;
    writer.alive = false;
    clearTimeout(writer.readyTimer);
    this.#onLost?.(why);
    // An array the worker was writing may have been written; the caller's re-check of a
    // target that exists tells, as for a race with another run.
    const orphans = [...writer.batches.values()];
    writer.batches.clear();
    for (const { group, start, end } of orphans) {
      group.retried ??= new Uint8Array(group.items.length);
      group.retried.fill(1, start, end);
    }
    this.#queue.unshift(...orphans);
    for (const slice of orphans) this.#queued += slice.end - slice.start;
    if (this.alive) {
      this.#pump();
      return;
    }
    for (const { group, start, end } of this.#takeAll()) {
      for (let i = start; i < end; i++) {
        settle(group, i, { kind: "lost", why, retried: wasRetried(group, i) });
      }
    }
  }

  /** The folders whose entries the workers changed so far (the caller syncs them). */
  get changedFolders(): string[] {
    return [...this.#changed];
  }

  /** The folders of the batches the workers hold now: where their temporary files may be. */
  get busyFolders(): string[] {
    const busy = new Set<string>();
    for (const writer of this.#writers) {
      for (const { group, start, end } of writer.batches.values()) {
        for (let i = start; i < end; i++) busy.add((group.items[i] as PoolItem).folder);
      }
    }
    return [...busy];
  }

  /** Whether a worker is still running: when none is, {@linkcode writeEach} reports all `lost`. */
  get alive(): boolean {
    return this.#writers.some((w) => w.alive);
  }

  /**
   * Creates the files of many arrays on the workers, like `writeArrayFile`, in batches, and
   * tells `done` what became of each as it is known.
   *
   * @param items The arrays.
   * @param done Told, once per item, its index in `items` and its outcome.
   * @returns Resolves once every item has had its outcome.
   */
  writeEach(
    items: readonly PoolItem[],
    done: (index: number, outcome: PoolOutcome) => void,
  ): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    return new Promise((finished) => {
      const group: Group = { items, done, left: items.length, finished };
      if (!this.alive) {
        for (let i = 0; i < items.length; i++) {
          settle(group, i, { kind: "lost", why: "no writer thread is running", retried: false });
        }
        return;
      }
      this.#queue.push({ group, start: 0, end: items.length });
      this.#queued += items.length;
      this.#pump();
    });
  }

  /** Sends queued items to the workers that have room for a batch. */
  #pump(): void {
    const live = this.#writers.filter((w) => w.alive && w.ready);
    for (const writer of live) {
      while (writer.batches.size < BATCHES_IN_FLIGHT && this.#queued > 0) {
        const size = Math.min(
          MAX_BATCH,
          Math.ceil(this.#queued / (live.length * BATCHES_IN_FLIGHT)),
        );
        const slice = this.#take(size);
        const id = this.#nextId++;
        writer.batches.set(id, slice);
        writer.thread.post(batchMessage(id, slice));
      }
    }
  }

  /** Up to `size` items from the head of the queue, all of one group. */
  #take(size: number): Slice {
    const head = this.#queue[0] as Slice;
    const end = Math.min(head.end, head.start + size);
    const slice = { group: head.group, start: head.start, end };
    head.start = end;
    if (head.start === head.end) this.#queue.shift();
    this.#queued -= end - slice.start;
    return slice;
  }

  #takeAll(): Slice[] {
    this.#queued = 0;
    return this.#queue.splice(0);
  }

  /** Stops the writes in progress at their next chunk and refuses the ones not started. */
  abort(): void {
    for (const slice of this.#takeAll()) {
      for (let i = slice.start; i < slice.end; i++) {
        settle(slice.group, i, {
          kind: "failed",
          error: new NpyallocError("E_INTERRUPTED", "Interrupted before it started"),
          durationMs: 0,
          retried: wasRetried(slice.group, i),
        });
      }
    }
    for (const w of this.#writers) if (w.alive) w.thread.post({ tag: TAG, type: "abort" });
  }

  /** Stops every worker. Call it once no write is pending. */
  async close(): Promise<void> {
    lastCleanups.delete(this.#removeTemps);
    await Promise.all(this.#writers.map(async (w) => {
      clearTimeout(w.readyTimer);
      if (w.alive && w.ready) {
        // The folders a worker opened are descriptors of the whole process: they outlive the
        // thread unless it closes them.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, CLOSE_WAIT_MS);
          w.closed = () => {
            clearTimeout(timer);
            resolve();
          };
          w.thread.post({ tag: TAG, type: "close" });
        });
      }
      w.alive = false;
      await w.thread.terminate();
    }));
  }
}

function settle(group: Group, index: number, outcome: PoolOutcome): void {
  group.done(index, outcome);
  if (--group.left === 0) group.finished();
}

/** The message that carries `slice`: only what writing needs crosses the thread boundary. */
function batchMessage(id: number, slice: Slice): BatchMessage {
  const count = slice.end - slice.start;
  const layouts: WritableLayout[] = [];
  const indexOf = new Map<WritableLayout, number>();
  const folders: string[] = [];
  const folderIndex = new Map<string, number>();
  const names = new Array<string>(count);
  const labels = new Array<string>(count);
  const layoutOf = new Uint16Array(count);
  const folderOf = new Uint32Array(count);
  const contents: GeneratedContent[] = [];
  const contentIndex = new Map<GeneratedContent, number>();
  const contentOf = new Uint32Array(count);
  const flags = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const item = slice.group.items[slice.start + i] as PoolItem;
    const { layout } = item;
    let index = indexOf.get(layout);
    if (index === undefined) {
      index = layouts.push({
        // Copies: a view would take its whole underlying buffer across.
        header: layout.header.slice(),
        allocation: layout.allocation,
        dataBytes: layout.dataBytes,
        element: layout.element.slice(),
        dtype: { itemsize: layout.dtype.itemsize },
      }) - 1;
      indexOf.set(layout, index);
    }
    let folder = folderIndex.get(item.folder);
    if (folder === undefined) {
      folder = folders.push(item.folder) - 1;
      folderIndex.set(item.folder, folder);
    }
    if (item.generated !== null) {
      let content = contentIndex.get(item.generated);
      if (content === undefined) {
        content = contents.push(item.generated) - 1;
        contentIndex.set(item.generated, content);
      }
      contentOf[i] = content + 1;
    }
    names[i] = item.name;
    labels[i] = item.label;
    layoutOf[i] = index;
    folderOf[i] = folder;
    flags[i] = (item.fsync ? FSYNC : 0) | (item.replace ? REPLACE : 0);
  }
  return {
    tag: TAG,
    type: "batch",
    id,
    layouts,
    folders,
    names,
    labels,
    layoutOf,
    folderOf,
    contents,
    contentOf,
    flags,
  };
}

/**
 * The module writer threads load by default: `writer_thread.ts` beside this file in the
 * sources, `writer_thread.mjs` beside the bundle this code is built into.
 */
export const WRITER_THREAD: URL = new URL(
  import.meta.url.endsWith(".ts") ? "./writer_thread.ts" : "./writer_thread.mjs",
  import.meta.url,
);

/**
 * Serves the requests of a pool, when this code runs in a worker thread a pool started (it
 * does nothing elsewhere): the whole life of a writer thread. Call it from the module the
 * pool's workers load.
 */
export function serveWriterThread(): void {
  const link = parentLink();
  if (link === null) return;
  // Loaded (and its libc bound) while the parent still checks the plan. A failure here is
  // answered array by array, where `platform` is awaited; the warm-up itself never throws.
  const platform = loadPlatform();
  platform.then((p) => p.linkUnnamed).catch(() => {});
  const controller = new AbortController();
  let context: { folders: FolderCache; buffers: PatternBuffers } | undefined;
  const write = async (message: BatchMessage) => {
    const count = message.names.length;
    const how = new Uint8Array(count);
    const written = new BigUint64Array(count);
    const reserved = new BigUint64Array(count);
    const durations = new Float64Array(count);
    const errors: { index: number; code: ErrorCode; message: string }[] = [];
    let folders: FolderCache | undefined;
    const requests: FileRequest[] = [];
    /** Per request, its index in the batch. */
    const at: number[] = [];
    for (let i = 0; i < count; i++) {
      const layout = message.layouts[message.layoutOf[i] as number];
      const folder = message.folders[message.folderOf[i] as number];
      if (layout === undefined || folder === undefined) {
        errors.push({ index: i, code: "E_IO", message: "A batch without its layout or folder" });
        continue;
      }
      const flags = message.flags[i] as number;
      requests.push({
        folder,
        name: message.names[i] as string,
        label: message.labels[i] as string,
        layout,
        generated: message.contents[(message.contentOf[i] as number) - 1] ?? null,
        fsync: (flags & FSYNC) !== 0,
        replace: (flags & REPLACE) !== 0,
      });
      at.push(i);
    }
    try {
      const p = await platform;
      context ??= { folders: new FolderCache(p), buffers: new PatternBuffers(1) };
      folders = context.folders;
      // One group commit per batch: all written, all fsynced, then all named.
      const outcomes = await writeArrayFiles(requests, {
        platform: p,
        folders: context.folders,
        buffers: context.buffers,
        signal: controller.signal,
      });
      outcomes.forEach((outcome, k) => {
        const i = at[k] as number;
        durations[i] = outcome.durationMs;
        if (outcome.ok) {
          how[i] = ALLOCATED_BY.indexOf(outcome.result.allocatedBy);
          written[i] = outcome.result.bytesWritten;
          reserved[i] = outcome.result.bytesReserved;
        } else {
          errors.push({ index: i, code: outcome.error.code, message: outcome.error.message });
        }
      });
    } catch (err) {
      // The platform could not load: every array of the batch fails with its error.
      const error = toNpyallocError(err);
      for (const i of at) errors.push({ index: i, code: error.code, message: error.message });
    }
    const changed = folders?.takeChanged() ?? [];
    const reply: BatchReply = {
      tag: TAG,
      id: message.id,
      how,
      written,
      reserved,
      durations,
      changed,
      errors,
    };
    link.post(reply);
  };
  // Batches are written one after the other, in the order they came.
  let done = Promise.resolve();
  link.onMessage((data) => {
    const message = data as BatchMessage | { tag?: unknown; type: "abort" | "close" } | null;
    if (message?.tag !== TAG) return;
    if (message.type === "abort") controller.abort(new Error("Interrupted"));
    else if (message.type === "close") {
      done = done.then(() => {
        context?.folders.close();
        link.post({ tag: TAG, type: "closed" });
      });
    } else done = done.then(() => write(message as BatchMessage));
  });
  link.post({ tag: TAG, type: "ready" });
}
