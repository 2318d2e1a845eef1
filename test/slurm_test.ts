/**
 * A real Slurm cluster on this machine: munged, slurmctld and slurmd started from a generated
 * one-node configuration in a throwaway folder (own munge key and socket, own ports, own state:
 * nothing global is touched), then the scale-out flow as a user runs it:
 *
 * - examples/slurm/submit.sh: `npyalloc plan`, `sbatch --array=0-3` of npyalloc.sbatch running
 *   `npyalloc run --shard auto`, and a merge job; waited for with SBATCH_WAIT;
 * - `srun -n 2 npyalloc run --shard auto`, then `npyalloc report merge`;
 *
 * each checked with NumPy: every array of the manifest exists exactly once, complete, with its
 * shape, dtype and fill. Every daemon is stopped and every file removed, also when it fails.
 *
 * Needs root and Debian's slurm-wlm and munge (`.ci/run` installs them). Without them the test
 * fails when CI=true and is skipped, saying why, otherwise.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { Report } from "../src/report/report.ts";
import { runPython } from "./_support/numpy.ts";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, "..");
const CLI = path.join(REPO, "src", "cli.ts");
const SUBMIT = path.join(REPO, "examples", "slurm", "submit.sh");

const COMMANDS = [
  "munged",
  "slurmctld",
  "slurmd",
  "sbatch",
  "srun",
  "sinfo",
  "squeue",
  "scancel",
] as const;
type Command = (typeof COMMANDS)[number];

/** Where a command is: PATH first, then the sbin folders a non-login PATH may lack. */
function which(name: string): string | null {
  const dirs = [
    ...(process.env.PATH ?? "").split(path.delimiter),
    "/usr/sbin",
    "/sbin",
    "/usr/local/sbin",
  ];
  for (const dir of dirs) {
    if (dir === "") continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return null;
}

/** The commands, or why the test cannot run. */
function prerequisites(): { bin: Record<Command, string> } | { missing: string } {
  const bin: Partial<Record<Command, string>> = {};
  const missing: string[] = [];
  for (const name of COMMANDS) {
    const found = which(name);
    if (found === null) missing.push(name);
    else bin[name] = found;
  }
  if (missing.length > 0) {
    return {
      missing: `${missing.join(", ")} not found: install Debian's slurm-wlm and munge ` +
        `(apt-get install -y --no-install-recommends slurm-wlm munge), as .ci/run does`,
    };
  }
  if (process.getuid?.() !== 0) {
    return { missing: "not root: slurmd and munged of the test cluster need root" };
  }
  return { bin: bin as Record<Command, string> };
}

/** The npyalloc command line for jobs: the runtime running this test, on the sources. */
function npyallocCommand(): string {
  return "Deno" in globalThis ? `${process.execPath} run -A ${CLI}` : `${process.execPath} ${CLI}`;
}

/** A free TCP port on the loopback interface. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until `check` is true, or fails with `what` after `ms`. */
async function waitFor(what: string, ms: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await sleep(200);
  }
}

/** Runs a command to completion without blocking the event loop. */
function run(
  file: string,
  args: string[],
  options: { cwd: string; env: Record<string, string>; timeoutMs: number },
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk) => (stdout += chunk));
    child.stderr!.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** A one-node cluster in a folder of its own. */
