import { describe, expect, it } from 'vitest';
import {
  ADAPTIVE_DEFAULTS,
  decideNextPoll,
  initialCadenceMemory,
  learnDurations,
  longestWaitMs,
  rememberObservation,
  type CadenceDecision,
  type CadenceMemory,
  type LearnedDurations,
  type PollCadence,
  type PollObservation,
} from '../../src/shared/polling/poll-cadence';

const MIN = 60_000;
const adaptive: PollCadence = { mode: 'adaptive', ...ADAPTIVE_DEFAULTS, timeScale: 1 };

/** A small seeded generator, so the "many inputs" loops are the same on every run. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A modelled export: queued `queuedMs`, then `workMs` InProgress with `total` collections going linearly. */
function job(queuedMs: number, workMs: number, total: number) {
  return (at: number): PollObservation => {
    if (at < queuedMs) return { state: 'Queued', exportedCollections: 0, totalCollections: 0, at };
    if (at < queuedMs + workMs) {
      const exported = Math.floor((total * (at - queuedMs)) / workMs);
      return { state: 'InProgress', exportedCollections: exported, totalCollections: total, at };
    }
    return { state: 'Successful', exportedCollections: total, totalCollections: total, at };
  };
}

/**
 * Drives the cadence through one modelled export the way the polling activity and workflow do: every read is
 * remembered, and the memory is handed back (as the workflow would) when it changed or the phase changed.
 */
function drive(cadence: PollCadence, read: (at: number) => PollObservation, learned: LearnedDurations | null) {
  let memory: CadenceMemory = initialCadenceMemory(0, learned);
  let known = read(0);
  let decision = decideNextPoll(cadence, memory, known, 0, 'wf');
  const decisions: CadenceDecision[] = [decision];
  for (let reads = 1; reads < 10_000; reads++) {
    const current = read(decision.nextPollAt!);
    const next = rememberObservation(cadence, memory, known, current, 'wf');
    decision = decideNextPoll(cadence, next, current, reads, 'wf');
    decisions.push(decision);
    if (next !== memory || current.state !== known.state || decision.phase !== memory.phase) {
      memory = { ...next, observedAt: current.at, phase: decision.phase };
      known = current;
    }
    if (decision.phase === 'done') return { reads, decisions, finishedSeenAt: current.at };
  }
  throw new Error('the cadence never saw the job end');
}

