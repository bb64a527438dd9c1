export { exportSnapshot, type ExportResumeState } from './export-snapshot';
export { scheduledExport, type ScheduledExportResumeState } from './scheduled-export';
export { atlasEventHintSignal, exportCompletedSignal, progressQuery, summaryQuery } from './messages';
