import type { ExportCompletion } from '../shared/contract/export-contract';
import { FailureType } from '../shared/contract/failure-types';

/** The input failed the `exportSnapshot` schema; nothing was started. `message` names each bad field. */
export class InvalidExportInputError extends Error {
  override readonly name = 'InvalidExportInputError';
  readonly failureType = FailureType.InvalidExportInput;
}

/**
 * An export workflow ended without a `Successful` result.
 *
 * `failureType` is the workflow failure's `ApplicationFailure.type`: `ExportFailed`, `ExportCancelled`,
 * `ExportDeadlineExceeded`, `InvalidExportInput`, an Atlas `errorCode` such as `CLUSTER_NOT_FOUND`, or
 * `HTTP_<status>`; `WorkflowTerminated`, `WorkflowCancelled` or `TimedOut` when the workflow itself was
 * stopped. `completion` is the `ExportCompletion` the failure carries (job id, state, `stateReason`), when any.
 */
export class ExportWorkflowError extends Error {
  override readonly name = 'ExportWorkflowError';
  readonly workflowId: string;
  readonly failureType: string;
  readonly completion: ExportCompletion | null;

  constructor(args: {
    workflowId: string;
    failureType: string;
    message: string;
    completion: ExportCompletion | null;
    cause?: unknown;
  }) {
    super(`Export workflow ${args.workflowId} failed (${args.failureType}): ${args.message}`, { cause: args.cause });
    this.workflowId = args.workflowId;
    this.failureType = args.failureType;
    this.completion = args.completion;
  }
}

/** `createScheduledExport` for a schedule id that exists, without `updateIfExists`; nothing was changed. */
export class ScheduleExistsError extends Error {
  override readonly name = 'ScheduleExistsError';
  constructor(readonly scheduleId: string) {
    super(`Schedule ${scheduleId} already exists; nothing was changed`);
  }
}

/** A schedule that runs some other workflow than `scheduledExport`, or has no input to change; nothing was changed. */
export class NotAScheduledExportError extends Error {
  override readonly name = 'NotAScheduledExportError';
}

/** A scheduled export's input (targets file merged with overrides) failed its schema; nothing was changed. */
export class InvalidScheduledExportInputError extends Error {
  override readonly name = 'InvalidScheduledExportInputError';
}

/**
 * The workflow id names a workflow of another type than the call expects, e.g. a scheduled run's id given to
 * `waitForExport`, or an export's id given to `getScheduledRunReport`.
 */
export class WrongWorkflowTypeError extends Error {
  override readonly name = 'WrongWorkflowTypeError';
  constructor(
    readonly workflowId: string,
    readonly expectedType: string,
    readonly actualType: string
  ) {
    super(`${workflowId} is a ${actualType} workflow, not ${expectedType}`);
  }
}
