import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTemporalConfig } from '../../src/config';
import { connectClient, rotateApiKeyFromFile } from '../../src/temporal/connection';
import { startSimulatedAtlas, type SimulatedAtlas } from '../helpers/atlas';
import { exportFreshSnapshot } from '../helpers/export-harness';
import { startGrpcRecordingProxy } from '../helpers/grpc-recording-proxy';
import { connectTemporal, uniqueId, type TemporalTestContext } from '../helpers/temporal';
import { spawnWorker, workerEnv, type WorkerProcess } from '../helpers/worker-process';

/**
 * Issue 17, finding 7 (rotation without restart), on the real worker process: its Temporal API key comes from
 * TEMPORAL_API_KEY_FILE in a directory laid out as Kubernetes mounts a secret (`key -> ..data/key`, `..data ->
 * ..<version>`, replaced by an atomic symlink swap). A gRPC proxy in front of the dev server (which ignores API
 * keys) records the `authorization` header of every call. After the swap the worker sends the new key on every
 * new call, without a restart; a new version open to group or others is refused (the old key stays) until it is
 * made private. On the previous main the worker read the file once and kept sending the first key.
 */

const KEY_A = `tmprl-rotation-a-${randomUUID()}`;
const KEY_B = `tmprl-rotation-b-${randomUUID()}`;

let temporal: TemporalTestContext;
let atlas: SimulatedAtlas;
let proxy: Awaited<ReturnType<typeof startGrpcRecordingProxy>>;
let worker: WorkerProcess | undefined;
const secretDir = mkdtempSync(join(tmpdir(), 'aeo-k8s-secret-'));

/** Writes a version directory `..<name>` holding the key, as the kubelet does before it swaps. */
function writeVersion(name: string, key: string, mode: number): string {
  const dir = join(secretDir, `..${name}`);
  mkdirSync(dir, { mode: 0o700 });
  const file = join(dir, 'api-key');
  writeFileSync(file, `${key}\n`, { mode });
  chmodSync(file, mode);
  return file;
}

/** Points `..data` at a version atomically: a new symlink renamed over the old one. */
function publish(name: string): void {
  symlinkSync(`..${name}`, join(secretDir, '..data_tmp'));
  renameSync(join(secretDir, '..data_tmp'), join(secretDir, '..data'));
}

async function waitFor(what: string, ok: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${worker?.output().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  temporal = await connectTemporal();
  atlas = await startSimulatedAtlas();
  proxy = await startGrpcRecordingProxy(temporal.address);
});
afterAll(async () => {
  await worker?.kill('SIGKILL');
  await proxy?.close();
  await atlas?.close();
  await temporal?.close();
});

describe('Temporal API key rotation from TEMPORAL_API_KEY_FILE', () => {
  it('sends the new key after a Kubernetes-style swap, without a restart, and never logs either key', async () => {
    writeVersion('v1', KEY_A, 0o400);
    publish('v1');
    symlinkSync(join('..data', 'api-key'), join(secretDir, 'api-key'));
    const taskQueue = uniqueId('rotation-tq');
    worker = spawnWorker(
      workerEnv(proxy.address, atlas.sim.url, taskQueue, {
        TEMPORAL_API_KEY_FILE: join(secretDir, 'api-key'),
        // Loopback without TLS (the proxy); an API key implies TLS otherwise.
        TEMPORAL_TLS: 'false',
        ATLAS_REQUEST_TIMEOUT: '1s',
        WORKER_LOG_FORMAT: 'json',
      })
    );
    await worker.ready();
    const keys = () => new Set(proxy.calls.map((c) => c.authorization));
    expect(keys()).toEqual(new Set([`Bearer ${KEY_A}`]));

    // A new version open to others: refused on the re-read, the old key stays in use.
    const v2 = writeVersion('v2', KEY_B, 0o644);
    publish('v2');
    await waitFor('the refusal', () => worker!.output().includes('Temporal API key not rotated'));
    expect(worker.output()).toMatch(/env\.TEMPORAL_API_KEY_FILE: .* is open to group or others \(mode 0644\)/);
    expect(keys().has(`Bearer ${KEY_B}`)).toBe(false);

    // Made private: the next check applies it.
    chmodSync(v2, 0o400);
    await waitFor('the rotation', () => worker!.output().includes('Temporal API key rotated'));
    const mark = proxy.calls.length;
    const result = await exportFreshSnapshot(temporal.client, atlas, { taskQueue, idPrefix: 'rotation-export' });
    expect(result.state).toBe('Successful');
    const after = proxy.calls.slice(mark);
    // Every call the worker started after the rotation carries the new key: polls and task completions alike.
    expect(after.map((c) => c.method)).toEqual(expect.arrayContaining(['RespondWorkflowTaskCompleted']));
    expect(new Set(after.map((c) => c.authorization))).toEqual(new Set([`Bearer ${KEY_B}`]));

    expect(await worker.kill('SIGTERM')).toBe(0);
    for (const key of [KEY_A, KEY_B]) expect(worker.output()).not.toContain(key);
  }, 180_000);

  it("rotates a client Connection's key the same way (the CLI's withClient, e.g. a long watch)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aeo-client-key-'));
    const file = join(dir, 'api-key');
    writeFileSync(file, KEY_A, { mode: 0o600 });
    const config = parseTemporalConfig({
      TEMPORAL_ADDRESS: proxy.address,
      TEMPORAL_API_KEY_FILE: file,
      TEMPORAL_TLS: 'false',
    });
    const client = await connectClient(config);
    const logged: string[] = [];
    const rotation = rotateApiKeyFromFile(config, client.connection, {
      info: (m, meta) => logged.push(`${m} ${JSON.stringify(meta)}`),
      warn: (m) => logged.push(m),
    })!;
    try {
      const sent = async () => {
        const mark = proxy.calls.length;
        await client.workflowService.getSystemInfo({});
        return proxy.calls.slice(mark).map((c) => c.authorization);
      };
      expect(await sent()).toEqual([`Bearer ${KEY_A}`]);
      writeFileSync(file, `${KEY_B}\n`, { mode: 0o600 });
      await rotation.check();
      expect(await sent()).toEqual([`Bearer ${KEY_B}`]);
      expect(logged).toEqual([
        `Temporal API key rotated: read a new key from TEMPORAL_API_KEY_FILE ${JSON.stringify({ file })}`,
      ]);
    } finally {
      rotation.close();
      await client.connection.close();
    }
  });
});
