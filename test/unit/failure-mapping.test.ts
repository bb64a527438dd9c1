import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { AtlasApiError, AtlasNetworkError, AtlasResponseValidationError } from '../../src/atlas';
import { fallbackRetryDelayMs, toApplicationFailure } from '../../src/activities/failure-mapping';
import { FailureType } from '../../src/shared/contract/failure-types';

const ref = { method: 'POST', path: '/api/atlas/v2/groups/g/clusters/c/backup/exports' };
const apiError = (status: number, errorCode?: string, retryAfterMs?: number) =>
  new AtlasApiError(ref, status, errorCode ? { errorCode, detail: `detail of ${errorCode}` } : undefined, retryAfterMs);

function mapped(err: unknown): ApplicationFailure {
  const failure = toApplicationFailure(err, 1, 'wf-1');
  expect(failure).toBeInstanceOf(ApplicationFailure);
  return failure as ApplicationFailure;
}

describe('toApplicationFailure: the one mapping from Atlas errors to Temporal failures', () => {
  it.each([
    [400, 'VALIDATION_ERROR'],
    [401, 'UNEXPECTED_ERROR'],
    [403, 'IP_ADDRESS_NOT_ON_WHITELIST'],
    [404, 'SNAPSHOT_NOT_FOUND'],
    [406, 'INVALID_VERSION_DATE'],
    [410, 'VERSION_GONE'],
  ])('%i %s is non-retryable, typed by errorCode, and says what to fix', (status, code) => {
    const f = mapped(apiError(status, code));
    expect(f.nonRetryable).toBe(true);
    expect(f.type).toBe(code);
    expect(f.message).toContain(`detail of ${code}`);
    expect(f.message).toMatch(/To fix: \S/);
    expect(f.nextRetryDelay).toBeUndefined();
  });

  it.each([400, 401, 403, 404, 406, 410])(
    '%i: an Atlas detail that ends with a period gives one period, not two',
    (status) => {
      const err = new AtlasApiError(
        ref,
        status,
        {
          errorCode: 'X',
          detail: 'No cluster named c exists in group g.',
          badRequestDetail: { fields: [{ field: 'f', description: 'must be set.' }] },
        },
        undefined
      );
      const { message } = mapped(err);
      expect(message).toContain('exists in group g. To fix: ');
      expect(message).toContain('Fields: f (must be set.).');
      expect(message).not.toMatch(/\.\./);
    }
  );

  it('a schema mismatch whose last issue ends with a period gives one period', () => {
    const err = new AtlasResponseValidationError(ref, 200, 'body is not valid JSON.');
    expect(mapped(err).message).not.toMatch(/\.\./);
    expect(mapped(err).message).toContain('JSON. To fix:');
  });

  it('uses HTTP_<status> when Atlas sent no errorCode', () => {
    expect(mapped(apiError(404)).type).toBe('HTTP_404');
  });

  it('lists the fields Atlas rejected', () => {
    const err = new AtlasApiError(
      ref,
      400,
      {
        errorCode: 'VALIDATION_ERROR',
        badRequestDetail: { fields: [{ field: 'exportBucketId', description: 'must be an ObjectId' }] },
      },
      undefined
    );
    expect(mapped(err).message).toContain('exportBucketId (must be an ObjectId)');
  });

  it.each([409, 500, 502, 504, 408])('%i is retryable without a forced delay', (status) => {
    const f = mapped(apiError(status, 'X'));
    expect(f.nonRetryable).toBe(false);
    expect(f.nextRetryDelay).toBeUndefined();
  });

  it.each([429, 503])('%i honours Retry-After through nextRetryDelay', (status) => {
    expect(mapped(apiError(status, 'RATE_LIMITED', 55_000)).nextRetryDelay).toBe(55_000);
  });

  it.each([429, 503])('%i without Retry-After falls back to a jittered 10 s × 2^n', (status) => {
    const f = mapped(apiError(status, 'RATE_LIMITED'));
    expect(f.nonRetryable).toBe(false);
    expect(f.nextRetryDelay).toBe(fallbackRetryDelayMs(1, 'wf-1'));
  });

  it('fallback delays grow, stay within ±25 %, cap at 5 min, and are stable per seed', () => {
    for (let attempt = 1; attempt <= 12; attempt++) {
      const base = Math.min(10_000 * 2 ** (attempt - 1), 300_000);
      const d = fallbackRetryDelayMs(attempt, 'seed');
      expect(d).toBeGreaterThanOrEqual(base * 0.75);
      expect(d).toBeLessThanOrEqual(base * 1.25);
      expect(fallbackRetryDelayMs(attempt, 'seed')).toBe(d);
    }
    const spread = new Set(Array.from({ length: 20 }, (_, i) => fallbackRetryDelayMs(1, `wf-${i}`)));
    expect(spread.size).toBeGreaterThan(10);
  });

  it('schema drift is non-retryable and names the fields, not the body', () => {
    const f = mapped(
      new AtlasResponseValidationError(ref, 200, [
        {
          code: 'invalid_type',
          expected: 'string',
          path: ['state'],
          message: 'Invalid input: expected string, received number',
          input: 42,
        },
      ] as never)
    );
    expect(f.type).toBe(FailureType.AtlasResponseSchemaMismatch);
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain('state: Invalid input');
  });

  it('network errors and timeouts are retryable', () => {
    const f = mapped(
      new AtlasNetworkError(ref, Object.assign(new Error('socket hang up'), { code: 'UND_ERR_SOCKET' }))
    );
    expect(f.type).toBe(FailureType.AtlasNetworkError);
    expect(f.nonRetryable).toBe(false);
    expect(
      new AtlasNetworkError(ref, Object.assign(new Error('t'), { code: 'UND_ERR_HEADERS_TIMEOUT' })).timedOut
    ).toBe(true);
  });

  it('leaves other errors to the SDK', () => {
    const e = new Error('bug');
    expect(toApplicationFailure(e)).toBe(e);
  });
});
