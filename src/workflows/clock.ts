/**
 * Workflow time. Inside the Temporal sandbox `Date.now()` is the SDK's replay-safe clock (the time of the
 * current workflow task); this is the one place workflow code reads it.
 */
// eslint-disable-next-line no-restricted-properties
export const workflowNow = (): number => Date.now();

export const iso = (ms: number): string => new Date(ms).toISOString();
