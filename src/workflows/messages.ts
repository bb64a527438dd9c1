import { defineQuery, defineSignal } from '@temporalio/workflow';
import {
  EXPORT_COMPLETED_SIGNAL,
  EXPORT_PROGRESS_QUERY,
  type ExportCompletion,
  type ExportProgress,
} from '../shared/contract/export-contract';
import {
  SCHEDULED_EXPORT_SUMMARY_QUERY,
  type ScheduledExportSummary,
} from '../shared/contract/scheduled-export-contract';

/** Sent by `exportSnapshot` to its `notify.workflowId` when the export ends, whatever the outcome. */
export const exportCompletedSignal = defineSignal<[ExportCompletion]>(EXPORT_COMPLETED_SIGNAL);

/** Live progress of an `exportSnapshot` run. */
export const progressQuery = defineQuery<ExportProgress>(EXPORT_PROGRESS_QUERY);

/** Per-target summary of a `scheduledExport` run (also its result). */
export const summaryQuery = defineQuery<ScheduledExportSummary>(SCHEDULED_EXPORT_SUMMARY_QUERY);
