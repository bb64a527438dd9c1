import type { ExportJob } from '../atlas';
import type { ExportJobStatus } from '../shared/contract/export-contract';
import { collectionCount } from '../shared/observability/progress-text';

/** Shapes an Atlas export job into the status the workflow keeps: identifiers and progress only. */
export function toExportJobStatus(job: ExportJob): ExportJobStatus {
  return {
    exportJobId: job.id,
    state: job.state,
    exportedCollections: job.exportStatus?.exportedCollections ?? null,
    totalCollections: job.exportStatus?.totalCollections ?? null,
    components: (job.components ?? []).map((c) => ({
      exportId: c.exportId ?? null,
      replicaSetName: c.replicaSetName ?? null,
    })),
    stateReason: job.stateReason
      ? { errorCode: job.stateReason.errorCode ?? null, message: job.stateReason.message ?? null }
      : null,
    createdAt: job.createdAt ?? null,
    finishedAt: job.finishedAt ?? null,
    prefix: job.prefix ?? null,
  };
}

/** One line for logs, the UI and not-ready failures, e.g. `InProgress 12/40 collections`. */
export function describeStatus(
  s: Pick<ExportJobStatus, 'state' | 'exportedCollections' | 'totalCollections' | 'components'>
): string {
  const count = collectionCount(s);
  return count ? `${s.state} ${count}` : s.state;
}
