import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AtlasSimulator,
  type DefaultFixtures,
  type RequestLogEntry,
  type SimExportJob,
  type SimStats,
} from '../../src/simulator';
import { api, exportsPath, pollUntil, TEST_CREDENTIALS, type JobBody } from './helpers';

type Json<T> = T extends Date ? string : T extends object ? { [K in keyof T]: Json<T[K]> } : T;

describe('control API over HTTP', () => {
  let sim: AtlasSimulator;
  let f: DefaultFixtures;

  const control = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> => {
    const res = await fetch(`${sim.url}/__sim/${path}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: (text === '' ? undefined : JSON.parse(text)) as T };
  };

  beforeAll(async () => {
    sim = await AtlasSimulator.start({ credentials: TEST_CREDENTIALS, timeScale: 1 });
    const seeded = await control<DefaultFixtures>('POST', 'fixtures/default');
    expect(seeded.status).toBe(200);
    f = seeded.json;
  });
  afterAll(() => sim.close());

  it('seeds fixtures without authentication and without logging control calls', () => {
    expect(f.groupId).toMatch(/^[a-f0-9]{24}$/);
    expect(f.clusterName).toBe('Cluster0');
    expect(sim.requests).toHaveLength(0);
  });

  it('injects, lists and clears faults', async () => {
    const injected = await control<{ queued: number }>('POST', 'faults', [
      { operation: 'listExportJobs', kind: 'status', status: 503 },
      { operation: 'getExportJob', kind: 'reset', times: 3 },
    ]);
    expect(injected).toEqual({ status: 200, json: { queued: 2 } });
    expect((await control<unknown[]>('GET', 'faults')).json).toHaveLength(2);
    expect((await api(sim, exportsPath(f.groupId, f.clusterName))).status).toBe(503);
    expect((await control('DELETE', 'faults')).status).toBe(204);
    expect((await control<unknown[]>('GET', 'faults')).json).toHaveLength(0);

    const invalid = await control<{ errorCode: string }>('POST', 'faults', [{ kind: 'explode' }]);
    expect(invalid.status).toBe(400);
    expect(invalid.json.errorCode).toBe('VALIDATION_ERROR');
  });

  it('sets plans and the time scale, and reports jobs, requests and stats', async () => {
    const plan = await control('POST', 'plan', {
      plan: { queuedMs: 0, inProgressMs: 60_000, outcome: 'Failed', totalCollections: 4 },
      match: { groupId: f.groupId },
    });
    expect(plan.status).toBe(204);
    expect((await control('POST', 'time-scale', { timeScale: 1000 })).status).toBe(204);

    const created = await api<JobBody>(sim, exportsPath(f.groupId, f.clusterName), {
      body: { snapshotId: f.snapshotId, exportBucketId: f.exportBucketId },
    });
    expect(created.status).toBe(200);
    const jobs = await pollUntil(
      async () => (await control<Json<SimExportJob>[]>('GET', `jobs?groupId=${f.groupId}`)).json,
      (list) => list[0]?.state === 'Failed'
    );
    const job = jobs.at(-1)?.[0];
    expect(job).toMatchObject({ id: created.json.id, totalCollections: 4, plan: { outcome: 'Failed' } });
    expect(job?.stateReason?.errorCode).toEqual(expect.any(String));

    const requests = await control<Json<RequestLogEntry>[]>('GET', 'requests');
    expect(requests.json.some((r) => r.operation === 'createExportJob' && r.status === 200)).toBe(true);
    expect(typeof requests.json[0]?.at).toBe('string');
    const stats = await control<SimStats>('GET', 'stats');
    expect(stats.json.maxConcurrentActiveExports).toBe(1);
    expect((await control('DELETE', 'requests')).status).toBe(204);
    expect(sim.requests).toHaveLength(0);

    expect((await control('POST', 'time-scale', { timeScale: -1 })).status).toBe(400);
    expect((await control('POST', 'plan', { plan: null })).status).toBe(204);
  });

  it('answers 404 for unknown control routes', async () => {
    expect((await control('GET', 'nope')).status).toBe(404);
  });
});
