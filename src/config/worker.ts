import { parseAtlasConfig, type AtlasConfig } from './atlas';
import { parseTemporalConfig, type TemporalConfig } from './temporal';
import { parseWorkerSettings, workerSettingsView, type WorkerSettings } from './worker-settings';

/** Everything the worker reads: the Temporal connection, Atlas, and its own settings (`WORKER_*`). */
export type WorkerConfig = WorkerSettings & {
  temporal: TemporalConfig;
  atlas: AtlasConfig;
};

export function parseWorkerConfig(env: NodeJS.ProcessEnv): WorkerConfig {
  const temporal = parseTemporalConfig(env);
  const atlas = parseAtlasConfig(env);
  return Object.freeze({ temporal, atlas, ...parseWorkerSettings(env) });
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
  const c = config.atlas.credentials;
  const t = config.temporal;
  const key = t.tls === false ? undefined : t.tls.clientCertPair?.key;
  return [
    c.mode === 'api-key' ? c.privateKey : c.clientSecret,
    ...(t.apiKey ? [t.apiKey] : []),
    ...Object.entries(t.grpcMeta ?? {})
      .filter(([name]) => SECRET_HEADER.test(name))
      .map(([, value]) => value),
    ...(key ? [Buffer.from(key).toString('utf8').trim()] : []),
    ...(t.payloadEncryption?.redactionForms() ?? []),
  ];
}
