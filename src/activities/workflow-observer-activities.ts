import { activityInfo, Context, heartbeat } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { EXPORT_PROGRESS_QUERY, type ExportCompletion, type ExportProgress } from '../shared/contract/export-contract';
import { completionFromFailure, summarizeFailure, type FailureSummary } from '../shared/observability/failure-summary';
import { FailureType } from '../shared/contract/failure-types';
import { pollDelayMs, type BackoffSettings } from '../shared/polling/backoff';
import { OBSERVE_OVERDUE_GRACE_MS } from '../shared/polling/workflow-observation';
import { notReadyFailure } from './failure-mapping';

/** Longest wait for the observed workflow to answer its `progress` query (it needs a live worker). */
const QUERY_TIMEOUT_MS = 10_000;

export interface ObserveExportWorkflowInput {
  workflowId: string;
  /**
   * The observed run ends at its own deadline, which its `progress` query tells; when it cannot answer (no worker),
   * its start time plus this is assumed instead. Absent in inputs from before: no bound but the activity's own.
   */
  fallbackTimeoutMs?: number;
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
        if (input.fallbackTimeoutMs !== undefined) {
          const deadlineMs = await observedDeadline(handle, description.startTime, input.fallbackTimeoutMs);
          if (Date.now() > deadlineMs + OBSERVE_OVERDUE_GRACE_MS) {
            throw ApplicationFailure.create({
              type: FailureType.ExportWorkflowOverdue,
              message: `Export workflow ${input.workflowId} is still running ${Math.round((Date.now() - deadlineMs) / 60_000)} min past its own deadline ${new Date(deadlineMs).toISOString()}; check that its workers run`,
              nonRetryable: true,
            });
          }
        }
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

/**
 * The observed run's deadline (epoch ms): its `progress` query's `deadlineAt`, read once and kept in the heartbeat
 * details for later attempts (one query and one heartbeat per observation); its start plus `fallbackTimeoutMs`
 * when it cannot answer.
 */
async function observedDeadline(handle: WorkflowHandle, startTime: Date, fallbackTimeoutMs: number): Promise<number> {
  const kept = (activityInfo().heartbeatDetails as { observedDeadlineAt?: unknown } | undefined)?.observedDeadlineAt;
  if (typeof kept === 'number') return kept;
  let deadlineMs = startTime.getTime() + fallbackTimeoutMs;
  try {
    const progress = await handle.client.connection.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () =>
      handle.query<ExportProgress>(EXPORT_PROGRESS_QUERY)
    );
    const told = progress.deadlineAt === null ? NaN : Date.parse(progress.deadlineAt);
    if (!Number.isNaN(told)) deadlineMs = told;
  } catch {
    // No worker answered: keep the fallback, and ask again on the next attempt.
    return deadlineMs;
  }
  heartbeat({ observedDeadlineAt: deadlineMs });
  return deadlineMs;
}
