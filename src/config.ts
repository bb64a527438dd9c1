import { z } from 'zod';
import { DEFAULT_ATLAS_BASE_URL, type AtlasCredentials } from './atlas';
import { describeIssues, DEFAULT_TASK_QUEUE } from './shared/export-contract';
import { durationSchema } from './shared/durations';

/**
 * Configuration from the environment, parsed once at the top of an entry point (`worker.ts`,
 * `starter.ts`) and passed down. Secrets are read here and nowhere else; `ConfigError` messages name
 * variables, never their values.
 */

const optionalString = z
  .string()
  .transform((s) => s.trim())
  .optional()
  .transform((s) => (s ? s : undefined));

/** An env variable read through `schema`, where unset and blank mean the same: absent. */
const optionalEnv = <S extends z.ZodType>(schema: S) =>
  z.preprocess((v) => (typeof v === 'string' ? (v.trim() === '' ? undefined : v.trim()) : v), schema.optional());
const intEnv = (min: number) => optionalEnv(z.coerce.number().int().min(min));

const boolString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

const temporalEnvSchema = z.object({
  TEMPORAL_ADDRESS: optionalString
    .default('localhost:7233')
    .pipe(
      z.string().regex(/^[^\s:/]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/, 'must be host:port, e.g. localhost:7233')
    ),
  TEMPORAL_NAMESPACE: optionalString.default('default').pipe(z.string().min(1)),
  TEMPORAL_TASK_QUEUE: optionalString.default(DEFAULT_TASK_QUEUE).pipe(z.string().min(1)),
  TEMPORAL_API_KEY: optionalString,
  TEMPORAL_TLS: boolString,
  TEMPORAL_TLS_CLIENT_CERT_PATH: optionalString,
  TEMPORAL_TLS_CLIENT_KEY_PATH: optionalString,
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: optionalString,
  TEMPORAL_TLS_SERVER_NAME: optionalString,
});

