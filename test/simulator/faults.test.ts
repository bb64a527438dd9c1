import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtlasSimulator, type DefaultFixtures } from '../../src/simulator';
import { api, exportsPath, oauthToken, TEST_CREDENTIALS, type JobBody, type PageOf } from './helpers';

describe('fault injection', () => {
  let sim: AtlasSimulator;
  let f: DefaultFixtures;
  let jobPath: string;

  beforeEach(async () => {
    sim = await AtlasSimulator.start({ credentials: TEST_CREDENTIALS, rateLimit: false });
    f = sim.seedDefault();
    const job = await api<JobBody>(sim, exportsPath(f.groupId, f.clusterName), {
      body: { snapshotId: f.snapshotId, exportBucketId: f.exportBucketId },
    });
    jobPath = `${exportsPath(f.groupId, f.clusterName)}/${job.json.id}`;
    sim.resetLog();
  });
  afterEach(() => sim.close());

  it('status: answers the ApiError (with Retry-After) the given number of times, after authentication', async () => {
    sim.injectFaults({ operation: 'getExportJob', kind: 'status', status: 503, retryAfterSeconds: 7, times: 2 });
    for (let i = 0; i < 2; i++) {
      const res = await api(sim, jobPath);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('7');
      expect(res.json).toMatchObject({ error: 503, errorCode: 'SERVICE_UNAVAILABLE', reason: 'Service Unavailable' });
    }
    expect((await api(sim, jobPath)).status).toBe(200);
    const faulted = sim.requests.filter((r) => r.faultInjected !== undefined);
    expect(faulted).toHaveLength(2);
    expect(faulted.every((r) => r.faultInjected === 'status:503' && r.auth === 'digest')).toBe(true);
  });

  it('status: uses the given errorCode and detail', async () => {
    sim.injectFaults({ kind: 'status', status: 500, errorCode: 'UNEXPECTED_ERROR', detail: 'boom' });
    const res = await api(sim, jobPath);
    expect(res.json).toMatchObject({ error: 500, errorCode: 'UNEXPECTED_ERROR', detail: 'boom' });
  });

  it('reset: drops the connection without a response', async () => {
    sim.injectFaults({ operation: 'getExportJob', kind: 'reset' });
    await expect(api(sim, jobPath)).rejects.toThrow();
    expect(sim.requests.at(-1)).toMatchObject({ operation: 'getExportJob', status: 0, faultInjected: 'reset' });
    expect((await api(sim, jobPath)).status).toBe(200);
  });

  it('reset afterHandling: the create takes effect although the client sees a dropped connection', async () => {
    sim.injectFaults({ operation: 'createExportJob', kind: 'reset', afterHandling: true });
    const snapshotId = sim.addSnapshot(f.groupId, f.clusterName);
    const path = exportsPath(f.groupId, f.clusterName);
    const body = { snapshotId, exportBucketId: f.exportBucketId, customData: [{ key: 'attempt', value: 'a1' }] };
    await expect(api(sim, path, { body })).rejects.toThrow();

    const jobs = sim.exportJobs(f.groupId).filter((j) => j.snapshotId === snapshotId);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.customData).toEqual([{ key: 'attempt', value: 'a1' }]);
    const listed = await api<PageOf<JobBody>>(sim, path);
    expect(listed.json.results.some((j) => j.id === jobs[0]?.id)).toBe(true);
    const retry = await api(sim, path, { body });
    expect(retry.status).toBe(409);
    expect(sim.requests.find((r) => r.faultInjected !== undefined)?.faultInjected).toBe('reset:afterHandling');
  });

  it('malformed: answers 200 with truncated JSON', async () => {
    sim.injectFaults({ operation: 'getExportJob', kind: 'malformed' });
    const res = await api(sim, jobPath);
    expect(res.status).toBe(200);
    expect(res.text.length).toBeGreaterThan(0);
    expect(() => JSON.parse(res.text) as unknown).toThrow();
  });

  it('delay: serves normally after the delay', async () => {
    sim.injectFaults({ operation: 'getExportJob', kind: 'delay', delayMs: 150 });
    const started = Date.now();
    const res = await api<JobBody>(sim, jobPath);
    expect(res.status).toBe(200);
    expect(res.json.state).toBe('Queued');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('slowBody: sends headers first and the rest of the body later', async () => {
    sim.injectFaults({ operation: 'getExportJob', kind: 'slowBody', delayMs: 200 });
    const token = await oauthToken(sim);
    const res = await fetch(sim.url + jobPath, {
      headers: { Accept: 'application/vnd.atlas.2023-01-01+json', Authorization: `Bearer ${token}` },
    });
    const headersAt = Date.now();
    expect(res.status).toBe(200);
    const json = (await res.json()) as JobBody;
    expect(Date.now() - headersAt).toBeGreaterThanOrEqual(150);
    expect(json.state).toBe('Queued');
  });

  it('oversizedBody: the real answer padded to sizeBytes, chunked without Content-Length, still valid JSON', async () => {
    sim.injectFaults({ operation: 'getExportJob', kind: 'oversizedBody', sizeBytes: 300_000 });
    const token = await oauthToken(sim);
    const res = await fetch(sim.url + jobPath, {
      headers: { Accept: 'application/vnd.atlas.2023-01-01+json', Authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBeNull();
    const text = await res.text();
    expect(Buffer.byteLength(text)).toBe(300_000);
    expect((JSON.parse(text) as JobBody).state).toBe('Queued');
    expect(sim.requests.at(-1)?.faultInjected).toBe('oversizedBody');
  });

  it('schemaDrift: wrongly typed fields in a 200, for single jobs and lists', async () => {
    sim.injectFaults(
      { operation: 'getExportJob', kind: 'schemaDrift' },
      { operation: 'listExportJobs', kind: 'schemaDrift' }
    );
    const one = await api<Record<string, unknown>>(sim, jobPath);
    expect(one.status).toBe(200);
    expect(one.json.state).toBe(42);
    expect(one.json.exportStatus).toMatchObject({ exportedCollections: 'many' });
    const list = await api<{ results: Record<string, unknown>[]; totalCount: unknown }>(
      sim,
      exportsPath(f.groupId, f.clusterName)
    );
    expect(list.json.results[0]?.state).toBe(42);
    expect(list.json.totalCount).toBe('many');
  });

  it('unknownState: reports the state Paused', async () => {
    sim.injectFaults({ operation: 'getExportJob', kind: 'unknownState' });
    const res = await api<JobBody>(sim, jobPath);
    expect(res.status).toBe(200);
    expect(res.json.state).toBe('Paused');
    expect((await api<JobBody>(sim, jobPath)).json.state).toBe('Queued');
  });

  it('status: sends a raw Retry-After as given, once per value of a list', async () => {
    sim.injectFaults(
      { operation: 'getExportJob', kind: 'status', status: 429, retryAfter: 'Wed, 21 Oct 2015 07:28:00 GMT' },
      { operation: 'getExportJob', kind: 'status', status: 503, retryAfter: ['5', '-1'] }
    );
    expect((await api(sim, jobPath)).headers.get('retry-after')).toBe('Wed, 21 Oct 2015 07:28:00 GMT');
    // fetch joins repeated headers with ", ".
    expect((await api(sim, jobPath)).headers.get('retry-after')).toBe('5, -1');
  });

  it('patchBody: the create takes effect, its answer loses or changes the named fields', async () => {
    sim.injectFaults({
      operation: 'createExportJob',
      kind: 'patchBody',
      omit: ['id'],
      set: { 'exportStatus.totalCollections': null },
    });
    const snapshotId = sim.addSnapshot(f.groupId, f.clusterName);
    const res = await api<Record<string, unknown>>(sim, exportsPath(f.groupId, f.clusterName), {
      body: { snapshotId, exportBucketId: f.exportBucketId },
    });
    expect(res.status).toBe(200);
    expect(res.json).not.toHaveProperty('id');
    expect(res.json.state).toBe('Queued');
    expect(res.json.exportStatus).toEqual({ exportedCollections: 0, totalCollections: null });
    expect(sim.exportJobs(f.groupId).filter((j) => j.snapshotId === snapshotId)).toHaveLength(1);
  });

  it('patchBody with itemIndex: changes one item of a list only; emptyList: lists nothing', async () => {
    const path = exportsPath(f.groupId, f.clusterName);
    await api(sim, path, {
      body: { snapshotId: sim.addSnapshot(f.groupId, f.clusterName), exportBucketId: f.exportBucketId },
    });
    sim.injectFaults(
      { operation: 'listExportJobs', kind: 'patchBody', itemIndex: 1, set: { state: null }, omit: ['id'] },
      { operation: 'listExportJobs', kind: 'emptyList' }
    );
    const patched = await api<PageOf<Record<string, unknown>>>(sim, path);
    expect(patched.json.results).toHaveLength(2);
    expect(patched.json.results[0]).toMatchObject({ state: 'Queued' });
    expect(patched.json.results[0]).toHaveProperty('id');
    expect(patched.json.results[1]).toMatchObject({ state: null });
    expect(patched.json.results[1]).not.toHaveProperty('id');
    const empty = await api<PageOf<JobBody>>(sim, path);
    expect(empty.json).toMatchObject({ results: [], totalCount: 0 });
    sim.injectFaults({ operation: 'listExportJobs', kind: 'patchBody', page: true, set: { totalCount: 'many' } });
    const page = await api<PageOf<JobBody> & { totalCount: unknown }>(sim, path);
    expect(page.json.totalCount).toBe('many');
    expect(page.json.results[0]).not.toHaveProperty('totalCount');
    expect((await api<PageOf<JobBody>>(sim, path)).json.results).toHaveLength(2);
  });

  it('replaceBody: answers the given body with the versioned media type, without performing the operation', async () => {
    const before = sim.exportJobs().length;
    sim.injectFaults({ operation: 'createExportJob', kind: 'replaceBody', body: { exportBucketId: f.exportBucketId } });
    const res = await api<Record<string, unknown>>(sim, exportsPath(f.groupId, f.clusterName), {
      body: { snapshotId: f.snapshotId, exportBucketId: f.exportBucketId },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.atlas.2023-01-01+json');
    expect(res.json).toEqual({ exportBucketId: f.exportBucketId });
    expect(sim.exportJobs()).toHaveLength(before);
    sim.injectFaults({
      operation: 'getExportJob',
      kind: 'replaceBody',
      status: 404,
      body: { error: 404, detail: null },
    });
    const missing = await api(sim, jobPath);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/json');
    expect(missing.json).toEqual({ error: 404, detail: null });
  });

  it('matches by method and path, applies to the token endpoint, and can be cleared', async () => {
    sim.injectFaults(
      { kind: 'status', status: 502, method: 'POST', pathIncludes: '/backup/snapshots' },
      { operation: 'oauthToken', kind: 'status', status: 500 }
    );
    expect((await api(sim, jobPath)).status).toBe(200);
    await expect(oauthToken(sim)).rejects.toThrow('500');
    const snapshots = `/api/atlas/v2/groups/${f.groupId}/clusters/${f.clusterName}/backup/snapshots`;
    expect((await api(sim, snapshots)).status).toBe(200);
    expect((await api(sim, snapshots, { body: {} })).status).toBe(502);

    sim.injectFaults({ kind: 'status', status: 500, times: 5 });
    expect(sim.pendingFaults()).toHaveLength(1);
    sim.clearFaults();
    expect(sim.pendingFaults()).toHaveLength(0);
    expect((await api(sim, jobPath)).status).toBe(200);
  });
});
