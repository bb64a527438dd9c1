import { isIP } from 'node:net';
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { DEFAULT_ATLAS_BASE_URL, type AtlasCredentials } from './atlas';
import { AES_256_KEY_BYTES, KEY_ID_PATTERN, KeyRing } from './codec/key-ring';
import { DEFAULT_ATLAS_PROJECT_ACTIVITIES_PER_SECOND, type AtlasRateLimitSetting } from './shared/atlas-rate-limit';
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

/** The runtime's Prometheus exporter binds a socket address: an IP literal and a port, not a host name. */
function isMetricsAddress(value: string): boolean {
  if (value === 'off') return true;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(value);
  if (!m) return false;
  const port = Number(m[3]);
  return port >= 1 && port <= 65_535 && (m[1] !== undefined ? isIP(m[1]) === 6 : isIP(m[2]!) === 4);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

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
      // zod runs this check even when the URL check above failed; that failure already names the variable.
      if (!URL.canParse(u)) return true;
      const url = new URL(u);
      return (
        !url.username && !url.password && !url.search && !url.hash && (url.pathname === '/' || url.pathname === '')
      );
    }, 'must be an origin only (scheme, host, port): no credentials, path, query or fragment'),
  ATLAS_CLIENT_ID: optionalString,
  ATLAS_CLIENT_SECRET: optionalString,
  ATLAS_PUBLIC_KEY: optionalString,
  ATLAS_PRIVATE_KEY: optionalString,
  /** At most an hour: past 2^31 - 1 ms, Node's timers fire at once (every request would abort) or throw. */
  ATLAS_REQUEST_TIMEOUT: optionalEnv(durationSchema.pipe(z.number().max(3_600_000, 'must be at most 1h'))),
  /** Plain http to a host other than loopback, e.g. the simulator in docker-compose. Never for real Atlas. */
  ATLAS_ALLOW_INSECURE_HTTP: boolString,
});

