import { TERMINAL_EXPORT_JOB_STATES } from '../atlas/vocabulary';
import { pollDelayMs, stableFraction } from './backoff';

/**
 * When to read an export job next. Pure and free of I/O and clocks: the polling activity calls it once per
 * attempt with the time it read the job, and returns what it learned ({@link CadenceMemory}) in its result, which
 * history records, so a replay never needs a clock; the workflow calls it on that memory to show the decision in
 * its progress query, and tests call it directly.
 *
 * Durations in {@link PollCadence} are on Atlas's clock; `timeScale` (Atlas ms per worker ms, 1 outside of
 * simulators) converts them to the worker's clock, on which every instant here is measured.
 */

export type PollMode = 'adaptive' | 'fixed' | 'exponential';

/** Defaults of the adaptive mode, fitted to real exports (`poll-cadence.md`). */
export const ADAPTIVE_DEFAULTS = {
  /** Finest step, used near the estimated finish of short exports. */
  minimumIntervalMs: 10_000,
  /** No wait is longer: the most detection lag a wrong estimate can add. */
  maximumIntervalMs: 600_000,
  /** Step while `Queued`: bounds how well the start of `InProgress`, and so the finish, is known. */
  queuedIntervalMs: 60_000,
  /** `InProgress` lasts at least this long (about 10 min of fixed overhead, even for an empty cluster). */
  inProgressFloorMs: 600_000,
} as const;

/** The cadence of one export, as validated from `polling` (durations in Atlas ms). */
export type PollCadence =
  | {
      mode: 'adaptive';
      minimumIntervalMs: number;
      maximumIntervalMs: number;
      queuedIntervalMs: number;
      inProgressFloorMs: number;
      timeScale: number;
    }
  | { mode: 'fixed'; initialIntervalMs: number; intervalMs: number; timeScale: number }
  | {
      mode: 'exponential';
      initialIntervalMs: number;
      maximumIntervalMs: number;
      backoffCoefficient: number;
      timeScale: number;
    };

/**
 * What the same cluster's recent `Successful` exports took from `createdAt` to `finishedAt` (Atlas ms). That is
 * queue plus work; Atlas's list does not say when `InProgress` began. Since a queue is never negative, a past
 * total bounds that export's `InProgress` time from above, and the shortest recent total (with a margin) is
 * taken as a ceiling for this export's `InProgress` time, assuming a cluster's export work changes slowly.
 * Minus the longest queue seen (21.4 min, plus margin) it is also a floor, which matters for long exports.
 */
export interface LearnedDurations {
  exports: number;
  shortestMs: number;
  medianMs: number;
}

/** One read of the job; `at` is on the worker's clock (epoch ms). */
export interface PollObservation {
  state: string;
  exportedCollections: number | null;
  totalCollections: number | null;
  at: number;
}

/**
 * What the cadence remembers between reads. The workflow keeps it (it is part of activity inputs and results,
 * so replay-safe) and hands it to each polling activity; instants are on the worker's clock.
 */
export interface CadenceMemory {
  /** When the observation the workflow holds was read (or the job was created). */
  observedAt: number;
  /** `InProgress` began after `after` (the last read that still saw it queued; null if unknown) and by `atMost`. */
  inProgressSince: { after: number | null; atMost: number } | null;
  /** The first `InProgress` read with a collection count: the baseline of the progress rate. */
  progressAnchor: { at: number; exported: number; total: number } | null;
  learned: LearnedDurations | null;
  /** Phase of the last decision reported to the workflow; a new phase is reported at once. */
  phase: CadencePhase | null;
}

export type CadencePhase = 'queued' | 'far' | 'near' | 'overdue' | 'steady' | 'done';

export interface CadenceDecision {
  mode: PollMode;
  /** `queued`, then `far` from / `near` / `overdue` past the estimated finish (adaptive); `steady` otherwise. */
  phase: CadencePhase;
  decidedAt: number;
  /** Null once the job is terminal. */
  nextPollAt: number | null;
  delayMs: number;
  reason: string;
  /** The adaptive estimate of when the job ends; `latest` null when nothing bounds it yet. */
  finishWindow: { earliest: number; latest: number | null } | null;
}

/**
 * A poll cadence decision as the progress query shows it (ISO 8601 instants on the worker's clock). The decision
 * of each read that did not reach the workflow is in that attempt's `ExportNotReady` message instead.
 */
