import type { TargetPolicy } from '../activities/target-policy';
import { ATLAS_SECRET_VARIABLES, ATLAS_VARIABLES, atlasSecrets, parseAtlasConfig, type AtlasConfig } from './atlas';
import { PAYLOAD_ENCRYPTION_VARIABLES } from './payload-encryption';
import { parseTemporalConfig, TEMPORAL_VARIABLES, type TemporalConfig } from './temporal';
import { parseWorkerSettings, WORKER_SETTINGS, workerSettingsView, type WorkerSettings } from './worker-settings';
import { isLoopbackHost } from '../net/loopback';

/** Everything the worker reads: the Temporal connection, Atlas, and its own settings (`WORKER_*`). */
export type WorkerConfig = WorkerSettings & {
  temporal: TemporalConfig;
  atlas: AtlasConfig;
};

/** Every variable the worker reads (and `TEMPORAL_GRPC_META_*`), for the deployment's env file check. */
export const WORKER_CONFIG_VARIABLES: readonly string[] = [
  ...TEMPORAL_VARIABLES,
  ...ATLAS_VARIABLES,
  ...Object.values(WORKER_SETTINGS).map((s) => s.variable),
  ...PAYLOAD_ENCRYPTION_VARIABLES,
];

export function parseWorkerConfig(env: NodeJS.ProcessEnv): WorkerConfig {
  const temporal = parseTemporalConfig(env);
  const atlas = parseAtlasConfig(env);
  return Object.freeze({ temporal, atlas, ...parseWorkerSettings(env) });
}

/** What the activities allow the Atlas identity to be used for, from `WORKER_ALLOWED_TARGETS` and its siblings. */
export function workerPolicy(config: WorkerConfig): TargetPolicy {
  const simulator =
    config.simulatorMode === 'auto'
      ? // An Atlas on this machine is a simulator (or a tunnel, which `WORKER_SIMULATOR_MODE=false` says).
        isLoopbackHost(new URL(config.atlas.baseUrl).hostname)
      : config.simulatorMode === 'true';
  return {
    allowedTargets: config.allowedTargets,
    maxOnDemandRetentionDays: config.maxOnDemandRetentionDays,
    simulator,
  };
}

/** Header names whose values authenticate (`authorization`, `x-api-key`, …): redacted, never shown. */
const SECRET_HEADER = /auth|key|token|secret|password|cookie/i;

/** A loggable view of the configuration: which settings are in force, with every secret replaced. */
export function redactedWorkerConfig(config: WorkerConfig): Record<string, unknown> {
  const t = config.temporal;
  return {
    temporal: {
      address: t.address,
      namespace: t.namespace,
      taskQueue: t.taskQueue,
      apiKey: t.apiKey ? '[set]' : '[unset]',
      tls: t.tls !== false,
      transport: t.transport,
      grpcMeta: Object.keys(t.grpcMeta ?? {}),
      payloadEncryption: t.payloadEncryption?.toJSON() ?? 'off',
    },
    atlas: {
      baseUrl: config.atlas.baseUrl,
      auth: config.atlas.credentials.mode,
      requestTimeoutMs: config.atlas.requestTimeoutMs,
    },
    ...workerSettingsView(config),
  };
}

/** Every secret value in the configuration, for the log redactor's safety net. */
export function configSecrets(config: WorkerConfig): string[] {
  const t = config.temporal;
  const key = t.tls === false ? undefined : t.tls.clientCertPair?.key;
  return [
    ...atlasSecrets(config.atlas.credentials),
    ...(t.apiKey ? [t.apiKey] : []),
    ...Object.entries(t.grpcMeta ?? {})
      .filter(([name]) => SECRET_HEADER.test(name))
      .map(([, value]) => value),
    ...(key ? [Buffer.from(key).toString('utf8').trim()] : []),
    ...(t.payloadEncryption?.redactionForms() ?? []),
  ];
}

/**
 * Deletes every variable that held a secret from `env` (the worker's `process.env`, once parsed), so no later
 * code, library or child process can read them there. `/proc/<pid>/environ` still shows the environment the
 * process started with: only `*_FILE` variables keep secrets out of it.
 */
export function clearSecretVariables(env: NodeJS.ProcessEnv): void {
  const fixed = [
    ...ATLAS_SECRET_VARIABLES,
    'TEMPORAL_API_KEY',
    'TEMPORAL_TLS_CLIENT_KEY_DATA',
    'PAYLOAD_ENCRYPTION_KEYS',
  ];
  for (const name of Object.keys(env)) {
    const header =
      name.startsWith('TEMPORAL_GRPC_META_') && SECRET_HEADER.test(name.slice('TEMPORAL_GRPC_META_'.length));
    if (fixed.includes(name) || header) delete env[name];
  }
}
