import type { AtlasClient } from '../atlas';
import { createExportActivities } from './export-activities';

export type {
  CreateExportJobInput,
  CreateExportJobResult,
  ExportJobRef,
  PollExportJobInput,
  PollExportJobResult,
} from './export-activities';

/** All activities of this worker, closing over their dependencies. */
export function createActivities(deps: { atlas: AtlasClient }) {
  return {
    ...createExportActivities(deps.atlas),
  };
}

export type Activities = ReturnType<typeof createActivities>;
