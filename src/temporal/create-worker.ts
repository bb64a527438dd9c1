import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type TargetPolicy } from '../activities';
import type { AtlasClient } from '../atlas';
import { workflowsPath } from './workflow-bundle';

export interface ExportWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  atlas: AtlasClient;
  /** What the Atlas identity may be used for (`WORKER_ALLOWED_TARGETS` …), checked by the activities. */
  policy: TargetPolicy;
  /** A prebuilt workflow bundle (`WORKER_WORKFLOW_BUNDLE`, tests); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Payload codecs (encryption); must match the clients'. Default: the SDK's, unencrypted. */
  dataConverter?: WorkerOptions['dataConverter'];
  tuning?: Pick<
    WorkerOptions,
    | 'maxCachedWorkflows'
    | 'maxConcurrentActivityTaskExecutions'
    | 'maxConcurrentWorkflowTaskExecutions'
    | 'maxConcurrentWorkflowTaskPolls'
    | 'maxConcurrentActivityTaskPolls'
    | 'stickyQueueScheduleToStartTimeout'
    | 'workflowThreadPoolSize'
  >;
}

/** The export worker: this project's workflows and the activities bound to one Atlas client. */
export function createExportWorker(options: ExportWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities({ atlas: options.atlas, policy: options.policy }),
    dataConverter: options.dataConverter,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: workflowsPath() }),
    // On SIGTERM, let in-flight activities (an Atlas call takes at most the request timeout) finish before
    // cancelling them; the default of 0 cancels at once.
    shutdownGraceTime: '30s',
    ...options.tuning,
  });
}
