import type { ExportTarget } from '../../src/shared/contract/scheduled-export-contract';
import type { AtlasSimulator } from '../../src/simulator';

/** A project of its own (so the simulator's per-project stats are this test's alone) with clusters and a bucket. */
export interface Fleet {
  groupId: string;
  exportBucketId: string;
  clusters: { clusterName: string; snapshotId: string }[];
  /** One `latest` target per cluster. */
  targets: ExportTarget[];
}

/**
 * `n` replica sets, each with an older and a newer completed snapshot (`snapshotId` is the newer one) and a
 * newest `fallback` snapshot that must never be chosen.
 */
export function createFleet(sim: AtlasSimulator, n: number, prefix = 'Fleet'): Fleet {
  const groupId = sim.addProject();
  const exportBucketId = sim.addExportBucket(groupId);
  const now = sim.simulatedNow().getTime();
  const clusters = Array.from({ length: n }, (_, i) => {
    const clusterName = `${prefix}${i}`;
    sim.addCluster(groupId, clusterName, { totalCollections: 4 });
    sim.addSnapshot(groupId, clusterName, { createdAt: new Date(now - 2 * 86_400_000) });
    const snapshotId = sim.addSnapshot(groupId, clusterName, { createdAt: new Date(now - 86_400_000) });
    sim.addSnapshot(groupId, clusterName, { createdAt: new Date(now - 3600_000), snapshotType: 'fallback' });
    return { clusterName, snapshotId };
  });
  return {
    groupId,
    exportBucketId,
    clusters,
    targets: clusters.map((c) => ({ groupId, clusterName: c.clusterName, exportBucketId })),
  };
}

/** Export jobs of the project, grouped by `snapshotId/exportBucketId`. */
export function jobsBySnapshotAndBucket(sim: AtlasSimulator, groupId: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const j of sim.exportJobs(groupId)) {
    const key = `${j.snapshotId}/${j.exportBucketId}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}
