/**
 * A real Grid Engine on this machine: sge_qmaster and sge_execd started from a generated
 * one-host cell in a throwaway folder (own SGE_ROOT, own ports, own spool: nothing global is
 * touched), the host its admin, submit and execution host, one queue of 4 slots. Then the flow
 * of docs/sharding.md with the job script printed there, as a user runs it:
 *
 * - `npyalloc plan`, `qsub -t 1-4` of the job script running `npyalloc run --shard auto`, and a
 *   merge job held until the array has ended (`-hold_jid`, waited for with `-sync y`);
 * - the same with a step, `qsub -t 2-8:2`: shards 0 to 3 of 4 again;
 * - a plain `qsub` of the same script, where Grid Engine sets SGE_TASK_ID=undefined: exit 2;
 *
 * each array run checked with NumPy: every array of the manifest exists exactly once, complete,
 * with its shape, dtype and fill. Every daemon is stopped and every file removed, also when it
 * fails.
 *
 * Needs root and Debian's gridengine-master, gridengine-exec and gridengine-client (`.ci/run`
 * installs them). Without them the test fails when CI=true and is skipped, saying why, otherwise.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { Report } from "../src/report/report.ts";
import {
  freePort,
  isRunning,
  npyallocArgv,
  runCommand,
  sleep,
  stopDaemon,
  waitFor,
  which,
} from "./_support/daemons.ts";
import { runPython } from "./_support/numpy.ts";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, "..");
const CLI = path.join(REPO, "src", "cli.ts");
const DOCS = path.join(REPO, "docs", "sharding.md");

/** Debian's layout: the programs on PATH, the helpers and templates in these folders. */
const UTILBIN = "/usr/lib/gridengine";
const SHARE = "/usr/share/gridengine";

const COMMANDS = ["sge_qmaster", "sge_execd", "sge_shepherd", "qconf", "qsub", "qstat", "qdel"];
const HELPERS = ["spoolinit", "spooldefaults", "gethostname", "gethostbyaddr"];
const TEMPLATES = [
  "default-configuration",
  "util/resources/centry",
  "util/resources/usersets",
];

type Programs = Record<string, string>;

/** The variables `--shard auto` reads, of every engine. */
const ENGINE_VARIABLE =
  /^(SGE_|SLURM_|LSB_|AWS_BATCH_|BATCH_TASK_|JOB_COMPLETION_INDEX$|NPYALLOC_SHARD)/;

/** The programs, or why the test cannot run. */
function prerequisites(): { bin: Programs } | { missing: string } {
  const bin: Programs = {};
  const missing: string[] = [];
  for (const name of COMMANDS) {
    const found = which(name);
    if (found === null) missing.push(name);
    else bin[name] = found;
  }
  for (const name of HELPERS) {
    const file = path.join(UTILBIN, name);
    if (fs.existsSync(file)) bin[name] = file;
    else missing.push(file);
  }
  for (const name of TEMPLATES) {
    if (!fs.existsSync(path.join(SHARE, name))) missing.push(path.join(SHARE, name));
  }
  if (missing.length > 0) {
    return {
      missing: `${missing.join(", ")} not found: install Debian's gridengine-master, ` +
        `gridengine-exec and gridengine-client (apt-get install -y --no-install-recommends ` +
        `gridengine-master gridengine-exec gridengine-client), as .ci/run does`,
    };
  }
  if (process.getuid?.() !== 0) {
    return { missing: "not root: sge_execd of the test cell needs root" };
  }
  return { bin };
}

/** The job script of docs/sharding.md's Grid Engine recipe, as printed there. */
function jobScriptFromDocs(): string {
  const text = fs.readFileSync(DOCS, "utf8");
  const section = text.slice(text.indexOf("## Grid Engine"));
  const script = /```bash\n(#!\/bin\/bash\n#\$ [\s\S]*?)```/.exec(section)?.[1];
  assert.ok(script, "docs/sharding.md has a Grid Engine job script");
  assert.match(script, /--shard auto/);
  return script;
}

