import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { AtlasRateLimitSetting } from '../shared/atlas-rate-limit';

export class AtlasRateLimitError extends Error {
  override readonly name = 'AtlasRateLimitError';
}

type TaskQueueConfigService = Pick<Connection['workflowService'], 'updateTaskQueueConfig'>;

/**
 * Sets the activity task queue's default per-fairness-key rate limit. The workflows schedule every activity that
 * calls Atlas with the Atlas project as its fairness key, so Temporal's matching service paces the dispatches of
 * one project across all workers polling the queue, and the limit holds for the whole fleet. The setting lives on
 * the server, per task queue (the last worker to start wins, so give every worker the same value). Returns what it
 * set, or null for `skip`.
 */
export async function applyAtlasRateLimit(
  service: TaskQueueConfigService,
  options: { namespace: string; taskQueue: string; setting: AtlasRateLimitSetting; identity?: string }
): Promise<{ activitiesPerSecond: number | null } | null> {
  const { setting } = options;
  if (setting === 'skip') return null;
  const rateLimit = setting === 'off' ? null : { requestsPerSecond: setting };
  try {
    await service.updateTaskQueueConfig({
      namespace: options.namespace,
      identity: options.identity ?? 'atlas-export-orchestrator worker',
      taskQueue: options.taskQueue,
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      // Without `rateLimit` the server removes the limit.
      updateFairnessKeyRateLimitDefault: {
        ...(rateLimit ? { rateLimit } : {}),
        reason: 'Atlas Cloud Backup rate limit per project (WORKER_ATLAS_PROJECT_RATE_LIMIT)',
      },
    });
  } catch (err) {
    const cli = setting === 'off' ? 'default' : String(setting);
    throw new AtlasRateLimitError(
      `Could not set the per-project Atlas rate limit on task queue ${options.taskQueue} (${(err as Error).message}). ` +
        `Set it once with: temporal task-queue config set --namespace ${options.namespace} --task-queue ${options.taskQueue} ` +
        `--task-queue-type activity --fairness-key-rps-limit-default ${cli}, ` +
        'then start workers with WORKER_ATLAS_PROJECT_RATE_LIMIT=skip.',
      { cause: err }
    );
  }
  return { activitiesPerSecond: setting === 'off' ? null : setting };
}