const workerEnvSchema = z.object({
  WORKER_MAX_CACHED_WORKFLOWS: intEnv(0),
  WORKER_MAX_CONCURRENT_ACTIVITIES: intEnv(1),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: intEnv(2),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASK_POLLS: intEnv(2),
  WORKER_MAX_CONCURRENT_ACTIVITY_TASK_POLLS: intEnv(1),
  /** How long a workflow task may wait on this worker's sticky queue before any worker may take it. */
  WORKER_STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT: optionalEnv(
    durationSchema.pipe(z.number().min(1_000, 'must be at least 1s').max(600_000, 'must be at most 10m'))
  ),
  WORKER_WORKFLOW_THREAD_POOL_SIZE: optionalEnv(z.coerce.number().int().min(1).max(16)),
  /** A prebuilt workflow bundle (`npm run build:workflow-bundle`); unset: the workflows are bundled at start. */
  WORKER_WORKFLOW_BUNDLE: optionalString.refine(
    (p) => p === undefined || isFile(p),
    'must be the path of a workflow bundle file (npm run build:workflow-bundle writes dist/workflow-bundle.js)'
  ),
  /** `host:port` for Prometheus `/metrics`, or `off`. */
  WORKER_METRICS_ADDRESS: optionalString
    .default('127.0.0.1:9464')
    .pipe(
      z.string().refine(isMetricsAddress, 'must be an IP address and port (e.g. 0.0.0.0:9464 or [::1]:9464) or off')
    ),
  /**
   * `true`: add missing search attributes at start (dev server, self-hosted); `false`: only check they exist;
   * `skip`: do not even check (a Temporal Cloud API key that may not list them; add them with tcld first).
   */
  WORKER_REGISTER_SEARCH_ATTRIBUTES: optionalEnv(z.enum(['true', 'false', '1', '0', 'yes', 'no', 'skip'])),
  WORKER_LOG_LEVEL: optionalEnv(z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'])),
  WORKER_LOG_FORMAT: optionalEnv(z.enum(['json', 'text'])),
  /**
   * How long the start-up steps that talk to Temporal (connect, search attributes, task-queue configuration) keep
   * retrying a server that is down or answers with a transient error, in all; then the worker exits 69.
   */
  WORKER_STARTUP_RETRY_TIMEOUT: optionalEnv(
    durationSchema.pipe(z.number().min(1_000, 'must be at least 1s').max(3_600_000, 'must be at most 1h'))
  ),
  /**
   * Activity attempts per second per Atlas project, fleet-wide (the task queue's per-fairness-key rate limit);
   * `off` removes it, `skip` leaves the task queue's configuration alone.
   */
  WORKER_ATLAS_PROJECT_RATE_LIMIT: optionalEnv(
    z
      .string()
      .refine(
        (v) => v === 'off' || v === 'skip' || (/^\d+(\.\d+)?$/.test(v) && Number(v) > 0 && Number(v) <= 10_000),
        'must be activities per second (a number above 0, at most 10000, e.g. 4), off or skip'
      )
      .transform((v): AtlasRateLimitSetting => (v === 'off' || v === 'skip' ? v : Number(v)))
  ),
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
  /** Payload encryption keys (`PAYLOAD_ENCRYPTION_*`); undefined: payloads are not encrypted. */
  payloadEncryption: KeyRing | undefined;
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
  /** Add missing search attributes (`register`), only check them (`check`), or neither (`skip`). */
  searchAttributes: 'register' | 'check' | 'skip';
}

export interface WorkerConfig {
  temporal: TemporalConfig;
  atlas: AtlasConfig;
  observability: ObservabilityConfig;
  maxCachedWorkflows: number;
  maxConcurrentActivityTaskExecutions: number;
  maxConcurrentWorkflowTaskExecutions: number;
  maxConcurrentWorkflowTaskPolls: number;
  maxConcurrentActivityTaskPolls: number;
  stickyQueueScheduleToStartTimeoutMs: number;
  workflowThreadPoolSize: number;
  /** Path of a prebuilt workflow bundle; undefined: bundled at start. */
  workflowBundlePath: string | undefined;
  /** Per-project Atlas rate limit applied to the activity task queue at start. */
  atlasProjectRateLimit: AtlasRateLimitSetting;
  /** How long the start-up steps keep retrying transient Temporal errors, in all. */
  startupRetryTimeoutMs: number;
}

/** Default of `WORKER_STARTUP_RETRY_TIMEOUT`. */
export const DEFAULT_STARTUP_RETRY_TIMEOUT_MS = 120_000;

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
  const payloadEncryption = parsePayloadEncryption(env);
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
    payloadEncryption,
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
  const workflowTasks = w.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS ?? 40;
  const activities = w.WORKER_MAX_CONCURRENT_ACTIVITIES ?? 100;
  const workflowPolls = w.WORKER_MAX_CONCURRENT_WORKFLOW_TASK_POLLS ?? Math.min(10, workflowTasks);
  const activityPolls = w.WORKER_MAX_CONCURRENT_ACTIVITY_TASK_POLLS ?? Math.min(10, activities);
  // The SDK refuses more pollers than slots; say so here, naming the variables, rather than at Worker.create.
  if (workflowPolls > workflowTasks) {
    throw new ConfigError(
      'Invalid configuration: env.WORKER_MAX_CONCURRENT_WORKFLOW_TASK_POLLS must not exceed WORKER_MAX_CONCURRENT_WORKFLOW_TASKS'
    );
  }
  if (activityPolls > activities) {
    throw new ConfigError(
      'Invalid configuration: env.WORKER_MAX_CONCURRENT_ACTIVITY_TASK_POLLS must not exceed WORKER_MAX_CONCURRENT_ACTIVITIES'
    );
  }
  return Object.freeze({
    temporal,
    atlas,
    observability: Object.freeze({
      metricsAddress: w.WORKER_METRICS_ADDRESS === 'off' ? undefined : w.WORKER_METRICS_ADDRESS,
      logLevel: w.WORKER_LOG_LEVEL ?? 'INFO',
      logFormat: w.WORKER_LOG_FORMAT ?? 'json',
      searchAttributes:
        w.WORKER_REGISTER_SEARCH_ATTRIBUTES === 'skip'
          ? 'skip'
          : ['false', '0', 'no'].includes(w.WORKER_REGISTER_SEARCH_ATTRIBUTES ?? 'true')
            ? 'check'
            : 'register',
    }),
    // About 1 MB each; explicit, as the SDK's heap-derived default can exhaust a small container.
    maxCachedWorkflows: w.WORKER_MAX_CACHED_WORKFLOWS ?? 500,
    maxConcurrentActivityTaskExecutions: activities,
    maxConcurrentWorkflowTaskExecutions: workflowTasks,
    maxConcurrentWorkflowTaskPolls: workflowPolls,
    maxConcurrentActivityTaskPolls: activityPolls,
    stickyQueueScheduleToStartTimeoutMs: w.WORKER_STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT ?? 10_000,
    workflowThreadPoolSize: w.WORKER_WORKFLOW_THREAD_POOL_SIZE ?? 1,
    workflowBundlePath: w.WORKER_WORKFLOW_BUNDLE,
    atlasProjectRateLimit: w.WORKER_ATLAS_PROJECT_RATE_LIMIT ?? DEFAULT_ATLAS_PROJECT_ACTIVITIES_PER_SECOND,
    startupRetryTimeoutMs: w.WORKER_STARTUP_RETRY_TIMEOUT ?? DEFAULT_STARTUP_RETRY_TIMEOUT_MS,
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
      payloadEncryption: config.temporal.payloadEncryption?.toJSON() ?? 'off',
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
    maxConcurrentWorkflowTaskPolls: config.maxConcurrentWorkflowTaskPolls,
    maxConcurrentActivityTaskPolls: config.maxConcurrentActivityTaskPolls,
    stickyQueueScheduleToStartTimeoutMs: config.stickyQueueScheduleToStartTimeoutMs,
    workflowThreadPoolSize: config.workflowThreadPoolSize,
    workflowBundle: config.workflowBundlePath ?? 'bundled at start',
    atlasProjectRateLimit: config.atlasProjectRateLimit,
    startupRetryTimeoutMs: config.startupRetryTimeoutMs,
  };
}

/** Every secret value in the configuration, for the log redactor's safety net. */
export function configSecrets(config: WorkerConfig): string[] {
  const c = config.atlas.credentials;
  const atlas = c.mode === 'api-key' ? [c.privateKey] : [c.clientSecret];
  return [
    ...atlas,
    ...(config.temporal.apiKey ? [config.temporal.apiKey] : []),
    ...(config.temporal.payloadEncryption?.redactionForms() ?? []),
  ];
}

const KEYS_VAR = 'env.PAYLOAD_ENCRYPTION_KEYS';
const KEY_FILE_VAR = 'env.PAYLOAD_ENCRYPTION_KEY_FILE';
const KEY_ID_VAR = 'env.PAYLOAD_ENCRYPTION_KEY_ID';
const keyIdSchema = z.string().regex(KEY_ID_PATTERN, 'must be 1-64 characters of A-Z a-z 0-9 . _ -');

const payloadEncryptionEnvSchema = z.object({
  PAYLOAD_ENCRYPTION_KEYS: optionalString,
  PAYLOAD_ENCRYPTION_KEY_FILE: optionalString,
  PAYLOAD_ENCRYPTION_KEY_ID: optionalEnv(keyIdSchema),
});

/** A key as base64 (standard or URL-safe alphabet); issues say what is wrong with it, never what it is. */
const base64KeySchema = z
  .string()
  .regex(/^(?:[A-Za-z0-9+/]+={0,2}|[A-Za-z0-9_-]+)$/, 'must be base64')
  .transform((s, ctx) => {
    const bytes = Buffer.from(s, s.includes('-') || s.includes('_') ? 'base64url' : 'base64');
    if (bytes.length !== AES_256_KEY_BYTES) {
      ctx.addIssue({
        code: 'custom',
        message: `must decode to ${AES_256_KEY_BYTES} bytes (AES-256), not ${bytes.length}`,
      });
      return z.NEVER;
    }
    return bytes;
  });
const keyEntrySchema = z.strictObject({ id: keyIdSchema, key: base64KeySchema });
const keyFileJsonSchema = z.strictObject({
  currentKeyId: keyIdSchema.optional(),
  keys: z.array(z.unknown()).min(1, 'must list at least one key'),
});

/** Entries `id:base64key`; `where(i)` names entry i in messages (e.g. `env.PAYLOAD_ENCRYPTION_KEYS[0]`). */
function parseKeyEntries(entries: unknown[], where: (i: number) => string): [string, Buffer][] {
  const problems: string[] = [];
  const keys: [string, Buffer][] = [];
  entries.forEach((entry, i) => {
    const r = keyEntrySchema.safeParse(entry);
    if (r.success) keys.push([r.data.id, r.data.key]);
    else problems.push(describeIssues(r.error.issues, where(i)));
  });
  const ids = keys.map(([id]) => id);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate !== undefined) problems.push(`${where(ids.lastIndexOf(duplicate))}: key id "${duplicate}" is repeated`);
  if (problems.length) throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  return keys;
}

/** `id:base64key` split at the first colon, as the entry schema's input. */
function splitEntry(text: string): { id: string; key: string } | string {
  const colon = text.indexOf(':');
  return colon < 0 ? 'not id:base64key' : { id: text.slice(0, colon).trim(), key: text.slice(colon + 1).trim() };
}

function entriesOrThrow(entries: ({ id: string; key: string } | string)[], where: (i: number) => string) {
  const malformed = entries.findIndex((e) => typeof e === 'string');
  if (malformed >= 0) {
    throw new ConfigError(`Invalid configuration: ${where(malformed)}: must be id:base64key`);
  }
  return parseKeyEntries(entries, where);
}

/** The key file: JSON `{"currentKeyId"?, "keys": [{"id", "key"}]}`, or lines `id:base64key` (`#` comments). */
function readKeyFile(path: string): { keys: [string, Buffer][]; currentKeyId: string | undefined } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`Invalid configuration: ${KEY_FILE_VAR}: cannot read the file (${code})`);
  }
  if (text.trimStart().startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // The parser's message quotes the text around the error, which may be key material.
      throw new ConfigError(`Invalid configuration: ${KEY_FILE_VAR}: the file is not valid JSON`);
    }
    const r = keyFileJsonSchema.safeParse(json);
    if (!r.success) throw new ConfigError(`Invalid configuration: ${describeIssues(r.error.issues, KEY_FILE_VAR)}`);
    return {
      keys: parseKeyEntries(r.data.keys, (i) => `${KEY_FILE_VAR}.keys[${i}]`),
      currentKeyId: r.data.currentKeyId,
    };
  }
  const lines = text
    .split(/\r?\n/)
    .map((line, i) => ({ line: line.trim(), n: i + 1 }))
    .filter(({ line }) => line !== '' && !line.startsWith('#'));
  if (!lines.length) throw new ConfigError(`Invalid configuration: ${KEY_FILE_VAR}: the file lists no keys`);
  const keys = entriesOrThrow(
    lines.map(({ line }) => splitEntry(line)),
    (i) => `${KEY_FILE_VAR} line ${lines[i]!.n}`
  );
  return { keys, currentKeyId: undefined };
}

