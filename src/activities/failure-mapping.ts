import { RETRY_DELAY_CAP_MS, RETRY_DELAY_FLOOR_MS } from '../shared/polling/retry-delay-bounds';
import { activityInfo, cancellationSignal } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import {
  AtlasApiError,
  AtlasError,
  AtlasNetworkError,
  AtlasResponseTooLargeError,
  AtlasResponseValidationError,
  AtlasTokenError,
} from '../atlas';
import { FailureType } from '../shared/contract/failure-types';
import { stableFraction } from '../shared/polling/backoff';
import { AttemptCarry } from './attempt-carry';
import { TargetNotAllowedError } from './target-policy';

/** What to tell a person for each status that will not get better by retrying. */
const FIX_HINTS: Record<number, string> = {
  400: 'Atlas rejected the request as invalid; fix the fields it names',
  401: "Atlas did not accept the worker's credentials; check ATLAS_CLIENT_ID/ATLAS_CLIENT_SECRET or ATLAS_PUBLIC_KEY/ATLAS_PRIVATE_KEY of the worker",
  403: "the worker's Atlas identity lacks access; grant it Project Backup Export Operator and Project Backup Manager on the project and add the worker's IP to the API access list",
  404: 'Atlas does not know one of the ids; check groupId, clusterName, snapshotId and exportBucketId',
  406: 'Atlas refused the API version this service sends; upgrade atlas-export-orchestrator',
  410: 'the Atlas API version this service sends is gone; upgrade atlas-export-orchestrator',
  415: 'Atlas refused the request media type; upgrade atlas-export-orchestrator',
  422: 'Atlas could not process the request; fix the fields it names',
};
const NON_RETRYABLE_STATUSES = new Set(Object.keys(FIX_HINTS).map(Number));
/** Token endpoint statuses that retrying will not fix: every 4xx but a timeout, a conflict and a rate limit. */
const tokenRefusalIsFinal = (status: number) => status >= 400 && status < 500 && ![408, 409, 429].includes(status);

/** What to check when the OAuth token endpoint refused: it is not an Atlas id that is wrong. */
function tokenHint(err: AtlasTokenError): string {
  const lead =
    err.status === 400 || err.status === 401
      ? 'the token endpoint did not accept the service account'
      : err.status === 403
        ? 'the token endpoint refused the service account (access_denied: e.g. all 100 active tokens of the account are in use, or it is disabled)'
        : `no Atlas token endpoint answered at ${err.endpoint}, so ATLAS_BASE_URL is likely wrong`;
  return `${lead}; check ATLAS_BASE_URL (the Atlas origin, e.g. https://cloud.mongodb.com) and the worker's ATLAS_CLIENT_ID/ATLAS_CLIENT_SECRET`;
}

/** `text` as a sentence: one final period, whether or not it ended with one (`…exists in group X.` stays so). */
function sentence(text: string): string {
  const trimmed = text.trimEnd();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}
/** Statuses where Atlas may say when to come back. */
const RETRY_AFTER_STATUSES = new Set([429, 503]);

/**
 * The shortest wait before the next attempt after a 429 or 503, whatever `Retry-After` says. `Retry-After: 0` or a
 * date in the past would otherwise give `nextRetryDelay` 0, which the Temporal server does not take as "at once":
 * it ends the retries with retry state TIMEOUT, and the export fails as past its deadline.
 */
export const MIN_RETRY_DELAY_MS = RETRY_DELAY_FLOOR_MS;
/**
 * The longest wait before the next attempt after a 429 or 503, whatever `Retry-After` says (a far-future date, a
 * huge number). Atlas's own token bucket refills within a minute; waiting longer than this only delays the export,
 * and a wait past the activity's deadline would end it at once with retry state TIMEOUT.
 */
export const MAX_RETRY_DELAY_MS = RETRY_DELAY_CAP_MS;

/**
 * A requested wait bounded to [{@link MIN_RETRY_DELAY_MS}, {@link MAX_RETRY_DELAY_MS}], and to half of what is
 * left of the activity's budget (its schedule-to-close timeout, the export's deadline) when that is known: a wait
 * the deadline would cut off ends the activity with retry state TIMEOUT, while a shorter one still gets a retry.
 */
