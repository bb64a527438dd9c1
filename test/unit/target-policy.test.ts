import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities, type TargetPolicy } from '../../src/activities';
import { parseWorkerConfig, redactedWorkerConfig, workerPolicy } from '../../src/config';
import { FailureType } from '../../src/shared/contract/failure-types';
import { ADAPTIVE_DEFAULTS, initialCadenceMemory, type PollCadence } from '../../src/shared/polling/poll-cadence';
import { startSimulatedAtlas, type SimulatedAtlas } from '../helpers/atlas';
import { configError } from '../helpers/config-errors';
import { testLogger } from '../helpers/test-logger';

/**
 * The worker's policy (`WORKER_ALLOWED_TARGETS`, `WORKER_MAX_ON_DEMAND_RETENTION_DAYS`, `WORKER_SIMULATOR_MODE`):
 * parsed with errors naming the variable, and enforced by each activity against the simulator before any request
 * reaches it. On main the activities took no policy: every call below reached the simulator.
 */
let atlas: SimulatedAtlas;
beforeAll(async () => {
  atlas = await startSimulatedAtlas();
});
afterAll(() => atlas.close());

const OTHER_ID = 'aaaaaaaaaaaaaaaaaaaaaaaa';
const BASE_ENV = { ATLAS_CLIENT_ID: 'id', ATLAS_CLIENT_SECRET: 'secret' };

function policy(overrides: Partial<TargetPolicy> = {}): TargetPolicy {
  const f = atlas.fixtures;
  return {
    allowedTargets: { [f.groupId]: { buckets: [f.exportBucketId], clusters: [f.clusterName] } },
    maxOnDemandRetentionDays: 7,
    simulator: true,
    ...overrides,
  };
}

/** Runs one activity attempt under `p`; returns its result or what it threw, and how many requests Atlas got. */
async function run<N extends keyof ReturnType<typeof createActivities>>(
  p: TargetPolicy,
  name: N,
  input: Parameters<ReturnType<typeof createActivities>[N]>[0],
  attempt = 1
): Promise<{ outcome: unknown; requests: number }> {
  const before = atlas.sim.requests.length;
  const env = new MockActivityEnvironment(
    { attempt, scheduleToCloseTimeoutMs: 0, startToCloseTimeoutMs: 60_000 },
    { logger: testLogger() }
  );
  const activities = createActivities({ atlas: atlas.client(), policy: p });
  const fn = activities[name] as (i: unknown) => Promise<unknown>;
  const outcome = await env.run(fn, input).catch((e: unknown) => e);
  return { outcome, requests: atlas.sim.requests.length - before };
}

function expectRefused(r: { outcome: unknown; requests: number }, says: string): void {
  expect(r.outcome).toBeInstanceOf(ApplicationFailure);
  const failure = r.outcome as ApplicationFailure;
  expect(failure.type).toBe(FailureType.TargetNotAllowed);
  expect(failure.nonRetryable).toBe(true);
  expect(failure.message).toContain(says);
  expect(r.requests).toBe(0);
}

const createInput = (o: { groupId?: string; clusterName?: string; exportBucketId?: string } = {}) => {
  const f = atlas.fixtures;
  return {
    groupId: f.groupId,
    clusterName: f.clusterName,
    snapshotId: f.snapshotId,
    exportBucketId: f.exportBucketId,
    idempotencyKey: `key-${Math.random()}`,
    ...o,
  };
};

