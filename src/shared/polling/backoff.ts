/**
 * Capped exponential backoff with deterministic jitter: the waits of the activities' own short read loops (a
 * snapshot until it completes, an observed workflow) and the `fixed`/`exponential` modes of the poll cadence
 * (`poll-cadence.ts`, which decides when to read an export job). Pure and free of I/O, so activities, the
 * workflow and the benchmarks compute the same waits.
 */

export interface BackoffSettings {
  initialIntervalMs: number;
  maximumIntervalMs: number;
  backoffCoefficient: number;
}

/** Jitter spreads polls of exports that started together by ±10 %. */
export const JITTER_RATIO = 0.1;

/** A number in [0, 1) from a string, stable across processes and replays (FNV-1a, 32 bit). */
export function stableFraction(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash / 0x1_0000_0000;
}

/** Wait before poll number `pollIndex` (0 = the first poll after creation), jittered by `seed`. */
export function pollDelayMs(pollIndex: number, settings: BackoffSettings, seed: string): number {
  const base = Math.min(
    settings.initialIntervalMs * Math.pow(settings.backoffCoefficient, Math.max(0, pollIndex)),
    settings.maximumIntervalMs
  );
  const jitter = 1 + JITTER_RATIO * (2 * stableFraction(`${seed}:${pollIndex}`) - 1);
  return Math.max(1, Math.round(Math.min(base * jitter, settings.maximumIntervalMs)));
}
