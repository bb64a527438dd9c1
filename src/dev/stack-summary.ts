import { DEFAULT_TASK_QUEUE } from '../shared/contract/export-contract';
import type { ExportIds } from '../shared/contract/workflow-ids';
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
 * A CLI command that exports `ids` on this stack with the stack's own polling: the simulator's time scale and a
 * progress report every simulated minute (at least 1 s). Against real Atlas (no time scale) the defaults are the
 * stack's.
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
    flags.push(['--time-scale', String(stack.timeScale)], ['--report-interval', interval], ['--wait']);
    flags.push(['--progress-interval', interval]);
  } else {
    flags.push(['--wait']);
  }
  // Shell lines continued with a backslash, each within 80 columns: copied together, they are one command.
  const rows = [
    `${env.join(' ')} npm run starter -- export`,
    ...[flags.slice(0, 2), flags.slice(2, 4), flags.slice(4, 7), flags.slice(7)]
      .filter((row) => row.length > 0)
      .map((row) => row.map(([flag, value]) => (value === undefined ? flag : `${flag} ${value}`)).join(' ')),
  ];
  return rows.map((row, i) => `  ${row}${i < rows.length - 1 ? ' \\' : ''}`);
}
