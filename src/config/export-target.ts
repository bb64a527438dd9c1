import { z } from 'zod';
import { ConfigError } from './errors';
import { atlasIdSchema, clusterNameSchema } from '../shared/atlas/vocabulary';
import { describeIssues } from '../shared/contract/export-contract';

/**
 * The one export the local stack (`npm start`) runs against real Atlas: each id from its flag, else from
 * `ATLAS_GROUP_ID`, `ATLAS_CLUSTER_NAME`, `ATLAS_SNAPSHOT_ID` (optional: the newest completed snapshot) and
 * `ATLAS_EXPORT_BUCKET_ID`.
 */
export interface ExportTargetConfig {
  groupId: string;
  clusterName: string;
  snapshotId: string | undefined;
  exportBucketId: string;
}

/** The same ids given as flags (`--group-id`, `--cluster`, `--snapshot-id`, `--bucket-id`); they win. */
export type ExportTargetFlags = Partial<Record<keyof ExportTargetConfig, string | undefined>>;

const targetSchema = z.object({
  groupId: atlasIdSchema,
  clusterName: clusterNameSchema,
  snapshotId: atlasIdSchema.optional(),
  exportBucketId: atlasIdSchema,
});

const VARIABLE_OF_FIELD: Record<keyof ExportTargetConfig, string> = {
  groupId: 'ATLAS_GROUP_ID',
  clusterName: 'ATLAS_CLUSTER_NAME',
  snapshotId: 'ATLAS_SNAPSHOT_ID',
  exportBucketId: 'ATLAS_EXPORT_BUCKET_ID',
};

/** @throws ConfigError naming the missing or malformed ids (`target.groupId: …`) */
export function parseExportTargetConfig(env: NodeJS.ProcessEnv, flags: ExportTargetFlags = {}): ExportTargetConfig {
  const raw = Object.fromEntries(
    (Object.keys(VARIABLE_OF_FIELD) as (keyof ExportTargetConfig)[]).map((field) => [
      field,
      flags[field] ?? (env[VARIABLE_OF_FIELD[field]]?.trim() || undefined),
    ])
  );
  const parsed = targetSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      `Atlas credentials are set, so the run exports from real Atlas and needs: ${describeIssues(parsed.error.issues, 'target')}`
    );
  }
  return { ...parsed.data, snapshotId: parsed.data.snapshotId };
}
