/**
 * Workflow ids derived from business keys, shared by the starter CLI, the typed client and the scheduled
 * workflow: the same export gets the same workflow id whoever starts it, so Temporal deduplicates the starts.
 */

/** The four ids that name one export: this snapshot of this cluster into this bucket. */
export interface ExportIds {
  groupId: string;
  clusterName: string;
  snapshotId: string;
  exportBucketId: string;
}

/** `atlas-export-<group>-<cluster>-<snapshot>-<bucket>`: the default id of an `exportSnapshot` workflow. */
export function exportWorkflowId(ids: ExportIds): string {
  return `atlas-export-${ids.groupId}-${ids.clusterName}-${ids.snapshotId}-${ids.exportBucketId}`;
}

/** Business keys callers may pass instead of the ids: printable, no whitespace, at most 200 characters. */
export const BUSINESS_KEY_PATTERN = /^[A-Za-z0-9._:\-/]{1,200}$/;

/** `atlas-export-key-<businessKey>`: the id of an export started for a caller's own business key. */
export function businessKeyWorkflowId(businessKey: string): string {
  if (!BUSINESS_KEY_PATTERN.test(businessKey)) {
    throw new TypeError(
      `businessKey "${businessKey}": must be 1 to 200 characters of letters, digits and . _ : - / (no spaces)`
    );
  }
  return `atlas-export-key-${businessKey}`;
}

/** Id prefix of the runs a schedule starts; the server appends the scheduled time to it. */
export function scheduledRunWorkflowId(scheduleId: string): string {
  return `atlas-scheduled-export-${scheduleId}`;
}