describe('WORKER_ALLOWED_TARGETS in the activities', () => {
  it('refuses a project, a bucket or a cluster outside the list before any request, and lets the listed one through', async () => {
    expectRefused(await run(policy(), 'createExportJob', createInput({ groupId: OTHER_ID })), `project ${OTHER_ID}`);
    expectRefused(
      await run(policy(), 'createExportJob', createInput({ exportBucketId: OTHER_ID })),
      `export bucket ${OTHER_ID}`
    );
    atlas.sim.addCluster(atlas.fixtures.groupId, 'not-listed');
    expectRefused(
      await run(policy(), 'createExportJob', createInput({ clusterName: 'not-listed' })),
      'cluster not-listed'
    );
    const allowed = await run(policy(), 'createExportJob', createInput());
    expect(allowed.outcome).toMatchObject({ adopted: expect.any(Boolean) as unknown });
    expect(allowed.requests).toBeGreaterThan(0);
  });

  it('guards every activity that calls Atlas', async () => {
    const f = atlas.fixtures;
    const p = policy({ allowedTargets: { [OTHER_ID]: { buckets: ['*'], clusters: ['*'] } } });
    const ref = { groupId: f.groupId, clusterName: f.clusterName };
    expectRefused(await run(p, 'getExportJob', { ...ref, exportJobId: OTHER_ID }), 'project');
    expectRefused(await run(p, 'listSnapshots', ref), 'project');
    expectRefused(await run(p, 'getSnapshot', { ...ref, snapshotId: f.snapshotId }), 'project');
    expectRefused(
      await run(p, 'findLatestExportableSnapshot', { ...ref, exportBucketId: f.exportBucketId }),
      'project'
    );
    expectRefused(await run(p, 'takeSnapshot', { ...ref, description: 'x', retentionInDays: 1 }), 'project');
    const backoff = { initialIntervalMs: 30_000, maximumIntervalMs: 60_000, backoffCoefficient: 2 };
    const wait = { ...ref, snapshotId: f.snapshotId, backoff, firstReadDelayMs: 0, jitterSeed: 's' };
    expectRefused(await run(p, 'awaitSnapshotCompleted', wait), 'project');
    expectRefused(await run(p, 'pollExportJob', pollInput(ADAPTIVE), 2), 'project');
  });

  it('allows any bucket and cluster of a project only where "*" is written', async () => {
    const f = atlas.fixtures;
    const p = policy({ allowedTargets: { [f.groupId]: { buckets: ['*'], clusters: ['*'] } } });
    const r = await run(p, 'findLatestExportableSnapshot', {
      groupId: f.groupId,
      clusterName: f.clusterName,
      exportBucketId: OTHER_ID,
    });
    expect(r.outcome).toMatchObject({ snapshot: { snapshotId: expect.any(String) as unknown } });
    // A "*" project does not widen a project that is listed by id.
    const listed = policy({
      allowedTargets: {
        '*': { buckets: ['*'], clusters: ['*'] },
        [f.groupId]: { buckets: [f.exportBucketId], clusters: ['*'] },
      },
    });
    expectRefused(await run(listed, 'createExportJob', createInput({ exportBucketId: OTHER_ID })), 'export bucket');
    expect((await run(listed, 'listSnapshots', { groupId: OTHER_ID, clusterName: 'c' })).requests).toBeGreaterThan(0);
  });
});

describe('WORKER_MAX_ON_DEMAND_RETENTION_DAYS', () => {
  it('refuses a longer on-demand retention before the POST', async () => {
    const f = atlas.fixtures;
    const ref = { groupId: f.groupId, clusterName: f.clusterName, description: 'x' };
    expectRefused(await run(policy(), 'takeSnapshot', { ...ref, retentionInDays: 365 }), 'retention 365 days');
    const ok = await run(policy(), 'takeSnapshot', { ...ref, retentionInDays: 7 });
    expect(ok.outcome).toMatchObject({ snapshot: { snapshotId: expect.any(String) as unknown } });
  });
});

const ADAPTIVE: PollCadence = { mode: 'adaptive', ...ADAPTIVE_DEFAULTS, timeScale: 1 };

function pollInput(cadence: PollCadence) {
  const f = atlas.fixtures;
  return {
    groupId: f.groupId,
    clusterName: f.clusterName,
    exportJobId: OTHER_ID,
    known: { state: 'Queued', exportedCollections: null, totalCollections: null },
    pollsBefore: 0,
    cadence,
    memory: initialCadenceMemory(Date.now(), null),
    reportIntervalMs: 300_000,
    jitterSeed: 'wf',
  };
}

describe('simulator-only cadences', () => {
  const realAtlas = () => policy({ simulator: false });

  it('refuses timeScale ≠ 1 and intervals under 10 s unless the worker is started for a simulator', async () => {
    expectRefused(await run(realAtlas(), 'pollExportJob', pollInput({ ...ADAPTIVE, timeScale: 10 })), 'timeScale 10');
    const fixed: PollCadence = { mode: 'fixed', initialIntervalMs: 500, intervalMs: 500, timeScale: 1 };
    expectRefused(await run(realAtlas(), 'pollExportJob', pollInput(fixed)), 'initialInterval of 500 ms');
    const f = atlas.fixtures;
    const backoff = { initialIntervalMs: 100, maximumIntervalMs: 400, backoffCoefficient: 2 };
    const wait = {
      groupId: f.groupId,
      clusterName: f.clusterName,
      snapshotId: f.snapshotId,
      backoff,
      firstReadDelayMs: 0,
      jitterSeed: 's',
    };
    expectRefused(await run(realAtlas(), 'awaitSnapshotCompleted', wait), 'initialInterval of 100 ms');

    // The defaults pass against real Atlas (the first attempt defers its read), and the simulator takes the fast ones.
    const defaults = await run(realAtlas(), 'pollExportJob', pollInput(ADAPTIVE));
    expect((defaults.outcome as ApplicationFailure).type).toBe(FailureType.ExportNotReady);
    const fast = await run(policy(), 'pollExportJob', pollInput(fixed));
    expect((fast.outcome as ApplicationFailure).type).toBe(FailureType.ExportNotReady);
  });
});

