import { isIP } from 'node:net';
import { statSync } from 'node:fs';
import { z } from 'zod';
import { allowedTargetsSchema } from '../shared/atlas/allowed-targets';
import { DEFAULT_ATLAS_PROJECT_ACTIVITIES_PER_SECOND, type AtlasRateLimitSetting } from '../shared/atlas/rate-limit';
import { DEFAULT_ATLAS_MAX_RESPONSE_BYTES } from '../atlas/body';
import { durationSchema } from '../shared/contract/durations';
import { optionalEnv, parseEnv } from './env';
import { ConfigError } from './errors';

/**
 * The worker's own settings (`WORKER_*`), one row each. The row is the only place a setting is declared: the
 * parser (`parseWorkerSettings`), the redacted start-up view (`workerSettingsView`) and the table in
 * docs/configuration.md (`npm run docs:config`, checked by a test) are all made from it.
 */
interface WorkerSetting<S extends z.ZodType> {
  variable: `WORKER_${string}`;
  /** Applied to the trimmed value; blank and unset mean the same: the default. */
  schema: S;
  /** A value, or derived from the settings above it; none (`optional`): the setting may be absent. */
  default?: z.output<S> | Derived<z.output<S>>;
  /** The default as the docs show it, when `String(default)` would not say it (a duration, a derived value). */
  docDefault?: string;
  description: string;
  /** Shown as `[set]`/`[unset]` in the start-up view; none is secret today. */
  secret?: boolean;
  /** How the start-up view shows the value, when not as parsed. */
  view?: (value: z.output<S> | undefined) => unknown;
}

type Derived<T> = (earlier: Readonly<Record<string, unknown>>) => T;

/** A setting with a default. */
function setting<S extends z.ZodType>(s: WorkerSetting<S> & { default: unknown }): WorkerSetting<S> {
  return s;
}

/** A setting that may be absent: its value is `undefined` when the variable is unset. */
function optionalSetting<S extends z.ZodType>(
  s: Omit<WorkerSetting<S>, 'default'>
): WorkerSetting<S> & { optional: true } {
  return { ...s, optional: true };
}

const int = (min: number, max?: number) =>
  max === undefined ? z.coerce.number().int().min(min) : z.coerce.number().int().min(min).max(max);

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

/** Default of `WORKER_STARTUP_RETRY_TIMEOUT`. */
export const DEFAULT_STARTUP_RETRY_TIMEOUT_MS = 120_000;

