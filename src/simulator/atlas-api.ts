import { ATLAS_ID_PATTERN, CLUSTER_NAME_PATTERN } from '../shared/atlas/vocabulary';
import { AlertWebhooks, parseAlertConfigBody } from './alert-webhooks';
import { SimApiError, type FieldViolation } from './errors';
import { buildPage, parsePaging } from './pagination';
import { jobProgress } from './export-jobs';
import { clusterKind, type ClusterKind, type CreateJobInput } from './records';
import { type SimState } from './state';
import { type OperationName } from './types';
import { renderBucket, renderJob, renderSnapshot } from './views';

type PathParam = 'groupId' | 'clusterName' | 'exportId' | 'snapshotId' | 'exportBucketId';

/** What a handler sees of a request that passed authentication, versioning and rate limiting. */
export interface HandlerContext {
  params: Record<PathParam, string>;
  query: URLSearchParams;
  rawBody: string;
  /** Scheme and authority the client used, e.g. `http://127.0.0.1:8089`. */
  baseUrl: string;
  /** Absolute URL of the request. */
  selfUrl: URL;
  state: SimState;
}

/** A successful handler response. */
export interface HandlerResult {
  status: number;
  body: unknown;
}

/** One Atlas endpoint. */
export interface AtlasRoute {
  operation: OperationName;
  method: 'GET' | 'POST';
  pattern: RegExp;
  params: readonly PathParam[];
  /** API versions (`application/vnd.atlas.<version>+json`) the endpoint serves. */
  versions: readonly string[];
  /** Whether the request carries a JSON body (its Content-Type is checked). */
  hasBody: boolean;
  handle: (ctx: HandlerContext) => HandlerResult;
}

const ID = ATLAS_ID_PATTERN;
const CLUSTER = CLUSTER_NAME_PATTERN;
const V2023 = ['2023-01-01'] as const;
const BUCKET_VERSIONS = ['2023-01-01', '2024-05-30'] as const;
const P = '^/api/atlas/v2/groups/([^/]+)';
const C = `${P}/clusters/([^/]+)`;

const ok = (body: unknown): HandlerResult => ({ status: 200, body });

