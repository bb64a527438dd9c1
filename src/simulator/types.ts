/** Operations of the simulated Atlas Admin API v2, named after the legacy `x-xgen-operation-id-override` ids. */
export type OperationName =
  | 'createExportJob'
  | 'getExportJob'
  | 'listExportJobs'
  | 'getSnapshot'
  | 'listSnapshots'
  | 'takeSnapshot'
  | 'listExportBuckets'
  | 'getExportBucket'
  | 'createAlertConfiguration'
  | 'listAlertConfigurations';

/** Every operation name the request log and fault matching know about. */
export type LoggedOperation = OperationName | 'oauthToken' | 'unknown';

/** Export job states Atlas documents (PascalCase, as Atlas sends them). */
export type ExportJobState = 'Queued' | 'InProgress' | 'Successful' | 'Failed' | 'Cancelled';

/** Snapshot states Atlas documents (camelCase, as Atlas sends them). */
export type SnapshotStatus = 'queued' | 'inProgress' | 'completed' | 'failed';

/** How snapshots come about. */
export type SnapshotType = 'onDemand' | 'scheduled' | 'fallback';

/**
 * The simulated lifecycle of one export job. Durations are simulated milliseconds (see
 * {@link SimulatorOptions.timeScale}).
 */
export interface ExportPlan {
  /** Simulated ms the job stays `Queued`. */
  queuedMs: number;
  /** Simulated ms the job stays `InProgress`; `exportedCollections` rises linearly (floored) meanwhile. */
  inProgressMs: number;
  /** Collections to export; defaults to the cluster's `totalCollections`. */
  totalCollections?: number;
  /** Terminal state; default `Successful`. */
  outcome?: 'Successful' | 'Failed' | 'Cancelled';
  /** `stateReason` reported once the job is `Failed` or `Cancelled`; a generic one is used when omitted. */
  stateReason?: { errorCode: string; message: string };
  /** Seeded uniform jitter applied to both durations, as a fraction (0.1 = ±10 %). Default 0. */
  jitterRatio?: number;
}

/** Which newly created jobs an {@link ExportPlan} applies to; omitted fields match anything. */
export interface PlanMatch {
  groupId?: string;
  clusterName?: string;
  snapshotId?: string;
}

/** Simulated duration of an on-demand snapshot taken through the API (simulated ms). */
export interface SnapshotPlan {
  queuedMs: number;
  inProgressMs: number;
}

/** Credentials the simulator accepts. */
export interface SimulatorCredentials {
  /** Programmatic API keys, used with HTTP Digest (public key = username, private key = password). */
  apiKeys?: { publicKey: string; privateKey: string }[];
  /** Service accounts, used with `POST /api/oauth/token` (client credentials). */
  serviceAccounts?: { clientId: string; clientSecret: string }[];
}

/** Options of {@link AtlasSimulator.start}. */
export interface SimulatorOptions {
  /** Interface to listen on; default `127.0.0.1`. */
  host?: string;
  /** Port; default 0 (an ephemeral port). */
  port?: number;
  /**
   * Simulated ms per real ms; default 1. 60 makes one real second one simulated minute. Export and
   * snapshot lifecycles and the rate-limit refill run on the simulated clock.
   */
  timeScale?: number;
  /** Accepted credentials; default one API key and one service account with development values. */
  credentials?: SimulatorCredentials;
  /** OAuth `expires_in`, in **real** seconds; default 3600. */
  tokenTtlSeconds?: number;
  /** Active tokens allowed per service account before `403 access_denied`; default 100, as Atlas. */
  maxActiveTokensPerServiceAccount?: number;
  /** Lifetime of a digest nonce, in **real** seconds; default 300. An expired nonce gets `stale=true`. */
  nonceTtlSeconds?: number;
  /**
   * Per-project (groupId) token bucket; every authenticated `/api/atlas/v2` request costs one token.
   * Refill runs on the simulated clock. Default `{ capacity: 1200, refillPerMinute: 500 }`; `false` disables it.
   */
  rateLimit?: { capacity: number; refillPerMinute: number } | false;
  /** Plan for jobs no {@link AtlasSimulator.setExportPlan} rule matches; default 144 s queued, 630 s in progress. */
  defaultExportPlan?: ExportPlan;
  /** Lifecycle of on-demand snapshots; default 30 s queued, 150 s in progress (simulated). */
  snapshotPlan?: SnapshotPlan;
  /** Seed of the id generator and plan jitter; default 1. */
  seed?: number;
  /**
   * JSON file that persists projects, clusters, snapshots, buckets, export jobs and OAuth tokens. It is read
   * on start and rewritten shortly after each change (and on close), so a restarted simulator keeps its jobs.
   */
  stateFile?: string;
  /** Request log entries kept before the oldest are dropped; default 100000. */
  requestLogLimit?: number;
}

/** How the request authenticated. */
export type AuthKind = 'digest' | 'bearer' | 'basic' | 'none';

/** One observed HTTP request (control routes under `/__sim/` are not logged). */
export interface RequestLogEntry {
  /** Real time the request arrived. */
  at: Date;
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  operation: LoggedOperation;
  groupId?: string;
  /** Response status; 0 when the connection was dropped without a response (or the response is pending). */
  status: number;
  auth: AuthKind;
  /** Kind of the injected fault, e.g. `status:503`, `reset`, `reset:afterHandling`. */
  faultInjected?: string;
  /** Parsed JSON request body (OAuth bodies are reduced to `grant_type`). */
  body?: unknown;
}

/** Kinds of injectable faults. */
export type FaultKind =
  | 'status'
  | 'reset'
  | 'malformed'
  | 'delay'
  | 'schemaDrift'
  | 'unknownState'
  | 'slowBody'
  | 'patchBody'
  | 'emptyList'
  | 'replaceBody'
  | 'oversizedBody';

