/**
 * Polling-pattern bench: runs simulated Atlas exports through three Temporal polling patterns on a real
 * Temporal dev server and measures what each costs, from the workflow histories and the simulator's request log.
 *
 *   npx tsx bench/polling-patterns.ts [--quick] [--reps N] [--scale-13min S] [--scale-6h S]
 *
 * Patterns (all with the product's cadence: `pollDelayMs` with DEFAULT_POLLING, time-scaled):
 * 1. retry-driven: the product's `exportSnapshot` as is (`pollExportJob` reads once per attempt).
 * 2. timer-loop: `bench/workflows/polling-loops.ts` `exportTimerLoop` (durable sleep + `getExportJob`).
 * 3. heartbeat-loop: `exportHeartbeatLoop`, one long `watchExportJob` activity (bench/activities.ts).
 *
 * Prints a markdown table and writes bench/results/polling-patterns.json (`--quick`: a 1-repetition smoke run at a
 * coarser 6 h time scale, written to polling-patterns.quick.json). Everything it starts (dev server, simulators,
 * workers) is stopped on success, failure, timeout and SIGINT/SIGTERM.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../src/activities';
import { AtlasClient } from '../src/atlas';
import {
  DEFAULT_EXPONENTIAL,
  DEFAULT_POLLING as DEFAULT_POLLING_LIMITS,
  IDEMPOTENCY_TAG_KEY,
  pollingInputSchema,
  type ExportSnapshotInput,
  type PollingSettings,
} from '../src/shared/contract/export-contract';
import { AtlasSimulator, DEV_CREDENTIALS, type DefaultFixtures, type ExportPlan } from '../src/simulator';
import { createBenchActivities, type HeartbeatLog } from './activities';
import {
  expectedPolls,
  fetchRunChain,
  formatSpread,
  heartbeatsSent,
  historyCost,
  progressKey,
  spread,
  type HistoryCost,
  type Spread,
} from './lib/metrics';
import { writeResultFile } from './lib/results-file';
import { BENCH_POLICY, startBenchTemporal, type Cleanup } from './lib/temporal-env';
import { benchProgressQuery, exportHeartbeatLoop, exportSnapshot, exportTimerLoop, progressQuery } from './workflows';
import type { LoopExportInput } from './workflows/polling-loops';

/** The `exponential` polling mode's defaults (the only cadence when this benchmark was written). */
const DEFAULT_POLLING = { ...DEFAULT_POLLING_LIMITS, ...DEFAULT_EXPONENTIAL };

const ROOT = resolve(__dirname, '..');
/** Full runs; `--quick` smoke runs write `polling-patterns.quick.json` so they never overwrite a full result. */
const RESULT_FILE = resolve(__dirname, 'results', 'polling-patterns.json');
const QUICK_RESULT_FILE = resolve(__dirname, 'results', 'polling-patterns.quick.json');
const NAMESPACE = 'default';
/** The heartbeating pattern's heartbeatTimeout in simulated time (scaled like the cadence). */
const HEARTBEAT_TIMEOUT_SIM_MS = 120_000;
/** How often the bench asks each running workflow for its progress (real ms). */
const QUERY_EVERY_MS = 1_000;
/**
 * Observed on this dev server (CLI 1.9.1, server 1.32): a workflow timer or an activity retry delay shorter than
 * 1 s fires after ~1 s (sleep(100) and nextRetryDelay 250 ms both take ~1,005 ms; 1,250 ms takes ~1,280 ms).
 * Cadence steps that scale below it are stretched for the timer-loop and retry-driven patterns (not for the
 * heartbeating loop, which sleeps in-process).
 */
const DEV_SERVER_MIN_DELAY_MS = 1_000;

const PATTERNS = ['retry-driven', 'timer-loop', 'heartbeat-loop'] as const;
type PatternKey = (typeof PATTERNS)[number];
const PATTERN_TITLES: Record<PatternKey, string> = {
  'retry-driven': 'retry-driven (product `exportSnapshot`)',
  'timer-loop': 'workflow timer loop',
  'heartbeat-loop': 'heartbeating activity loop',
};

interface ScenarioDef {
  key: '13min' | '6h';
  title: string;
  plan: ExportPlan;
  /** Simulated ms per real ms, for the simulator and the cadence alike. */
  timeScale: number;
}

