import { log } from '@temporalio/activity';
import type { AtlasClient, AtlasResponseAnomalyObserver } from '../atlas';
import { createExportActivities } from './export-activities';
import { createSnapshotActivities } from './snapshot-activities';
import type { TargetPolicy } from './target-policy';
import { createWorkflowObserverActivities } from './workflow-observer-activities';

export type {
  CreateExportJobInput,
  CreateExportJobResult,
  ExportJobRef,
  PollExportJobInput,
  PollExportJobResult,
} from './export-activities';
export type {
  AwaitSnapshotInput,
  ClusterKind,
  ClusterRef,
  ExistingExport,
  FindLatestInput,
  LatestExportableSnapshot,
  SnapshotInfo,
  TakeSnapshotInput,
  TakeSnapshotResult,
} from './snapshot-activities';
export type { ObserveExportWorkflowInput, ObservedExport } from './workflow-observer-activities';
export { MIN_ATLAS_INTERVAL_MS, type TargetPolicy } from './target-policy';

/**
 * Logs what the Atlas client read but found odd (a skipped list item, contradicting counts) as a warning of the
 * activity that made the call, with its workflow and activity ids. Outside an activity there is nothing to log to.
 */
const logResponseAnomaly: AtlasResponseAnomalyObserver = ({ operation, anomaly }) => {
  try {
    log.warn(`Atlas answer read with an anomaly: ${anomaly.detail}`, { operation, anomaly: anomaly.kind });
  } catch {
    // Not in an activity (e.g. a CLI using the same client): the metric still counts it.
  }
};

/** All activities of this worker, closing over their dependencies and the operator's policy. */
export function createActivities(deps: { atlas: AtlasClient; policy: TargetPolicy }) {
  deps.atlas.onResponseAnomaly(logResponseAnomaly);
  return {
    ...createExportActivities(deps.atlas, deps.policy),
    ...createSnapshotActivities(deps.atlas, deps.policy),
    ...createWorkflowObserverActivities(),
  };
}

export type Activities = ReturnType<typeof createActivities>;