export const WORKER_SETTINGS = {
  maxCachedWorkflows: setting({
    variable: 'WORKER_MAX_CACHED_WORKFLOWS',
    schema: int(0),
    // Explicit, as the SDK's heap-derived default can exhaust a small container.
    default: 500,
    description: 'Sticky cache size (about 1 MB each)',
  }),
  maxConcurrentActivityTaskExecutions: setting({
    variable: 'WORKER_MAX_CONCURRENT_ACTIVITIES',
    schema: int(1),
    default: 100,
    description: 'Activity slots',
  }),
  maxConcurrentWorkflowTaskExecutions: setting({
    variable: 'WORKER_MAX_CONCURRENT_WORKFLOW_TASKS',
    schema: int(2),
    default: 40,
    description: 'Workflow task slots',
  }),
  maxConcurrentWorkflowTaskPolls: setting({
    variable: 'WORKER_MAX_CONCURRENT_WORKFLOW_TASK_POLLS',
    schema: int(2),
    default: (s) => Math.min(10, s.maxConcurrentWorkflowTaskExecutions as number),
    docDefault: '10',
    description: 'Concurrent workflow task polls (≤ workflow task slots)',
  }),
  maxConcurrentActivityTaskPolls: setting({
    variable: 'WORKER_MAX_CONCURRENT_ACTIVITY_TASK_POLLS',
    schema: int(1),
    default: (s) => Math.min(10, s.maxConcurrentActivityTaskExecutions as number),
    docDefault: '10',
    description: 'Concurrent activity task polls (≤ activity slots)',
  }),
  stickyQueueScheduleToStartTimeoutMs: setting({
    variable: 'WORKER_STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT',
    schema: durationSchema.pipe(z.number().min(1_000, 'must be at least 1s').max(600_000, 'must be at most 10m')),
    default: 10_000,
    docDefault: '10s',
    description: "Wait on this worker's sticky queue before any worker may take the task",
  }),
  workflowThreadPoolSize: setting({
    variable: 'WORKER_WORKFLOW_THREAD_POOL_SIZE',
    schema: int(1, 16),
    default: 1,
    description: 'Threads running workflow code',
  }),
  workflowBundlePath: optionalSetting({
    variable: 'WORKER_WORKFLOW_BUNDLE',
    schema: z
      .string()
      .refine(
        isFile,
        'must be the path of a workflow bundle file (npm run build:workflow-bundle writes dist/workflow-bundle.js)'
      ),
    docDefault: 'bundled at start',
    description: 'Prebuilt workflow bundle from the same source (the image sets it)',
    view: (path) => path ?? 'bundled at start',
  }),
  metricsAddress: setting({
    variable: 'WORKER_METRICS_ADDRESS',
    schema: z
      .string()
      .refine(isMetricsAddress, 'must be an IP address and port (e.g. 0.0.0.0:9464 or [::1]:9464) or off')
      .transform((v) => (v === 'off' ? undefined : v)),
    default: '127.0.0.1:9464',
    description: 'Prometheus `/metrics` bind address, or `off`',
    view: (address) => address ?? 'off',
  }),
  healthAddress: optionalSetting({
    variable: 'WORKER_HEALTH_ADDRESS',
    schema: z
      .string()
      .refine(isMetricsAddress, 'must be an IP address and port (e.g. 0.0.0.0:9465 or [::1]:9465) or off')
      .transform((v) => (v === 'off' ? undefined : v)),
    description:
      'Probe endpoints bind address, or `off` (unset: off): `/readyz` is 200 only while the server sees this worker poll its task queue, `/livez` while the process answers (draining too)',
    view: (address) => address ?? 'off',
  }),
  inFlightMetricsIntervalMs: setting({
    variable: 'WORKER_IN_FLIGHT_METRICS_INTERVAL',
    schema: z.union([
      z.literal('off').transform(() => undefined),
      durationSchema.pipe(z.number().min(5_000, 'must be at least 5s').max(3_600_000, 'must be at most 1h')),
    ]),
    default: 60_000,
    docDefault: '60s',
    description:
      'How often the worker counts its running exports by state in visibility (five count calls) for `atlas_exports_in_flight` and `atlas_exports_stalled_in_flight`, or `off`',
    view: (ms) => (ms === undefined ? 'off' : `${ms} ms`),
  }),
  searchAttributes: setting({
    variable: 'WORKER_REGISTER_SEARCH_ATTRIBUTES',
    schema: z
      .enum(['true', 'false', '1', '0', 'yes', 'no', 'skip'])
      .transform((v) => (v === 'skip' ? 'skip' : ['false', '0', 'no'].includes(v) ? 'check' : 'register')),
    default: 'register',
    docDefault: 'true',
    description:
      'Add missing search attributes; `false` only checks (exit 78); `skip` neither (a Temporal Cloud API key that may not list them)',
  }),
  atlasProjectRateLimit: setting({
    variable: 'WORKER_ATLAS_PROJECT_RATE_LIMIT',
    schema: z
      .string()
      .refine(
        (v) => v === 'off' || v === 'skip' || (/^\d+(\.\d+)?$/.test(v) && Number(v) > 0 && Number(v) <= 10_000),
        'must be activities per second (a number above 0, at most 10000, e.g. 4), off or skip'
      )
      .transform((v): AtlasRateLimitSetting => (v === 'off' || v === 'skip' ? v : Number(v))),
    default: DEFAULT_ATLAS_PROJECT_ACTIVITIES_PER_SECOND,
    description: 'Atlas activity attempts/s per project, fleet-wide; `off`; `skip` leaves the task queue alone',
  }),
  atlasMaxResponseBytes: setting({
    variable: 'WORKER_ATLAS_MAX_RESPONSE_BYTES',
    schema: int(65_536, 268_435_456),
    default: DEFAULT_ATLAS_MAX_RESPONSE_BYTES,
    docDefault: '8388608 (8 MiB)',
    description:
      'Largest Atlas response body read (token endpoint included), 64 KiB to 256 MiB; a larger one fails `AtlasResponseTooLarge`',
  }),
  allowedTargets: optionalSetting({
    variable: 'WORKER_ALLOWED_TARGETS',
    schema: allowedTargetsSchema,
    docDefault: 'any: warned at start',
    description:
      'JSON `{"<groupId>":{"buckets":[…],"clusters":[…]}}`: the only projects, export buckets and clusters the activities send to Atlas; `"*"` allows any, only where written (docs/security.md)',
    view: (targets) => targets ?? 'unset: any project, bucket and cluster the Atlas identity reaches',
  }),
  maxOnDemandRetentionDays: setting({
    variable: 'WORKER_MAX_ON_DEMAND_RETENTION_DAYS',
    schema: int(1, 365),
    default: 7,
    description: 'Longest retention (days, 1–365) of an on-demand snapshot the worker takes; longer requests fail',
  }),
  simulatorMode: setting({
    variable: 'WORKER_SIMULATOR_MODE',
    schema: z.enum(['auto', 'true', 'false']),
    default: 'auto',
    description:
      'Atlas is a simulator: accept `polling.timeScale` ≠ 1 and intervals under 10s; `auto`: when ATLAS_BASE_URL is loopback',
  }),
  startupRetryTimeoutMs: setting({
    variable: 'WORKER_STARTUP_RETRY_TIMEOUT',
    schema: durationSchema.pipe(z.number().min(1_000, 'must be at least 1s').max(3_600_000, 'must be at most 1h')),
    default: DEFAULT_STARTUP_RETRY_TIMEOUT_MS,
    docDefault: '2m',
    description: 'How long start-up retries a Temporal server that is down or busy before exiting 69',
  }),
  logLevel: setting({
    variable: 'WORKER_LOG_LEVEL',
    schema: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']),
    default: 'INFO',
    description: 'Log threshold: `TRACE`, `DEBUG`, `INFO`, `WARN` or `ERROR`',
  }),
  logFormat: setting({
    variable: 'WORKER_LOG_FORMAT',
    schema: z.enum(['json', 'text']),
    default: 'json',
    description: '`json` (one object per line) or `text`',
  }),
};