export interface CadenceReport {
  mode: PollMode;
  /** `queued`, `far`, `near`, `overdue` (adaptive); `steady` (fixed, exponential); `done` once terminal. */
  phase: CadencePhase;
  decidedAt: string;
  /** When the next status read is due; null once the job is terminal. */
  nextPollAt: string | null;
  /** Why, in words, e.g. `near the estimated finish … (InProgress floor, 7/8 collections)`. */
  reason: string;
  /** The adaptive estimate of when the job ends; `latest` null while nothing bounds it. */
  estimatedFinish: { earliest: string; latest: string | null } | null;
}

/** A decision as the progress query shows it. */
export function toCadenceReport(d: CadenceDecision): CadenceReport {
  return {
    mode: d.mode,
    phase: d.phase,
    decidedAt: iso(d.decidedAt),
    nextPollAt: d.nextPollAt === null ? null : iso(d.nextPollAt),
    reason: d.reason,
    estimatedFinish: d.finishWindow && {
      earliest: iso(d.finishWindow.earliest),
      latest: d.finishWindow.latest === null ? null : iso(d.finishWindow.latest),
    },
  };
}

/** Jitter of the queued step, so exports created together do not read in lockstep. */
const QUEUED_JITTER_RATIO = 0.1;
/** Longest queue assumed when turning a learned total into a floor of the `InProgress` time (21.4 min seen). */
const QUEUE_ALLOWANCE_MS = 25 * 60_000;
/** A learned ceiling is stretched by this much, plus {@link CEILING_SLACK_MS}, before it is trusted. */
const CEILING_MARGIN = 0.1;
const CEILING_SLACK_MS = 60_000;
/** Progress is not exactly linear: estimates from it are widened by this fraction of the time left. */
const PROGRESS_TOLERANCE = 0.2;
/** With nothing bounding the finish, fine reads cover this fraction of the floor past it, then back off. */
const OPEN_WINDOW_FRACTION = 0.25;
/** Fine step grows with the time spent `InProgress` (1/500, 0.2 %), up to this multiple of the minimum. */
const FINE_STEP_DIVISOR = 500;
const FINE_STEP_MAX_FACTOR = 2.5;
/**
 * A window wider than this (Atlas ms; 30 reads of the default 10 s) is read more coarsely, the step growing with
 * the window (`minimumInterval` × width / this), so a vague estimate stays cheap. Tied to `minimumInterval`, so a
 * caller who asks for finer reads gets them in a wide window too.
 */
const NEAR_WINDOW_FINE_MS = 300_000;
/** Past the window, each wait is this fraction of the time overdue (between the fine step and the maximum). */
const OVERDUE_RATIO = 0.5;

/** Memory for a job first seen (created or adopted) at `observedAt`. */
export function initialCadenceMemory(observedAt: number, learned: LearnedDurations | null): CadenceMemory {
  return { observedAt, inProgressSince: null, progressAnchor: null, learned, phase: null };
}

/**
 * Summarizes the cluster's past exports (Atlas's list of export jobs): `Successful` ones with both timestamps,
 * newest first, at most `limit`, leaving out `excludeId` (the job being polled). Null when there are none.
 */
export function learnDurations(
  jobs: readonly { id: string; state: string; createdAt?: string | null; finishedAt?: string | null }[],
  excludeId: string | null,
  limit = 20
): LearnedDurations | null {
  const done = jobs
    .filter((j) => j.state === 'Successful' && j.id !== excludeId && j.createdAt && j.finishedAt)
    .map((j) => ({ created: Date.parse(j.createdAt!), total: Date.parse(j.finishedAt!) - Date.parse(j.createdAt!) }))
    .filter((j) => Number.isFinite(j.total) && j.total > 0)
    .sort((a, b) => b.created - a.created)
    .slice(0, limit)
    .map((j) => j.total)
    .sort((a, b) => a - b);
  if (done.length === 0) return null;
  return { exports: done.length, shortestMs: done[0]!, medianMs: done[Math.floor((done.length - 1) / 2)]! };
}

/**
 * The memory after a read: notes when `InProgress` began and the progress baseline. `known` is what the memory
 * was last updated with (the workflow's status). Only the adaptive mode keeps anything.
 */
export function rememberObservation(
  cadence: PollCadence,
  memory: CadenceMemory,
  known: Pick<PollObservation, 'state'>,
  current: PollObservation,
  seed: string
): CadenceMemory {
  if (cadence.mode !== 'adaptive' || current.state !== 'InProgress') return memory;
  let { inProgressSince, progressAnchor } = memory;
  if (!inProgressSince) {
    if (known.state === 'InProgress') {
      // Already running when this workflow first saw it (adopted, or an older run's memory).
      inProgressSince = { after: null, atMost: memory.observedAt };
    } else {
      // The read before this one was a queued read, one queued step ago (a little more for scheduling).
      const step = queuedStep(cadence, seed);
      inProgressSince = { after: Math.round(Math.max(memory.observedAt, current.at - step * 1.1)), atMost: current.at };
    }
  }
  const total = current.totalCollections ?? 0;
  if (total > 0 && current.exportedCollections !== null && (!progressAnchor || progressAnchor.total !== total)) {
    progressAnchor = { at: current.at, exported: current.exportedCollections, total };
  }
  if (inProgressSince === memory.inProgressSince && progressAnchor === memory.progressAnchor) return memory;
  return { ...memory, inProgressSince, progressAnchor };
}

