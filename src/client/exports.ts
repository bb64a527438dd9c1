import { randomUUID } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import {
  DEFAULT_TASK_QUEUE,
  EXPORT_PROGRESS_QUERY,
  EXPORT_SNAPSHOT_WORKFLOW,
  parseExportSnapshotInput,
  type ExportCompletion,
  type ExportProgress,
  type ExportSnapshotInput,
} from '../shared/contract/export-contract';
import { completionFromFailure, summarizeFailure } from '../shared/observability/failure-summary';
import { businessKeyWorkflowId, exportWorkflowId } from '../shared/contract/workflow-ids';
import { exportStaticDetails, exportStaticSummary } from '../shared/observability/ui-text';
import { ExportWorkflowError, InvalidExportInputError, WrongWorkflowTypeError } from './errors';

/** Memo key holding the token of the start request that created a run (how `started` is known). */
export const START_TOKEN_MEMO_KEY = 'atlasExportStartToken';

export interface StartExportOptions {
  /**
   * Your own idempotency key for this export (e.g. an order or ticket id). The workflow id becomes
   * `atlas-export-key-<businessKey>`; without it, the id is derived from the four Atlas ids, as the CLI does.
   */
  businessKey?: string;
  /** An explicit workflow id (instead of one derived from `businessKey` or the ids). */
  workflowId?: string;
  /** Task queue of the export workers; default `atlas-exports`. */
  taskQueue?: string;
}

export interface StartedExport {
  workflowId: string;
  /** The run this call started, or the existing run it found. */
  runId: string;
  /** True when this call started the workflow; false when it already existed (running, or finished successfully). */
  started: boolean;
}

/**
 * Starts an `exportSnapshot` workflow, idempotently: the workflow id comes from the business key (or the ids),
 * a running workflow with that id is returned instead of a second one (`WorkflowIdConflictPolicy.USE_EXISTING`),
 * and one that already finished successfully is not redone (`ALLOW_DUPLICATE_FAILED_ONLY`); a failed one is
 * started again.
 *
 * @throws InvalidExportInputError before contacting Temporal when the input fails the workflow's schema
 */
export async function startExport(
  client: Client,
  input: ExportSnapshotInput,
  options: StartExportOptions = {}
): Promise<StartedExport> {
  const parsed = parseExportSnapshotInput(input);
  if (!parsed.ok)
    throw new InvalidExportInputError(`Invalid exportSnapshot input, nothing was started: ${parsed.message}`);
  const workflowId =
    options.workflowId ??
    (options.businessKey !== undefined ? businessKeyWorkflowId(options.businessKey) : exportWorkflowId(input));
  const token = randomUUID();
  try {
    const handle = await client.workflow.start(EXPORT_SNAPSHOT_WORKFLOW, {
      taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      memo: { [START_TOKEN_MEMO_KEY]: token },
      staticSummary: exportStaticSummary(input),
      staticDetails: exportStaticDetails(input),
    });
    // USE_EXISTING answers with the running run's id either way; the run's memo tells whose start created it.
    const runId = handle.firstExecutionRunId;
    const description = await client.workflow.getHandle(workflowId, runId).describe();
    return { workflowId, runId, started: description.memo?.[START_TOKEN_MEMO_KEY] === token };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    // Closed and not reusable: it finished successfully before.
    const description = await client.workflow.getHandle(workflowId).describe();
    return { workflowId, runId: description.runId, started: false };
  }
}

/**
 * Describes an export workflow; throws `WrongWorkflowTypeError` when the id names another workflow (a scheduled
 * run's id, say), and `WorkflowNotFoundError` when it names none.
 */
export async function describeExport(client: Client, workflowId: string): Promise<WorkflowExecutionDescription> {
  const description = await client.workflow.getHandle(workflowId).describe();
  if (description.type !== EXPORT_SNAPSHOT_WORKFLOW) {
    throw new WrongWorkflowTypeError(workflowId, EXPORT_SNAPSHOT_WORKFLOW, description.type);
  }
  return description;
}

/** The live `progress` query of an export workflow. */
export function getExportProgress(client: Client, workflowId: string): Promise<ExportProgress> {
  return client.workflow.getHandle(workflowId).query<ExportProgress>(EXPORT_PROGRESS_QUERY);
}

/**
 * Waits for an export workflow to end (following continue-as-new) and returns its `ExportCompletion`.
 *
 * @throws ExportWorkflowError with the failure type when it did not end `Successful`
 */
export async function waitForExport(client: Client, workflowId: string): Promise<ExportCompletion> {
  try {
    return (await client.workflow.getHandle(workflowId).result()) as ExportCompletion;
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const failure = summarizeFailure(err.cause ?? err);
    throw new ExportWorkflowError({
      workflowId,
      failureType: failure.type,
      message: failure.message,
      completion: completionFromFailure(err.cause),
      cause: err,
    });
  }
}

/** {@link startExport}, then {@link waitForExport}. */
export async function exportAndWait(
  client: Client,
  input: ExportSnapshotInput,
  options: StartExportOptions = {}
): Promise<StartedExport & { completion: ExportCompletion }> {
  const started = await startExport(client, input, options);
  return { ...started, completion: await waitForExport(client, started.workflowId) };
}
