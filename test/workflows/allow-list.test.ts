import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TargetPolicy } from '../../src/activities';
import type { ExportSnapshotInput } from '../../src/shared/contract/export-contract';
import { FailureType } from '../../src/shared/contract/failure-types';
import { exportSnapshot, scheduledExport } from '../../src/workflows';
import { startSimulatedAtlas, type SimulatedAtlas } from '../helpers/atlas';
import { failureOf, FAST_POLLING } from '../helpers/export-harness';
import {
  connectTemporal,
  startTestWorker,
  uniqueId,
  type TemporalTestContext,
  type TestWorker,
} from '../helpers/temporal';

/**
 * Starts through Temporal against workers whose operator set a policy: what the caller asks outside it fails with
 * `TargetNotAllowed` before the simulator sees a request for it. On main the worker took no policy, so each of
 * these starts reached Atlas (the export ran, the snapshot was taken for 365 days, the scaled cadence polled).
 */
let temporal: TemporalTestContext;
let atlas: SimulatedAtlas;
let allowListed: TestWorker;
let realAtlasWorker: TestWorker;

const OTHER_ID = 'bbbbbbbbbbbbbbbbbbbbbbbb';

beforeAll(async () => {
  temporal = await connectTemporal();
  atlas = await startSimulatedAtlas();
  const f = atlas.fixtures;
  const policy: TargetPolicy = {
    allowedTargets: { [f.groupId]: { buckets: [f.exportBucketId], clusters: [f.clusterName] } },
    maxOnDemandRetentionDays: 7,
    simulator: true,
  };
  allowListed = await startTestWorker(temporal, atlas.client(), undefined, { policy });
  realAtlasWorker = await startTestWorker(temporal, atlas.client(), undefined, {
    policy: { ...policy, simulator: false },
  });
});
afterAll(async () => {
  await allowListed?.stop();
  await realAtlasWorker?.stop();
  await atlas?.close();
  await temporal?.close();
});

function input(overrides: Partial<ExportSnapshotInput> = {}): ExportSnapshotInput {
  const f = atlas.fixtures;
  return {
    groupId: f.groupId,
    clusterName: f.clusterName,
    snapshotId: atlas.sim.addSnapshot(f.groupId, f.clusterName, { status: 'completed' }),
    exportBucketId: f.exportBucketId,
    polling: FAST_POLLING,
    ...overrides,
  };
}

const start = (worker: TestWorker, args: ExportSnapshotInput) =>
  temporal.client.workflow.start(exportSnapshot, {
    taskQueue: worker.taskQueue,
    workflowId: uniqueId('allow-list'),
    args: [args],
  });

/** A scheduled run exporting the simulator's cluster from an on-demand snapshot, on `worker`. */
const startOnDemandFleet = (worker: TestWorker, extra: { onDemand?: { retentionInDays: number } } = {}) => {
  const f = atlas.fixtures;
  return temporal.client.workflow.start(scheduledExport, {
    taskQueue: worker.taskQueue,
    workflowId: uniqueId('allow-list-fleet'),
    args: [
      {
        polling: FAST_POLLING,
        ...extra,
        targets: [
          { groupId: f.groupId, clusterName: f.clusterName, exportBucketId: f.exportBucketId, snapshot: 'on-demand' },
        ],
      },
    ],
  });
};

describe('an allow-listed worker', () => {
  it.each([
    ['a project', { groupId: OTHER_ID }, `project ${OTHER_ID} is not in WORKER_ALLOWED_TARGETS`],
    ['a bucket', { exportBucketId: OTHER_ID }, `export bucket ${OTHER_ID} is not allowed`],
  ])('refuses an export to %s outside the list before any request reaches Atlas', async (_, overrides, says) => {
    const before = atlas.sim.requests.length;
    const failure = await failureOf(await start(allowListed, input(overrides)));
    expect(failure.type).toBe(FailureType.TargetNotAllowed);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(says);
    expect(atlas.sim.requests.length - before).toBe(0);
  });

  it('exports what the list allows', async () => {
    const result = await temporal.client.workflow.execute(exportSnapshot, {
      taskQueue: allowListed.taskQueue,
      workflowId: uniqueId('allow-list-ok'),
      args: [input()],
    });
    expect(result.state).toBe('Successful');
  }, 60_000);

  it('refuses an on-demand snapshot kept longer than WORKER_MAX_ON_DEMAND_RETENTION_DAYS before the POST', async () => {
    const before = atlas.sim.requests.length;
    const handle = await startOnDemandFleet(allowListed, { onDemand: { retentionInDays: 365 } });
    const failure = await failureOf(handle);
    expect(failure.type).toBe(FailureType.ScheduledExportFailed);
    expect(failure.message).toContain(FailureType.TargetNotAllowed);
    expect(atlas.sim.requests.slice(before).filter((r) => r.operation === 'takeSnapshot')).toEqual([]);
  }, 60_000);
});

describe('a worker not started for a simulator', () => {
  it('refuses a caller-chosen timeScale before any request reaches Atlas, so no job is left behind', async () => {
    const args = input();
    const before = atlas.sim.requests.length;
    const failure = await failureOf(await start(realAtlasWorker, args));
    expect(failure.type).toBe(FailureType.TargetNotAllowed);
    expect(failure.message).toContain('timeScale 10 is for a simulator only');
    expect(atlas.sim.requests.slice(before).map((r) => r.operation)).toEqual([]);
    expect(atlas.sim.exportJobs().filter((j) => j.snapshotId === args.snapshotId)).toEqual([]);
  }, 60_000);

  it('refuses a scaled fleet before taking its on-demand snapshot', async () => {
    const before = atlas.sim.requests.length;
    const handle = await startOnDemandFleet(realAtlasWorker);
    const failure = await failureOf(handle);
    expect(failure.message).toContain(FailureType.TargetNotAllowed);
    expect(atlas.sim.requests.slice(before).map((r) => r.operation)).toEqual([]);
  }, 60_000);
});
