import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { AtlasRateLimitSetting } from '../shared/atlas/rate-limit';
import { classifyStartupError } from './startup-retry';

/** The server refused to set the limit for a reason a person must fix (permission, unsupported server). */
export class AtlasRateLimitError extends Error {
  override readonly name = 'AtlasRateLimitError';
}

type TaskQueueConfigService = Pick<Connection['workflowService'], 'describeTaskQueue' | 'updateTaskQueueConfig'>;

/** The server keeps the rate as a float32: 1.44 reads back as 1.440000057220459. */
function sameRate(current: number | null, wanted: number | null): boolean {
  return current === null || wanted === null ? current === wanted : Math.fround(current) === Math.fround(wanted);
}

/**
 * Sets the activity task queue's default per-fairness-key rate limit. The workflows schedule every activity that
 * calls Atlas with the Atlas project as its fairness key, so Temporal's matching service paces the dispatches of
 * one project across all workers polling the queue, and the limit holds for the whole fleet. The setting lives on
 * the server, per task queue (the last worker to start wins, so give every worker the same value).
 *
 * Reads the current value first and writes only when it differs, so a fleet restart does not rewrite it once per
 * worker. Transient server errors are rethrown as they are, for the caller to retry (`startupRetry`); others
 * become an {@link AtlasRateLimitError} naming the command that sets it by hand. Returns what is in force and
 * whether this call wrote it, or null for `skip`.
 */
export async function applyAtlasRateLimit(
  service: TaskQueueConfigService,
  options: { namespace: string; taskQueue: string; setting: AtlasRateLimitSetting; identity?: string }
): Promise<{ activitiesPerSecond: number | null; updated: boolean } | null> {
  const { setting } = options;
  if (setting === 'skip') return null;
  const wanted = setting === 'off' ? null : setting;
  const taskQueueType = temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY;
  let current: number | null | undefined;
  try {
    const { config } = await service.describeTaskQueue({
      namespace: options.namespace,
      taskQueue: { name: options.taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType,
      reportConfig: true,
    });
    const limit = config?.fairnessKeysRateLimitDefault?.rateLimit;
    current = limit ? (limit.requestsPerSecond ?? 0) : null;
  } catch (err) {
    if (classifyStartupError(err) === 'transient') throw err;
    // Not readable with these permissions: write it, as before there was a read.
    current = undefined;
  }
  if (current !== undefined && sameRate(current, wanted)) return { activitiesPerSecond: wanted, updated: false };
  try {
    await service.updateTaskQueueConfig({
      namespace: options.namespace,
      identity: options.identity ?? 'atlas-export-orchestrator worker',
      taskQueue: options.taskQueue,
      taskQueueType,
      // Without `rateLimit` the server removes the limit.
      updateFairnessKeyRateLimitDefault: {
        ...(wanted !== null ? { rateLimit: { requestsPerSecond: wanted } } : {}),
        reason: 'Atlas Cloud Backup rate limit per project (WORKER_ATLAS_PROJECT_RATE_LIMIT)',
      },
    });
  } catch (err) {
    if (classifyStartupError(err) === 'transient') throw err;
    const cli = wanted === null ? 'default' : String(wanted);
    throw new AtlasRateLimitError(
      `Could not set the per-project Atlas rate limit on task queue ${options.taskQueue} (${(err as Error).message}). ` +
        `Set it once with: temporal task-queue config set --namespace ${options.namespace} --task-queue ${options.taskQueue} ` +
        `--task-queue-type activity --fairness-key-rps-limit-default ${cli}, ` +
        'then start workers with WORKER_ATLAS_PROJECT_RATE_LIMIT=skip.',
      { cause: err }
    );
  }
  return { activitiesPerSecond: wanted, updated: true };
}
