import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startDevServer } from '../../src/dev/dev-server';
import { startSimulatedAtlas, type SimulatedAtlas } from '../helpers/atlas';
import { ExportHarness } from '../helpers/export-harness';
import { connectTemporal, uniqueId, type TemporalTestContext } from '../helpers/temporal';
import { spawnWorker, workerEnv, type WorkerProcess } from '../helpers/worker-process';

/**
 * The real worker process's probes (`WORKER_HEALTH_ADDRESS`): `/readyz` is ready only once the Temporal server
 * reports this worker polling its task queue. The compose healthcheck probed `/metrics` before, which the SDK's
 * runtime serves whether or not anything polls. `/livez` answers whenever the process does.
 */
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

interface Probe {
  status: number;
  body: { ready?: boolean; live?: boolean; reason?: string };
}
async function probe(url: string): Promise<Probe | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return { status: res.status, body: (await res.json()) as Probe['body'] };
  } catch {
    return undefined; // not listening yet
  }
}
async function probeUntil(url: string, holds: (p: Probe) => boolean, timeoutMs = 45_000): Promise<Probe> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = await probe(url);
    if (p && holds(p)) return p;
    if (Date.now() > deadline) throw new Error(`${url}: still ${JSON.stringify(p)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function until(holds: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await holds())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startWorker(
  temporalAddress: string,
  taskQueue = uniqueId('probes-tq'),
  extra: Record<string, string> = {}
) {
  const healthPort = await freePort();
  const worker = spawnWorker(
    workerEnv(temporalAddress, atlas.sim.url, taskQueue, {
      WORKER_HEALTH_ADDRESS: `127.0.0.1:${healthPort}`,
      WORKER_STARTUP_RETRY_TIMEOUT: '10m',
      // Within the test inputs' polling.attemptTimeout (10 s), which a worker checks before calling Atlas.
      ATLAS_REQUEST_TIMEOUT: '8s',
      ...extra,
    })
  );
  workers.push(worker);
  const base = `http://127.0.0.1:${healthPort}`;
  return {
    worker,
    readyz: `${base}/readyz`,
    livez: `${base}/livez`,
  };
}

describe('worker probes', () => {
  it('stay not ready against an unreachable Temporal, while /livez answers', async () => {
    const w = await startWorker(`127.0.0.1:${await freePort()}`);
    const notReady = await probeUntil(w.readyz, (p) => /could not connect to Temporal/.test(p.body.reason ?? ''));
    expect(notReady.status).toBe(503);
    expect(notReady.body.ready).toBe(false);
    expect((await probe(w.livez))?.status).toBe(200);
    expect(w.worker.child.exitCode).toBeNull();
  }, 60_000);

  it('turn ready once the server sees the worker poll, and not ready while it drains', async () => {
    const taskQueue = uniqueId('probes-tq');
    const w = await startWorker(temporal.address, taskQueue);
    const ready = await probeUntil(w.readyz, (p) => p.status === 200);
    expect(ready.body).toMatchObject({ ready: true, reason: expect.stringContaining('polling') as unknown });

    // An Atlas call in flight keeps the worker draining after SIGTERM (it lets in-flight activities finish), so
    // the drain lasts long enough to be seen rather than racing the signal.
    const h = new ExportHarness(temporal, atlas, taskQueue);
    atlas.sim.injectFaults({ operation: 'createExportJob', kind: 'delay', delayMs: 6_000, times: 1 });
    const handle = await h.start(h.input({ snapshotId: h.freshSnapshot() }));
    // The delayed POST has reached the simulator: the activity is in flight on this worker.
    await until(() => Promise.resolve(atlas.sim.requests.some((r) => r.operation === 'createExportJob')));
    w.worker.child.kill('SIGTERM');
    const draining = await probeUntil(w.readyz, (p) => p.status !== 200, 5_000);
    expect(draining).toMatchObject({ status: 503, body: { ready: false } });
    expect(draining.body.reason).toMatch(/^worker (stopping|draining)/);
    expect((await probe(w.livez))?.status).toBe(200);
    expect(w.worker.child.exitCode).toBeNull();
    // The drained activity finished and the worker exited cleanly; the export completes on a worker started afterwards.
    const [code] = (await once(w.worker.child, 'exit')) as [number | null];
    expect(code).toBe(0);
    const next = await startWorker(temporal.address, taskQueue);
    await probeUntil(next.readyz, (p) => p.status === 200);
    expect(await handle.result()).toMatchObject({ state: 'Successful' });
  }, 90_000);

  it('stay ready on a task queue with four partitions (the default of a production server), steadily', async () => {
    // The dev server has one partition per queue; a self-hosted or Cloud namespace has four, and a worker's polls
    // land on any of them. The check reads the root partition, which records this worker's polls forwarded to it.
    const partitioned = await startDevServer({
      dynamicConfig: { 'matching.numTaskqueueReadPartitions': 4, 'matching.numTaskqueueWritePartitions': 4 },
    });
    try {
      const w = await startWorker(partitioned.address, uniqueId('probes-partitioned-tq'), {
        // The fewest pollers the worker allows, so the fewest polls reach the root partition.
        WORKER_MAX_CONCURRENT_WORKFLOW_TASK_POLLS: '2',
        WORKER_MAX_CONCURRENT_ACTIVITY_TASK_POLLS: '1',
      });
      await probeUntil(w.readyz, (p) => p.status === 200);
      // Past one server long-poll (about a minute), the time a poller stays on one partition; every answer ready.
      const answers: Probe[] = [];
      const until = Date.now() + 75_000;
      while (Date.now() < until) {
        const p = await probe(w.readyz);
        if (p) answers.push(p);
        await new Promise((r) => setTimeout(r, 1_000));
      }
      expect(answers.length).toBeGreaterThan(30);
      expect(answers.filter((p) => p.status !== 200)).toEqual([]);
      await w.worker.kill('SIGTERM');
    } finally {
      await partitioned.stop();
    }
  }, 300_000);
});