/** The simulated endpoints. */
export const ATLAS_ROUTES: readonly AtlasRoute[] = [
  {
    operation: 'createExportJob',
    method: 'POST',
    pattern: new RegExp(`${C}/backup/exports/?$`),
    params: ['groupId', 'clusterName'],
    versions: V2023,
    hasBody: true,
    handle: (ctx) => {
      const input = parseCreateJobBody(ctx.rawBody);
      const cluster = ctx.state.requireCluster(ctx.params.groupId, ctx.params.clusterName);
      const job = ctx.state.createExportJob(cluster, input);
      return ok(renderJob(job, jobProgress(job, ctx.state.now()), ctx.baseUrl));
    },
  },
  {
    operation: 'listExportJobs',
    method: 'GET',
    pattern: new RegExp(`${C}/backup/exports/?$`),
    params: ['groupId', 'clusterName'],
    versions: V2023,
    hasBody: false,
    handle: (ctx) => {
      const paging = parsePaging(ctx.query);
      const cluster = ctx.state.requireCluster(ctx.params.groupId, ctx.params.clusterName);
      const now = ctx.state.now();
      return ok(
        buildPage(ctx.state.clusterJobs(cluster), paging, ctx.selfUrl, (job) =>
          renderJob(job, jobProgress(job, now), ctx.baseUrl)
        )
      );
    },
  },
  {
    operation: 'getExportJob',
    method: 'GET',
    pattern: new RegExp(`${C}/backup/exports/([^/]+)$`),
    params: ['groupId', 'clusterName', 'exportId'],
    versions: V2023,
    hasBody: false,
    handle: (ctx) => {
      const cluster = ctx.state.requireCluster(ctx.params.groupId, ctx.params.clusterName);
      const job = ctx.state.requireJob(cluster, ctx.params.exportId);
      return ok(renderJob(job, jobProgress(job, ctx.state.now()), ctx.baseUrl));
    },
  },
  {
    operation: 'takeSnapshot',
    method: 'POST',
    pattern: new RegExp(`${C}/backup/snapshots/?$`),
    params: ['groupId', 'clusterName'],
    versions: V2023,
    hasBody: true,
    handle: (ctx) => {
      const request = parseTakeSnapshotBody(ctx.rawBody);
      const cluster = ctx.state.requireCluster(ctx.params.groupId, ctx.params.clusterName);
      const snapshot = ctx.state.takeSnapshot(cluster, request);
      return ok(renderSnapshot(snapshot, cluster, ctx.state.snapshotStatus(snapshot), ctx.baseUrl));
    },
  },
  {
    operation: 'listSnapshots',
    method: 'GET',
    pattern: new RegExp(`${C}/backup/snapshots/?$`),
    params: ['groupId', 'clusterName'],
    versions: V2023,
    hasBody: false,
    handle: (ctx) => listSnapshots(ctx, 'replicaSet'),
  },
  {
    operation: 'listSnapshots',
    method: 'GET',
    pattern: new RegExp(`${C}/backup/snapshots/shardedClusters/?$`),
    params: ['groupId', 'clusterName'],
    versions: V2023,
    hasBody: false,
    handle: (ctx) => listSnapshots(ctx, 'shardedCluster'),
  },
  {
    operation: 'getSnapshot',
    method: 'GET',
    pattern: new RegExp(`${C}/backup/snapshots/shardedCluster/([^/]+)$`),
    params: ['groupId', 'clusterName', 'snapshotId'],
    versions: V2023,
    hasBody: false,
    handle: (ctx) => getSnapshot(ctx, 'shardedCluster'),
  },
  {
    operation: 'getSnapshot',
    method: 'GET',
    pattern: new RegExp(`${C}/backup/snapshots/([^/]+)$`),
    params: ['groupId', 'clusterName', 'snapshotId'],
    versions: V2023,
    hasBody: false,
    handle: (ctx) => getSnapshot(ctx, 'replicaSet'),
  },
  {
    operation: 'listExportBuckets',
    method: 'GET',
    pattern: new RegExp(`${P}/backup/exportBuckets/?$`),
    params: ['groupId'],
    versions: BUCKET_VERSIONS,
    hasBody: false,
    handle: (ctx) => {
      const paging = parsePaging(ctx.query);
      ctx.state.requireProject(ctx.params.groupId);
      return ok(
        buildPage(ctx.state.projectBuckets(ctx.params.groupId), paging, ctx.selfUrl, (b) =>
          renderBucket(b, ctx.baseUrl)
        )
      );
    },
  },
  {
    operation: 'getExportBucket',
    method: 'GET',
    pattern: new RegExp(`${P}/backup/exportBuckets/([^/]+)$`),
    params: ['groupId', 'exportBucketId'],
    versions: BUCKET_VERSIONS,
    hasBody: false,
    handle: (ctx) =>
      ok(renderBucket(ctx.state.requireBucket(ctx.params.groupId, ctx.params.exportBucketId), ctx.baseUrl)),
  },
  {
    operation: 'createAlertConfiguration',
    method: 'POST',
    pattern: new RegExp(`${P}/alertConfigs/?$`),
    params: ['groupId'],
    versions: V2023,
    hasBody: true,
    handle: (ctx) => {
      ctx.state.requireProject(ctx.params.groupId);
      const body = parseAlertConfigBody(ctx.rawBody);
      return ok(AlertWebhooks.render(ctx.state.alerts.create(ctx.params.groupId, body)));
    },
  },
  {
    operation: 'listAlertConfigurations',
    method: 'GET',
    pattern: new RegExp(`${P}/alertConfigs/?$`),
    params: ['groupId'],
    versions: V2023,
    hasBody: false,
    handle: (ctx) => {
      const paging = parsePaging(ctx.query);
      ctx.state.requireProject(ctx.params.groupId);
      return ok(
        buildPage(ctx.state.alerts.list(ctx.params.groupId), paging, ctx.selfUrl, (c) => AlertWebhooks.render(c))
      );
    },
  },
];