class Cluster {
  readonly dir: string;
  readonly work: string;
  readonly env: Record<string, string>;
  readonly #bin: Record<Command, string>;
  readonly #daemons: { name: string; child: ChildProcess }[] = [];
  readonly #onExit = () => {
    this.#killNow();
    fs.rmSync(this.dir, { recursive: true, force: true });
  };

  constructor(bin: Record<Command, string>) {
    this.#bin = bin;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "npyalloc-slurm-"));
    // munged wants everyone to be able to reach its socket's folder.
    fs.chmodSync(this.dir, 0o755);
    this.work = path.join(this.dir, "work");
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) {
      // A test run inside a Slurm job must not leak that job's variables into this cluster.
      if (value !== undefined && !key.startsWith("SLURM_") && !key.startsWith("SBATCH_")) {
        env[key] = value;
      }
    }
    const sbin = path.dirname(bin.slurmctld);
    env.PATH = [path.dirname(bin.sbatch), sbin, env.PATH ?? ""].join(path.delimiter);
    env.SLURM_CONF = path.join(this.dir, "slurm.conf");
    env.NPYALLOC = npyallocCommand();
    env.NO_COLOR = "1";
    this.env = env;
    // If the test process exits before cleaning up, neither the daemons nor the folder stay.
    process.on("exit", this.#onExit);
  }

  /** Writes the configuration and starts munged, slurmctld and slurmd. */
  async start(): Promise<void> {
    const d = this.dir;
    const host = os.hostname().split(".")[0]!;
    for (const sub of ["munge", "run", "state", "spool", "log", "work"]) {
      fs.mkdirSync(path.join(d, sub), { mode: sub === "munge" ? 0o700 : 0o755 });
    }
    fs.chmodSync(path.join(d, "run"), 0o755);
    const key = path.join(d, "munge", "munge.key");
    fs.writeFileSync(key, randomBytes(1024), { mode: 0o600 });
    const socket = path.join(d, "run", "munge.socket");
    const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
    fs.writeFileSync(path.join(d, "plugstack.conf"), "");
    fs.writeFileSync(
      this.env.SLURM_CONF!,
      [
        "# A one-node test cluster made by test/slurm_test.ts; removed when the test ends.",
        "ClusterName=npyalloctest",
        `SlurmctldHost=${host}(127.0.0.1)`,
        `SlurmctldPort=${ctldPort}`,
        `SlurmdPort=${slurmdPort}`,
        "SlurmUser=root",
        "SlurmdUser=root",
        "AuthType=auth/munge",
        "CredType=cred/munge",
        `AuthInfo=socket=${socket}`,
        `StateSaveLocation=${d}/state`,
        `SlurmdSpoolDir=${d}/spool`,
        `SlurmctldPidFile=${d}/run/slurmctld.pid`,
        `SlurmdPidFile=${d}/run/slurmd.pid`,
        `SlurmctldLogFile=${d}/log/slurmctld.log`,
        `SlurmdLogFile=${d}/log/slurmd.log`,
        `PlugStackConfig=${d}/plugstack.conf`,
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_CPU",
        "SchedulerType=sched/builtin",
        "MpiDefault=none",
        "JobCompType=jobcomp/none",
        "AccountingStorageType=accounting_storage/none",
        "JobAcctGatherType=jobacct_gather/none",
        "MailProg=/bin/true",
        "ReturnToService=2",
        "SlurmctldTimeout=30",
        "SlurmdTimeout=30",
        "InactiveLimit=0",
        "KillWait=5",
        "MinJobAge=300",
        // 8 CPUs on any machine, so that 4 array tasks of 2 CPUs (npyalloc.sbatch) run at once.
        "SlurmdParameters=config_overrides",
        `NodeName=${host} NodeAddr=127.0.0.1 CPUs=8 RealMemory=1024 State=UNKNOWN`,
        "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
        "",
      ].join("\n"),
    );

    this.#daemon("munged", this.#bin.munged, [
      "--foreground",
      `--socket=${socket}`,
      `--key-file=${key}`,
      `--log-file=${d}/munge/munged.log`,
      `--pid-file=${d}/run/munged.pid`,
      `--seed-file=${d}/munge/munged.seed`,
    ]);
    await waitFor("munged's socket", 15_000, () => fs.existsSync(socket));
    this.#daemon("slurmctld", this.#bin.slurmctld, ["-D", "-f", this.env.SLURM_CONF!]);
    this.#daemon("slurmd", this.#bin.slurmd, ["-D", "-f", this.env.SLURM_CONF!, "-N", host]);
    await waitFor("the node to be idle", 45_000, () => {
      const info = spawnSync(this.#bin.sinfo, ["-h", "-o", "%T"], {
        env: this.env,
        encoding: "utf8",
      });
      return info.status === 0 && info.stdout.trim() === "idle";
    });
  }

  #daemon(name: string, file: string, args: string[]): void {
    const child = spawn(file, args, { env: this.env, stdio: "ignore" });
    child.on("error", () => {}); // reported through the readiness checks and the logs
    this.#daemons.push({ name, child });
    child.on("exit", (code, signal) => {
      if (!this.#stopping) this.#exits.push(`${name} exited (${code ?? signal})`);
    });
  }

  #stopping = false;
  readonly #exits: string[] = [];

  /** Daemon logs and job outputs, for failure messages. */
  diagnostics(): string {
    const files = [
      path.join(this.dir, "log", "slurmctld.log"),
      path.join(this.dir, "log", "slurmd.log"),
      path.join(this.dir, "munge", "munged.log"),
      ...(fs.existsSync(this.work)
        ? (fs.readdirSync(this.work, { recursive: true }) as string[])
          .filter((f) => f.endsWith(".out"))
          .map((f) => path.join(this.work, f))
        : []),
    ];
    const tails = files.filter((f) => fs.existsSync(f)).map((f) => {
      const lines = fs.readFileSync(f, "utf8").trimEnd().split("\n");
      return `--- ${path.relative(this.dir, f)}\n${lines.slice(-15).join("\n")}`;
    });
    return [...this.#exits, ...tails].join("\n");
  }

  /** Cancels every job, stops every daemon (by pid) and removes the folder. */
  async stop(): Promise<void> {
    this.#stopping = true;
    try {
      await this.#stopDaemons();
    } finally {
      this.#killNow();
      await this.#removeFolder();
      process.off("exit", this.#onExit);
    }
  }

  async #stopDaemons(): Promise<void> {
    if (this.#daemons.some((d) => d.name === "slurmctld")) {
      spawnSync(this.#bin.scancel, ["--user=root"], { env: this.env, timeout: 10_000 });
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const queue = spawnSync(this.#bin.squeue, ["-h"], {
          env: this.env,
          encoding: "utf8",
          timeout: 10_000,
        });
        if (queue.status !== 0 || queue.stdout.trim() === "") break;
        await sleep(300);
      }
    }
    // slurmd and slurmctld before munged, which they need to say goodbye.
    for (const { child } of [...this.#daemons].reverse()) {
      const pid = child.pid;
      if (pid === undefined || !isAlive(pid) || child.exitCode !== null) continue;
      child.kill("SIGTERM");
      const deadline = Date.now() + 10_000;
      while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) {
        await sleep(100);
      }
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  }

  /** Removes the cluster's folder; a job step's slurmstepd may still be tidying it a moment. */
  async #removeFolder(): Promise<void> {
    for (let attempt = 1;; attempt++) {
      try {
        fs.rmSync(this.dir, { recursive: true, force: true });
        return;
      } catch (err) {
        if (attempt >= 40) throw err;
        await sleep(250);
      }
    }
  }

  /** Last resort, synchronous: SIGKILL every daemon still running. */
  #killNow(): void {
    for (const { child } of this.#daemons) {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
  }

  /** Runs a Slurm client command (or any command) in the work folder with the cluster's env. */
  run(
    file: string,
    args: string[],
    env: Record<string, string> = {},
    timeoutMs = 90_000,
  ) {
    return run(file, args, { cwd: this.work, env: { ...this.env, ...env }, timeoutMs });
  }

  bin(name: Command): string {
    return this.#bin[name];
  }
}

