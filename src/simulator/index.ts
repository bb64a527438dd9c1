export { AtlasSimulator, DEV_CREDENTIALS } from './server';
export { DIGEST_REALM } from './auth';
export { INVENTED_ERROR_CODES, type ApiErrorBody, type FieldViolation } from './errors';
export { DEFAULT_EXPORT_PLAN } from './export-jobs';
export { DEFAULT_SNAPSHOT_PLAN } from './state';
export { SUNSET_VERSIONS, versionedMediaType } from './media-type';
export { exportPlanSchema, faultSchema, type SimulatorControl } from './control';
export type {
  AuthKind,
  ClusterOptions,
  DefaultFixtures,
  ExportJobState,
  ExportPlan,
  Fault,
  FaultKind,
  LoggedOperation,
  OperationName,
  PlanMatch,
  RequestLogEntry,
  SimExportComponent,
  SimExportJob,
  SimStats,
  SimulatorCredentials,
  SimulatorOptions,
  SnapshotOptions,
  SnapshotPlan,
  SnapshotStatus,
  SnapshotType,
} from './types';
