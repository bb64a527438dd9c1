import { msToNumber } from '@temporalio/common/lib/time';
import { z } from 'zod';

const DURATION_STRING = /^\d+(\.\d+)?\s*[a-zA-Z]+$/;
/**
 * Ten years: far beyond any poll interval, deadline or schedule period, and small enough that adding it to a
 * timestamp stays a valid `Date` (an unbounded `timeout` made the workflow's deadline an invalid date).
 */
export const MAX_DURATION_MS = 3650 * 24 * 3600_000;

/**
 * A duration given as a Temporal duration string (`'30s'`, `'5m'`, `'2h'`) or as milliseconds,
 * parsed to milliseconds. Bare numeric strings are refused: `'10'` is too easy to misread.
 */
export const durationSchema = z.union([z.number(), z.string()]).transform((value, ctx): number => {
  let ms: number;
  if (typeof value === 'number') {
    ms = value;
  } else if (!DURATION_STRING.test(value.trim())) {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is not a duration; use e.g. "30s", "5m", "2h" or milliseconds`,
    });
    return z.NEVER;
  } else {
    try {
      ms = msToNumber(value.trim() as Parameters<typeof msToNumber>[0]);
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: `"${value}" is not a duration; use e.g. "30s", "5m", "2h" or milliseconds`,
      });
      return z.NEVER;
    }
  }
  // Rounded first: 0.4 ms would become a 0 ms timeout, which Temporal reads as "no timeout" (or refuses).
  if (!Number.isFinite(ms) || Math.round(ms) <= 0) {
    ctx.addIssue({ code: 'custom', message: 'must be a positive duration' });
    return z.NEVER;
  }
  if (ms > MAX_DURATION_MS) {
    ctx.addIssue({ code: 'custom', message: 'must be at most 3650d (10 years)' });
    return z.NEVER;
  }
  return Math.round(ms);
});
