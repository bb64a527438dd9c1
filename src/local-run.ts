import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { output } from './cli/common';
import { commandWatch } from './cli/commands/watch';
import { startExport } from './client/exports';
import { ConfigError } from './config';
import { DEMO_SCHEDULE_ID, deleteDemoSchedule, upsertDemoSchedule } from './dev/demo-schedule';
import { startLocalStack, type LocalStackOptions } from './dev/local-stack';
import { stackSummary } from './dev/stack-summary';
import { describeIssues } from './shared/contract/export-contract';

/**
 * The one-command local stack (`npm start`): a Temporal dev server with its Web UI on loopback and the project's
 * search attributes, the worker (Prometheus metrics on loopback), one export followed live to its end, and an
 * hourly demo schedule of fleet exports, triggered once. Against the Atlas simulator by default (time-scaled: a
 * 13-minute export takes about 13 s; its state kept beside Temporal's in the state dir); against real Atlas when
 * Atlas credentials are set in the environment, with the ids to export from flags or `ATLAS_GROUP_ID`,
 * `ATLAS_CLUSTER_NAME`, `ATLAS_SNAPSHOT_ID` (default: the newest completed snapshot) and `ATLAS_EXPORT_BUCKET_ID`
 * (no demo schedule then: it would export every hour for real). Ctrl-C stops everything it started. The stack
 * itself is `startLocalStack` (src/dev/local-stack.ts); this script runs one export on it.
 */

const USAGE = `Usage: npm start -- [options]
  --port N          Temporal gRPC port (default 7233, or a free one if taken)
  --ui-port N       Temporal Web UI port (default 8233, or a free one if taken)
  --time-scale N    simulator speed-up (default 60: one real second is a simulated minute)
  --metrics-port N  worker Prometheus /metrics port on loopback (default 9464, or a free one if taken)
  --once            exit when the export ends (exit 0 on Successful) instead of keeping the stack up
  --no-schedule     do not create the demo schedule
  --state-dir DIR   where the dev server and the simulator keep their state (default .local/)
  --group-id, --cluster, --snapshot-id, --bucket-id   what to export with real Atlas credentials
The worker's log lines go to worker.log in the state dir.`;

const ROOT = resolve(__dirname, '..');

const portSchema = z.coerce.number().int().min(1).max(65535).optional();
const flagsSchema = z.object({
  port: portSchema,
  'ui-port': portSchema,
  'metrics-port': portSchema,
  'time-scale': z.coerce.number().positive().max(100_000).default(60),
});

/** The command line as stack options, plus `--once`; undefined for `--help`. */
function parseFlags(): (Omit<LocalStackOptions, 'env'> & { once: boolean }) | undefined {
  const str = { type: 'string' } as const;
  const { values } = parseArgs({
    options: {
      ...{ port: str, 'ui-port': str, 'time-scale': str, 'metrics-port': str, 'state-dir': str },
      ...{ 'group-id': str, cluster: str, 'snapshot-id': str, 'bucket-id': str },
      ...{ once: { type: 'boolean' }, 'no-schedule': { type: 'boolean' }, help: { type: 'boolean' } },
    },
  });
  if (values.help) return undefined;
  const flags = flagsSchema.safeParse(values);
  if (!flags.success) throw new ConfigError(describeIssues(flags.error.issues, 'flag'));
  return {
    port: flags.data.port,
    uiPort: flags.data['ui-port'],
    metricsPort: flags.data['metrics-port'],
    timeScale: flags.data['time-scale'],
    // Temporal's and the simulator's state live side by side, so a restart finds both as they were.
    stateDir: resolve(values['state-dir'] ?? resolve(ROOT, '.local')),
    targetFlags: {
      groupId: values['group-id'],
      clusterName: values.cluster,
      snapshotId: values['snapshot-id'],
      exportBucketId: values['bucket-id'],
    },
    demoSchedule: !values['no-schedule'],
    once: values.once === true,
  };
}

async function main(): Promise<number> {
  const flags = parseFlags();
  if (!flags) {
    console.log(USAGE);
    return 0;
  }
  // `interrupt`: Ctrl-C (exit 0); `halt`: Ctrl-C or a worker that died (the export's exit code).
  const [interrupt, halt] = [new AbortController(), new AbortController()];
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.log(`\n${signal}: shutting down...`);
      interrupt.abort();
      halt.abort();
    });
  }
  const stopped = new Promise<void>((done) => halt.signal.addEventListener('abort', () => done()));
  const stack = await startLocalStack({
    ...flags,
    env: process.env,
    signal: interrupt.signal,
    // A worker that dies (e.g. the server went away) ends the run instead of leaving it hanging.
    onWorkerStopped: (err) => {
      console.error(`Worker stopped: ${err instanceof Error ? err.message : String(err)}`);
      halt.abort();
    },
  });
  if (!stack) return 0; // Ctrl-C while starting: nothing is left running
  try {
    for (const line of stackSummary(stack)) console.log(line);
    const { client, temporal, atlas } = stack;
    // The same id the CLI and a schedule would give this export: starting it twice attaches to the first.
    if (interrupt.signal.aborted) return 0;
    const input = { ...stack.target, ...(atlas.polling ? { polling: atlas.polling } : {}) };
    const { workflowId, started } = await startExport(client, input, { taskQueue: temporal.taskQueue });
    const ui = `${temporal.uiUrl}/namespaces/${encodeURIComponent(temporal.namespace)}`;
    console.log(`${started ? 'Started' : 'Attached to'} export ${workflowId}`);
    console.log(`  ${ui}/workflows/${encodeURIComponent(workflowId)}`);
    if (atlas.demo) {
      const scheduleId = await upsertDemoSchedule(client, temporal.taskQueue, atlas.demo);
      console.log(`Demo schedule ${scheduleId} (every hour, triggered once now; it attaches to the export above):`);
      console.log(`  ${ui}/schedules/${encodeURIComponent(scheduleId)}`);
    } else if (await deleteDemoSchedule(client)) {
      // Left in the state dir by a simulator run: it must not fire against real Atlas with the simulator's ids.
      console.log(`Deleted the demo schedule ${DEMO_SCHEDULE_ID} a simulator run had left in ${flags.stateDir}`);
    }
    console.log(`Exports in the UI: ${ui}/workflows?query=${encodeURIComponent("WorkflowType='exportSnapshot'")}`);

    const code = await commandWatch(client, workflowId, { refresh: '1s' }, output(false), { signal: halt.signal });
    if (!flags.once && !interrupt.signal.aborted) {
      console.log(
        `The stack stays up: browse ${temporal.uiUrl} , or run npm run starter -- list. Press Ctrl-C to stop.`
      );
      await stopped;
    }
    return interrupt.signal.aborted ? 0 : code;
  } finally {
    await stack.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(
      err instanceof ConfigError ? err.message : err instanceof Error ? `Local run failed: ${err.message}` : err
    );
    process.exit(err instanceof ConfigError ? 78 : 1);
  }
);
