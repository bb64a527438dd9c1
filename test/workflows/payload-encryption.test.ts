import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { type Client, WorkflowFailedError } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExport, waitForExport, type ExportSnapshotInput } from '../../src/client';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING, payloadDataConverter } from '../../src/codec';
import { startCodecServer, type RunningCodecServer } from '../../src/codec/codec-server';
import { payloadToJson } from '../../src/codec/payload-json';
import { parseTemporalConfig, type TemporalConfig } from '../../src/config';
import { resolveTemporalCli } from '../../src/dev/temporal-cli';
import { SEARCH_ATTRIBUTES } from '../../src/shared/observability/search-attributes';
import { connectClient } from '../../src/temporal/connection';
import { startSimulatedAtlas, type SimulatedAtlas } from '../helpers/atlas';
import { FAST_POLLING } from '../helpers/export-harness';
import {
  connectTemporal,
  NAMESPACE,
  startTestWorker,
  uniqueId,
  type TemporalTestContext,
  type TestWorker,
} from '../helpers/temporal';

const TOKEN = `test-codec-token-${randomUUID()}`;
const KEYS_ENV = {
  PAYLOAD_ENCRYPTION_KEYS: `2026-10:${randomBytes(32).toString('base64')},2026-11:${randomBytes(32).toString('base64')}`,
  PAYLOAD_ENCRYPTION_KEY_ID: '2026-11',
};

let config: TemporalConfig;
let temporalCtx: TemporalTestContext;
let atlas: SimulatedAtlas;
let worker: TestWorker;
let encrypting: Client;
let codecServer: RunningCodecServer;

beforeAll(async () => {
  temporalCtx = await connectTemporal();
  // Configured as the worker and the starter CLI are: from the environment, through the same connection code.
  config = parseTemporalConfig({ TEMPORAL_ADDRESS: temporalCtx.address, ...KEYS_ENV });
  atlas = await startSimulatedAtlas();
  worker = await startTestWorker(temporalCtx, atlas.client(), uniqueId('tq-encrypted'), {
    dataConverter: payloadDataConverter(config.payloadEncryption),
  });
  encrypting = await connectClient(config);
  codecServer = await startCodecServer({
    codec: new AesGcmPayloadCodec(config.payloadEncryption!),
    corsOrigins: ['http://localhost:8233'],
    token: TOKEN,
    namespaces: [NAMESPACE],
  });
});

afterAll(async () => {
  await codecServer?.close();
  await worker?.stop();
  await encrypting?.connection.close();
  await atlas?.close();
  await temporalCtx?.close();
});

/**
 * Every Payload in a decoded history message (any object whose metadata carries an `encoding`), apart from
 * the two kinds a payload codec never sees: search attributes, and the patch id that `patched()` records
 * (written by the SDK's core, under `patch-data`).
 */
function payloadsIn(value: unknown, found: Payload[] = []): Payload[] {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return found;
  const metadata = (value as Payload).metadata;
  if (metadata && metadata.encoding instanceof Uint8Array) found.push(value);
  for (const [k, v] of Object.entries(value)) if (k !== 'searchAttributes' && k !== 'patch-data') payloadsIn(v, found);
  return found;
}

/** Names of the search attributes set or upserted anywhere in a history. */
function searchAttributeNames(value: unknown, names = new Set<string>()): Set<string> {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return names;
  for (const [k, v] of Object.entries(value)) {
    if (k === 'searchAttributes') {
      const fields = (v as { indexedFields?: Record<string, unknown> } | null)?.indexedFields ?? {};
      Object.keys(fields).forEach((n) => names.add(n));
    } else searchAttributeNames(v, names);
  }
  return names;
}

/** A copy of the history without its search attributes, as protobuf bytes. */
function historyBytesWithoutVisibleFields(history: temporal.api.history.v1.IHistory): Buffer {
  const copy = temporal.api.history.v1.History.decode(temporal.api.history.v1.History.encode(history).finish());
  const strip = (value: unknown): void => {
    if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return;
    for (const [k, v] of Object.entries(value)) {
      // The search attributes, and the project id as the Atlas activities' fairness key (the per-project rate
      // limit), are plaintext by design (docs/payload-encryption.md: "What is encrypted, and what stays visible").
      if (k === 'searchAttributes' || k === 'priority') (value as Record<string, unknown>)[k] = null;
      else strip(v);
    }
  };
  strip(copy);
  return Buffer.from(temporal.api.history.v1.History.encode(copy).finish());
}

const encodingOf = (p: Payload) => Buffer.from(p.metadata!.encoding!).toString('utf8');

