import { activityInfo, Context } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { ExportCompletion } from '../shared/export-contract';
import { completionFromFailure, summarizeFailure, type FailureSummary } from '../shared/failure-summary';
import { FailureType } from '../shared/failure-types';
import { pollDelayMs, type BackoffSettings } from '../shared/poll-schedule';
import { notReadyFailure } from './failure-mapping';

export interface ObserveExportWorkflowInput {
  workflowId: string;
  backoff: BackoffSettings;
  jitterSeed: string;
}

/** How an observed `exportSnapshot` workflow ended. */
export interface ObservedExport {
  workflowId: string;
  runId: string;
  /** Temporal status of the closed run: `COMPLETED`, `FAILED`, `TERMINATED`, `CANCELLED`, `TIMED_OUT`. */
  status: string;
  /** The result, or the completion a failure carries; null when there is none (e.g. terminated). */
  completion: ExportCompletion | null;
  failure: FailureSummary | null;
}

/**
 * Activities that watch workflows through the worker's own Temporal client (the SDK passes it to activities),
 * for what workflow code cannot do: wait for a workflow that is not its child.
 */
export function createWorkflowObserverActivities(client: () => Client = () => Context.current().client) {
  return {
    /**
     * Waits for an `exportSnapshot` workflow someone else started (an earlier or overlapping scheduled run, the
     * CLI, another service) to close, and returns how it ended. Retry-driven: one describe per attempt and a
     * BENIGN `ExportWorkflowRunning` with the next backoff step while it runs, so a long wait costs no history.
     */
    async observeExportWorkflow(input: ObserveExportWorkflowInput): Promise<ObservedExport> {
      const { attempt } = activityInfo();
      const handle = client().workflow.getHandle<() => Promise<ExportCompletion>>(input.workflowId);
      let description;
      try {
        description = await handle.describe();
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        throw ApplicationFailure.create({
          type: 'WorkflowNotFound',
          message: `Export workflow ${input.workflowId} no longer exists (its history passed the namespace retention)`,
          nonRetryable: true,
        });
      }
      const status = description.status.name;
      if (status === 'RUNNING' || status === 'CONTINUED_AS_NEW') {
        throw notReadyFailure(
          FailureType.ExportWorkflowRunning,
          `Export workflow ${input.workflowId} is still running`,
          pollDelayMs(attempt - 1, input.backoff, input.jitterSeed)
        );
      }
      const base = { workflowId: input.workflowId, runId: description.runId, status };
      try {
        const completion = await handle.result();
        return { ...base, completion, failure: null };
      } catch (err) {
        if (!(err instanceof WorkflowFailedError)) throw err;
        return { ...base, completion: completionFromFailure(err.cause), failure: summarizeFailure(err.cause ?? err) };
      }
    },
  };
}

export type WorkflowObserverActivities = ReturnType<typeof createWorkflowObserverActivities>;