interface Options {
  quick: boolean;
  reps: number;
  scenarios: ScenarioDef[];
  argv: string[];
}

function parseOptions(): Options {
  const argv = process.argv.slice(2);
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      reps: { type: 'string' },
      'scale-13min': { type: 'string' },
      'scale-6h': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log('Usage: npx tsx bench/polling-patterns.ts [--quick] [--reps N] [--scale-13min S] [--scale-6h S]');
    process.exit(0);
  }
  const num = (raw: string | undefined, fallback: number, name: string): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${raw}`);
    return n;
  };
  const quick = values.quick;
  const reps = Math.round(num(values.reps, quick ? 1 : 3, 'reps'));
  return {
    quick,
    reps,
    argv,
    scenarios: [
      {
        key: '13min',
        title: '13-min export: Queued 2.4 min + InProgress 10.5 min, 20 collections',
        plan: { queuedMs: 144_000, inProgressMs: 630_000, totalCollections: 20 },
        timeScale: num(values['scale-13min'], 20, 'scale-13min'),
      },
      {
        key: '6h',
        title: '6-hour export: Queued 2.4 min + InProgress 6 h, 500 collections',
        plan: { queuedMs: 144_000, inProgressMs: 6 * 3_600_000, totalCollections: 500 },
        timeScale: num(values['scale-6h'], quick ? 120 : 60, 'scale-6h'),
      },
    ],
  };
}

/** The product's default polling, time-scaled (the per-attempt timeout stays real: it bounds one HTTP call). */
function scaledPollingInput(scale: number) {
  return {
    initialInterval: Math.round(DEFAULT_POLLING.initialIntervalMs / scale),
    maximumInterval: Math.round(DEFAULT_POLLING.maximumIntervalMs / scale),
    backoffCoefficient: DEFAULT_POLLING.backoffCoefficient,
    reportInterval: Math.round(DEFAULT_POLLING.reportIntervalMs / scale),
    timeout: Math.round(DEFAULT_POLLING.timeoutMs / scale),
    attemptTimeout: DEFAULT_POLLING.attemptTimeoutMs,
    maxHistoryEvents: DEFAULT_POLLING.maxHistoryEvents,
  };
}

/**
 * The scenario's schedule without jitter: polls and detection lag in real time, and how many of its steps scale
 * below the dev server's 1 s minimum delay (and the simulated time that stretches the timer and retry patterns by).
 */
function nominalSchedule(def: ScenarioDef, polling: PollingSettings) {
  const durationSimMs = def.plan.queuedMs + def.plan.inProgressMs;
  const real = expectedPolls(durationSimMs, DEFAULT_POLLING, undefined);
  const scaled = expectedPolls(durationSimMs / def.timeScale, polling, undefined);
  const below = scaled.delays.filter((d) => d < DEV_SERVER_MIN_DELAY_MS);
  return {
    polls: real.polls,
    lagSimS: real.lagMs / 1000,
    stepsBelowDevServerMinimum: below.length,
    stretchSimS: (below.reduce((sum, d) => sum + DEV_SERVER_MIN_DELAY_MS - d, 0) * def.timeScale) / 1000,
  };
}

interface ScenarioRuntime {
  def: ScenarioDef;
  sim: AtlasSimulator;
  atlas: AtlasClient;
  fixtures: DefaultFixtures;
  taskQueue: string;
  heartbeats: HeartbeatLog;
  pollingInput: ReturnType<typeof scaledPollingInput>;
  polling: PollingSettings;
  heartbeatTimeoutMs: number;
  nominal: ReturnType<typeof nominalSchedule>;
  /** A real instant and the simulated instant that matched it, to place request-log entries on the simulated clock. */
  anchor: { realMs: number; simMs: number };
}

interface ExportRun {
  scenario: ScenarioRuntime;
  pattern: PatternKey;
  rep: number;
  workflowId: string;
  firstRunId: string;
  snapshotId: string;
  handle: WorkflowHandleWithFirstExecutionRunId;
  startedAtMs: number;
  closedAtMs: number | undefined;
  result: unknown;
  error: unknown;
  done: boolean;
  seenByQuery: Set<string>;
  queries: number;
  queryErrors: number;
}

interface ExportMeasurement {
  scenario: string;
  pattern: PatternKey;
  rep: number;
  workflowId: string;
  exportJobId: string;
  outcome: string;
  wallMs: number;
  runs: number;
  continuedAsNew: number;
  historyEvents: number;
  maxEventsPerRun: number;
  activities: HistoryCost['activities'];
  activityAttempts: number;
  /** Retry-driven: first attempts of `pollExportJob` that only schedule the first read (one per activity). */
  deferredAttempts: number;
  timers: number;
  signals: number;
  heartbeatCalls: number;
  heartbeatsSentEstimate: number;
  atlasGets: number;
  atlasGetsNon200: number;
  /** Polls the schedule gives in real time. */
  expectedGets: number;
  /** The same with this dev server's 1 s minimum timer/retry delay (timer-loop and retry-driven only). */
  expectedGetsOnDevServer: number;
  detectionLagSimS: number;
  expectedLagSimS: number;
  /** From the job's finish until the client saw the workflow closed (includes Temporal dispatch × time scale). */
  closeLagSimS: number;
  /** Mean real ms each poll after the first came later than its scheduled step (dispatch and processing overhead). */
  pollOverheadRealMs: number;
  /** The same for the first poll, which includes the hand-off from the create activity to the polling. */
  firstPollOverheadRealMs: number;
  /** Simulated seconds all the overheads shifted the last poll by. */
  driftSimS: number;
  cloudActions: number;
  progressValuesReachedWorkflow: number;
  progressValuesSeenByQuery: number;
  queriesSent: number;
  notes: string[];
}

const noop = () => undefined;
const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : JSON.stringify(err));
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };
const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const say = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish in ${Math.round(ms / 1000)} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function main(): Promise<number> {
  const wallStart = Date.now();
  const opts = parseOptions();
  const command = ['npx tsx bench/polling-patterns.ts', ...opts.argv].join(' ');
  const cleanups: Cleanup[] = [];
  const aborted = new Promise<never>((_, reject) => {
    const onSignal = (signal: NodeJS.Signals) => reject(new Error(`interrupted by ${signal}`));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  aborted.catch(noop);
  const runs: ExportRun[] = [];
  let exitCode = 0;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
    say('starting the Temporal dev server (headless)');
    const { address, client, nativeConnection } = await startBenchTemporal(cleanups, NAMESPACE);
    say(`dev server on ${address}; bundling bench workflows`);
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: resolve(__dirname, 'workflows', 'index.ts'),
      logger: quietLogger,
    });

    const scenarios: ScenarioRuntime[] = [];
    for (const def of opts.scenarios) {
      const sim = await AtlasSimulator.start({ timeScale: def.timeScale, defaultExportPlan: def.plan });
      cleanups.push({ what: `simulator ${def.key}`, run: () => sim.close() });
      const anchor = { realMs: Date.now(), simMs: sim.simulatedNow().getTime() };
      const fixtures = sim.seedDefault();
      const sa = DEV_CREDENTIALS.serviceAccounts[0];
      if (!sa) throw new Error('the simulator has no development service account');
      const atlas = new AtlasClient({
        baseUrl: sim.url,
        credentials: { mode: 'service-account', clientId: sa.clientId, clientSecret: sa.clientSecret },
        timeoutMs: 10_000,
      });
      cleanups.push({ what: `Atlas client ${def.key}`, run: () => atlas.close() });
      const heartbeats: HeartbeatLog = new Map();
      const taskQueue = `bench-polling-${def.key}-${randomUUID().slice(0, 8)}`;
      const worker = await Worker.create({
        connection: nativeConnection,
        namespace: NAMESPACE,
        taskQueue,
        workflowBundle,
        activities: {
          ...createActivities({ atlas, policy: BENCH_POLICY }),
          ...createBenchActivities(atlas, heartbeats),
        },
        shutdownGraceTime: '2s',
        shutdownForceTime: '10s',
      });
      const running = worker.run();
      cleanups.push({
        what: `worker ${def.key}`,
        run: async () => {
          if (worker.getState() === 'RUNNING') worker.shutdown();
          await running;
        },
      });
      const pollingInput = scaledPollingInput(def.timeScale);
      const polling = pollingInputSchema.parse(pollingInput);
      scenarios.push({
        def,
        sim,
        atlas,
        fixtures,
        taskQueue,
        heartbeats,
        pollingInput,
        polling,
        heartbeatTimeoutMs: Math.round(HEARTBEAT_TIMEOUT_SIM_MS / def.timeScale),
        nominal: nominalSchedule(def, polling),
        anchor,
      });
    }

    for (const s of scenarios) {
      say(
        `${s.def.key}: ×${s.def.timeScale} (cadence ${s.polling.initialIntervalMs}→${s.polling.maximumIntervalMs} ms real, ` +
          `export ${((s.def.plan.queuedMs + s.def.plan.inProgressMs) / s.def.timeScale / 1000).toFixed(0)} s real); ` +
          `schedule without jitter: ${s.nominal.polls} polls, lag ${s.nominal.lagSimS.toFixed(1)} s` +
          (s.nominal.stepsBelowDevServerMinimum
            ? `; ${s.nominal.stepsBelowDevServerMinimum} step(s) below the dev server's 1 s minimum delay`
            : '')
      );
    }

    // Start every export at once: patterns × repetitions per scenario, each on a fresh snapshot.
    const longestRealMs = Math.max(
      ...scenarios.map((s) => (s.def.plan.queuedMs + s.def.plan.inProgressMs) / s.def.timeScale)
    );
    const deadlineMs = Math.round(longestRealMs * 1.5 + 120_000);
    for (const s of scenarios) {
      for (let rep = 1; rep <= opts.reps; rep++) {
        for (const pattern of PATTERNS) runs.push(await startExport(client, s, pattern, rep, deadlineMs));
      }
    }
    say(`started ${runs.length} exports; waiting (bounded at ${Math.round(deadlineMs / 1000)} s)`);

    for (const run of runs) {
      run.handle.result().then(
        (result: unknown) => {
          run.result = result;
          run.done = true;
          run.closedAtMs = Date.now();
        },
        (err: unknown) => {
          run.error = err;
          run.done = true;
          run.closedAtMs = Date.now();
        }
      );
    }
    const allDone = async () => {
      let lastReport = Date.now();
      while (runs.some((r) => !r.done)) {
        await sampleProgress(runs);
        await sleepMs(QUERY_EVERY_MS);
        if (Date.now() - lastReport >= 30_000) {
          lastReport = Date.now();
          say(`${runs.filter((r) => r.done).length}/${runs.length} exports done`);
        }
      }
    };
    await Promise.race([withTimeout(allDone(), deadlineMs, 'the exports'), aborted]);
    say(`all ${runs.length} exports closed after ${Math.round((Date.now() - wallStart) / 1000)} s; measuring`);

    const measurements = await withTimeout(
      (async () => {
        const out: ExportMeasurement[] = [];
        for (const run of runs) out.push(await measure(client, run));
        return out;
      })(),
      120_000,
      'measuring'
    );
    const summary = summarize(measurements, scenarios);
    const wallMs = Date.now() - wallStart;
    const table = renderTable(summary, scenarios, opts, command, wallMs);
    console.log(table);

    const failed = measurements.filter((m) => !m.outcome.startsWith('Successful'));
    if (failed.length > 0) exitCode = 1;
    const resultFile = opts.quick ? QUICK_RESULT_FILE : RESULT_FILE;
    writeResultFile(resultFile, {
      generatedAt: new Date().toISOString(),
      command,
      wallMs,
      options: { quick: opts.quick, reps: opts.reps },
      environment: environment(),
      method: METHOD_NOTES,
      scenarios: scenarios.map((s) => ({
        key: s.def.key,
        title: s.def.title,
        plan: s.def.plan,
        timeScale: s.def.timeScale,
        pollingRealMs: s.polling,
        heartbeatTimeoutRealMs: s.heartbeatTimeoutMs,
        nominalSchedule: s.nominal,
      })),
      summary,
      exports: measurements,
      table,
    });
    say(`wrote ${relative(ROOT, resultFile)}`);
    if (failed.length > 0) {
      say(`FAILED: ${failed.map((m) => `${m.workflowId} ended ${m.outcome}`).join('; ')}`);
    }
  } catch (err) {
    exitCode = 1;
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    // Do not leave workflows running behind (the dev server is in memory, but be explicit).
    await Promise.all(runs.filter((r) => !r.done).map((r) => r.handle.terminate('bench aborted').catch(noop)));
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await withTimeout(c.run(), 30_000, `stopping the ${c.what}`);
      } catch (err) {
        console.error(`cleanup of the ${c.what} failed: ${String(err)}`);
        exitCode = 1;
      }
    }
  }
  return exitCode;
}

