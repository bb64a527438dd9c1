export { exportSnapshot, type ExportResumeState } from './export-snapshot';
export { exportCompletedSignal, progressQuery } from './messages';
