import { describe, expect, it } from 'vitest';
import { parseExportSnapshotInput } from '../../src/shared/contract/export-contract';
import { SEARCH_ATTRIBUTES } from '../../src/shared/observability/search-attributes';
import { progressQuery } from '../../src/workflows';
import { failureOf, FAST_POLLING, useExportSuite } from '../helpers/export-harness';

const suite = useExportSuite();

/** A job that goes InProgress at once and then shows no movement for ~100 simulated hours (0/1 collections). */
function stuckExport() {
  const snapshotId = suite.h.freshSnapshot();
  suite.atlas.sim.setExportPlan({ queuedMs: 1_000, inProgressMs: 360_000_000, totalCollections: 1 }, { snapshotId });
  return snapshotId;
}

describe('the stall alarm (polling.stallAfter)', () => {
  it('flags an export whose state and count stay put: search attribute, progress, details; it keeps waiting', async () => {
    const { h } = suite;
    const handle = await h.start(
      h.input({ snapshotId: stuckExport(), polling: { ...FAST_POLLING, stallAfter: '3s', timeout: '2m' } })
    );
    const deadline = Date.now() + 30_000;
    let stalledSince: string | null = null;
    while (stalledSince === null) {
      if (Date.now() > deadline) throw new Error('the stall alarm never went off');
      await new Promise((r) => setTimeout(r, 250));
      stalledSince = (await handle.query(progressQuery)).stalledSince;
    }
    const progress = await handle.query(progressQuery);
    expect(progress.state).toBe('InProgress');
    expect(progress.phase).toBe('polling'); // flagged, still following the job
    const described = await handle.describe();
    expect(described.status.name).toBe('RUNNING');
    expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.stalled)).toBe(true);
    await handle.cancel();
  }, 60_000);

  it('with failOnStall, fails the workflow with ExportStalled after telling the listener; the job keeps running', async () => {
    const { h } = suite;
    const listener = await h.startListener(1);
    const handle = await h.start(
      h.input({
        snapshotId: stuckExport(),
        notify: { workflowId: listener.workflowId },
        polling: { ...FAST_POLLING, stallAfter: '3s', failOnStall: true, timeout: '2m' },
      })
    );
    const failure = await failureOf(handle);
    expect(failure.type).toBe('ExportStalled');
    expect(failure.message).toMatch(/made no progress for 3000 ms \(still InProgress, 0\/1 collections\)/);
    const [completion] = await listener.result();
    expect(completion).toMatchObject({ workflowId: handle.workflowId, state: 'InProgress', terminal: false });
    expect(h.jobsOf(handle.workflowId).map((j) => j.state)).toEqual(['InProgress']);
    expect((await handle.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.stalled)).toBe(true);
  }, 60_000);

  it('does not go off while progress moves, and clears nothing it never raised', async () => {
    const { h, atlas } = suite;
    const snapshotId = h.freshSnapshot();
    // 12 collections over 10 simulated minutes (1 s real): a change every ~80 ms, far inside 3 s.
    atlas.sim.setExportPlan({ queuedMs: 1_000, inProgressMs: 600_000, totalCollections: 12 }, { snapshotId });
    const handle = await h.start(
      h.input({ snapshotId, polling: { ...FAST_POLLING, stallAfter: '3s', timeout: '2m' } })
    );
    expect((await handle.result()).state).toBe('Successful');
    expect((await handle.query(progressQuery)).stalledSince).toBeNull();
    expect((await handle.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.stalled)).toBeUndefined();
  }, 60_000);

  it('rejects failOnStall without stallAfter, naming the field', () => {
    const f = suite.atlas?.fixtures ?? {
      groupId: 'a'.repeat(24),
      clusterName: 'Cluster0',
      snapshotId: 'b'.repeat(24),
      exportBucketId: 'c'.repeat(24),
    };
    const parsed = parseExportSnapshotInput({ ...f, polling: { failOnStall: true } });
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.message).toContain('polling.failOnStall: needs stallAfter');
  });
});
