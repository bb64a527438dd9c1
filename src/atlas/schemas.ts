import { z } from 'zod';

/**
 * zod schemas for the Atlas Admin API v2 payloads this service reads and writes.
 *
 * Responses are read as leniently as the service can afford, because Atlas is a peer we did not write: only what
 * the service cannot work without is strict (a job's `id` and `state`, a snapshot's `id`); every other field that
 * is missing, `null` or of the wrong type reads as absent instead of failing the whole body (`lenient`); `z.object`
 * drops unknown keys, so new API fields never break parsing; enum-like fields are open strings. A list is read item
 * by item (see `AtlasClient`): an item without what is strict is skipped and reported, not fatal.
 */

export {
  ATLAS_ID_PATTERN,
  CLUSTER_NAME_PATTERN,
  atlasIdSchema,
  clusterNameSchema,
  EXPORT_JOB_STATES,
  TERMINAL_EXPORT_JOB_STATES,
  type KnownExportJobState,
} from '../shared/atlas/vocabulary';

/** A field Atlas may omit, send as `null` or with a type this service does not expect: each reads as absent. */
function lenient<T extends z.ZodType>(schema: T) {
  return schema.optional().catch(undefined);
}

/** An array of which only the readable items are kept. */
function lenientArray<T extends z.ZodType>(item: T) {
  return lenient(
    z.array(z.unknown()).transform((items) =>
      items.flatMap((raw) => {
        const parsed = item.safeParse(raw);
        return parsed.success ? [parsed.data] : [];
      })
    )
  );
}

export const customDataItemSchema = z.object({
  key: z.string(),
  value: z.string(),
});
export type CustomDataItem = z.infer<typeof customDataItemSchema>;

const linkSchema = z.object({ href: lenient(z.string()), rel: lenient(z.string()) });

/** A collection count: an integer ≥ 0 (a negative one reads as absent, and is reported as an anomaly). */
const countSchema = lenient(z.number().int().nonnegative());

export const exportJobSchema = z.object({
  id: z.string().min(1),
  state: z.string().min(1),
  snapshotId: lenient(z.string()),
  exportBucketId: lenient(z.string()),
  createdAt: lenient(z.string()),
  finishedAt: lenient(z.string()),
  prefix: lenient(z.string()),
  exportStatus: lenient(z.object({ exportedCollections: countSchema, totalCollections: countSchema })),
  components: lenientArray(z.object({ exportId: lenient(z.string()), replicaSetName: lenient(z.string()) })),
  stateReason: lenient(z.object({ errorCode: lenient(z.string()), message: lenient(z.string()) })),
  customData: lenientArray(z.object({ key: lenient(z.string()), value: lenient(z.string()) })),
  links: lenientArray(linkSchema),
});
export type ExportJob = z.infer<typeof exportJobSchema>;

export const snapshotSchema = z.object({
  id: z.string().min(1),
  status: lenient(z.string()),
  snapshotType: lenient(z.string()),
  frequencyType: lenient(z.string()),
  type: lenient(z.string()),
  createdAt: lenient(z.string()),
  expiresAt: lenient(z.string()),
  storageSizeBytes: lenient(z.number().nonnegative()),
  cloudProvider: lenient(z.string()),
  replicaSetName: lenient(z.string()),
  description: lenient(z.string()),
  links: lenientArray(linkSchema),
});
export type Snapshot = z.infer<typeof snapshotSchema>;

/**
 * One page of a paginated Atlas list, items unread (the client reads them one by one). `totalCount` is absent with
 * `includeCount=false` and is an estimate; unreadable, it reads as absent.
 */
export const pageSchema = z.object({
  results: z.array(z.unknown()),
  totalCount: lenient(z.number().int().nonnegative()),
  links: lenientArray(linkSchema),
});
export type Page<T> = {
  results: T[];
  totalCount?: number | undefined;
  links?: { href?: string | undefined; rel?: string | undefined }[] | undefined;
};

/** Why a response was read, but not as Atlas documents it; bounded, so it can label a metric. */
export type ResponseAnomalyKind =
  | 'unreadable-item'
  | 'exported-exceeds-total'
  | 'negative-count'
  | 'finished-before-created'
  | 'negative-size'
  | 'expires-before-created';

/** Something odd in a 2xx answer that did not stop the client: ids, field names and small numbers only. */
export interface ResponseAnomaly {
  kind: ResponseAnomalyKind;
  detail: string;
}

function record(raw: unknown): Record<string, unknown> {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
}

function instant(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function idOf(raw: Record<string, unknown>, what: string): string {
  return typeof raw.id === 'string' && /^[a-zA-Z0-9]{1,64}$/.test(raw.id) ? `${what} ${raw.id}` : `a ${what}`;
}

/** Anomalies of an export job as Atlas sent it (before lenient parsing dropped anything). */
export function exportJobAnomalies(raw: unknown): ResponseAnomaly[] {
  const job = record(raw);
  const who = idOf(job, 'export job');
  const found: ResponseAnomaly[] = [];
  const status = record(job.exportStatus);
  const exported = status.exportedCollections;
  const total = status.totalCollections;
  for (const [name, value] of [
    ['exportedCollections', exported],
    ['totalCollections', total],
  ] as const) {
    if (typeof value === 'number' && value < 0) {
      found.push({ kind: 'negative-count', detail: `${who}: ${name} ${value} < 0 (read as absent)` });
    }
  }
  if (typeof exported === 'number' && typeof total === 'number' && exported > total && total >= 0) {
    found.push({
      kind: 'exported-exceeds-total',
      detail: `${who}: exportedCollections ${exported} > totalCollections ${total}`,
    });
  }
  const created = instant(job.createdAt);
  const finished = instant(job.finishedAt);
  if (created !== undefined && finished !== undefined && finished < created) {
    found.push({
      kind: 'finished-before-created',
      detail: `${who}: finishedAt ${String(job.finishedAt)} is before createdAt ${String(job.createdAt)}`,
    });
  }
  return found;
}

/** Anomalies of a snapshot as Atlas sent it. */
export function snapshotAnomalies(raw: unknown): ResponseAnomaly[] {
  const snapshot = record(raw);
  const who = idOf(snapshot, 'snapshot');
  const found: ResponseAnomaly[] = [];
  if (typeof snapshot.storageSizeBytes === 'number' && snapshot.storageSizeBytes < 0) {
    found.push({ kind: 'negative-size', detail: `${who}: storageSizeBytes ${snapshot.storageSizeBytes} < 0` });
  }
  const created = instant(snapshot.createdAt);
  const expires = instant(snapshot.expiresAt);
  if (created !== undefined && expires !== undefined && expires < created) {
    found.push({
      kind: 'expires-before-created',
      detail: `${who}: expiresAt ${String(snapshot.expiresAt)} is before createdAt ${String(snapshot.createdAt)}`,
    });
  }
  return found;
}

/**
 * Body of an Atlas error response (`ApiError`). Every field lenient: some 401s come with other bodies, and a
 * `badRequestDetail: null` (the spec allows it) must not lose the `errorCode` beside it.
 */
export const apiErrorSchema = z.object({
  error: lenient(z.number().int()),
  errorCode: lenient(z.string()),
  detail: lenient(z.string()),
  reason: lenient(z.string()),
  parameters: lenient(z.array(z.unknown())),
  badRequestDetail: lenient(
    z.object({
      fields: lenientArray(z.object({ field: z.string(), description: z.string() })),
    })
  ),
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
