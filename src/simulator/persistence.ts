import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { ATLAS_ID_PATTERN } from '../shared/atlas/vocabulary';
import { type IssuedToken } from './auth';
import { type StateData } from './records';
import { type DefaultFixtures } from './types';

/** Contents of the state file. */
export interface PersistedFile {
  version: 1;
  state: StateData;
  tokens: IssuedToken[];
  defaultFixtures?: DefaultFixtures;
}

const id = z.string().regex(ATLAS_ID_PATTERN);
const label = z.object({ key: z.string().optional(), value: z.string().optional() });
const reason = z.object({ errorCode: z.string(), message: z.string() });

const persistedFileSchema = z.object({
  version: z.literal(1),
  state: z.object({
    simNow: z.number(),
    rngState: z.number().int(),
    projects: z.array(z.object({ groupId: id, orgId: id })),
    clusters: z.array(
      z.object({
        groupId: id,
        name: z.string(),
        shards: z.number().int().nonnegative(),
        totalCollections: z.number().int().nonnegative(),
        replicaSetNames: z.array(z.string()),
      })
    ),
    snapshots: z.array(
      z.object({
        id,
        groupId: id,
        clusterName: z.string(),
        snapshotType: z.enum(['onDemand', 'scheduled', 'fallback']),
        description: z.string().optional(),
        fixedStatus: z.enum(['queued', 'inProgress', 'completed', 'failed']).optional(),
        startedAt: z.number(),
        completedAt: z.number(),
        retentionInDays: z.number(),
        storageSizeBytes: z.number(),
        mongodVersion: z.string(),
        members: z.array(z.object({ id, replicaSetName: z.string() })).optional(),
      })
    ),
    buckets: z.array(z.object({ id, groupId: id, bucketName: z.string(), iamRoleId: z.string(), region: z.string() })),
    jobs: z.array(
      z.object({
        id,
        groupId: id,
        clusterName: z.string(),
        snapshotId: id,
        exportBucketId: id,
        createdAt: z.number(),
        queuedMs: z.number(),
        inProgressMs: z.number(),
        totalCollections: z.number().int().nonnegative(),
        outcome: z.enum(['Successful', 'Failed', 'Cancelled']),
        stateReason: reason.optional(),
        customData: z.array(label),
        components: z.array(z.object({ exportId: id, replicaSetName: z.string() })).optional(),
        prefix: z.string(),
      })
    ),
    stats: z.object({
      maxConcurrentActiveExports: z.number(),
      maxConcurrentActiveExportsByProject: z.record(z.string(), z.number()),
      rateLimited: z.number(),
    }),
  }),
  tokens: z.array(z.object({ token: z.string(), clientId: z.string(), expiresAt: z.number() })),
  defaultFixtures: z
    .object({
      groupId: id,
      clusterName: z.string(),
      shardedClusterName: z.string(),
      snapshotId: id,
      shardedSnapshotId: id,
      exportBucketId: id,
    })
    .optional(),
}) satisfies z.ZodType<PersistedFile>;

/**
 * Reads a state file.
 * @returns undefined when the file does not exist
 * @throws Error when the file exists but is not a valid state file
 */
export function readStateFile(path: string): PersistedFile | undefined {
  if (!existsSync(path)) return undefined;
  const raw = readFileSync(path, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new Error(`state file ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = persistedFileSchema.safeParse(json);
  if (!parsed.success) throw new Error(`state file ${path} is invalid: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Writes the state file shortly after changes (coalesced), atomically through a temporary file. */
export class StateFileWriter {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly path: string,
    private readonly produce: () => PersistedFile,
    private readonly delayMs = 25
  ) {
    mkdirSync(dirname(path), { recursive: true });
  }

  /** Schedules a write. */
  schedule(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.delayMs);
    this.timer.unref();
  }

  /** Writes now, cancelling a scheduled write. */
  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.produce()));
    renameSync(tmp, this.path);
  }
}
