import { z } from 'zod';
import type { CadenceReport } from '../polling/poll-cadence';
import type { ExportIds } from './workflow-ids';

/**
 * What `exportSnapshot` reports: its result, the `exportCompleted` signal and the `progress` query, as zod schemas.
 * They are the one source of the TypeScript types and of the published JSON Schemas (`schemas/`, `npm run
 * schemas`). The wire form is language-neutral: every documented field is always present, `null` when it has no
 * value, so a listener in any language can type every field; new fields may be added, so readers ignore unknown
 * ones (the published schemas allow them: they are generated in zod's input mode, where `z.object` is open).
 */

/** Version of the result, signal and query shapes; bumped only on an incompatible change (never done so far). */
export const EXPORT_REPORTS_VERSION = 1;

const isoTime = z.string().describe('ISO 8601 time (UTC)');
const count = z.number().int().nullable();

export const exportComponentSchema = z.object({
  exportId: z.string().nullable(),
  replicaSetName: z.string().nullable(),
});

export const stateReasonSchema = z
  .object({ errorCode: z.string().nullable(), message: z.string().nullable() })
  .nullable()
  .describe('Why Atlas ended the job as it did (Failed, Cancelled); null when Atlas gave no reason');

/** Export job progress as the workflow keeps it: identifiers and progress only. */
export const exportJobStatusSchema = z.object({
  exportJobId: z.string(),
  state: z
    .string()
    .describe('Atlas state: Queued, InProgress, Successful, Failed, Cancelled, or any newer value Atlas sends'),
  exportedCollections: count,
  totalCollections: count,
  components: z
    .array(exportComponentSchema)
    .describe('Sharded clusters: one entry per shard and config server replica set'),
  stateReason: stateReasonSchema,
  createdAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  prefix: z.string().nullable(),
});
export type ExportJobStatus = z.infer<typeof exportJobStatusSchema>;

/** Payload of the `exportCompleted` signal and the workflow's result (also in its failure's details). */
export const exportCompletionSchema = z
  .object({
    workflowId: z.string(),
    groupId: z.string(),
    clusterName: z.string(),
    snapshotId: z.string(),
    exportBucketId: z.string(),
    exportJobId: z
      .string()
      .nullable()
      .describe('The Atlas export job; null only when no job exists (CreateFailed, InvalidInput)'),
    state: z
      .string()
      .describe(
        'Branch on this. The Atlas terminal state (Successful, Failed, Cancelled); the last seen Atlas state when ' +
          'the deadline passed (terminal false); CreateFailed when Atlas refused the job; InvalidInput when the ' +
          'input was refused before any Atlas call; Detached when the workflow was cancelled while the job ran'
      ),
    exportedCollections: count,
    totalCollections: count,
    components: z.array(exportComponentSchema),
    stateReason: stateReasonSchema,
    prefix: z.string().nullable().describe('Where Atlas writes in the bucket, once known'),
    startedAt: isoTime.describe('When the workflow started'),
    finishedAt: isoTime.describe('When the job reached its terminal state per Atlas, else when the workflow stopped'),
    terminal: z
      .boolean()
      .describe('True when the state came from Atlas as terminal; false when the workflow stopped waiting'),
    attached: z
      .boolean()
      .describe(
        'True when the job was not created for this workflow: an export of the same snapshot to the same bucket ' +
          'by another caller, followed (active) or reported (already Successful) instead of exporting again'
      ),
    detachedFrom: z
      .string()
      .nullable()
      .describe(
        'With state Detached: the Atlas state last seen. Atlas cannot cancel an export, so it may still be running. ' +
          'Null otherwise'
      ),
  })
  .meta({ title: 'ExportCompletion', description: 'The exportCompleted signal and the exportSnapshot result' });
export type ExportCompletion = z.infer<typeof exportCompletionSchema>;

export const cadenceReportSchema = z.object({
  mode: z.enum(['adaptive', 'fixed', 'exponential']),
  phase: z.enum(['queued', 'far', 'near', 'overdue', 'steady', 'done']),
  decidedAt: isoTime,
  nextPollAt: isoTime.nullable().describe('When the next status read is due; null once the job is terminal'),
  reason: z.string(),
  estimatedFinish: z.object({ earliest: isoTime, latest: isoTime.nullable() }).nullable(),
});

/** What the `progress` query returns. */
export const exportProgressSchema = z
  .object({
    phase: z.enum(['validating', 'creating', 'polling', 'notifying', 'done']),
    exportJobId: z.string().nullable(),
    state: z.string().nullable(),
    exportedCollections: count,
    totalCollections: count,
    components: z.array(exportComponentSchema),
    attached: z.boolean().describe('As in ExportCompletion: the job was created by another caller'),
    polls: z.number().int().describe('Status reads made so far (all runs, across continue-as-new)'),
    startedAt: isoTime,
    lastUpdateAt: isoTime.nullable().describe('When the workflow last learned something new from Atlas'),
    deadlineAt: isoTime.nullable().describe('When the workflow stops waiting; null while the input is not valid'),
    finishedAt: isoTime.nullable(),
    continuedAsNew: z.number().int(),
    notify: z
      .object({ workflowId: z.string(), delivered: z.boolean().nullable(), error: z.string().nullable() })
      .nullable(),
    cadence: cadenceReportSchema
      .nullable()
      .describe("The poll cadence's latest decision the workflow has heard of; null before the first read"),
    stalledSince: isoTime.nullable().describe('Set while the stall alarm (polling.stallAfter) is raised'),
  })
  .meta({ title: 'ExportProgress', description: 'The progress query of exportSnapshot' });
export type ExportProgress = z.infer<typeof exportProgressSchema>;

// The cadence module owns the report's TypeScript shape; the schema must describe exactly that shape.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const cadenceShapeMatches: Same<z.infer<typeof cadenceReportSchema>, CadenceReport> = true;
void cadenceShapeMatches;
// Reports name their export by the four ids every other part of the project uses for it.
const completionIdsMatch: Same<Pick<ExportCompletion, keyof ExportIds>, ExportIds> = true;
void completionIdsMatch;
