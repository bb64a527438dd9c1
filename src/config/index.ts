/**
 * Configuration from the environment, parsed once at the top of an entry point (`worker.ts`, `starter.ts`,
 * the codec server) and passed down, one module per concern. Secrets are read here and nowhere else;
 * `ConfigError` messages name variables, never their values. docs/configuration.md lists every variable.
 */
export { atlasSecrets, hasAtlasCredentials, parseAtlasConfig, type AtlasConfig } from './atlas';
export { ConfigError } from './errors';
export { parsePayloadEncryption } from './payload-encryption';
export { parseTemporalConfig, type TemporalConfig, type TemporalTransport } from './temporal';
export {
  clearSecretVariables,
  configSecrets,
  parseWorkerConfig,
  redactedWorkerConfig,
  WORKER_CONFIG_VARIABLES,
  workerPolicy,
  type WorkerConfig,
} from './worker';
export { DEFAULT_STARTUP_RETRY_TIMEOUT_MS, WORKER_SETTINGS, type WorkerSettings } from './worker-settings';