/**
 * Each snapshot path serves only its cluster kind, as the spec names them: `…/backup/snapshots` and
 * `…/backup/snapshots/{id}` are "Replica Set Cloud Backups", `…/snapshots/shardedClusters` and
 * `…/snapshots/shardedCluster/{id}` "Sharded Cluster Cloud Backups". A list of the other kind is empty, a read of
 * the other kind is 404 `SNAPSHOT_NOT_FOUND` (what real Atlas answers there is not documented).
 */
function listSnapshots(ctx: HandlerContext, kind: ClusterKind): HandlerResult {
  const paging = parsePaging(ctx.query);
  const cluster = ctx.state.requireCluster(ctx.params.groupId, ctx.params.clusterName);
  const snapshots = clusterKind(cluster) === kind ? ctx.state.clusterSnapshots(cluster) : [];
  return ok(
    buildPage(snapshots, paging, ctx.selfUrl, (s) =>
      renderSnapshot(s, cluster, ctx.state.snapshotStatus(s), ctx.baseUrl)
    )
  );
}

function getSnapshot(ctx: HandlerContext, kind: ClusterKind): HandlerResult {
  const cluster = ctx.state.requireCluster(ctx.params.groupId, ctx.params.clusterName);
  const snapshot = ctx.state.requireSnapshot(cluster, ctx.params.snapshotId);
  if (clusterKind(cluster) !== kind) {
    const what = kind === 'shardedCluster' ? 'sharded cluster' : 'replica set';
    throw new SimApiError(404, 'SNAPSHOT_NOT_FOUND', `No ${what} snapshot with ID ${snapshot.id} exists.`, {
      parameters: [{ snapshotId: snapshot.id, clusterName: cluster.name }],
    });
  }
  return ok(renderSnapshot(snapshot, cluster, ctx.state.snapshotStatus(snapshot), ctx.baseUrl));
}

/** A matched route with its decoded path parameters, or the error a malformed parameter raises. */
export type RouteMatch =
  | { route: AtlasRoute; params: Record<PathParam, string>; error?: undefined }
  | { route: AtlasRoute; params?: undefined; error: SimApiError };

/** Finds the route for a request; a malformed path parameter is reported as 400 `INVALID_PATH_PARAMETER`. */
export function matchRoute(method: string, path: string): RouteMatch | undefined {
  for (const route of ATLAS_ROUTES) {
    if (route.method !== method) continue;
    const match = route.pattern.exec(path);
    if (match === null) continue;
    const params = { groupId: '', clusterName: '', exportId: '', snapshotId: '', exportBucketId: '' };
    try {
      route.params.forEach((name, i) => {
        params[name] = decodeParam(name, match[i + 1] ?? '');
      });
      validatePathParams(route.params, params);
    } catch (err) {
      if (err instanceof SimApiError) return { route, error: err };
      throw err;
    }
    return { route, params };
  }
  return undefined;
}

/** The `{groupId}` segment of a path under `/api/atlas/v2/groups/`, if any. */
export function groupIdFromPath(path: string): string | undefined {
  const match = /^\/api\/atlas\/v2\/groups\/([^/]+)/.exec(path);
  return match?.[1];
}

function invalidPath(name: string, value: string, expected: string): SimApiError {
  return new SimApiError(400, 'INVALID_PATH_PARAMETER', `The path parameter ${name} (${value}) ${expected}.`, {
    parameters: [{ name, value }],
  });
}

function decodeParam(name: string, raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw invalidPath(name, raw, 'is not valid percent-encoding');
  }
}

