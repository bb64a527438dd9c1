import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportCompletion } from '../../src/shared/contract/export-contract';
import { exportListener, receivedQuery } from '../fixtures/listener-workflow';
import { startSimulatedAtlas, type SimulatedAtlas } from '../helpers/atlas';
import { ExportHarness } from '../helpers/export-harness';
import {
  connectTemporal,
  startTestWorker,
  uniqueId,
  type TemporalTestContext,
  type TestWorker,
} from '../helpers/temporal';
import { spawnWorker, workerEnv, type WorkerProcess } from '../helpers/worker-process';

/**
 * The worker process killed with SIGKILL at seeded random moments of many exports' lifecycles (while creating,
 * while a create request is in flight, mid-poll, between Atlas finishing and the signal), restarted each time:
 * every export must end Successful with exactly one Atlas job, and every exportCompleted signal must arrive
 * exactly once. `CRASH_SEED`/`CRASH_KILLS` override the defaults to explore more schedules locally.
 */
const SEED = Number(process.env.CRASH_SEED ?? 20261128);
const KILLS = Number(process.env.CRASH_KILLS ?? 12);
const EXPORTS = 10;

/** mulberry32: a small seeded PRNG, so a failing schedule can be replayed with its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let temporal: TemporalTestContext;
let atlas: SimulatedAtlas;
let listenerWorker: TestWorker;
const processes: WorkerProcess[] = [];

beforeAll(async () => {
  temporal = await connectTemporal();
  // 120x (not the usual 600x): an export spans several kill cycles, each of which waits for a worker to boot.
  atlas = await startSimulatedAtlas({ timeScale: 120 });
  // The listener (a test fixture) runs on an in-process worker of its own, which is never killed.
  listenerWorker = await startTestWorker(temporal, atlas.client());
});

afterAll(async () => {
  await Promise.all(processes.map((p) => p.kill('SIGKILL')));
  await listenerWorker?.stop();
  await atlas?.close();
  await temporal?.close();
});

describe('the worker process killed with SIGKILL, again and again', () => {
  it(`loses no export, creates no second job and delivers every signal once (seed ${SEED}, ${KILLS} kills)`, async () => {
    const random = prng(SEED);
    const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo));
    const taskQueue = uniqueId('crash-tq');
    // Short attempts, so an attempt lost with its worker is retried within seconds.
    const env = workerEnv(temporal.address, atlas.sim.url, taskQueue, { ATLAS_REQUEST_TIMEOUT: '1s' });
    const h = new ExportHarness(temporal, atlas, taskQueue);
    const listener = await temporal.client.workflow.start(exportListener, {
      taskQueue: listenerWorker.taskQueue,
      workflowId: uniqueId('crash-listener'),
      args: [EXPORTS + 1_000], // never satisfied: a duplicate signal must still be received and counted
    });

    // Exports start at seeded moments during the kill loop, so kills land in every phase.
    const pending = Array.from({ length: EXPORTS }, (_, i) => ({
      startAfterKill: between(0, Math.max(1, KILLS - 3)),
      snapshotId: h.freshSnapshot(),
      // 0.5-3 min queued, 10-30 min in progress: 5-16 s of real time each at 120x.
      plan: { queuedMs: between(30_000, 180_000), inProgressMs: between(600_000, 1_800_000), totalCollections: 5 + i },
      // Some creates are slow, so a kill can land while the POST is in flight (its response is lost).
      slowCreate: random() < 0.4,
    }));
    const started: { workflowId: string; snapshotId: string }[] = [];
    const closed = new Set<string>();
    // For each kill, where each export still running stood (Atlas's view): no job yet, job running, or job
    // finished in Atlas while the workflow had not ended yet (its last read, the signal or the result).
    const phasesAtKill = { creating: 0, polling: 0, ending: 0 };

    const startDue = async (kill: number) => {
      for (const p of pending.filter((x) => x.startAfterKill === kill)) {
        atlas.sim.setExportPlan(p.plan, { snapshotId: p.snapshotId });
        if (p.slowCreate) {
          atlas.sim.injectFaults({ operation: 'createExportJob', kind: 'delay', delayMs: 700, times: 1 });
        }
        const handle = await h.start(
          h.input({
            snapshotId: p.snapshotId,
            notify: { workflowId: listener.workflowId },
            polling: {
              initialInterval: '2s',
              maximumInterval: '10s',
              timeScale: 10,
              reportInterval: '1s',
              attemptTimeout: '3s',
              timeout: '10m',
            },
          })
        );
        started.push({ workflowId: handle.workflowId, snapshotId: p.snapshotId });
        void handle.result().finally(() => closed.add(handle.workflowId));
      }
    };

    for (let kill = 0; kill < KILLS; kill++) {
      const worker = spawnWorker(env);
      processes.push(worker);
      await worker.ready();
      await startDue(kill);
      await new Promise((r) => setTimeout(r, between(300, 2_500)));
      // Where each started export stands at the moment of the kill (Atlas's view).
      for (const s of started.filter((x) => !closed.has(x.workflowId))) {
        const jobs = h.jobsOf(s.workflowId);
        if (jobs.length === 0) phasesAtKill.creating++;
        else if (['Queued', 'InProgress'].includes(jobs[0]!.state)) phasesAtKill.polling++;
        else phasesAtKill.ending++;
      }
      expect(await worker.kill('SIGKILL')).toBeNull();
    }
    await startDue(KILLS); // none left in practice; kept so every planned export starts
    const last = spawnWorker(env);
    processes.push(last);
    await last.ready();

    const results = await Promise.all(
      started.map((s) => temporal.client.workflow.getHandle(s.workflowId).result() as Promise<ExportCompletion>)
    );
    expect(started).toHaveLength(EXPORTS);
    expect(results.map((r) => r.state)).toEqual(Array<string>(EXPORTS).fill('Successful'));
    // Exactly one Atlas job per export, and one POST that took effect each.
    for (const s of started) expect(h.jobsOf(s.workflowId), s.workflowId).toHaveLength(1);

    // Every signal arrived exactly once (the listener keeps counting past the expected number).
    const deadline = Date.now() + 30_000;
    while ((await listener.query(receivedQuery)).length < EXPORTS && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
    }
    await new Promise((r) => setTimeout(r, 1_500)); // room for a late duplicate
    const received = await listener.query(receivedQuery);
    const perWorkflow = new Map<string, number>();
    for (const c of received) perWorkflow.set(c.workflowId, (perWorkflow.get(c.workflowId) ?? 0) + 1);
    expect([...perWorkflow.keys()].sort()).toEqual(started.map((s) => s.workflowId).sort());
    expect([...perWorkflow.values()].every((n) => n === 1)).toBe(true);
    await listener.terminate('crash suite done');

    console.log(
      `[crash suite] seed ${SEED}: ${KILLS} SIGKILLs, ${EXPORTS} exports completed, duplicates 0, lost signals 0; ` +
        `running exports at kill time: creating ${phasesAtKill.creating}, polling ${phasesAtKill.polling}, ending (Atlas done, workflow not) ${phasesAtKill.ending}`
    );
    expect(phasesAtKill.polling).toBeGreaterThan(0);
    expect(await last.kill('SIGTERM')).toBe(0);
  }, 600_000);
});
