import type { ExportIds } from '../contract/workflow-ids';

/**
 * The Temporal UI's fixed texts for an export (`staticSummary`, one line; `staticDetails`, Markdown), the same
 * whoever starts it: the typed client, the CLI, the local run or a scheduled fleet export.
 */

export function exportStaticSummary(t: ExportIds): string {
  return `Export ${t.clusterName} snapshot ${t.snapshotId} to bucket ${t.exportBucketId}`;
}

export function exportStaticDetails(t: ExportIds, startedBy?: string): string {
  return [
    `| | |`,
    `|---|---|`,
    `| Project (group id) | \`${t.groupId}\` |`,
    `| Cluster | \`${t.clusterName}\` |`,
    `| Snapshot | \`${t.snapshotId}\` |`,
    `| Export bucket | \`${t.exportBucketId}\` |`,
    ...(startedBy ? [`| Started by | ${startedBy} |`] : []),
  ].join('\n');
}
