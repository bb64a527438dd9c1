import { randomBytes, randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExport, waitForExport, type ExportSnapshotInput } from '../../src/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING } from '../../src/codec';
import { parseTemporalConfig } from '../../src/config';
import { connectClient } from '../../src/temporal/connection';
import { startSimulatedAtlas, type SimulatedAtlas } from '../helpers/atlas';
import { FAST_POLLING } from '../helpers/export-harness';
import { runCli } from '../helpers/run-cli';
import { connectTemporal, uniqueId, type TemporalTestContext } from '../helpers/temporal';
import { spawnWorker, workerEnv, type WorkerProcess } from '../helpers/worker-process';

/**
 * Issue 17, finding 9, on the real worker process and the real CLI: with `PAYLOAD_ENCRYPTION_REQUIRED=true` a
 * starter without keys refuses to start (exit 78), and a workflow that a keyless client started anyway (its
 * input is in the history in clear: nothing on the worker side can stop a client writing it) is never executed
 * with that input: each workflow task fails on decoding it, so no activity is scheduled and Atlas gets nothing.
 * On the previous main the CLI started the export, and the worker decoded the cleartext and exported.
 */

const EventType = temporal.api.enums.v1.EventType;
const REQUIRED_ENV = {
  PAYLOAD_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
  PAYLOAD_ENCRYPTION_REQUIRED: 'true',
};

let temporalCtx: TemporalTestContext;
let atlas: SimulatedAtlas;
let worker: WorkerProcess;
let taskQueue: string;

beforeAll(async () => {
  temporalCtx = await connectTemporal();
  atlas = await startSimulatedAtlas();
  taskQueue = uniqueId('tq-encryption-required');
  // ATLAS_REQUEST_TIMEOUT below FAST_POLLING's attempt timeout, as the worker requires.
  const env = workerEnv(temporalCtx.address, atlas.sim.url, taskQueue, {
    ...REQUIRED_ENV,
    ATLAS_REQUEST_TIMEOUT: '1s',
  });
  worker = spawnWorker(env);
  await worker.ready();
}, 120_000);

afterAll(async () => {
  await worker?.kill('SIGTERM');
  await atlas?.close();
  await temporalCtx?.close();
});

function exportInput(marker: string): ExportSnapshotInput {
  const { groupId, clusterName, exportBucketId } = atlas.fixtures;
  const snapshotId = atlas.sim.addSnapshot(groupId, clusterName, { status: 'completed' });
  return {
    groupId,
    clusterName,
    snapshotId,
    exportBucketId,
    polling: FAST_POLLING,
    customData: [{ key: 'ticket', value: marker }],
  };
}

describe('PAYLOAD_ENCRYPTION_REQUIRED on the worker and the starter', () => {
  it('the starter CLI without keys refuses to start an export (exit 78, naming the variable)', async () => {
    const input = exportInput(`cli-marker-${randomUUID()}`);
    const workflowId = uniqueId('required-cli');
    const args = ['export', '--group-id', input.groupId, '--cluster', input.clusterName];
    args.push('--snapshot-id', input.snapshotId, '--bucket-id', input.exportBucketId, '--workflow-id', workflowId);
    const run = await runCli('src/starter.ts', args, {
      TEMPORAL_ADDRESS: temporalCtx.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      PAYLOAD_ENCRYPTION_REQUIRED: 'true',
    });
    expect(run.code, run.stderr).toBe(78);
    expect(run.stderr).toContain('PAYLOAD_ENCRYPTION_REQUIRED');
    // Nothing was started.
    await expect(temporalCtx.client.workflow.getHandle(workflowId).describe()).rejects.toThrow(/not found/i);
  }, 120_000);

  it('never runs a workflow a keyless client started with cleartext input; a keyed start succeeds', async () => {
    const config = parseTemporalConfig({ TEMPORAL_ADDRESS: temporalCtx.address, ...REQUIRED_ENV });
    const marker = `cleartext-marker-${randomUUID()}`;
    const workflowId = uniqueId('required-plaintext');
    // A client without the codec (another tool, an old starter) writes the input in clear.
    await startExport(temporalCtx.client, exportInput(marker), { workflowId, taskQueue });
    const handle = temporalCtx.client.workflow.getHandle(workflowId);
    let events: temporal.api.history.v1.IHistoryEvent[] = [];
    const deadline = Date.now() + 60_000;
    // What actually happens: the worker cannot decode the activation, fails the workflow task, and Temporal
    // retries it (with backoff) for as long as the workflow lives; it stays Running, with no progress. The
    // history records the first failed attempt only (the retries are transient tasks).
    while (!events.some((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)) {
      if (Date.now() > deadline) throw new Error(`no failed workflow tasks:\n${worker.output().slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 250));
      events = (await handle.fetchHistory()).events ?? [];
    }
    const failed = events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
    // The task failure is itself encoded (the worker has keys); decrypted, it names the setting.
    const failure = failed!.workflowTaskFailedEventAttributes!.failure!;
    expect(failure.message).toBe('Encoded failure');
    const [attributes] = await new AesGcmPayloadCodec(config.payloadEncryption!).decode([failure.encodedAttributes!]);
    expect(defaultPayloadConverter.fromPayload<{ message: string }>(attributes!).message).toContain(
      'Refusing a payload that is not encrypted: encryption is required (PAYLOAD_ENCRYPTION_REQUIRED)'
    );
    const types = new Set(events.map((e) => e.eventType));
    expect(types.has(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).toBe(false);
    expect(types.has(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED)).toBe(false);
    expect((await handle.describe()).status.name).toBe('RUNNING');
    expect(atlas.sim.exportJobs().some((j) => j.customData.some((c) => c.value === marker))).toBe(false);
    expect(worker.output()).not.toContain(marker);
    await handle.terminate('test: cleartext input refused');

    // The same export from a client with the keys (and the requirement) runs, with ciphertext in history.
    const keyed = await connectClient(config);
    try {
      const keyedMarker = `keyed-marker-${randomUUID()}`;
      const keyedId = uniqueId('required-keyed');
      await startExport(keyed, exportInput(keyedMarker), { workflowId: keyedId, taskQueue });
      expect((await waitForExport(keyed, keyedId)).state).toBe('Successful');
      expect(atlas.sim.exportJobs().filter((j) => j.customData.some((c) => c.value === keyedMarker))).toHaveLength(1);
      const history = await temporalCtx.client.workflow.getHandle(keyedId).fetchHistory();
      const started = history.events!.find((e) => e.workflowExecutionStartedEventAttributes);
      const input = started!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
      expect(Buffer.from(input.metadata!.encoding!).toString()).toBe(ENCRYPTED_ENCODING);
    } finally {
      await keyed.connection.close();
    }
  }, 180_000);
});
