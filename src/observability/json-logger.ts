import { DefaultLogger, type LogEntry, type LogLevel } from '@temporalio/worker';

export type LogFormat = 'json' | 'text';

const REDACTED = '[REDACTED]';

/**
 * Replaces every occurrence of the given secret values in a log line. A safety net under the rule that
 * secrets are never passed to a logger at all: whatever slips through (an error message quoting a header,
 * a library logging its options) still leaves the process without them. Values shorter than 6 characters
 * are ignored: they would mangle ordinary text and are no real secret.
 */
export function secretRedactor(
  secrets: readonly (string | undefined)[] | ReadonlySet<string>
): (line: string) => string {
  // A set may grow (a secret rotated at run time, e.g. the Temporal API key): its values are taken again then.
  let size = -1;
  let values: string[] = [];
  return (line) => {
    const now = Array.isArray(secrets) ? secrets.length : (secrets as ReadonlySet<string>).size;
    if (now !== size) {
      size = now;
      const raw = [...secrets].filter((s): s is string => typeof s === 'string' && s.length >= 6);
      // Each secret as written, and as it appears inside a JSON string (quotes and backslashes escaped).
      values = [...new Set([...raw, ...raw.map((s) => JSON.stringify(s).slice(1, -1))])].sort(
        (a, b) => b.length - a.length
      );
    }
    return maskCredentialForms(values.reduce((out, secret) => out.split(secret).join(REDACTED), line));
  };
}

/**
 * Credentials known only at run time, by their form: the value of a `Bearer` or `Basic` authorization (the
 * OAuth access token, the token request's client id and secret), and an `access_token` field. Sixteen
 * characters at least, so that prose such as "Basic authentication" stays readable.
 */
const CREDENTIAL_FORMS: [RegExp, string][] = [
  [/\b(Bearer|Basic)(\s+)[A-Za-z0-9\-._~+/]{16,}=*/gi, `$1$2${REDACTED}`],
  [/(access_token\\?"\s*:\s*\\?")[^"\\]+/gi, `$1${REDACTED}`],
];

function maskCredentialForms(line: string): string {
  return CREDENTIAL_FORMS.reduce((out, [form, replacement]) => out.replace(form, replacement), line);
}

/** An error as log metadata: name, message, `code` when it has one, the stack, and its cause (serialized the same way). */
function errorJson(err: Error): Record<string, unknown> {
  const code = (err as { code?: unknown }).code;
  return {
    name: err.name,
    message: err.message,
    ...(code !== undefined ? { code } : {}),
    ...(err.stack !== undefined ? { stack: err.stack } : {}),
    ...(err.cause !== undefined ? { cause: err.cause } : {}),
  };
}

/** A JSON.stringify replacer for log metadata: bigints as strings, errors with stack and cause, cycles cut. */
function jsonSafe(): (key: string, value: unknown) => unknown {
  const seen = new WeakSet<object>();
  return (_key, value) => {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'object' && value !== null) {
      if (seen.has(value)) return '[Circular]';
      seen.add(value);
    }
    return value instanceof Error ? errorJson(value) : value;
  };
}

const RESERVED = new Set(['time', 'level', 'msg']);

/** Metadata keys that would overwrite the line's own fields are kept under `meta_<key>`. */
function metadata(meta: LogEntry['meta']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(meta ?? {})) out[RESERVED.has(k) ? `meta_${k}` : k] = v;
  return out;
}

/**
 * One JSON object per line on stderr: `time`, `level`, `msg`, then the SDK's metadata (workflowId, runId,
 * workflowType, activityType, taskQueue, namespace, …) and the project's own (exportJobId, …), so log pipelines
 * can join lines to workflows and Atlas jobs. `text` keeps the SDK's human format for local runs.
 */
export function createLogger(options: {
  level: LogLevel;
  format: LogFormat;
  secrets: readonly (string | undefined)[] | ReadonlySet<string>;
  write?: (line: string) => void;
}): DefaultLogger {
  const redact = secretRedactor(options.secrets);
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const format =
    options.format === 'json'
      ? (entry: LogEntry) =>
          JSON.stringify(
            {
              time: new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString(),
              level: entry.level,
              msg: entry.message,
              ...metadata(entry.meta),
            },
            jsonSafe()
          )
      : (entry: LogEntry) =>
          `${new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString()} [${entry.level}] ${entry.message}` +
          (entry.meta && Object.keys(entry.meta).length > 0 ? ` ${JSON.stringify(entry.meta, jsonSafe())}` : '');
  return new DefaultLogger(options.level, (entry) => write(redact(format(entry))));
}