async function startExport(
  client: Client,
  s: ScenarioRuntime,
  pattern: PatternKey,
  rep: number,
  deadlineMs: number
): Promise<ExportRun> {
  const snapshotId = s.sim.addSnapshot(s.fixtures.groupId, s.fixtures.clusterName, { status: 'completed' });
  const workflowId = `bench-${pattern}-${s.def.key}-${rep}-${randomUUID().slice(0, 8)}`;
  const target = {
    groupId: s.fixtures.groupId,
    clusterName: s.fixtures.clusterName,
    snapshotId,
    exportBucketId: s.fixtures.exportBucketId,
  };
  const common = { taskQueue: s.taskQueue, workflowId, workflowExecutionTimeout: deadlineMs + 60_000 };
  let handle: WorkflowHandleWithFirstExecutionRunId;
  if (pattern === 'retry-driven') {
    const input: ExportSnapshotInput = { ...target, polling: s.pollingInput };
    handle = await client.workflow.start(exportSnapshot, { ...common, args: [input] });
  } else {
    const input: LoopExportInput = {
      ...target,
      backoff: s.polling,
      attemptTimeoutMs: s.polling.attemptTimeoutMs,
      maxHistoryEvents: s.polling.maxHistoryEvents,
      heartbeatTimeoutMs: s.heartbeatTimeoutMs,
      watchTimeoutMs: s.polling.timeoutMs,
    };
    handle =
      pattern === 'timer-loop'
        ? await client.workflow.start(exportTimerLoop, { ...common, args: [input] })
        : await client.workflow.start(exportHeartbeatLoop, { ...common, args: [input] });
  }
  return {
    scenario: s,
    pattern,
    rep,
    workflowId,
    firstRunId: handle.firstExecutionRunId,
    snapshotId,
    handle,
    startedAtMs: Date.now(),
    closedAtMs: undefined,
    result: undefined,
    error: undefined,
    done: false,
    seenByQuery: new Set(),
    queries: 0,
    queryErrors: 0,
  };
}

