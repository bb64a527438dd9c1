import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedAtlas, TEST_SECRETS, type SimulatedAtlas } from '../helpers/atlas';
import { ExportHarness, FAST_POLLING, pollingInProgress, waitForProgress } from '../helpers/export-harness';
import { connectTemporal, uniqueId, type TemporalTestContext } from '../helpers/temporal';
import { spawnWorker, workerEnv, type WorkerProcess } from '../helpers/worker-process';

let temporal: TemporalTestContext;
let atlas: SimulatedAtlas;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  temporal = await connectTemporal();
  atlas = await startSimulatedAtlas();
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill('SIGKILL')));
  await atlas?.close();
  await temporal?.close();
});

describe('the worker process', () => {
  it('killed with SIGKILL mid-poll and restarted, completes the export with exactly one job', async () => {
    const taskQueue = uniqueId('restart-tq');
    // Short attempts (3 s, so a lost attempt is retried soon) need requests that surely end inside them.
    const env = workerEnv(temporal.address, atlas.sim.url, taskQueue, { ATLAS_REQUEST_TIMEOUT: '1s' });
    const h = new ExportHarness(temporal, atlas, taskQueue);
    const snapshotId = h.freshSnapshot();
    // 1 simulated minute queued, ~83 in progress: about 8 s of real time at 600×.
    atlas.sim.setExportPlan({ queuedMs: 60_000, inProgressMs: 5_000_000, totalCollections: 30 }, { snapshotId });

    const first = spawnWorker(env);
    workers.push(first);
    await first.ready();
    const handle = await h.start(
      h.input({ snapshotId, polling: { ...FAST_POLLING, attemptTimeout: '3s' } }),
      taskQueue
    );

    // Wait until the workflow is polling an in-progress job, then kill the worker without warning.
    await waitForProgress(handle, pollingInProgress);
    expect(await first.kill('SIGKILL')).toBeNull();
    const jobsAtKill = h.jobsOf(handle.workflowId);
    expect(jobsAtKill).toHaveLength(1);
    expect(jobsAtKill[0]!.state).toBe('InProgress');

    const second = spawnWorker(env);
    workers.push(second);
    await second.ready();
    const result = await handle.result();
    expect(result.state).toBe('Successful');
    expect(result.exportedCollections).toBe(30);
    const jobs = h.jobsOf(handle.workflowId);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.id).toBe(result.exportJobId);
    expect(h.requestsFor(snapshotId, 'createExportJob')).toHaveLength(1);

    // SIGTERM drains and exits cleanly.
    expect(await second.kill('SIGTERM')).toBe(0);
    expect(second.output()).not.toContain(TEST_SECRETS.privateKey);
  }, 120_000);

  it('refuses to start with missing Atlas credentials, naming the variables and exiting 78', async () => {
    const w = spawnWorker({ TEMPORAL_ADDRESS: temporal.address, ATLAS_PUBLIC_KEY: 'only-the-public-half' });
    workers.push(w);
    const code = await new Promise<number | null>((resolve) => w.child.once('exit', (exitCode) => resolve(exitCode)));
    expect(code).toBe(78);
    expect(w.output()).toContain('ATLAS_PRIVATE_KEY is missing');
    expect(w.output()).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });
});