/**
 * A fault for the next request(s) that match. Faults queue in order; a request consumes the first matching
 * fault. Faults apply after authentication, version negotiation and rate limiting succeed.
 */
export interface Fault {
  /** Operation to match; default `any`. */
  operation?: LoggedOperation | 'any';
  /** HTTP method to match (case-insensitive). */
  method?: string;
  /** Substring the request path must contain. */
  pathIncludes?: string;
  /** How many matching requests the fault affects; default 1. */
  times?: number;
  /**
   * - `status`: respond with an `ApiError` of `status` (default 500) without performing the operation.
   * - `reset`: destroy the socket without a response.
   * - `malformed`: perform the operation, respond 200 with truncated JSON.
   * - `delay`: wait `delayMs` real ms, then serve normally.
   * - `schemaDrift`: perform the operation, respond 200 with wrongly typed fields (e.g. `state: 42`).
   * - `unknownState`: perform the operation, respond with `state: "Paused"` (snapshots: `status: "paused"`).
   * - `slowBody`: perform the operation, send headers and half the body, the rest after `delayMs` real ms.
   * - `patchBody`: perform the operation, then change its 2xx body: delete the `omit` fields and assign the `set`
   *   ones (dotted paths reach into nested objects) on the body, or on each item of a list's `results` (only item
   *   `itemIndex` when given).
   * - `emptyList`: perform the operation, answer a list with no `results` (as if Atlas did not list them yet).
   * - `replaceBody`: do not perform the operation; answer `status` (default 200) with `body` exactly (after
   *   authentication), as `application/json` for an error status.
   * - `oversizedBody`: perform the operation, answer its status with its JSON body padded with whitespace to
   *   `sizeBytes`, sent in chunks without `Content-Length` (so a client can only find out by reading); stops
   *   sending when the client closes the connection.
   */
  kind: FaultKind;
  /** For `status`: the HTTP status; default 500. For `replaceBody`: default 200. */
  status?: number;
  /** For `status`: `ApiError.errorCode`; defaults per status (e.g. 503 `SERVICE_UNAVAILABLE`). */
  errorCode?: string;
  /** For `status`: `ApiError.detail`. */
  detail?: string;
  /** For `status`: adds `Retry-After` (integer seconds). */
  retryAfterSeconds?: number;
  /**
   * For `status`: the raw `Retry-After` header instead, any text (`"0"`, `"-5"`, an HTTP-date, `"soon"`); a list
   * sends the header once per value.
   */
  retryAfter?: string | string[];
  /** For `patchBody`: fields to assign (dotted paths; `null` is a value like any other). */
  set?: Record<string, unknown>;
  /** For `patchBody`: fields to delete (dotted paths). */
  omit?: string[];
  /** For `patchBody` on a list: only this item of `results` (0-based). */
  itemIndex?: number;
  /** For `patchBody` on a list: patch the page itself (`totalCount`, `links`, `results`) instead of its items. */
  page?: boolean;
  /** For `replaceBody`: the JSON body to answer. */
  body?: unknown;
  /** For `oversizedBody`: the body's size in bytes; default 16 MiB. */
  sizeBytes?: number;
  /** For `delay` and `slowBody`: real milliseconds; default 1000. */
  delayMs?: number;
  /**
   * For `reset`: perform the operation first, then drop the connection (the change takes effect, the answer is
   * lost). For `status`: perform the operation first, then answer with the scripted status instead (e.g. a 409
   * for a create that did take effect, as when a retried request races the first).
   */
  afterHandling?: boolean;
}

/** A component of a sharded-cluster export job. */
export interface SimExportComponent {
  exportId: string;
  replicaSetName: string;
}

/** An export job as the simulator currently sees it, with its state computed from the simulated clock. */
export interface SimExportJob {
  id: string;
  groupId: string;
  clusterName: string;
  snapshotId: string;
  exportBucketId: string;
  state: ExportJobState;
  /** Simulated creation time. */
  createdAt: Date;
  /** Simulated time the job reaches its terminal state (present once terminal). */
  finishedAt?: Date;
  exportedCollections: number;
  totalCollections: number;
  components?: SimExportComponent[];
  customData: { key: string; value: string }[];
  stateReason?: { errorCode: string; message: string };
  prefix: string;
  /** Resolved durations and outcome of this job. */
  plan: { queuedMs: number; inProgressMs: number; outcome: 'Successful' | 'Failed' | 'Cancelled' };
}

/** Counters over the simulator's lifetime (persisted with the state file). */
export interface SimStats {
  /** Highest number of simultaneously active (Queued or InProgress) export jobs across all projects. */
  maxConcurrentActiveExports: number;
  /** The same, per project. */
  maxConcurrentActiveExportsByProject: Record<string, number>;
  /** Requests answered with 429 by the token bucket. */
  rateLimited: number;
}

/** Ids created by {@link AtlasSimulator.seedDefault}. */
export interface DefaultFixtures {
  groupId: string;
  clusterName: string;
  shardedClusterName: string;
  snapshotId: string;
  shardedSnapshotId: string;
  exportBucketId: string;
}

/** Options of {@link AtlasSimulator.addCluster}. */
export interface ClusterOptions {
  /** Number of shards; 0 or undefined makes a replica set. */
  shards?: number;
  /** Collections an export of this cluster covers; default 8. */
  totalCollections?: number;
}

/** Options of {@link AtlasSimulator.addSnapshot}. */
export interface SnapshotOptions {
  /** Fixed status; default `completed`. */
  status?: SnapshotStatus;
  /** Simulated creation time; default now. */
  createdAt?: Date;
  /** Default `scheduled`. */
  snapshotType?: SnapshotType;
}
