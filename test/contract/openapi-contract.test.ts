import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AtlasApiError, AtlasResponseValidationError, type AtlasClient } from '../../src/atlas';
import { startSimulatedAtlas, type SimulatedAtlas } from '../helpers/atlas';
import { CaseGenerator } from './openapi-cases';
import { atlasOpenApiSpecPath, createAtlasContract, loadAtlasContract, type AtlasContract } from './openapi-contract';

const GROUP = '5f4a8a3e2b1c0d9e8f7a6b5c';
const EXPORT = '6a1b2c3d4e5f60718293a4b5';
const SNAPSHOT = '6a1b2c3d4e5f60718293a4b6';
const BUCKET = '6a1b2c3d4e5f60718293a4b7';
const ORG = '5e2211c17a3e5a48f5497de3';
const CLUSTER = `/api/atlas/v2/groups/${GROUP}/clusters/cluster-989`;
const EXPORTS = `${CLUSTER}/backup/exports`;
const BUCKETS = `/api/atlas/v2/groups/${GROUP}/backup/exportBuckets`;
const V2023 = 'application/vnd.atlas.2023-01-01+json';
const V2024 = 'application/vnd.atlas.2024-05-30+json';
const JSON_HEADERS = { accept: V2023, 'content-type': V2023 };
const ERROR_HEADERS = { 'content-type': 'application/json' };

const queuedJob = {
  id: EXPORT,
  snapshotId: SNAPSHOT,
  exportBucketId: BUCKET,
  state: 'Queued',
  exportStatus: { exportedCollections: 0, totalCollections: 0 },
  createdAt: '2026-08-10T03:27:45Z',
  prefix: `exported_snapshots/${ORG}/${GROUP}/cluster-989/2026-08-10T0327/1786332505`,
  customData: [],
  links: [{ href: `https://cloud.mongodb.com${EXPORTS}/${EXPORT}`, rel: 'self' }],
};
const successfulJob = { ...queuedJob, state: 'Successful', finishedAt: '2026-08-10T03:40:31Z' };
const clusterNotFound = {
  detail: `No cluster named cluster-989 exists in group ${GROUP}.`,
  error: 404,
  errorCode: 'CLUSTER_NOT_FOUND',
  reason: 'Not Found',
};

function expectProblem(problems: string[], ...fragments: string[]): void {
  expect(problems, 'expected at least one problem').not.toEqual([]);
  const hit = problems.find((problem) => fragments.every((fragment) => problem.includes(fragment)));
  expect(hit, `no problem mentions ${fragments.join(' + ')} in:\n${problems.join('\n')}`).toBeDefined();
}

const contract = loadAtlasContract();

