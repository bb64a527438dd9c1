/**
 * Atlas allows each project 1,200 Cloud Backup requests at once and refills 500 per minute (8.33/s), shared by
 * every caller. An activity attempt makes at most two of them while a cluster has at most 500 export jobs
 * (`createExportJob`: one list page, then the POST; `pollExportJob` and the snapshot activities: one or two
 * reads; digest challenges are answered before the bucket and not counted). So 4 attempts per second per
 * project (at most 480 requests a minute even when every attempt is a create) stays under the refill.
 */
export const DEFAULT_ATLAS_PROJECT_ACTIVITIES_PER_SECOND = 4;

/**
 * The per-project limit the worker applies to its activity task queue: activity attempts per second per
 * fairness key (the Atlas project id), `off` to remove the limit, or `skip` to leave the task queue's
 * configuration alone (set by an operator, or a Temporal Cloud API key without the permission).
 */
export type AtlasRateLimitSetting = number | 'off' | 'skip';

/**
 * Activity options for every activity that calls Atlas for `groupId`: the project is the fairness key, so the task
 * queue's per-key rate limit (set by the worker, docs/atlas-rate-limit.md) paces the whole fleet.
 * Eager dispatch would hand the activity straight back to the scheduling worker, past matching and so past the
 * limit, hence it is off.
 */
export function atlasProjectPacing(groupId: string): {
  priority: { fairnessKey: string };
  allowEagerDispatch: false;
} {
  return { priority: { fairnessKey: groupId }, allowEagerDispatch: false };
}
