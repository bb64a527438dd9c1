import { isGrpcServiceError, ScheduleNotFoundError, ServiceError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import {
  InvalidScheduledExportInputError,
  NotAScheduledExportError,
  ScheduleExistsError,
  WrongWorkflowTypeError,
} from '../client/errors';
import { ConfigError } from '../config/errors';
import { EXPORT_SNAPSHOT_WORKFLOW } from '../shared/contract/export-contract';
import { SCHEDULED_EXPORT_WORKFLOW } from '../shared/contract/scheduled-export-contract';
import { CliError, ExitCode, PROGRAM_NAME, UsageError } from './common';

/** How a failed command is reported: exit code, a kind for `--json`, and one message for a person. */
export interface ErrorReport {
  exitCode: number;
  kind: string;
  message: string;
}

const GRPC_INVALID_ARGUMENT = 3;

/** Temporal's reason when it refused a request as invalid (a bad visibility query, a cron out of range). */
export function invalidArgumentDetail(err: unknown): string | undefined {
  const grpc = err instanceof ServiceError ? err.cause : err;
  if (isGrpcServiceError(grpc) && Number(grpc.code) === GRPC_INVALID_ARGUMENT) return grpc.details || grpc.message;
  return undefined;
}

/** Maps what a command threw to its exit code and message (anything unexpected: Temporal unavailable, 69). */
export function reportOf(err: unknown): ErrorReport {
  if (err instanceof UsageError) return { exitCode: ExitCode.Usage, kind: 'usage', message: err.message };
  if (err instanceof CliError) return { exitCode: err.exitCode, kind: err.kind, message: err.message };
  if (err instanceof WrongWorkflowTypeError) {
    return { exitCode: ExitCode.Usage, kind: 'wrong-workflow-type', message: wrongTypeMessage(err) };
  }
  if (err instanceof WorkflowNotFoundError) {
    return { exitCode: ExitCode.NotFound, kind: 'not-found', message: `Workflow ${err.workflowId} does not exist` };
  }
  if (err instanceof ScheduleNotFoundError) {
    return { exitCode: ExitCode.NotFound, kind: 'not-found', message: `Schedule ${err.scheduleId} does not exist` };
  }
  if (err instanceof ScheduleExistsError) {
    const message = `${err.message}. Use \`schedule update ${err.scheduleId} …\`, or repeat the create with --update-if-exists to replace its spec, policies and targets.`;
    return { exitCode: ExitCode.ScheduleExists, kind: 'exists', message };
  }
  if (err instanceof NotAScheduledExportError)
    return { exitCode: ExitCode.Usage, kind: 'not-ours', message: err.message };
  if (err instanceof InvalidScheduledExportInputError) {
    const message = err.message
      .replace(/input\.polling/g, '--poll-*/--timeout (polling)')
      .replace(/input\.concurrency/g, '--concurrency');
    return { exitCode: ExitCode.Usage, kind: 'usage', message };
  }
  if (err instanceof ConfigError) return { exitCode: ExitCode.Config, kind: 'config', message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { exitCode: ExitCode.Unavailable, kind: 'error', message };
}

const KIND_OF_TYPE: Record<string, { name: string; commands: string[] }> = {
  [EXPORT_SNAPSHOT_WORKFLOW]: { name: 'an export', commands: ['result', 'watch', 'progress'] },
  [SCHEDULED_EXPORT_WORKFLOW]: { name: 'a scheduled run', commands: ['summary'] },
};

/** `atlas-scheduled-export-n-… is a scheduled run, not an export; try 'atlas-export summary atlas-…'`. */
function wrongTypeMessage(err: WrongWorkflowTypeError): string {
  const expected = KIND_OF_TYPE[err.expectedType]?.name ?? `a ${err.expectedType} workflow`;
  const actual = KIND_OF_TYPE[err.actualType];
  if (!actual) return `${err.workflowId} is a ${err.actualType} workflow, not ${expected}`;
  const [first, ...others] = actual.commands;
  const also = others.length > 0 ? ` (or ${others.join(', ')})` : '';
  return `${err.workflowId} is ${actual.name} (${err.actualType}), not ${expected}; try '${PROGRAM_NAME} ${first} ${err.workflowId}'${also}`;
}