/** One query to every running export: which progress values can a caller see while it runs? */
async function sampleProgress(runs: ExportRun[]): Promise<void> {
  await Promise.all(
    runs
      .filter((r) => !r.done)
      .map(async (r) => {
        try {
          const p =
            r.pattern === 'retry-driven'
              ? await r.handle.query(progressQuery)
              : await r.handle.query(benchProgressQuery);
          r.queries += 1;
          const key = progressKey(p);
          if (key && !r.done) r.seenByQuery.add(key);
        } catch {
          r.queryErrors += 1;
        }
      })
  );
}

async function measure(client: Client, run: ExportRun): Promise<ExportMeasurement> {
  const s = run.scenario;
  const notes: string[] = [];
  const chain = await fetchRunChain(client, run.workflowId, run.firstRunId);
  const cost = historyCost(chain);
  const outcome =
    run.error !== undefined ? `error: ${errorMessage(run.error)}` : (progressKey(run.result) ?? 'unknown');
  const job = s.sim
    .exportJobs()
    .find((j) => j.customData.some((c) => c.key === IDEMPOTENCY_TAG_KEY && c.value === run.workflowId));
  if (!job) throw new Error(`${run.workflowId}: no export job tagged with it in the simulator`);
  const jobs = s.sim.exportJobs().filter((j) => j.snapshotId === run.snapshotId);
  if (jobs.length !== 1) notes.push(`${jobs.length} export jobs for its snapshot`);
  if (!job.finishedAt) notes.push(`export job ${job.id} is still ${job.state}`);
  if (outcome !== `Successful:${job.totalCollections}`) notes.push(`outcome ${outcome}`);

  const simAt = (real: Date) => s.anchor.simMs + (real.getTime() - s.anchor.realMs) * s.def.timeScale;
  const gets = s.sim.requests.filter((r) => r.operation === 'getExportJob' && r.path.split('/').at(-1) === job.id);
  const non200 = gets.filter((r) => r.status !== 200).length;
  if (non200 > 0) notes.push(`${non200} GETs answered non-200`);
  const finishedSim = job.finishedAt?.getTime() ?? NaN;
  const createdSim = job.createdAt.getTime();
  const last = gets.at(-1);
  const beforeLast = gets.at(-2);
  const detectionLagSimS = last ? Math.max(0, simAt(last.at) - finishedSim) / 1000 : NaN;
  if (beforeLast && simAt(beforeLast.at) >= finishedSim) notes.push('more than one GET after the finish');

  // What the cadence predicts for this job's actual duration, with this workflow's jitter seed (in real ms): as
  // real time would run it, and as this dev server can (its 1 s minimum delay; not for the in-process loop).
  const durationRealMs = (finishedSim - createdSim) / s.def.timeScale;
  const expected = expectedPolls(durationRealMs, s.polling, run.workflowId);
  const floor = run.pattern === 'heartbeat-loop' ? 0 : DEV_SERVER_MIN_DELAY_MS;
  const onDevServer = expectedPolls(durationRealMs, s.polling, run.workflowId, floor);
  // Dispatch overhead: how much later than its (server-feasible) scheduled step each GET came. The first gap also
  // holds the hand-off from the create activity to the polling; later gaps are the steady state.
  const overheads = gets.map((g, i) => {
    const previousSim = i === 0 ? createdSim : simAt((gets[i - 1] as (typeof gets)[number]).at);
    return (simAt(g.at) - previousSim) / s.def.timeScale - (onDevServer.delays[i] ?? onDevServer.delays.at(-1) ?? 0);
  });
  const steady = overheads.slice(1);
  const driftSimS = (overheads.reduce((a, b) => a + b, 0) * s.def.timeScale) / 1000;
  if (job.finishedAt && gets.length !== onDevServer.polls) {
    notes.push(
      `${gets.length} GETs where the schedule gives ${onDevServer.polls}: its detecting poll was due ` +
        `${((onDevServer.lagMs * s.def.timeScale) / 1000).toFixed(1)} s after the finish, and dispatch overhead had ` +
        `shifted the polls by ${driftSimS.toFixed(1)} s simulated`
    );
  }

  const beats = s.heartbeats.get(run.workflowId) ?? { calls: [], endedAt: undefined };
  const calls = beats.calls;
  const sentEstimate = heartbeatsSent(calls, 0.8 * s.heartbeatTimeoutMs, beats.endedAt ?? calls.at(-1));
  let deferredAttempts = 0;
  if (run.pattern === 'retry-driven') {
    // Each pollExportJob activity spends its first attempt scheduling the first read (firstReadDelayMs).
    const poll = cost.activities.pollExportJob ?? { scheduled: 0, attempts: 0 };
    const create = cost.activities.createExportJob?.attempts ?? 0;
    deferredAttempts = poll.scheduled;
    const unexplained = cost.activityAttempts - create - poll.scheduled - gets.length;
    if (unexplained !== 0) notes.push(`${unexplained} attempts beyond 1 per GET + 1 deferral per pollExportJob`);
  }
  return {
    scenario: s.def.key,
    pattern: run.pattern,
    rep: run.rep,
    workflowId: run.workflowId,
    exportJobId: job.id,
    outcome,
    wallMs: (run.closedAtMs ?? Date.now()) - run.startedAtMs,
    runs: cost.runs,
    continuedAsNew: cost.continuedAsNew,
    historyEvents: cost.events,
    maxEventsPerRun: cost.maxEventsPerRun,
    activities: cost.activities,
    activityAttempts: cost.activityAttempts,
    deferredAttempts,
    timers: cost.timers,
    signals: cost.signals,
    heartbeatCalls: calls.length,
    heartbeatsSentEstimate: sentEstimate,
    atlasGets: gets.length,
    atlasGetsNon200: non200,
    expectedGets: expected.polls,
    expectedGetsOnDevServer: onDevServer.polls,
    detectionLagSimS,
    expectedLagSimS: (expected.lagMs * s.def.timeScale) / 1000,
    closeLagSimS: run.closedAtMs
      ? Math.max(0, s.anchor.simMs + (run.closedAtMs - s.anchor.realMs) * s.def.timeScale - finishedSim) / 1000
      : NaN,
    pollOverheadRealMs: steady.length ? steady.reduce((a, b) => a + b, 0) / steady.length : NaN,
    firstPollOverheadRealMs: overheads[0] ?? NaN,
    driftSimS,
    // Cloud actions (notes §2): each run's start (first start, then one per continue-as-new), each activity
    // attempt, each timer, each heartbeat that reaches the server, each signal. The bench's own queries are
    // left out (they would be 1 action each).
    cloudActions: cost.runs + cost.activityAttempts + cost.timers + sentEstimate + cost.signals,
    progressValuesReachedWorkflow: cost.progressValues.length,
    progressValuesSeenByQuery: run.seenByQuery.size,
    queriesSent: run.queries,
    notes,
  };
}

