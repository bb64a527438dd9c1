import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtlasClient } from '../../src/atlas';
import { freePort, startDevServer } from '../../src/dev/dev-server';
import { AtlasSimulator } from '../../src/simulator';
import { startSimulatedAtlas, TEST_API_KEY, TEST_SECRETS, type SimulatedAtlas } from '../helpers/atlas';
import { ExportHarness, FAST_POLLING, pollingInProgress, waitForProgress } from '../helpers/export-harness';
import { connectTemporal, startTestWorker, type TemporalTestContext } from '../helpers/temporal';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'aeo-restart-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('the Temporal dev server restarted mid-poll, its data on disk', () => {
  it('comes back with the export, which completes with one job', async () => {
    const dbFilename = join(tempDir(), 'temporal.sqlite');
    const port = await freePort();
    let server = await startDevServer({ port, dbFilename });
    const address = server.address;
    // A context of this test's own server (the suite's shared server must not be restarted).
    const connection = await Connection.connect({ address });
    const nativeConnection = await NativeConnection.connect({ address });
    const ctx: TemporalTestContext = {
      client: new Client({ connection, namespace: 'default' }),
      nativeConnection,
      address,
      close: async () => {
        await connection.close();
        await nativeConnection.close();
      },
    };
    const atlas = await startSimulatedAtlas({ timeScale: 120 });
    const worker = await startTestWorker(ctx, atlas.client());
    try {
      const h = new ExportHarness(ctx, atlas, worker.taskQueue);
      const snapshotId = h.freshSnapshot();
      // 30 simulated minutes in progress: 15 s of real time at 120x, long enough to restart the server in.
      atlas.sim.setExportPlan({ queuedMs: 30_000, inProgressMs: 1_800_000, totalCollections: 9 }, { snapshotId });
      const handle = await h.start(h.input({ snapshotId, polling: { ...FAST_POLLING, timeout: '10m' } }));
      await waitForProgress(handle, pollingInProgress);

      await server.stop();
      await new Promise((r) => setTimeout(r, 2_000));
      server = await startDevServer({ port, dbFilename });

      const result = await handle.result();
      expect(result.state).toBe('Successful');
      expect(result.exportedCollections).toBe(9);
      expect(h.jobsOf(handle.workflowId)).toHaveLength(1);
      expect(h.requestsFor(snapshotId, 'createExportJob')).toHaveLength(1);
    } finally {
      await worker.stop();
      await ctx.close();
      await atlas.close();
      await server.stop();
    }
  }, 180_000);
});

describe('the Atlas simulator restarted mid-poll, its jobs kept in its state file', () => {
  let temporal: TemporalTestContext;
  beforeAll(async () => {
    temporal = await connectTemporal();
  });
  afterAll(async () => {
    await temporal?.close();
  });

  it('polling resumes on the same job after the outage and the export completes', async () => {
    const stateFile = join(tempDir(), 'atlas.json');
    const port = await freePort();
    const options = {
      port,
      timeScale: 120,
      stateFile,
      credentials: { apiKeys: [{ publicKey: TEST_SECRETS.publicKey, privateKey: TEST_SECRETS.privateKey }] },
    };
    let sim = await AtlasSimulator.start(options);
    const fixtures = sim.seedDefault();
    const client = new AtlasClient({ baseUrl: sim.url, credentials: TEST_API_KEY, timeoutMs: 2_000 });
    const atlas: SimulatedAtlas = { sim, fixtures, client: () => client, close: () => Promise.resolve() };
    const worker = await startTestWorker(temporal, client);
    try {
      const h = new ExportHarness(temporal, atlas, worker.taskQueue);
      const snapshotId = h.freshSnapshot();
      sim.setExportPlan({ queuedMs: 30_000, inProgressMs: 1_200_000, totalCollections: 6 }, { snapshotId });
      const handle = await h.start(
        h.input({ snapshotId, polling: { ...FAST_POLLING, timeout: '10m', attemptTimeout: '5s' } })
      );
      await waitForProgress(handle, pollingInProgress);
      const jobsBefore = h.jobsOf(handle.workflowId);
      expect(jobsBefore).toHaveLength(1);

      await sim.close(); // flushes the state file
      await new Promise((r) => setTimeout(r, 3_000)); // reads fail meanwhile (connection refused), and are retried
      sim = await AtlasSimulator.start(options);
      atlas.sim = sim;

      const result = await handle.result();
      expect(result.state).toBe('Successful');
      expect(result.exportJobId).toBe(jobsBefore[0]!.id);
      // The restarted simulator knows the job from its state file, and no second one was created.
      expect(sim.exportJobs().filter((j) => j.customData.some((c) => c.value === handle.workflowId))).toHaveLength(1);
      expect(sim.requests.filter((r) => r.operation === 'createExportJob')).toHaveLength(0);
      expect(sim.requests.some((r) => r.operation === 'getExportJob' && r.path.endsWith(result.exportJobId!))).toBe(
        true
      );
    } finally {
      await worker.stop();
      await client.close();
      await sim.close();
    }
  }, 180_000);
});
