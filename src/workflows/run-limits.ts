import { ActivityFailure, TimeoutFailure, workflowInfo } from '@temporalio/workflow';
import { RetryState } from '@temporalio/common';

/** The run's history should end here (continue as new): the server suggests it, or it reached `maxHistoryEvents`. */
export function historyFull(maxHistoryEvents: number): boolean {
  const current = workflowInfo();
  return current.continueAsNewSuggested || current.historyLength >= maxHistoryEvents;
}

/** The activity ran out of its schedule-to-close timeout (the workflow's deadline), mid-attempt or between two. */
export function isPastDeadline(err: unknown): err is ActivityFailure {
  return (
    err instanceof ActivityFailure && (err.retryState === RetryState.TIMEOUT || err.cause instanceof TimeoutFailure)
  );
}