/** 336 arrays of three kinds, some written with a fill, some reserved, in three folders. */
const MANIFEST = `version: 1
root: "\${ROOT:-data}"
arrays:
  - path: images/part-{i:03d}.npy
    foreach: { i: { range: [0, 160] } }
    shape: [32, 32, "{i}"]
    dtype: uint8
  - path: labels/part-{i:03d}.npy
    foreach: { i: { range: [0, 160] } }
    shape: ["{i}"]
    dtype: int64
    fill: -1
  - path: features/f-{i:02d}.npy
    foreach: { i: { range: [0, 16] } }
    shape: [256, 1024]
    dtype: float32
    fill: 0.25
`;

/** Checks with NumPy that the data folder holds exactly the merged report's arrays, complete. */
function checkWithNumpy(root: string, merged: string): string {
  return runPython(`
import os
root = ${JSON.stringify(root)}
report = json.load(open(${JSON.stringify(merged)}))
paths = [a["path"] for a in report["arrays"]]
assert len(paths) == 336 and len(set(paths)) == 336, len(paths)
on_disk = sorted(
    os.path.relpath(os.path.join(d, f), root)
    for d, _, files in os.walk(root) for f in files
)
assert on_disk == sorted(paths), sorted(set(on_disk) ^ set(paths))[:5]
for entry in report["arrays"]:
    file = os.path.join(root, entry["path"])
    assert os.path.getsize(file) == entry["file_bytes"], entry
    a = np.load(file, mmap_mode="r")
    assert list(a.shape) == entry["shape"] and a.dtype.str == entry["descr"], entry
    if entry["path"].startswith("labels/"):
        assert (a == -1).all(), entry["path"]
    elif entry["path"].startswith("features/"):
        assert (a == np.float32(0.25)).all(), entry["path"]
    else:
        assert not a.any(), entry["path"]
print("ok", len(paths))
`).trim();
}

