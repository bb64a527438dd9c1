import { z } from 'zod';

/** The event types of an export job's end; the only alerts that wake exports. */
export const EXPORT_END_EVENT_TYPES = ['CPS_EXPORT_SUCCESSFUL', 'CPS_EXPORT_FAILED'] as const;
export type ExportEndEventType = (typeof EXPORT_END_EVENT_TYPES)[number];

const hex24 = z.string().regex(/^[a-f0-9]{24}$/, 'must be 24 hexadecimal digits');
/** An ISO 8601 time as Atlas writes it (`2026-08-10T03:27:00Z`, with or without fraction or offset). */
const instant = z.iso.datetime({ offset: true, local: false });

/**
 * The fields of the Alerts resource (`AlertViewForNdsGroup`, e.g. `DefaultAlertViewForNdsGroup` in the official
 * spec) that a webhook delivery needs: which alert, of which project, for which event, in which state, and when.
 * Other fields (and new ones) are ignored; optional ones may be absent or null, as Atlas omits what it does not
 * know. The alert names the project and the event, never the export job.
 */
export const atlasAlertSchema = z.object({
  id: hex24,
  groupId: hex24,
  eventTypeName: z.string().min(1),
  /** `OPEN`, `CLOSED`, `TRACKING`, `CANCELLED` in the spec; kept open so a new state is not a refusal. */
  status: z.string().min(1),
  created: instant,
  updated: instant,
  alertConfigId: hex24.nullish(),
  clusterName: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9-]*$/)
    .nullish(),
});
export type AtlasAlert = z.infer<typeof atlasAlertSchema>;

export function isExportEndEvent(eventTypeName: string): eventTypeName is ExportEndEventType {
  return (EXPORT_END_EVENT_TYPES as readonly string[]).includes(eventTypeName);
}