/**
 * The next read after `current` (read at `current.at`). `pollIndex` is the number of reads so far (0 before the
 * first): the fixed and exponential modes count by it; the adaptive mode decides from the state, the progress
 * and what `memory` learned. Every wait is at least 1 ms and at most the maximum interval.
 */
export function decideNextPoll(
  cadence: PollCadence,
  memory: CadenceMemory,
  current: PollObservation,
  pollIndex: number,
  seed: string
): CadenceDecision {
  const now = current.at;
  const scale = (atlasMs: number) => atlasMs / cadence.timeScale;
  const decision = (
    phase: CadencePhase,
    delayMs: number,
    reason: string,
    finishWindow: CadenceDecision['finishWindow'] = null
  ): CadenceDecision => {
    const delay = Math.max(1, Math.round(Math.min(delayMs, longestWaitMs(cadence))));
    return { mode: cadence.mode, phase, decidedAt: now, nextPollAt: now + delay, delayMs: delay, reason, finishWindow };
  };

  if (TERMINAL_EXPORT_JOB_STATES.has(current.state)) {
    return {
      mode: cadence.mode,
      phase: 'done',
      decidedAt: now,
      nextPollAt: null,
      delayMs: 0,
      reason: `${current.state} is terminal`,
      finishWindow: null,
    };
  }
  if (cadence.mode === 'fixed') {
    const first = pollIndex === 0;
    return decision(
      'steady',
      scale(first ? cadence.initialIntervalMs : cadence.intervalMs),
      first ? 'fixed: first read' : 'fixed interval'
    );
  }
  if (cadence.mode === 'exponential') {
    const step = pollDelayMs(
      pollIndex,
      {
        initialIntervalMs: scale(cadence.initialIntervalMs),
        maximumIntervalMs: scale(cadence.maximumIntervalMs),
        backoffCoefficient: cadence.backoffCoefficient,
      },
      seed
    );
    return decision('steady', step, `exponential backoff, step ${pollIndex}`);
  }

  const minimum = scale(cadence.minimumIntervalMs);
  if (current.state !== 'InProgress') {
    const floorAt = now + scale(cadence.inProgressFloorMs);
    return decision(
      'queued',
      queuedStep(cadence, seed),
      `${current.state}: the queue says nothing about the finish; reading to catch the start of InProgress`,
      current.state === 'Queued' ? { earliest: floorAt, latest: null } : null
    );
  }

  const window = finishWindow(cadence, memory, current);
  const since = memory.inProgressSince;
  const startedAt = since ? (since.after ?? since.atMost) : now;
  const fine = Math.min(
    Math.max(minimum, (now - startedAt) / FINE_STEP_DIVISOR),
    Math.max(minimum, FINE_STEP_MAX_FACTOR * minimum)
  );
  const latest = window.latest ?? window.earliest + Math.max(6 * fine, OPEN_WINDOW_FRACTION * window.floor);
  const range = `${iso(window.earliest)}–${window.latest === null ? 'open' : iso(window.latest)}`;
  const finish = { earliest: window.earliest, latest: window.latest };
  if (now < window.earliest - fine / 2) {
    // Far: spread the wait to the window evenly over as few reads as the maximum allows.
    const gap = window.earliest - now;
    const reads = Math.ceil(gap / scale(cadence.maximumIntervalMs));
    return decision(
      'far',
      Math.max(minimum, gap / reads),
      `far from the estimated finish ${range} (${window.basis})`,
      finish
    );
  }
  if (now <= latest) {
    const step = Math.max(fine, (minimum * (latest - window.earliest)) / scale(NEAR_WINDOW_FINE_MS));
    return decision('near', step, `near the estimated finish ${range} (${window.basis})`, finish);
  }
  return decision(
    'overdue',
    Math.min(Math.max(fine, (now - latest) * OVERDUE_RATIO), scale(cadence.maximumIntervalMs)),
    `past the estimated finish ${range} (${window.basis}); backing off`,
    finish
  );
}