describe('adaptive poll cadence', () => {
  it('never waits longer than the maximum interval, whatever it is told (many inputs)', () => {
    const random = seeded(7);
    const states = ['Queued', 'InProgress', 'InProgress', 'InProgress', 'SomethingNew'];
    for (let i = 0; i < 20_000; i++) {
      const timeScale = [1, 1, 60, 600][Math.floor(random() * 4)]!;
      const maximumIntervalMs = 20_000 + random() * 3_600_000;
      const cadence: PollCadence = {
        mode: 'adaptive',
        minimumIntervalMs: Math.min(maximumIntervalMs, 1_000 + random() * 60_000),
        maximumIntervalMs,
        queuedIntervalMs: random() * 10 * MIN,
        inProgressFloorMs: random() * 60 * MIN,
        timeScale,
      };
      const now = 1e12 + random() * 1e9;
      const total = Math.floor(random() * 500);
      const after = random() < 0.2 ? null : now - random() * 1e8;
      const memory: CadenceMemory = {
        observedAt: now - random() * 1e8,
        inProgressSince: random() < 0.3 ? null : { after, atMost: (after ?? now - 1e8) + random() * 1e6 },
        progressAnchor:
          random() < 0.5 ? null : { at: now - random() * 1e8, exported: Math.floor(random() * total), total },
        learned: random() < 0.5 ? null : { exports: 3, shortestMs: random() * 1e8, medianMs: random() * 1e8 },
        phase: null,
      };
      const current: PollObservation = {
        state: states[Math.floor(random() * states.length)]!,
        exportedCollections: random() < 0.1 ? null : Math.floor(random() * (total + 1)),
        totalCollections: random() < 0.1 ? null : total,
        at: now,
      };
      const d = decideNextPoll(cadence, memory, current, Math.floor(random() * 100), `wf-${i}`);
      expect(d.delayMs).toBeGreaterThanOrEqual(1);
      expect(d.delayMs).toBeLessThanOrEqual(Math.max(1, Math.round(maximumIntervalMs / timeScale)));
      expect(d.nextPollAt).toBe(now + d.delayMs);
      expect(Number.isFinite(d.delayMs)).toBe(true);
    }
  });

  it('never waits longer than the maximum interval through whole exports, and sees every one end', () => {
    const random = seeded(11);
    for (let i = 0; i < 300; i++) {
      const queued = (1.7 + random() * 20) * MIN;
      const work = random() < 0.5 ? (10.3 + random() * 1.8) * MIN : (60 + random() * 300) * MIN;
      const learned = random() < 0.5 ? null : { exports: 4, shortestMs: work + 2 * MIN, medianMs: work + 3 * MIN };
      const { decisions, finishedSeenAt } = drive(adaptive, job(queued, work, 1 + Math.floor(random() * 300)), learned);
      for (const d of decisions.slice(0, -1))
        expect(d.delayMs).toBeLessThanOrEqual(ADAPTIVE_DEFAULTS.maximumIntervalMs);
      expect(finishedSeenAt - (queued + work)).toBeLessThanOrEqual(ADAPTIVE_DEFAULTS.maximumIntervalMs);
    }
  });

  it('is state-aware: queued reads catch the start, InProgress waits out its floor, terminal states stop', () => {
    const memory = initialCadenceMemory(0, null);
    const queued = decideNextPoll(
      adaptive,
      memory,
      { state: 'Queued', exportedCollections: 0, totalCollections: 0, at: 0 },
      0,
      'wf'
    );
    expect(queued.phase).toBe('queued');
    expect(queued.delayMs).toBeLessThanOrEqual(ADAPTIVE_DEFAULTS.queuedIntervalMs * 1.1);
    expect(queued.finishWindow?.earliest).toBe(ADAPTIVE_DEFAULTS.inProgressFloorMs);

    const started = rememberObservation(adaptive, memory, { state: 'Queued' }, inProgress(60_000, 0, 0), 'wf');
    expect(started.inProgressSince).toEqual({ after: 0, atMost: 60_000 });
    const justStarted = decideNextPoll(adaptive, started, inProgress(60_000, 0, 0), 1, 'wf');
    expect(justStarted.phase).toBe('far');
    expect(justStarted.finishWindow!.earliest).toBe(ADAPTIVE_DEFAULTS.inProgressFloorMs);

    for (const state of ['Successful', 'Failed', 'Cancelled']) {
      const done = decideNextPoll(
        adaptive,
        started,
        { state, exportedCollections: 0, totalCollections: 0, at: 1 },
        2,
        'wf'
      );
      expect(done).toMatchObject({ phase: 'done', nextPollAt: null });
    }
  });

  it('reacts to progress: little done means a far finish and a long wait, nearly all done means fine reads', () => {
    const hour = 60 * MIN;
    const memory: CadenceMemory = {
      ...initialCadenceMemory(0, null),
      inProgressSince: { after: 0, atMost: MIN },
      progressAnchor: { at: MIN, exported: 0, total: 200 },
    };
    const at = (exported: number) => decideNextPoll(adaptive, memory, inProgress(hour, exported, 200), 5, 'wf');
    const slow = at(20); // 10 % in an hour: about 9 h to go
    const fast = at(199); // 99.5 % in an hour: under a minute to go
    expect(slow.phase).toBe('far');
    expect(fast.phase).toBe('near');
    expect(slow.finishWindow!.earliest).toBeGreaterThan(fast.finishWindow!.latest!);
    expect(slow.delayMs).toBeGreaterThan(ADAPTIVE_DEFAULTS.maximumIntervalMs / 2);
    expect(fast.delayMs).toBeLessThan(slow.delayMs / 10);
    expect(fast.reason).toContain('199/200 collections');
  });

  it('reads a wide window at a step tied to minimumInterval: the default is coarser there, a finer minimum is finer', () => {
    // Started between 0 and 1 min ago, no progress counts, a learned ceiling: a window of several minutes.
    const memory: CadenceMemory = {
      ...initialCadenceMemory(0, { exports: 5, shortestMs: 15 * MIN, medianMs: 16 * MIN }),
      inProgressSince: { after: 0, atMost: MIN },
    };
    const current = { ...inProgress(10.5 * MIN, 0, 0) };
    const byDefault = decideNextPoll(adaptive, memory, current, 5, 'wf');
    const finer = decideNextPoll({ ...adaptive, minimumIntervalMs: 4_000 }, memory, current, 5, 'wf');
    const width = byDefault.finishWindow!.latest! - byDefault.finishWindow!.earliest;
    expect(byDefault.phase).toBe('near');
    expect(width).toBeGreaterThan(5 * MIN);
    expect(byDefault.delayMs).toBeCloseTo((10_000 * width) / (5 * MIN), -1);
    expect(finer.delayMs).toBeCloseTo((4_000 * width) / (5 * MIN), -1);
  });

  it('uses past durations: a cluster whose exports take hours is not read finely at the 10-minute floor', () => {
    const learned = learnDurations(
      [
        job3('a', '2026-01-01T00:00:00Z', '2026-01-01T03:05:00Z'),
        job3('b', '2026-01-02T00:00:00Z', '2026-01-02T03:20:00Z'),
        job3('c', '2026-01-03T00:00:00Z', '2026-01-03T03:02:00Z'),
      ],
      null
    );
    expect(learned).toEqual({ exports: 3, shortestMs: 182 * MIN, medianMs: 185 * MIN });
    const since = { inProgressSince: { after: 0, atMost: MIN }, progressAnchor: null };
    const without = { ...initialCadenceMemory(0, null), ...since };
    const withHistory = { ...initialCadenceMemory(0, learned), ...since };
    const atFloor = inProgress(11 * MIN, 0, 0);
    const blind = decideNextPoll(adaptive, without, atFloor, 3, 'wf');
    const informed = decideNextPoll(adaptive, withHistory, atFloor, 3, 'wf');
    expect(blind.phase).toBe('near');
    expect(informed.phase).toBe('far');
    expect(informed.delayMs).toBeGreaterThan(blind.delayMs * 10);
    expect(informed.reason).toContain('3 past exports');
    // The learned ceiling closes an otherwise open window.
    expect(blind.finishWindow!.latest).toBeNull();
    expect(informed.finishWindow!.latest).not.toBeNull();
  });

  it('uses past durations: exports that ended sooner than the floor overrule it', () => {
    const learned = { exports: 2, shortestMs: 3 * MIN, medianMs: 4 * MIN };
    const memory = { ...initialCadenceMemory(0, learned), inProgressSince: { after: 0, atMost: MIN } };
    const d = decideNextPoll(adaptive, memory, inProgress(2 * MIN, 0, 0), 2, 'wf');
    expect(d.finishWindow!.latest).toBeLessThan(ADAPTIVE_DEFAULTS.inProgressFloorMs);
    expect(d.nextPollAt).toBeLessThanOrEqual(d.finishWindow!.latest!);
  });

  it('learns only from the cluster’s other Successful exports, newest first', () => {
    const jobs = [
      job3('now', '2026-01-05T00:00:00Z', '2026-01-05T00:10:00Z'),
      { ...job3('failed', '2026-01-04T00:00:00Z', '2026-01-04T00:01:00Z'), state: 'Failed' },
      { id: 'running', state: 'InProgress', createdAt: '2026-01-04T00:00:00Z' },
      job3('old', '2026-01-01T00:00:00Z', '2026-01-01T00:30:00Z'),
      job3('older', '2025-01-01T00:00:00Z', '2025-01-01T00:20:00Z'),
    ];
    expect(learnDurations(jobs, 'now', 1)).toEqual({ exports: 1, shortestMs: 30 * MIN, medianMs: 30 * MIN });
    expect(learnDurations(jobs, 'now')).toEqual({ exports: 2, shortestMs: 20 * MIN, medianMs: 20 * MIN });
    expect(learnDurations([], null)).toBeNull();
  });

  it('backs off past a wrong estimate, up to the maximum interval', () => {
    const memory: CadenceMemory = { ...initialCadenceMemory(0, null), inProgressSince: { after: 0, atMost: MIN } };
    const delays = [15, 30, 60, 120, 240].map(
      (m) => decideNextPoll(adaptive, memory, inProgress(m * MIN, 0, 0), 9, 'wf').delayMs
    );
    expect(delays.slice(1).every((d, i) => d >= delays[i]!)).toBe(true);
    expect(delays.at(-1)).toBe(ADAPTIVE_DEFAULTS.maximumIntervalMs);
  });

  it('backs off on a job already running when first seen (start unknown) instead of reading finely forever', () => {
    const memory = rememberObservation(
      adaptive,
      initialCadenceMemory(0, null),
      { state: 'InProgress' },
      inProgress(MIN, 0, 0),
      'wf'
    );
    expect(memory.inProgressSince).toEqual({ after: null, atMost: 0 });
    const later = decideNextPoll(adaptive, memory, inProgress(60 * MIN, 0, 0), 20, 'wf');
    expect(later.phase).toBe('overdue');
    expect(later.delayMs).toBe(ADAPTIVE_DEFAULTS.maximumIntervalMs);
  });

  it('is deterministic: the same export replays to the same decisions, and time scale only divides them', () => {
    const read = job(5 * MIN, 11 * MIN, 12);
    const first = drive(adaptive, read, null);
    const again = drive(adaptive, read, null);
    expect(again.decisions).toEqual(first.decisions);

    const scaled = drive({ ...adaptive, timeScale: 600 }, (at) => ({ ...read(at * 600), at }), null);
    expect(scaled.reads).toBe(first.reads);
    expect(scaled.decisions.map((d) => d.phase)).toEqual(first.decisions.map((d) => d.phase));
  });

  it('spreads queued reads of exports created together', () => {
    const queued = { state: 'Queued', exportedCollections: 0, totalCollections: 0, at: 0 };
    const delays = new Set(
      Array.from(
        { length: 30 },
        (_, i) => decideNextPoll(adaptive, initialCadenceMemory(0, null), queued, 0, `wf-${i}`).delayMs
      )
    );
    expect(delays.size).toBeGreaterThan(20);
  });
});

