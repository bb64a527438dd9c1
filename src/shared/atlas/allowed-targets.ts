/**
 * The worker's allow-list (`WORKER_ALLOWED_TARGETS`): which projects its Atlas identity may be used for, and in
 * each, which export buckets and clusters. Written as JSON, so an operator can put it in one env variable or a
 * Kubernetes Secret/ConfigMap key and a parser can name each wrong entry:
 *
 *     {"<groupId>": {"buckets": ["<exportBucketId>", …], "clusters": ["<clusterName>", …]}}
 *
 * `"*"` allows every project, bucket or cluster, and only where it is written: nothing is allowed by omission.
 */
import { z } from 'zod';
import { ATLAS_ID_PATTERN, atlasIdSchema, clusterNameSchema } from './vocabulary';

export const WILDCARD = '*';

const entries = <S extends z.ZodType<string>>(item: S, what: string) =>
  z
    .array(z.union([z.literal(WILDCARD), item]))
    .min(1, `must list at least one ${what} (or "*" for any)`)
    .refine((list) => !list.includes(WILDCARD) || list.length === 1, `"*" allows any ${what}: list it alone`);

const projectSchema = z.strictObject({
  buckets: entries(atlasIdSchema, 'export bucket id'),
  clusters: entries(clusterNameSchema, 'cluster name'),
});

/** The parsed allow-list: project (groupId, or `*`) to its allowed buckets and clusters. */
export type AllowedTargets = Readonly<Record<string, { buckets: readonly string[]; clusters: readonly string[] }>>;

/** The JSON text of `WORKER_ALLOWED_TARGETS`, parsed and checked. */
export const allowedTargetsSchema = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: 'must be JSON: {"<groupId>":{"buckets":["<exportBucketId>"|"*"],"clusters":["<name>"|"*"]}}',
      });
      return z.NEVER;
    }
  })
  .pipe(
    z.record(z.string(), projectSchema).superRefine((r, ctx) => {
      const keys = Object.keys(r);
      if (keys.length === 0) ctx.addIssue({ code: 'custom', message: 'must allow at least one project' });
      for (const key of keys.filter((k) => k !== WILDCARD && !ATLAS_ID_PATTERN.test(k))) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'must be a groupId (24 lowercase hex) or "*"' });
      }
    })
  )
  .transform((r): AllowedTargets => Object.freeze(r));

/** What an activity is about to touch. `exportBucketId` only where it sends or reads one. */
export interface Target {
  groupId: string;
  clusterName: string;
  exportBucketId?: string | undefined;
}

const allows = (list: readonly string[], value: string) => list.includes(WILDCARD) || list.includes(value);

/** Why `target` is outside `allowed`, naming the variable; `undefined` when it is inside. */
export function targetRefusal(allowed: AllowedTargets, target: Target): string | undefined {
  const project = allowed[target.groupId] ?? allowed[WILDCARD];
  if (!project) return `project ${target.groupId} is not in WORKER_ALLOWED_TARGETS`;
  if (!allows(project.clusters, target.clusterName)) {
    return `cluster ${target.clusterName} of project ${target.groupId} is not in WORKER_ALLOWED_TARGETS`;
  }
  if (target.exportBucketId !== undefined && !allows(project.buckets, target.exportBucketId)) {
    return `export bucket ${target.exportBucketId} is not allowed for project ${target.groupId} in WORKER_ALLOWED_TARGETS`;
  }
  return undefined;
}