/** The longest wait a cadence ever asks for, on the worker's clock. */
export function longestWaitMs(cadence: PollCadence): number {
  const atlasMs =
    cadence.mode === 'fixed' ? Math.max(cadence.initialIntervalMs, cadence.intervalMs) : cadence.maximumIntervalMs;
  return Math.max(1, atlasMs / cadence.timeScale);
}

/** The queued step of this export: ±10 % by seed, within the mode's bounds. */
function queuedStep(cadence: Extract<PollCadence, { mode: 'adaptive' }>, seed: string): number {
  const jitter = 1 + QUEUED_JITTER_RATIO * (2 * stableFraction(`${seed}:queued`) - 1);
  const step = Math.min(
    Math.max(cadence.queuedIntervalMs * jitter, cadence.minimumIntervalMs),
    cadence.maximumIntervalMs
  );
  return step / cadence.timeScale;
}

interface FinishWindow {
  earliest: number;
  latest: number | null;
  /** The `InProgress` floor on the worker's clock. */
  floor: number;
  basis: string;
}

/**
 * When an `InProgress` job ends, on the worker's clock: the floor and the learned durations bound the
 * `InProgress` time, counted from when it began; the collection count bounds it by a linear model, from the
 * start and from the rate since the first counted read. Progress is evidence about this very job, so when it
 * contradicts the learned bounds, it wins.
 */
function finishWindow(
  cadence: Extract<PollCadence, { mode: 'adaptive' }>,
  memory: CadenceMemory,
  current: PollObservation
): FinishWindow {
  const scale = (atlasMs: number) => atlasMs / cadence.timeScale;
  const now = current.at;
  const floor = scale(cadence.inProgressFloorMs);
  const since = memory.inProgressSince ?? { after: null, atMost: now };
  const basis: string[] = [];

  let minWork = floor;
  let maxWork = Number.POSITIVE_INFINITY;
  if (memory.learned) {
    const shortest = scale(memory.learned.shortestMs);
    maxWork = shortest * (1 + CEILING_MARGIN) + scale(CEILING_SLACK_MS);
    // Past exports that ended sooner than the floor overrule it: they are evidence about this cluster.
    minWork = Math.min(Math.max(floor, shortest - scale(QUEUE_ALLOWANCE_MS)), maxWork);
    basis.push(`${memory.learned.exports} past exports`);
  }
  // With the start unknown (the job was already running when first seen), the finish is only known to be later
  // than that first sight; anchoring there (not at `now`) lets the window pass, so reads back off.
  let earliest = since.after === null ? since.atMost : since.after + minWork;
  let latest: number | null = Number.isFinite(maxWork) ? since.atMost + maxWork : null;
  basis.unshift(since.after === null ? 'start unknown' : 'InProgress floor');

  const progress = progressWindow(memory, current, since);
  if (progress) {
    const lo = Math.max(earliest, progress.earliest);
    const hi = latest === null ? progress.latest : Math.min(latest, progress.latest);
    if (lo <= hi) {
      earliest = lo;
      latest = hi;
    } else {
      earliest = progress.earliest;
      latest = progress.latest;
    }
    basis.push(progress.basis);
  }
  return { earliest, latest, floor, basis: basis.join(', ') };
}

/** Bounds of the finish from the collection count, assuming collections go at a steady rate. */
function progressWindow(
  memory: CadenceMemory,
  current: PollObservation,
  since: { after: number | null; atMost: number }
): { earliest: number; latest: number; basis: string } | null {
  const total = current.totalCollections ?? 0;
  const done = current.exportedCollections ?? 0;
  if (total <= 0 || done <= 0 || done >= total) return null;
  const now = current.at;
  let lo = Number.NEGATIVE_INFINITY;
  let hi = Number.POSITIVE_INFINITY;
  if (since.after !== null) {
    // done/total ≤ (now − start)/work < (done+1)/total, with start in (after, atMost].
    lo = since.after + ((now - since.atMost) * total) / (done + 1);
    hi = since.atMost + ((now - since.after) * total) / done;
  }
  const anchor = memory.progressAnchor;
  if (anchor && anchor.total === total && done - anchor.exported >= 2 && now > anchor.at) {
    const counted = done - anchor.exported;
    const elapsed = now - anchor.at;
    lo = Math.max(lo, now + ((total - done - 1) * elapsed) / (counted + 1));
    hi = Math.min(hi, now + ((total - done) * elapsed) / (counted - 1));
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi) return null;
  const widen = (t: number, sign: number) => now + Math.max(0, t - now) * (1 + sign * PROGRESS_TOLERANCE);
  return { earliest: widen(lo, -1), latest: widen(hi, 1), basis: `${done}/${total} collections` };
}

function iso(ms: number): string {
  return new Date(Math.round(ms)).toISOString();
}
