/**
 * How long an observed `exportSnapshot` may run past its own deadline before the observer gives up on it (it
 * should end at its deadline; one that does not has lost its workers).
 */
export const OBSERVE_OVERDUE_GRACE_MS = 3600_000;
