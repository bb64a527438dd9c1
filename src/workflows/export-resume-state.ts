import type { ExportJobStatus } from '../shared/contract/export-contract';
import type { CadenceMemory } from '../shared/polling/poll-cadence';

/** What a run hands to the next one when it continues as new to keep history bounded. */
export interface ExportResumeState {
  status: ExportJobStatus;
  polls: number;
  startedAtMs: number;
  deadlineAtMs: number;
  continuedAsNew: number;
  /** What the poll cadence learned (absent in runs from before it existed). */
  cadence?: CadenceMemory;
  /** When the job's state or collection count last moved, for the stall alarm. */
  lastChangeAtMs?: number;
  stalledSince?: string | null;
  /** The job was created by another caller (absent in runs from before attaching existed). */
  attached?: boolean;
}
