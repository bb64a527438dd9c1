import { Agent, request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { createAuthenticator, safeJson, type AtlasAuthenticator, type AtlasCredentials } from './auth';
import { DEFAULT_ATLAS_MAX_RESPONSE_BYTES, readLimitedText } from './body';
import type { ATLAS_OPERATIONS, AtlasListOperation, AtlasOperation } from './operations';
import {
  AtlasApiError,
  AtlasError,
  AtlasNetworkError,
  AtlasResponseTooLargeError,
  AtlasResponseValidationError,
  parseRetryAfter,
} from './errors';
import {
  ATLAS_ID_PATTERN,
  apiErrorSchema,
  exportJobAnomalies,
  exportJobSchema,
  pageSchema,
  snapshotAnomalies,
  snapshotSchema,
  type CreateExportJobRequest,
  type ExportJob,
  type Page,
  type ResponseAnomaly,
  type Snapshot,
} from './schemas';

/** The only API version the export and snapshot endpoints have. */
export const ATLAS_API_VERSION = '2023-01-01';
export const ATLAS_MEDIA_TYPE = `application/vnd.atlas.${ATLAS_API_VERSION}+json`;
export const DEFAULT_ATLAS_BASE_URL = 'https://cloud.mongodb.com';
/** Atlas allows up to 500 items a page; fewer pages means fewer rate-limit tokens. */
const LIST_PAGE_SIZE = 500;
const MAX_PAGES = 200;

export interface AtlasClientOptions {
  baseUrl?: string;
  credentials: AtlasCredentials;
  /** Per-request limit for headers and for body inactivity, and for the whole request. Default 30 s. */
  timeoutMs?: number;
  /** Connection pool; defaults to a private keep-alive Agent. */
  dispatcher?: Dispatcher;
  userAgent?: string;
  /**
   * The largest response body read, token endpoint included; a larger one fails the call with
   * `AtlasResponseTooLargeError`. Default {@link DEFAULT_ATLAS_MAX_RESPONSE_BYTES} (8 MiB).
   */
  maxResponseBytes?: number;
}

export interface CallOptions {
  /** Aborts the request, e.g. an activity's cancellation signal. */
  signal?: AbortSignal;
}

/** Observes every HTTP exchange (status only) for metrics; never sees headers or bodies. */
export type AtlasRequestObserver = (event: {
  operation: string;
  method: string;
  status: number | 'network-error';
  durationMs: number;
}) => void;

/**
 * Observes a call that Atlas refused for its credentials: a 401 or 403 that ends the call, after any round trip
 * the auth scheme answers itself (a digest challenge, a stale nonce, an expired token), which is not reported.
 * A revoked or rotated key shows here; a normal digest handshake never does.
 */
export type AtlasAuthFailureObserver = (event: { operation: string; method: string; status: 401 | 403 }) => void;

/**
 * Observes what the client read but found odd in a 2xx answer (an unreadable list item it skipped, counts or dates
 * that contradict each other), for logs and metrics; the call itself goes on. Sees ids and field names, never a
 * header or a whole body.
 */
export type AtlasResponseAnomalyObserver = (event: { operation: string; anomaly: ResponseAnomaly }) => void;

/** How the client reads one kind of item: its schema and the anomalies worth reporting. */
interface ItemReader<T extends z.ZodType> {
  schema: T;
  anomalies: (raw: unknown) => ResponseAnomaly[];
}
const EXPORT_JOB: ItemReader<typeof exportJobSchema> = { schema: exportJobSchema, anomalies: exportJobAnomalies };
const SNAPSHOT: ItemReader<typeof snapshotSchema> = { schema: snapshotSchema, anomalies: snapshotAnomalies };

/**
 * Atlas Admin API v2 client for snapshot export jobs and snapshots. Knows nothing of Temporal: it throws
 * `AtlasApiError`, `AtlasResponseValidationError` or `AtlasNetworkError`, and never retries by itself
 * beyond the one extra round trip an auth challenge needs.
 */
export class AtlasClient {
  readonly baseUrl: string;
  private readonly origin: string;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly auth: AtlasAuthenticator;
  private readonly userAgent: string;
  private readonly observers: AtlasRequestObserver[] = [];
  private readonly anomalyObservers: AtlasResponseAnomalyObserver[] = [];
  private readonly authFailureObservers: AtlasAuthFailureObserver[] = [];

  constructor(options: AtlasClientOptions) {
    this.baseUrl = (options.baseUrl ?? DEFAULT_ATLAS_BASE_URL).replace(/\/+$/, '');
    this.origin = new URL(this.baseUrl).origin;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_ATLAS_MAX_RESPONSE_BYTES;
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 10_000, connections: 32 });
    this.userAgent = options.userAgent ?? 'atlas-export-orchestrator';
    this.auth = createAuthenticator(options.credentials, {
      baseUrl: this.baseUrl,
      dispatcher: this.dispatcher,
      timeoutMs: this.timeoutMs,
      userAgent: this.userAgent,
      maxResponseBytes: this.maxResponseBytes,
    });
  }

  /** The per-request limit: a request started now is over, one way or another, within this many ms. */
  get requestTimeoutMs(): number {
    return this.timeoutMs;
  }

  get authMode(): AtlasCredentials['mode'] {
    return this.auth.mode;
  }

  onRequest(observer: AtlasRequestObserver): void {
    this.observers.push(observer);
  }

  /** Registers an observer of calls refused for their credentials (401/403 after any auth handshake). */
  onAuthFailure(observer: AtlasAuthFailureObserver): void {
    if (!this.authFailureObservers.includes(observer)) this.authFailureObservers.push(observer);
  }

  /** Registers an observer of response anomalies; the same function registered twice is called once. */
  onResponseAnomaly(observer: AtlasResponseAnomalyObserver): void {
    if (!this.anomalyObservers.includes(observer)) this.anomalyObservers.push(observer);
  }

  /** `POST …/clusters/{clusterName}/backup/exports`. */
  createExportJob(
    groupId: string,
    clusterName: string,
    body: CreateExportJobRequest,
    opts?: CallOptions
  ): Promise<ExportJob> {
    return this.call('createExportJob', 'POST', `${clusterPath(groupId, clusterName)}/backup/exports`, EXPORT_JOB, {
      ...opts,
      body,
    });
  }

  /** `GET …/clusters/{clusterName}/backup/exports/{exportId}`. */
  getExportJob(groupId: string, clusterName: string, exportId: string, opts?: CallOptions): Promise<ExportJob> {
    return this.call(
      'getExportJob',
      'GET',
      `${clusterPath(groupId, clusterName)}/backup/exports/${encodeURIComponent(exportId)}`,
      EXPORT_JOB,
      opts
    );
  }

  /** `GET …/clusters/{clusterName}/backup/exports`, every page. */
  listExportJobs(groupId: string, clusterName: string, opts?: CallOptions): Promise<ExportJob[]> {
    return this.listAll('listExportJobs', `${clusterPath(groupId, clusterName)}/backup/exports`, EXPORT_JOB, opts);
  }

  /** `GET …/clusters/{clusterName}/backup/snapshots/{snapshotId}`: a replica set's snapshot. */
  getSnapshot(groupId: string, clusterName: string, snapshotId: string, opts?: CallOptions): Promise<Snapshot> {
    return this.call(
      'getSnapshot',
      'GET',
      `${clusterPath(groupId, clusterName)}/backup/snapshots/${encodeURIComponent(snapshotId)}`,
      SNAPSHOT,
      opts
    );
  }

  /** `GET …/clusters/{clusterName}/backup/snapshots`, every page: a replica set's snapshots. */
  listSnapshots(groupId: string, clusterName: string, opts?: CallOptions): Promise<Snapshot[]> {
    return this.listAll('listSnapshots', `${clusterPath(groupId, clusterName)}/backup/snapshots`, SNAPSHOT, opts);
  }

  /** `GET …/clusters/{clusterName}/backup/snapshots/shardedCluster/{snapshotId}`: a sharded cluster's snapshot. */
  getShardedClusterSnapshot(
    groupId: string,
    clusterName: string,
    snapshotId: string,
    opts?: CallOptions
  ): Promise<Snapshot> {
    return this.call(
      'getShardedClusterSnapshot',
      'GET',
      `${clusterPath(groupId, clusterName)}/backup/snapshots/shardedCluster/${encodeURIComponent(snapshotId)}`,
      SNAPSHOT,
      opts
    );
  }

  /** `GET …/clusters/{clusterName}/backup/snapshots/shardedClusters`, every page: a sharded cluster's snapshots. */
  listShardedClusterSnapshots(groupId: string, clusterName: string, opts?: CallOptions): Promise<Snapshot[]> {
    return this.listAll(
      'listShardedClusterSnapshots',
      `${clusterPath(groupId, clusterName)}/backup/snapshots/shardedClusters`,
      SNAPSHOT,
      opts
    );
  }

  /**
   * `POST …/clusters/{clusterName}/backup/snapshots`: take an on-demand snapshot, of either cluster kind; the
   * answer's `type` (`replicaSet`, `shardedCluster`) tells which paths serve it from then on.
   */
  takeSnapshot(
    groupId: string,
    clusterName: string,
    body: { description?: string; retentionInDays?: number },
    opts?: CallOptions
  ): Promise<Snapshot> {
    return this.call('takeSnapshot', 'POST', `${clusterPath(groupId, clusterName)}/backup/snapshots`, SNAPSHOT, {
      ...opts,
      body,
    });
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  /**
   * Every page of a list, read item by item: an item without what the service needs (e.g. a job's `id` and `state`)
   * is skipped and reported as an `unreadable-item` anomaly, so one odd item never hides the others.
   */
  private async listAll<T extends z.ZodType>(
    operation: AtlasListOperation,
    path: string,
    reader: ItemReader<T>,
    opts?: CallOptions
  ): Promise<z.infer<T>[]> {
    const all: z.infer<T>[] = [];
    let next: string | undefined = `${path}?itemsPerPage=${LIST_PAGE_SIZE}&pageNum=1`;
    for (let pages = 0; next !== undefined; pages++) {
      if (pages >= MAX_PAGES)
        throw new Error(`Atlas ${path}: more than ${MAX_PAGES} pages; refusing to follow further`);
      const page: Page<unknown> = await this.call(
        operation,
        'GET',
        next,
        { schema: pageSchema, anomalies: () => [] },
        opts
      );
      page.results.forEach((raw, index) => {
        const parsed = reader.schema.safeParse(raw);
        if (!parsed.success) {
          const fields = [...new Set(parsed.error.issues.map((i) => (i.path.length ? i.path.join('.') : '(item)')))];
          this.report(operation, {
            kind: 'unreadable-item',
            detail: `item ${pages * LIST_PAGE_SIZE + index} of ${path} skipped: unreadable ${fields.join(', ')}`,
          });
          return;
        }
        for (const anomaly of reader.anomalies(raw)) this.report(operation, anomaly);
        all.push(parsed.data);
      });
      next = this.nextPage(page, path, pages + 1);
    }
    return all;
  }

  /** The next page's path+query: from `links[rel=next]` when Atlas sends it, kept on our own origin. */
  private nextPage(page: Page<unknown>, path: string, pageNum: number): string | undefined {
    const href = page.links?.find((l) => l.rel === 'next')?.href;
    if (href) {
      const url = new URL(href, this.baseUrl);
      // Credentials only ever go to the configured origin, whatever host a link names.
      return url.pathname + url.search;
    }
    const fetched = (pageNum - 1) * LIST_PAGE_SIZE + page.results.length;
    const more = page.results.length === LIST_PAGE_SIZE && (page.totalCount === undefined || fetched < page.totalCount);
    return more ? `${path}?itemsPerPage=${LIST_PAGE_SIZE}&pageNum=${pageNum + 1}` : undefined;
  }

  private async call<T extends z.ZodType, O extends AtlasOperation>(
    operation: O,
    method: (typeof ATLAS_OPERATIONS)[O],
    pathAndQuery: string,
    reader: ItemReader<T>,
    opts?: CallOptions & { body?: unknown }
  ): Promise<z.infer<T>> {
    const uri = pathAndQuery;
    const ref = { method, path: uri.split('?')[0] ?? uri };
    const body = opts?.body === undefined ? undefined : JSON.stringify(opts.body);
    const signal = opts?.signal
      ? AbortSignal.any([opts.signal, AbortSignal.timeout(this.timeoutMs)])
      : AbortSignal.timeout(this.timeoutMs);

    let res = await this.send(operation, method, uri, body, signal);
    // One more round trip when the auth scheme can do better: a digest challenge, a stale nonce, an expired token.
    if (res.status === 401 && (await this.auth.refreshAfterUnauthorized(res.wwwAuthenticate, res.authorization))) {
      res = await this.send(operation, method, uri, body, signal);
    }
    if (res.status === 401 || res.status === 403) {
      const status = res.status;
      for (const o of this.authFailureObservers) o({ operation, method, status });
    }

    const json = safeJson(res.text);
    if (res.status < 200 || res.status >= 300) {
      const parsed = apiErrorSchema.safeParse(json);
      throw new AtlasApiError(
        ref,
        res.status,
        parsed.success ? parsed.data : undefined,
        parseRetryAfter(res.retryAfter)
      );
    }
    if (json === undefined) {
      throw new AtlasResponseValidationError(ref, res.status, 'body is not valid JSON');
    }
    const parsed = reader.schema.safeParse(json);
    if (!parsed.success) {
      const id: unknown = typeof json === 'object' && json !== null ? (json as Record<string, unknown>).id : undefined;
      const resourceId = typeof id === 'string' && ATLAS_ID_PATTERN.test(id) ? id : undefined;
      throw new AtlasResponseValidationError(ref, res.status, parsed.error.issues, resourceId);
    }
    for (const anomaly of reader.anomalies(json)) this.report(operation, anomaly);
    return parsed.data;
  }

  private async send(
    operation: AtlasOperation,
    method: 'GET' | 'POST',
    uri: string,
    body: string | undefined,
    signal: AbortSignal
  ): Promise<{
    status: number;
    text: string;
    retryAfter?: string | string[];
    wwwAuthenticate?: string;
    /** The Authorization header sent, so the auth scheme can tell which credential was refused. */
    authorization?: string | undefined;
  }> {
    const ref = { method, path: uri.split('?')[0] ?? uri };
    const started = performance.now();
    try {
      const authorization = await this.auth.authorization({ method, uri }, signal);
      const headers: Record<string, string> = { accept: ATLAS_MEDIA_TYPE, 'user-agent': this.userAgent };
      if (authorization) headers.authorization = authorization;
      if (body !== undefined) headers['content-type'] = ATLAS_MEDIA_TYPE;
      const res = await request(`${this.origin}${uri}`, {
        method,
        headers,
        body,
        dispatcher: this.dispatcher,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        signal,
      });
      // Read the body to the end, so the connection goes back to the pool; one past the limit is dropped instead.
      const text = await readLimitedText(res, this.maxResponseBytes, ref).catch((err: unknown) => {
        if (err instanceof AtlasResponseTooLargeError) {
          this.emit({ operation, method, status: res.statusCode, durationMs: performance.now() - started });
        }
        throw err;
      });
      this.emit({ operation, method, status: res.statusCode, durationMs: performance.now() - started });
      return {
        status: res.statusCode,
        text,
        retryAfter: res.headers['retry-after'],
        wwwAuthenticate: headerValue(res.headers['www-authenticate']),
        authorization,
      };
    } catch (err) {
      if (err instanceof AtlasError) throw err;
      this.emit({ operation, method, status: 'network-error', durationMs: performance.now() - started });
      throw new AtlasNetworkError(ref, err);
    }
  }

  private emit(event: Parameters<AtlasRequestObserver>[0]): void {
    for (const o of this.observers) o(event);
  }

  private report(operation: string, anomaly: ResponseAnomaly): void {
    for (const o of this.anomalyObservers) o({ operation, anomaly });
  }
}

function clusterPath(groupId: string, clusterName: string): string {
  return `/api/atlas/v2/groups/${encodeURIComponent(groupId)}/clusters/${encodeURIComponent(clusterName)}`;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
