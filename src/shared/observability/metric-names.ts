/**
 * The project's own Prometheus metrics, next to the SDK's `temporal_*` runtime metrics on the worker's
 * `/metrics` endpoint. Workflow metrics go through the workflow's replay-safe metric meter; the Atlas request
 * metrics through the runtime's meter. Labels are bounded sets (outcome, operation, method, status): never an
 * id, never a credential.
 */
export const EXPORT_METRICS = {
  started: { name: 'atlas_exports_started', help: 'Export workflows started (first run, not continue-as-new)' },
  succeeded: { name: 'atlas_exports_succeeded', help: 'Exports that ended Successful' },
  failed: {
    name: 'atlas_exports_failed',
    help: 'Exports that ended otherwise, by outcome (Failed, Cancelled, DeadlineExceeded, CreateFailed, InvalidInput, Detached)',
  },
  polls: { name: 'atlas_export_polls', help: 'Atlas status reads per export, recorded when it ends' },
  duration: { name: 'atlas_export_duration_seconds', help: 'Workflow start to the end of the export, in seconds' },
  stalled: {
    name: 'atlas_exports_stalled',
    help: 'Stall alarms raised (polling.stallAfter passed without state or collection progress)',
  },
} as const;

/** The `outcome` label values of `atlas_exports_failed`. */
export const FAILED_OUTCOMES = [
  'Failed',
  'Cancelled',
  'DeadlineExceeded',
  'CreateFailed',
  'InvalidInput',
  'Detached',
] as const;

export const ATLAS_REQUEST_METRICS = {
  requests: { name: 'atlas_requests', help: 'Atlas Admin API requests by operation, method and HTTP status' },
  duration: { name: 'atlas_request_duration_seconds', help: 'Atlas Admin API request latency in seconds' },
  authFailures: {
    name: 'atlas_auth_failures',
    help: 'Atlas calls refused for their credentials (401/403 after any digest or token handshake), by operation and status',
  },
  anomalies: {
    name: 'atlas_response_anomalies',
    help: 'Odd but readable Atlas answers by operation and kind (unreadable-item: a list item skipped; exported-exceeds-total, negative-count, finished-before-created, negative-size, expires-before-created)',
  },
} as const;

/** Gauges a worker sets from Temporal's visibility store (src/observability/exports-in-flight.ts). */
export const IN_FLIGHT_METRICS = {
  inFlight: {
    name: 'atlas_exports_in_flight',
    help: 'Running export workflows on this task queue by AtlasExportState (Creating, Queued, InProgress, Other), as counted in visibility',
  },
  stalled: {
    name: 'atlas_exports_stalled_in_flight',
    help: 'Running export workflows on this task queue whose stall alarm is raised (AtlasExportStalled), as counted in visibility',
  },
  readAt: {
    name: 'atlas_exports_in_flight_read_timestamp_seconds',
    help: 'When this worker last counted its running exports in visibility (Unix seconds): the two gauges above are as of then',
  },
} as const;

/** Bucket boundaries that fit each histogram (the SDK's defaults are for millisecond latencies). */
export const HISTOGRAM_BUCKETS: Record<string, number[]> = {
  [EXPORT_METRICS.polls.name]: [1, 2, 5, 10, 15, 20, 30, 40, 60, 100, 200, 500, 1000],
  [EXPORT_METRICS.duration.name]: [60, 300, 600, 900, 1200, 1800, 3600, 7200, 14400, 21600, 43200, 86400],
  [ATLAS_REQUEST_METRICS.duration.name]: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
};
