import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtlasSimulator, type DefaultFixtures } from '../../src/simulator';
import { api, exportsPath, TEST_CREDENTIALS, type ErrorBody } from './helpers';

const MISSING_ID = 'ffffffffffffffffffffffff';

describe('error responses', () => {
  let sim: AtlasSimulator;
  let f: DefaultFixtures;

  beforeAll(async () => {
    sim = await AtlasSimulator.start({ credentials: TEST_CREDENTIALS, rateLimit: false });
    f = sim.seedDefault();
  });
  afterAll(() => sim.close());

  const expectError = (res: { status: number; json: ErrorBody; headers: Headers }, status: number, code: string) => {
    expect(res.status).toBe(status);
    expect(res.json.error).toBe(status);
    expect(res.json.errorCode).toBe(code);
    expect(typeof res.json.detail).toBe('string');
    expect(res.json.reason).toEqual(expect.any(String));
    expect(res.headers.get('content-type')).toBe('application/json');
  };

  it('answers 404 with specific codes for unknown resources', async () => {
    const g = `/api/atlas/v2/groups`;
    expectError(await api(sim, exportsPath(MISSING_ID, f.clusterName)), 404, 'GROUP_NOT_FOUND');
    expectError(await api(sim, exportsPath(f.groupId, 'NoSuchCluster')), 404, 'CLUSTER_NOT_FOUND');
    expectError(await api(sim, `${exportsPath(f.groupId, f.clusterName)}/${MISSING_ID}`), 404, 'EXPORT_JOB_NOT_FOUND');
    expectError(
      await api(sim, `${g}/${f.groupId}/clusters/${f.clusterName}/backup/snapshots/${MISSING_ID}`),
      404,
      'SNAPSHOT_NOT_FOUND'
    );
    expectError(await api(sim, `${g}/${f.groupId}/backup/exportBuckets/${MISSING_ID}`), 404, 'EXPORT_BUCKET_NOT_FOUND');
    expectError(
      await api(sim, exportsPath(f.groupId, f.clusterName), {
        body: { snapshotId: MISSING_ID, exportBucketId: f.exportBucketId },
      }),
      404,
      'SNAPSHOT_NOT_FOUND'
    );
    expectError(
      await api(sim, exportsPath(f.groupId, f.clusterName), {
        body: { snapshotId: f.snapshotId, exportBucketId: MISSING_ID },
      }),
      404,
      'EXPORT_BUCKET_NOT_FOUND'
    );
    const notFound = await api(sim, exportsPath(f.groupId, f.clusterName));
    expect(notFound.status).toBe(200);
  });

  it('treats a snapshot of another cluster as not found', async () => {
    const res = await api(sim, exportsPath(f.groupId, f.clusterName), {
      body: { snapshotId: f.shardedSnapshotId, exportBucketId: f.exportBucketId },
    });
    expectError(res, 404, 'SNAPSHOT_NOT_FOUND');
  });

  it('answers 404 RESOURCE_NOT_FOUND for unknown routes', async () => {
    expectError(await api(sim, `/api/atlas/v2/groups/${f.groupId}/nothing-here`), 404, 'RESOURCE_NOT_FOUND');
    expectError(await api(sim, '/api/v1.0/groups', { auth: 'none' }), 404, 'RESOURCE_NOT_FOUND');
  });

  it('answers 400 INVALID_PATH_PARAMETER for malformed path ids', async () => {
    const res = await api(sim, exportsPath('not-a-group', f.clusterName));
    expectError(res, 400, 'INVALID_PATH_PARAMETER');
    expectError(
      await api(sim, `${exportsPath(f.groupId, f.clusterName)}/ABCDEF0123456789abcdef01`),
      400,
      'INVALID_PATH_PARAMETER'
    );
    expectError(await api(sim, exportsPath(f.groupId, '-bad_name')), 400, 'INVALID_PATH_PARAMETER');
  });

  it('validates the create body', async () => {
    const path = exportsPath(f.groupId, f.clusterName);
    expectError(await api(sim, path, { body: '{"snapshotId": ' }), 400, 'MALFORMED_JSON');
    expectError(await api(sim, path, { body: '[1, 2]' }), 400, 'INVALID_JSON');
    const missing = await api(sim, path, { body: { exportBucketId: f.exportBucketId } });
    expectError(missing, 400, 'MISSING_ATTRIBUTE');
    expect(missing.json.detail).toContain('snapshotId');

    const invalid = await api(sim, path, {
      body: { snapshotId: 'xyz', exportBucketId: f.exportBucketId, customData: [{ key: 1, value: 'v' }] },
    });
    expectError(invalid, 400, 'VALIDATION_ERROR');
    expect(invalid.json.badRequestDetail?.fields.map((x) => x.field)).toEqual(['snapshotId', 'customData[0].key']);
    expect(sim.exportJobs()).toHaveLength(0);
  });

  it('answers 406 for a missing or wrong Accept header and 410 for a sunset version', async () => {
    const path = exportsPath(f.groupId, f.clusterName);
    expectError(await api(sim, path, { accept: null }), 406, 'INVALID_VERSION_DATE');
    expectError(await api(sim, path, { accept: 'application/json' }), 406, 'INVALID_VERSION_DATE');
    expectError(await api(sim, path, { accept: 'application/vnd.atlas.2024-08-05+json' }), 406, 'INVALID_VERSION_DATE');
    expectError(await api(sim, path, { accept: 'application/vnd.atlas.2022-01-01+json' }), 410, 'VERSION_GONE');

    const lenient = await api(sim, path, {
      accept: 'application/json, application/vnd.atlas.2023-01-01+json;charset=utf-8',
    });
    expect(lenient.status).toBe(200);
  });

  it('checks authentication before the version header', async () => {
    const res = await api(sim, exportsPath(f.groupId, f.clusterName), { auth: 'none', accept: 'application/json' });
    expect(res.status).toBe(401);
  });

  it('answers 415 for a body without the versioned Content-Type', async () => {
    const res = await api(sim, exportsPath(f.groupId, f.clusterName), {
      body: { snapshotId: f.snapshotId, exportBucketId: f.exportBucketId },
      contentType: 'application/json',
    });
    expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(sim.exportJobs()).toHaveLength(0);
  });

  it('answers 400 INVALID_QUERY_PARAMETER for out-of-range list parameters', async () => {
    const path = exportsPath(f.groupId, f.clusterName);
    for (const query of ['itemsPerPage=0', 'itemsPerPage=501', 'pageNum=0', 'itemsPerPage=abc', 'includeCount=yes']) {
      expectError(await api(sim, `${path}?${query}`), 400, 'INVALID_QUERY_PARAMETER');
    }
  });
});