const atlasEnvSchema = z.object({
  ATLAS_BASE_URL: optionalString
    .default(DEFAULT_ATLAS_BASE_URL)
    .pipe(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. https://cloud.mongodb.com' }))
    .refine((u) => {
      const url = new URL(u);
      return (
        !url.username && !url.password && !url.search && !url.hash && (url.pathname === '/' || url.pathname === '')
      );
    }, 'must be an origin only (scheme, host, port): no credentials, path, query or fragment'),
  ATLAS_CLIENT_ID: optionalString,
  ATLAS_CLIENT_SECRET: optionalString,
  ATLAS_PUBLIC_KEY: optionalString,
  ATLAS_PRIVATE_KEY: optionalString,
  ATLAS_REQUEST_TIMEOUT: optionalEnv(durationSchema),
  /** Plain http to a host other than loopback, e.g. the simulator in docker-compose. Never for real Atlas. */
  ATLAS_ALLOW_INSECURE_HTTP: boolString,
});

const workerEnvSchema = z.object({
  WORKER_MAX_CACHED_WORKFLOWS: intEnv(0),
  WORKER_MAX_CONCURRENT_ACTIVITIES: intEnv(1),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: intEnv(2),
  /** `host:port` for Prometheus `/metrics`, or `off`. */
  WORKER_METRICS_ADDRESS: optionalString
    .default('127.0.0.1:9464')
    .pipe(
      z
        .string()
        .regex(/^off$|^[^\s:/]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/, 'must be host:port (e.g. 0.0.0.0:9464) or off')
    ),
  /** Add missing search attributes at start (dev server, self-hosted); false only checks they exist. */
  WORKER_REGISTER_SEARCH_ATTRIBUTES: optionalEnv(z.enum(['true', 'false', '1', '0', 'yes', 'no'])),
  WORKER_LOG_LEVEL: optionalEnv(z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'])),
  WORKER_LOG_FORMAT: optionalEnv(z.enum(['json', 'text'])),
});

export interface TemporalConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  /** Temporal Cloud API key; implies TLS. */
  apiKey: string | undefined;
  tls:
    | false
    | {
        clientCertPath?: string | undefined;
        clientKeyPath?: string | undefined;
        serverCaCertPath?: string | undefined;
        serverName?: string | undefined;
      };
}

export interface AtlasConfig {
  baseUrl: string;
  credentials: AtlasCredentials;
  requestTimeoutMs: number;
}

export interface ObservabilityConfig {
  /** Prometheus bind address; undefined when off. */
  metricsAddress: string | undefined;
  logLevel: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  logFormat: 'json' | 'text';
  registerSearchAttributes: boolean;
}

export interface WorkerConfig {
  temporal: TemporalConfig;
  atlas: AtlasConfig;
  observability: ObservabilityConfig;
  maxCachedWorkflows: number;
  maxConcurrentActivityTaskExecutions: number;
  maxConcurrentWorkflowTaskExecutions: number;
}

/** A configuration problem a person must fix; the message names the variables and never their values. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function parse<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.output<S> {
  const result = schema.safeParse(env);
  if (!result.success) throw new ConfigError(`Invalid configuration: ${describeIssues(result.error.issues, 'env')}`);
  return result.data;
}

export function parseTemporalConfig(env: NodeJS.ProcessEnv): TemporalConfig {
  const e = parse(temporalEnvSchema, env);
  if (Boolean(e.TEMPORAL_TLS_CLIENT_CERT_PATH) !== Boolean(e.TEMPORAL_TLS_CLIENT_KEY_PATH)) {
    throw new ConfigError(
      'Invalid configuration: env.TEMPORAL_TLS_CLIENT_CERT_PATH and env.TEMPORAL_TLS_CLIENT_KEY_PATH must be set together'
    );
  }
  const tlsWanted =
    e.TEMPORAL_TLS || !!e.TEMPORAL_API_KEY || !!e.TEMPORAL_TLS_CLIENT_CERT_PATH || !!e.TEMPORAL_TLS_SERVER_CA_CERT_PATH;
  return Object.freeze({
    address: e.TEMPORAL_ADDRESS,
    namespace: e.TEMPORAL_NAMESPACE,
    taskQueue: e.TEMPORAL_TASK_QUEUE,
    apiKey: e.TEMPORAL_API_KEY,
    tls: tlsWanted
      ? {
          clientCertPath: e.TEMPORAL_TLS_CLIENT_CERT_PATH,
          clientKeyPath: e.TEMPORAL_TLS_CLIENT_KEY_PATH,
          serverCaCertPath: e.TEMPORAL_TLS_SERVER_CA_CERT_PATH,
          serverName: e.TEMPORAL_TLS_SERVER_NAME,
        }
      : false,
  });
}

/** True when the environment names Atlas credentials (either kind), complete or not. */
export function hasAtlasCredentials(env: NodeJS.ProcessEnv): boolean {
  return ['ATLAS_CLIENT_ID', 'ATLAS_CLIENT_SECRET', 'ATLAS_PUBLIC_KEY', 'ATLAS_PRIVATE_KEY'].some(
    (k) => !!env[k]?.trim()
  );
}

export function parseAtlasConfig(env: NodeJS.ProcessEnv): AtlasConfig {
  const e = parse(atlasEnvSchema, env);
  const url = new URL(e.ATLAS_BASE_URL);
  if (url.protocol !== 'https:' && !LOOPBACK_HOSTS.has(url.hostname) && !e.ATLAS_ALLOW_INSECURE_HTTP) {
    throw new ConfigError(
      'Invalid configuration: env.ATLAS_BASE_URL: must use https, since credentials travel with every request (plain http is allowed for loopback, or with ATLAS_ALLOW_INSECURE_HTTP=true for a simulator on another host)'
    );
  }
  const serviceAccount = !!e.ATLAS_CLIENT_ID || !!e.ATLAS_CLIENT_SECRET;
  const apiKey = !!e.ATLAS_PUBLIC_KEY || !!e.ATLAS_PRIVATE_KEY;
  if (serviceAccount && apiKey) {
    throw new ConfigError(
      'Invalid configuration: set either ATLAS_CLIENT_ID/ATLAS_CLIENT_SECRET (service account) or ATLAS_PUBLIC_KEY/ATLAS_PRIVATE_KEY (API key), not both'
    );
  }
  let credentials: AtlasCredentials;
  if (serviceAccount) {
    if (!e.ATLAS_CLIENT_ID || !e.ATLAS_CLIENT_SECRET) {
      throw new ConfigError(
        `Invalid configuration: env.${e.ATLAS_CLIENT_ID ? 'ATLAS_CLIENT_SECRET' : 'ATLAS_CLIENT_ID'} is missing; a service account needs both ATLAS_CLIENT_ID and ATLAS_CLIENT_SECRET`
      );
    }
    credentials = { mode: 'service-account', clientId: e.ATLAS_CLIENT_ID, clientSecret: e.ATLAS_CLIENT_SECRET };
  } else if (apiKey) {
    if (!e.ATLAS_PUBLIC_KEY || !e.ATLAS_PRIVATE_KEY) {
      throw new ConfigError(
        `Invalid configuration: env.${e.ATLAS_PUBLIC_KEY ? 'ATLAS_PRIVATE_KEY' : 'ATLAS_PUBLIC_KEY'} is missing; an API key needs both ATLAS_PUBLIC_KEY and ATLAS_PRIVATE_KEY`
      );
    }
    credentials = { mode: 'api-key', publicKey: e.ATLAS_PUBLIC_KEY, privateKey: e.ATLAS_PRIVATE_KEY };
  } else {
    throw new ConfigError(
      'Invalid configuration: no Atlas credentials; set ATLAS_CLIENT_ID and ATLAS_CLIENT_SECRET (service account, recommended) or ATLAS_PUBLIC_KEY and ATLAS_PRIVATE_KEY (API key)'
    );
  }
  return Object.freeze({
    baseUrl: e.ATLAS_BASE_URL.replace(/\/+$/, ''),
    credentials: Object.freeze(credentials),
    requestTimeoutMs: e.ATLAS_REQUEST_TIMEOUT ?? 30_000,
  });
}

export function parseWorkerConfig(env: NodeJS.ProcessEnv): WorkerConfig {
  const temporal = parseTemporalConfig(env);
  const atlas = parseAtlasConfig(env);
  const w = parse(workerEnvSchema, env);
  return Object.freeze({
    temporal,
    atlas,
    observability: Object.freeze({
      metricsAddress: w.WORKER_METRICS_ADDRESS === 'off' ? undefined : w.WORKER_METRICS_ADDRESS,
      logLevel: w.WORKER_LOG_LEVEL ?? 'INFO',
      logFormat: w.WORKER_LOG_FORMAT ?? 'json',
      registerSearchAttributes: !['false', '0', 'no'].includes(w.WORKER_REGISTER_SEARCH_ATTRIBUTES ?? 'true'),
    }),
    // About 1 MB each; explicit, as the SDK's heap-derived default can exhaust a small container.
    maxCachedWorkflows: w.WORKER_MAX_CACHED_WORKFLOWS ?? 500,
    maxConcurrentActivityTaskExecutions: w.WORKER_MAX_CONCURRENT_ACTIVITIES ?? 100,
    maxConcurrentWorkflowTaskExecutions: w.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS ?? 40,
  });
}

/** A loggable view of the configuration: which settings are in force, with every secret replaced. */
export function redactedWorkerConfig(config: WorkerConfig): Record<string, unknown> {
  return {
    temporal: {
      address: config.temporal.address,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      apiKey: config.temporal.apiKey ? '[set]' : '[unset]',
      tls: config.temporal.tls === false ? false : true,
    },
    atlas: {
      baseUrl: config.atlas.baseUrl,
      auth: config.atlas.credentials.mode,
      requestTimeoutMs: config.atlas.requestTimeoutMs,
    },
    observability: config.observability,
    maxCachedWorkflows: config.maxCachedWorkflows,
    maxConcurrentActivityTaskExecutions: config.maxConcurrentActivityTaskExecutions,
    maxConcurrentWorkflowTaskExecutions: config.maxConcurrentWorkflowTaskExecutions,
  };
}

/** Every secret value in the configuration, for the log redactor's safety net. */
export function configSecrets(config: WorkerConfig): string[] {
  const c = config.atlas.credentials;
  const atlas = c.mode === 'api-key' ? [c.privateKey] : [c.clientSecret];
  return [...atlas, ...(config.temporal.apiKey ? [config.temporal.apiKey] : [])];
}
