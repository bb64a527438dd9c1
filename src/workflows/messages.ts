import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ExportCompletion, ExportProgress } from '../shared/export-contract';

/** Sent by `exportSnapshot` to its `notify.workflowId` when the export ends, whatever the outcome. */
export const exportCompletedSignal = defineSignal<[ExportCompletion]>('exportCompleted');

/** Live progress of an `exportSnapshot` run. */
export const progressQuery = defineQuery<ExportProgress>('progress');
