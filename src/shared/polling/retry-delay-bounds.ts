/**
 * Bounds of every wait Atlas asks for (`Retry-After` on a 429 or 503) or that a retry falls back to. A wait is
 * never shorter than the floor (a zero or past value would retry at once, and Temporal treats a zero delay as
 * none) and never longer than the cap (a huge or far-future value would park an export for days).
 */
export const RETRY_DELAY_FLOOR_MS = 1_000;
export const RETRY_DELAY_CAP_MS = 10 * 60_000;
