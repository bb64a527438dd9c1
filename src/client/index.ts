/**
 * Typed client for services that start and follow exports. It depends on `@temporalio/client` and the shared
 * contract only: no worker, workflow or Atlas code, and no credentials.
 */
export {
  describeExport,
  exportAndWait,
  getExportProgress,
  START_TOKEN_MEMO_KEY,
  startExport,
  waitForExport,
  type StartedExport,
  type StartExportOptions,
} from './exports';
export {
  ExportWorkflowError,
  InvalidExportInputError,
  InvalidScheduledExportInputError,
  NotAScheduledExportError,
  ScheduleExistsError,
  WrongWorkflowTypeError,
} from './errors';
/** Payload encryption: pass `dataConverter: payloadDataConverter(keys)` to `new Client`, with the workers' keys. */
export { KeyRing, PayloadDecryptionError, payloadDataConverter } from '../codec';
export { getScheduledExportSummary, getScheduledRunReport, type ScheduledRunReport } from './scheduled';
export {
  calendarText,
  createScheduledExport,
  DEFAULT_CATCHUP_WINDOW_MS,
  DEFAULT_OVERLAP,
  listScheduledExports,
  OVERLAP_POLICIES,
  scheduledExportAction,
  scheduleView,
  triggerScheduledExport,
  updateScheduledExport,
  type CreateScheduledExportOptions,
  type ListedSchedule,
  type OverlapPolicy,
  type ScheduleChanges,
  type ScheduleView,
} from './schedules';
export {
  DEFAULT_TASK_QUEUE,
  EXPORT_COMPLETED_SIGNAL,
  EXPORT_PROGRESS_QUERY,
  EXPORT_SNAPSHOT_WORKFLOW,
  exportSnapshotInputSchema,
  type ExportCompletion,
  type ExportProgress,
  type ExportSnapshotInput,
} from '../shared/contract/export-contract';
export {
  SCHEDULED_EXPORT_SUMMARY_QUERY,
  SCHEDULED_EXPORT_WORKFLOW,
  scheduledExportInputSchema,
  type ScheduledExportInput,
  type ScheduledExportSummary,
  type TargetSummary,
} from '../shared/contract/scheduled-export-contract';
export { FailureType } from '../shared/contract/failure-types';
export { businessKeyWorkflowId, exportWorkflowId, type ExportIds } from '../shared/contract/workflow-ids';
