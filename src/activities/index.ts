import type { AtlasClient } from '../atlas';
import { createExportActivities } from './export-activities';
import { createSnapshotActivities } from './snapshot-activities';
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
  ClusterRef,
  ExistingExport,
  FindLatestInput,
  LatestExportableSnapshot,
  SnapshotInfo,
  TakeSnapshotInput,
  TakeSnapshotResult,
} from './snapshot-activities';
export type { ObserveExportWorkflowInput, ObservedExport } from './workflow-observer-activities';

/** All activities of this worker, closing over their dependencies. */
export function createActivities(deps: { atlas: AtlasClient }) {
  return {
    ...createExportActivities(deps.atlas),
    ...createSnapshotActivities(deps.atlas),
    ...createWorkflowObserverActivities(),
  };
}

export type Activities = ReturnType<typeof createActivities>;
