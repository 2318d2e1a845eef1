/**
 * One way to start a worker thread and talk to it on Deno, Bun and Node.js.
 *
 * Deno and Bun have the web's `Worker`, which starts in a fraction of the
 * time their `node:worker_threads` takes (about 35 against 105 ms on Deno);
 * Node.js 20 has only `node:worker_threads`. A thread loads a module that
 * listens with {@linkcode parentLink} and answers only the messages meant for
 * it, so the same module can be loaded by threads of other kinds unharmed.
 *
 * @module
 */

import { isMainThread, parentPort, Worker as NodeWorker } from "node:worker_threads";

/** The parent's end of a thread. */
export interface ThreadHandle {
  post(message: unknown): void;
  /** Stops the thread at once. */
  terminate(): Promise<void>;
}

/** What a thread started by {@linkcode startThread} tells its parent. */
export interface ThreadEvents {
  message(data: unknown): void;
  /** The thread failed to load, threw, or exited. Called at most once. */
  failed(why: string): void;
}

/** The web's `Worker`, as far as it is used here. */
interface WebWorker {
  postMessage(message: unknown): void;
  terminate(): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: { message?: string; preventDefault(): void }) => void) | null;
}
type WebWorkerClass = new (url: URL, options: { type: "module"; name: string }) => WebWorker;

function webWorkerClass(): WebWorkerClass | undefined {
  const ctor = (globalThis as { Worker?: unknown }).Worker;
  return typeof ctor === "function" ? ctor as WebWorkerClass : undefined;
}

/**
 * Starts a thread running the module at `url`.
 *
 * @param url The module the thread loads.
 * @param name The thread's name, for debuggers.
 * @param events Receives the thread's messages and its failure.
 * @returns The parent's end.
 */
export function startThread(url: URL, name: string, events: ThreadEvents): ThreadHandle {
  let failed = false;
  const fail = (why: string) => {
    if (failed) return;
    failed = true;
    events.failed(why);
  };
  const Web = webWorkerClass();
  if (Web !== undefined) {
    const worker = new Web(url, { type: "module", name });
    worker.onmessage = (event) => events.message(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      fail(event.message ?? "the thread failed");
    };
    return {
      post: (message) => worker.postMessage(message),
      terminate: () => {
        failed = true;
        worker.terminate();
        return Promise.resolve();
      },
    };
  }
  const worker = new NodeWorker(url, { name });
  worker.on("message", (data: unknown) => events.message(data));
  worker.on("error", (err: unknown) => fail(err instanceof Error ? err.message : String(err)));
  worker.on("exit", (code: number) => fail(`it exited with code ${code}`));
  return {
    post: (message) => worker.postMessage(message),
    terminate: async () => {
      failed = true;
      await worker.terminate();
    },
  };
}

/** The thread's end of the link to its parent. */
export interface ThreadPort {
  post(message: unknown): void;
  /** Adds a listener; others (the thread may be someone else's) keep theirs. */
  onMessage(handler: (data: unknown) => void): void;
}

/** The global scope of a web worker, as far as it is used here. */
interface WebWorkerScope {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
}

/**
 * The link to the parent when this code runs in a worker thread.
 *
 * @returns The thread's end, or `null` on the main thread.
 */
export function parentLink(): ThreadPort | null {
  if (!inWorkerThread()) return null;
  // A thread is a web worker exactly when its parent had the web's Worker: then so does it.
  if (webWorkerClass() !== undefined) {
    const scope = globalThis as unknown as WebWorkerScope;
    return {
      post: (message) => scope.postMessage(message),
      onMessage: (handler) => scope.addEventListener("message", (event) => handler(event.data)),
    };
  }
  const port = parentPort;
  if (port === null) return null;
  return {
    post: (message) => port.postMessage(message),
    onMessage: (handler) => port.on("message", handler),
  };
}

/**
 * Whether this code runs in a worker thread (web or `node:worker_threads`): an entry point
 * that a thread also loads checks it so that it does nothing there.
 *
 * @returns `true` in a worker thread.
 */
export function inWorkerThread(): boolean {
  // Bun defines a web worker's globals late, but tells node:worker_threads at once.
  return !isMainThread ||
    typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === "function";
}