describe.skipIf(!contract)('Atlas Admin API v2 contract (official OpenAPI document)', () => {
  const atlas = contract as AtlasContract;

  it('reports the document version', () => {
    expect(atlas.specVersionInfo).toMatch(/^2\.0 x-xgen-sha [0-9a-f]{40} /);
  });

  describe('matchOperation', () => {
    it('resolves a concrete export path to its operation and decoded params', () => {
      expect(atlas.matchOperation('get', `${EXPORTS}/${EXPORT}?pretty=true`)).toEqual({
        operationId: 'getGroupClusterBackupExport',
        template: '/api/atlas/v2/groups/{groupId}/clusters/{clusterName}/backup/exports/{exportId}',
        params: { groupId: GROUP, clusterName: 'cluster-989', exportId: EXPORT },
      });
      expect(atlas.matchOperation('POST', EXPORTS)?.operationId).toBe('createGroupClusterBackupExport');
    });

    it('prefers literal segments over templated ones', () => {
      expect(atlas.matchOperation('GET', `${CLUSTER}/backup/snapshots/shardedClusters`)?.operationId).toBe(
        'listGroupClusterBackupSnapshotShardedClusters'
      );
      expect(atlas.matchOperation('GET', `${CLUSTER}/backup/snapshots/${SNAPSHOT}`)?.params.snapshotId).toBe(SNAPSHOT);
    });

    it('returns undefined for unknown paths and undeclared methods', () => {
      expect(atlas.matchOperation('GET', `/api/atlas/v2/groups/${GROUP}/no-such-resource`)).toBeUndefined();
      expect(atlas.matchOperation('PUT', EXPORTS)).toBeUndefined();
    });
  });

  describe('checkRequest accepts', () => {
    it('a create-export request with the versioned media type', () => {
      const body = { snapshotId: SNAPSHOT, exportBucketId: BUCKET, customData: [{ key: 'run', value: 'r-1' }] };
      expect(atlas.checkRequest({ method: 'POST', url: EXPORTS, headers: JSON_HEADERS, body })).toEqual([]);
      expect(
        atlas.checkRequest({ method: 'POST', url: EXPORTS, headers: JSON_HEADERS, body: JSON.stringify(body) })
      ).toEqual([]);
    });

    it('a paginated list request at the documented bounds', () => {
      const url = `${EXPORTS}?itemsPerPage=500&pageNum=1&includeCount=false&envelope=false`;
      expect(atlas.checkRequest({ method: 'GET', url, headers: { Accept: V2023 } })).toEqual([]);
    });

    it('an Accept list that includes the declared version', () => {
      const headers = { accept: `application/json, ${V2023};charset=utf-8` };
      expect(atlas.checkRequest({ method: 'GET', url: `${EXPORTS}/${EXPORT}`, headers })).toEqual([]);
    });

    it('discriminated export bucket requests (2024-05-30)', () => {
      const headers = { accept: V2024, 'content-type': V2024 };
      const bodies = [
        { cloudProvider: 'AWS', bucketName: 'export-bucket', iamRoleId: BUCKET, requirePrivateNetworking: false },
        { cloudProvider: 'GCP', bucketName: 'export-bucket', roleId: BUCKET },
        {
          cloudProvider: 'AZURE',
          roleId: BUCKET,
          serviceUrl: 'https://examplestorageaccount.blob.core.windows.net/exportcontainer',
        },
      ];
      for (const body of bodies) {
        expect(atlas.checkRequest({ method: 'POST', url: BUCKETS, headers, body }), body.cloudProvider).toEqual([]);
      }
    });
  });

  describe('checkRequest rejects', () => {
    it('a path id that is not 24-hex', () => {
      const problems = atlas.checkRequest({ method: 'GET', url: `${EXPORTS}/not-an-id`, headers: JSON_HEADERS });
      expectProblem(problems, "path parameter 'exportId'", 'pattern', 'not-an-id');
      const badGroup = atlas.checkRequest({
        method: 'GET',
        url: `/api/atlas/v2/groups/${GROUP.toUpperCase()}/clusters/c1/backup/exports`,
        headers: JSON_HEADERS,
      });
      expectProblem(badGroup, "path parameter 'groupId'");
    });

    it('a cluster name outside the declared pattern', () => {
      const url = `/api/atlas/v2/groups/${GROUP}/clusters/-c1/backup/exports`;
      expectProblem(atlas.checkRequest({ method: 'GET', url, headers: JSON_HEADERS }), "path parameter 'clusterName'");
    });

    it('itemsPerPage and pageNum outside their ranges', () => {
      const check = (query: string): string[] =>
        atlas.checkRequest({ method: 'GET', url: `${EXPORTS}?${query}`, headers: JSON_HEADERS });
      expectProblem(check('itemsPerPage=0'), "query parameter 'itemsPerPage'", '>= 1', 'got 0');
      expectProblem(check('itemsPerPage=501'), "query parameter 'itemsPerPage'", '<= 500');
      expectProblem(check('pageNum=0'), "query parameter 'pageNum'", '>= 1');
      expectProblem(check('itemsPerPage=ten'), "query parameter 'itemsPerPage'", 'integer');
      expectProblem(check('includeCount=yes'), "query parameter 'includeCount'", 'boolean');
    });

    it('undeclared query parameters', () => {
      const problems = atlas.checkRequest({ method: 'POST', url: `${EXPORTS}?itemsPerPage=5`, headers: JSON_HEADERS });
      expectProblem(problems, "query parameter 'itemsPerPage'", 'not declared');
    });

    it('a body without exportBucketId, or with a malformed snapshotId', () => {
      const missing = atlas.checkRequest({
        method: 'POST',
        url: EXPORTS,
        headers: JSON_HEADERS,
        body: { snapshotId: SNAPSHOT },
      });
      expectProblem(missing, 'request body', 'exportBucketId', 'required');
      const malformed = atlas.checkRequest({
        method: 'POST',
        url: EXPORTS,
        headers: JSON_HEADERS,
        body: { snapshotId: 'abc', exportBucketId: BUCKET },
      });
      expectProblem(malformed, 'snapshotId', 'pattern');
    });

    it('a missing, unversioned or wrongly versioned Accept header', () => {
      const url = `${EXPORTS}/${EXPORT}`;
      expectProblem(atlas.checkRequest({ method: 'GET', url, headers: {} }), 'Accept header is missing', V2023);
      expectProblem(
        atlas.checkRequest({ method: 'GET', url, headers: { accept: 'application/json' } }),
        'Accept',
        'application/json'
      );
      expectProblem(atlas.checkRequest({ method: 'GET', url, headers: { accept: '*/*' } }), 'Accept');
      expectProblem(atlas.checkRequest({ method: 'GET', url, headers: { accept: V2024 } }), 'Accept', V2024);
    });

    it('a missing or undeclared Content-Type, a missing body and an invalid JSON body', () => {
      const body = { snapshotId: SNAPSHOT, exportBucketId: BUCKET };
      expectProblem(
        atlas.checkRequest({ method: 'POST', url: EXPORTS, headers: { accept: V2023 }, body }),
        'Content-Type header is missing'
      );
      expectProblem(
        atlas.checkRequest({
          method: 'POST',
          url: EXPORTS,
          headers: { accept: V2023, 'content-type': 'application/json' },
          body,
        }),
        'Content-Type',
        'application/json'
      );
      expectProblem(atlas.checkRequest({ method: 'POST', url: EXPORTS, headers: JSON_HEADERS }), 'request body');
      expectProblem(
        atlas.checkRequest({ method: 'POST', url: EXPORTS, headers: JSON_HEADERS, body: '{"snapshotId":' }),
        'not valid JSON'
      );
    });

    it('a body on an operation that declares none, and undeclared methods or paths', () => {
      expectProblem(
        atlas.checkRequest({ method: 'GET', url: EXPORTS, headers: JSON_HEADERS, body: { a: 1 } }),
        'declares none'
      );
      expectProblem(atlas.checkRequest({ method: 'PUT', url: EXPORTS, headers: JSON_HEADERS }), 'PUT', 'GET, POST');
      expectProblem(atlas.checkRequest({ method: 'GET', url: '/api/atlas/v2/nope', headers: {} }), 'no operation');
    });

    it('an export bucket request missing its provider-specific field', () => {
      const headers = { accept: V2024, 'content-type': V2024 };
      const gcp = { cloudProvider: 'GCP', bucketName: 'export-bucket' };
      expectProblem(atlas.checkRequest({ method: 'POST', url: BUCKETS, headers, body: gcp }), 'roleId', 'required');
      const aws = { cloudProvider: 'AWS', bucketName: 'b', iamRoleId: BUCKET };
      expectProblem(atlas.checkRequest({ method: 'POST', url: BUCKETS, headers, body: aws }), 'bucketName');
      const oci = { cloudProvider: 'OCI', bucketName: 'export-bucket' };
      expectProblem(atlas.checkRequest({ method: 'POST', url: BUCKETS, headers, body: oci }), 'cloudProvider');
    });
  });

  describe('checkResponse accepts', () => {
    it('the recorded create response (Queued, exportStatus 0/0) and terminal GET (finishedAt)', () => {
      expect(
        atlas.checkResponse({ method: 'POST', url: EXPORTS, status: 200, headers: JSON_HEADERS, body: queuedJob })
      ).toEqual([]);
      expect(
        atlas.checkResponse({
          method: 'GET',
          url: `${EXPORTS}/${EXPORT}`,
          status: 200,
          headers: {
            'Content-Type': `${V2023};charset=utf-8`,
            'RateLimit-Limit': '1200',
            'RateLimit-Remaining': '1199',
          },
          body: JSON.stringify(successfulJob),
        })
      ).toEqual([]);
    });

    it('a failed job with stateReason and a sharded-cluster job with components', () => {
      const failed = { ...successfulJob, state: 'Failed', stateReason: { errorCode: 'X', message: 'boom' } };
      const sharded = {
        ...queuedJob,
        exportStatus: undefined,
        components: [{ exportId: EXPORT, replicaSetName: 'shard-0' }],
      };
      for (const body of [failed, sharded]) {
        expect(
          atlas.checkResponse({ method: 'GET', url: `${EXPORTS}/${EXPORT}`, status: 200, headers: JSON_HEADERS, body })
        ).toEqual([]);
      }
    });

    it('a paginated list with links rel next', () => {
      const body = {
        links: [
          { href: `https://cloud.mongodb.com${EXPORTS}?pageNum=1&itemsPerPage=1`, rel: 'self' },
          { href: `https://cloud.mongodb.com${EXPORTS}?pageNum=2&itemsPerPage=1`, rel: 'next' },
        ],
        results: [successfulJob],
        totalCount: 2,
      };
      expect(
        atlas.checkResponse({
          method: 'GET',
          url: `${EXPORTS}?itemsPerPage=1`,
          status: 200,
          headers: JSON_HEADERS,
          body,
        })
      ).toEqual([]);
    });

    it('ApiError responses: 404 CLUSTER_NOT_FOUND, 429 with Retry-After, null detail', () => {
      expect(
        atlas.checkResponse({ method: 'GET', url: EXPORTS, status: 404, headers: ERROR_HEADERS, body: clusterNotFound })
      ).toEqual([]);
      const limited = { error: 429, errorCode: 'RATE_LIMITED_TOKEN_BUCKET', detail: null, reason: 'Too Many Requests' };
      expect(
        atlas.checkResponse({
          method: 'POST',
          url: EXPORTS,
          status: 429,
          headers: { ...ERROR_HEADERS, 'retry-after': '55' },
          body: limited,
        })
      ).toEqual([]);
      const invalid = {
        error: 400,
        errorCode: 'VALIDATION_ERROR',
        badRequestDetail: { fields: [{ field: 'exportBucketId', description: 'must not be null' }] },
      };
      expect(
        atlas.checkResponse({ method: 'POST', url: EXPORTS, status: 400, headers: ERROR_HEADERS, body: invalid })
      ).toEqual([]);
    });

    it('discriminated snapshot and export bucket responses', () => {
      const replicaSet = { id: SNAPSHOT, type: 'replicaSet', status: 'queued', snapshotType: 'onDemand' };
      const sharded = {
        id: SNAPSHOT,
        type: 'shardedCluster',
        members: [{ cloudProvider: 'AWS', id: SNAPSHOT, replicaSetName: 'shard-0' }],
      };
      for (const body of [replicaSet, sharded]) {
        expect(
          atlas.checkResponse({
            method: 'POST',
            url: `${CLUSTER}/backup/snapshots`,
            status: 200,
            headers: JSON_HEADERS,
            body,
          })
        ).toEqual([]);
      }
      const gcp = { _id: BUCKET, bucketName: 'export-bucket', cloudProvider: 'GCP', roleId: BUCKET };
      expect(
        atlas.checkResponse({
          method: 'GET',
          url: `${BUCKETS}/${BUCKET}`,
          status: 200,
          headers: { 'content-type': V2024 },
          body: gcp,
        })
      ).toEqual([]);
    });

    it('a 204 without body', () => {
      expect(
        atlas.checkResponse({
          method: 'DELETE',
          url: `${BUCKETS}/${BUCKET}`,
          status: 204,
          headers: {},
          body: undefined,
        })
      ).toEqual([]);
    });

    it('every example embedded in the document', () => {
      if (!atlas.specPath.endsWith('.json')) return;
      const doc = JSON.parse(readFileSync(atlas.specPath, 'utf8')) as {
        paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, Media> }> }>>;
      };
      type Media = { example?: unknown; examples?: Record<string, { value?: unknown }> };
      let checked = 0;
      for (const [template, item] of Object.entries(doc.paths)) {
        const url = template.replace(/\{[^}]+\}/g, 'x');
        for (const [method, op] of Object.entries(item)) {
          for (const [status, response] of Object.entries(op.responses ?? {})) {
            for (const [mediaType, media] of Object.entries(response.content ?? {})) {
              const examples = [media.example, ...Object.values(media.examples ?? {}).map((e) => e.value)];
              for (const body of examples.filter((e) => e !== undefined)) {
                checked += 1;
                const res = { method, url, status: Number(status), headers: { 'content-type': mediaType }, body };
                expect(atlas.checkResponse(res), `${method} ${template} ${status} ${mediaType}`).toEqual([]);
              }
            }
          }
        }
      }
      expect(checked).toBeGreaterThan(0);
    });
  });

  describe('checkResponse rejects', () => {
    it('state as a number, a non-date createdAt and a missing exportBucketId', () => {
      const { exportBucketId: _omitted, ...withoutBucket } = queuedJob;
      const body = { ...withoutBucket, state: 3, createdAt: 'yesterday' };
      const problems = atlas.checkResponse({ method: 'POST', url: EXPORTS, status: 200, headers: JSON_HEADERS, body });
      expectProblem(problems, 'state', 'must be string', 'got 3');
      expectProblem(problems, 'createdAt', 'date-time');
      expectProblem(problems, 'exportBucketId', 'required');
    });

    it('a state outside the enum and a bad id inside a list page', () => {
      const body = {
        results: [
          { ...queuedJob, state: 'QUEUED' },
          { ...queuedJob, id: 'x' },
        ],
      };
      const problems = atlas.checkResponse({ method: 'GET', url: EXPORTS, status: 200, headers: JSON_HEADERS, body });
      expectProblem(problems, 'results[0].state', 'allowed values', 'QUEUED');
      expectProblem(problems, 'results[1].id', 'pattern');
      const noResults = atlas.checkResponse({
        method: 'GET',
        url: EXPORTS,
        status: 200,
        headers: JSON_HEADERS,
        body: {},
      });
      expectProblem(noResults, 'results', 'required');
    });

    it('an undeclared status code', () => {
      const problems = atlas.checkResponse({
        method: 'POST',
        url: EXPORTS,
        status: 418,
        headers: ERROR_HEADERS,
        body: {},
      });
      expectProblem(problems, 'status 418', 'createGroupClusterBackupExport', '409');
      const noConflictOnGet = atlas.checkResponse({
        method: 'GET',
        url: `${EXPORTS}/${EXPORT}`,
        status: 409,
        headers: ERROR_HEADERS,
        body: { error: 409, errorCode: 'CONFLICT' },
      });
      expectProblem(noConflictOnGet, 'status 409');
    });

    it('an ApiError without errorCode or with error as a string', () => {
      const problems = atlas.checkResponse({
        method: 'GET',
        url: EXPORTS,
        status: 404,
        headers: ERROR_HEADERS,
        body: { error: '404', reason: 'Not Found' },
      });
      expectProblem(problems, 'errorCode', 'required');
      expectProblem(problems, 'error must be integer');
    });

    it('ApiError parameters that are not objects, as the spec declares object[]', () => {
      const body = { ...clusterNotFound, parameters: ['cluster-989', GROUP] };
      const problems = atlas.checkResponse({ method: 'GET', url: EXPORTS, status: 404, headers: ERROR_HEADERS, body });
      expectProblem(problems, 'parameters[0] must be object');
    });

    it('an undeclared or missing Content-Type, a body on 204 and a non-integer Retry-After', () => {
      const get = { method: 'GET', url: `${EXPORTS}/${EXPORT}`, status: 200, body: successfulJob };
      expectProblem(atlas.checkResponse({ ...get, headers: { 'content-type': 'application/json' } }), 'Content-Type');
      expectProblem(atlas.checkResponse({ ...get, headers: {} }), 'no Content-Type');
      expectProblem(
        atlas.checkResponse({
          method: 'DELETE',
          url: `${BUCKETS}/${BUCKET}`,
          status: 204,
          headers: {},
          body: { a: 1 },
        }),
        'declares none'
      );
      expectProblem(
        atlas.checkResponse({
          method: 'POST',
          url: EXPORTS,
          status: 429,
          headers: { ...ERROR_HEADERS, 'Retry-After': 'soon' },
          body: { error: 429, errorCode: 'RATE_LIMITED' },
        }),
        "header 'Retry-After'",
        'integer'
      );
    });

    it('a snapshot or bucket response that fails its discriminated schema', () => {
      const snapshot = { id: SNAPSHOT, type: 'shardedCluster', members: [{ id: SNAPSHOT }] };
      expectProblem(
        atlas.checkResponse({
          method: 'POST',
          url: `${CLUSTER}/backup/snapshots`,
          status: 200,
          headers: JSON_HEADERS,
          body: snapshot,
        }),
        'members[0].replicaSetName',
        'required'
      );
      const aws = { _id: BUCKET, bucketName: 'export-bucket', cloudProvider: 'AWS' };
      expectProblem(
        atlas.checkResponse({
          method: 'GET',
          url: `${BUCKETS}/${BUCKET}`,
          status: 200,
          headers: { 'content-type': V2024 },
          body: aws,
        }),
        'iamRoleId',
        'required'
      );
    });

    it('the on-demand snapshot frequencyType Atlas really returns, because the spec omits it', () => {
      const body = { id: SNAPSHOT, type: 'replicaSet', frequencyType: 'ondemand' };
      expectProblem(
        atlas.checkResponse({
          method: 'GET',
          url: `${CLUSTER}/backup/snapshots/${SNAPSHOT}`,
          status: 200,
          headers: JSON_HEADERS,
          body,
        }),
        'frequencyType',
        'ondemand'
      );
    });
  });

  it('does not enforce the documentation-template pattern on the export prefix', () => {
    expect(atlas.relaxations.join('\n')).toContain('exported_snapshots');
    const body = { ...queuedJob, prefix: 'anything/at/all' };
    expect(atlas.checkResponse({ method: 'POST', url: EXPORTS, status: 200, headers: JSON_HEADERS, body })).toEqual([]);
  });

  it('dispatches the cyclic DiskBackupCopyPolicyItem discriminator', () => {
    const headers = { 'content-type': 'application/vnd.atlas.2024-08-05+json' };
    const schedule = (copyPolicyItems: unknown[]): unknown => ({
      policies: [{ id: SNAPSHOT, policyItems: [] }],
      copySettings: [{ zoneId: SNAPSHOT, cloudProvider: 'AWS', copyPolicyItems }],
    });
    const url = `${CLUSTER}/backup/schedule`;
    const ok = schedule([
      { frequencyType: 'daily', retentionUnit: 'days', retentionValue: 7 },
      { frequencyType: 'ondemand' },
    ]);
    expect(atlas.checkResponse({ method: 'GET', url, status: 200, headers, body: ok })).toEqual([]);
    const timeBasedWithoutRetention = schedule([{ frequencyType: 'weekly' }]);
    const problems = atlas.checkResponse({ method: 'GET', url, status: 200, headers, body: timeBasedWithoutRetention });
    expectProblem(problems, 'copyPolicyItems[0].retentionUnit', 'required');
  });
});