describe('payload encryption, end to end', () => {
  it('runs an export whose history holds only ciphertext, readable through the codec server', async () => {
    const { groupId, exportBucketId } = atlas.fixtures;
    const clusterName = `enc-cluster-${randomUUID().slice(0, 8)}`;
    atlas.sim.addCluster(groupId, clusterName);
    const snapshotId = atlas.sim.addSnapshot(groupId, clusterName, { status: 'completed' });
    const marker = `plaintext-marker-${randomUUID()}`;
    const input: ExportSnapshotInput = {
      groupId,
      clusterName,
      snapshotId,
      exportBucketId,
      polling: FAST_POLLING,
      customData: [{ key: 'ticket', value: marker }],
    };
    const workflowId = uniqueId('encrypted-export');

    // Starter and worker share the keys: the start, its memo (read back for `started`) and the result round-trip.
    const started = await startExport(encrypting, input, { workflowId, taskQueue: worker.taskQueue });
    expect(started.started).toBe(true);
    const result = await waitForExport(encrypting, workflowId);
    expect(result.state).toBe('Successful');
    // The activities saw the plaintext: Atlas got the custom data.
    const jobs = atlas.sim.exportJobs().filter((j) => j.customData.some((c) => c.value === marker));
    expect(jobs).toHaveLength(1);

    // A client without the codec reads the raw history: every payload is ciphertext under the current key.
    const plainHandle = temporalCtx.client.workflow.getHandle(workflowId);
    const history = await plainHandle.fetchHistory();
    const payloads = payloadsIn(history);
    const startedEvent = history.events?.find((e) => e.workflowExecutionStartedEventAttributes);
    const completedEvent = history.events?.find((e) => e.workflowExecutionCompletedEventAttributes);
    const inputPayloads = startedEvent!.workflowExecutionStartedEventAttributes!.input!.payloads!;
    const resultPayloads = completedEvent!.workflowExecutionCompletedEventAttributes!.result!.payloads!;
    expect(inputPayloads.map(encodingOf)).toEqual([ENCRYPTED_ENCODING]);
    expect(resultPayloads.map(encodingOf)).toEqual([ENCRYPTED_ENCODING]);
    // Memo, static summary/details and activity summaries are payloads too, and go through the codec in SDK 1.24.
    expect(startedEvent!.userMetadata?.summary && encodingOf(startedEvent!.userMetadata.summary)).toBe(
      ENCRYPTED_ENCODING
    );
    expect(payloads.length).toBeGreaterThan(4);
    expect(new Set(payloads.map(encodingOf))).toEqual(new Set([ENCRYPTED_ENCODING]));
    expect(new Set(payloads.map((p) => Buffer.from(p.metadata!['encryption-key-id']!).toString()))).toEqual(
      new Set(['2026-11'])
    );
    // Search attributes are the exception, by design (the UI's list and visibility queries need them in clear):
    // the ids are readable there and nowhere else in the history. The custom data is readable nowhere.
    expect([...searchAttributeNames(history)].sort()).toEqual(
      // All but AtlasExportStalled, which is set only when the stall alarm goes off.
      expect.arrayContaining(
        Object.values(SEARCH_ATTRIBUTES)
          .filter((k) => k !== SEARCH_ATTRIBUTES.stalled)
          .map((k) => k.name)
      )
    );
    const raw = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
    expect(raw.includes(marker)).toBe(false);
    const withoutSearchAttributes = historyBytesWithoutVisibleFields(history);
    for (const plaintext of [marker, clusterName, snapshotId, exportBucketId, groupId]) {
      expect(withoutSearchAttributes.includes(plaintext), plaintext).toBe(false);
    }
    await expect(plainHandle.result()).rejects.toThrow(/binary\/encrypted/);

    // The codec server decrypts those same payloads for a holder of the token (the Web UI's request).
    const res = await request(`${codecServer.url}/decode`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-namespace': NAMESPACE,
        authorization: `Bearer ${TOKEN}`,
        origin: 'http://localhost:8233',
      },
      body: JSON.stringify({ payloads: [...inputPayloads, ...resultPayloads].map(payloadToJson) }),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('http://localhost:8233');
    const body = (await res.body.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    const decoded = body.payloads.map((p) => ({
      encoding: Buffer.from(p.metadata.encoding!, 'base64').toString(),
      value: JSON.parse(Buffer.from(p.data, 'base64').toString()) as Record<string, unknown>,
    }));
    expect(decoded[0]).toEqual({ encoding: 'json/plain', value: input });
    expect(decoded[1]).toMatchObject({ encoding: 'json/plain', value: { state: 'Successful', snapshotId } });

    // The Temporal CLI speaks the same protocol: `--codec-endpoint` with the namespace template and the token.
    const { stdout } = await promisify(execFile)(resolveTemporalCli(), [
      'workflow',
      'show',
      '--workflow-id',
      workflowId,
      '--address',
      temporalCtx.address,
      '--output',
      'json',
      '--codec-endpoint',
      `${codecServer.url}/{namespace}`,
      '--codec-auth',
      `Bearer ${TOKEN}`,
    ]);
    type ShownPayload = { metadata: Record<string, string>; data: string };
    const shown = JSON.parse(stdout) as {
      events: { workflowExecutionStartedEventAttributes?: { input?: { payloads?: ShownPayload[] } } }[];
    };
    const shownInput = shown.events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    expect(Buffer.from(shownInput!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
    expect(JSON.parse(Buffer.from(shownInput!.data, 'base64').toString())).toEqual(input);
  });

  it('encodes failure messages with the keys set: Atlas free text is not in the raw history, the codec reads it', async () => {
    const { groupId, clusterName, exportBucketId } = atlas.fixtures;
    const reason = `stateReason-marker-${randomUUID()}`;
    const detail = `detail-marker-${randomUUID()}`;
    const failedSnapshot = atlas.sim.addSnapshot(groupId, clusterName, { status: 'completed' });
    atlas.sim.setExportPlan(
      {
        queuedMs: 1000,
        inProgressMs: 1000,
        outcome: 'Failed',
        stateReason: { errorCode: 'EXPORT_X', message: reason },
      },
      { snapshotId: failedSnapshot }
    );
    // A job whose creation Atlas refuses with a `detail` (the activity's failure, then the workflow's).
    const refusedSnapshot = atlas.sim.addSnapshot(groupId, clusterName, { status: 'completed' });
    atlas.sim.injectFaults({
      operation: 'createExportJob',
      kind: 'status',
      status: 400,
      errorCode: 'INVALID_X',
      detail,
    });
    try {
      const runs = [
        { snapshotId: refusedSnapshot, marker: detail, workflowId: uniqueId('encrypted-refused') },
        { snapshotId: failedSnapshot, marker: reason, workflowId: uniqueId('encrypted-failed') },
      ];
      for (const run of runs) {
        const input: ExportSnapshotInput = {
          groupId,
          clusterName,
          snapshotId: run.snapshotId,
          exportBucketId,
          polling: FAST_POLLING,
        };
        await startExport(encrypting, input, { workflowId: run.workflowId, taskQueue: worker.taskQueue });
        // A client with the codec reads the Atlas text in the failure chain.
        const err: unknown = await encrypting.workflow
          .getHandle(run.workflowId)
          .result()
          .then(
            () => undefined,
            (e: unknown) => e
          );
        expect(err).toBeInstanceOf(WorkflowFailedError);
        const chain: string[] = [];
        for (let e: unknown = (err as WorkflowFailedError).cause; e instanceof Error; e = e.cause)
          chain.push(e.message);
        expect(chain.join('\n'), run.marker).toContain(run.marker);

        // The raw history (a client without the codec) does not hold it; failures read 'Encoded failure'.
        const history = await temporalCtx.client.workflow.getHandle(run.workflowId).fetchHistory();
        const raw = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
        expect(raw.includes(run.marker), run.marker).toBe(false);
        const failed = history.events?.find((e) => e.workflowExecutionFailedEventAttributes);
        expect(failed?.workflowExecutionFailedEventAttributes?.failure?.message).toBe('Encoded failure');
        const plainErr: unknown = await temporalCtx.client.workflow
          .getHandle(run.workflowId)
          .result()
          .then(
            () => undefined,
            (e: unknown) => e
          );
        expect(String((plainErr as WorkflowFailedError).cause?.message)).not.toContain(run.marker);
      }
    } finally {
      atlas.sim.clearFaults();
      atlas.sim.setExportPlan(undefined, { snapshotId: failedSnapshot });
    }
  });

  it('keeps reading unencrypted histories after encryption is switched on', async () => {
    const { groupId, clusterName, exportBucketId } = atlas.fixtures;
    const snapshotId = atlas.sim.addSnapshot(groupId, clusterName, { status: 'completed' });
    const plainWorker = await startTestWorker(temporalCtx, atlas.client(), uniqueId('tq-plain'));
    try {
      const handle = await temporalCtx.client.workflow.start('exportSnapshot', {
        taskQueue: plainWorker.taskQueue,
        workflowId: uniqueId('plain-export'),
        args: [{ groupId, clusterName, snapshotId, exportBucketId, polling: FAST_POLLING }],
      });
      await handle.result();
      // The encrypting client decodes the plaintext result: decode passes unencrypted payloads through.
      const result = (await encrypting.workflow.getHandle(handle.workflowId).result()) as { snapshotId: string };
      expect(result.snapshotId).toBe(snapshotId);
    } finally {
      await plainWorker.stop();
    }
  });
});
