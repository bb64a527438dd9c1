import { resolve } from 'node:path';
import type { TargetPolicy } from '../activities';
import type { AtlasCredentials } from '../atlas';
import { atlasSecrets, hasAtlasCredentials, parseAtlasConfig } from '../config';
import { parseExportTargetConfig, type ExportTargetFlags } from '../config/export-target';
import type { ExportSnapshotInput } from '../shared/contract/export-contract';
import { AtlasSimulator, DEV_CREDENTIALS, type DefaultFixtures } from '../simulator';
import type { DemoSchedule } from './demo-schedule';

/** The Atlas side of the local stack: real Atlas when credentials are set, otherwise the simulator. */
export interface StackAtlas {
  /** One line saying which Atlas and how (never a secret). */
  description: string;
  baseUrl: string;
  credentials: AtlasCredentials;
  /** Values to mask in whatever gets logged. */
  secrets: string[];
  /** What the stack's export exports; `snapshotId` unset: the newest completed snapshot. */
  target: { groupId: string; clusterName: string; snapshotId: string | undefined; exportBucketId: string };
  /** Simulated Atlas ms per real ms: 1 against real Atlas. */
  timeScale: number;
  /** The polling input of the stack's exports: the default cadence on the simulator's clock. */
  polling: ExportSnapshotInput['polling'];
  /** The simulator's seeded ids (project, clusters, snapshots, bucket); undefined against real Atlas. */
  simulated: DefaultFixtures | undefined;
  /** The demo schedule's targets (simulator only, unless turned off). */
  demo: DemoSchedule | undefined;
  close(): Promise<void>;
}

/**
 * The stack's worker allows only the stack's own project, bucket and clusters (the demo schedule's too), as a
 * production worker with `WORKER_ALLOWED_TARGETS` would; a scaled clock only against the simulator.
 */
export function stackPolicy(atlas: StackAtlas): TargetPolicy {
  const { groupId, clusterName, exportBucketId } = atlas.target;
  const clusters = [...new Set([clusterName, ...(atlas.demo?.clusters ?? [])])];
  return {
    allowedTargets: { [groupId]: { buckets: [exportBucketId], clusters } },
    maxOnDemandRetentionDays: 7,
    simulator: atlas.simulated !== undefined,
  };
}

export interface StackAtlasOptions {
  env: NodeJS.ProcessEnv;
  /** Simulator speed-up (simulated ms per real ms). */
  timeScale: number;
  /** The simulator's state file goes here (beside Temporal's). */
  stateDir: string;
  targetFlags?: ExportTargetFlags;
  demoSchedule: boolean;
}

export async function startStackAtlas(options: StackAtlasOptions): Promise<StackAtlas> {
  if (hasAtlasCredentials(options.env)) {
    const { baseUrl, credentials } = parseAtlasConfig(options.env);
    return {
      description: `Atlas: ${baseUrl} (${credentials.mode})`,
      baseUrl,
      credentials,
      secrets: atlasSecrets(credentials),
      target: parseExportTargetConfig(options.env, options.targetFlags),
      timeScale: 1,
      polling: undefined,
      simulated: undefined,
      demo: undefined, // it would export every hour, for real
      close: () => Promise.resolve(),
    };
  }
  const scale = options.timeScale;
  const sim = await AtlasSimulator.start({
    timeScale: scale,
    stateFile: resolve(options.stateDir, 'atlas-simulator.json'),
  });
  const fixtures = sim.defaultFixtures ?? sim.seedDefault();
  // Tonight's snapshot: every run exports a new one, as a nightly job would.
  const snapshotId = sim.addSnapshot(fixtures.groupId, fixtures.clusterName, { status: 'completed' });
  // The default (adaptive) cadence on the simulator's clock.
  const polling = { timeScale: scale, reportInterval: Math.max(1_000, Math.round(60_000 / scale)) };
  const { groupId, clusterName, shardedClusterName, exportBucketId } = fixtures;
  return {
    description: `Atlas simulator: ${sim.url} (no Atlas credentials set; ${scale}× time)`,
    baseUrl: sim.url,
    credentials: { mode: 'api-key', ...DEV_CREDENTIALS.apiKeys[0]! },
    secrets: [],
    target: { groupId, clusterName, snapshotId, exportBucketId },
    timeScale: scale,
    polling,
    simulated: fixtures,
    demo: options.demoSchedule
      ? { groupId, clusters: [clusterName, shardedClusterName], exportBucketId, polling }
      : undefined,
    close: () => sim.close(),
  };
}