describe('OpenAPI 3.0 semantics (synthetic document)', () => {
  const thing = { $ref: '#/components/schemas/Thing' };
  const json = (schema: unknown): unknown => ({ 'application/json': { schema } });
  const synthetic = createAtlasContract(
    {
      openapi: '3.0.1',
      info: { version: '1.0', 'x-xgen-sha': 'abc' },
      paths: {
        '/things/{thingId}': {
          parameters: [{ name: 'thingId', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } }],
          get: {
            operationId: 'getThing',
            parameters: [
              { name: 'tag', in: 'query', schema: { type: 'array', items: { type: 'string', enum: ['a', 'b'] } } },
            ],
            responses: { '200': { content: json(thing) }, '5XX': { content: json({ type: 'object' }) } },
          },
          put: {
            operationId: 'putThing',
            requestBody: { required: true, content: json(thing) },
            responses: { default: { content: json({ type: 'object', required: ['message'] }) } },
          },
        },
      },
      components: {
        schemas: {
          Thing: {
            type: 'object',
            'x-xgen-owner': 'nobody',
            example: { id: 'x' },
            required: ['id', 'secret', 'pet'],
            properties: {
              id: { type: 'string', readOnly: true },
              secret: { type: 'string', writeOnly: true },
              note: { type: 'string', nullable: true },
              color: { type: 'string', enum: ['red'], nullable: true },
              size: { type: 'integer', minimum: 0, exclusiveMinimum: true },
              pet: { $ref: '#/components/schemas/Pet' },
            },
          },
          Pet: {
            type: 'object',
            required: ['kind'],
            properties: { kind: { type: 'string' } },
            discriminator: { propertyName: 'kind', mapping: { cat: '#/components/schemas/Cat' } },
            oneOf: [{ $ref: '#/components/schemas/Cat' }, { $ref: '#/components/schemas/Dog' }],
          },
          Cat: {
            allOf: [
              { $ref: '#/components/schemas/Pet' },
              { type: 'object', required: ['meows'], properties: { meows: { type: 'boolean' } } },
            ],
          },
          Dog: {
            allOf: [
              { $ref: '#/components/schemas/Pet' },
              { type: 'object', required: ['barks'], properties: { barks: { type: 'boolean' } } },
            ],
          },
        },
      },
    },
    'synthetic.json'
  );
  const put = (body: unknown): string[] =>
    synthetic.checkRequest({ method: 'PUT', url: '/things/1', headers: { 'content-type': 'application/json' }, body });
  const got = (body: unknown, status = 200): string[] =>
    synthetic.checkResponse({
      method: 'GET',
      url: '/things/1',
      status,
      headers: { 'content-type': 'application/json' },
      body,
    });
  const cat = { kind: 'cat', meows: true };

  it('requires readOnly properties only in responses and writeOnly ones only in requests', () => {
    expect(put({ secret: 's', pet: cat })).toEqual([]);
    expectProblem(put({ id: 'x', pet: cat }), 'secret', 'required');
    expect(got({ id: 'x', pet: cat })).toEqual([]);
    expectProblem(got({ secret: 's', pet: cat }), 'id', 'required');
  });

  it('applies nullable, boolean exclusiveMinimum and ignores x- and example keys', () => {
    expect(got({ id: 'x', pet: cat, note: null, color: null, size: 1 })).toEqual([]);
    expectProblem(got({ id: 'x', pet: cat, size: 0 }), 'size', '> 0');
    expectProblem(got({ id: 'x', pet: cat, color: 'blue' }), 'color');
  });

  it('selects the branch by discriminator (explicit mapping and implicit schema name), not by oneOf', () => {
    expect(got({ id: 'x', pet: { kind: 'cat', meows: true, barks: true } })).toEqual([]);
    expect(got({ id: 'x', pet: { kind: 'Dog', barks: false } })).toEqual([]);
    expectProblem(got({ id: 'x', pet: { kind: 'cat', barks: true } }), 'pet.meows', 'required');
    expectProblem(got({ id: 'x', pet: { kind: 'cow' } }), 'pet.kind', 'allowed values');
  });

  it('coerces path, query and array parameters, and matches NXX and default responses', () => {
    const get = (url: string): string[] =>
      synthetic.checkRequest({ method: 'GET', url, headers: { accept: 'application/json' } });
    expect(get('/things/2?tag=a&tag=b')).toEqual([]);
    expectProblem(get('/things/0'), "path parameter 'thingId'", '>= 1');
    expectProblem(get('/things/1?tag=c'), "query parameter 'tag'", 'allowed values');
    expect(got({}, 503)).toEqual([]);
    expectProblem(got({}, 404), 'status 404');
    const putResponse = (body: unknown): string[] =>
      synthetic.checkResponse({
        method: 'PUT',
        url: '/things/1',
        status: 409,
        headers: { 'content-type': 'application/json' },
        body,
      });
    expect(putResponse({ message: 'm' })).toEqual([]);
    expectProblem(putResponse({}), 'message', 'required');
  });
});