function validatePathParams(names: readonly PathParam[], params: Record<PathParam, string>): void {
  for (const name of names) {
    const value = params[name];
    if (name === 'clusterName') {
      if (!CLUSTER.test(value) || value.length > 64) {
        throw invalidPath(
          name,
          value,
          'must start with a letter or digit and contain only letters, digits and hyphens'
        );
      }
    } else if (!ID.test(value)) {
      throw invalidPath(name, value, 'must be a 24-hexadecimal character string');
    }
  }
}

function parseJsonBody(raw: string): unknown {
  if (raw.trim() === '') return {};
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new SimApiError(400, 'MALFORMED_JSON', 'The request body is not valid JSON.');
  }
}

function requireObject(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SimApiError(400, 'INVALID_JSON', 'The request body must be a JSON object.');
  }
  return value as Record<string, unknown>;
}

function validationError(fields: FieldViolation[]): SimApiError {
  return new SimApiError(
    400,
    'VALIDATION_ERROR',
    `Request body validation failed: ${fields.map((f) => `${f.field} ${f.description}`).join('; ')}.`,
    { fields }
  );
}

/**
 * Validates a `DiskBackupExportJobRequest`.
 * @throws SimApiError 400 `MALFORMED_JSON`, `INVALID_JSON`, `MISSING_ATTRIBUTE` or `VALIDATION_ERROR`
 */
export function parseCreateJobBody(raw: string): CreateJobInput {
  const body = requireObject(parseJsonBody(raw));
  for (const field of ['snapshotId', 'exportBucketId'] as const) {
    if (body[field] === undefined || body[field] === null) {
      throw new SimApiError(400, 'MISSING_ATTRIBUTE', `The required attribute ${field} was not specified.`, {
        parameters: [{ attribute: field }],
      });
    }
  }
  const fields: FieldViolation[] = [];
  for (const field of ['snapshotId', 'exportBucketId'] as const) {
    const value = body[field];
    if (typeof value !== 'string' || !ID.test(value)) {
      fields.push({ field, description: 'must match "^([a-f0-9]{24})$"' });
    }
  }
  const customData: { key?: string; value?: string }[] = [];
  if (body.customData !== undefined && body.customData !== null) {
    if (!Array.isArray(body.customData)) {
      fields.push({ field: 'customData', description: 'must be an array' });
    } else {
      body.customData.forEach((item: unknown, i) => {
        if (typeof item !== 'object' || item === null || Array.isArray(item)) {
          fields.push({ field: `customData[${i}]`, description: 'must be an object' });
          return;
        }
        const { key, value } = item as Record<string, unknown>;
        const label: { key?: string; value?: string } = {};
        if (key !== undefined && typeof key !== 'string') {
          fields.push({ field: `customData[${i}].key`, description: 'must be a string' });
        } else if (key !== undefined) label.key = key;
        if (value !== undefined && typeof value !== 'string') {
          fields.push({ field: `customData[${i}].value`, description: 'must be a string' });
        } else if (value !== undefined) label.value = value;
        customData.push(label);
      });
    }
  }
  if (fields.length > 0) throw validationError(fields);
  return { snapshotId: body.snapshotId as string, exportBucketId: body.exportBucketId as string, customData };
}

/**
 * Validates a `DiskBackupOnDemandSnapshotRequest`.
 * @throws SimApiError 400
 */
export function parseTakeSnapshotBody(raw: string): { description?: string; retentionInDays?: number } {
  const body = requireObject(parseJsonBody(raw));
  const fields: FieldViolation[] = [];
  const request: { description?: string; retentionInDays?: number } = {};
  if (body.description !== undefined) {
    if (typeof body.description !== 'string') fields.push({ field: 'description', description: 'must be a string' });
    else request.description = body.description;
  }
  if (body.retentionInDays !== undefined) {
    const r = body.retentionInDays;
    if (typeof r !== 'number' || !Number.isInteger(r) || r < 1) {
      fields.push({ field: 'retentionInDays', description: 'must be an integer >= 1' });
    } else request.retentionInDays = r;
  }
  if (fields.length > 0) throw validationError(fields);
  return request;
}