export function boundRetryDelayMs(requestedMs: number, budgetLeftMs?: number): number {
  const bounded = Math.min(
    MAX_RETRY_DELAY_MS,
    Math.max(MIN_RETRY_DELAY_MS, Number.isFinite(requestedMs) ? requestedMs : MAX_RETRY_DELAY_MS)
  );
  if (budgetLeftMs === undefined || !Number.isFinite(budgetLeftMs)) return Math.round(bounded);
  return Math.round(Math.max(MIN_RETRY_DELAY_MS, Math.min(bounded, budgetLeftMs / 2)));
}

/**
 * The one place where an Atlas client error becomes a Temporal failure.
 *
 * - 400, 401, 403, 404, 406, 410 (and 415, 422) and schema-invalid bodies: non-retryable, `type` = the
 *   Atlas `errorCode` (or `HTTP_<status>`), message saying what to fix.
 * - The OAuth token endpoint refusing (any 4xx but 408, 409, 429): non-retryable, saying it was the token endpoint,
 *   with its status and reason, and to check ATLAS_BASE_URL and the service account's id and secret.
 * - 409, 429, 5xx, other 4xx, timeouts and connection errors: retryable. 429 and 503 honour `Retry-After`
 *   through `nextRetryDelay`, with a jittered exponential fallback (10 s, 20 s, 40 s … capped at 5 min, by
 *   consecutive errors) when the header is missing or unreadable, as Atlas's rate-limit docs advise; either way
 *   bounded by {@link boundRetryDelayMs}.
 * - A body over the response limit: non-retryable (`AtlasResponseTooLarge`): the same read gets the same body, and
 *   each retry would spend the project's rate budget reading it again; the message names the setting that raises it.
 * - The worker's own policy refusing a target, retention or cadence ({@link TargetNotAllowedError}): non-retryable
 *   `TargetNotAllowed`, before any Atlas call.
 * - Anything else is returned unchanged (the SDK makes it a retryable failure).
 *
 * @param consecutiveErrors Atlas errors in a row in this activity, this one included (1-based), for the fallback
 *   backoff. Not the attempt number: a polling activity's attempts are mostly "not ready" reads, and the first 429
 *   after an hour of them must wait 10 s, not the cap.
 * @param jitterSeed makes the fallback jitter stable per caller (e.g. the workflow id).
 * @param budgetLeftMs what is left of the activity's schedule-to-close timeout, if it has one.
 */
export function toApplicationFailure(
  err: unknown,
  consecutiveErrors = 1,
  jitterSeed = '',
  budgetLeftMs?: number
): unknown {
  if (err instanceof TargetNotAllowedError) {
    return ApplicationFailure.create({
      type: FailureType.TargetNotAllowed,
      message: `${sentence(err.message)} To fix: ask the worker's operator to allow it, or choose an allowed target.`,
      nonRetryable: true,
    });
  }
  if (err instanceof AtlasTokenError && tokenRefusalIsFinal(err.status)) {
    return ApplicationFailure.create({
      type: err.errorCode ?? `${FailureType.HttpStatusPrefix}${err.status}`,
      message: `${sentence(err.message)} To fix: ${sentence(tokenHint(err))}`,
      nonRetryable: true,
      details: [{ status: err.status, errorCode: err.errorCode ?? null, method: err.method, path: err.path }],
    });
  }
  if (err instanceof AtlasApiError) {
    const type = err.errorCode ?? `${FailureType.HttpStatusPrefix}${err.status}`;
    const fields = err.badRequestFields.length
      ? ` Fields: ${sentence(err.badRequestFields.map((f) => `${f.field} (${f.description})`).join(', '))}`
      : '';
    if (NON_RETRYABLE_STATUSES.has(err.status)) {
      return ApplicationFailure.create({
        type,
        message: `${sentence(err.message)} To fix: ${sentence(FIX_HINTS[err.status] ?? '')}${fields}`,
        nonRetryable: true,
        details: [{ status: err.status, errorCode: err.errorCode ?? null, method: err.method, path: err.path }],
      });
    }
    const nextRetryDelay = RETRY_AFTER_STATUSES.has(err.status)
      ? boundRetryDelayMs(err.retryAfterMs ?? fallbackRetryDelayMs(consecutiveErrors, jitterSeed), budgetLeftMs)
      : undefined;
    return ApplicationFailure.create({
      type,
      message: err.message,
      nonRetryable: false,
      nextRetryDelay,
      details: [{ status: err.status, errorCode: err.errorCode ?? null, method: err.method, path: err.path }],
    });
  }
  if (err instanceof AtlasResponseValidationError) {
    return ApplicationFailure.create({
      type: FailureType.AtlasResponseSchemaMismatch,
      message: `${sentence(err.message)} To fix: the Atlas API changed in a way this version does not understand; upgrade atlas-export-orchestrator or report the fields above.`,
      nonRetryable: true,
      details: [{ status: err.status, issues: err.issues, method: err.method, path: err.path }],
    });
  }
  if (err instanceof AtlasResponseTooLargeError) {
    return ApplicationFailure.create({
      type: FailureType.AtlasResponseTooLarge,
      message: `${sentence(err.message)} To fix: check ATLAS_BASE_URL points at Atlas; if the answer is genuine, raise WORKER_ATLAS_MAX_RESPONSE_BYTES.`,
      nonRetryable: true,
      details: [{ status: err.status, maxBytes: err.maxBytes, method: err.method, path: err.path }],
    });
  }
  if (err instanceof AtlasNetworkError) {
    return ApplicationFailure.create({
      type: FailureType.AtlasNetworkError,
      message: err.message,
      nonRetryable: false,
      details: [{ code: err.code ?? null, timedOut: err.timedOut, method: err.method, path: err.path }],
    });
  }
  return err;
}

