import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config';
import { parseExportTargetConfig } from '../../src/config/export-target';
import { anotherExportCommand } from '../../src/dev/stack-summary';

const ids = {
  groupId: 'a'.repeat(24),
  clusterName: 'Cluster0',
  snapshotId: 'b'.repeat(24),
  exportBucketId: 'c'.repeat(24),
};
const stack = { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'atlas-exports', timeScale: 60 };

describe("the local stack's command for another export", () => {
  it("carries the stack's time scale and reports once a simulated minute, in lines of at most 80 columns", () => {
    const lines = anotherExportCommand(ids, stack);
    expect(lines.every((line) => line.length <= 80)).toBe(true);
    expect(lines.slice(0, -1).every((line) => line.endsWith(' \\'))).toBe(true);
    expect(
      lines
        .join('\n')
        .replace(/\s*\\\n\s*/g, ' ')
        .trim()
    ).toBe(
      `TEMPORAL_ADDRESS=127.0.0.1:7233 npm run starter -- export --group-id ${ids.groupId} --cluster Cluster0 ` +
        `--snapshot-id ${ids.snapshotId} --bucket-id ${ids.exportBucketId} ` +
        '--time-scale 60 --report-interval 1s --wait --progress-interval 1s'
    );
    expect(anotherExportCommand(ids, { ...stack, timeScale: 6 }).join(' ')).toContain(
      '--time-scale 6 --report-interval 10s'
    );
  });

  it('keeps the default cadence against real Atlas, and names a namespace and task queue that are not the default', () => {
    const command = anotherExportCommand(ids, { ...stack, namespace: 'exports', taskQueue: 'q1', timeScale: 1 }).join(
      ' '
    );
    expect(command).toMatch(
      /^ {2}TEMPORAL_ADDRESS=127\.0\.0\.1:7233 TEMPORAL_NAMESPACE=exports TEMPORAL_TASK_QUEUE=q1 /
    );
    expect(command).not.toContain('--time-scale');
    expect(command).toMatch(/--wait$/);
  });
});

describe('parseExportTargetConfig', () => {
  const env = {
    ATLAS_GROUP_ID: ids.groupId,
    ATLAS_CLUSTER_NAME: 'Cluster0',
    ATLAS_EXPORT_BUCKET_ID: ids.exportBucketId,
  };

  it('takes the ids from the environment, flags first; the snapshot is optional', () => {
    expect(parseExportTargetConfig(env)).toEqual({ ...ids, snapshotId: undefined });
    expect(parseExportTargetConfig(env, { clusterName: 'Other', snapshotId: ids.snapshotId })).toEqual({
      ...ids,
      clusterName: 'Other',
    });
  });

  it('names every missing or malformed id as a ConfigError', () => {
    const attempt = () => parseExportTargetConfig({ ATLAS_GROUP_ID: 'nope', ATLAS_CLUSTER_NAME: ' ' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/target\.groupId: .*target\.clusterName: .*target\.exportBucketId: /);
  });
});