/**
 * Payload encryption keys from `PAYLOAD_ENCRYPTION_KEYS` (`id:base64key,…`) or `PAYLOAD_ENCRYPTION_KEY_FILE`,
 * and the current key id from `PAYLOAD_ENCRYPTION_KEY_ID` (else the file's `currentKeyId`, else the only
 * key). Undefined when no keys are configured: encryption is off.
 */
export function parsePayloadEncryption(env: NodeJS.ProcessEnv): KeyRing | undefined {
  const e = parse(payloadEncryptionEnvSchema, env);
  if (e.PAYLOAD_ENCRYPTION_KEYS && e.PAYLOAD_ENCRYPTION_KEY_FILE) {
    throw new ConfigError(
      'Invalid configuration: set either PAYLOAD_ENCRYPTION_KEYS or PAYLOAD_ENCRYPTION_KEY_FILE, not both'
    );
  }
  let keys: [string, Buffer][];
  let fileKeyId: string | undefined;
  if (e.PAYLOAD_ENCRYPTION_KEYS) {
    const entries = e.PAYLOAD_ENCRYPTION_KEYS.split(',').map((s) => s.trim());
    keys = entriesOrThrow(
      entries.map((s) => splitEntry(s)),
      (i) => `${KEYS_VAR}[${i}]`
    );
  } else if (e.PAYLOAD_ENCRYPTION_KEY_FILE) {
    ({ keys, currentKeyId: fileKeyId } = readKeyFile(e.PAYLOAD_ENCRYPTION_KEY_FILE));
  } else {
    if (e.PAYLOAD_ENCRYPTION_KEY_ID) {
      throw new ConfigError(
        `Invalid configuration: ${KEY_ID_VAR} is set but there are no keys; set PAYLOAD_ENCRYPTION_KEYS or PAYLOAD_ENCRYPTION_KEY_FILE`
      );
    }
    return undefined;
  }
  const ids = keys.map(([id]) => id);
  const source = e.PAYLOAD_ENCRYPTION_KEY_ID ? KEY_ID_VAR : fileKeyId ? `${KEY_FILE_VAR}.currentKeyId` : undefined;
  const currentKeyId = e.PAYLOAD_ENCRYPTION_KEY_ID ?? fileKeyId ?? (ids.length === 1 ? ids[0] : undefined);
  if (currentKeyId === undefined) {
    throw new ConfigError(
      `Invalid configuration: ${KEY_ID_VAR} is required when several keys are configured (key ids: ${ids.join(', ')})`
    );
  }
  if (!ids.includes(currentKeyId)) {
    throw new ConfigError(
      `Invalid configuration: ${source}: "${currentKeyId}" is not one of the configured key ids (${ids.join(', ')})`
    );
  }
  return new KeyRing(keys, currentKeyId);
}