/**
 * The client against what the spec allows: for the export (get, list, create) and snapshot (get, list, take; replica
 * set and sharded cluster) operations, every response example in the document, and bodies generated from the
 * response schemas (required-only, every property, `null` at each `nullable` one, unknown extra fields), served by
 * the simulator as they are. The client must read each; it may refuse a body only for a missing field the workflow
 * needs (a job's `id` and `state`, a snapshot's `id`), and must then name it. In a list such an item is skipped and
 * reported, not fatal.
 */
/** The generator reads the JSON document (the subset in ../shared); a YAML one given by ATLAS_OPENAPI_SPEC is skipped. */
const specJson = contract?.specPath.endsWith('.json') ? contract.specPath : undefined;

describe.skipIf(!specJson)('the Atlas client reads every response the spec allows', () => {
  let gen: CaseGenerator;
  let atlas: SimulatedAtlas;
  let client: AtlasClient;
  const anomalies: { operation: string; kind: string; detail: string }[] = [];

  beforeAll(async () => {
    gen = new CaseGenerator(JSON.parse(readFileSync(specJson!, 'utf8')) as Record<string, unknown>);
    atlas = await startSimulatedAtlas();
    client = atlas.client();
    client.onResponseAnomaly(({ operation, anomaly }) => anomalies.push({ operation, ...anomaly }));
  });
  afterAll(() => atlas?.close());

  const P = '/api/atlas/v2/groups/{groupId}/clusters/{clusterName}/backup';
  type Kind = 'job' | 'snapshot';
  interface Operation {
    template: string;
    method: 'get' | 'post';
    kind: Kind;
    list: boolean;
    /** The simulator operation and the exact path the client calls. */
    sim: {
      operation:
        'getExportJob' | 'listExportJobs' | 'createExportJob' | 'getSnapshot' | 'listSnapshots' | 'takeSnapshot';
      path: string;
    };
    call: () => Promise<unknown>;
  }
  const operations = (): Operation[] => {
    const { groupId: g, clusterName: c, shardedClusterName: sc, exportBucketId, snapshotId } = atlas.fixtures;
    const base = (cluster: string) => `/api/atlas/v2/groups/${g}/clusters/${cluster}/backup`;
    return [
      {
        template: `${P}/exports/{exportId}`,
        method: 'get',
        kind: 'job',
        list: false,
        sim: { operation: 'getExportJob', path: `${base(c)}/exports/${EXPORT}` },
        call: () => client.getExportJob(g, c, EXPORT),
      },
      {
        template: `${P}/exports`,
        method: 'get',
        kind: 'job',
        list: true,
        sim: { operation: 'listExportJobs', path: `${base(c)}/exports` },
        call: () => client.listExportJobs(g, c),
      },
      {
        template: `${P}/exports`,
        method: 'post',
        kind: 'job',
        list: false,
        sim: { operation: 'createExportJob', path: `${base(c)}/exports` },
        call: () => client.createExportJob(g, c, { snapshotId, exportBucketId }),
      },
      {
        template: `${P}/snapshots/{snapshotId}`,
        method: 'get',
        kind: 'snapshot',
        list: false,
        sim: { operation: 'getSnapshot', path: `${base(c)}/snapshots/${SNAPSHOT}` },
        call: () => client.getSnapshot(g, c, SNAPSHOT),
      },
      {
        template: `${P}/snapshots/shardedCluster/{snapshotId}`,
        method: 'get',
        kind: 'snapshot',
        list: false,
        sim: { operation: 'getSnapshot', path: `${base(sc)}/snapshots/shardedCluster/${SNAPSHOT}` },
        call: () => client.getShardedClusterSnapshot(g, sc, SNAPSHOT),
      },
      {
        template: `${P}/snapshots`,
        method: 'get',
        kind: 'snapshot',
        list: true,
        sim: { operation: 'listSnapshots', path: `${base(c)}/snapshots` },
        call: () => client.listSnapshots(g, c),
      },
      {
        template: `${P}/snapshots/shardedClusters`,
        method: 'get',
        kind: 'snapshot',
        list: true,
        sim: { operation: 'listSnapshots', path: `${base(sc)}/snapshots/shardedClusters` },
        call: () => client.listShardedClusterSnapshots(g, sc),
      },
      {
        template: `${P}/snapshots`,
        method: 'post',
        kind: 'snapshot',
        list: false,
        sim: { operation: 'takeSnapshot', path: `${base(c)}/snapshots` },
        call: () => client.takeSnapshot(g, c, { description: 'contract', retentionInDays: 1 }),
      },
    ];
  };

  /** Fields the workflow needs that `item` lacks (or has unusable). */
  const missingNeeds = (kind: Kind, item: unknown): string[] => {
    const rec = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const needs = kind === 'job' ? ['id', 'state'] : ['id'];
    return needs.filter((f) => typeof rec[f] !== 'string' || rec[f] === '');
  };

  /** Serves `body` with `status` for the operation's next request and returns what the client made of it. */
  async function serve(op: Operation, body: unknown, status = 200): Promise<unknown> {
    atlas.sim.injectFaults({
      kind: 'replaceBody',
      operation: op.sim.operation,
      pathIncludes: op.sim.path,
      status,
      body,
    });
    const result = await op.call().then(
      (value) => ({ value }),
      (error: unknown) => ({ error })
    );
    expect(atlas.sim.pendingFaults(), 'the body was served').toEqual([]);
    return result;
  }

  function expectRead(op: Operation, label: string, body: unknown, outcome: unknown): void {
    const where = `${op.method.toUpperCase()} ${op.template} [${label}]`;
    const { value, error } = outcome as { value?: unknown; error?: unknown };
    const items = op.list ? ((body as { results?: unknown[] }).results ?? []) : [body];
    if (!op.list) {
      const missing = missingNeeds(op.kind, body);
      if (missing.length === 0) {
        expect(error, `${where}: read`).toBeUndefined();
        expect(value, where).toMatchObject(
          Object.fromEntries(
            ['id', 'state'].filter((f) => f in (body as object)).map((f) => [f, (body as Record<string, unknown>)[f]])
          )
        );
      } else {
        expect(error, `${where}: refused, naming ${missing.join(', ')}`).toBeInstanceOf(AtlasResponseValidationError);
        const paths = (error as AtlasResponseValidationError).issues.map((i) => i.path);
        expect(paths.sort(), where).toEqual(missing.sort());
        for (const f of missing) expect((error as Error).message, where).toContain(`${f}: `);
      }
      return;
    }
    expect(error, `${where}: a list is never refused for its items`).toBeUndefined();
    const readable = items.filter((item) => missingNeeds(op.kind, item).length === 0);
    expect(
      (value as { id: string }[]).map((v) => v.id),
      where
    ).toEqual(readable.map((i) => (i as { id: string }).id));
    const skipped = anomalies.splice(0).filter((a) => a.kind === 'unreadable-item');
    expect(skipped.length, `${where}: skipped items reported`).toBe(items.length - readable.length);
    for (const [i, s] of skipped.entries()) {
      const missing = missingNeeds(op.kind, items.filter((item) => missingNeeds(op.kind, item).length > 0)[i]);
      for (const f of missing) expect(s.detail, where).toContain(f);
    }
  }

  it('every response example of these operations: 2xx bodies are read, ApiError bodies keep their errorCode', async () => {
    let checked = 0;
    for (const op of operations()) {
      for (const { status, body } of gen.examples(op.method, op.template)) {
        checked += 1;
        const outcome = (await serve(op, body, status)) as { value?: unknown; error?: unknown };
        if (status >= 400) {
          expect(outcome.error).toBeInstanceOf(AtlasApiError);
          expect(outcome.error).toMatchObject({ status, errorCode: (body as { errorCode: string }).errorCode });
        } else {
          expectRead(op, `example ${status}`, body, outcome);
        }
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('bodies generated from the response schemas, valid by the spec: read unless a needed field is missing', async () => {
    let checked = 0;
    let refused = 0;
    for (const op of operations()) {
      const schema = gen.responseSchema(op.method, op.template);
      const cases = gen.cases(schema);
      if (op.list) {
        const items = gen.cases(gen.listItemSchema(schema));
        for (const c of items) cases.push({ label: `one item: ${c.label}`, body: { results: [c.body] } });
        const [minimal, maximal] = items;
        cases.push({
          label: 'a readable item between two that are not',
          body: { results: [minimal!.body, maximal!.body, minimal!.body] },
        });
      }
      for (const c of cases) {
        const problems = atlas_contract().checkResponse({
          method: op.method,
          url: op.sim.path,
          status: 200,
          headers: { 'content-type': V2023 },
          body: c.body,
        });
        expect(problems, `${op.template} [${c.label}] is valid by the spec`).toEqual([]);
        const outcome = await serve(op, c.body);
        expectRead(op, c.label, c.body, outcome);
        checked += 1;
        if ((outcome as { error?: unknown }).error) refused += 1;
      }
    }
    // Required-only job and snapshot bodies lack the id (the spec requires none of it): refused, by name.
    expect(refused).toBeGreaterThan(0);
    expect(checked).toBeGreaterThan(40);
  });

  it('ApiError bodies with null where the spec allows it (detail, reason) still give a typed AtlasApiError', async () => {
    const [getJob] = operations();
    const apiError = gen.responseSchema('get', `${P}/exports/{exportId}`, '404');
    const cases = gen.cases(apiError);
    expect(cases.some((c) => c.label === 'null at detail')).toBe(true);
    expect(cases.some((c) => c.label === 'null at reason')).toBe(true);
    for (const c of cases) {
      const outcome = (await serve(getJob!, c.body, 404)) as { error?: unknown };
      expect(outcome.error, c.label).toBeInstanceOf(AtlasApiError);
      expect(outcome.error, c.label).toMatchObject({
        status: 404,
        errorCode: (c.body as { errorCode: string }).errorCode,
      });
    }
  });
});

function atlas_contract(): AtlasContract {
  return contract as AtlasContract;
}

if (!specJson) {
  it('client-against-spec check skipped: no JSON OpenAPI document in ../shared/atlas-openapi', () => {
    console.warn(
      `client-against-spec check skipped: no JSON OpenAPI document at ${atlasOpenApiSpecPath()} (the subset from ../shared/atlas-openapi, or ATLAS_OPENAPI_SPEC)`
    );
  });
}
