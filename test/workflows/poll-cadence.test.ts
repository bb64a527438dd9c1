import type { WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import type { CadenceReport, ExportCompletion, ExportSnapshotInput } from '../../src/shared/contract/export-contract';
import { progressQuery } from '../../src/workflows';
import { useExportSuite } from '../helpers/export-harness';
import { fetchHistoryStats } from '../helpers/history';

/**
 * The poll cadence end to end: real worker, real Temporal dev server, the Atlas simulator. Atlas time runs 60×
 * (the dev server retries no sooner than 1 s, so faster clocks would stretch the cadence's fine steps), and
 * `polling.timeScale` tells the cadence so. Nothing here asserts timings: only what the cadence decided and why.
 */
const TIME_SCALE = 60;
// A seed of its own: simulators with the default seed hand out the same job ids, which other suites' visibility
// queries (by export job id, on the shared dev server) would find.
const suite = useExportSuite({ timeScale: TIME_SCALE, seed: 5150 });

let clusters = 0;
/** A cluster of its own (no past exports) with a completed snapshot and a 2 + 10 min export plan. */
function freshCluster(): { clusterName: string; snapshot: () => string } {
  const { sim, fixtures } = suite.atlas;
  const clusterName = `Cadence${++clusters}`;
  sim.addCluster(fixtures.groupId, clusterName, { totalCollections: 8 });
  sim.setExportPlan({ queuedMs: 120_000, inProgressMs: 600_000 }, { groupId: fixtures.groupId, clusterName });
  return { clusterName, snapshot: () => sim.addSnapshot(fixtures.groupId, clusterName, { status: 'completed' }) };
}

function input(clusterName: string, snapshotId: string, polling: ExportSnapshotInput['polling']) {
  return suite.h.input({ clusterName, snapshotId, polling: { timeout: '2m', attemptTimeout: '10s', ...polling } });
}

/** Runs to the end while collecting every distinct cadence decision the progress query showed. */
async function watch(handle: WorkflowHandle): Promise<{ result: ExportCompletion; seen: CadenceReport[] }> {
  const seen = new Map<string, CadenceReport>();
  let result: ExportCompletion | undefined;
  const done = handle.result().then((r: ExportCompletion) => (result = r));
  while (!result) {
    const p = await handle.query(progressQuery).catch(() => undefined);
    if (p?.cadence) seen.set(JSON.stringify(p.cadence), p.cadence);
    await new Promise((r) => setTimeout(r, 50));
  }
  await done;
  const last = (await handle.query(progressQuery)).cadence;
  if (last) seen.set(JSON.stringify(last), last);
  return { result, seen: [...seen.values()] };
}

function statusReads(exportJobId: string | null): number {
  return suite.atlas.sim.requests.filter((r) => r.operation === 'getExportJob' && r.path.includes(String(exportJobId)))
    .length;
}

describe('poll cadence against the Atlas simulator', () => {
  it('adaptive by default: follows the state, and shows each decision with its reason in the progress query', async () => {
    const { clusterName, snapshot } = freshCluster();
    const handle = await suite.h.start(input(clusterName, snapshot(), { timeScale: TIME_SCALE }));
    const { result, seen } = await watch(handle);

    expect(result.state).toBe('Successful');
    expect(seen.every((c) => c.mode === 'adaptive')).toBe(true);
    const phases = new Set(seen.map((c) => c.phase));
    expect(phases.has('queued')).toBe(true);
    expect([...phases].some((p) => p === 'far' || p === 'near' || p === 'overdue')).toBe(true);
    expect(seen.at(-1)).toMatchObject({ phase: 'done', nextPollAt: null });
    for (const c of seen.filter((c) => c.phase !== 'done')) {
      expect(Date.parse(c.nextPollAt!)).toBeGreaterThan(Date.parse(c.decidedAt));
      expect(c.reason.length).toBeGreaterThan(10);
    }
    const inProgress = seen.find((c) => c.phase === 'far' || c.phase === 'near');
    expect(inProgress?.estimatedFinish?.earliest).toBeDefined();
    expect(inProgress?.reason).toContain('InProgress floor');
    // Retry-driven: a handful of reports in history, however many reads.
    const stats = await fetchHistoryStats(handle);
    expect(stats.timers).toBe(0);
    expect(stats.events).toBeLessThan(100);
    expect(statusReads(result.exportJobId)).toBeGreaterThan(0);
  }, 60_000);

  it("uses the cluster's past exports: a second export aims at the learned duration", async () => {
    const { clusterName, snapshot } = freshCluster();
    const polling = { timeScale: TIME_SCALE };
    const first = await watch(await suite.h.start(input(clusterName, snapshot(), polling)));
    expect(first.result.state).toBe('Successful');
    expect(first.seen.some((c) => c.reason.includes('past export'))).toBe(false);

    const second = await watch(await suite.h.start(input(clusterName, snapshot(), polling)));
    expect(second.result.state).toBe('Successful');
    const informed = second.seen.filter((c) => c.reason.includes('1 past exports'));
    expect(informed.length).toBeGreaterThan(0);
    // The learned ceiling closes the estimated finish window.
    expect(informed.some((c) => c.estimatedFinish?.latest)).toBe(true);
  }, 90_000);

  it('fixed mode reads at its interval and says so', async () => {
    const { clusterName, snapshot } = freshCluster();
    const handle = await suite.h.start(
      input(clusterName, snapshot(), { mode: 'fixed', initialInterval: '65s', interval: '45s', timeScale: TIME_SCALE })
    );
    const { result, seen } = await watch(handle);
    expect(result.state).toBe('Successful');
    expect(seen.filter((c) => c.phase !== 'done').every((c) => c.mode === 'fixed' && c.phase === 'steady')).toBe(true);
  }, 60_000);

  it('carries what the cadence learned across continue-as-new', async () => {
    const { clusterName, snapshot } = freshCluster();
    const polling = { timeScale: TIME_SCALE };
    expect((await (await suite.h.start(input(clusterName, snapshot(), polling))).result()).state).toBe('Successful');

    // Read at least once a simulated minute (1 s real, the floor) and report every progress change, so the run
    // wakes often enough over its 12 simulated minutes to pass 20 history events and continue as new, whatever
    // the learned cadence would otherwise skip.
    const handle = await suite.h.start(
      input(clusterName, snapshot(), { ...polling, maximumInterval: '1m', reportInterval: '1s', maxHistoryEvents: 20 })
    );
    const { result, seen } = await watch(handle);
    expect(result.state).toBe('Successful');
    const progress = await handle.query(progressQuery);
    expect(progress.continuedAsNew).toBeGreaterThan(0);
    expect(seen.at(-2)?.reason).toContain('1 past exports');
  }, 90_000);
});
