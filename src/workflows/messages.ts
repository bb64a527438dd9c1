import { defineQuery, defineSignal } from '@temporalio/workflow';
import {
  ATLAS_EVENT_HINT_SIGNAL,
  EXPORT_COMPLETED_SIGNAL,
  type AtlasEventHint,
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

/** Sent to `exportSnapshot` by the webhook receiver: an Atlas alert says an export of its project ended. */
export const atlasEventHintSignal = defineSignal<[AtlasEventHint]>(ATLAS_EVENT_HINT_SIGNAL);

/** Live progress of an `exportSnapshot` run. */
export const progressQuery = defineQuery<ExportProgress>(EXPORT_PROGRESS_QUERY);

/** Per-target summary of a `scheduledExport` run (also its result). */
export const summaryQuery = defineQuery<ScheduledExportSummary>(SCHEDULED_EXPORT_SUMMARY_QUERY);
