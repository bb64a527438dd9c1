import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedAtlas, TEST_SECRETS, type SimulatedAtlas } from '../helpers/atlas';
import { privateFiles } from '../helpers/config-errors';
import { exportFreshSnapshot } from '../helpers/export-harness';
import { connectTemporal, uniqueId, type TemporalTestContext } from '../helpers/temporal';
import { spawnWorker, workerEnv, type WorkerProcess } from '../helpers/worker-process';

/**
 * Issue 17, findings 3 and 7, on the real worker process (`src/worker.ts`): a plaintext Temporal address that
 * is not loopback stops it at start with exit 78, and a private key read from ATLAS_PRIVATE_KEY_FILE signs real
 * requests to the simulator while never reaching its output. On the previous main the first worker tried to
 * connect (and exited 69 after WORKER_STARTUP_RETRY_TIMEOUT), and the second found no credentials (exit 78).
 */

let temporal: TemporalTestContext;
let atlas: SimulatedAtlas;
const workers: WorkerProcess[] = [];
const { write } = privateFiles('aeo-worker-secrets-');

beforeAll(async () => {
  temporal = await connectTemporal();
  atlas = await startSimulatedAtlas();
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill('SIGKILL')));
  await atlas?.close();
  await temporal?.close();
});

async function exitCode(worker: WorkerProcess, timeoutMs: number): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  while (worker.child.exitCode === null && worker.child.signalCode === null) {
    if (Date.now() > deadline) throw new Error(`worker still running:\n${worker.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return worker.child.exitCode;
}

describe('the worker process at start', () => {
  it('exits 78 on a plaintext address that is not loopback, naming the variables, without trying to connect', async () => {
    // A reserved name (RFC 2606): nothing answers, so an old worker would retry and exit 69, not 78.
    const env = workerEnv('temporal.invalid:7233', atlas.sim.url, uniqueId('plaintext-tq'), {
      WORKER_STARTUP_RETRY_TIMEOUT: '2s',
    });
    const worker = spawnWorker(env);
    workers.push(worker);
    expect(await exitCode(worker, 60_000), worker.output()).toBe(78);
    expect(worker.output()).toContain('env.TEMPORAL_ADDRESS');
    expect(worker.output()).toContain('TEMPORAL_ALLOW_PLAINTEXT=true');
    expect(worker.output()).not.toContain('Temporal not ready at start');
  }, 90_000);

  it('signs Atlas requests with ATLAS_PRIVATE_KEY_FILE, logs the transport, and never shows the key', async () => {
    const taskQueue = uniqueId('key-file-tq');
    const env = workerEnv(temporal.address, atlas.sim.url, taskQueue, {
      ATLAS_PRIVATE_KEY_FILE: write('atlas-private-key', `${TEST_SECRETS.privateKey}\n`),
      ATLAS_REQUEST_TIMEOUT: '1s',
      WORKER_LOG_FORMAT: 'json',
      WORKER_LOG_LEVEL: 'DEBUG',
    });
    delete env.ATLAS_PRIVATE_KEY;
    const worker = spawnWorker(env);
    workers.push(worker);
    await worker.ready();
    const result = await exportFreshSnapshot(temporal.client, atlas, { taskQueue, idPrefix: 'key-file-export' });
    expect(result.state).toBe('Successful');
    expect(await worker.kill('SIGTERM')).toBe(0);
    const output = worker.output();
    expect(output).toMatch(/"transport":"plaintext-loopback"/);
    expect(output).not.toContain(TEST_SECRETS.privateKey);
  }, 180_000);
});
