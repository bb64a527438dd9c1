import type { z } from 'zod';
import type { ApiErrorBody } from './schemas';

/** Where a failed Atlas call went: method and path only (never a header, body or credential). */
export interface AtlasRequestRef {
  method: string;
  path: string;
}

/** Base of every error the Atlas client throws; `kind` tells them apart without `instanceof`. */
export abstract class AtlasError extends Error {
  abstract readonly kind: 'api' | 'response-validation' | 'response-too-large' | 'network';
  readonly method: string;
  readonly path: string;

  protected constructor(message: string, ref: AtlasRequestRef, options?: { cause?: unknown }) {
    super(message, options);
    this.method = ref.method;
    this.path = ref.path;
  }
}

/**
 * Atlas answered with a non-2xx status. Carries the HTTP status, the Atlas `errorCode` (when the body
 * was an `ApiError`), its `detail`, and the parsed `Retry-After` in milliseconds (429/503).
 */
export class AtlasApiError extends AtlasError {
  override readonly name: string = 'AtlasApiError';
  readonly kind = 'api' as const;
  readonly status: number;
  readonly errorCode: string | undefined;
  readonly detail: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly badRequestFields: { field: string; description: string }[];

  constructor(ref: AtlasRequestRef, status: number, body: ApiErrorBody | undefined, retryAfterMs: number | undefined) {
    const errorCode = body?.errorCode;
    const detail = body?.detail ?? undefined;
    super(
      `Atlas ${ref.method} ${ref.path} answered ${status}${errorCode ? ` ${errorCode}` : ''}${detail ? `: ${detail}` : ''}`,
      ref
    );
    this.status = status;
    this.errorCode = errorCode;
    this.detail = detail;
    this.retryAfterMs = retryAfterMs;
    this.badRequestFields = body?.badRequestDetail?.fields ?? [];
  }
}

/**
 * The OAuth token endpoint (`POST {origin}/api/oauth/token`) refused to issue a token for the service account, so
 * no Atlas API call was made. Carries the HTTP status, the server's reason (an OAuth `error`/`error_description`, an
 * `ApiError`'s `errorCode`/`detail`, else the HTTP reason phrase), `Retry-After`, and `endpoint`, the URL called
 * (origin and path only). Never a credential: the reason is cut to 300 characters and the secret blanked out.
 */
export class AtlasTokenError extends AtlasApiError {
  override readonly name: string = 'AtlasTokenError';
  readonly endpoint: string;

  constructor(
    endpoint: URL,
    status: number,
    reason: { errorCode?: string | undefined; detail: string },
    retryAfterMs: number | undefined
  ) {
    super({ method: 'POST', path: endpoint.pathname }, status, reason, retryAfterMs);
    this.endpoint = `${endpoint.origin}${endpoint.pathname}`;
    this.message = `Atlas OAuth token endpoint POST ${this.endpoint} refused the service account with ${status}${
      reason.errorCode ? ` ${reason.errorCode}` : ''
    }: ${reason.detail}`;
  }
}

/**
 * Atlas answered 2xx, but the body did not match the schema this service relies on (API drift, or an odd answer).
 * A 2xx to a POST still means Atlas performed it: `resourceId` is the body's `id` when it had a readable one.
 */
export class AtlasResponseValidationError extends AtlasError {
  override readonly name = 'AtlasResponseValidationError';
  readonly kind = 'response-validation' as const;
  readonly status: number;
  /** Field paths and messages, never the raw body. */
  readonly issues: { path: string; message: string }[];
  /** The body's `id`, if it was a 24-hex Atlas id (the resource a 2xx POST created). */
  readonly resourceId: string | undefined;

  constructor(ref: AtlasRequestRef, status: number, issues: z.core.$ZodIssue[] | string, resourceId?: string) {
    const list =
      typeof issues === 'string'
        ? [{ path: '(body)', message: issues }]
        : issues.map((i) => ({ path: i.path.length ? i.path.join('.') : '(body)', message: i.message }));
    super(
      `Atlas ${ref.method} ${ref.path} returned a ${status} body that does not match the expected schema: ` +
        list.map((i) => `${i.path}: ${i.message}`).join('; '),
      ref
    );
    this.status = status;
    this.issues = list;
    this.resourceId = resourceId;
  }
}

/**
 * Atlas (or whatever answers at the base URL) sent a body larger than the client reads (`maxBytes`), so the client
 * stopped reading and closed the connection. `declaredBytes` is the `Content-Length` when that alone was over the
 * limit (nothing was read); else `receivedBytes` is how far the client read before it stopped. A 2xx to a POST still
 * means Atlas performed it.
 */
