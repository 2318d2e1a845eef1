/**
 * Writes arrays on worker threads, so that the system calls of thousands of
 * small arrays (create, write the header, reserve, link, close: tens of
 * microseconds each, in the kernel) run on several cores at once instead of
 * queueing on the JavaScript thread.
 *
 * How it works: each worker loads this very module (`import.meta.url`), which
 * is the same file from the sources, from the npm bundle and from a compiled
 * binary, and so needs no separate worker file. In a worker started by a pool
 * the module serves batches of requests (where each array goes, the bytes of
 * its header and fill, sizes, fsync and replace; one message carries many, as
 * a message costs about as much as creating a small file), writing them one
 * after the other with `createArrayFile` on the worker's own platform and
 * answering with what each did or its error's code and message. The pool is
 * meant for small arrays, which finish in microseconds: it reports no
 * progress within an array. On abort every worker stops the write in
 * progress at its next chunk and refuses the requests it has not started, as
 * the main thread does.
 *
 * @module
 */

import { type ErrorCode, NpyallocError, toNpyallocError } from "../errors.ts";
import { loadPlatform } from "../platform/mod.ts";
import { createArrayFile, type CreateResult, type WritableLayout } from "./write_file.ts";
import { parentLink, startThread, type ThreadHandle } from "./_thread.ts";

/** Tags the messages of a pool and its workers, so that no other message is taken for one. */
const TAG = "npyalloc-writer";

/** What a worker needs to write one array. */
interface WriteRequest {
  readonly target: string;
  /** Index of the layout in the batch's `layouts`. */
  readonly layout: number;
  readonly fsync: boolean;
  readonly replace: boolean;
}

/** Several requests, written one after the other by one worker. */
interface BatchMessage {
  readonly tag: typeof TAG;
  readonly type: "batch";
  readonly id: number;
  /**
   * Each distinct layout once: arrays of one manifest entry share theirs, and copying typed
   * arrays from thread to thread is what a message costs most.
   */
  readonly layouts: readonly WritableLayout[];
  readonly requests: readonly WriteRequest[];
}

/** What a worker did with one request. */
type WriteReply =
  | { readonly result: CreateResult }
  | { readonly error: { readonly code: ErrorCode; readonly message: string } };

/** A worker's answer to a batch, one reply per request in order. */
interface BatchReply {
  readonly tag: typeof TAG;
  readonly id: number;
  readonly replies: readonly WriteReply[];
}

interface Queued {
  readonly target: string;
  readonly layout: WritableLayout;
  readonly options: PoolWriteOptions;
  readonly resolve: (result: CreateResult) => void;
  readonly reject: (err: NpyallocError) => void;
}

interface Writer {
  readonly thread: ThreadHandle;
  /** Batches sent and not answered, by id. */
  readonly batches: Map<number, readonly Queued[]>;
  alive: boolean;
}

/** Batches a worker holds at once: one being written, one ready to start. */
const BATCHES_IN_FLIGHT = 2;
/** The most requests in one batch; fewer when the queue is short, so that work is shared. */
const MAX_BATCH = 128;

/** Options of {@linkcode WriterPool.write}. */
export interface PoolWriteOptions {
  /** fsync the file (the folder is left to the caller). */
  readonly fsync: boolean;
  /** Replace an existing file at the path. */
  readonly replace: boolean;
}

/** Worker threads that create array files; see the module documentation. */
export class WriterPool {
  readonly #writers: Writer[];
  readonly #onLost: ((why: string) => void) | undefined;
  readonly #queue: Queued[] = [];
  #nextId = 0;
  #pumpScheduled = false;

  /**
   * Starts `threads` workers. They load in the background: requests queue until they are ready.
   *
   * @param threads How many workers, `>= 1`.
   * @param onLost Told why, when a worker fails (to load, or later).
   * @throws {TypeError} `threads` is not an integer `>= 1`.
   */
  constructor(threads: number, onLost?: (why: string) => void) {
    if (!Number.isSafeInteger(threads) || threads < 1) {
      throw new TypeError(
        `Cannot start a writer pool: threads must be an integer >= 1, got ${threads}`,
      );
    }
    this.#onLost = onLost;
    this.#writers = Array.from({ length: threads }, () => this.#spawn());
  }

