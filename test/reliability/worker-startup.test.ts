import { Client, Connection } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startDevServer, type DevServer } from '../../src/dev/dev-server';
import { applyAtlasRateLimit } from '../../src/temporal/atlas-rate-limit';
import { startSimulatedAtlas, type SimulatedAtlas } from '../helpers/atlas';
import { exportFreshSnapshot } from '../helpers/export-harness';
import { connectTemporal, uniqueId, type TemporalTestContext } from '../helpers/temporal';
import { spawnWorker, workerEnv, type WorkerProcess } from '../helpers/worker-process';

/**
 * Issue 13 finding 9: the real worker process (`src/worker.ts`) against a Temporal server that is not there yet,
 * never comes, or already has the task queue's rate limit.
 */

const ACTIVITY = proto.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY;
const RETRY_LINE = 'Temporal not ready at start: could not connect to Temporal; retrying';
const retries = (output: string) => output.split(RETRY_LINE).length - 1;

let temporal: TemporalTestContext;
let atlas: SimulatedAtlas;
const workers: WorkerProcess[] = [];
const servers: DevServer[] = [];

beforeAll(async () => {
  temporal = await connectTemporal();
  atlas = await startSimulatedAtlas();
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill('SIGKILL')));
  await Promise.all(servers.map((s) => s.stop()));
  await atlas?.close();
  await temporal?.close();
});

async function until(what: string, holds: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!holds()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function exitOf(worker: WorkerProcess, timeoutMs: number): Promise<{ code: number | null; afterMs: number }> {
  const started = Date.now();
  await until(
    'the worker to exit',
    () => worker.child.exitCode !== null || worker.child.signalCode !== null,
    timeoutMs
  );
  return { code: worker.child.exitCode, afterMs: Date.now() - started };
}

describe('a worker process started while Temporal is down', () => {
  it('retries, then connects when the server comes up on its address, sets the rate limit and runs an export', async () => {
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const taskQueue = uniqueId('late-server-tq');
    const worker = spawnWorker(
      workerEnv(address, atlas.sim.url, taskQueue, {
        WORKER_ATLAS_PROJECT_RATE_LIMIT: '1000',
        ATLAS_REQUEST_TIMEOUT: '1s',
      })
    );
    workers.push(worker);
    await until('logged retries', () => retries(worker.output()) >= 2);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(worker.child.exitCode, worker.output()).toBeNull();
    expect(worker.output()).toContain('tcp connect error: Connection refused');
    expect(worker.output()).toContain(address);

    const server = await startDevServer({ port });
    servers.push(server);
    await worker.ready();
    const connection = await Connection.connect({ address });
    try {
      const client = new Client({ connection, namespace: 'default' });
      const result = await exportFreshSnapshot(client, atlas, { taskQueue, idPrefix: 'late-server-export' });
      expect(result.state).toBe('Successful');
      const { config } = await connection.workflowService.describeTaskQueue({
        namespace: 'default',
        taskQueue: { name: taskQueue },
        taskQueueType: ACTIVITY,
        reportConfig: true,
      });
      expect(config?.fairnessKeysRateLimitDefault?.rateLimit?.requestsPerSecond).toBe(1000);
    } finally {
      await connection.close();
    }
    expect(await worker.kill('SIGTERM')).toBe(0);
  }, 180_000);

  it('exits 69, not 78, naming the step and the address, when the server does not come within the wait', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const worker = spawnWorker(
      workerEnv(address, atlas.sim.url, uniqueId('no-server-tq'), { WORKER_STARTUP_RETRY_TIMEOUT: '4s' })
    );
    workers.push(worker);
    const { code } = await exitOf(worker, 60_000);
    expect(code, worker.output()).toBe(69);
    expect(retries(worker.output())).toBeGreaterThanOrEqual(3);
    expect(worker.output()).toMatch(
      new RegExp(`Could not connect to Temporal at ${address}: still failing after \\d+ attempts over [45] s`)
    );
  }, 90_000);

  it('stops at once, exit 0, on SIGTERM while it waits for the server', async () => {
    const worker = spawnWorker(workerEnv(`127.0.0.1:${await freePort()}`, atlas.sim.url, uniqueId('stopped-tq')));
    workers.push(worker);
    await until('a logged retry', () => retries(worker.output()) >= 1);
    expect(worker.child.exitCode, worker.output()).toBeNull();
    worker.child.kill('SIGTERM');
    const { code, afterMs } = await exitOf(worker, 10_000);
    expect(code, worker.output()).toBe(0);
    expect(afterMs).toBeLessThan(3_000);
    expect(worker.output()).toContain('Worker stopped while starting');
  }, 60_000);
});

describe('the task-queue rate limit on the dev server', () => {
  it('is written once: applying the value it already has makes no update', async () => {
    const taskQueue = uniqueId('limit-once-tq');
    const service = temporal.nativeConnection.workflowService;
    const configOf = async () =>
      (
        await service.describeTaskQueue({
          namespace: 'default',
          taskQueue: { name: taskQueue },
          taskQueueType: ACTIVITY,
          reportConfig: true,
        })
      ).config?.fairnessKeysRateLimitDefault;
    const options = { namespace: 'default', taskQueue, setting: 1.44 };
    expect(await applyAtlasRateLimit(service, options)).toEqual({ activitiesPerSecond: 1.44, updated: true });
    const first = await configOf();
    expect(first?.rateLimit?.requestsPerSecond).toBeCloseTo(1.44, 5);
    expect(await applyAtlasRateLimit(service, { ...options, identity: 'second worker' })).toEqual({
      activitiesPerSecond: 1.44,
      updated: false,
    });
    const second = await configOf();
    expect(second?.metadata?.updateIdentity).toBe(first?.metadata?.updateIdentity);
    expect(second?.metadata?.updateTime).toEqual(first?.metadata?.updateTime);
  });
});

describe('the allow-list at start (issue 17)', () => {
  const WARNING = 'WORKER_ALLOWED_TARGETS is unset: anyone who can start a workflow on this task queue';

  it('warns naming the risk without WORKER_ALLOWED_TARGETS, not with it, and exits 78 naming a malformed one', async () => {
    const down = async () => `127.0.0.1:${await freePort()}`;
    const { groupId, exportBucketId, clusterName } = atlas.fixtures;
    const list = JSON.stringify({ [groupId]: { buckets: [exportBucketId], clusters: [clusterName] } });
    const unset = spawnWorker(workerEnv(await down(), atlas.sim.url, uniqueId('open-tq')));
    const set = spawnWorker(
      workerEnv(await down(), atlas.sim.url, uniqueId('listed-tq'), { WORKER_ALLOWED_TARGETS: list })
    );
    const malformed = spawnWorker(
      workerEnv(await down(), atlas.sim.url, uniqueId('bad-tq'), { WORKER_ALLOWED_TARGETS: '{"all":true}' })
    );
    workers.push(unset, set, malformed);
    // The warning comes before the first connection attempt, so a logged retry means it had its chance.
    await until('logged retries', () => retries(unset.output()) >= 1 && retries(set.output()) >= 1);
    expect(unset.output()).toContain(WARNING);
    expect(set.output()).not.toContain(WARNING);
    const { code } = await exitOf(malformed, 30_000);
    expect(code, malformed.output()).toBe(78);
    expect(malformed.output()).toContain('env.WORKER_ALLOWED_TARGETS.all');
    expect(await unset.kill('SIGTERM')).toBe(0);
    expect(await set.kill('SIGTERM')).toBe(0);
  }, 60_000);
});