const SUMMARY_FIELDS = [
  'atlasGets',
  'expectedGets',
  'expectedGetsOnDevServer',
  'detectionLagSimS',
  'expectedLagSimS',
  'closeLagSimS',
  'activityAttempts',
  'deferredAttempts',
  'timers',
  'heartbeatCalls',
  'heartbeatsSentEstimate',
  'historyEvents',
  'maxEventsPerRun',
  'runs',
  'continuedAsNew',
  'cloudActions',
  'progressValuesReachedWorkflow',
  'progressValuesSeenByQuery',
  'pollOverheadRealMs',
  'firstPollOverheadRealMs',
  'driftSimS',
  'wallMs',
] as const;
type SummaryField = (typeof SUMMARY_FIELDS)[number];

interface SummaryRow {
  scenario: string;
  pattern: PatternKey;
  exports: number;
  successful: number;
  metrics: Record<SummaryField, Spread>;
  notes: string[];
}

function summarize(measurements: ExportMeasurement[], scenarios: ScenarioRuntime[]): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const s of scenarios) {
    for (const pattern of PATTERNS) {
      const ms = measurements.filter((m) => m.scenario === s.def.key && m.pattern === pattern);
      const metrics = {} as Record<SummaryField, Spread>;
      for (const f of SUMMARY_FIELDS) metrics[f] = spread(ms.map((m) => m[f]));
      rows.push({
        scenario: s.def.key,
        pattern,
        exports: ms.length,
        successful: ms.filter((m) => m.outcome.startsWith('Successful')).length,
        metrics,
        notes: [...new Set(ms.flatMap((m) => m.notes.map((n) => `${m.workflowId}: ${n}`)))],
      });
    }
  }
  return rows;
}