/** A one-host Grid Engine cell in a folder of its own. */
class Cell {
  readonly dir: string;
  readonly work: string;
  readonly root: string;
  readonly env: Record<string, string>;
  /** The name Grid Engine gives this host. */
  host = "";
  readonly #bin: Programs;
  readonly #daemons: { name: string; child: ChildProcess }[] = [];
  readonly #exits: string[] = [];
  #stopping = false;
  readonly #onExit = () => {
    for (const { child } of this.#daemons) if (isRunning(child)) child.kill("SIGKILL");
    fs.rmSync(this.dir, { recursive: true, force: true });
  };

  constructor(bin: Programs) {
    this.#bin = bin;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "npyalloc-sge-"));
    fs.chmodSync(this.dir, 0o755);
    this.work = path.join(this.dir, "work");
    this.root = path.join(this.dir, "root");
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) {
      // A test run inside some scheduler's job must not leak that job's variables: the jobs
      // of this cell get the daemons' environment too.
      if (value !== undefined && !ENGINE_VARIABLE.test(key)) env[key] = value;
    }
    env.PATH = [...new Set([path.dirname(bin.qsub!), path.dirname(bin.sge_qmaster!)])]
      .concat(env.PATH ?? "").join(path.delimiter);
    env.SGE_ROOT = this.root;
    env.SGE_CELL = "default";
    env.NO_COLOR = "1";
    this.env = env;
    process.on("exit", this.#onExit);
  }

  get common(): string {
    return path.join(this.root, "default", "common");
  }

