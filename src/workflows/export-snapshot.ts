import { ApplicationFailure, continueAsNew, patched } from '@temporalio/workflow';
import {
  describeIssues,
  pollingFloorIssues,
  toExportSnapshotParams,
  type ExportCompletion,
  type ExportSnapshotInput,
  type ExportSnapshotParams,
} from '../shared/contract/export-contract';
import { FailureType } from '../shared/contract/failure-types';
import { WORKFLOW_EXPORT_STATES } from '../shared/observability/search-attributes';
import { workflowNow } from './clock';
import { ExportReport, type ReportedExport } from './export-report';
import type { ExportResumeState } from './export-resume-state';
import { ExportRun } from './export-run';
import { historyFull } from './run-limits';

export type { ExportResumeState } from './export-resume-state';

/**
 * Patch of behaviour that recorded histories did not have, taken only on the path it changes: an input below
 * {@link pollingFloorIssues}'s floors is refused (it ran before).
 */
const POLLING_FLOORS_PATCH = 'export-polling-floors-v1';

/**
 * Exports one Atlas snapshot to a bucket: creates the export job (idempotently), waits durably for a
 * terminal state, signals `exportCompleted` to `notify.workflowId`, and returns the completion. `Failed`,
 * `Cancelled` and the polling deadline end the workflow as a typed failure after the signal went out.
 *
 * @param resume internal: the state carried across continue-as-new; callers never pass it.
 */
export async function exportSnapshot(
  input: ExportSnapshotInput,
  resume?: ExportResumeState
): Promise<ExportCompletion> {
  // Validate. The progress query answers from here on; an invalid input is reported to the listener, then fails.
  const report = new ExportReport(resume);
  const params = await validateOrNotify({ input, report });
  const run = new ExportRun({ params, report, resume });

  // Create the export job, or go on following the one the previous run (before continue-as-new) followed.
  if (!resume) {
    const created = await run.create();
    if (created.outcome === 'failed') return run.failCreate(created.error);
  }

  // Poll until the job is terminal or the deadline passes, continuing as new to keep the history bounded.
  run.startPolling();
  while (!run.terminal) {
    if (historyFull(params.polling.maxHistoryEvents)) {
      await continueAsNew<typeof exportSnapshot>(input, run.resumeState());
    }
    const polled = await run.pollOnce();
    if (polled.outcome === 'deadline') break;
    if (polled.outcome === 'failed') return run.detach(polled.error);
  }
  await run.finalRead();

  // Tell the listener, then end as the job did: `Successful` returns, anything else fails with its own type.
  const completion = await run.complete();
  if (!completion.terminal) throw deadlineExceeded({ completion, deadlineAt: run.deadlineAt });
  if (completion.state === 'Failed' || completion.state === 'Cancelled') throw jobEnded(completion);
  return completion;
}

/**
 * Validates the input. When it is invalid but names a listener, the listener is told (best effort, with the ids
 * as given) before the workflow fails, so a caller waiting for `exportCompleted` does not wait forever.
 */
async function validateOrNotify({
  input,
  report,
}: {
  input: unknown;
  report: ExportReport;
}): Promise<ExportSnapshotParams> {
  const parsed = toExportSnapshotParams(input);
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  let problems: string | null = parsed.ok ? null : describeIssues(parsed.issues);
  if (parsed.ok) {
    const floors = pollingFloorIssues(raw.polling, 'input.polling');
    if (floors.length > 0 && patched(POLLING_FLOORS_PATCH)) problems = floors.join('; ');
    else return parsed.value;
  }
  // The ids as given (strings only), for the completion every ending carries.
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  const asGiven: ReportedExport = {
    groupId: text(raw.groupId),
    clusterName: text(raw.clusterName),
    snapshotId: text(raw.snapshotId),
    exportBucketId: text(raw.exportBucketId),
  };
  const invalid = { target: asGiven, status: null, terminal: false, state: 'InvalidInput' };
  const failure = ApplicationFailure.create({
    type: FailureType.InvalidExportInput,
    message: `Invalid exportSnapshot input, nothing was sent to Atlas: ${problems}`,
    nonRetryable: true,
    details: [report.completion(invalid)],
  });
  const notifyTo = (raw.notify as { workflowId?: unknown } | null | undefined)?.workflowId;
  if (typeof notifyTo === 'string' && notifyTo.length > 0) {
    asGiven.notify = { workflowId: notifyTo };
    report.progress.notify = { workflowId: notifyTo, delivered: null, error: null };
    const completion = report.completion(invalid);
    await report.endWithError({
      target: asGiven,
      completion,
      err: failure,
      outcome: WORKFLOW_EXPORT_STATES.invalidInput,
    });
  }
  report.obs.publish({ state: WORKFLOW_EXPORT_STATES.invalidInput });
  report.obs.finished({
    outcome: WORKFLOW_EXPORT_STATES.invalidInput,
    polls: 0,
    startedAtMs: report.startedAtMs,
    nowMs: workflowNow(),
  });
  throw failure;
}

/** The deadline passed before the job was terminal: the Atlas job may still be running. */
function deadlineExceeded({ completion, deadlineAt }: { completion: ExportCompletion; deadlineAt: string }) {
  return ApplicationFailure.create({
    type: FailureType.ExportDeadlineExceeded,
    message: `Export job ${completion.exportJobId} was still ${completion.state} at the polling deadline ${deadlineAt}; the Atlas job may still be running (Atlas has no cancel API)`,
    nonRetryable: true,
    details: [completion],
  });
}

/** The job ended `Failed` or `Cancelled` in Atlas, for the reason Atlas gave. */
function jobEnded(completion: ExportCompletion) {
  const reason = completion.stateReason
    ? `${completion.stateReason.errorCode ?? 'no errorCode'}: ${completion.stateReason.message ?? 'no message'}`
    : 'Atlas gave no stateReason';
  return ApplicationFailure.create({
    type: completion.state === 'Failed' ? FailureType.ExportFailed : FailureType.ExportCancelled,
    message: `Export job ${completion.exportJobId} ended ${completion.state}: ${reason}`,
    nonRetryable: true,
    details: [completion],
  });
}
