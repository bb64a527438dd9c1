import { afterEach, describe, expect, it } from 'vitest';
import { AtlasSimulator } from '../../src/simulator';
import { api, exportsPath, TEST_CREDENTIALS, type JobBody } from './helpers';

describe('request log and stats', () => {
  let sim: AtlasSimulator;
  afterEach(() => sim.close());

  it('logs every request with operation, group, query, status, auth and body', async () => {
    sim = await AtlasSimulator.start({ credentials: TEST_CREDENTIALS });
    const f = sim.seedDefault();
    const body = { snapshotId: f.snapshotId, exportBucketId: f.exportBucketId };
    const created = await api<JobBody>(sim, exportsPath(f.groupId, f.clusterName), { body });
    await api(sim, `${exportsPath(f.groupId, f.clusterName)}?itemsPerPage=5&pageNum=1`);
    await api(sim, `${exportsPath(f.groupId, f.clusterName)}/${created.json.id}`);

    expect(sim.requests.map((r) => [r.operation, r.status, r.auth])).toEqual([
      ['createExportJob', 401, 'none'],
      ['createExportJob', 200, 'digest'],
      ['listExportJobs', 401, 'none'],
      ['listExportJobs', 200, 'digest'],
      ['getExportJob', 401, 'none'],
      ['getExportJob', 200, 'digest'],
    ]);
    const post = sim.requests[1];
    expect(post).toMatchObject({
      method: 'POST',
      path: exportsPath(f.groupId, f.clusterName),
      groupId: f.groupId,
      body,
    });
    expect(post?.at).toBeInstanceOf(Date);
    expect(sim.requests[3]?.query).toEqual({ itemsPerPage: '5', pageNum: '1' });
    expect(sim.requests.every((r) => r.faultInjected === undefined)).toBe(true);

    sim.resetLog();
    expect(sim.requests).toHaveLength(0);
  });

  it('tracks the peak of simultaneously active exports, overall and per project', async () => {
    sim = await AtlasSimulator.start({
      credentials: TEST_CREDENTIALS,
      defaultExportPlan: { queuedMs: 60_000, inProgressMs: 60_000 },
    });
    const a = sim.seedDefault();
    const b = sim.seedDefault();
    const create = (groupId: string, clusterName: string, snapshotId: string, exportBucketId: string) =>
      api<JobBody>(sim, exportsPath(groupId, clusterName), { body: { snapshotId, exportBucketId } });

    for (let i = 0; i < 3; i++) {
      const snapshotId = sim.addSnapshot(a.groupId, a.clusterName);
      expect((await create(a.groupId, a.clusterName, snapshotId, a.exportBucketId)).status).toBe(200);
    }
    expect((await create(b.groupId, b.clusterName, b.snapshotId, b.exportBucketId)).status).toBe(200);

    expect(sim.stats.maxConcurrentActiveExports).toBe(4);
    expect(sim.stats.maxConcurrentActiveExportsByProject).toEqual({ [a.groupId]: 3, [b.groupId]: 1 });
    expect(sim.exportJobs(a.groupId)).toHaveLength(3);
    expect(sim.exportJobs()).toHaveLength(4);
    expect(sim.exportJobs().every((j) => j.state === 'Queued')).toBe(true);
  });

  it('does not count exports that finished before the next one started', async () => {
    sim = await AtlasSimulator.start({
      credentials: TEST_CREDENTIALS,
      timeScale: 1000,
      defaultExportPlan: { queuedMs: 0, inProgressMs: 1000 },
    });
    const f = sim.seedDefault();
    for (let i = 0; i < 3; i++) {
      const snapshotId = sim.addSnapshot(f.groupId, f.clusterName);
      const res = await api<JobBody>(sim, exportsPath(f.groupId, f.clusterName), {
        body: { snapshotId, exportBucketId: f.exportBucketId },
      });
      expect(res.status).toBe(200);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(sim.exportJobs().map((j) => j.state)).toEqual(['Successful', 'Successful', 'Successful']);
    expect(sim.stats.maxConcurrentActiveExports).toBe(1);
  });
});
