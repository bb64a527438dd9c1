import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  workflowInfo,
} from '@temporalio/workflow';
import { FailureType } from '../shared/contract/failure-types';
import {
  parseScheduledExportInput,
  type ScheduledExportInput,
  type ScheduledExportSummary,
} from '../shared/contract/scheduled-export-contract';
import { FleetRun, type ScheduledExportResumeState } from './fleet-run';
import { TargetExporter } from './target-exporter';

export type { ScheduledExportResumeState } from './fleet-run';

/**
 * Exports a fleet of targets, as a Temporal Schedule starts it every night: resolves each target's snapshot
 * (`latest`, `on-demand` or an explicit id), then exports it with one child `exportSnapshot`, at most
 * `concurrency` targets at a time. Child workflow ids come from (group, cluster, snapshot, bucket), so a re-run
 * or an overlapping run never exports a snapshot twice: it observes the existing export instead. Children
 * signal `exportCompleted` back. One failed target neither hides nor cancels the others; when any failed, the
 * workflow fails after all finished with `ScheduledExportFailed`, whose details are the summary.
 *
 * @param resume internal: the state carried across continue-as-new; callers never pass it.
 */
export async function scheduledExport(
  input: ScheduledExportInput,
  resume?: ScheduledExportResumeState
): Promise<ScheduledExportSummary> {
  // The summary query and the children's `exportCompleted` signals are answered from the start.
  const fleet = new FleetRun(resume);
  const parsed = parseScheduledExportInput(input);
  if (!parsed.ok) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidScheduledExportInput,
      message: `Invalid scheduledExport input, nothing was started: ${parsed.message}`,
      nonRetryable: true,
    });
  }
  const params = parsed.value;
  fleet.plan(params);

  // Export the targets, at most `concurrency` at a time, until all started or the history is full.
  const parentWorkflowId = workflowInfo().workflowId;
  const exporter = new TargetExporter({ params, rawInput: input, parentWorkflowId, children: fleet.children });
  const started = await fleet.exportAll({ exporter, maxHistoryEvents: params.maxHistoryEvents });

  if (exporter.cancellation !== null) {
    // Cancelled: the run ends cancelled. Exports already running keep going (Atlas cannot stop them) and were
    // reported Abandoned; targets that had not started are Cancelled.
    fleet.cancelPending();
    throw exporter.cancellation as Error;
  }

  if (started < fleet.planned) {
    // Drained: every child of this run has finished, so nothing is left waiting on this run's history.
    await condition(allHandlersFinished);
    const next = fleet.resumeState(started);
    log.info('Continuing as new to keep the history bounded', { finished: next.finished.length });
    await continueAsNew<typeof scheduledExport>({ ...input, targets: input.targets.slice(started) }, next);
  }

  // Every target finished: the run fails when any of them failed, with the summary in its details.
  const result = fleet.finish();
  const failed = result.targets.filter((t) => t.state === 'Failed');
  if (failed.length > 0) throw fleetFailed({ result, failed });
  return result;
}

function fleetFailed({
  result,
  failed,
}: {
  result: ScheduledExportSummary;
  failed: ScheduledExportSummary['targets'];
}) {
  const list = failed
    .map(
      (t) => `[${t.index}] ${t.clusterName} (snapshot ${t.snapshotId ?? '-'}): ${t.error?.type}: ${t.error?.message}`
    )
    .join('; ');
  return ApplicationFailure.create({
    type: FailureType.ScheduledExportFailed,
    message: `${failed.length} of ${result.targets.length} export targets failed (the others finished): ${list}`.slice(
      0,
      4000
    ),
    nonRetryable: true,
    details: [result],
  });
}
