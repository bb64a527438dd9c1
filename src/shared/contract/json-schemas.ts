import { z } from 'zod';
import { exportSnapshotInputSchema } from './export-contract';
import { EXPORT_REPORTS_VERSION, exportCompletionSchema, exportProgressSchema } from './export-reports';
import { scheduledExportInputSchema, scheduledExportSummarySchema } from './scheduled-export-contract';

/**
 * The JSON Schemas (draft 2020-12) of the workflow contract, for callers in other languages, generated from the
 * zod schemas that validate it (the one source): `npm run schemas` writes them to `schemas/`, and a test fails
 * when the committed files differ. Inputs are closed (unknown fields are refused, as the workflows do); results,
 * signals and queries are open (new fields may appear; readers ignore them).
 */
export const CONTRACT_SCHEMAS = {
  'export-snapshot-input': {
    schema: exportSnapshotInputSchema,
    title: 'ExportSnapshotInput',
    description: 'Input of the exportSnapshot workflow. Optional fields may be absent or null.',
  },
  'export-completion': { schema: exportCompletionSchema },
  'export-progress': { schema: exportProgressSchema },
  'scheduled-export-input': {
    schema: scheduledExportInputSchema,
    title: 'ScheduledExportInput',
    description: 'Input of the scheduledExport workflow. Optional fields may be absent or null.',
  },
  'scheduled-export-summary': { schema: scheduledExportSummarySchema },
} as const satisfies Record<string, { schema: z.ZodType; title?: string; description?: string }>;

export type ContractSchemaName = keyof typeof CONTRACT_SCHEMAS;

/** One contract schema as published: versioned `$id`, the accepted (input-side) form of every field. */
export function contractJsonSchema(name: ContractSchemaName): Record<string, unknown> {
  const entry: { schema: z.ZodType; title?: string; description?: string } = CONTRACT_SCHEMAS[name];
  // Input side: what a caller may send (durations as strings or ms) and, for open objects, no closed property set.
  const generated = z.toJSONSchema(entry.schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: `urn:atlas-export-orchestrator:schema:${name}:v${EXPORT_REPORTS_VERSION}`,
    ...(entry.title ? { title: entry.title } : {}),
    ...(entry.description ? { description: entry.description } : {}),
    ...rest,
  };
}
