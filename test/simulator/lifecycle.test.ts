import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtlasSimulator, type DefaultFixtures } from '../../src/simulator';
import {
  api,
  exportsPath,
  pollUntil,
  TEST_CREDENTIALS,
  type BucketBody,
  type LinkBody,
  type JobBody,
  type PageOf,
  type SnapshotBody,
} from './helpers';

const TERMINAL = ['Successful', 'Failed', 'Cancelled'];

describe('export job lifecycle', () => {
  let sim: AtlasSimulator;
  let f: DefaultFixtures;

  beforeEach(async () => {
    sim = await AtlasSimulator.start({
      timeScale: 1000,
      credentials: TEST_CREDENTIALS,
      snapshotPlan: { queuedMs: 20_000, inProgressMs: 60_000 },
    });
    f = sim.seedDefault();
  });
  afterEach(() => sim.close());

  const create = (clusterName: string, snapshotId: string, extra: Record<string, unknown> = {}) =>
    api<JobBody>(sim, exportsPath(f.groupId, clusterName), {
      body: { snapshotId, exportBucketId: f.exportBucketId, ...extra },
    });

  it('goes Queued -> InProgress (rising exportedCollections) -> Successful with finishedAt', async () => {
    sim.setExportPlan({ queuedMs: 50_000, inProgressMs: 400_000, totalCollections: 20 });
    const created = await create(f.clusterName, f.snapshotId, { customData: [{ key: 'run', value: 'r1' }] });
    expect(created.status).toBe(200);
    expect(created.headers.get('content-type')).toBe('application/vnd.atlas.2023-01-01+json');
    const job = created.json;
    expect(job).toMatchObject({
      snapshotId: f.snapshotId,
      exportBucketId: f.exportBucketId,
      state: 'Queued',
      exportStatus: { exportedCollections: 0, totalCollections: 0 },
      customData: [{ key: 'run', value: 'r1' }],
    });
    expect(job.id).toMatch(/^[a-f0-9]{24}$/);
    expect(job.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(job.finishedAt).toBeUndefined();
    expect(job.prefix).toContain(`${f.groupId}/${f.clusterName}/`);
    expect(job.links[0]?.href).toBe(`${sim.url}${exportsPath(f.groupId, f.clusterName)}/${job.id}`);

    const seen = await pollUntil(
      async () => (await api<JobBody>(sim, `${exportsPath(f.groupId, f.clusterName)}/${job.id}`)).json,
      (j) => TERMINAL.includes(j.state),
      { intervalMs: 10, attempts: 500 }
    );
    const final = seen.at(-1) as JobBody;
    expect(final.state).toBe('Successful');
    expect(final.exportStatus).toEqual({ exportedCollections: 20, totalCollections: 20 });
    expect(final.stateReason).toBeUndefined();
    const elapsed = Date.parse(final.finishedAt ?? '') - Date.parse(job.createdAt);
    expect(Math.abs(elapsed - 450_000)).toBeLessThanOrEqual(1000);

    const order = ['Queued', 'InProgress', 'Successful'];
    const ranks = seen.map((j) => order.indexOf(j.state));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    const progress = seen.filter((j) => j.state === 'InProgress').map((j) => j.exportStatus?.exportedCollections ?? -1);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.some((n) => n > 0 && n < 20)).toBe(true);
    for (const j of seen.filter((s) => s.state === 'InProgress')) {
      expect(j.exportStatus?.totalCollections).toBe(20);
      expect(j.finishedAt).toBeUndefined();
    }
  });

  it('reports stateReason for a Failed plan and a default reason for Cancelled', async () => {
    sim.setExportPlan(
      {
        queuedMs: 0,
        inProgressMs: 20_000,
        outcome: 'Failed',
        stateReason: { errorCode: 'EXPORT_BUCKET_ACCESS_DENIED', message: 'Access denied to bucket' },
      },
      { clusterName: f.clusterName }
    );
    sim.setExportPlan(
      { queuedMs: 0, inProgressMs: 20_000, outcome: 'Cancelled' },
      { clusterName: f.shardedClusterName }
    );

    const failed = (await create(f.clusterName, f.snapshotId)).json;
    expect(failed.stateReason).toBeUndefined();
    const cancelled = (await create(f.shardedClusterName, f.shardedSnapshotId)).json;

    const [lastFailed] = (
      await pollUntil(
        async () => (await api<JobBody>(sim, `${exportsPath(f.groupId, f.clusterName)}/${failed.id}`)).json,
        (j) => TERMINAL.includes(j.state)
      )
    ).slice(-1);
    expect(lastFailed).toMatchObject({
      state: 'Failed',
      stateReason: { errorCode: 'EXPORT_BUCKET_ACCESS_DENIED', message: 'Access denied to bucket' },
    });
    expect(lastFailed?.finishedAt).toBeDefined();

    const [lastCancelled] = (
      await pollUntil(
        async () => (await api<JobBody>(sim, `${exportsPath(f.groupId, f.shardedClusterName)}/${cancelled.id}`)).json,
        (j) => TERMINAL.includes(j.state)
      )
    ).slice(-1);
    expect(lastCancelled?.state).toBe('Cancelled');
    expect(lastCancelled?.stateReason?.errorCode).toEqual(expect.any(String));
  });

  it('reports components (one per shard plus config) instead of exportStatus for sharded clusters', async () => {
    const res = await create(f.shardedClusterName, f.shardedSnapshotId);
    expect(res.status).toBe(200);
    const job = res.json;
    expect(job.exportStatus).toBeUndefined();
    expect(job.components).toHaveLength(3);
    const names = (job.components ?? []).map((c) => c.replicaSetName);
    expect(names[0]).toMatch(/-shard-0$/);
    expect(names[1]).toMatch(/-shard-1$/);
    expect(names[2]).toMatch(/-config-0$/);
    const ids = new Set((job.components ?? []).map((c) => c.exportId));
    expect(ids.size).toBe(3);
    for (const id of ids) expect(id).toMatch(/^[a-f0-9]{24}$/);
    expect(sim.exportJobs(f.groupId)[0]?.components).toHaveLength(3);
  });

  it('refuses a second export of a snapshot while one is active (409), and allows it afterwards', async () => {
    // Active for 410 ms real at ×1000, so the second create lands while the first is still running on a busy machine.
    sim.setExportPlan({ queuedMs: 10_000, inProgressMs: 400_000 });
    const first = await create(f.clusterName, f.snapshotId);
    expect(first.status).toBe(200);
    const second = await create(f.clusterName, f.snapshotId);
    expect(second.status).toBe(409);
    expect(second.json).toMatchObject({ error: 409, errorCode: 'EXPORT_ALREADY_IN_PROGRESS', reason: 'Conflict' });

    await pollUntil(
      async () => (await api<JobBody>(sim, `${exportsPath(f.groupId, f.clusterName)}/${first.json.id}`)).json,
      (j) => j.state === 'Successful'
    );
    const third = await create(f.clusterName, f.snapshotId);
    expect(third.status).toBe(200);
    expect(third.json.id).not.toBe(first.json.id);
  });

  it('refuses to export a snapshot that is not completed, or a fallback snapshot', async () => {
    const pending = sim.addSnapshot(f.groupId, f.clusterName, { status: 'inProgress' });
    const res = await create(f.clusterName, pending);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ errorCode: 'SNAPSHOT_NOT_COMPLETE' });

    const fallback = sim.addSnapshot(f.groupId, f.clusterName, { snapshotType: 'fallback' });
    const res2 = await create(f.clusterName, fallback);
    expect(res2.status).toBe(400);
    expect(res2.json).toMatchObject({ errorCode: 'SNAPSHOT_NOT_EXPORTABLE' });
  });

  it('takes an on-demand snapshot that completes over simulated time; a second one meanwhile is refused', async () => {
    const path = `/api/atlas/v2/groups/${f.groupId}/clusters/${f.clusterName}/backup/snapshots`;
    const taken = await api<SnapshotBody>(sim, path, { body: { description: 'before export', retentionInDays: 3 } });
    expect(taken.status).toBe(200);
    expect(taken.json).toMatchObject({
      status: 'queued',
      snapshotType: 'onDemand',
      frequencyType: 'ondemand',
      type: 'replicaSet',
      description: 'before export',
    });
    expect(taken.json.createdAt).toBeUndefined();

    const again = await api(sim, path, { body: {} });
    expect(again.status).toBe(400);
    expect(again.json.errorCode).toBe('UNFINISHED_ON_DEMAND_SNAPSHOT');

    const seen = await pollUntil(
      async () => (await api<SnapshotBody>(sim, `${path}/${taken.json.id}`)).json,
      (s) => s.status === 'completed'
    );
    const done = seen.at(-1) as SnapshotBody;
    expect(done.createdAt).toMatch(/Z$/);
    expect(done.cloudProvider).toBe('AWS');
    expect(done.replicaSetName).toMatch(/-shard-0$/);
    for (const s of seen.filter((x) => x.status !== 'completed')) expect(s.createdAt).toBeUndefined();

    const exported = await create(f.clusterName, taken.json.id);
    expect(exported.status).toBe(200);
  });

  it('lists snapshots newest first and serves each cluster kind only on its own paths, as the spec names them', async () => {
    const base = `/api/atlas/v2/groups/${f.groupId}/clusters`;
    const list = await api<PageOf<SnapshotBody>>(sim, `${base}/${f.clusterName}/backup/snapshots`);
    expect(list.status).toBe(200);
    expect(list.json.totalCount).toBe(3);
    expect(list.json.results[0]?.id).toBe(f.snapshotId);
    const created = list.json.results.map((s) => Date.parse(s.createdAt ?? ''));
    expect(created).toEqual([...created].sort((a, b) => b - a));
    const noSharded = await api<PageOf<SnapshotBody>>(sim, `${base}/${f.clusterName}/backup/snapshots/shardedClusters`);
    expect(noSharded.json.results).toEqual([]);
    const replicaSetOnShardedPath = await api(
      sim,
      `${base}/${f.clusterName}/backup/snapshots/shardedCluster/${f.snapshotId}`
    );
    expect(replicaSetOnShardedPath.status).toBe(404);
    expect(replicaSetOnShardedPath.json.errorCode).toBe('SNAPSHOT_NOT_FOUND');

    const shardedList = await api<PageOf<SnapshotBody>>(
      sim,
      `${base}/${f.shardedClusterName}/backup/snapshots/shardedClusters`
    );
    expect(shardedList.json.results.map((s) => s.id)).toContain(f.shardedSnapshotId);
    expect(shardedList.json.results.every((s) => s.type === 'shardedCluster')).toBe(true);
    const noReplicaSet = await api<PageOf<SnapshotBody>>(sim, `${base}/${f.shardedClusterName}/backup/snapshots`);
    expect(noReplicaSet.json.results).toEqual([]);
    const sharded = await api<SnapshotBody & { links: LinkBody[] }>(
      sim,
      `${base}/${f.shardedClusterName}/backup/snapshots/shardedCluster/${f.shardedSnapshotId}`
    );
    expect(sharded.json.type).toBe('shardedCluster');
    expect(sharded.json.members).toHaveLength(3);
    expect(sharded.json.links[0]?.href).toMatch(`/backup/snapshots/shardedCluster/${f.shardedSnapshotId}`);
    const shardedOnReplicaSetPath = await api(
      sim,
      `${base}/${f.shardedClusterName}/backup/snapshots/${f.shardedSnapshotId}`
    );
    expect(shardedOnReplicaSetPath.status).toBe(404);
    expect(shardedOnReplicaSetPath.json.errorCode).toBe('SNAPSHOT_NOT_FOUND');
  });

  it('serves export buckets', async () => {
    const base = `/api/atlas/v2/groups/${f.groupId}/backup/exportBuckets`;
    const list = await api<PageOf<BucketBody>>(sim, base);
    expect(list.status).toBe(200);
    expect(list.json.results).toHaveLength(1);
    expect(list.json.results[0]).toMatchObject({ _id: f.exportBucketId, cloudProvider: 'AWS', region: 'us-east-1' });
    const one = await api<BucketBody>(sim, `${base}/${f.exportBucketId}`);
    expect(one.json.bucketName).toBe('atlas-export-sim');
    expect(one.json.iamRoleId).toMatch(/^[a-f0-9]{24}$/);
    const newer = await api<BucketBody>(sim, `${base}/${f.exportBucketId}`, {
      accept: 'application/vnd.atlas.2024-05-30+json',
    });
    expect(newer.status).toBe(200);
    expect(newer.headers.get('content-type')).toBe('application/vnd.atlas.2024-05-30+json');
  });
  it('records past export jobs with fixed durations; the list shows them finished, with finishedAt', async () => {
    const now = sim.simulatedNow().getTime();
    const day = 86_400_000;
    const past = sim.addExportJob(f.groupId, f.clusterName, {
      createdAt: new Date(now - 2 * day),
      queuedMs: 150_000,
      inProgressMs: 660_000,
      exportBucketId: f.exportBucketId,
    });
    const failed = sim.addExportJob(f.groupId, f.clusterName, {
      createdAt: new Date(now - day),
      queuedMs: 60_000,
      inProgressMs: 600_000,
      exportBucketId: f.exportBucketId,
      outcome: 'Failed',
    });
    const running = sim.addExportJob(f.groupId, f.clusterName, {
      createdAt: new Date(now - 60_000),
      queuedMs: 120_000,
      inProgressMs: 600_000,
      exportBucketId: f.exportBucketId,
    });
    const list = await api<PageOf<JobBody>>(sim, exportsPath(f.groupId, f.clusterName));
    expect(list.status).toBe(200);
    const byId = new Map(list.json.results.map((j) => [j.id, j]));
    const finished = byId.get(past);
    expect(finished?.state).toBe('Successful');
    expect(Date.parse(finished?.finishedAt ?? '') - Date.parse(finished?.createdAt ?? '')).toBe(810_000);
    expect(byId.get(failed)?.state).toBe('Failed');
    expect(byId.get(running)?.state).toBe('Queued');
    expect(byId.get(running)?.finishedAt).toBeUndefined();
    // Each past job has a completed snapshot of its own, so a new export of the newest snapshot is not a conflict.
    expect(new Set(list.json.results.map((j) => j.snapshotId)).size).toBe(3);
    expect(() =>
      sim.addExportJob(f.groupId, f.clusterName, {
        createdAt: new Date(now),
        queuedMs: -1,
        inProgressMs: 1,
        exportBucketId: f.exportBucketId,
      })
    ).toThrow();
  });
});
