/**
 * Runs NumPy as the test oracle. A machine without python3 or NumPy fails the
 * test that asks: the oracle is never optional.
 */
import { spawnSync } from "node:child_process";

/**
 * Runs a Python script with NumPy imported as `np` and returns what it printed.
 *
 * @param script Python source; `np`, `json` and `sys` are imported before it runs.
 * @param input Text given on standard input (read it with `sys.stdin.read()`).
 * @returns Standard output.
 * @throws {Error} When python3 or NumPy is missing, or the script fails.
 */
export function runPython(script: string, input = ""): string {
  const prelude =
    "import json, sys, warnings\nimport numpy as np\nwarnings.simplefilter('ignore')\n";
  const result = spawnSync("python3", ["-c", prelude + script], {
    input,
    encoding: "utf8",
    maxBuffer: 512 * 1024 * 1024,
  });
  if (result.error) {
    throw new Error(`Cannot run python3 (the NumPy oracle): ${result.error.message}`);
  }
  if (result.status !== 0) throw new Error(`The NumPy oracle failed:\n${result.stderr}`);
  return result.stdout;
}

/**
 * Runs a Python script that prints one JSON document, and parses it.
 *
 * @param script Python source that prints JSON.
 * @param input Text given on standard input.
 * @returns The parsed JSON.
 */
export function runPythonJson<T>(script: string, input = ""): T {
  return JSON.parse(runPython(script, input)) as T;
}

/**
 * Runs a Python script that reads one JSON document on standard input and prints one.
 *
 * @param script Python source: `json.load(sys.stdin)` gives `input`.
 * @param input Any JSON value.
 * @returns The parsed JSON the script printed.
 */
export function pythonJson(script: string, input: unknown): unknown {
  return runPythonJson(script, JSON.stringify(input));
}
