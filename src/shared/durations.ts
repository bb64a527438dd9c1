import { msToNumber } from '@temporalio/common/lib/time';
import { z } from 'zod';

const DURATION_STRING = /^\d+(\.\d+)?\s*[a-zA-Z]+$/;

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
  if (!Number.isFinite(ms) || !Number.isInteger(Math.round(ms)) || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: 'must be a positive duration' });
    return z.NEVER;
  }
  return Math.round(ms);
});
