/**
 * Every Atlas Admin API operation the client calls, with its HTTP method: the `operation` label of the request
 * metrics. The client accepts no other name, so the list cannot fall behind it.
 */
export const ATLAS_OPERATIONS = {
  createExportJob: 'POST',
  getExportJob: 'GET',
  listExportJobs: 'GET',
  getSnapshot: 'GET',
  listSnapshots: 'GET',
  getShardedClusterSnapshot: 'GET',
  listShardedClusterSnapshots: 'GET',
  takeSnapshot: 'POST',
} as const;

export type AtlasOperation = keyof typeof ATLAS_OPERATIONS;

/** The operations that read a list page by page (always GET). */
export type AtlasListOperation = Extract<AtlasOperation, `list${string}`>;
