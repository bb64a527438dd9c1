/**
 * Scale bench: N exports in flight at once on one (or more) real worker processes.
 *
 *   npx tsx bench/scale.ts [--exports N] [--workers N] [--quick] [--time-scale S] [--steady SECONDS]
 *
 * Starts a Temporal dev server (src/dev/dev-server.ts) and the Atlas simulator (in this process, time-scaled),
 * spawns `src/worker.ts` as child processes configured by environment only (WORKER_* variables of this process
 * are passed through, so tuning is tried as production sets it), and starts N `exportSnapshot` workflows with the
 * product's default adaptive cadence (at most MAX_STARTING of them waiting for their Atlas job at a time). Each job's
 * simulated duration is planned from the creation rate so far, so that all N are in flight together for `--steady`
 * seconds after the last job exists. During that window it measures each worker's RSS and CPU (/proc), workflow and
 * activity task latencies (the workers' Prometheus histograms) and timer slip (see SlipSample); then it speeds up
 * Atlas's clock, waits for every export to finish and checks they all succeeded.
 *
 * Prints a markdown table and writes bench/results/scale.json (keyed by worker count and time scale, so a 1-worker
 * and a 2-worker run sit side by side; `--quick` writes scale.quick.json). Everything it starts is stopped on success, failure and
 * SIGINT/SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { freePort, startDevServer } from '../src/dev/dev-server';
import type { ExportSnapshotInput } from '../src/shared/contract/export-contract';
import { AtlasSimulator, DEV_CREDENTIALS } from '../src/simulator';
import { writeWorkflowBundle } from '../src/temporal/workflow-bundle';
import { parsePrometheus, type Sample } from '../test/helpers/prometheus';
import {
  addBuckets,
  bucketBound,
  bucketDelta,
  histogramBuckets,
  histogramPercentile,
  readProc,
  type Buckets,
  type ProcReading,
} from './lib/proc-stats';
import { percentile } from './lib/metrics';
import { writeCharts } from './lib/charts';
import { writeResultFile } from './lib/results-file';

const ROOT = resolve(__dirname, '..');
const RESULT_FILE = resolve(__dirname, 'results', 'scale.json');
const QUICK_RESULT_FILE = resolve(__dirname, 'results', 'scale.quick.json');
const NAMESPACE = 'default';
const MIB = 1024 ** 2;
/** Simulated queue time of every export (the median of real exports, poll-cadence.md); ±jitter. */
const QUEUED_SIM_MS = 144_000;
/** Spread of the simulated durations (both phases), so exports do not finish in lockstep. */
const PLAN_JITTER = 0.15;
/** After the last job exists, real seconds before the steady window opens (the ramp's backlog drains). */
const SETTLE_S = 15;
/** Real seconds the remaining jobs take to end once the steady window closed (Atlas's clock is sped up). */
const DRAIN_TARGET_S = 60;
const SAMPLE_EVERY_MS = 1_000;
/**
 * Exports per Atlas project. Exports created together reach their estimated finish together, and near it each reads
 * every 10 s: 20 exports ask for 2 reads a second, half the per-project limit the worker sets (4 attempts a second,
 * docs/atlas-rate-limit.md), so the limit holds a read only when several coincide (180 of ~5,400
 * attempts in the 2026-11-29 run) and the run measures the worker. 50 ask for 5 a second, and the limit holds reads
 * back by seconds (docs/benchmarks.md, "Scale").
 */
const DEFAULT_PER_PROJECT = 20;
/** Exports started whose Atlas job does not exist yet, at most (see the starter). */
const MAX_STARTING = 200;
/** Workflows described per second to sample timer slip (a small load on the server next to the exports). */
const DESCRIBES_PER_SECOND = 30;
const HISTOGRAMS = {
  wftScheduleToStart: 'temporal_workflow_task_schedule_to_start_latency',
  wftExecution: 'temporal_workflow_task_execution_latency',
  activityScheduleToStart: 'temporal_activity_schedule_to_start_latency',
  activityExecution: 'temporal_activity_execution_latency',
} as const;
type HistogramKey = keyof typeof HISTOGRAMS;
/**
 * The dev server's own histograms read over the window, to place the slip: history's task queues (a retry timer
 * firing, the transfer task that hands the attempt to matching), matching's sync and async match, persistence.
 */
const SERVER_HISTOGRAM = /^(task_latency\w*|\w*match_latency|persistence_latency)$/;
/** Labels that only repeat what the series already says (the dev server runs every service in one process). */
const SERVER_LABELS_IGNORED = new Set([
  'le',
  'service_name',
  'namespace',
  'namespace_state',
  'otel_scope_name',
  'otel_scope_version',
]);

interface Options {
  exports: number;
  workers: number;
  quick: boolean;
  timeScale: number;
  steadyS: number;
  perProject: number;
  perCluster: number;
  startConcurrency: number;
  argv: string[];
}

