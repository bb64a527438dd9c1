import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  ChildWorkflowFailure,
  TerminatedFailure,
  TimeoutFailure,
} from '@temporalio/common';
import type { ExportCompletion } from '../contract/export-contract';
import { FailureType } from '../contract/failure-types';

/**
 * Reading failures back: what a parent workflow, an activity observing a workflow, and the typed client report
 * about a failed export. Pure and free of I/O, so it runs in workflow code too.
 */

export interface FailureSummary {
  /** `ApplicationFailure.type` (e.g. `ExportFailed`, `CLUSTER_NOT_FOUND`), or `WorkflowTerminated`/`WorkflowCancelled`/`TimedOut`. */
  type: string;
  message: string;
}

/** Follows `ChildWorkflowFailure`/`ActivityFailure` causes to the failure that says what went wrong. */
export function summarizeFailure(err: unknown): FailureSummary {
  let current: unknown = err;
  for (let depth = 0; depth < 20 && current !== undefined; depth++) {
    if (current instanceof ApplicationFailure) return { type: current.type ?? 'Error', message: current.message };
    if (current instanceof TerminatedFailure) return { type: FailureType.WorkflowTerminated, message: current.message };
    if (current instanceof CancelledFailure) return { type: FailureType.WorkflowCancelled, message: current.message };
    if (current instanceof TimeoutFailure) {
      // A timeout that ended retries carries the last attempt's failure; that one says more.
      if (current.cause) {
        current = current.cause;
        continue;
      }
      return { type: FailureType.TimedOut, message: current.message || `timed out (${String(current.timeoutType)})` };
    }
    if (current instanceof ActivityFailure || current instanceof ChildWorkflowFailure) {
      current = current.cause;
      continue;
    }
    break;
  }
  if (err instanceof Error) return { type: err.name, message: err.message };
  return { type: 'Error', message: String(err) };
}

/** The `ExportCompletion` an `exportSnapshot` failure carries in its details (`ExportFailed`, deadline), if any. */
export function completionFromFailure(err: unknown): ExportCompletion | null {
  let current: unknown = err;
  for (let depth = 0; depth < 20 && current instanceof Error; depth++) {
    if (current instanceof ApplicationFailure) {
      const detail: unknown = current.details?.[0];
      if (isExportCompletion(detail)) return detail;
    }
    current = current.cause;
  }
  return null;
}

export function isExportCompletion(value: unknown): value is ExportCompletion {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>).workflowId === 'string' &&
    typeof (value as Record<string, unknown>).snapshotId === 'string' &&
    typeof (value as Record<string, unknown>).state === 'string'
  );
}
