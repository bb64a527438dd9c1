/**
 * `ApplicationFailure.type` values this service produces. Workflows, tests and callers refer to these
 * constants, never to class names spelled as strings. Failures that come straight from an Atlas error
 * response use the Atlas `errorCode` as their type instead (e.g. `CLUSTER_NOT_FOUND`).
 */
export const FailureType = {
  /** The export job is not terminal yet; thrown by each polling attempt (BENIGN: no error logs or metrics). */
  ExportNotReady: 'ExportNotReady',
  /** The export job ended `Failed`; details carry the result with Atlas `stateReason`. */
  ExportFailed: 'ExportFailed',
  /** The export job ended `Cancelled`. */
  ExportCancelled: 'ExportCancelled',
  /** The job did not reach a terminal state before `polling.timeout`. The Atlas job may still be running. */
  ExportDeadlineExceeded: 'ExportDeadlineExceeded',
  /** `polling.failOnStall`: neither state nor collection count moved for `polling.stallAfter`. */
  ExportStalled: 'ExportStalled',
  /** Retryable: too little time was left in a create attempt for a POST to finish inside it, so none was sent. */
  CreateDeferred: 'CreateDeferred',
  /**
   * Retryable: Atlas accepted this activity's POST (2xx) but its answer named no readable job, and the job is not
   * listed (or readable) yet; the next attempt looks again and never POSTs again.
   */
  CreateAcceptedNotListed: 'CreateAcceptedNotListed',
  /**
   * Retryable: an earlier POST of this activity got no answer (timeout, dropped connection, gateway 502/504), so
   * Atlas may still act on it; no new POST until it could not, and the job is not listed yet.
   */
  CreateOutcomeUnknown: 'CreateOutcomeUnknown',
  /** `polling.attemptTimeout` is too short for one Atlas request of the worker (`ATLAS_REQUEST_TIMEOUT`). */
  AttemptTimeoutTooShort: 'AttemptTimeoutTooShort',
  /**
   * The worker's operator does not allow this: a project, cluster or export bucket outside
   * `WORKER_ALLOWED_TARGETS`, an on-demand retention above `WORKER_MAX_ON_DEMAND_RETENTION_DAYS`, or a simulator-only
   * cadence (`timeScale` ≠ 1, intervals under 10 s) against real Atlas. Non-retryable; nothing was sent to Atlas.
   */
  TargetNotAllowed: 'TargetNotAllowed',
  /** Workflow input failed validation; nothing was sent to Atlas. */
  InvalidExportInput: 'InvalidExportInput',
  /** Atlas answered 2xx with a body that does not match the expected schema. */
  AtlasResponseSchemaMismatch: 'AtlasResponseSchemaMismatch',
  /**
   * Atlas answered with a body over the worker's response limit (`WORKER_ATLAS_MAX_RESPONSE_BYTES`); the client
   * stopped reading it. Non-retryable: the next read would get the same body.
   */
  AtlasResponseTooLarge: 'AtlasResponseTooLarge',
  /** Timeout, connection refused or reset: no complete answer from Atlas. */
  AtlasNetworkError: 'AtlasNetworkError',
  /** An on-demand snapshot is not `completed` yet; thrown by each wait attempt (BENIGN). */
  SnapshotNotReady: 'SnapshotNotReady',
  /** An on-demand snapshot ended `failed`. */
  SnapshotFailed: 'SnapshotFailed',
  /** An on-demand snapshot was not `completed` within `onDemand.timeout`. */
  SnapshotDeadlineExceeded: 'SnapshotDeadlineExceeded',
  /** A `latest` target's cluster has no completed snapshot to export. */
  NoExportableSnapshot: 'NoExportableSnapshot',
  /** An export workflow this run observes (it existed already) is still running; thrown by each look (BENIGN). */
  ExportWorkflowRunning: 'ExportWorkflowRunning',
  /** An observed export workflow kept running an hour past its own deadline (it has likely lost its workers). */
  ExportWorkflowOverdue: 'ExportWorkflowOverdue',
  /** A workflow (e.g. an export) was terminated, cancelled or timed out instead of failing with a typed failure. */
  WorkflowTerminated: 'WorkflowTerminated',
  WorkflowCancelled: 'WorkflowCancelled',
  TimedOut: 'TimedOut',
  /** `scheduledExport` input failed validation; nothing was started. */
  InvalidScheduledExportInput: 'InvalidScheduledExportInput',
  /** One or more targets of a `scheduledExport` run failed; details carry the summary. */
  ScheduledExportFailed: 'ScheduledExportFailed',
  /** An Atlas error status without an `errorCode`; the type is `HTTP_<status>`. */
  HttpStatusPrefix: 'HTTP_',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];
