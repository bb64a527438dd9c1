import { createServer } from 'node:http';
import { once } from 'node:events';
import { type ApplicationFailure } from '@temporalio/common';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AtlasApiError,
  AtlasClient,
  AtlasNetworkError,
  AtlasResponseValidationError,
  AtlasTokenError,
  ATLAS_MEDIA_TYPE,
  parseRetryAfter,
} from '../../src/atlas';
import { toApplicationFailure } from '../../src/activities/failure-mapping';
import { parseDigestChallenge } from '../../src/atlas/auth';
import {
  startSimulatedAtlas,
  TEST_API_KEY,
  TEST_SERVICE_ACCOUNT,
  TEST_SECRETS,
  type SimulatedAtlas,
} from '../helpers/atlas';

let atlas: SimulatedAtlas;

beforeAll(async () => {
  atlas = await startSimulatedAtlas({ tokenTtlSeconds: 3600 });
});
afterEach(() => atlas.sim.clearFaults());
afterAll(async () => {
  await atlas?.close();
});

const g = () => atlas.fixtures.groupId;
const c = () => atlas.fixtures.clusterName;

describe('AtlasClient against the simulator', () => {
  it('creates, reads and lists export jobs with digest auth, answering the challenge once per nonce', async () => {
    const client = atlas.client(TEST_API_KEY);
    const snapshotId = atlas.sim.addSnapshot(g(), c(), { status: 'completed' });
    const before = atlas.sim.requests.length;
    const job = await client.createExportJob(g(), c(), {
      snapshotId,
      exportBucketId: atlas.fixtures.exportBucketId,
      customData: [{ key: 'k', value: 'v' }],
    });
    expect(job.state).toBe('Queued');
    expect(job.snapshotId).toBe(snapshotId);
    const read = await client.getExportJob(g(), c(), job.id);
    expect(read.id).toBe(job.id);
    const listed = await client.listExportJobs(g(), c());
    expect(listed.map((j) => j.id)).toContain(job.id);

    const log = atlas.sim.requests.slice(before);
    // One challenge round trip (401), then the nonce is reused with an increasing nc.
    expect(log.filter((r) => r.status === 401)).toHaveLength(1);
    expect(log.filter((r) => r.status === 200).every((r) => r.auth === 'digest')).toBe(true);
    expect(log.filter((r) => r.status === 200)).toHaveLength(3);
  });

  it('reads snapshots', async () => {
    const client = atlas.client();
    const snapshots = await client.listSnapshots(g(), c());
    expect(snapshots.length).toBeGreaterThan(0);
    const one = await client.getSnapshot(g(), c(), atlas.fixtures.snapshotId);
    expect(one.id).toBe(atlas.fixtures.snapshotId);
    expect(one.status).toBe('completed');
  });

  it('reads a sharded cluster’s snapshots on the sharded-cluster paths only', async () => {
    const client = atlas.client();
    const { shardedClusterName, shardedSnapshotId } = atlas.fixtures;
    const listed = await client.listShardedClusterSnapshots(g(), shardedClusterName);
    expect(listed.map((s) => s.id)).toContain(shardedSnapshotId);
    expect(listed.every((s) => s.type === 'shardedCluster')).toBe(true);
    const one = await client.getShardedClusterSnapshot(g(), shardedClusterName, shardedSnapshotId);
    expect(one).toMatchObject({ id: shardedSnapshotId, type: 'shardedCluster', status: 'completed' });
    expect(await client.listSnapshots(g(), shardedClusterName)).toEqual([]);
    const onReplicaSetPath = await client
      .getSnapshot(g(), shardedClusterName, shardedSnapshotId)
      .catch((e: unknown) => e);
    expect((onReplicaSetPath as AtlasApiError).status).toBe(404);
    expect(await client.listShardedClusterSnapshots(g(), c())).toEqual([]);
  });

  it('uses one OAuth token for many calls with a service account', async () => {
    const client = atlas.client(TEST_SERVICE_ACCOUNT);
    const before = atlas.sim.requests.length;
    for (let i = 0; i < 5; i++) await client.getSnapshot(g(), c(), atlas.fixtures.snapshotId);
    const log = atlas.sim.requests.slice(before);
    expect(log.filter((r) => r.operation === 'oauthToken')).toHaveLength(1);
    expect(log.filter((r) => r.operation === 'getSnapshot').every((r) => r.auth === 'bearer' && r.status === 200)).toBe(
      true
    );
  });

  it('renews a short-lived OAuth token before it expires', async () => {
    const shortLived = await startSimulatedAtlas({ tokenTtlSeconds: 1 });
    try {
      const client = shortLived.client(TEST_SERVICE_ACCOUNT);
      await client.getSnapshot(
        shortLived.fixtures.groupId,
        shortLived.fixtures.clusterName,
        shortLived.fixtures.snapshotId
      );
      await new Promise((r) => setTimeout(r, 1_200));
      await client.getSnapshot(
        shortLived.fixtures.groupId,
        shortLived.fixtures.clusterName,
        shortLived.fixtures.snapshotId
      );
      const tokens = shortLived.sim.requests.filter((r) => r.operation === 'oauthToken');
      expect(tokens).toHaveLength(2);
    } finally {
      await shortLived.close();
    }
  });

  it('fetches a new OAuth token once when Atlas rejects the cached one with 401', async () => {
    const client = atlas.client(TEST_SERVICE_ACCOUNT);
    await client.getSnapshot(g(), c(), atlas.fixtures.snapshotId);
    const before = atlas.sim.requests.length;
    atlas.sim.revokeAllTokens();
    const snapshot = await client.getSnapshot(g(), c(), atlas.fixtures.snapshotId);
    expect(snapshot.id).toBe(atlas.fixtures.snapshotId);
    const log = atlas.sim.requests.slice(before).map((r) => `${r.operation}:${r.status}`);
    expect(log).toEqual(['getSnapshot:401', 'oauthToken:200', 'getSnapshot:200']);
  });

  it('recovers concurrent requests refused with the same revoked token, with one new token', async () => {
    const client = atlas.client(TEST_SERVICE_ACCOUNT);
    await client.getSnapshot(g(), c(), atlas.fixtures.snapshotId);
    atlas.sim.revokeAllTokens();
    const before = atlas.sim.requests.length;
    const results = await Promise.all(
      Array.from({ length: 4 }, () => client.getSnapshot(g(), c(), atlas.fixtures.snapshotId))
    );
    expect(results.every((r) => r.id === atlas.fixtures.snapshotId)).toBe(true);
    const tokens = atlas.sim.requests.slice(before).filter((r) => r.operation === 'oauthToken');
    expect(tokens).toHaveLength(1);
  });

  it('rejects wrong digest credentials with a typed 401', async () => {
    const client = atlas.client({ mode: 'api-key', publicKey: TEST_SECRETS.publicKey, privateKey: 'wrong' });
    const err = await client.getSnapshot(g(), c(), atlas.fixtures.snapshotId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AtlasApiError);
    expect((err as AtlasApiError).status).toBe(401);
    expect((err as AtlasApiError).message).not.toContain('wrong');
  });

  it('rejects a wrong service-account secret with a typed 401 from the token endpoint', async () => {
    const client = atlas.client({ mode: 'service-account', clientId: TEST_SECRETS.clientId, clientSecret: 'nope' });
    const err = await client.getSnapshot(g(), c(), atlas.fixtures.snapshotId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AtlasApiError);
    expect((err as AtlasApiError).status).toBe(401);
    expect((err as AtlasApiError).path).toBe('/api/oauth/token');
  });

  it('says a failure at the token endpoint is the token endpoint’s, with its status and reason, never the secret', async () => {
    const answers: { status: number; type: string; body: string }[] = [
      { status: 404, type: 'text/html', body: '<html><body>Page not found</body></html>' },
      {
        status: 401,
        type: 'application/json',
        body: JSON.stringify({
          error: 'invalid_client',
          error_description: `bad client secret ${TEST_SECRETS.clientSecret}.`,
        }),
      },
      { status: 503, type: 'application/json', body: '{}' },
    ];
    const server = createServer((req, res) => {
      const answer = answers.shift()!;
      res.writeHead(answer.status, {
        'content-type': answer.type,
        ...(answer.status === 503 ? { 'retry-after': '4' } : {}),
      });
      res.end(answer.body);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const wrongBase = `http://127.0.0.1:${port}`;
    try {
      const failures = [];
      for (let i = 0; i < 3; i++) {
        const client = new AtlasClient({ baseUrl: wrongBase, credentials: TEST_SERVICE_ACCOUNT, timeoutMs: 2_000 });
        const err = await client.getSnapshot(g(), c(), atlas.fixtures.snapshotId).catch((e: unknown) => e);
        await client.close();
        expect(err).toBeInstanceOf(AtlasTokenError);
        failures.push({ err: err as AtlasTokenError, mapped: toApplicationFailure(err) as ApplicationFailure });
      }
      const [notFound, refused, unavailable] = failures;
      expect(notFound!.err).toMatchObject({
        status: 404,
        endpoint: `${wrongBase}/api/oauth/token`,
        path: '/api/oauth/token',
      });
      expect(notFound!.mapped.nonRetryable).toBe(true);
      expect(notFound!.mapped.type).toBe('HTTP_404');
      expect(notFound!.mapped.message).toContain(`Atlas OAuth token endpoint POST ${wrongBase}/api/oauth/token`);
      expect(notFound!.mapped.message).toContain('404: Not Found.');
      expect(notFound!.mapped.message).toContain('ATLAS_BASE_URL is likely wrong');
      expect(notFound!.mapped.message).toContain('ATLAS_CLIENT_ID/ATLAS_CLIENT_SECRET');
      expect(notFound!.mapped.message).not.toContain('groupId');

      expect(refused!.mapped).toMatchObject({ nonRetryable: true, type: 'invalid_client' });
      expect(refused!.mapped.message).toContain('401 invalid_client: bad client secret [redacted]. To fix:');
      expect(refused!.mapped.message).not.toMatch(/\.\./);

      expect(unavailable!.mapped).toMatchObject({ nonRetryable: false, nextRetryDelay: 4_000 });
      for (const f of failures) {
        expect(`${f.err.message} ${f.mapped.message}`).not.toContain(TEST_SECRETS.clientSecret);
      }
    } finally {
      server.close();
    }
  });

  it('maps error bodies to AtlasApiError with errorCode, detail and Retry-After', async () => {
    const client = atlas.client();
    const notFound = await client
      .getExportJob(g(), 'no-such-cluster', 'aaaaaaaaaaaaaaaaaaaaaaaa')
      .catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(AtlasApiError);
    expect((notFound as AtlasApiError).status).toBe(404);
    expect((notFound as AtlasApiError).errorCode).toBe('CLUSTER_NOT_FOUND');
    expect((notFound as AtlasApiError).detail).toContain('no-such-cluster');

    atlas.sim.injectFaults({
      operation: 'getSnapshot',
      kind: 'status',
      status: 429,
      errorCode: 'RATE_LIMITED',
      retryAfterSeconds: 7,
    });
    const limited = await client.getSnapshot(g(), c(), atlas.fixtures.snapshotId).catch((e: unknown) => e);
    expect((limited as AtlasApiError).status).toBe(429);
    expect((limited as AtlasApiError).retryAfterMs).toBe(7_000);

    // A repeated header reaches the parser whole: the longest valid value counts.
    atlas.sim.injectFaults({ operation: 'getSnapshot', kind: 'status', status: 503, retryAfter: ['4', 'soon', '9'] });
    const repeated = await client.getSnapshot(g(), c(), atlas.fixtures.snapshotId).catch((e: unknown) => e);
    expect((repeated as AtlasApiError).retryAfterMs).toBe(9_000);
  });

  it('turns malformed and drifted bodies into AtlasResponseValidationError naming the field', async () => {
    const client = atlas.client();
    atlas.sim.injectFaults({ operation: 'getSnapshot', kind: 'malformed' });
    const malformed = await client.getSnapshot(g(), c(), atlas.fixtures.snapshotId).catch((e: unknown) => e);
    expect(malformed).toBeInstanceOf(AtlasResponseValidationError);
    expect((malformed as Error).message).toContain('not valid JSON');

    const job = (await client.listExportJobs(g(), c()))[0]!;
    atlas.sim.injectFaults({ operation: 'getExportJob', kind: 'schemaDrift' });
    const drifted = await client.getExportJob(g(), c(), job.id).catch((e: unknown) => e);
    expect(drifted).toBeInstanceOf(AtlasResponseValidationError);
    expect((drifted as AtlasResponseValidationError).issues.length).toBeGreaterThan(0);
  });

  it('keeps an unknown state as an open string', async () => {
    const client = atlas.client();
    const job = (await client.listExportJobs(g(), c()))[0]!;
    atlas.sim.injectFaults({ operation: 'getExportJob', kind: 'unknownState' });
    const read = await client.getExportJob(g(), c(), job.id);
    expect(read.state).toBe('Paused');
  });

  it('turns resets and timeouts into AtlasNetworkError', async () => {
    const client = new AtlasClient({ baseUrl: atlas.sim.url, credentials: TEST_API_KEY, timeoutMs: 500 });
    try {
      atlas.sim.injectFaults({ operation: 'getSnapshot', kind: 'reset' });
      const reset = await client.getSnapshot(g(), c(), atlas.fixtures.snapshotId).catch((e: unknown) => e);
      expect(reset).toBeInstanceOf(AtlasNetworkError);
      expect((reset as AtlasNetworkError).timedOut).toBe(false);

      atlas.sim.injectFaults({ operation: 'getSnapshot', kind: 'delay', delayMs: 2_000 });
      const slow = await client.getSnapshot(g(), c(), atlas.fixtures.snapshotId).catch((e: unknown) => e);
      expect(slow).toBeInstanceOf(AtlasNetworkError);
    } finally {
      await client.close();
    }
  });
});

describe('reading answers from a peer we did not write', () => {
  type Seen = { operation: string; kind: string; detail: string }[];
  function observed(client: AtlasClient): Seen {
    const seen: Seen = [];
    client.onResponseAnomaly(({ operation, anomaly }) => seen.push({ operation, ...anomaly }));
    return seen;
  }
  function clusterWithJobs(n: number): { cluster: string; ids: string[] } {
    const cluster = `peer-${Math.random().toString(36).slice(2, 8)}`;
    atlas.sim.addCluster(g(), cluster);
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      ids.push(
        atlas.sim.addExportJob(g(), cluster, {
          createdAt: new Date(Date.now() - (i + 1) * 86_400_000),
          queuedMs: 60_000,
          inProgressMs: 600_000,
          exportBucketId: atlas.fixtures.exportBucketId,
        })
      );
    }
    return { cluster, ids };
  }

  it('skips a list item without id or state, reports it, and keeps the others', async () => {
    const client = atlas.client();
    const seen = observed(client);
    const { cluster, ids } = clusterWithJobs(3);
    for (const patch of [{ omit: ['id'] }, { set: { state: null } }, { set: { state: 42 } }]) {
      atlas.sim.injectFaults({ operation: 'listExportJobs', kind: 'patchBody', itemIndex: 1, ...patch });
      const listed = await client.listExportJobs(g(), cluster);
      expect(listed.map((j) => j.id)).toEqual([ids[0], ids[2]]);
    }
    expect(seen).toHaveLength(3);
    for (const s of seen) {
      expect(s).toMatchObject({ operation: 'listExportJobs', kind: 'unreadable-item' });
      expect(s.detail).toMatch(/item 1 of \/api\/atlas\/v2\/.*\/backup\/exports skipped: unreadable (id|state)/);
    }
  });

  it('reads a field that is null, of the wrong type or unknown as absent, without failing the body', async () => {
    const client = atlas.client();
    const seen = observed(client);
    const { cluster, ids } = clusterWithJobs(1);
    atlas.sim.injectFaults({
      operation: 'getExportJob',
      kind: 'patchBody',
      set: {
        createdAt: 1_700_000_000,
        finishedAt: null,
        snapshotId: ['x'],
        exportStatus: 'many',
        customData: [{ key: 'ok', value: 'kept' }, 'not-an-object', { key: 7 }],
        stateReason: null,
        components: null,
        links: { rel: 'self' },
        somethingNew: { nested: true },
      },
    });
    const job = await client.getExportJob(g(), cluster, ids[0]!);
    expect(job.id).toBe(ids[0]);
    expect(job.state).toBe('Successful');
    expect(job).toMatchObject({
      createdAt: undefined,
      finishedAt: undefined,
      snapshotId: undefined,
      exportStatus: undefined,
      stateReason: undefined,
      components: undefined,
      links: undefined,
      customData: [{ key: 'ok', value: 'kept' }, { key: undefined }],
    });
    expect(job).not.toHaveProperty('somethingNew');
    expect(seen).toEqual([]);

    atlas.sim.injectFaults({
      operation: 'listExportJobs',
      kind: 'patchBody',
      set: { 'exportStatus.totalCollections': 'all' },
    });
    atlas.sim.injectFaults({
      operation: 'listExportJobs',
      kind: 'patchBody',
      page: true,
      set: { totalCount: 'many', links: null },
    });
    expect((await client.listExportJobs(g(), cluster)).map((j) => j.id)).toEqual(ids);
    expect((await client.listExportJobs(g(), cluster)).map((j) => j.id)).toEqual(ids);
    expect(atlas.sim.pendingFaults()).toEqual([]);
  });

  it('reports contradicting counts and dates with a warning, and still returns the job', async () => {
    const client = atlas.client();
    const seen = observed(client);
    const { cluster, ids } = clusterWithJobs(1);
    atlas.sim.injectFaults({
      operation: 'getExportJob',
      kind: 'patchBody',
      set: {
        exportStatus: { exportedCollections: 12, totalCollections: 8 },
        createdAt: '2026-08-10T03:40:00Z',
        finishedAt: '2026-08-10T03:27:00Z',
      },
    });
    const job = await client.getExportJob(g(), cluster, ids[0]!);
    expect(job.exportStatus).toEqual({ exportedCollections: 12, totalCollections: 8 });
    expect(seen.map((s) => s.kind).sort()).toEqual(['exported-exceeds-total', 'finished-before-created']);
    expect(seen.every((s) => s.operation === 'getExportJob' && s.detail.includes(`export job ${ids[0]}`))).toBe(true);

    seen.length = 0;
    atlas.sim.injectFaults({
      operation: 'listExportJobs',
      kind: 'patchBody',
      set: { exportStatus: { exportedCollections: -1, totalCollections: 8 } },
    });
    const [listed] = await client.listExportJobs(g(), cluster);
    expect(listed?.exportStatus).toEqual({ exportedCollections: undefined, totalCollections: 8 });
    expect(seen).toEqual([expect.objectContaining({ operation: 'listExportJobs', kind: 'negative-count' })]);
  });

  it('reads snapshot lists item by item too', async () => {
    const client = atlas.client();
    const seen = observed(client);
    const all = await client.listSnapshots(g(), c());
    atlas.sim.injectFaults({
      operation: 'listSnapshots',
      kind: 'patchBody',
      itemIndex: 0,
      omit: ['id'],
    });
    atlas.sim.injectFaults({
      operation: 'listSnapshots',
      kind: 'patchBody',
      itemIndex: 0,
      set: { storageSizeBytes: -5 },
    });
    const read = await client.listSnapshots(g(), c());
    expect(read.map((s) => s.id)).toEqual(all.slice(1).map((s) => s.id));
    const again = await client.listSnapshots(g(), c());
    expect(again[0]?.storageSizeBytes).toBeUndefined();
    expect(seen.map((s) => s.kind)).toEqual(['unreadable-item', 'negative-size']);
  });
});

describe('pagination', () => {
  it('collects every page of a list longer than one page (501 jobs, 500 a page)', async () => {
    const client = atlas.client();
    atlas.sim.addCluster(g(), 'paged');
    const created = new Set<string>();
    for (let i = 0; i < 501; i++) {
      const snapshotId = atlas.sim.addSnapshot(g(), 'paged', { status: 'completed' });
      const job = await client.createExportJob(g(), 'paged', {
        snapshotId,
        exportBucketId: atlas.fixtures.exportBucketId,
      });
      created.add(job.id);
    }
    const before = atlas.sim.requests.length;
    const listed = await client.listExportJobs(g(), 'paged');
    expect(new Set(listed.map((j) => j.id))).toEqual(created);
    const pages = atlas.sim.requests.slice(before).filter((r) => r.operation === 'listExportJobs');
    expect(pages.map((r) => r.query.pageNum)).toEqual(['1', '2']);
  }, 60_000);

  it('follows a next link on its own origin only, so credentials never go to a host a link names', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(req.url ?? '');
      const page = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('pageNum') ?? '1');
      const job = (n: number) => ({
        id: n.toString(16).padStart(24, '0'),
        state: 'Successful',
        exportBucketId: 'b'.repeat(24),
      });
      const next =
        'https://elsewhere.invalid/api/atlas/v2/groups/x/clusters/c/backup/exports?pageNum=2&itemsPerPage=500';
      const body =
        page === 1 ? { results: [job(1)], links: [{ rel: 'next', href: next }] } : { results: [job(2)], links: [] };
      res.writeHead(200, { 'content-type': ATLAS_MEDIA_TYPE });
      res.end(JSON.stringify(body));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const client = new AtlasClient({ baseUrl: `http://127.0.0.1:${port}`, credentials: TEST_API_KEY });
    try {
      const jobs = await client.listExportJobs('a'.repeat(24), 'c');
      expect(jobs.map((j) => j.id)).toEqual(['1'.padStart(24, '0'), '2'.padStart(24, '0')]);
      expect(seen[1]).toBe('/api/atlas/v2/groups/x/clusters/c/backup/exports?pageNum=2&itemsPerPage=500');
    } finally {
      await client.close();
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('helpers', () => {
  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('55')).toBe(55_000);
    expect(parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 0, 10)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it('parses the digest challenge Atlas sends', () => {
    const c = parseDigestChallenge(
      'Digest realm="MMS Public API", domain="", nonce="abc/def+==", algorithm=MD5, qop="auth", stale=false'
    );
    expect(c).toEqual({
      realm: 'MMS Public API',
      nonce: 'abc/def+==',
      opaque: undefined,
      algorithm: 'MD5',
      qop: 'auth',
      stale: false,
    });
    expect(parseDigestChallenge('Bearer realm="x"')).toBeUndefined();
  });
});
