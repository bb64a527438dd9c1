import { z } from 'zod';

/**
 * zod schemas for the Atlas Admin API v2 payloads this service reads and writes.
 *
 * Responses are lenient where Atlas is: `z.object` drops unknown keys so new API fields never break
 * parsing, enum-like fields are open strings, and everything the spec does not require is optional.
 * Only what the service cannot work without (a job's `id` and `state`) is required.
 */

export {
  ATLAS_ID_PATTERN,
  CLUSTER_NAME_PATTERN,
  atlasIdSchema,
  clusterNameSchema,
  EXPORT_JOB_STATES,
  TERMINAL_EXPORT_JOB_STATES,
  type KnownExportJobState,
} from '../shared/atlas-vocabulary';

export const customDataItemSchema = z.object({
  key: z.string(),
  value: z.string(),
});
export type CustomDataItem = z.infer<typeof customDataItemSchema>;

const linkSchema = z.object({ href: z.string().optional(), rel: z.string().optional() });

export const exportJobSchema = z.object({
  id: z.string().min(1),
  state: z.string().min(1),
  snapshotId: z.string().optional(),
  exportBucketId: z.string().optional(),
  createdAt: z.string().optional(),
  finishedAt: z.string().optional(),
  prefix: z.string().optional(),
  exportStatus: z
    .object({
      exportedCollections: z.number().int().nonnegative().optional(),
      totalCollections: z.number().int().nonnegative().optional(),
    })
    .optional(),
  components: z.array(z.object({ exportId: z.string().optional(), replicaSetName: z.string().optional() })).optional(),
  stateReason: z.object({ errorCode: z.string().optional(), message: z.string().optional() }).optional(),
  customData: z.array(z.object({ key: z.string().optional(), value: z.string().optional() })).optional(),
  links: z.array(linkSchema).optional(),
});
export type ExportJob = z.infer<typeof exportJobSchema>;

export const snapshotSchema = z.object({
  id: z.string().min(1),
  status: z.string().optional(),
  snapshotType: z.string().optional(),
  frequencyType: z.string().optional(),
  type: z.string().optional(),
  createdAt: z.string().optional(),
  expiresAt: z.string().optional(),
  storageSizeBytes: z.number().optional(),
  cloudProvider: z.string().optional(),
  replicaSetName: z.string().optional(),
  description: z.string().optional(),
  links: z.array(linkSchema).optional(),
});
export type Snapshot = z.infer<typeof snapshotSchema>;

/** One page of a paginated Atlas list. `totalCount` is absent with `includeCount=false` and is an estimate. */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({
    results: z.array(item),
    totalCount: z.number().int().nonnegative().optional(),
    links: z.array(linkSchema).optional(),
  });
}
export type Page<T> = {
  results: T[];
  totalCount?: number | undefined;
  links?: { href?: string | undefined; rel?: string | undefined }[] | undefined;
};

/** Body of an Atlas error response (`ApiError`). Parsed leniently: some 401s come with other bodies. */
export const apiErrorSchema = z.object({
  error: z.number().int().optional(),
  errorCode: z.string().optional(),
  detail: z.string().nullish(),
  reason: z.string().nullish(),
  parameters: z.array(z.unknown()).optional(),
  badRequestDetail: z
    .object({ fields: z.array(z.object({ field: z.string(), description: z.string() })).optional() })
    .optional(),
});
export type ApiErrorBody = z.infer<typeof apiErrorSchema>;

/** `POST /api/oauth/token` response. */
export const oauthTokenSchema = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().positive(),
  token_type: z.string(),
});

export interface CreateExportJobRequest {
  snapshotId: string;
  exportBucketId: string;
  customData?: CustomDataItem[];
}