function renderTable(
  rows: SummaryRow[],
  scenarios: ScenarioRuntime[],
  opts: Options,
  command: string,
  wallMs: number
): string {
  const f = (r: SummaryRow, field: SummaryField, digits = 0) => formatSpread(r.metrics[field], digits);
  const lines: string[] = [];
  lines.push(`## Temporal polling patterns on simulated Atlas exports`, '');
  lines.push(`Command: \`${command}\` (wall time ${(wallMs / 1000).toFixed(0)} s)`, '');
  for (const s of scenarios) {
    const n = s.nominal;
    const stretch = n.stepsBelowDevServerMinimum
      ? ` The first ${n.stepsBelowDevServerMinimum} step(s) scale below the dev server's 1 s minimum timer/retry ` +
        `delay, which delays the timer-loop and retry-driven cadence once by ~${n.stretchSimS.toFixed(0)} s simulated.`
      : '';
    lines.push(
      `- **${s.def.key}**: ${s.def.title}; time scale ×${s.def.timeScale} (cadence 30 s ×1.5 cap 3 min = ` +
        `${s.polling.initialIntervalMs}→${s.polling.maximumIntervalMs} ms real; heartbeatTimeout 2 min = ` +
        `${s.heartbeatTimeoutMs} ms real); ${opts.reps} export(s) per pattern; the schedule without jitter ` +
        `predicts ${n.polls} polls and ${n.lagSimS.toFixed(0)} s detection lag.${stretch}`
    );
  }
  lines.push('');
  const columns = [
    'scenario',
    'pattern',
    'Atlas GETs',
    'expected GETs',
    'detection lag, sim s',
    'expected lag, sim s',
    'activity attempts',
    'timers',
    'heartbeats: calls / est. sent',
    'history events: total / max per run',
    'runs (continue-as-new)',
    'est. Cloud actions',
    'progress values: reached workflow / seen by query',
    'overhead per poll, real ms',
  ];
  lines.push(`| ${columns.join(' | ')} |`, `|${columns.map(() => '---').join('|')}|`);
  for (const r of rows) {
    const cells = [
      r.scenario,
      PATTERN_TITLES[r.pattern],
      f(r, 'atlasGets'),
      f(r, 'expectedGets'),
      f(r, 'detectionLagSimS', 1),
      f(r, 'expectedLagSimS', 1),
      f(r, 'activityAttempts'),
      f(r, 'timers'),
      `${f(r, 'heartbeatCalls')} / ${f(r, 'heartbeatsSentEstimate')}`,
      `${f(r, 'historyEvents')} / ${f(r, 'maxEventsPerRun')}`,
      `${f(r, 'runs')} (${f(r, 'continuedAsNew')})`,
      f(r, 'cloudActions'),
      `${f(r, 'progressValuesReachedWorkflow')} / ${f(r, 'progressValuesSeenByQuery')}`,
      f(r, 'pollOverheadRealMs'),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  lines.push('');
  lines.push(
    'Per export: the mean, with [min–max] when the repetitions differ. "expected" replays the backoff schedule ' +
      "(`pollDelayMs`, each workflow's jitter seed) over the job's simulated duration, as real time would run it. " +
      'Detection lag: from the simulated finish to the GET that saw it; it depends on where the finish falls between ' +
      'two polls (up to the 3 min cap), so it varies per export for every pattern alike. Cloud actions = runs + ' +
      'activity attempts + timers + est. heartbeats sent (SDK throttle 0.8 × heartbeatTimeout) + signals; the ' +
      `bench's own progress queries (every ${QUERY_EVERY_MS} ms real, 1 action each on Cloud) are not counted. ` +
      'Overhead per poll: how much later than its scheduled step each GET after the first came (real ms; × the time ' +
      'scale in simulated time).'
  );
  for (const r of rows.filter((row) => row.pattern === 'retry-driven')) {
    lines.push(
      '',
      `Retry-driven ${r.scenario}: ${f(r, 'activityAttempts')} attempts = 1 create + ${f(r, 'atlasGets')} reads + ` +
        `${f(r, 'deferredAttempts')} deferred first attempts (each \`pollExportJob\` activity spends attempt 1 on ` +
        'scheduling its first read via `nextRetryDelay`; a new activity starts at every state change and every ' +
        'report of progress, default reportInterval 5 min).'
    );
  }
  const notes = rows.flatMap((r) => r.notes);
  const failures = rows.filter((r) => r.successful !== r.exports);
  if (notes.length || failures.length) {
    lines.push('', '**Anomalies:**');
    for (const r of failures) lines.push(`- ${r.scenario} ${r.pattern}: ${r.successful}/${r.exports} successful`);
    for (const n of notes) lines.push(`- ${n}`);
  }
  return lines.join('\n');
}

const METHOD_NOTES = [
  'Real Temporal dev server (temporal server start-dev, in memory) started by the bench; one in-process worker per scenario; one Atlas simulator per scenario with its own time scale.',
  "All patterns use the product's cadence: pollDelayMs with DEFAULT_POLLING (30 s, ×1.5, cap 3 min, ±10 % jitter seeded by the workflow id) divided by the time scale; retry-driven also scales reportInterval (5 min) and timeout (48 h).",
  'History metrics come from fetchHistory of every run of the continue-as-new chain; Atlas GETs and detection lag from the simulator request log (the last GET of the job is the one that saw it terminal).',
  'Heartbeats: the bench activity counts its heartbeat() calls; those reaching the server are estimated by replaying the SDK throttle (0.8 × heartbeatTimeout) over the call times.',
  'Progress reached workflow: distinct state:exportedCollections values in activity results recorded in history. Seen by query: distinct values returned by the progress query the bench sends every second.',
];

function environment() {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trimEnd();
    } catch {
      return null;
    }
  };
  return {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    gitHead: git('rev-parse', 'HEAD'),
    /** Uncommitted changes under src/ at run time (the benchmarked product code may differ from HEAD). */
    gitDirtySrc: (git('status', '--porcelain', '--', 'src') ?? '').split('\n').filter(Boolean),
  };
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  }
);