describe('the adaptive cadence on modelled exports (design targets of the issue-5 benchmark)', () => {
  /** Seeded modelled mixes after `poll-cadence.md`: queue 1.7–21.4 min (median about 2.4), then the work. */
  function mix(kind: 'real' | 'long', n: number) {
    const random = seeded(kind === 'real' ? 3 : 5);
    return Array.from({ length: n }, () => {
      const queued = Math.min(21.4, 1 + 0.7 * Math.exp(3.3 * random() ** 3)) * MIN;
      const work = kind === 'real' ? (10.3 + 1.8 * random() ** 2) * MIN : (60 + 300 * random()) * MIN;
      const total = kind === 'real' ? 8 : 20 + Math.floor(random() * 200);
      return { queued, work, total };
    });
  }
  function run(cadence: PollCadence, kind: 'real' | 'long') {
    const runs = mix(kind, 300).map(({ queued, work, total }) => {
      const { reads, finishedSeenAt } = drive(cadence, job(queued, work, total), null);
      return { reads, lag: finishedSeenAt - (queued + work) };
    });
    const at = (xs: number[], q: number) => xs.sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))]!;
    return {
      reads: at(
        runs.map((r) => r.reads),
        0.5
      ),
      lagP95: at(
        runs.map((r) => r.lag),
        0.95
      ),
    };
  }

  it('reads less than fixed 60 s and exponential 5 s x2 (cap 60 s), at a lower p95 lag, on the real mix', () => {
    const ours = run(adaptive, 'real');
    for (const baseline of [
      { mode: 'fixed', initialIntervalMs: 60_000, intervalMs: 60_000, timeScale: 1 },
      { mode: 'exponential', initialIntervalMs: 5_000, maximumIntervalMs: 60_000, backoffCoefficient: 2, timeScale: 1 },
    ] as const) {
      const theirs = run(baseline, 'real');
      expect(ours.reads).toBeLessThan(theirs.reads);
      expect(ours.lagP95).toBeLessThan(theirs.lagP95);
    }
    expect(ours.reads).toBeLessThanOrEqual(12);
    expect(ours.lagP95).toBeLessThanOrEqual(15_000);
  });

  it('with minimumInterval 4 s, sees the finish within one 4 s step as fixed 4 s does, in a quarter of the reads', () => {
    const fine = run({ ...adaptive, minimumIntervalMs: 4_000 }, 'real');
    const fixed4 = run({ mode: 'fixed', initialIntervalMs: 4_000, intervalMs: 4_000, timeScale: 1 }, 'real');
    // Both see the finish within one 4 s step (p95 about 3.8 s each); ours in a quarter of the reads or fewer.
    expect(fine.lagP95).toBeLessThanOrEqual(4_000);
    expect(fixed4.lagP95).toBeLessThanOrEqual(4_000);
    expect(fine.reads * 4).toBeLessThan(fixed4.reads);
  });

  it('stays within 40 reads at a p95 lag of 30 s on the long mix', () => {
    const ours = run(adaptive, 'long');
    expect(ours.reads).toBeLessThanOrEqual(40);
    expect(ours.lagP95).toBeLessThanOrEqual(30_000);
  });
});