  /** Writes the cell's configuration, starts sge_qmaster and sge_execd, adds a queue. */
  async start(): Promise<void> {
    const spool = path.join(this.dir, "spool");
    for (const sub of [this.common, path.join(spool, "qmaster"), path.join(spool, "execd")]) {
      fs.mkdirSync(sub, { recursive: true, mode: 0o755 });
    }
    fs.mkdirSync(this.work);
    fs.mkdirSync(path.join(this.dir, "tmp"));
    this.env.SGE_QMASTER_PORT = String(await freePort());
    this.env.SGE_EXECD_PORT = String(await freePort());

    const spooling = `${this.common};${path.join(spool, "qmaster")}`;
    fs.writeFileSync(
      path.join(this.common, "bootstrap"),
      [
        "# A one-host test cell made by test/gridengine_test.ts; removed when the test ends.",
        "admin_user              none",
        "default_domain          none",
        "ignore_fqdn             true",
        "spooling_method         classic",
        "spooling_lib            libspoolc",
        `spooling_params         ${spooling}`,
        `binary_path             ${path.dirname(this.#bin.sge_shepherd!)}`,
        `qmaster_spool_dir       ${path.join(spool, "qmaster")}`,
        "security_mode           none",
        "listener_threads        2",
        "worker_threads          2",
        "scheduler_threads       1",
        "",
      ].join("\n"),
    );
    // Grid Engine's host name helpers read the bootstrap file.
    this.host = this.#helper("gethostname", ["-name"]).trim();
    assert.ok(this.host !== "", "gethostname -name names this host");
    this.#writeHostAliases();
    fs.writeFileSync(path.join(this.common, "act_qmaster"), `${this.host}\n`);
    // The global configuration, from Debian's, for root's jobs and a prompt load report. No
    // login shells: a login shell would read root's profile, which may set another PATH.
    const conf = path.join(this.dir, "configuration");
    fs.writeFileSync(
      conf,
      setFields(fs.readFileSync(path.join(SHARE, "default-configuration"), "utf8"), {
        execd_spool_dir: path.join(spool, "execd"),
        mailer: "/bin/true",
        min_uid: "0",
        min_gid: "0",
        load_report_time: "00:00:02",
        loglevel: "log_info",
        login_shells: "none",
      }),
    );
    this.#helper("spoolinit", ["classic", "libspoolc", spooling, "init"]);
    this.#helper("spooldefaults", ["configuration", conf]);
    this.#helper("spooldefaults", ["complexes", path.join(SHARE, "util/resources/centry")]);
    this.#helper("spooldefaults", ["usersets", path.join(SHARE, "util/resources/usersets")]);
    this.#helper("spooldefaults", ["managers", "root"]);

    this.#daemon("sge_qmaster");
    await waitFor("sge_qmaster to answer", 30_000, () => this.#qconf(["-sh"]).status === 0);
    this.#qconfOk(["-as", this.host]);
    const sconf = path.join(this.dir, "sched_configuration");
    fs.writeFileSync(
      sconf,
      setFields(this.#qconfOk(["-ssconf"]), {
        schedule_interval: "0:0:1",
        flush_submit_sec: "1",
        flush_finish_sec: "1",
        job_load_adjustments: "NONE",
        load_adjustment_decay_time: "0:0:0",
      }),
    );
    this.#qconfOk(["-Msconf", sconf]);

    // sge_execd of an admin host adds the host to the execution hosts when it starts.
    this.#daemon("sge_execd");
    await waitFor("the execution host", 30_000, () => {
      const hosts = this.#qconf(["-sel"]);
      return hosts.status === 0 && hosts.stdout.split("\n").includes(this.host);
    });
    const queue = path.join(this.dir, "npyalloc.q");
    fs.writeFileSync(queue, queueConfig(this.host, path.join(this.dir, "tmp")));
    this.#qconfOk(["-Aq", queue]);
    await waitFor("the queue to take jobs", 45_000, () => this.#queueReady());
  }

  /** Maps every name this host's addresses resolve to onto the one Grid Engine uses. */
  #writeHostAliases(): void {
    const all = this.#helper("gethostname", ["-all"]);
    const addresses = /Host Address\(es\):\s*(.*)/.exec(all)?.[1]?.trim().split(/\s+/) ?? [];
    const names = new Set(["localhost"]);
    for (const address of addresses) {
      const name = spawnSync(this.#bin.gethostbyaddr!, ["-name", address], {
        env: this.env,
        encoding: "utf8",
      }).stdout?.trim();
      if (name) names.add(name);
    }
    names.delete(this.host);
    // Where the host name resolves to a loopback address, connections arrive from a name
    // ("localhost") that differs from the one the clients give, and the qmaster refuses them.
    fs.writeFileSync(
      path.join(this.common, "host_aliases"),
      `${this.host} ${[...names].join(" ")}\n`,
    );
  }

  #queueReady(): boolean {
    const stat = spawnSync(this.#bin.qstat!, ["-f", "-q", "npyalloc.q"], {
      env: this.env,
      encoding: "utf8",
      timeout: 10_000,
    });
    const line = stat.stdout?.split("\n").find((l) => l.startsWith("npyalloc.q@"));
    // queuename, qtype, resv/used/tot, load_avg, arch, and no states (such as "au")
    const fields = line?.trim().split(/\s+/) ?? [];
    return fields.length === 5 && fields[3] !== "-NA-";
  }

  #helper(name: string, args: string[]): string {
    const result = spawnSync(this.#bin[name]!, args, {
      env: this.env,
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(result.status, 0, `${name} ${args.join(" ")}: ${result.stdout}${result.stderr}`);
    return result.stdout;
  }

  #qconf(args: string[]) {
    return spawnSync(this.#bin.qconf!, args, { env: this.env, encoding: "utf8", timeout: 15_000 });
  }

  #qconfOk(args: string[]): string {
    const result = this.#qconf(args);
    assert.equal(result.status, 0, `qconf ${args.join(" ")}: ${result.stdout}${result.stderr}`);
    return result.stdout;
  }

  /** Starts a daemon in the foreground (SGE_ND), so that its pid is ours to stop. */
  #daemon(name: string): void {
    const child = spawn(this.#bin[name]!, [], {
      env: { ...this.env, SGE_ND: "true" },
      cwd: this.dir,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (chunk) => (stderr += chunk));
    child.on("error", () => {}); // reported through the readiness checks and the logs
    child.on("exit", (code, signal) => {
      if (!this.#stopping) this.#exits.push(`${name} exited (${code ?? signal}): ${stderr}`);
    });
    this.#daemons.push({ name, child });
  }

  /** Daemon logs and job outputs, for failure messages. */
  diagnostics(): string {
    const spool = path.join(this.dir, "spool");
    const files = [
      path.join(spool, "qmaster", "messages"),
      ...(fs.existsSync(path.join(spool, "execd"))
        ? (fs.readdirSync(path.join(spool, "execd"), { recursive: true }) as string[])
          .filter((f) => f.endsWith("messages"))
          .map((f) => path.join(spool, "execd", f))
        : []),
      ...(fs.existsSync(this.work)
        ? fs.readdirSync(this.work).filter((f) => f.endsWith(".out")).map((f) =>
          path.join(this.work, f)
        )
        : []),
    ];
    const tails = files.filter((f) => fs.existsSync(f)).map((f) => {
      const lines = fs.readFileSync(f, "utf8").trimEnd().split("\n");
      return `--- ${path.relative(this.dir, f)}\n${lines.slice(-15).join("\n")}`;
    });
    return [...this.#exits, ...tails].join("\n");
  }

  /** Deletes every job, stops both daemons (by pid) and removes the folder. */
  async stop(): Promise<void> {
    this.#stopping = true;
    try {
      if (this.#daemons.some((d) => d.name === "sge_qmaster" && isRunning(d.child))) {
        spawnSync(this.#bin.qdel!, ["-f", "-u", "root"], { env: this.env, timeout: 10_000 });
        const deadline = Date.now() + 20_000;
        while (Date.now() < deadline) {
          const jobs = spawnSync(this.#bin.qstat!, ["-u", "*"], {
            env: this.env,
            encoding: "utf8",
            timeout: 10_000,
          });
          if (jobs.status !== 0 || jobs.stdout.trim() === "") break;
          await sleep(300);
        }
      }
      // sge_execd first: it reports its jobs' ends to the qmaster. The qmaster takes about ten
      // seconds to shut down cleanly; its spool goes away with the folder anyway.
      for (const { name, child } of [...this.#daemons].reverse()) {
        await stopDaemon(child, name === "sge_qmaster" ? 15_000 : 10_000);
      }
    } finally {
      await this.#removeFolder();
      process.off("exit", this.#onExit);
    }
  }

  /** Removes the cell's folder; a job's sge_shepherd may still be tidying it a moment. */
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

  /** Runs a Grid Engine client (or any command) in the work folder with the cell's env. */
  run(file: string, args: string[], timeoutMs = 120_000) {
    return runCommand(file, args, { cwd: this.work, env: this.env, timeoutMs });
  }

  bin(name: string): string {
    return this.#bin[name]!;
  }
}

/** Sets `key value` lines of a Grid Engine configuration file. */
function setFields(text: string, fields: Record<string, string>): string {
  const lines = text.split("\n");
  for (const [key, value] of Object.entries(fields)) {
    const at = lines.findIndex((line) => line.split(/\s+/)[0] === key);
    if (at >= 0) lines[at] = `${key} ${value}`;
    else lines.push(`${key} ${value}`);
  }
  return lines.join("\n");
}

/** A cluster queue of 4 slots on this host, without load thresholds, for bash jobs. */
function queueConfig(host: string, tmp: string): string {
  const fields: [string, string][] = [
    ["qname", "npyalloc.q"],
    ["hostlist", host],
    ["seq_no", "0"],
    ["load_thresholds", "NONE"],
    ["suspend_thresholds", "NONE"],
    ["nsuspend", "1"],
    ["suspend_interval", "00:05:00"],
    ["priority", "0"],
    ["min_cpu_interval", "00:05:00"],
    ["processors", "UNDEFINED"],
    ["qtype", "BATCH INTERACTIVE"],
    ["ckpt_list", "NONE"],
    ["pe_list", "NONE"],
    ["rerun", "FALSE"],
    ["slots", "4"],
    ["tmpdir", tmp],
    ["shell", "/bin/bash"],
    ["prolog", "NONE"],
    ["epilog", "NONE"],
    ["shell_start_mode", "posix_compliant"],
    ["starter_method", "NONE"],
    ["suspend_method", "NONE"],
    ["resume_method", "NONE"],
    ["terminate_method", "NONE"],
    ["notify", "00:00:60"],
    ["owner_list", "NONE"],
    ["user_lists", "NONE"],
    ["xuser_lists", "NONE"],
    ["subordinate_list", "NONE"],
    ["complex_values", "NONE"],
    ["projects", "NONE"],
    ["xprojects", "NONE"],
    ["calendar", "NONE"],
    ["initial_state", "default"],
  ];
  for (const limit of ["rt", "cpu", "fsize", "data", "stack", "core", "rss", "vmem"]) {
    fields.push([`s_${limit}`, "INFINITY"], [`h_${limit}`, "INFINITY"]);
  }
  return fields.map(([key, value]) => `${key} ${value}`).join("\n") + "\n";
}

/** 56 arrays of three kinds, some written with a fill, some reserved, in three folders. */
const MANIFEST = `version: 1
root: "\${ROOT:-data}"
arrays:
  - path: images/part-{i:02d}.npy
    foreach: { i: { range: [0, 24] } }
    shape: [16, 16, "{i}"]
    dtype: uint8
  - path: labels/part-{i:02d}.npy
    foreach: { i: { range: [0, 24] } }
    shape: ["{i}"]
    dtype: int64
    fill: -1
  - path: features/f-{i}.npy
    foreach: { i: { range: [0, 8] } }
    shape: [64, 256]
    dtype: float32
    fill: 0.25
`;
const ARRAYS = 56;

/** Checks with NumPy that the data folder holds exactly the merged report's arrays, complete. */
function checkWithNumpy(root: string, merged: string): string {
  return runPython(`
import os
root = ${JSON.stringify(root)}
report = json.load(open(${JSON.stringify(merged)}))
paths = [a["path"] for a in report["arrays"]]
assert len(paths) == ${ARRAYS} and len(set(paths)) == ${ARRAYS}, len(paths)
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
  test(`gridengine: skipped because ${setup.missing} (CI=true makes this a failure)`, {
    skip: setup.missing,
  }, () => {});
} else {
  test("gridengine: array jobs (also with a step) create every array exactly once", {
    timeout: 240_000,
  }, async () => {
    if ("missing" in setup) {
      assert.fail(`CI=true, but the Grid Engine test cannot run: ${setup.missing}`);
    }
    const cell = new Cell(setup.bin);
    const started = Date.now();
    try {
      try {
        await cell.start();
      } catch (err) {
        assert.fail(`The test cell did not start: ${err}\n${cell.diagnostics()}`);
      }
      const work = cell.work;
      fs.writeFileSync(path.join(work, "manifest.yaml"), MANIFEST);
      fs.writeFileSync(path.join(work, "npyalloc.sge"), jobScriptFromDocs(), { mode: 0o755 });
      // `npyalloc` on the jobs' PATH: the runtime running this test, on the sources.
      const bin = path.join(cell.dir, "bin");
      fs.mkdirSync(bin);
      const argv = npyallocArgv(CLI);
      fs.writeFileSync(
        path.join(bin, "npyalloc"),
        `#!/bin/sh\nexec ${argv.map((a) => `'${a}'`).join(" ")} "$@"\n`,
        { mode: 0o755 },
      );
      // qsub -v takes a list separated by commas.
      const jobPath = [bin, "/usr/local/bin", "/usr/bin", "/bin"].join(path.delimiter);
      const jobEnv = ["-v", `PATH=${jobPath},NO_COLOR=1,HOME=${process.env.HOME ?? "/root"}`];
      const qsub = cell.bin("qsub");

      const plan = await cell.run(argv[0]!, [...argv.slice(1), "plan", "manifest.yaml"]);
      assert.equal(plan.status, 0, plan.stderr);
      assert.match(plan.stderr, new RegExp(`plan: ${ARRAYS} of ${ARRAYS} arrays to write`));

      /** Submits the array job and the merge job of docs/sharding.md, waits for the merge. */
      const shardAndMerge = async (range: string, root: string) => {
        const submit = await cell.run(qsub, [
          "-terse",
          "-t",
          range,
          ...jobEnv,
          "npyalloc.sge",
          "manifest.yaml",
          "--var",
          `ROOT=${root}`,
        ]);
        assert.equal(submit.status, 0, `${submit.stdout}${submit.stderr}`);
        const job = /^(\d+)\./.exec(submit.stdout.trim())?.[1];
        assert.ok(job, submit.stdout);
        const merge = await cell.run(qsub, [
          "-sync",
          "y",
          "-hold_jid",
          job,
          "-N",
          "npyalloc-merge",
          "-cwd",
          "-j",
          "y",
          "-o",
          `npyalloc-merge-${job}.out`,
          ...jobEnv,
          "-b",
          "y",
          "npyalloc",
          "report",
          "merge",
          `reports/${job}/shard-*-of-4.json`,
          "-o",
          `reports/${job}/npyalloc-report.json`,
        ]);
        const mergeOut = path.join(work, `npyalloc-merge-${job}.out`);
        assert.equal(
          merge.status,
          0,
          `merge: ${merge.stdout}${merge.stderr}\n` +
            `${fs.existsSync(mergeOut) ? fs.readFileSync(mergeOut, "utf8") : ""}\n` +
            cell.diagnostics(),
        );
        const reports = path.join(work, "reports", job);
        const shards = [0, 1, 2, 3].map((k) =>
          JSON.parse(fs.readFileSync(path.join(reports, `shard-${k}-of-4.json`), "utf8")) as Report
        );
        for (const [k, report] of shards.entries()) {
          assert.equal(report.ok, true, `shard ${k}: ${JSON.stringify(report.error)}`);
          assert.deepEqual(
            [report.shard?.index, report.shard?.count, report.shard?.source],
            [k, 4, "SGE_TASK_ID"],
          );
        }
        const mergedFile = path.join(reports, "npyalloc-report.json");
        const merged = JSON.parse(fs.readFileSync(mergedFile, "utf8")) as Report;
        assert.equal(merged.ok, true, JSON.stringify(merged.error));
        assert.equal(merged.shard, null);
        assert.equal(merged.summary.created, ARRAYS);
        assert.equal(checkWithNumpy(path.join(work, root), mergedFile), `ok ${ARRAYS}`);
        return job;
      };

      // 1. qsub -t 1-4: SGE_TASK_ID 1 to 4 are shards 0 to 3.
      const first = await shardAndMerge("1-4", "data");
      const out = fs.readFileSync(path.join(work, `npyalloc-${first}.3.out`), "utf8");
      assert.match(out, /shard 2 of 4 \(SGE_TASK_ID=3 in 1\.\.4\)/);

      // 2. qsub -t 2-8:2: SGE_TASK_ID 2, 4, 6, 8 are shards 0 to 3 too.
      const stepped = await shardAndMerge("2-8:2", "data-step");
      const last = fs.readFileSync(path.join(work, `npyalloc-${stepped}.8.out`), "utf8");
      assert.match(last, /shard 3 of 4 \(SGE_TASK_ID=8 in 2\.\.8 by 2\)/);

      // 3. A plain qsub: Grid Engine sets SGE_TASK_ID=undefined, and --shard auto refuses.
      const plain = await cell.run(qsub, [
        "-sync",
        "y",
        ...jobEnv,
        "npyalloc.sge",
        "manifest.yaml",
        "--var",
        "ROOT=data-plain",
      ]);
      assert.equal(plain.status, 2, `${plain.stdout}${plain.stderr}\n${cell.diagnostics()}`);
      const job = /Your job (\d+) /.exec(plain.stdout)?.[1];
      assert.ok(job, plain.stdout);
      // In -o, $TASK_ID of a job that is not an array job is 0.
      const plainOut = fs.readdirSync(work).filter((f) => f.startsWith(`npyalloc-${job}.`));
      assert.equal(plainOut.length, 1, plainOut.join());
      assert.match(
        fs.readFileSync(path.join(work, plainOut[0]!), "utf8"),
        /--shard auto: SGE_TASK_ID='undefined': this Grid Engine job is not an array job/,
      );
      assert.equal(fs.existsSync(path.join(work, "data-plain")), false, "nothing touched");
    } finally {
      await cell.stop();
      assert.equal(fs.existsSync(cell.dir), false, "the cell's folder is removed");
      console.log(`gridengine test: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  });
}
