import {
  type Client,
  WorkflowFailedError,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { ExportProgress, ExportSnapshotInput } from '../../src/shared/contract/export-contract';
import { exportSnapshot, progressQuery } from '../../src/workflows';
import { exportListener } from '../fixtures/listener-workflow';
import type { SimulatorOptions } from '../../src/simulator';
import { startSimulatedAtlas, type SimulatedAtlas } from './atlas';
import { connectTemporal, startTestWorker, uniqueId, type TemporalTestContext, type TestWorker } from './temporal';

/**
 * Fast polling for a simulator running 600× real time: reads every 100–400 ms of the worker's clock (1–4 s of
 * Atlas's at `timeScale` 10, above the input floors).
 */
export const FAST_POLLING = {
  initialInterval: '1s',
  maximumInterval: '4s',
  backoffCoefficient: 1.5,
  timeScale: 10,
  timeout: '2m',
  reportInterval: '1s',
  attemptTimeout: '10s',
} as const;

/**
 * A fixed cadence whose first read comes 20 min (Atlas time) after the create: 2 min of the test's clock, far
 * beyond a test's timeout, so only a wake-up (an Atlas alert) can end the export in time.
 */
export const SLOW_POLLING = {
  mode: 'fixed',
  initialInterval: '20m',
  interval: '20m',
  timeScale: 10,
  timeout: '1h',
  reportInterval: '1s',
  attemptTimeout: '10s',
} as const;

/**
 * One export of a fresh completed snapshot of the simulator's cluster, started through `client` on `taskQueue`
 * with {@link FAST_POLLING}; resolves to its result (the suites that run a real worker process use it).
 */
export async function exportFreshSnapshot(
  client: Client,
  atlas: SimulatedAtlas,
  options: { taskQueue: string; idPrefix: string }
): Promise<Awaited<ReturnType<typeof exportSnapshot>>> {
  const f = atlas.fixtures;
  const snapshotId = atlas.sim.addSnapshot(f.groupId, f.clusterName, { status: 'completed' });
  const handle = await client.workflow.start(exportSnapshot, {
    taskQueue: options.taskQueue,
    workflowId: uniqueId(options.idPrefix),
    args: [
      {
        groupId: f.groupId,
        clusterName: f.clusterName,
        snapshotId,
        exportBucketId: f.exportBucketId,
        polling: FAST_POLLING,
      },
    ],
  });
  return handle.result();
}

/** Shortcuts shared by the workflow suites: inputs on fresh snapshots, starts, and what Atlas saw. */
export class ExportHarness {
  constructor(
    readonly temporal: TemporalTestContext,
    readonly atlas: SimulatedAtlas,
    readonly taskQueue: string
  ) {}

  input(overrides: Partial<ExportSnapshotInput> = {}): ExportSnapshotInput {
    const f = this.atlas.fixtures;
    return {
      groupId: f.groupId,
      clusterName: f.clusterName,
      snapshotId: f.snapshotId,
      exportBucketId: f.exportBucketId,
      polling: FAST_POLLING,
      ...overrides,
    };
  }

  /** A fresh completed snapshot, so exports in different tests never contend for one snapshot. */
  freshSnapshot(clusterName = this.atlas.fixtures.clusterName): string {
    return this.atlas.sim.addSnapshot(this.atlas.fixtures.groupId, clusterName, { status: 'completed' });
  }

  start(
    args: unknown,
    taskQueue = this.taskQueue
  ): Promise<WorkflowHandleWithFirstExecutionRunId<typeof exportSnapshot>> {
    return this.temporal.client.workflow.start(exportSnapshot, {
      taskQueue,
      workflowId: uniqueId('export'),
      args: [args as ExportSnapshotInput],
    });
  }

  /** A caller workflow that collects `exportCompleted` signals (test/fixtures/listener-workflow.ts). */
  startListener(expected = 1) {
    return this.temporal.client.workflow.start(exportListener, {
      taskQueue: this.taskQueue,
      workflowId: uniqueId('listener'),
      args: [expected],
    });
  }

  /** Jobs in the simulator tagged with this workflow id. */
  jobsOf(workflowId: string) {
    return this.atlas.sim.exportJobs().filter((j) => j.customData.some((c) => c.value === workflowId));
  }

  /** Simulator requests of one operation that concern this snapshot (in the path or the body). */
  requestsFor(snapshotId: string, operation: string) {
    return this.atlas.sim.requests.filter(
      (r) =>
        r.operation === operation && (JSON.stringify(r.body ?? '').includes(snapshotId) || r.path.includes(snapshotId))
    );
  }
}

/** Queries an export's progress until `ready` holds (e.g. polling an InProgress job); throws after `timeoutMs`. */
export async function waitForProgress(
  handle: WorkflowHandle,
  ready: (p: ExportProgress) => boolean,
  timeoutMs = 30_000
): Promise<ExportProgress> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = await handle.query(progressQuery).catch(() => undefined);
    if (p && ready(p)) return p;
    if (Date.now() > deadline) throw new Error(`export ${handle.workflowId} never reached the awaited progress`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Polling a job that Atlas reports `InProgress`. */
export const pollingInProgress = (p: ExportProgress) => p.phase === 'polling' && p.state === 'InProgress';

/** The `ApplicationFailure` a workflow failed with, unwrapped from its `ActivityFailure` if any. */
export async function failureOf(handle: WorkflowHandle): Promise<ApplicationFailure> {
  const err: unknown = await handle.result().then(
    () => undefined,
    (e: unknown) => e
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  let cause = (err as WorkflowFailedError).cause;
  if (cause instanceof ActivityFailure) cause = cause.cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

/** What a workflow suite shares: a Temporal connection, a simulator and one in-process worker. */
export interface ExportSuite {
  temporal: TemporalTestContext;
  atlas: SimulatedAtlas;
  worker: TestWorker;
  h: ExportHarness;
}

/**
 * Registers the hooks of a workflow suite: connect, start the simulator and a worker before all tests, clear
 * injected faults after each (they are consumed by the next matching requests, whichever test sent them), and
 * shut everything down after all. Fields are filled in by `beforeAll`. `simulatorOptions` override the
 * simulator's test defaults (e.g. a slower `snapshotPlan`).
 */
export function useExportSuite(simulatorOptions: SimulatorOptions = {}): ExportSuite {
  const suite = {} as ExportSuite;
  beforeAll(async () => {
    suite.temporal = await connectTemporal();
    suite.atlas = await startSimulatedAtlas(simulatorOptions);
    suite.worker = await startTestWorker(suite.temporal, suite.atlas.client());
    suite.h = new ExportHarness(suite.temporal, suite.atlas, suite.worker.taskQueue);
  });
  afterEach(() => suite.atlas?.sim.clearFaults());
  afterAll(async () => {
    await suite.worker?.stop();
    await suite.atlas?.close();
    await suite.temporal?.close();
  });
  return suite;
}