type Table = typeof WORKER_SETTINGS;
type ValueOf<X> =
  X extends WorkerSetting<infer S> ? z.output<S> | (X extends { optional: true } ? undefined : never) : never;
export type WorkerSettings = { readonly [K in keyof Table]: ValueOf<Table[K]> };

/** Pollers may not outnumber slots (the SDK refuses it at `Worker.create`): said here, naming the variables. */
const AT_MOST: [keyof Table, keyof Table][] = [
  ['maxConcurrentWorkflowTaskPolls', 'maxConcurrentWorkflowTaskExecutions'],
  ['maxConcurrentActivityTaskPolls', 'maxConcurrentActivityTaskExecutions'],
];

type AnySetting = WorkerSetting<z.ZodType>;
const rows = () => Object.entries(WORKER_SETTINGS) as [keyof Table, AnySetting][];

const workerEnvSchema = z.object(Object.fromEntries(rows().map(([, s]) => [s.variable, optionalEnv(s.schema)])));

export function parseWorkerSettings(env: NodeJS.ProcessEnv): WorkerSettings {
  const given = parseEnv(workerEnvSchema, env) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, s] of rows()) {
    // Set (not blank) wins even when it parses to undefined (`WORKER_METRICS_ADDRESS=off`).
    if (env[s.variable]?.trim()) out[key] = given[s.variable];
    else out[key] = typeof s.default === 'function' ? (s.default as Derived<unknown>)(out) : s.default;
  }
  for (const [polls, slots] of AT_MOST) {
    if ((out[polls] as number) > (out[slots] as number)) {
      throw new ConfigError(
        `Invalid configuration: env.${WORKER_SETTINGS[polls].variable} must not exceed ${WORKER_SETTINGS[slots].variable}`
      );
    }
  }
  return Object.freeze(out) as WorkerSettings;
}

/** The settings in force, as the start-up log shows them: secrets replaced. */
export function workerSettingsView(settings: WorkerSettings): Record<string, unknown> {
  return Object.fromEntries(
    rows().map(([key, s]) => {
      const value = settings[key];
      if (s.secret) return [key, value === undefined ? '[unset]' : '[set]'];
      return [key, s.view ? s.view(value) : value];
    })
  );
}

/** A setting's default as the docs show it. */
function shownDefault(s: AnySetting): string {
  const d: unknown = s.default;
  if (d === undefined) return `—${s.docDefault ? ` (${s.docDefault})` : ''}`;
  if (s.docDefault !== undefined) return `\`${s.docDefault}\``;
  if (typeof d === 'string' || typeof d === 'number') return `\`${d}\``;
  throw new Error(`${s.variable}: say how the docs show its default (docDefault)`);
}

/** The markdown table of docs/configuration.md. */
export function workerSettingsMarkdown(): string {
  const cells = rows().map(([, s]) => [
    `\`${s.variable}\``,
    shownDefault(s),
    s.description + (s.secret ? ' (secret)' : ''),
  ]);
  const header = ['Variable', 'Default', 'Meaning'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...cells.map(line)].join('\n');
}