describe('fixed and exponential poll cadences', () => {
  const observation = { state: 'InProgress', exportedCollections: 1, totalCollections: 9, at: 1_000 };
  const memory = initialCadenceMemory(0, null);

  it('fixed: a first wait, then one interval (CloudFormation: 65 s, then 45 s)', () => {
    const cadence: PollCadence = { mode: 'fixed', initialIntervalMs: 65_000, intervalMs: 45_000, timeScale: 1 };
    expect(decideNextPoll(cadence, memory, observation, 0, 'wf').delayMs).toBe(65_000);
    for (let i = 1; i < 50; i++) expect(decideNextPoll(cadence, memory, observation, i, 'wf').delayMs).toBe(45_000);
    expect(longestWaitMs(cadence)).toBe(65_000);
  });

  it('exponential: grows by the coefficient up to the maximum (5 s × 2, cap 60 s), time-scaled', () => {
    const cadence: PollCadence = {
      mode: 'exponential',
      initialIntervalMs: 5_000,
      maximumIntervalMs: 60_000,
      backoffCoefficient: 2,
      timeScale: 10,
    };
    const delays = Array.from({ length: 12 }, (_, i) => decideNextPoll(cadence, memory, observation, i, 'wf').delayMs);
    expect(delays[0]).toBeLessThanOrEqual(550);
    expect(delays.every((d) => d <= 6_000)).toBe(true);
    expect(delays.at(-1)).toBeGreaterThan(5_000);
  });

  it('keeps no memory (nothing to report beyond state and progress)', () => {
    const cadence: PollCadence = { mode: 'fixed', initialIntervalMs: 4_000, intervalMs: 4_000, timeScale: 1 };
    expect(rememberObservation(cadence, memory, { state: 'Queued' }, observation, 'wf')).toBe(memory);
  });
});

function inProgress(at: number, exported: number, total: number): PollObservation {
  return { state: 'InProgress', exportedCollections: exported, totalCollections: total, at };
}

function job3(id: string, createdAt: string, finishedAt: string) {
  return { id, state: 'Successful', createdAt, finishedAt };
}
