import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * The custom search attributes `exportSnapshot` keeps up to date, so the Temporal UI's workflow list and
 * visibility queries (`AtlasExportState = "Failed" AND AtlasGroupId = "…"`) tell the story without opening a
 * history. They must be registered on the namespace before a worker runs the workflow: the worker does it on a
 * self-hosted or dev server (`ensureSearchAttributes`), Temporal Cloud needs them added once (docs/operations-and-monitoring.md).
 * None of them ever holds a secret: ids, names, a state word and a percentage.
 */
export const SEARCH_ATTRIBUTES = {
  /** Atlas job state (`Queued`, `InProgress`, `Successful`, `Failed`, `Cancelled`) or the workflow's own phase. */
  state: defineSearchAttributeKey('AtlasExportState', SearchAttributeType.KEYWORD),
  /** exportedCollections / totalCollections in whole percent; unset while Atlas reports no count. */
  progressPercent: defineSearchAttributeKey('AtlasExportProgress', SearchAttributeType.INT),
  groupId: defineSearchAttributeKey('AtlasGroupId', SearchAttributeType.KEYWORD),
  clusterName: defineSearchAttributeKey('AtlasClusterName', SearchAttributeType.KEYWORD),
  snapshotId: defineSearchAttributeKey('AtlasSnapshotId', SearchAttributeType.KEYWORD),
  exportBucketId: defineSearchAttributeKey('AtlasExportBucketId', SearchAttributeType.KEYWORD),
  exportJobId: defineSearchAttributeKey('AtlasExportJobId', SearchAttributeType.KEYWORD),
  /** True while the stall alarm is raised (`polling.stallAfter` without progress); unset otherwise. */
  stalled: defineSearchAttributeKey('AtlasExportStalled', SearchAttributeType.BOOL),
} as const;

/** The workflow states that are not Atlas job states, as written to `AtlasExportState`. */
export const WORKFLOW_EXPORT_STATES = {
  creating: 'Creating',
  createFailed: 'CreateFailed',
  invalidInput: 'InvalidInput',
  deadlineExceeded: 'DeadlineExceeded',
  /** Stopped following a job that Atlas still runs (cancelled workflow, fatal error while polling). */
  detached: 'Detached',
} as const;

/** Name → type, as the operator API and `temporal server start-dev --search-attribute` take them. */
export const SEARCH_ATTRIBUTE_DEFINITIONS: readonly { name: string; type: 'Keyword' | 'Int' | 'Bool' }[] =
  Object.values(SEARCH_ATTRIBUTES).map((key) => ({
    name: key.name,
    type: key.type === SearchAttributeType.INT ? 'Int' : key.type === SearchAttributeType.BOOL ? 'Bool' : 'Keyword',
  }));

/** Whole percent of collections exported, or null when Atlas reports no count (0/0 while queued). */
export function progressPercent(exported: number | null, total: number | null): number | null {
  if (exported === null || total === null || total <= 0) return null;
  return Math.max(0, Math.min(100, Math.floor((exported / total) * 100)));
}
