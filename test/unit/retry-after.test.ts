import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { AtlasApiError, parseRetryAfter } from '../../src/atlas';
import {
  boundRetryDelayMs,
  fallbackRetryDelayMs,
  MAX_RETRY_DELAY_MS,
  MIN_RETRY_DELAY_MS,
  toApplicationFailure,
} from '../../src/activities/failure-mapping';

const NOW = Date.UTC(2026, 9, 21, 7, 28, 0);

describe('parseRetryAfter: what the header says, as RFC 9110 defines it', () => {
  it.each([
    ['delay-seconds', '55', 55_000],
    ['zero', '0', 0],
    ['surrounding spaces', '  12  ', 12_000],
    ['IMF-fixdate 10 s ahead', 'Wed, 21 Oct 2026 07:28:10 GMT', 10_000],
    ['RFC 850 date 10 s ahead', 'Wednesday, 21-Oct-26 07:28:10 GMT', 10_000],
    ['asctime date 10 s ahead (GMT, though it names no zone)', 'Wed Oct 21 07:28:10 2026', 10_000],
    ['an HTTP-date in the past', 'Wed, 21 Oct 2015 07:28:00 GMT', 0],
    ['a far-future HTTP-date', 'Fri, 31 Dec 9999 23:59:59 GMT', Date.UTC(9999, 11, 31, 23, 59, 59) - NOW],
    ['a huge number, kept finite', '1000000000000000000000000', Number.MAX_SAFE_INTEGER],
    ['a list: the longest', '5, 7', 7_000],
    ['a list of dates and seconds', 'Wed, 21 Oct 2026 07:28:10 GMT, 3', 10_000],
    ['a repeated header: the longest valid value', ['5', 'soon', '-1', '9'], 9_000],
  ] as [string, string | string[], number][])('%s', (_label, header, expected) => {
    expect(parseRetryAfter(header, NOW)).toBe(expected);
  });

  it.each([
    ['negative', '-5'],
    ['fractional', '1.5'],
    ['exponent notation', '1e12'],
    ['text', 'soon'],
    ['empty', ''],
    ['an ISO date, not an HTTP-date', '2026-10-21T07:28:10Z'],
    ['a date without its zone', 'Wed, 21 Oct 2026 07:28:10'],
    ['a repeated header of nothing valid', ['soon', '-1']],
  ] as [string, string | string[]][])('%s is no Retry-After (undefined: the caller falls back)', (_label, header) => {
    expect(parseRetryAfter(header, NOW)).toBeUndefined();
  });
});

describe('the wait after a 429 or 503 is bounded, whatever Retry-After says', () => {
  const ref = { method: 'GET', path: '/api/atlas/v2/groups/g/clusters/c/backup/exports/e' };
  const limited = (header: string | string[] | undefined, status = 429) =>
    new AtlasApiError(ref, status, { errorCode: 'RATE_LIMITED' }, parseRetryAfter(header, Date.now()));
  const delayOf = (err: AtlasApiError, budgetLeftMs?: number): number => {
    const failure = toApplicationFailure(err, 1, 'wf-1', budgetLeftMs) as ApplicationFailure;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.nonRetryable).toBe(false);
    return Number(failure.nextRetryDelay);
  };
  const fallback = fallbackRetryDelayMs(1, 'wf-1');
  const farFuture = new Date(Date.now() + 400 * 86_400_000).toUTCString();
  const past = new Date(Date.now() - 60_000).toUTCString();

  it('the floor and cap are 1 s and 10 min', () => {
    expect(MIN_RETRY_DELAY_MS).toBe(1_000);
    expect(MAX_RETRY_DELAY_MS).toBe(600_000);
  });

  it.each([
    ['0', '0', MIN_RETRY_DELAY_MS],
    ['an HTTP-date in the past', past, MIN_RETRY_DELAY_MS],
    ['a far-future HTTP-date', farFuture, MAX_RETRY_DELAY_MS],
    ['a huge number', '1000000000000', MAX_RETRY_DELAY_MS],
    ['several values', ['3', '8'], 8_000],
    ['a plain value within the bounds', '55', 55_000],
  ] as [string, string | string[], number][])('Retry-After %s', (_label, header, expected) => {
    for (const status of [429, 503]) expect(delayOf(limited(header, status))).toBe(expected);
  });

  it.each([
    ['negative', '-5'],
    ['1e12', '1e12'],
    ['garbage', 'soon'],
    ['absent', undefined],
  ] as [string, string | undefined][])('Retry-After %s: the jittered fallback', (_label, header) => {
    expect(delayOf(limited(header))).toBe(fallback);
    expect(fallback).toBeGreaterThanOrEqual(7_500);
    expect(fallback).toBeLessThanOrEqual(12_500);
  });

  it('never waits past half of what is left before the deadline, nor less than the floor', () => {
    expect(delayOf(limited(farFuture), 40_000)).toBe(20_000);
    expect(delayOf(limited('55'), 3_600_000)).toBe(55_000);
    expect(delayOf(limited('0'), 3_600_000)).toBe(MIN_RETRY_DELAY_MS);
    expect(delayOf(limited('55'), 500)).toBe(MIN_RETRY_DELAY_MS);
  });

  it('boundRetryDelayMs takes non-finite requests as the cap', () => {
    expect(boundRetryDelayMs(Number.POSITIVE_INFINITY)).toBe(MAX_RETRY_DELAY_MS);
    expect(boundRetryDelayMs(Number.NaN)).toBe(MAX_RETRY_DELAY_MS);
    expect(boundRetryDelayMs(-1)).toBe(MIN_RETRY_DELAY_MS);
  });
});
