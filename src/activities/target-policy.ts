import { targetRefusal, type AllowedTargets, type Target } from '../shared/atlas/allowed-targets';
import type { BackoffSettings } from '../shared/polling/backoff';
import type { PollCadence } from '../shared/polling/poll-cadence';

/**
 * What the worker's operator allows its Atlas identity to be used for, checked inside the activities before any
 * Atlas call: the workflow input is the caller's, so a check there would be the caller's to skip.
 */
export interface TargetPolicy {
  /** `WORKER_ALLOWED_TARGETS`; `undefined`: any project, bucket and cluster the identity reaches (warned at start). */
  allowedTargets: AllowedTargets | undefined;
  /** `WORKER_MAX_ON_DEMAND_RETENTION_DAYS`: the longest retention of an on-demand snapshot this worker takes. */
  maxOnDemandRetentionDays: number;
  /**
   * `WORKER_SIMULATOR_MODE`: Atlas is a simulator, so `timeScale` ≠ 1 and intervals under
   * {@link MIN_ATLAS_INTERVAL_MS} are accepted.
   */
  simulator: boolean;
}

/** The shortest poll interval (worker clock) a caller may ask of real Atlas: the adaptive cadence's default minimum. */
export const MIN_ATLAS_INTERVAL_MS = 10_000;

/** The policy refused what an activity was asked to do; `toApplicationFailure` makes it non-retryable. */
export class TargetNotAllowedError extends Error {
  override readonly name = 'TargetNotAllowedError';
}

/** Throws a {@link TargetNotAllowedError} when `target` is outside the allow-list. */
export function checkTarget(policy: TargetPolicy, target: Target): void {
  if (policy.allowedTargets === undefined) return;
  const refusal = targetRefusal(policy.allowedTargets, target);
  if (refusal) throw new TargetNotAllowedError(`Refused by this worker: ${refusal}`);
}

/** Throws when an on-demand snapshot would be kept longer than the worker allows. */
export function checkRetention(policy: TargetPolicy, retentionInDays: number): void {
  if (retentionInDays > policy.maxOnDemandRetentionDays) {
    throw new TargetNotAllowedError(
      `Refused by this worker: on-demand snapshot retention ${retentionInDays} days exceeds WORKER_MAX_ON_DEMAND_RETENTION_DAYS (${policy.maxOnDemandRetentionDays})`
    );
  }
}

/** The checks of a polling activity: its target, and its cadence. */
export function checkPolling(policy: TargetPolicy, target: Target, cadence: PollCadence | BackoffSettings): void {
  checkTarget(policy, target);
  checkCadence(policy, cadence);
}

/**
 * The cadences a piece of work will poll Atlas at, checked by its first activity before its first Atlas call, so a
 * refused cadence never leaves a job or a snapshot behind. Absent from workflows before it: then the polling
 * activity's own check is the only one.
 */
export type PlannedCadences = (PollCadence | BackoffSettings)[] | undefined;

/** {@link checkCadence} for each of `cadences`. */
export function checkCadences(policy: TargetPolicy, cadences: PlannedCadences): void {
  for (const cadence of cadences ?? []) checkCadence(policy, cadence);
}

/** Throws when a caller asks real Atlas for a scaled clock or polls closer than {@link MIN_ATLAS_INTERVAL_MS}. */
export function checkCadence(policy: TargetPolicy, cadence: PollCadence | BackoffSettings): void {
  if (policy.simulator) return;
  if ('timeScale' in cadence && cadence.timeScale !== 1) {
    throw new TargetNotAllowedError(
      `Refused by this worker: polling.timeScale ${cadence.timeScale} is for a simulator only (WORKER_SIMULATOR_MODE)`
    );
  }
  const intervals = Object.entries(cadence).filter(
    (e): e is [string, number] => e[0].endsWith('IntervalMs') && typeof e[1] === 'number'
  );
  const short = intervals.find(([, ms]) => ms < MIN_ATLAS_INTERVAL_MS);
  if (short) {
    throw new TargetNotAllowedError(
      `Refused by this worker: a ${short[0].replace(/Ms$/, '')} of ${short[1]} ms polls Atlas more often than every ${MIN_ATLAS_INTERVAL_MS} ms, which only a simulator (WORKER_SIMULATOR_MODE) accepts`
    );
  }
}