export class AtlasResponseTooLargeError extends AtlasError {
  override readonly name = 'AtlasResponseTooLargeError';
  readonly kind = 'response-too-large' as const;
  readonly status: number;
  readonly maxBytes: number;
  readonly declaredBytes: number | undefined;
  readonly receivedBytes: number | undefined;

  constructor(
    ref: AtlasRequestRef,
    status: number,
    maxBytes: number,
    size: { declaredBytes?: number; receivedBytes?: number }
  ) {
    super(
      `Atlas ${ref.method} ${ref.path} answered ${status} with a body over the ${maxBytes}-byte response limit (${
        size.declaredBytes !== undefined
          ? `Content-Length ${size.declaredBytes}; nothing read`
          : `stopped reading after ${size.receivedBytes ?? 0} bytes`
      })`,
      ref
    );
    this.status = status;
    this.maxBytes = maxBytes;
    this.declaredBytes = size.declaredBytes;
    this.receivedBytes = size.receivedBytes;
  }
}

/** The request never got a complete answer: timeout, connection refused or reset, aborted body. */
export class AtlasNetworkError extends AtlasError {
  override readonly name = 'AtlasNetworkError';
  readonly kind = 'network' as const;
  /** undici or system error code, e.g. `UND_ERR_HEADERS_TIMEOUT`, `ECONNRESET`. */
  readonly code: string | undefined;
  readonly timedOut: boolean;

  constructor(ref: AtlasRequestRef, cause: unknown) {
    const code = errorCodeOf(cause);
    const timedOut = code !== undefined && /TIMEOUT/i.test(code);
    super(
      `Atlas ${ref.method} ${ref.path} failed before a complete response${code ? ` (${code})` : ''}: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      ref,
      { cause }
    );
    this.code = code;
    this.timedOut = timedOut;
  }
}

function errorCodeOf(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAY = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '\\d{2}:\\d{2}:\\d{2}';
/** The three HTTP-date forms of RFC 9110 §5.6.7: IMF-fixdate, then the obsolete RFC 850 and asctime forms. */
const HTTP_DATE = [
  new RegExp(`^${DAY}, \\d{2} ${MONTH} \\d{4} ${TIME} GMT$`, 'i'),
  new RegExp(`^${LONG_DAY}, \\d{2}-${MONTH}-\\d{2} ${TIME} GMT$`, 'i'),
  new RegExp(`^${DAY} ${MONTH} (?: \\d|\\d{2}) ${TIME} \\d{4}$`, 'i'),
];

/**
 * Parses `Retry-After` into milliseconds from `now`: delay-seconds (`1*DIGIT`) or an HTTP-date (a past date is 0).
 * Anything else (a negative or fractional number, `1e12`, another date format, text) is not a `Retry-After` and
 * gives `undefined`, so the caller falls back to its own backoff. Several values (a repeated header, or a list
 * joined with commas) give the longest valid one. The result is finite and at most `Number.MAX_SAFE_INTEGER`; it
 * is not bounded otherwise: bounding it is the caller's policy.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  let longest: number | undefined;
  for (const one of (Array.isArray(value) ? value : [value]).flatMap(splitHeaderList)) {
    const ms = parseOneRetryAfter(one, now);
    if (ms !== undefined && (longest === undefined || ms > longest)) longest = ms;
  }
  return longest;
}

function parseOneRetryAfter(value: string, now: number): number | undefined {
  if (/^\d+$/.test(value)) return Math.min(Number(value) * 1000, Number.MAX_SAFE_INTEGER);
  if (!HTTP_DATE.some((form) => form.test(value))) return undefined;
  // asctime carries no zone; HTTP-dates are always GMT.
  const date = Date.parse(/GMT$/i.test(value) ? value : `${value} GMT`);
  return Number.isNaN(date) ? undefined : Math.min(Math.max(0, date - now), Number.MAX_SAFE_INTEGER);
}

/** Splits a comma-joined header list; the comma after an HTTP-date's day name is part of the date. */
function splitHeaderList(value: string): string[] {
  const parts = value.split(',').map((p) => p.trim());
  const values: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? '';
    const next = parts[i + 1];
    if (/^[A-Za-z]+$/.test(part) && next !== undefined) {
      values.push(`${part}, ${next}`);
      i += 1;
    } else if (part !== '') values.push(part);
  }
  return values;
}