describe('the policy settings', () => {
  const f = { groupId: '5f0a0a0a0a0a0a0a0a0a0a0a', bucket: '6f0a0a0a0a0a0a0a0a0a0a0a' };

  it('parses the allow-list and the retention cap, and derives simulator mode from a loopback ATLAS_BASE_URL', () => {
    const allowList = JSON.stringify({ [f.groupId]: { buckets: [f.bucket], clusters: ['Cluster0', 'Cluster1'] } });
    const config = parseWorkerConfig({ ...BASE_ENV, WORKER_ALLOWED_TARGETS: ` ${allowList} ` });
    expect(workerPolicy(config)).toEqual({
      allowedTargets: { [f.groupId]: { buckets: [f.bucket], clusters: ['Cluster0', 'Cluster1'] } },
      maxOnDemandRetentionDays: 7,
      simulator: false,
    });
    expect(redactedWorkerConfig(parseWorkerConfig(BASE_ENV)).allowedTargets).toMatch(/^unset: any project/);
    const local = { ...BASE_ENV, ATLAS_BASE_URL: 'http://127.0.0.1:8080' };
    expect(workerPolicy(parseWorkerConfig(local)).simulator).toBe(true);
    expect(workerPolicy(parseWorkerConfig({ ...local, WORKER_SIMULATOR_MODE: 'false' })).simulator).toBe(false);
    expect(workerPolicy(parseWorkerConfig({ ...BASE_ENV, WORKER_SIMULATOR_MODE: 'true' })).simulator).toBe(true);
    expect(parseWorkerConfig({ ...BASE_ENV, WORKER_MAX_ON_DEMAND_RETENTION_DAYS: '30' }).maxOnDemandRetentionDays).toBe(
      30
    );
  });

  it.each([
    ['not JSON', '{group: x}', 'must be JSON'],
    ['a project key that is no groupId', '{"proj":{"buckets":["*"],"clusters":["*"]}}', 'proj: must be a groupId'],
    ['a bucket that is no Atlas id', `{"${f.groupId}":{"buckets":["b1"],"clusters":["*"]}}`, '24 lowercase hex'],
    ['an empty list', `{"${f.groupId}":{"buckets":[],"clusters":["*"]}}`, 'at least one export bucket id'],
    ['"*" with names beside it', `{"${f.groupId}":{"buckets":["*"],"clusters":["*","C0"]}}`, 'list it alone'],
    ['a missing list', `{"${f.groupId}":{"buckets":["*"]}}`, 'clusters'],
    ['an unknown field', `{"${f.groupId}":{"buckets":["*"],"clusters":["*"],"db":["*"]}}`, 'db'],
    ['no project', '{}', 'at least one project'],
  ])('refuses %s, naming the variable', (_, value, says) => {
    const message = configError(() => parseWorkerConfig({ ...BASE_ENV, WORKER_ALLOWED_TARGETS: value }));
    expect(message).toContain('env.WORKER_ALLOWED_TARGETS');
    expect(message).toContain(says);
  });

  it('refuses a retention cap outside 1–365 days and an unknown simulator mode', () => {
    for (const bad of ['0', '366', 'week']) {
      expect(configError(() => parseWorkerConfig({ ...BASE_ENV, WORKER_MAX_ON_DEMAND_RETENTION_DAYS: bad }))).toContain(
        'env.WORKER_MAX_ON_DEMAND_RETENTION_DAYS'
      );
    }
    expect(configError(() => parseWorkerConfig({ ...BASE_ENV, WORKER_SIMULATOR_MODE: 'yes' }))).toContain(
      'env.WORKER_SIMULATOR_MODE'
    );
  });
});