/** 10 s × 2^(consecutiveErrors-1), capped at 5 min, with ±25 % deterministic jitter. */
export function fallbackRetryDelayMs(consecutiveErrors: number, jitterSeed: string): number {
  const n = Math.max(1, consecutiveErrors);
  const base = Math.min(10_000 * Math.pow(2, Math.min(n - 1, 30)), 300_000);
  return Math.round(base * (0.75 + 0.5 * stableFraction(`${jitterSeed}:retry:${n}`)));
}

/**
 * Runs Atlas calls inside an activity with its cancellation signal, and turns whatever they throw into a Temporal
 * failure through {@link toApplicationFailure}. Counts consecutive Atlas errors across attempts in `carry` (heartbeat
 * details, sent only when the count changes): an Atlas error adds one, a success resets it (sent by the next
 * {@link notReadyFailure} or failure, if any; an activity that completes needs no reset).
 */
export async function atlasCall<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  carry: AttemptCarry = AttemptCarry.load()
): Promise<T> {
  let result: T;
  try {
    result = await fn(cancellationSignal());
  } catch (err) {
    if (err instanceof AtlasError) carry.update({ consecutiveErrors: carry.state.consecutiveErrors + 1 });
    carry.flush();
    const info = activityInfo();
    throw toApplicationFailure(
      err,
      carry.state.consecutiveErrors,
      info.workflowExecution?.workflowId ?? info.activityId,
      budgetLeftMs()
    );
  }
  carry.update({ consecutiveErrors: 0 });
  return result;
}

/** Runs the worker's policy checks outside an Atlas call: a refusal becomes the same failure {@link atlasCall} makes. */
export function enforcePolicy(check: () => void): void {
  try {
    check();
  } catch (err) {
    throw toApplicationFailure(err);
  }
}

/** What is left of the current activity's schedule-to-close timeout (the deadline of all its attempts), if any. */
export function budgetLeftMs(): number | undefined {
  const info = activityInfo();
  return info.scheduleToCloseTimeoutMs > 0
    ? info.scheduledTimestampMs + info.scheduleToCloseTimeoutMs - Date.now()
    : undefined;
}

/**
 * "Not there yet": retryable and BENIGN (logged at DEBUG, left out of failure metrics, since waiting is not an
 * error), with the next look after `nextRetryDelayMs`. Retry-driven waits throw it from each attempt; `carry`, if
 * given, is flushed first, so what this attempt learned (e.g. a reset error count) reaches the next one.
 */
export function notReadyFailure(
  type: string,
  message: string,
  nextRetryDelayMs: number,
  carry?: AttemptCarry
): ApplicationFailure {
  carry?.flush();
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: false,
    nextRetryDelay: nextRetryDelayMs,
    category: ApplicationFailureCategory.BENIGN,
  });
}
