import { readFile } from 'node:fs/promises';
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type TargetPolicy } from '../activities';
import { ENCODED_FAILURES_BUNDLE_MARKER } from '../codec/failure-converter';
import { ConfigError } from '../config/errors';
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

/**
 * With payload encryption the data converter encodes failures (failure-converter.ts); a prebuilt bundle must
 * have been built with that converter too, or the workflows' own failures would quote Atlas text in clear.
 */
async function checkBundleEncodesFailures(options: ExportWorkerOptions): Promise<void> {
  const bundle = options.workflowBundle;
  if (!options.dataConverter?.failureConverterPath || !bundle) return;
  const code = 'code' in bundle ? bundle.code : await readFile(bundle.codePath, 'utf8');
  if (!code.includes(ENCODED_FAILURES_BUNDLE_MARKER)) {
    throw new ConfigError(
      'Invalid configuration: payload encryption is on but the workflow bundle (WORKER_WORKFLOW_BUNDLE) was built without encoded failures: ' +
        'build it with `build-workflow-bundle --encode-failures` (dist/workflow-bundle-encoded-failures.js in the image)'
    );
  }
}

/** The export worker: this project's workflows and the activities bound to one Atlas client. */
export async function createExportWorker(options: ExportWorkerOptions): Promise<Worker> {
  await checkBundleEncodesFailures(options);
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
