// A writer thread that writes (and names) the files of its first batch, then dies instead of
// answering: the run must tell those files apart from files of another run. The writer thread
// module is imported statically, so that it listens before any message arrives.
import "../../src/run/writer_thread.ts";

const scope = globalThis as unknown as { postMessage(message: unknown): void };
scope.postMessage = () => {
  setTimeout(() => {
    throw new Error("this writer thread dies on purpose, its files written");
  }, 0);
};
