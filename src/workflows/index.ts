export { exportSnapshot, type ExportResumeState } from './export-snapshot';
export { scheduledExport, type ScheduledExportResumeState } from './scheduled-export';
export { exportCompletedSignal, progressQuery, summaryQuery } from './messages';
