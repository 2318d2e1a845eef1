#!/usr/bin/env -S deno run -A
/**
 * The npyalloc command line: the only module that reads `process.argv`,
 * writes to the terminal and sets the exit code.
 *
 * ```sh
 * deno run -A src/cli.ts create data.npy --shape 1000,1000 --dtype float32
 * bun src/cli.ts inspect data.npy
 * ```
 *
 * @module
 */

import process from "node:process";
import { runCli } from "./commands/mod.ts";
import { loadPlatform } from "./platform/mod.ts";
import type { Platform } from "./platform/platform.ts";

let platform: Promise<Platform> | undefined;

const args = process.argv.slice(2);
const debug = args.includes("--debug");
const code = await runCli(args.filter((a) => a !== "--debug"), {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  env: process.env,
  isTTY: process.stderr.isTTY === true,
  platform: () => (platform ??= loadPlatform()),
}, debug);
process.exitCode = code;
