import { randomBytes } from 'node:crypto';
import type { NativeConnection } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { KeyRing, payloadDataConverter } from '../../src/codec';
import { ENCODED_FAILURES_BUNDLE_MARKER } from '../../src/codec/failure-converter';
import type { AtlasClient } from '../../src/atlas';
import { ConfigError } from '../../src/config';
import { createExportWorker } from '../../src/temporal/create-worker';
import { OPEN_TEST_POLICY } from '../helpers/atlas';
import { workflowBundle } from '../helpers/temporal';

/**
 * With keys, the workflows' own failures are converted in the sandbox: a worker must not run a prebuilt bundle
 * that lacks the encoding failure converter (its failure messages would stay in clear).
 */
describe('the workflow bundle and encoded failures', () => {
  const keys = new KeyRing([['k1', randomBytes(32)]], 'k1');
  const encrypting = payloadDataConverter(keys);

  it('a bundle built with the encrypting data converter carries the marker; the plain one does not', async () => {
    expect(encrypting.failureConverterPath).toBeDefined();
    expect(payloadDataConverter(undefined).failureConverterPath).toBeUndefined();
    const [plain, encoded] = await Promise.all([workflowBundle(), workflowBundle(encrypting.failureConverterPath)]);
    expect(plain.code.includes(ENCODED_FAILURES_BUNDLE_MARKER)).toBe(false);
    expect(encoded.code.includes(ENCODED_FAILURES_BUNDLE_MARKER)).toBe(true);
  });

  it('a worker with keys refuses a prebuilt bundle built without encoded failures', async () => {
    const err: unknown = await createExportWorker({
      connection: {} as NativeConnection,
      namespace: 'default',
      taskQueue: 'unused',
      atlas: {} as AtlasClient,
      policy: OPEN_TEST_POLICY,
      workflowBundle: await workflowBundle(),
      dataConverter: encrypting,
    }).then(
      () => undefined,
      (e: unknown) => e
    );
    // A ConfigError: the worker exits 78 naming WORKER_WORKFLOW_BUNDLE, as for any bad setting.
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('WORKER_WORKFLOW_BUNDLE');
    expect((err as Error).message).toContain('--encode-failures');
  });
});
