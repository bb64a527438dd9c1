import { describe, expect, it } from 'vitest';
import type { Fault } from '../../src/simulator';
import { FailureType } from '../../src/shared/contract/failure-types';
import { failureOf, FAST_POLLING, useExportSuite } from '../helpers/export-harness';
import { activityResults, fetchHistoryStats } from '../helpers/history';
import { TEST_SECRETS, TEST_SERVICE_ACCOUNT } from '../helpers/atlas';
import { startTestWorker } from '../helpers/temporal';

const suite = useExportSuite();

/** Resolves with `probe()`'s first defined value, checking every 50 ms; throws after `timeoutMs`. */
async function until<T>(probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`nothing within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('retryable Atlas errors recover with exactly one job', () => {
  // An answer from Atlas itself (500, 503) is final: 3 attempts. A 502 or a dropped connection may still take
  // effect, so each is followed by an attempt that waits (two request timeouts) instead of POSTing: 5 attempts.
  it.each([
    ['500 UNEXPECTED_ERROR', { kind: 'status', status: 500, errorCode: 'UNEXPECTED_ERROR' }, 3],
    ['502', { kind: 'status', status: 502 }, 5],
    [
      '503 with Retry-After',
      { kind: 'status', status: 503, errorCode: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 1 },
      3,
    ],
    ['connection reset', { kind: 'reset' }, 5],
  ] as [string, Fault, number][])(
    'create answered %s twice, then success',
    async (_label, fault, attempts) => {
      const snapshotId = suite.h.freshSnapshot();
      suite.atlas.sim.injectFaults({ ...fault, operation: 'createExportJob', times: 2 });
      const handle = await suite.h.start(suite.h.input({ snapshotId }));
      const result = await handle.result();
      expect(result.state).toBe('Successful');
      expect(suite.h.jobsOf(handle.workflowId)).toHaveLength(1);
      const stats = await fetchHistoryStats(handle);
      expect(stats.activities.createExportJob?.attempts).toBe(attempts);
      expect(suite.h.requestsFor(snapshotId, 'createExportJob')).toHaveLength(3);
    },
    60_000
  );

  it('status reads answered 500 and 504 recover and keep polling', async () => {
    const snapshotId = suite.h.freshSnapshot();
    suite.atlas.sim.injectFaults(
      { operation: 'getExportJob', kind: 'status', status: 500, times: 2 },
      { operation: 'getExportJob', kind: 'status', status: 504, times: 1 }
    );
    const handle = await suite.h.start(suite.h.input({ snapshotId }));
    expect((await handle.result()).state).toBe('Successful');
    expect(suite.h.jobsOf(handle.workflowId)).toHaveLength(1);
    const failedReads = suite.h
      .requestsFor(suite.h.jobsOf(handle.workflowId)[0]!.id, 'getExportJob')
      .filter((r) => r.status >= 500);
    expect(failedReads).toHaveLength(3);
  });

  it('429 with Retry-After waits at least that long before the next attempt', async () => {
    const snapshotId = suite.h.freshSnapshot();
    suite.atlas.sim.injectFaults({
      operation: 'createExportJob',
      kind: 'status',
      status: 429,
      errorCode: 'RATE_LIMITED_TOKEN_BUCKET',
      retryAfterSeconds: 2,
    });
    const handle = await suite.h.start(suite.h.input({ snapshotId }));
    expect((await handle.result()).state).toBe('Successful');
    const posts = suite.h.requestsFor(snapshotId, 'createExportJob');
    expect(posts.map((p) => p.status)).toEqual([429, 200]);
    expect(posts[1]!.at.getTime() - posts[0]!.at.getTime()).toBeGreaterThanOrEqual(2_000);
    expect(suite.h.jobsOf(handle.workflowId)).toHaveLength(1);
  });

  it('429 without Retry-After backs off by the jittered fallback (≥ 7.5 s), not at once', async () => {
    const snapshotId = suite.h.freshSnapshot();
    suite.atlas.sim.injectFaults({
      operation: 'createExportJob',
      kind: 'status',
      status: 429,
      errorCode: 'RATE_LIMITED',
    });
    const handle = await suite.h.start(suite.h.input({ snapshotId }));
    expect((await handle.result()).state).toBe('Successful');
    const posts = suite.h.requestsFor(snapshotId, 'createExportJob');
    expect(posts.map((p) => p.status)).toEqual([429, 200]);
    expect(posts[1]!.at.getTime() - posts[0]!.at.getTime()).toBeGreaterThanOrEqual(7_500);
  }, 60_000);

  it('a 429 without Retry-After after many not-ready polls waits ~10 s (by consecutive errors), not minutes', async () => {
    const snapshotId = suite.h.freshSnapshot();
    // Queued for 20 s real (600× time), then 1 s in progress: one polling activity reads it over and over.
    suite.atlas.sim.setExportPlan({ queuedMs: 12_000_000, inProgressMs: 600_000 }, { snapshotId });
    const handle = await suite.h.start(suite.h.input({ snapshotId }));
    const job = await until(() => suite.h.jobsOf(handle.workflowId)[0], 15_000);
    const reads = () => suite.h.requestsFor(job.id, 'getExportJob');
    await until(() => reads().length >= 12 || undefined, 15_000);
    // By attempt number (≥ 13 here) the fallback would be 10 s × 2^12, capped at 5 min.
    suite.atlas.sim.injectFaults({
      operation: 'getExportJob',
      pathIncludes: job.id,
      kind: 'status',
      status: 429,
      errorCode: 'RATE_LIMITED',
    });
    const limited = await until(() => reads().find((r) => r.faultInjected !== undefined), 10_000);
    const next = await until(() => reads().find((r) => r.at > limited.at), 30_000);
    const waitedMs = next.at.getTime() - limited.at.getTime();
    expect(waitedMs).toBeGreaterThanOrEqual(7_500);
    expect(waitedMs).toBeLessThan(30_000);
    expect((await handle.result()).state).toBe('Successful');
  }, 90_000);

  it('one unreadable job in the cluster’s export list is skipped: it blocks no new export', async () => {
    const { groupId, clusterName, exportBucketId } = suite.atlas.fixtures;
    suite.atlas.sim.addExportJob(groupId, clusterName, {
      createdAt: new Date(Date.now() - 86_400_000),
      queuedMs: 60_000,
      inProgressMs: 600_000,
      exportBucketId,
    });
    const snapshotId = suite.h.freshSnapshot();
    // Every list the create reads has its first job without id and with state null.
    suite.atlas.sim.injectFaults({
      operation: 'listExportJobs',
      pathIncludes: `/clusters/${clusterName}/`,
      kind: 'patchBody',
      itemIndex: 0,
      omit: ['id'],
      set: { state: null },
      times: 1_000,
    });
    const handle = await suite.h.start(suite.h.input({ snapshotId }));
    const result = await handle.result();
    suite.atlas.sim.clearFaults();
    expect(result.state).toBe('Successful');
    expect(suite.h.jobsOf(handle.workflowId)).toHaveLength(1);
    const lists = suite.atlas.sim.requests.filter(
      (r) =>
        r.operation === 'listExportJobs' &&
        r.faultInjected !== undefined &&
        r.at >= new Date(Date.parse(result.startedAt))
    );
    expect(lists.length).toBeGreaterThanOrEqual(1);
  });

  it('409 while another bucket’s export of the snapshot is active: retried until it can create its own', async () => {
    const snapshotId = suite.h.freshSnapshot();
    const { groupId, clusterName } = suite.atlas.fixtures;
    // Someone else's export of the same snapshot to another bucket is running (Atlas: one active per snapshot).
    const otherBucket = suite.atlas.sim.addExportBucket(groupId, { bucketName: 'other-bucket' });
    const other = await suite.atlas.client().createExportJob(groupId, clusterName, {
      snapshotId,
      exportBucketId: otherBucket,
    });
    const handle = await suite.h.start(suite.h.input({ snapshotId }));
    const result = await handle.result();
    expect(result.state).toBe('Successful');
    expect(result.exportJobId).not.toBe(other.id);
    expect(suite.h.jobsOf(handle.workflowId)).toHaveLength(1);
    const statuses = suite.h.requestsFor(snapshotId, 'createExportJob').map((r) => r.status);
    expect(statuses).toContain(409);
    expect(statuses.filter((s) => s === 200)).toHaveLength(2); // the other party's and ours
    expect(await activityResults(handle, 'createExportJob')).toEqual([expect.objectContaining({ attached: false })]);
  });

  it('someone else’s active export of the same snapshot to the same bucket is followed, not repeated', async () => {
    const snapshotId = suite.h.freshSnapshot();
    const { groupId, clusterName, exportBucketId } = suite.atlas.fixtures;
    const other = await suite.atlas.client().createExportJob(groupId, clusterName, { snapshotId, exportBucketId });
    const handle = await suite.h.start(suite.h.input({ snapshotId }));
    const result = await handle.result();
    expect(result).toMatchObject({ state: 'Successful', exportJobId: other.id });
    // The other party's POST only (and its digest challenge): none carries this workflow's tag.
    const posts = suite.h.requestsFor(snapshotId, 'createExportJob');
    expect(posts.filter((r) => r.status === 200)).toHaveLength(1);
    expect(posts.filter((r) => JSON.stringify(r.body).includes(handle.workflowId))).toEqual([]);
    expect(suite.atlas.sim.exportJobs().filter((j) => j.snapshotId === snapshotId)).toHaveLength(1);
    expect(await activityResults(handle, 'createExportJob')).toEqual([
      expect.objectContaining({ adopted: true, attached: true }),
    ]);
  });

  it('a snapshot already exported to the bucket by someone else is reused: Successful at once, no new job', async () => {
    const snapshotId = suite.h.freshSnapshot();
    const { groupId, clusterName, exportBucketId } = suite.atlas.fixtures;
    suite.atlas.sim.setExportPlan({ queuedMs: 0, inProgressMs: 0 }, { snapshotId });
    const done = await suite.atlas.client().createExportJob(groupId, clusterName, { snapshotId, exportBucketId });
    const handle = await suite.h.start(suite.h.input({ snapshotId }));
    expect(await handle.result()).toMatchObject({ state: 'Successful', exportJobId: done.id });
    expect(suite.atlas.sim.exportJobs().filter((j) => j.snapshotId === snapshotId)).toHaveLength(1);
    expect(await activityResults(handle, 'createExportJob')).toEqual([expect.objectContaining({ attached: true })]);
  });

  it('two workflows (different ids) exporting the same snapshot to the same bucket at once share one job', async () => {
    const snapshotId = suite.h.freshSnapshot();
    const handles = await Promise.all([1, 2, 3].map(() => suite.h.start(suite.h.input({ snapshotId }))));
    const results = await Promise.all(handles.map((h) => h.result()));
    const jobs = suite.atlas.sim.exportJobs().filter((j) => j.snapshotId === snapshotId);
    expect(jobs).toHaveLength(1);
    expect(results.map((r) => [r.state, r.exportJobId])).toEqual(handles.map(() => ['Successful', jobs[0]!.id]));
    const created = (await Promise.all(handles.map((h) => activityResults(h, 'createExportJob')))).flat();
    expect(created.filter((r) => (r as { attached: boolean }).attached)).toHaveLength(2);
  });

  it('a 409 for a create that did take effect (a racing duplicate request) adopts the tagged job', async () => {
    const snapshotId = suite.h.freshSnapshot();
    suite.atlas.sim.injectFaults({
      operation: 'createExportJob',
      kind: 'status',
      status: 409,
      errorCode: 'EXPORT_ALREADY_IN_PROGRESS',
      afterHandling: true,
    });
    const handle = await suite.h.start(suite.h.input({ snapshotId }));
    const result = await handle.result();
    expect(result.state).toBe('Successful');
    const jobs = suite.h.jobsOf(handle.workflowId);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.id).toBe(result.exportJobId);
    expect(suite.h.requestsFor(snapshotId, 'createExportJob').map((r) => r.status)).toEqual([409]);
    // Adopted inside the same attempt: the 409 path lists again instead of failing.
    expect((await fetchHistoryStats(handle)).activities.createExportJob?.attempts).toBe(1);
  });

  it('a lost create response is adopted even when that job already failed by the time the retry looks', async () => {
    const snapshotId = suite.h.freshSnapshot();
    suite.atlas.sim.setExportPlan(
      { queuedMs: 1_000, inProgressMs: 1_000, outcome: 'Failed', stateReason: { errorCode: 'E', message: 'boom' } },
      { snapshotId }
    );
    suite.atlas.sim.injectFaults({ operation: 'createExportJob', kind: 'reset', afterHandling: true });
    const handle = await suite.h.start(suite.h.input({ snapshotId }));
    const failure = await failureOf(handle);
    expect(failure.type).toBe(FailureType.ExportFailed);
    // This run's own job, failed or not, is the one: no second job was created.
    expect(suite.h.jobsOf(handle.workflowId)).toHaveLength(1);
    expect(suite.h.requestsFor(snapshotId, 'createExportJob')).toHaveLength(1);
  });

  it('a create answered only after the retry listed (its job failing at once) is adopted, not repeated', async () => {
    const snapshotId = suite.h.freshSnapshot();
    suite.atlas.sim.setExportPlan(
      { queuedMs: 0, inProgressMs: 0, outcome: 'Failed', stateReason: { errorCode: 'E', message: 'boom' } },
      { snapshotId }
    );
    // Atlas holds the POST 8 s and creates the job then: after the client's 5 s timeout and the retry 1 s later.
    suite.atlas.sim.injectFaults({ operation: 'createExportJob', kind: 'delay', delayMs: 8_000 });
    const handle = await suite.h.start(suite.h.input({ snapshotId }));
    const failure = await failureOf(handle);
    expect(failure.type).toBe(FailureType.ExportFailed);
    // Settle: a second POST, if any, would have created its job by now.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(suite.atlas.sim.exportJobs().filter((j) => j.snapshotId === snapshotId)).toHaveLength(1);
    expect(suite.h.requestsFor(snapshotId, 'createExportJob')).toHaveLength(1);
  }, 60_000);

  it('a create that took effect but whose response was lost is adopted, not repeated', async () => {
    const snapshotId = suite.h.freshSnapshot();
    suite.atlas.sim.injectFaults({ operation: 'createExportJob', kind: 'reset', afterHandling: true });
    const handle = await suite.h.start(suite.h.input({ snapshotId }));
    const result = await handle.result();
    expect(result.state).toBe('Successful');
    const jobs = suite.h.jobsOf(handle.workflowId);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.id).toBe(result.exportJobId);
    // One POST (lost), then the retry found the tagged job in the list and never posted again.
    expect(suite.h.requestsFor(snapshotId, 'createExportJob')).toHaveLength(1);
  });
});

describe('non-retryable Atlas errors fail fast after one attempt', () => {
  it.each([
    [400, 'VALIDATION_ERROR', 'createExportJob'],
    [403, 'ACCESS_FORBIDDEN', 'listExportJobs'],
    [404, 'EXPORT_BUCKET_NOT_FOUND', 'createExportJob'],
    [406, 'INVALID_VERSION', 'createExportJob'],
    [410, 'VERSION_GONE', 'listExportJobs'],
  ] as const)('%i %s on %s', async (status, errorCode, operation) => {
    const snapshotId = suite.h.freshSnapshot();
    suite.atlas.sim.injectFaults({ operation, kind: 'status', status, errorCode });
    const handle = await suite.h.start(suite.h.input({ snapshotId }));
    const failure = await failureOf(handle);
    expect(failure.type).toBe(errorCode);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(String(status));
    expect(failure.message).toContain('To fix:');
    const stats = await fetchHistoryStats(handle);
    expect(stats.activities.createExportJob?.attempts).toBe(1);
    expect(suite.h.jobsOf(handle.workflowId)).toHaveLength(0);
  });

  it('404 CLUSTER_NOT_FOUND from the real lookup of an unknown cluster', async () => {
    const handle = await suite.h.start(suite.h.input({ clusterName: 'no-such-cluster' }));
    const failure = await failureOf(handle);
    expect(failure.type).toBe('CLUSTER_NOT_FOUND');
    expect(failure.message).toMatch(/check groupId, clusterName/);
    expect((await fetchHistoryStats(handle)).activities.createExportJob?.attempts).toBe(1);
  });

  it('401 when the worker holds wrong credentials, without echoing them', async () => {
    const badWorker = await startTestWorker(
      suite.temporal,
      suite.atlas.client({
        mode: 'api-key',
        publicKey: 'testpubkey',
        privateKey: 'WRONG-PRIVATE-KEY-should-not-appear',
      })
    );
    try {
      const handle = await suite.h.start(suite.h.input({ snapshotId: suite.h.freshSnapshot() }), badWorker.taskQueue);
      const failure = await failureOf(handle);
      expect(failure.type).toMatch(/^(UNEXPECTED_ERROR|USER_UNAUTHORIZED|HTTP_401)$/);
      expect(failure.message).toContain('401');
      expect(failure.message).toContain('ATLAS_PUBLIC_KEY');
      const history = JSON.stringify((await handle.fetchHistory()).events);
      expect(history).not.toContain('WRONG-PRIVATE-KEY');
      expect((await fetchHistoryStats(handle)).activities.createExportJob?.attempts).toBe(1);
    } finally {
      await badWorker.stop();
    }
  });

  it('a token endpoint that refuses (404) says so, keeps its reason, and names what to check', async () => {
    const saWorker = await startTestWorker(suite.temporal, suite.atlas.client(TEST_SERVICE_ACCOUNT));
    try {
      suite.atlas.sim.injectFaults({
        operation: 'oauthToken',
        kind: 'status',
        status: 404,
        errorCode: 'RESOURCE_NOT_FOUND',
        detail: 'Cannot find resource POST /api/oauth/token.',
      });
      const handle = await suite.h.start(suite.h.input({ snapshotId: suite.h.freshSnapshot() }), saWorker.taskQueue);
      const failure = await failureOf(handle);
      expect(failure.type).toBe('RESOURCE_NOT_FOUND');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toContain('OAuth token endpoint');
      expect(failure.message).toContain('404 RESOURCE_NOT_FOUND: Cannot find resource POST /api/oauth/token. To fix:');
      expect(failure.message).toContain('ATLAS_BASE_URL');
      expect(failure.message).toContain('ATLAS_CLIENT_ID/ATLAS_CLIENT_SECRET');
      expect(failure.message).not.toContain('check groupId');
      expect(failure.message).not.toMatch(/\.\./);
      expect(JSON.stringify((await handle.fetchHistory()).events)).not.toContain(TEST_SECRETS.clientSecret);
    } finally {
      await saWorker.stop();
    }
  });

  it('an attempt timeout too short for one Atlas request fails before any POST, naming both settings', async () => {
    const snapshotId = suite.h.freshSnapshot();
    // The test worker's Atlas client has a 5 s request timeout.
    const handle = await suite.h.start(
      suite.h.input({ snapshotId, polling: { ...FAST_POLLING, attemptTimeout: '5s' } })
    );
    const failure = await failureOf(handle);
    expect(failure.type).toBe(FailureType.AttemptTimeoutTooShort);
    expect(failure.message).toContain('ATLAS_REQUEST_TIMEOUT');
    expect(suite.h.requestsFor(snapshotId, 'createExportJob')).toHaveLength(0);
  });

  it('a status body that drifted from the schema fails fast as AtlasResponseSchemaMismatch', async () => {
    const snapshotId = suite.h.freshSnapshot();
    suite.atlas.sim.injectFaults({ operation: 'getExportJob', kind: 'schemaDrift' });
    const handle = await suite.h.start(suite.h.input({ snapshotId }));
    const failure = await failureOf(handle);
    expect(failure.type).toBe(FailureType.AtlasResponseSchemaMismatch);
    expect(failure.nonRetryable).toBe(true);
    expect(suite.h.jobsOf(handle.workflowId)).toHaveLength(1);
  });
});

describe('invalid input is rejected before any Atlas request', () => {
  it.each([
    ['groupId', { groupId: 'not-hex' }, 'input.groupId'],
    ['snapshotId', { snapshotId: '5f0c1e2d3b4a5968778695a' }, 'input.snapshotId'],
    ['clusterName', { clusterName: '-bad name' }, 'input.clusterName'],
    ['customData', { customData: [{ key: '', value: 'x' }] }, 'input.customData[0].key'],
    ['polling interval', { polling: { initialInterval: 'soon' } }, 'input.polling.initialInterval'],
    ['polling order', { polling: { initialInterval: '5m', maximumInterval: '1m' } }, 'input.polling.maximumInterval'],
    ['unknown field', { exportBucket: 'typo' }, 'exportBucket'],
  ])('%s', async (_label, overrides, fieldInMessage) => {
    const before = suite.atlas.sim.requests.length;
    const handle = await suite.h.start({ ...suite.h.input(), ...overrides });
    const failure = await failureOf(handle);
    expect(failure.type).toBe(FailureType.InvalidExportInput);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(fieldInMessage);
    expect(failure.message).toContain('nothing was sent to Atlas');
    expect(suite.atlas.sim.requests.length).toBe(before);
    expect((await fetchHistoryStats(handle)).activities).toEqual({});
  });

  it('a missing required field is named', async () => {
    const { exportBucketId: _omit, ...rest } = suite.h.input();
    const failure = await failureOf(await suite.h.start(rest));
    expect(failure.type).toBe(FailureType.InvalidExportInput);
    expect(failure.message).toContain('input.exportBucketId');
  });
});
