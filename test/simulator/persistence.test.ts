import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtlasSimulator } from '../../src/simulator';
import { api, exportsPath, oauthToken, pollUntil, TEST_CREDENTIALS, type JobBody } from './helpers';

describe('state file', () => {
  let dir: string;
  let stateFile: string;
  const sims: AtlasSimulator[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'atlas-sim-state-'));
    stateFile = join(dir, 'nested', 'state.json');
  });
  afterEach(async () => {
    await Promise.all(sims.splice(0).map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (timeScale = 1000) => {
    const sim = await AtlasSimulator.start({
      credentials: TEST_CREDENTIALS,
      stateFile,
      timeScale,
      defaultExportPlan: { queuedMs: 30_000, inProgressMs: 120_000 },
    });
    sims.push(sim);
    return sim;
  };

  it('keeps fixtures, jobs, tokens and stats across a restart, and jobs keep progressing', async () => {
    const first = await start();
    const f = first.seedDefault();
    const created = await api<JobBody>(first, exportsPath(f.groupId, f.clusterName), {
      body: { snapshotId: f.snapshotId, exportBucketId: f.exportBucketId, customData: [{ key: 'k', value: 'v' }] },
    });
    expect(created.status).toBe(200);
    const token = await oauthToken(first);
    await first.close();

    const second = await start();
    expect(second.defaultFixtures).toEqual(f);
    const jobs = second.exportJobs(f.groupId);
    expect(jobs.map((j) => j.id)).toEqual([created.json.id]);
    expect(jobs[0]?.customData).toEqual([{ key: 'k', value: 'v' }]);
    expect(second.stats.maxConcurrentActiveExports).toBe(1);

    const path = `${exportsPath(f.groupId, f.clusterName)}/${created.json.id}`;
    const viaToken = await api<JobBody>(second, path, { auth: { bearer: token } });
    expect(viaToken.status).toBe(200);
    expect(viaToken.json.createdAt).toBe(created.json.createdAt);
    await pollUntil(
      async () => (await api<JobBody>(second, path)).json,
      (j) => j.state === 'Successful'
    );

    const fresh = second.addSnapshot(f.groupId, f.clusterName);
    expect(fresh).not.toBe(f.snapshotId);
    const again = await api<JobBody>(second, exportsPath(f.groupId, f.clusterName), {
      body: { snapshotId: fresh, exportBucketId: f.exportBucketId },
    });
    expect(again.status).toBe(200);
    expect(again.json.id).not.toBe(created.json.id);
  });

  it('never moves simulated time backwards after a restart', async () => {
    const first = await start(100_000);
    const f = first.seedDefault();
    const created = await api<JobBody>(first, exportsPath(f.groupId, f.clusterName), {
      body: { snapshotId: f.snapshotId, exportBucketId: f.exportBucketId },
    });
    await new Promise((r) => setTimeout(r, 20));
    await first.close();
    const second = await start(1);
    expect(second.simulatedNow().getTime()).toBeGreaterThanOrEqual(Date.parse(created.json.createdAt));
  });

  it('writes the file shortly after a change and refuses an invalid file', async () => {
    const sim = await start();
    sim.seedDefault();
    await pollUntil(
      () => Promise.resolve(readFileSafe(stateFile)),
      (text) => text.includes('"defaultFixtures"'),
      { attempts: 40, intervalMs: 25 }
    );
    await sim.close();
    writeFileSync(stateFile, '{"version": 2}');
    await expect(start()).rejects.toThrow(/state file .* is invalid/);
  });
});

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
