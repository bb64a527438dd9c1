import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Runtime,
  type Worker,
  type WorkflowBundle,
} from '@temporalio/worker';
import { inject } from 'vitest';
import type { TargetPolicy } from '../../src/activities';
import type { AtlasClient } from '../../src/atlas';
import { OPEN_TEST_POLICY } from './atlas';
import { createExportWorker } from '../../src/temporal/create-worker';

export const NAMESPACE = 'default';

let runtimeInstalled = false;
/**
 * Keeps the SDK's log to errors (or `TEST_LOG_LEVEL`) in every test file that uses Temporal, replay included;
 * it must happen before the first worker or native connection exists, so it runs when this module loads.
 */
function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level = (process.env.TEST_LOG_LEVEL as 'WARN' | 'INFO' | undefined) ?? 'ERROR';
  // Core's own log lines (e.g. the nondeterminism a replay test provokes on purpose) go through the same level.
  Runtime.install({
    logger: new DefaultLogger(level),
    telemetryOptions: { logging: { filter: { core: level, other: level }, forward: {} } },
  });
}
installQuietRuntime();

const bundlePromises = new Map<string, Promise<WorkflowBundle>>();
/**
 * The product's workflows plus test fixtures, bundled once per test file (and failure converter: an encrypting
 * worker's bundle encodes failures, as `build-workflow-bundle --encode-failures` makes it).
 */
export function workflowBundle(failureConverterPath?: string): Promise<WorkflowBundle> {
  const key = failureConverterPath ?? '';
  let bundle = bundlePromises.get(key);
  if (!bundle) {
    bundle = bundleWorkflowCode({
      workflowsPath: resolve(__dirname, '../fixtures/workflows.ts'),
      logger: quietLogger,
      ...(failureConverterPath ? { failureConverterPath } : {}),
    });
    bundlePromises.set(key, bundle);
  }
  return bundle;
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };

export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export interface TemporalTestContext {
  client: Client;
  nativeConnection: NativeConnection;
  address: string;
  close(): Promise<void>;
}

/** Connects to the dev server that global setup started. */
export async function connectTemporal(): Promise<TemporalTestContext> {
  installQuietRuntime();
  const address = inject('temporalAddress');
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  const client = new Client({ connection, namespace: NAMESPACE });
  return {
    client,
    nativeConnection,
    address,
    async close() {
      await connection.close();
      await nativeConnection.close();
    },
  };
}

/** Starts an export worker on its own task queue; `stop()` shuts it down and waits. */
export interface TestWorker {
  worker: Worker;
  taskQueue: string;
  stop(): Promise<void>;
}

export async function startTestWorker(
  ctx: TemporalTestContext,
  atlas: AtlasClient,
  taskQueue = uniqueId('tq'),
  options: { dataConverter?: DataConverter; policy?: TargetPolicy } = {}
): Promise<TestWorker> {
  const worker = await createExportWorker({
    connection: ctx.nativeConnection,
    namespace: NAMESPACE,
    taskQueue,
    atlas,
    policy: options.policy ?? OPEN_TEST_POLICY,
    workflowBundle: await workflowBundle(options.dataConverter?.failureConverterPath),
    dataConverter: options.dataConverter,
  });
  const running = worker.run();
  return {
    worker,
    taskQueue,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}
