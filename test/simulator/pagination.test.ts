import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtlasSimulator, type DefaultFixtures } from '../../src/simulator';
import { api, exportsPath, TEST_CREDENTIALS, type JobBody, type PageOf } from './helpers';

describe('pagination', () => {
  let sim: AtlasSimulator;
  let f: DefaultFixtures;
  const created: string[] = [];

  beforeAll(async () => {
    sim = await AtlasSimulator.start({ credentials: TEST_CREDENTIALS, rateLimit: false, timeScale: 1 });
    f = sim.seedDefault();
    for (let i = 0; i < 7; i++) {
      const snapshotId = sim.addSnapshot(f.groupId, f.clusterName);
      const res = await api<JobBody>(sim, exportsPath(f.groupId, f.clusterName), {
        body: { snapshotId, exportBucketId: f.exportBucketId },
      });
      created.push(res.json.id);
    }
  });
  afterAll(() => sim.close());

  it('pages through export jobs oldest first, following absolute next links', async () => {
    const first = await api<PageOf<JobBody>>(sim, `${exportsPath(f.groupId, f.clusterName)}?itemsPerPage=3`);
    expect(first.status).toBe(200);
    expect(first.json.totalCount).toBe(7);
    expect(first.json.results.map((j) => j.id)).toEqual(created.slice(0, 3));
    expect(first.json.links.find((l) => l.rel === 'self')?.href).toBe(
      `${sim.url}${exportsPath(f.groupId, f.clusterName)}?itemsPerPage=3`
    );

    const ids: string[] = [];
    let next: string | undefined = first.json.links.find((l) => l.rel === 'next')?.href;
    ids.push(...first.json.results.map((j) => j.id));
    let pages = 1;
    while (next !== undefined && pages < 10) {
      expect(next.startsWith(sim.url)).toBe(true);
      const page = await api<PageOf<JobBody>>(sim, next.slice(sim.url.length));
      expect(page.status).toBe(200);
      ids.push(...page.json.results.map((j) => j.id));
      next = page.json.links.find((l) => l.rel === 'next')?.href;
      pages++;
    }
    expect(pages).toBe(3);
    expect(ids).toEqual(created);
    const createdAt = (await api<PageOf<JobBody>>(sim, exportsPath(f.groupId, f.clusterName))).json.results.map((j) =>
      Date.parse(j.createdAt)
    );
    expect(createdAt).toEqual([...createdAt].sort((a, b) => a - b));
  });

  it('omits totalCount with includeCount=false and returns an empty page past the end', async () => {
    const noCount = await api<PageOf<JobBody>>(sim, `${exportsPath(f.groupId, f.clusterName)}?includeCount=false`);
    expect(noCount.json.totalCount).toBeUndefined();
    expect(noCount.json.results).toHaveLength(7);
    expect(noCount.json.links.map((l) => l.rel)).toEqual(['self']);

    const beyond = await api<PageOf<JobBody>>(sim, `${exportsPath(f.groupId, f.clusterName)}?pageNum=5&itemsPerPage=3`);
    expect(beyond.status).toBe(200);
    expect(beyond.json.results).toEqual([]);
    expect(beyond.json.totalCount).toBe(7);
    expect(beyond.json.links.some((l) => l.rel === 'next')).toBe(false);
  });

  it('paginates snapshots the same way', async () => {
    const path = `/api/atlas/v2/groups/${f.groupId}/clusters/${f.clusterName}/backup/snapshots?itemsPerPage=4&pageNum=2`;
    const page = await api<PageOf<{ id: string }>>(sim, path);
    expect(page.json.totalCount).toBe(10);
    expect(page.json.results).toHaveLength(4);
    expect(page.json.links.map((l) => l.rel)).toEqual(['self', 'previous', 'next']);
  });
});
