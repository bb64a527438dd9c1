import { DEFAULT_TASK_QUEUE } from '../shared/export-contract';
import type { ExportIds } from '../shared/workflow-ids';
import type { LocalStack } from './local-stack';

/**
 * What the local stack tells a person at start: where everything is, the ids there are to export, and a
 * command to copy for another export.
 */
export function stackSummary(stack: LocalStack): string[] {
  const { temporal, atlas } = stack;
  const lines = [
    atlas.description,
    `Temporal: ${temporal.address}   Web UI: ${temporal.uiUrl}   namespace: ${temporal.namespace}`,
    `Worker metrics: ${stack.metricsUrl}`,
    `Worker log: ${stack.logFile}`,
  ];
  const sim = atlas.simulated;
  if (sim) {
    lines.push(
      `Simulated Atlas ids:`,
      `  project   ${sim.groupId}`,
      `  bucket    ${sim.exportBucketId}`,
      `  cluster   ${sim.clusterName}`,
      `    snapshot  ${stack.target.snapshotId}  (exported by this run)`,
      `    snapshot  ${sim.snapshotId}`,
      `  cluster   ${sim.shardedClusterName} (sharded)`,
      `    snapshot  ${sim.shardedSnapshotId}`
    );
  }
  const another: ExportIds = sim ? { ...stack.target, snapshotId: sim.snapshotId } : stack.target;
  const speed = atlas.timeScale === 1 ? '' : ` (${atlas.timeScale}× time)`;
  lines.push(
    `Another export at this stack's speed${speed}:`,
    ...anotherExportCommand(another, { ...stack.temporal, timeScale: atlas.timeScale })
  );
  return lines;
}

/**
 * A CLI command that exports `ids` on this stack, reading as often as the stack's own exports do. The CLI has
 * no flag for the polling input's `timeScale`, so a fixed interval stands in for it: one simulated minute in
 * real time (at least 1 s, the CLI's floor), which follows a simulated export about as closely as the stack's
 * own time-scaled cadence does. Against real Atlas (no time scale) the default cadence is the stack's.
 */
export function anotherExportCommand(
  ids: ExportIds,
  stack: { address: string; namespace: string; taskQueue: string; timeScale: number }
): string[] {
  const { address, namespace, taskQueue } = stack;
  const env = [
    `TEMPORAL_ADDRESS=${address}`,
    ...(namespace === 'default' ? [] : [`TEMPORAL_NAMESPACE=${namespace}`]),
    ...(taskQueue === DEFAULT_TASK_QUEUE ? [] : [`TEMPORAL_TASK_QUEUE=${taskQueue}`]),
  ];
  const flags: [string, string?][] = [
    ['--group-id', ids.groupId],
    ['--cluster', ids.clusterName],
    ['--snapshot-id', ids.snapshotId],
    ['--bucket-id', ids.exportBucketId],
  ];
  if (stack.timeScale !== 1) {
    const interval = `${Math.max(1, Math.round(60 / stack.timeScale))}s`;
    flags.push(['--poll-mode', 'fixed'], ['--poll-interval', interval], ['--wait'], ['--progress-interval', interval]);
  } else {
    flags.push(['--wait']);
  }
  // Shell lines continued with a backslash, each within 80 columns: copied together, they are one command.
  const rows = [
    `${env.join(' ')} npm run starter -- export`,
    ...[flags.slice(0, 2), flags.slice(2, 4), flags.slice(4)]
      .filter((row) => row.length > 0)
      .map((row) => row.map(([flag, value]) => (value === undefined ? flag : `${flag} ${value}`)).join(' ')),
  ];
  return rows.map((row, i) => `  ${row}${i < rows.length - 1 ? ' \\' : ''}`);
}
