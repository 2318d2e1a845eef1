/**
 * The entry module of a writer thread: it serves the pool that started it (`writer_pool.ts`).
 * Loading it anywhere but in such a thread does nothing.
 *
 * @module
 */

import { serveWriterThread } from "./writer_pool.ts";

serveWriterThread();