function parseOptions(): Options {
  const argv = process.argv.slice(2);
  const { values } = parseArgs({
    args: argv,
    options: {
      exports: { type: 'string' },
      workers: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'time-scale': { type: 'string' },
      steady: { type: 'string' },
      'exports-per-project': { type: 'string' },
      'exports-per-cluster': { type: 'string' },
      'start-concurrency': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(
      'Usage: npx tsx bench/scale.ts [--exports N (5000; --quick 300)] [--workers N (1)] [--quick] [--time-scale S (1)]\n' +
        '         [--steady SECONDS (150; --quick 60)] [--exports-per-project N (20)] [--exports-per-cluster N (5)]\n' +
        '         [--start-concurrency N (32)]\n' +
        'WORKER_* variables of this environment are passed to the worker processes (e.g. WORKER_MAX_CACHED_WORKFLOWS);\n' +
        'BENCH_WORKER_NODE_ARGS adds Node flags to them (e.g. --cpu-prof --cpu-prof-dir=DIR);\n' +
        'BENCH_DEV_SERVER_DYNAMIC_CONFIG (a JSON object) adds dynamic config to the dev server.'
    );
    process.exit(0);
  }
  const int = (raw: string | undefined, fallback: number, name: string, min = 1): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${raw}`);
    return n;
  };
  const quick = values.quick;
  // ×1: every export polls as often as a real one (the load this bench is about); a higher scale multiplies the
  // request and task rate per export in flight (×3 is a stress run). The adaptive cadence's finest step is 10 s
  // simulated and the dev server fires no retry sooner than ~1 s real, hence at most ×10.
  const timeScale = Number(values['time-scale'] ?? 1);
  if (!(timeScale > 0 && timeScale <= 10)) throw new Error(`--time-scale must be in (0, 10], got ${timeScale}`);
  return {
    exports: int(values.exports, quick ? 300 : 5_000, 'exports'),
    workers: int(values.workers, 1, 'workers'),
    quick,
    timeScale,
    steadyS: int(values.steady, quick ? 60 : 150, 'steady', 10),
    perProject: int(values['exports-per-project'], DEFAULT_PER_PROJECT, 'exports-per-project'),
    perCluster: int(values['exports-per-cluster'], 5, 'exports-per-cluster'),
    startConcurrency: int(values['start-concurrency'], 32, 'start-concurrency'),
    argv,
  };
}

const noop = () => undefined;
const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const say = (line: string) => console.error(`[scale ${new Date().toISOString().slice(11, 19)}] ${line}`);

interface Target {
  index: number;
  workflowId: string;
  groupId: string;
  clusterName: string;
  snapshotId: string;
  exportBucketId: string;
}

interface WorkerProc {
  index: number;
  child: ChildProcess;
  pid: number;
  metricsUrl: string;
  output: string;
}

/**
 * Timer slip, sampled: a describe of a running export shows its pending `pollExportJob` attempt's last failure,
 * whose message carries the cadence's due time (`next read at <ISO>`, decided right after that attempt's GET,
 * and sent as `nextRetryDelay`), and when the server recorded that failure. The next GET of that job at the
 * simulator is the poll that was due; slip = its arrival − the due time.
 */
interface SlipSample {
  workflowId: string;
  jobId: string;
  attempt: number;
  dueAt: number;
  /** Server: when it recorded the failed attempt (the retry delay counts from here). */
  failedAt: number;
  /** Server: when it scheduled the next attempt (failedAt + nextRetryDelay). */
  serverDueAt: number | undefined;
}

interface MatchedSlip extends SlipSample {
  arrivedAt: number;
}

/**
 * The tuning this bench runs with unless the caller's environment sets the variable (docs/benchmarks.md, "Tuned worker settings"): a small
 * sticky cache (with thousands of exports each needing a workflow task only now and then, a cache of 100 or of 1,000
 * both hit about 5 % of tasks; the misses replay a short history) and a V8 heap cap, so the main and
 * workflow-thread isolates collect garbage instead of growing towards V8's default limit.
 */
export const TUNED_WORKER_ENV: Readonly<Record<string, string>> = {
  WORKER_MAX_CACHED_WORKFLOWS: '100',
  NODE_OPTIONS: '--max-old-space-size=384',
};

/** The tuned environment overlaid with the caller's WORKER_*, NODE_OPTIONS and MALLOC_ARENA_MAX variables. */
function effectiveWorkerEnv(): Record<string, string> {
  const own = Object.entries(process.env).filter(
    (e): e is [string, string] =>
      (e[0].startsWith('WORKER_') || e[0] === 'NODE_OPTIONS' || e[0] === 'MALLOC_ARENA_MAX') &&
      e[0] !== 'WORKER_METRICS_ADDRESS' &&
      e[1] !== undefined
  );
  return { ...TUNED_WORKER_ENV, ...Object.fromEntries(own) };
}

function spawnWorker(index: number, env: Record<string, string>, metricsPort: number): WorkerProc {
  const metricsAddress = `127.0.0.1:${metricsPort}`;
  // Node flags that NODE_OPTIONS refuses, e.g. BENCH_WORKER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'.
  const nodeArgs = process.env.BENCH_WORKER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', resolve(ROOT, 'src/worker.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      WORKER_LOG_LEVEL: 'WARN',
      ...effectiveWorkerEnv(),
      ...env,
      WORKER_METRICS_ADDRESS: metricsAddress,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid === undefined) throw new Error('could not spawn a worker process');
  const proc: WorkerProc = { index, child, pid: child.pid, metricsUrl: `http://${metricsAddress}/metrics`, output: '' };
  const append = (chunk: Buffer) => {
    proc.output = (proc.output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return proc;
}

async function stopWorker(w: WorkerProc): Promise<void> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  const exited = once(w.child, 'exit');
  w.child.kill('SIGTERM');
  const timer = setTimeout(() => w.child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function scrape(url: string): Promise<Sample[]> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return parsePrometheus(await res.text());
}

async function waitForPollers(client: Client, taskQueue: string, workers: WorkerProc[]): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const ready = await Promise.all(
      [
        temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      ].map(async (taskQueueType) => {
        const r = await client.workflowService.describeTaskQueue({
          namespace: NAMESPACE,
          taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
          taskQueueType,
        });
        const ids = new Set((r.pollers ?? []).map((p) => p.identity ?? ''));
        return workers.every((w) => [...ids].some((id) => id.startsWith(`${w.pid}@`)));
      })
    );
    if (ready.every(Boolean)) return;
    for (const w of workers) {
      if (w.child.exitCode !== null) throw new Error(`worker ${w.index} exited with ${w.child.exitCode}:\n${w.output}`);
    }
    if (Date.now() > deadline)
      throw new Error(`workers not polling after 120 s:\n${workers.map((w) => w.output).join('\n')}`);
    await sleepMs(500);
  }
}

interface Window {
  from: number;
  to: number;
}

interface WorkerResult {
  pid: number;
  peakRssMiB: number;
  steadyRssMiB: { mean: number; max: number };
  steadyCpuPercent: number;
  wholeRunCpuPercent: number;
}

interface RunResult {
  generatedAt: string;
  command: string;
  options: Omit<Options, 'argv'>;
  workerEnv: Record<string, string>;
  wallS: number;
  rampS: number;
  startsPerSecond: number;
  steadyWindowS: number;
  inFlightDuringWindow: { min: number; max: number };
  exportsSucceeded: number;
  exportsOther: number;
  simulatedDurationMin: { min: number; max: number };
  workers: WorkerResult[];
  latenciesMs: Record<HistogramKey, { p50: number; p99: number; count: number; p99OverLastBucket: boolean }>;
  slip: {
    samples: number;
    unmatched: number;
    p50Ms: number;
    p99Ms: number;
    maxMs: number;
    /** Parts: cadence decision → server recorded the failure; server's due → GET arrival. */
    reportP50Ms: number;
    reportP99Ms: number;
    dispatchP50Ms: number;
    dispatchP99Ms: number;
  };
  atlas: {
    getsPerSecondInWindow: number;
    rateLimited: number;
    requests: number;
    maxGetsPerSecondPerProject: number;
    byOperation: Record<string, number>;
  };
  /** Seconds after the first start by which 10 %, 50 %, 90 % and 100 % of the export jobs existed. */
  createdAtS: number[];
  /** Each worker's RSS once its pollers were up, before any export. */
  baselineRssMiB: number[];
  devServerCpuPercent: number;
  /** The dev server's histograms over the window, one row per series with observations, highest p99 first. */
  serverLatencies: ServerLatency[];
  benchProcess: { cpuPercent: number; eventLoopDelayP99Ms: number };
  stickyCacheSize: number[];
  notes: string[];
}

async function main(): Promise<number> {
  const wallStart = Date.now();
  const opts = parseOptions();
  const command = ['npm run bench:scale --', ...opts.argv].join(' ').replace(/ --$/, '');
  const cleanups: { what: string; run: () => Promise<unknown> }[] = [];
  let interrupted: NodeJS.Signals | undefined;
  const aborted = new Promise<never>((_, reject) => {
    const onSignal = (signal: NodeJS.Signals) => {
      interrupted = signal;
      reject(new Error(`interrupted by ${signal}`));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  aborted.catch(noop);
  const race = <T>(p: Promise<T>) => Promise.race([p, aborted]);
  const workers: WorkerProc[] = [];
  const checkAborted = () => {
    if (interrupted) throw new Error(`interrupted by ${interrupted}`);
    const dead = workers.find((w) => w.child.exitCode !== null || w.child.signalCode !== null);
    if (dead) {
      throw new Error(
        `worker ${dead.index} (pid ${dead.pid}) exited (${dead.child.exitCode ?? dead.child.signalCode}):\n${dead.output.slice(-3000)}`
      );
    }
  };
  let exitCode = 0;
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  try {
    say(`starting the Temporal dev server (headless, in memory)`);
    // BENCH_DEV_SERVER_DYNAMIC_CONFIG: extra dynamic config (a JSON object), to try server settings.
    const dynamicConfig = parseDynamicConfig(process.env.BENCH_DEV_SERVER_DYNAMIC_CONFIG);
    const server = await race(startDevServer({ metricsPort: await freePort(), dynamicConfig }));
    cleanups.push({ what: 'dev server', run: () => server.stop() });
    const connection = await race(Connection.connect({ address: server.address }));
    cleanups.push({ what: 'client connection', run: () => connection.close() });
    const client = new Client({ connection, namespace: NAMESPACE });

    const sim = await AtlasSimulator.start({ timeScale: opts.timeScale, requestLogLimit: 5_000_000 });
    cleanups.push({ what: 'simulator', run: () => sim.close() });
    const anchor = { realMs: Date.now(), simMs: sim.simulatedNow().getTime() };
    const realAt = (simMs: number) => anchor.realMs + (simMs - anchor.simMs) / opts.timeScale;
    const targets = seedTargets(sim, opts);
    const projects = new Set(targets.map((t) => t.groupId)).size;
    say(
      `simulator ×${opts.timeScale} on ${sim.url}: ${opts.exports} exports over ${projects} projects ` +
        `(${opts.perProject} per project, ${opts.perCluster} per cluster)`
    );

    const taskQueue = `scale-${Date.now().toString(36)}`;
    const sa = DEV_CREDENTIALS.serviceAccounts[0];
    if (!sa) throw new Error('the simulator has no development service account');
    const baseEnv = {
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: NAMESPACE,
      TEMPORAL_TASK_QUEUE: taskQueue,
      ATLAS_BASE_URL: sim.url,
      ATLAS_CLIENT_ID: sa.clientId,
      ATLAS_CLIENT_SECRET: sa.clientSecret,
      WORKER_REGISTER_SEARCH_ATTRIBUTES: 'skip',
    };
    // As deployed (the image sets WORKER_WORKFLOW_BUNDLE): a bundle prebuilt once, unless the caller set the
    // variable (blank: each worker bundles at start).
    const bundleEnv: Record<string, string> = {};
    if (process.env.WORKER_WORKFLOW_BUNDLE === undefined) {
      const dir = mkdtempSync(join(tmpdir(), 'scale-bundle-'));
      cleanups.push({ what: 'workflow bundle', run: () => rm(dir, { recursive: true, force: true }) });
      bundleEnv.WORKER_WORKFLOW_BUNDLE = join(dir, 'workflow-bundle.js');
      await race(writeWorkflowBundle(bundleEnv.WORKER_WORKFLOW_BUNDLE));
    }
    for (let i = 0; i < opts.workers; i++) {
      const w = spawnWorker(i, { ...baseEnv, ...bundleEnv }, await freePort());
      workers.push(w);
      cleanups.push({ what: `worker ${i} (pid ${w.pid})`, run: () => stopWorker(w) });
    }
    const workerEnv = {
      ...effectiveWorkerEnv(),
      ...(bundleEnv.WORKER_WORKFLOW_BUNDLE ? { WORKER_WORKFLOW_BUNDLE: 'prebuilt at bench start' } : {}),
    };
    say(
      `spawned ${opts.workers} worker process(es) (pids ${workers.map((w) => w.pid).join(', ')}); waiting for their pollers`
    );
    await race(waitForPollers(client, taskQueue, workers));

    // Sampling of /proc, for the workers, the dev server and this process (which runs the simulator).
    const procSamples = new Map<number, ProcReading[]>();
    const sampledPids = [...workers.map((w) => w.pid), server.process.pid ?? -1, process.pid];
    const sampleProcs = () => {
      for (const pid of sampledPids) {
        const r = readProc(pid);
        if (r) (procSamples.get(pid) ?? procSamples.set(pid, []).get(pid)!).push(r);
      }
    };
    sampleProcs();
    const sampler = setInterval(sampleProcs, SAMPLE_EVERY_MS);
    cleanups.push({ what: 'sampler', run: () => Promise.resolve(clearInterval(sampler)) });

    // Start every export. The simulated duration of the jobs created from now on is re-planned every second from
    // the creation rate so far, so that every job outlasts the rest of the ramp plus the steady window: the
    // worker, not the bench, sets how fast exports get going.
    const rampStart = Date.now();
    let next = 0;
    let started = 0;
    const startedIds: string[] = [];
    const createdAt: { at: number; created: number }[] = [];
    let created = 0;
    const plan = () => {
      created = sim.exportJobs().length;
      const now = Date.now();
      createdAt.push({ at: now, created });
      if (createdAt.length % 15 === 0) say(`${created}/${opts.exports} export jobs created`);
      // The creation rate over the last 20 s (it falls as more exports are in flight), halved for safety: a longer
      // export only lengthens the steady window, a shorter one would end it before the ramp does.
      const past = createdAt.find((c) => c.at >= now - 20_000) ?? createdAt[0]!;
      const recent = (created - past.created) / Math.max(1, (now - past.at) / 1000);
      const rate = Math.max(1, (created >= 50 ? recent : 5) / 2);
      const remainingS = (opts.exports - created) / rate + SETTLE_S + opts.steadyS;
      sim.setExportPlan({
        queuedMs: QUEUED_SIM_MS,
        inProgressMs: Math.round((remainingS * 1000 * opts.timeScale) / (1 - PLAN_JITTER)),
        jitterRatio: PLAN_JITTER,
      });
      return created;
    };
    plan();
    const planner = setInterval(() => {
      if (plan() >= opts.exports) clearInterval(planner);
    }, 1_000);
    cleanups.push({ what: 'planner', run: () => Promise.resolve(clearInterval(planner)) });
    // Admission: at most MAX_STARTING exports started but without their job yet. Starting all at once queues
    // thousands of first workflow tasks ahead of every second one, and the dev server then spends its time on
    // schedule-to-start timeouts of sticky tasks instead of progress.
    const starter = async () => {
      while (next < targets.length) {
        checkAborted();
        while (started - created >= MAX_STARTING) {
          await sleepMs(200);
          checkAborted();
        }
        // Another starter may have taken the last target while this one waited.
        if (next >= targets.length) break;
        const t = targets[next++]!;
        const input: ExportSnapshotInput = {
          groupId: t.groupId,
          clusterName: t.clusterName,
          snapshotId: t.snapshotId,
          exportBucketId: t.exportBucketId,
          polling: { timeScale: opts.timeScale },
        };
        await client.workflow.start('exportSnapshot', { taskQueue, workflowId: t.workflowId, args: [input] });
        started += 1;
        startedIds.push(t.workflowId);
        if (started % 1000 === 0) say(`${started}/${opts.exports} started`);
      }
    };
    await race(Promise.all(Array.from({ length: opts.startConcurrency }, starter)));
    const rampEnd = Date.now();
    const rampS = (rampEnd - rampStart) / 1000;
    say(
      `started ${started} exports in ${rampS.toFixed(0)} s (${(started / rampS).toFixed(0)}/s); waiting for their jobs`
    );

    // Describe-based slip sampling runs from here until the window closes.
    const slipSamples = new Map<string, SlipSample>();
    let sampling = true;
    const slipSampler = (async () => {
      while (sampling && !interrupted) {
        const tick = Date.now();
        await Promise.all(
          Array.from({ length: DESCRIBES_PER_SECOND }, async () => {
            const id = startedIds[Math.floor(Math.random() * startedIds.length)]!;
            const s = await describeSlip(client, id).catch(() => undefined);
            if (s) slipSamples.set(`${s.workflowId}#${s.attempt}`, s);
          })
        );
        await sleepMs(Math.max(0, 1_000 - (Date.now() - tick)));
      }
    })();

    // The steady window: from SETTLE_S after the last job exists to the first planned finish.
    let lastCreatedReal = 0;
    for (;;) {
      checkAborted();
      const jobs = sim.exportJobs();
      if (jobs.length >= opts.exports) {
        lastCreatedReal = Math.max(...jobs.map((j) => realAt(j.createdAt.getTime())));
        break;
      }
      if (Date.now() - rampEnd > 300_000)
        throw new Error(`only ${jobs.length}/${opts.exports} export jobs after 300 s`);
      await sleepMs(1_000);
    }
    const jobsNow = sim.exportJobs();
    const finishesReal = jobsNow.map((j) => realAt(j.createdAt.getTime() + j.plan.queuedMs + j.plan.inProgressMs));
    const firstFinish = Math.min(...finishesReal);
    const lastFinish = Math.max(...finishesReal);
    const window: Window = { from: Math.max(Date.now(), lastCreatedReal + SETTLE_S * 1000), to: firstFinish - 2_000 };
    const notes: string[] = [];
    if (window.to - window.from < 20_000) {
      notes.push(`steady window only ${((window.to - window.from) / 1000).toFixed(0)} s (the ramp outran the plan)`);
    }
    say(
      `all ${opts.exports} jobs exist (last created ${((lastCreatedReal - rampStart) / 1000).toFixed(0)} s into the ramp); ` +
        `steady window ${new Date(window.from).toISOString().slice(11, 19)}–${new Date(window.to).toISOString().slice(11, 19)} ` +
        `(${((window.to - window.from) / 1000).toFixed(0)} s); last export due ${((lastFinish - Date.now()) / 1000).toFixed(0)} s from now`
    );
    await race(sleepMs(Math.max(0, window.from - Date.now())));
    const scrapesBefore = await race(Promise.all(workers.map((w) => scrape(w.metricsUrl))));
    const serverBefore = await race(scrape(server.metricsUrl!));
    const runningAtOpen = (await client.workflow.count(`TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`))
      .count;
    const stickySizes: number[] = [];
    while (Date.now() < window.to) {
      checkAborted();
      await sleepMs(Math.min(10_000, window.to - Date.now()));
      const samples = await Promise.all(workers.map((w) => scrape(w.metricsUrl).catch(() => [] as Sample[])));
      for (const s of samples) {
        const size = s.find((x) => x.name === 'temporal_sticky_cache_size')?.value;
        if (size !== undefined) stickySizes.push(size);
      }
    }
    const scrapesAfter = await race(Promise.all(workers.map((w) => scrape(w.metricsUrl))));
    const serverAfter = await race(scrape(server.metricsUrl!));
    const runningAtClose = (await client.workflow.count(`TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`))
      .count;
    sampling = false;
    await slipSampler;
    // A first reading now (the drain below can take up to one maximumInterval); the result is computed after it.
    const preview = measureSlip(slipSamples.values(), sim.requests, window).slips;
    say(
      `window: timer slip p50/p99 ${fmt(percentile(preview, 50))}/${fmt(percentile(preview, 99))} ms (n=${preview.length})`
    );
    const loopP99 = loopDelay.percentile(99) / 1e6;
    const benchCpuWindow = cpuPercent(procSamples.get(process.pid) ?? [], window);
    say(
      `window closed (${runningAtOpen} → ${runningAtClose} running); Atlas ×${Math.round(
        opts.timeScale * Math.max(1, (lastFinish - Date.now()) / 1000 / DRAIN_TARGET_S)
      )} from now; waiting for every export to finish`
    );

    // Drain: every export must end, Successful. The measurement is over, so Atlas's clock is sped up to end the
    // remaining jobs within about DRAIN_TARGET_S; the cadence's longest wait (maximumInterval / timeScale) bounds
    // how late each workflow notices.
    const speedup = Math.max(1, (lastFinish - Date.now()) / 1000 / DRAIN_TARGET_S);
    sim.setTimeScale(opts.timeScale * speedup);
    const drainDeadline = Date.now() + (DRAIN_TARGET_S + 600_000 / opts.timeScale / 1000 + 300) * 1000;
    for (;;) {
      checkAborted();
      const running = (await client.workflow.count(`TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`)).count;
      if (running === 0) break;
      if (Date.now() > drainDeadline) {
        notes.push(`${running} exports still running 300 s after the last one should have ended`);
        break;
      }
      await sleepMs(5_000);
    }
    const succeeded = (await client.workflow.count(`TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Completed'`))
      .count;
    clearInterval(sampler);
    sampleProcs();

    const { slips, unmatched, reports, dispatch } = measureSlip(slipSamples.values(), sim.requests, window);

    const windowGets = sim.requests.filter(
      (r) => r.operation === 'getExportJob' && r.at.getTime() >= window.from && r.at.getTime() <= window.to
    );
    const perProject = new Map<string, number>();
    for (const r of windowGets) perProject.set(r.groupId ?? '', (perProject.get(r.groupId ?? '') ?? 0) + 1);
    const windowS = (window.to - window.from) / 1000;

    const latencies = {} as RunResult['latenciesMs'];
    for (const key of Object.keys(HISTOGRAMS) as HistogramKey[]) {
      let delta: Buckets = new Map();
      workers.forEach((_, i) => {
        const name = HISTOGRAMS[key];
        delta = addBuckets(
          delta,
          bucketDelta(histogramBuckets(scrapesAfter[i]!, name), histogramBuckets(scrapesBefore[i]!, name))
        );
      });
      const p50 = histogramPercentile(delta, 50);
      const p99 = histogramPercentile(delta, 99);
      latencies[key] = { p50: p50.value, p99: p99.value, count: p99.count, p99OverLastBucket: p99.overLast };
    }

    const createdS = jobsNow.map((j) => (realAt(j.createdAt.getTime()) - rampStart) / 1000);
    const createdProfile = [10, 50, 90, 100].map((p) => Math.round(percentile(createdS, p)));
    const durationsMin = jobsNow.map((j) => (j.plan.queuedMs + j.plan.inProgressMs) / 60_000);
    const result: RunResult = {
      generatedAt: new Date().toISOString(),
      command,
      options: optionValues(opts),
      workerEnv,
      wallS: (Date.now() - wallStart) / 1000,
      rampS,
      startsPerSecond: started / rampS,
      steadyWindowS: windowS,
      inFlightDuringWindow: {
        min: Math.min(runningAtOpen, runningAtClose),
        max: Math.max(runningAtOpen, runningAtClose),
      },
      exportsSucceeded: succeeded,
      exportsOther: opts.exports - succeeded,
      simulatedDurationMin: { min: Math.min(...durationsMin), max: Math.max(...durationsMin) },
      workers: workers.map((w) => workerResult(w.pid, procSamples.get(w.pid) ?? [], window)),
      latenciesMs: latencies,
      slip: {
        samples: slips.length,
        unmatched,
        p50Ms: percentile(slips, 50),
        p99Ms: percentile(slips, 99),
        maxMs: slips.length ? Math.max(...slips) : NaN,
        reportP50Ms: percentile(reports, 50),
        reportP99Ms: percentile(reports, 99),
        dispatchP50Ms: percentile(dispatch, 50),
        dispatchP99Ms: percentile(dispatch, 99),
      },
      atlas: {
        getsPerSecondInWindow: windowGets.length / windowS,
        rateLimited: sim.stats.rateLimited,
        requests: sim.requests.length,
        maxGetsPerSecondPerProject: Math.max(0, ...perProject.values()) / windowS,
        byOperation: countBy(sim.requests.map((r) => `${r.operation} ${r.status}`)),
      },
      createdAtS: createdProfile,
      baselineRssMiB: workers.map((w) => (procSamples.get(w.pid)?.[0]?.rssBytes ?? NaN) / MIB),
      devServerCpuPercent: cpuPercent(procSamples.get(server.process.pid ?? -1) ?? [], window),
      serverLatencies: serverLatencies(serverBefore, serverAfter),
      benchProcess: { cpuPercent: benchCpuWindow, eventLoopDelayP99Ms: loopP99 },
      stickyCacheSize: [Math.min(...stickySizes), Math.max(...stickySizes)],
      notes,
    };
    if (succeeded !== opts.exports) {
      exitCode = 1;
      notes.push(`${opts.exports - succeeded} exports did not complete successfully`);
    }
    const table = renderTable([result]);
    console.log(table);
    say('dev server, slowest series over the window (p50 / p99 ms, count):');
    for (const r of result.serverLatencies.slice(0, 15))
      say(`  ${r.series}: ${fmt(r.p50Ms)} / ${r.p99OverLastBucket ? '>' : ''}${fmt(r.p99Ms)}, n=${r.count}`);
    const file = opts.quick ? QUICK_RESULT_FILE : RESULT_FILE;
    writeResult(file, resultKey(opts), result);
    say(`wrote ${relative(ROOT, file)}`);
    if (!opts.quick) for (const chart of await writeCharts('scale')) say(`wrote ${relative(ROOT, chart)}`);
  } catch (err) {
    exitCode = 1;
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  } finally {
    loopDelay.disable();
    for (const c of cleanups.reverse()) {
      try {
        await Promise.race([
          c.run(),
          sleepMs(30_000).then(() => {
            throw new Error('timed out after 30 s');
          }),
        ]);
      } catch (err) {
        console.error(`cleanup of the ${c.what} failed: ${String(err)}`);
        exitCode = 1;
      }
    }
  }
  return exitCode;
}

/** Timer slip of each sample whose next GET of its job arrived inside the window (see SlipSample). */
function measureSlip(
  samples: Iterable<SlipSample>,
  requests: readonly { operation: string; path: string; at: Date }[],
  window: Window
): { slips: number[]; unmatched: number; reports: number[]; dispatch: number[] } {
  const getsByJob = new Map<string, number[]>();
  for (const r of requests) {
    if (r.operation !== 'getExportJob') continue;
    const jobId = r.path.split('/').at(-1) ?? '';
    (getsByJob.get(jobId) ?? getsByJob.set(jobId, []).get(jobId)!).push(r.at.getTime());
  }
  const matched: MatchedSlip[] = [];
  let unmatched = 0;
  for (const s of samples) {
    const arrivedAt = getsByJob.get(s.jobId)?.find((t) => t > s.failedAt);
    if (arrivedAt === undefined) unmatched += 1;
    else if (arrivedAt >= window.from && arrivedAt <= window.to) matched.push({ ...s, arrivedAt });
  }
  // serverDueAt = failedAt + nextRetryDelay and dueAt = decidedAt + nextRetryDelay, so their difference is the time
  // from the cadence's decision (right after the GET) to the server recording the failure.
  const withServer = matched.filter((m) => m.serverDueAt !== undefined);
  return {
    slips: matched.map((m) => m.arrivedAt - m.dueAt),
    unmatched,
    reports: withServer.map((m) => m.serverDueAt! - m.dueAt),
    dispatch: withServer.map((m) => m.arrivedAt - m.serverDueAt!),
  };
}

interface ServerLatency {
  /** Metric name and its distinguishing labels, e.g. `task_latency_queue{operation=TimerActiveTaskActivityRetryTimer}`. */
  series: string;
  count: number;
  p50Ms: number;
  p99Ms: number;
  p99OverLastBucket: boolean;
}

/** Every server histogram series matching SERVER_HISTOGRAM with observations between the two scrapes. */
function serverLatencies(before: Sample[], after: Sample[]): ServerLatency[] {
  const group = (samples: Sample[]) => {
    const bySeries = new Map<string, Buckets>();
    for (const s of samples) {
      if (!s.name.endsWith('_bucket')) continue;
      const metric = s.name.slice(0, -'_bucket'.length);
      if (!SERVER_HISTOGRAM.test(metric)) continue;
      const labels = Object.entries(s.labels)
        .filter(([k]) => !SERVER_LABELS_IGNORED.has(k))
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      const series = `${metric}{${labels}}`;
      const buckets = bySeries.get(series) ?? bySeries.set(series, new Map()).get(series)!;
      const le = bucketBound(s.labels.le);
      buckets.set(le, (buckets.get(le) ?? 0) + s.value);
    }
    return bySeries;
  };
  const b = group(before);
  const rows: ServerLatency[] = [];
  for (const [series, buckets] of group(after)) {
    const delta = bucketDelta(buckets, b.get(series) ?? new Map<number, number>());
    const p99 = histogramPercentile(delta, 99);
    if (p99.count <= 0) continue;
    // The server's Prometheus histograms are in seconds.
    rows.push({
      series,
      count: p99.count,
      p50Ms: histogramPercentile(delta, 50).value * 1000,
      p99Ms: p99.value * 1000,
      p99OverLastBucket: p99.overLast,
    });
  }
  return rows.sort((x, y) => y.p99Ms - x.p99Ms);
}

function parseDynamicConfig(json: string | undefined): Record<string, unknown> | undefined {
  if (!json) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new Error(`BENCH_DEV_SERVER_DYNAMIC_CONFIG is not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('BENCH_DEV_SERVER_DYNAMIC_CONFIG must be a JSON object of dynamic config keys to values');
  return value as Record<string, unknown>;
}

/** Projects of `perProject` exports, clusters of `perCluster`, one completed snapshot per export. */
function seedTargets(sim: AtlasSimulator, opts: Options): Target[] {
  const targets: Target[] = [];
  const dayAgo = new Date(sim.simulatedNow().getTime() - 86_400_000);
  let groupId = '';
  let exportBucketId = '';
  let clusterName = '';
  for (let i = 0; i < opts.exports; i++) {
    if (i % opts.perProject === 0) {
      groupId = sim.addProject();
      exportBucketId = sim.addExportBucket(groupId);
    }
    if ((i % opts.perProject) % opts.perCluster === 0) {
      clusterName = `Cluster${Math.floor((i % opts.perProject) / opts.perCluster)}`;
      sim.addCluster(groupId, clusterName, { totalCollections: 8 });
    }
    const snapshotId = sim.addSnapshot(groupId, clusterName, { createdAt: dayAgo });
    targets.push({
      index: i,
      workflowId: `scale-${i}`,
      groupId,
      clusterName,
      snapshotId,
      exportBucketId,
    });
  }
  return targets;
}

const NEXT_READ = /^Export job (\S+) is .*; next read at (\S+):/;

async function describeSlip(client: Client, workflowId: string): Promise<SlipSample | undefined> {
  const d = await client.workflow.getHandle(workflowId).describe();
  const pending = d.raw.pendingActivities?.[0];
  const m = NEXT_READ.exec(pending?.lastFailure?.message ?? '');
  const failedAt = optionalTsToMs(pending?.lastAttemptCompleteTime);
  if (!pending || !m || failedAt === undefined) return undefined;
  const dueAt = Date.parse(m[2]!);
  if (!Number.isFinite(dueAt)) return undefined;
  return {
    workflowId,
    jobId: m[1]!,
    attempt: pending.attempt ?? 0,
    dueAt,
    failedAt,
    serverDueAt: optionalTsToMs(pending.nextAttemptScheduleTime),
  };
}

function countBy(keys: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = (out[k] ?? 0) + 1;
  return out;
}

function optionValues(opts: Options): Omit<Options, 'argv'> {
  const { exports, workers, quick, timeScale, steadyS, perProject, perCluster, startConcurrency } = opts;
  return { exports, workers, quick, timeScale, steadyS, perProject, perCluster, startConcurrency };
}

function inWindow(samples: ProcReading[], w: Window): ProcReading[] {
  return samples.filter((s) => s.at >= w.from && s.at <= w.to);
}

function cpuPercent(samples: ProcReading[], w: Window): number {
  const s = inWindow(samples, w);
  if (s.length < 2) return NaN;
  const first = s[0]!;
  const last = s.at(-1)!;
  return (100 * (last.cpuSeconds - first.cpuSeconds)) / ((last.at - first.at) / 1000);
}

function workerResult(pid: number, samples: ProcReading[], w: Window): WorkerResult {
  const steady = inWindow(samples, w).map((s) => s.rssBytes / MIB);
  return {
    pid,
    peakRssMiB: Math.max(0, ...samples.map((s) => s.peakRssBytes / MIB)),
    steadyRssMiB: { mean: steady.reduce((a, b) => a + b, 0) / steady.length, max: Math.max(...steady) },
    steadyCpuPercent: cpuPercent(samples, w),
    wholeRunCpuPercent: cpuPercent(samples, { from: 0, to: Infinity }),
  };
}

const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '—');

export function renderTable(results: RunResult[]): string {
  const columns = [
    'workers',
    'exports in flight',
    'exports per project',
    'steady window, s',
    'RSS per worker, MiB: steady mean / peak',
    'CPU per worker, % of a core (steady)',
    'WFT schedule-to-start p50 / p99, ms',
    'WFT execution p50 / p99, ms',
    'activity schedule-to-start p50 / p99, ms',
    'timer slip p50 / p99 (max), ms',
    'Atlas GETs/s',
    'succeeded',
  ];
  const lines = [`| ${columns.join(' | ')} |`, `|${columns.map(() => '---').join('|')}|`];
  for (const r of results) {
    const l = r.latenciesMs;
    const p99 = (k: HistogramKey) => `${l[k].p99OverLastBucket ? '>' : ''}${fmt(l[k].p99)}`;
    lines.push(
      `| ${[
        r.workers.length,
        `${r.inFlightDuringWindow.min}–${r.inFlightDuringWindow.max}`,
        r.options.perProject,
        fmt(r.steadyWindowS),
        r.workers.map((w) => `${fmt(w.steadyRssMiB.mean)} / ${fmt(w.peakRssMiB)}`).join('; '),
        r.workers.map((w) => fmt(w.steadyCpuPercent)).join('; '),
        `${fmt(l.wftScheduleToStart.p50)} / ${p99('wftScheduleToStart')}`,
        `${fmt(l.wftExecution.p50)} / ${p99('wftExecution')}`,
        `${fmt(l.activityScheduleToStart.p50)} / ${p99('activityScheduleToStart')}`,
        `${fmt(r.slip.p50Ms)} / ${fmt(r.slip.p99Ms)} (${fmt(r.slip.maxMs)}), n=${r.slip.samples}`,
        fmt(r.atlas.getsPerSecondInWindow),
        `${r.exportsSucceeded}/${r.exportsSucceeded + r.exportsOther}`,
      ].join(' | ')} |`
    );
  }
  return lines.join('\n');
}

/** `1-worker x1`; a layout other than the default is part of the key (`1-worker x1 50/project`). */
function resultKey(opts: Pick<Options, 'workers' | 'timeScale' | 'perProject'>): string {
  const layout = opts.perProject === DEFAULT_PER_PROJECT ? '' : ` ${opts.perProject}/project`;
  return `${opts.workers}-worker${opts.workers > 1 ? 's' : ''} x${opts.timeScale}${layout}`;
}

function writeResult(file: string, key: string, result: RunResult): void {
  let runs: Record<string, RunResult> = {};
  if (existsSync(file)) {
    try {
      runs = (JSON.parse(readFileSync(file, 'utf8')) as { runs?: Record<string, RunResult> }).runs ?? {};
    } catch {
      runs = {};
    }
  }
  runs[key] = result;
  writeResultFile(file, { runs, table: renderTable(Object.values(runs)) });
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    }
  );
}
