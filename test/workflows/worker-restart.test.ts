import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedAtlas, TEST_SECRETS, type SimulatedAtlas } from '../helpers/atlas';
import { ExportHarness, FAST_POLLING, pollingInProgress, waitForProgress } from '../helpers/export-harness';
import { connectTemporal, uniqueId, type TemporalTestContext } from '../helpers/temporal';
import { spawnWorker, workerEnv, type WorkerProcess } from '../helpers/worker-process';

let temporal: TemporalTestContext;
let atlas: SimulatedAtlas;
const workers: WorkerProcess[] = [];
let bundleDir: string;
let bundlePath: string;
let bundleCliOutput: string;

beforeAll(async () => {
  temporal = await connectTemporal();
  atlas = await startSimulatedAtlas();
  // The prebuilt workflow bundle, made by the same command as the Docker image's (npm run build:workflow-bundle).
  bundleDir = await mkdtemp(join(tmpdir(), 'workflow-bundle-'));
  bundlePath = join(bundleDir, 'workflow-bundle.js');
  const root = resolve(__dirname, '..', '..');
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', resolve(root, 'src/build-workflow-bundle.ts'), '--out', bundlePath],
    { cwd: root }
  );
  bundleCliOutput = stdout;
}, 120_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill('SIGKILL')));
  await atlas?.close();
  await temporal?.close();
  if (bundleDir) await rm(bundleDir, { recursive: true, force: true });
});

describe('the worker process', () => {
  it('killed with SIGKILL mid-poll and restarted on the prebuilt bundle, completes the export with exactly one job', async () => {
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

    // The restarted worker loads the prebuilt bundle (as the image does) and must replay the first worker's
    // history, which was made by workflows bundled at start: both come from the same source.
    expect(bundleCliOutput).toContain(bundlePath);
    expect((await stat(bundlePath)).size).toBeGreaterThan(10_000);
    const second = spawnWorker({ ...env, WORKER_WORKFLOW_BUNDLE: bundlePath });
    workers.push(second);
    await second.ready();
    expect(first.output()).toContain('Workflow bundle created');
    expect(second.output()).not.toContain('Workflow bundle created');
    expect(second.output()).toContain(bundlePath);
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

  it('refuses to start with a WORKER_WORKFLOW_BUNDLE that is not a file, naming it and exiting 78', async () => {
    const w = spawnWorker({
      ...workerEnv(temporal.address, atlas.sim.url, uniqueId('bundle-tq')),
      WORKER_WORKFLOW_BUNDLE: bundleDir,
    });
    workers.push(w);
    const code = await new Promise<number | null>((resolve) => w.child.once('exit', (exitCode) => resolve(exitCode)));
    expect(code).toBe(78);
    expect(w.output()).toContain('env.WORKER_WORKFLOW_BUNDLE: must be the path of a workflow bundle file');
  });

  it('refuses to start with missing Atlas credentials, naming the variables and exiting 78', async () => {
    const w = spawnWorker({ TEMPORAL_ADDRESS: temporal.address, ATLAS_PUBLIC_KEY: 'only-the-public-half' });
    workers.push(w);
    const code = await new Promise<number | null>((resolve) => w.child.once('exit', (exitCode) => resolve(exitCode)));
    expect(code).toBe(78);
    expect(w.output()).toContain('ATLAS_PRIVATE_KEY is missing');
    expect(w.output()).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });
});
