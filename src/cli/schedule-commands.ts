/** Kept for `src/local-run.ts` until it imports `scheduledExportAction` from `src/client` (issue 14 merge). */
export { scheduledExportAction } from '../client/schedules';