  #spawn(): Writer {
    const writer: Writer = {
      thread: startThread(new URL(import.meta.url), TAG, {
        message: (data) => this.#answer(writer, data as BatchReply),
        failed: (why) => this.#lost(writer, why),
      }),
      batches: new Map(),
      alive: true,
    };
    return writer;
  }

  #answer(writer: Writer, reply: BatchReply): void {
    if (reply?.tag !== TAG) return;
    const batch = writer.batches.get(reply.id);
    if (batch === undefined) return;
    writer.batches.delete(reply.id);
    batch.forEach((queued, i) => {
      const answer = reply.replies[i];
      if (answer === undefined) {
        queued.reject(new NpyallocError("E_IO", "A writer thread gave no answer"));
      } else if ("result" in answer) {
        queued.resolve(answer.result);
      } else {
        queued.reject(new NpyallocError(answer.error.code, answer.error.message));
      }
    });
    this.#pump();
  }

  /** A worker failed: what it held goes to the others, or fails when none is left. */
  #lost(writer: Writer, why: string): void {
    writer.alive = false;
    this.#onLost?.(why);
    // A request the worker was writing may have been written; the caller's re-check of a
    // target that exists tells, as for a race with another run.
    const orphans = [...writer.batches.values()].flat();
    writer.batches.clear();
    if (this.alive) {
      this.#queue.unshift(...orphans);
      this.#pump();
      return;
    }
    for (const q of [...orphans, ...this.#queue.splice(0)]) {
      q.reject(new NpyallocError("E_IO", `A writer thread stopped: ${why}`));
    }
  }

  /** Whether a worker is still running: when none is, {@linkcode write} rejects. */
  get alive(): boolean {
    return this.#writers.some((w) => w.alive);
  }

  /**
   * Creates the file of `layout` at `target` on a worker, like `createArrayFile` with
   * `syncFolder: false`. Requests made together travel in batches.
   *
   * @param target Where the file goes.
   * @param layout What goes in it.
   * @param options fsync and replace.
   * @returns What was done.
   * @throws {NpyallocError} What `createArrayFile` throws, with its code and message; `E_IO`
   *   when no worker is running.
   */
  write(target: string, layout: WritableLayout, options: PoolWriteOptions): Promise<CreateResult> {
    if (!this.alive) {
      return Promise.reject(new NpyallocError("E_IO", "No writer thread is running"));
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ target, layout, options, resolve, reject });
      // Requests made in one go (a whole plan starts at once) are batched before any is sent.
      if (!this.#pumpScheduled) {
        this.#pumpScheduled = true;
        setTimeout(() => {
          this.#pumpScheduled = false;
          this.#pump();
        }, 0);
      }
    });
  }

  /** Sends queued requests to the workers that have room for a batch. */
  #pump(): void {
    const live = this.#writers.filter((w) => w.alive);
    for (const writer of live) {
      while (writer.batches.size < BATCHES_IN_FLIGHT && this.#queue.length > 0) {
        const size = Math.min(
          MAX_BATCH,
          Math.ceil(this.#queue.length / (live.length * BATCHES_IN_FLIGHT)),
        );
        const batch = this.#queue.splice(0, size);
        const id = this.#nextId++;
        writer.batches.set(id, batch);
        writer.thread.post(batchMessage(id, batch));
      }
    }
  }

  /** Stops the writes in progress at their next chunk and refuses the ones not started. */
  abort(): void {
    for (const q of this.#queue.splice(0)) {
      q.reject(new NpyallocError("E_INTERRUPTED", "Interrupted before it started"));
    }
    for (const w of this.#writers) if (w.alive) w.thread.post({ tag: TAG, type: "abort" });
  }

  /** Stops every worker. Call it once no write is pending. */
  async close(): Promise<void> {
    await Promise.all(this.#writers.map((w) => {
      w.alive = false;
      return w.thread.terminate();
    }));
  }
}

/** The message that carries `batch`: only what writing needs crosses the thread boundary. */
function batchMessage(id: number, batch: readonly Queued[]): BatchMessage {
  const layouts: WritableLayout[] = [];
  const indexOf = new Map<WritableLayout, number>();
  const requests = batch.map(({ target, layout, options }): WriteRequest => {
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
    return { target, layout: index, fsync: options.fsync, replace: options.replace };
  });
  return { tag: TAG, type: "batch", id, layouts, requests };
}

/** The worker's side: serves batches until the pool terminates the thread. */
function serve(): void {
  const link = parentLink();
  if (link === null) return;
  // Loaded (and its libc bound) while the parent still checks the plan. A failure here is
  // answered request by request, where `platform` is awaited; the warm-up itself never throws.
  const platform = loadPlatform();
  platform.then((p) => p.fileLinker?.()).catch(() => {});
  const controller = new AbortController();
  const write = async (message: BatchMessage) => {
    const replies: WriteReply[] = [];
    for (const request of message.requests) {
      try {
        if (controller.signal.aborted) {
          throw new NpyallocError("E_INTERRUPTED", "Interrupted before it started");
        }
        const layout = message.layouts[request.layout];
        if (layout === undefined) throw new NpyallocError("E_IO", "A batch without its layout");
        const result = await createArrayFile(request.target, layout, await platform, {
          fsync: request.fsync,
          syncFolder: false,
          replace: request.replace,
          signal: controller.signal,
        });
        replies.push({ result });
      } catch (err) {
        const error = toNpyallocError(err);
        replies.push({ error: { code: error.code, message: error.message } });
      }
    }
    const reply: BatchReply = { tag: TAG, id: message.id, replies };
    link.post(reply);
  };
  // Batches are written one after the other, in the order they came.
  let done = Promise.resolve();
  link.onMessage((data) => {
    const message = data as BatchMessage | { tag?: unknown; type: "abort" } | null;
    if (message?.tag !== TAG) return;
    if (message.type === "abort") controller.abort(new Error("Interrupted"));
    else done = done.then(() => write(message));
  });
}

serve();