const setup = prerequisites();

if ("missing" in setup && process.env.CI !== "true") {
  test(`slurm: skipped because ${setup.missing} (CI=true makes this a failure)`, {
    skip: setup.missing,
  }, () => {});
} else {
  test("slurm: a job array and srun tasks create every array exactly once", {
    timeout: 170_000,
  }, async () => {
    if ("missing" in setup) assert.fail(`CI=true, but the Slurm test cannot run: ${setup.missing}`);
    const cluster = new Cluster(setup.bin);
    const started = Date.now();
    try {
      try {
        await cluster.start();
      } catch (err) {
        assert.fail(`The test cluster did not start: ${err}\n${cluster.diagnostics()}`);
      }
      fs.writeFileSync(path.join(cluster.work, "manifest.yaml"), MANIFEST);

      // 1. The example flow: plan, sbatch --array=0-3 of npyalloc.sbatch, merge job; waited for.
      const submit = await cluster.run("bash", [SUBMIT, "manifest.yaml", "4"], {
        SBATCH_WAIT: "1",
      });
      assert.equal(
        submit.status,
        0,
        `submit.sh failed:\n${submit.stdout}${submit.stderr}\n${cluster.diagnostics()}`,
      );
      assert.match(submit.stderr, /plan: 336 of 336 arrays to write/);
      const job = /submitted job array (\d+): 4 tasks/.exec(submit.stdout)?.[1];
      assert.ok(job, submit.stdout);
      const reports = path.join(cluster.work, "npyalloc-reports", job);
      const shardReports = [0, 1, 2, 3].map((k) =>
        JSON.parse(fs.readFileSync(path.join(reports, `shard-${k}-of-4.json`), "utf8")) as Report
      );
      for (const [k, report] of shardReports.entries()) {
        assert.equal(report.ok, true, `shard ${k}: ${JSON.stringify(report.error)}`);
        assert.deepEqual(
          [report.shard?.index, report.shard?.count, report.shard?.source],
          [k, 4, "SLURM_ARRAY_TASK_ID"],
        );
        assert.ok((report.shard?.imbalance ?? 9) < 1.05, `imbalance ${report.shard?.imbalance}`);
      }
      const merged = path.join(reports, "npyalloc-report.json");
      const report = JSON.parse(fs.readFileSync(merged, "utf8")) as Report;
      assert.equal(report.ok, true, JSON.stringify(report.error));
      assert.equal(report.shard, null);
      assert.equal(report.summary.created, 336);
      assert.equal(checkWithNumpy(path.join(cluster.work, "data"), merged), "ok 336");

      // 2. srun -n 2: two tasks of one step, SLURM_PROCID of SLURM_NTASKS.
      const command = npyallocCommand().split(" ");
      const srun = await cluster.run(setup.bin.srun, [
        "-n",
        "2",
        ...command,
        "run",
        "manifest.yaml",
        "--shard",
        "auto",
        "--var",
        "ROOT=data-srun",
        "-q",
        "-r",
        "srun/shard-{shard}-of-{count}.json",
      ]);
      assert.equal(srun.status, 0, `srun failed:\n${srun.stderr}\n${cluster.diagnostics()}`);
      const mergedSrun = path.join(cluster.work, "srun", "merged.json");
      const merge = await cluster.run(command[0]!, [
        ...command.slice(1),
        "report",
        "merge",
        "srun/shard-0-of-2.json",
        "srun/shard-1-of-2.json",
        "-o",
        mergedSrun,
      ]);
      assert.equal(merge.status, 0, merge.stderr);
      const srunReport = JSON.parse(fs.readFileSync(mergedSrun, "utf8")) as Report;
      assert.equal(srunReport.summary.created, 336);
      const parts = [0, 1].map((k) =>
        JSON.parse(
          fs.readFileSync(path.join(cluster.work, "srun", `shard-${k}-of-2.json`), "utf8"),
        ) as Report
      );
      assert.deepEqual(parts.map((p) => p.shard?.source), ["SLURM_PROCID", "SLURM_PROCID"]);
      assert.equal(checkWithNumpy(path.join(cluster.work, "data-srun"), mergedSrun), "ok 336");
    } finally {
      await cluster.stop();
      assert.equal(fs.existsSync(cluster.dir), false, "the cluster's folder is removed");
      console.log(`slurm test: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  });
}
